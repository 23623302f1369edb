package host

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/pprof/profile"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// DefaultProfileRate is how many samples a second the guest profiler takes
// of each isolate in a call, as Go's CPU profiler does.
const DefaultProfileRate = 100

// guestProfiler samples the wasm call stacks of the isolates serving a
// request, for a pprof profile of guest code. wazero offers no way to
// interrupt compiled code and read its stack from another goroutine, so the
// samples are taken from inside: a function listener compiled into the
// module sees every call of the guest's own functions, and a ticker marks,
// at each period, every isolate in a call as due for a sample; that
// isolate's next function entry records its stack and clears the mark. A
// call with no sample due costs the listener one atomic load.
//
// A sample therefore lands on the function entered next after the tick,
// and an isolate gets at most one sample a period: time spent blocked in a
// host function (a body read) costs at most one sample, and a long loop
// that calls nothing is under-counted. Each sample stands for one period.
type guestProfiler struct {
	period time.Duration

	pending atomic.Int32 // isolates with a sample due
	mods    sync.Map     // api.Module → *isolateState, for the listener

	mu      sync.Mutex
	running []*profileRun // collections in progress
	stop    chan struct{} // closes the ticker; nil while none runs
	done    chan struct{}
}

// profState is an isolate's part of the profiler.
type profState struct {
	inCall atomic.Bool // serving a request
	due    atomic.Bool // a sample is to be taken at its next call
}

// profileRun is one collection of samples, from start to finish.
type profileRun struct {
	start   time.Time
	samples map[string]*stackCount
	names   map[uint32]string // function index → name
}

type stackCount struct {
	stack []uint32 // function indices, leaf first
	n     int64
}

func newGuestProfiler(rate int) *guestProfiler {
	if rate <= 0 {
		rate = DefaultProfileRate
	}
	return &guestProfiler{period: time.Second / time.Duration(rate)}
}

// factory is the listener factory to compile into the module.
func (p *guestProfiler) factory() experimental.FunctionListenerFactory {
	l := experimental.FunctionListenerFunc(p.before)
	return experimental.FunctionListenerFactoryFunc(func(api.FunctionDefinition) experimental.FunctionListener {
		return l
	})
}

// bind registers an isolate's module, so that the listener can find the
// isolate it is called for. The ticker forgets it once it is closed.
func (p *guestProfiler) bind(mod api.Module, st *isolateState) { p.mods.Store(mod, st) }

// before is the listener: it takes the sample of an isolate that is due.
func (p *guestProfiler) before(_ context.Context, mod api.Module, _ api.FunctionDefinition, _ []uint64, si experimental.StackIterator) {
	if p.pending.Load() == 0 {
		return
	}
	v, ok := p.mods.Load(mod)
	if !ok {
		return
	}
	st := v.(*isolateState)
	if !st.prof.due.CompareAndSwap(true, false) {
		return
	}
	p.pending.Add(-1)
	var stack [64]uint32
	var names [64]string
	n := 0
	for si.Next() && n < len(stack) {
		def := si.Function().Definition()
		stack[n], names[n] = def.Index(), funcName(def)
		n++
	}
	key := stackKey(stack[:n])
	p.mu.Lock()
	for _, run := range p.running {
		sc := run.samples[key]
		if sc == nil {
			sc = &stackCount{stack: append([]uint32(nil), stack[:n]...)}
			run.samples[key] = sc
			for i := range n {
				run.names[stack[i]] = names[i]
			}
		}
		sc.n++
	}
	p.mu.Unlock()
}

// funcName names a guest function by its name section entry, else by its
// export name, else by its index.
func funcName(def api.FunctionDefinition) string {
	if n := def.Name(); n != "" {
		return n
	}
	if e := def.ExportNames(); len(e) > 0 {
		return e[0]
	}
	return "wasm-function[" + strconv.FormatUint(uint64(def.Index()), 10) + "]"
}

func stackKey(s []uint32) string {
	var b strings.Builder
	for _, i := range s {
		b.WriteString(strconv.FormatUint(uint64(i), 36))
		b.WriteByte(',')
	}
	return b.String()
}

