package outbound

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	contract "github.com/wasmserve/wasmserve/abi/outbound"
)

// Stats are the counts of guests' outbound calls since the Extension
// was made, for metrics: they survive reloads.
type Stats struct {
	// Calls counts the calls that were sent, or waited for a slot, by
	// origin ("host:port" as the URL spells it) and outcome: "ok" (a
	// response came back, whatever its status), "timeout", "canceled"
	// or "error". Refused calls are not in it.
	Calls map[Key]uint64
	// Refused counts calls the policy refused (their URL, an address,
	// a redirect), which never reached the network.
	Refused uint64
	// InFlight is the number of calls sent whose response body is not
	// yet closed.
	InFlight int64
	// DurationBuckets are the upper bounds, in seconds, of the duration
	// histogram of sent calls (to the response head or the failure);
	// DurationCounts[i] counts the calls of at most DurationBuckets[i]
	// seconds, cumulatively, and the last entry counts all of them.
	DurationBuckets []float64
	// DurationCounts: see DurationBuckets.
	DurationCounts []uint64
	// DurationSum is the sum of those durations, in seconds.
	DurationSum float64
}

// Key labels Stats.Calls.
type Key struct {
	Origin, Outcome string
}

// durationBuckets are the duration histogram's bounds, in seconds (the
// Prometheus client's defaults).
var durationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// maxOrigins bounds the distinct origins counted; calls to more
// are counted under origin "other", so that a guest calling random
// subdomains of a wildcard cannot grow the table without end.
const maxOrigins = 1000

type stats struct {
	mu      sync.Mutex
	calls   map[Key]uint64
	origins map[string]struct{}
	counts  []uint64 // per bucket, not cumulative; last: over every bound
	sum     time.Duration

	refused  atomic.Uint64
	inFlight atomic.Int64
}

func newStats() *stats {
	return &stats{
		calls:   map[Key]uint64{},
		origins: map[string]struct{}{},
		counts:  make([]uint64, len(durationBuckets)+1),
	}
}

// outcomeOf names the outcome of a failed call.
func outcomeOf(err error) string {
	switch CodeOf(err) {
	case contract.CodeTimeout:
		return "timeout"
	case contract.CodeCanceled:
		return "canceled"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "error"
}

// done counts one call to origin that took d (0: it never went out).
func (s *stats) done(origin, outcome string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.origins[origin]; !ok {
		if len(s.origins) >= maxOrigins {
			origin = "other"
		} else {
			s.origins[origin] = struct{}{}
		}
	}
	s.calls[Key{origin, outcome}]++
	if d == 0 {
		return
	}
	sec := d.Seconds()
	i, _ := slices.BinarySearch(durationBuckets, sec)
	s.counts[i]++
	s.sum += d
}

func (s *stats) snapshot() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		Calls:           make(map[Key]uint64, len(s.calls)),
		Refused:         s.refused.Load(),
		InFlight:        s.inFlight.Load(),
		DurationBuckets: append(durationBuckets[:0:0], durationBuckets...),
		DurationCounts:  make([]uint64, len(s.counts)),
		DurationSum:     s.sum.Seconds(),
	}
	for k, v := range s.calls {
		st.Calls[k] = v
	}
	var n uint64
	for i, c := range s.counts {
		n += c
		st.DurationCounts[i] = n
	}
	return st
}
