package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

func TestPercent(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	for _, c := range []struct {
		name              string
		live, floor, want uint64
	}{
		{"live heap above the floor", 100 * mib, 64 * mib, 100},
		{"goal already at the floor", 32 * mib, 64 * mib, 100},
		{"small live heap", 1 * mib, 64 * mib, 6300},
		{"rounded up", 3 * mib, 64 * mib, 2034},
		{"nothing live yet", 0, 64 * mib, 100},
		{"no floor", 1 * mib, 0, 100},
		{"tiny live heap, bounded", 1, 64 * mib, maxPercent},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Percent(c.live, c.floor, 100)
			if got != int(c.want) {
				t.Errorf("Percent(%d, %d) = %d, want %d", c.live, c.floor, got, c.want)
			}
			if c.live > 0 && c.floor > c.live && got < maxPercent && c.live*uint64(100+got)/100 < c.floor {
				t.Errorf("goal %d below the floor %d", c.live*uint64(100+got)/100, c.floor)
			}
		})
	}
}

// gcCycles is the number of collections so far.
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

var sink []byte

// churn allocates n bytes of garbage in 64 KiB pieces and returns how many
// collections ran meanwhile.
func churn(n int) uint64 {
	before := gcCycles()
	for i := 0; i < n; i += 64 << 10 {
		sink = make([]byte, 64<<10)
	}
	return gcCycles() - before
}

// TestFloorMakesCollectionsRarer: with a small live heap, allocating 256
// MiB collects at least 20 times under Go's default goal (4 MiB), and at
// most a quarter of that with a 64 MiB floor; stop gives the default
// back.
func TestFloorMakesCollectionsRarer(t *testing.T) {
	t.Setenv("GOGC", "") // Start must not see an operator's GOGC
	defer debug.SetGCPercent(basePercent)
	runtime.GC()
	without := churn(256 << 20)
	stop := Start(64 << 20)
	runtime.GC() // the first collection under the floor arms the tuner's measure
	with := churn(256 << 20)
	stop()
	t.Logf("%d collections without a floor, %d with", without, with)
	if without < 20 {
		t.Skipf("only %d collections without a floor: the live heap is not small here", without)
	}
	if with*4 > without {
		t.Errorf("%d collections with a 64 MiB floor against %d without: want at most a quarter", with, without)
	}
	if p := debug.SetGCPercent(basePercent); p != basePercent {
		t.Errorf("after stop the GC percent is %d, want %d", p, basePercent)
	}
}

// TestOperatorGOGCWins: with GOGC set, Start changes nothing.
func TestOperatorGOGCWins(t *testing.T) {
	t.Setenv("GOGC", "100")
	stop := Start(64 << 20)
	defer stop()
	runtime.GC()
	if p := debug.SetGCPercent(basePercent); p != basePercent {
		t.Errorf("GC percent %d with GOGC set, want %d", p, basePercent)
	}
}