// begin starts a collection; finish it with end. Collections may overlap:
// each gets every sample taken while it runs.
func (p *guestProfiler) begin() *profileRun {
	run := &profileRun{start: time.Now(), samples: map[string]*stackCount{}, names: map[uint32]string{}}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running = append(p.running, run)
	if p.stop == nil {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.tick(p.stop, p.done)
	}
	return run
}

// end finishes run and returns its profile.
func (p *guestProfiler) end(run *profileRun) *profile.Profile {
	p.mu.Lock()
	for i, r := range p.running {
		if r == run {
			p.running = append(p.running[:i], p.running[i+1:]...)
			break
		}
	}
	var stop, done chan struct{}
	if len(p.running) == 0 && p.stop != nil {
		stop, done = p.stop, p.done
		p.stop, p.done = nil, nil
	}
	prof := run.profile(p.period)
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	return prof
}

// tick marks the isolates in a call as due, every period, until stop.
func (p *guestProfiler) tick(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(p.period)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		p.mods.Range(func(k, v any) bool {
			if k.(api.Module).IsClosed() {
				p.mods.Delete(k) // closed by the pool: replaced or retired
				return true
			}
			st := v.(*isolateState)
			if st.prof.inCall.Load() && st.prof.due.CompareAndSwap(false, true) {
				p.pending.Add(1)
			}
			return true
		})
	}
}

// profile builds the pprof profile of run's samples: each sample is one
// period of guest time.
func (run *profileRun) profile(period time.Duration) *profile.Profile {
	prof := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        int64(period),
		TimeNanos:     run.start.UnixNano(),
		DurationNanos: int64(time.Since(run.start)),
	}
	locs := map[uint32]*profile.Location{}
	for idx, name := range run.names {
		fn := &profile.Function{ID: uint64(len(prof.Function) + 1), Name: name, SystemName: name}
		prof.Function = append(prof.Function, fn)
		loc := &profile.Location{ID: uint64(len(prof.Location) + 1), Address: uint64(idx), Line: []profile.Line{{Function: fn}}}
		prof.Location = append(prof.Location, loc)
		locs[idx] = loc
	}
	for _, sc := range run.samples {
		s := &profile.Sample{Value: []int64{sc.n, sc.n * int64(period)}}
		for _, idx := range sc.stack {
			s.Location = append(s.Location, locs[idx])
		}
		prof.Sample = append(prof.Sample, s)
	}
	return prof
}

// errNoProfiler is what profiling a Handler made without one answers.
var errNoProfiler = errors.New("guest profiling is off: the module must be compiled with the profiler (HandlerConfig.GuestProfiler)")

// StartGuestProfile starts collecting a CPU profile of guest code; the
// returned stop ends it and returns the profile, which
// (*profile.Profile).Write writes in the format `go tool pprof` reads.
// Collections may overlap. It fails unless the Handler was made with
// HandlerConfig.GuestProfiler.
func (h *Handler) StartGuestProfile() (stop func() *profile.Profile, err error) {
	if h.prof == nil {
		return nil, errNoProfiler
	}
	run := h.prof.begin()
	var once sync.Once
	var prof *profile.Profile
	return func() *profile.Profile {
		once.Do(func() { prof = h.prof.end(run) })
		return prof
	}, nil
}

// ServeGuestProfile answers a CPU profile of guest code collected for the
// number of seconds the query parameter seconds asks (default 30, at most
// 300), like net/http/pprof's /debug/pprof/profile. Without
// HandlerConfig.GuestProfiler it answers 501 saying so.
func (h *Handler) ServeGuestProfile(w http.ResponseWriter, r *http.Request) {
	secs := 30
	if s := r.URL.Query().Get("seconds"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 300 {
			http.Error(w, "seconds must be a whole number from 1 to 300", http.StatusBadRequest)
			return
		}
		secs = n
	}
	stop, err := h.StartGuestProfile()
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotImplemented)
		return
	}
	t := time.NewTimer(time.Duration(secs) * time.Second)
	select {
	case <-t.C:
	case <-r.Context().Done():
		t.Stop()
		stop()
		return
	}
	prof := stop()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="guest.pprof"`)
	if err := prof.Write(w); err != nil {
		h.log.Warn("writing the guest profile", "err", err)
	}
}
