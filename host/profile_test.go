package host

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// TestGuestProfile: a guest whose time goes to one function shows it on
// top of its profile, named from the name section, with its callers; the
// profile survives a round trip through pprof's parser.
func TestGuestProfile(t *testing.T) {
	h := newTestHandler(t, readFile(t, "host/testdata/hot.wasm"), HandlerConfig{Isolates: 2, GuestProfiler: true})
	stop, err := h.StartGuestProfile()
	if err != nil {
		t.Fatal(err)
	}
	// Bounded in count and time: until 20 samples or 10 s, at most 500 requests.
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; i < 500 && time.Now().Before(deadline); i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if w.Code != 200 {
			t.Fatalf("request %d: %d %s", i, w.Code, w.Body)
		}
		if i%10 == 9 && h.prof.samplesSoFar() >= 20 {
			break
		}
	}
	prof := stop()
	var buf bytes.Buffer
	if err := prof.Write(&buf); err != nil {
		t.Fatal(err)
	}
	parsed, err := profile.Parse(&buf)
	if err != nil {
		t.Fatalf("pprof cannot parse the profile: %v", err)
	}
	flat := map[string]int64{}
	var total int64
	callers := map[string]bool{}
	for _, s := range parsed.Sample {
		leaf := s.Location[0].Line[0].Function.Name
		flat[leaf] += s.Value[0]
		total += s.Value[0]
		if s.Value[1] != s.Value[0]*parsed.Period {
			t.Errorf("sample of %s: %d ns for %d samples of %d ns", leaf, s.Value[1], s.Value[0], parsed.Period)
		}
		for _, loc := range s.Location[1:] {
			callers[loc.Line[0].Function.Name] = true
		}
	}
	if total < 5 {
		t.Fatalf("only %d samples: %v", total, flat)
	}
	// Samples land on the function entered next after a tick: $hot, but
	// for the rare tick just before $cold or the call's first entry.
	if flat["hot"]*10 < total*9 {
		t.Errorf("hot has %d of %d samples, want ≥ 90%%: %v", flat["hot"], total, flat)
	}
	if !callers["handle_request"] {
		t.Errorf("no sample has handle_request as a caller: %v", callers)
	}
}

// TestGuestProfileOff: without the profiler there is no profile to take,
// and the admin handler says how to get one.
func TestGuestProfileOff(t *testing.T) {
	h := newTestHandler(t, readFile(t, "host/testdata/hot.wasm"), HandlerConfig{Isolates: 1})
	if _, err := h.StartGuestProfile(); err == nil {
		t.Fatal("a profile started without the profiler")
	}
	w := httptest.NewRecorder()
	h.ServeGuestProfile(w, httptest.NewRequest("GET", "/debug/pprof/guest?seconds=1", nil))
	if w.Code != http.StatusNotImplemented || !bytes.Contains(w.Body.Bytes(), []byte("GuestProfiler")) {
		t.Errorf("got %d %q", w.Code, w.Body)
	}
}

// samplesSoFar counts the samples the collections in progress hold.
func (p *guestProfiler) samplesSoFar() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for _, run := range p.running {
		for _, sc := range run.samples {
			n += sc.n
		}
	}
	return n
}
