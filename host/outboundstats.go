package host

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmserve/wasmserve/abi/outbound"
)

// OutboundStats are the counts of guests' outbound calls since the Handler
// was made, for metrics: they survive reloads.
type OutboundStats struct {
	// Calls counts the calls that were sent, or waited for a slot, by
	// origin ("host:port" as the URL spells it) and outcome: "ok" (a
	// response came back, whatever its status), "timeout", "canceled"
	// or "error". Refused calls are not in it.
	Calls map[OutboundKey]uint64
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

// OutboundKey labels OutboundStats.Calls.
type OutboundKey struct {
	Origin, Outcome string
}

// outboundBuckets are the duration histogram's bounds, in seconds (the
// Prometheus client's defaults).
var outboundBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// maxOutboundOrigins bounds the distinct origins counted; calls to more
// are counted under origin "other", so that a guest calling random
// subdomains of a wildcard cannot grow the table without end.
const maxOutboundOrigins = 1000

type outboundStats struct {
	mu      sync.Mutex
	calls   map[OutboundKey]uint64
	origins map[string]struct{}
	counts  []uint64 // per bucket, not cumulative; last: over every bound
	sum     time.Duration

	refused  atomic.Uint64
	inFlight atomic.Int64
}

func newOutboundStats() *outboundStats {
	return &outboundStats{
		calls:   map[OutboundKey]uint64{},
		origins: map[string]struct{}{},
		counts:  make([]uint64, len(outboundBuckets)+1),
	}
}

// outcomeOf names the outcome of a failed call.
func outcomeOf(err error) string {
	switch outbound.CodeOf(err) {
	case outbound.CodeTimeout:
		return "timeout"
	case outbound.CodeCanceled:
		return "canceled"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "error"
}

// done counts one call to origin that took d (0: it never went out).
func (s *outboundStats) done(origin, outcome string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.origins[origin]; !ok {
		if len(s.origins) >= maxOutboundOrigins {
			origin = "other"
		} else {
			s.origins[origin] = struct{}{}
		}
	}
	s.calls[OutboundKey{origin, outcome}]++
	if d == 0 {
		return
	}
	sec := d.Seconds()
	i, _ := slices.BinarySearch(outboundBuckets, sec)
	s.counts[i]++
	s.sum += d
}

func (s *outboundStats) snapshot() OutboundStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := OutboundStats{
		Calls:           make(map[OutboundKey]uint64, len(s.calls)),
		Refused:         s.refused.Load(),
		InFlight:        s.inFlight.Load(),
		DurationBuckets: append(outboundBuckets[:0:0], outboundBuckets...),
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
