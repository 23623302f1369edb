package accesslog

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestStampMatchesAppendFormat: a stamp writes what time.AppendFormat
// writes, in either layout, for zones east and west of UTC, fractions with
// and without trailing zeros, and times that go back and forth between
// seconds and zones (each change formats a new second).
func TestStampMatchesAppendFormat(t *testing.T) {
	t.Parallel()
	zones := []*time.Location{time.UTC, time.FixedZone("IST", 5*3600+1800), time.FixedZone("PST", -8*3600), time.Local}
	fractions := []int{0, 1, 10, 100_000_000, 120_000_000, 123_456_789, 999_999_999, 500, 7_000_000}
	base := time.Date(2026, 3, 29, 0, 59, 58, 0, time.UTC)
	var s stamp
	for _, loc := range zones {
		for i, ns := range fractions {
			tm := base.Add(time.Duration(i%3) * time.Second).Add(time.Duration(ns)).In(loc)
			for _, c := range []struct {
				name   string
				millis bool
				layout string
			}{{"nano", false, time.RFC3339Nano}, {"millis", true, textTime}} {
				got := string(s.appendTime(nil, tm, c.millis))
				if want := tm.Format(c.layout); got != want {
					t.Errorf("%s %v: stamp %q, AppendFormat %q", c.name, tm, got, want)
				}
			}
		}
	}
}

// TestStampConcurrent: goroutines formatting times of many seconds at once
// each get their own time's text (run with -race).
func TestStampConcurrent(t *testing.T) {
	t.Parallel()
	var s stamp
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 2000 {
				tm := time.Unix(1_800_000_000+r.Int64N(5), r.Int64N(1e9)).UTC()
				if got, want := string(s.appendTime(nil, tm, false)), tm.Format(time.RFC3339Nano); got != want {
					t.Errorf("stamp %q, want %q", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkStamp is a line's time as time.AppendFormat writes it and as a
// stamp does, for times a microsecond apart (a busy server's lines).
func BenchmarkStamp(b *testing.B) {
	t0 := time.Now()
	buf := make([]byte, 0, 64)
	b.Run("AppendFormat", func(b *testing.B) {
		for i := range b.N {
			buf = t0.Add(time.Duration(i)*time.Microsecond).AppendFormat(buf[:0], time.RFC3339Nano)
		}
	})
	b.Run("stamp", func(b *testing.B) {
		var s stamp
		for i := range b.N {
			buf = s.appendTime(buf[:0], t0.Add(time.Duration(i)*time.Microsecond), false)
		}
	})
}
