package apps

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmserve/wasmserve/host/observe"
	"github.com/wasmserve/wasmserve/host/reqinfo"
)

// Handler is an app's handler: a module's (host.Handler) or a static
// folder's. It may also implement Reload(ctx, wasm) error (a module app
// whose module changed is reloaded in place), observe.HandlerStatser,
// Healthy() bool, Generation() uint64 and Interrupt().
type Handler interface {
	http.Handler
	// Close drains the handler and releases what it holds.
	Close(ctx context.Context) error
}

// Kinds of app.
const (
	KindModule = "module"
	KindStatic = "static"
)

// Spec describes one app of a manifest for [Set.Apply].
type Spec struct {
	// Name is unique in the set; it is the app label of metrics, log
	// lines and spans.
	Name string
	// Kind is KindModule or KindStatic.
	Kind string
	// Routes are the app's routes; see [Route].
	Routes []Route
	// Config identifies everything the app's handler is made from except
	// its module's bytes: an app whose Config and Module are both
	// unchanged keeps its handler, one whose Module alone changed is
	// reloaded, and one whose Config changed gets a new handler.
	Config string
	// Module is the module's bytes (nil for a static folder).
	Module []byte
	// New makes the app's handler, with Module.
	New func(ctx context.Context, module []byte) (Handler, error)
}

// App is one app the set serves. It is not changed once served: a reload
// that changes its routes serves a new App with the same handler.
type App struct {
	// Name, Kind and Routes are the spec's.
	Name, Kind string
	// Routes: see Name.
	Routes []Route
	s      *slot
}

// Handler is the app's handler.
func (a *App) Handler() Handler { return a.s.h }

// slot is an app's handler with what the set knows of it; the Apps of
// successive reloads that keep the handler share it.
type slot struct {
	h        Handler
	config   string
	module   [sha256.Size]byte
	inflight atomic.Int64
	closing  atomic.Bool
	started  time.Time
}

// Set serves many apps: ServeHTTP routes each request by the current
// table, and Apply replaces the apps by a new manifest's. The zero value is
// not usable; call NewSet.
type Set struct {
	cur      atomic.Pointer[state]
	mu       sync.Mutex // serialises Apply and Close
	retiring sync.WaitGroup
	log      *slog.Logger
	opts     Options
	applied  atomic.Uint64
}

// Options configure a [Set]. The zero value makes every app's handler at
// Apply and keeps it.
type Options struct {
	// Logger receives the set's lines; nil discards.
	Logger *slog.Logger
	// Lazy makes a module app's handler (compiling its module and filling
	// its pool) on its first request instead of at Apply.
	Lazy bool
	// IdleTimeout, when positive, closes a module app's handler (its
	// isolates and compiled module) once it had no request for this long;
	// its next request makes it again.
	IdleTimeout time.Duration
}

// state is what the set serves at one moment.
type state struct {
	table *Table
	apps  []*App // by name
}

// NewSet returns a set that serves no app (every request 404) until Apply.
func NewSet(opts Options) *Set {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Set{log: opts.Logger, opts: opts}
	t, _ := NewTable(nil)
	s.cur.Store(&state{table: t})
	return s
}

// ServeHTTP sends r to the app of its host and path, and answers 404 when
// no app has a route for it. The app's name goes on the request's record
// (reqinfo.Info.App), for the access log, the metrics and the span.
func (s *Set) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for {
		st := s.cur.Load()
		m, ok := st.table.Match(r.Host, r.URL.Path)
		if !ok {
			reqinfo.WriteError(w, http.StatusNotFound, "404 not found: no app serves this path", reqinfo.IDOf(w))
			return
		}
		sl := m.App.s
		sl.inflight.Add(1)
		if sl.closing.Load() {
			// Retired after this request read the table: a newer
			// table is in place already.
			sl.inflight.Add(-1)
			continue
		}
		defer sl.inflight.Add(-1)
		if info := reqinfo.Of(w); info != nil {
			info.App = m.App.Name
		}
		if st, ok := sl.h.(*Static); ok {
			st.serve(w, r, m.Route.strip())
			return
		}
		sl.h.ServeHTTP(w, r)
		return
	}
}

// Changes says what an Apply did, app by app.
type Changes struct {
	// Added, Replaced (a new handler: the configuration changed),
	// Reloaded (the module changed), Unchanged and Removed are app names.
	Added, Replaced, Reloaded, Unchanged, Removed []string
}

// Apply makes the set serve specs. An app whose spec did not change keeps
// its handler, its pool and its requests in flight; a changed module is
// reloaded in its handler (Reload); a changed configuration gets a new
// handler; an app no longer in specs is closed once its requests have
// ended. Routes are checked and new handlers made before anything changes:
// an error there leaves the set serving as before. A module reload that
// fails leaves that app on its old module, is logged, and is returned
// after the rest is applied.
func (s *Set) Apply(ctx context.Context, specs []Spec) (Changes, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ch Changes
	old := map[string]*App{}
	for _, a := range s.cur.Load().apps {
		old[a.Name] = a
	}
	type reload struct {
		a    *App
		wasm []byte
		sum  [sha256.Size]byte
	}
	var (
		next    []*App
		fresh   []*App
		reloads []reload
		seen    = map[string]bool{}
	)
	for _, sp := range specs {
		if sp.Name == "" {
			return ch, errors.New("an app without a name")
		}
		if seen[sp.Name] {
			return ch, fmt.Errorf("two apps are named %q: give each its own name", sp.Name)
		}
		seen[sp.Name] = true
		a := &App{Name: sp.Name, Kind: sp.Kind, Routes: slices.Clone(sp.Routes)}
		sum := sha256.Sum256(sp.Module)
		if o := old[sp.Name]; o != nil && o.Kind == sp.Kind && o.s.config == sp.Config {
			a.s = o.s
			if o.s.module != sum {
				reloads = append(reloads, reload{a, sp.Module, sum})
			} else {
				ch.Unchanged = append(ch.Unchanged, a.Name)
			}
		} else {
			if sp.New == nil {
				return ch, fmt.Errorf("app %q: nothing makes its handler", sp.Name)
			}
			a.s = &slot{config: sp.Config, module: sum}
			fresh = append(fresh, a)
			if o != nil {
				ch.Replaced = append(ch.Replaced, a.Name)
			} else {
				ch.Added = append(ch.Added, a.Name)
			}
		}
		next = append(next, a)
	}
	slices.SortFunc(next, func(a, b *App) int { return compareStrings(a.Name, b.Name) })
	table, err := NewTable(next)
	if err != nil {
		return Changes{}, err
	}
	if err := s.makeHandlers(ctx, specs, fresh); err != nil {
		return Changes{}, err
	}
	var errs []error
	for _, rl := range reloads {
		r, ok := rl.a.s.h.(interface {
			Reload(context.Context, []byte) error
		})
		if !ok {
			errs = append(errs, fmt.Errorf("app %q: its handler cannot reload a module", rl.a.Name))
			continue
		}
		if err := r.Reload(ctx, rl.wasm); err != nil {
			s.log.Error("app reload failed; its old module keeps serving", "app", rl.a.Name, "err", err)
			errs = append(errs, fmt.Errorf("app %q: %w", rl.a.Name, err))
			continue
		}
		rl.a.s.module = rl.sum
		ch.Reloaded = append(ch.Reloaded, rl.a.Name)
	}
	s.cur.Store(&state{table: table, apps: next})
	s.applied.Add(1)
	kept := map[*slot]bool{}
	for _, a := range next {
		kept[a.s] = true
	}
	for _, o := range old {
		if kept[o.s] {
			continue
		}
		if !seen[o.Name] {
			ch.Removed = append(ch.Removed, o.Name)
		}
		s.retire(o)
	}
	slices.Sort(ch.Removed)
	return ch, errors.Join(errs...)
}

// makeHandlers makes the handlers of the fresh apps, as many at once as
// there are CPUs (a small module's start-up is mostly not its compilation,
// which uses every CPU anyway), but the process's first alone (see
// firstModule). On an error it closes those it made and returns the first
// app's error.
func (s *Set) makeHandlers(ctx context.Context, specs []Spec, fresh []*App) error {
	errs := make([]error, len(fresh))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, a := range fresh {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			h, err := s.newHandler(ctx, specs, a.Name)
			if err != nil {
				errs[i] = fmt.Errorf("app %q: %w", a.Name, err)
				return
			}
			a.s.h, a.s.started = h, time.Now()
		}()
	}
	wg.Wait()
	first := -1
	for i, err := range errs {
		if err != nil && first < 0 {
			first = i
		}
	}
	if first < 0 {
		return nil
	}
	for i, a := range fresh {
		if errs[i] == nil {
			a.s.h.Close(ctx)
		}
	}
	return errs[first]
}

// moduleMade is set once the process made a module app's handler.
var (
	moduleMade   atomic.Bool
	moduleMadeMu sync.Mutex
)

// firstModule runs fn, which makes a module app's handler, alone if none
// was made in the process yet: wazero fills some package state on its
// first use without a lock (its version, read by every compilation cache).
func firstModule(fn func()) {
	if moduleMade.Load() {
		fn()
		return
	}
	moduleMadeMu.Lock()
	defer moduleMadeMu.Unlock()
	fn()
	moduleMade.Store(true)
}

// newHandler makes the handler of the app named name: at once, or for a
// module app with Options.Lazy or IdleTimeout one made on demand.
func (s *Set) newHandler(ctx context.Context, specs []Spec, name string) (Handler, error) {
	for _, sp := range specs {
		if sp.Name != name {
			continue
		}
		if sp.Kind != KindModule {
			return sp.New(ctx, sp.Module)
		}
		if !s.opts.Lazy && s.opts.IdleTimeout <= 0 {
			var h Handler
			var err error
			firstModule(func() { h, err = sp.New(ctx, sp.Module) })
			return h, err
		}
		l := newLazy(sp.Name, sp.Module, sp.New, s.opts.IdleTimeout, s.log)
		if !s.opts.Lazy {
			if err := l.warm(ctx); err != nil {
				return nil, err
			}
		}
		return l, nil
	}
	return nil, errors.New("no spec")
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// retire closes an app's handler once no request is in it any more, in
// the background; Close waits for it.
func (s *Set) retire(a *App) {
	sl := a.s
	sl.closing.Store(true)
	s.retiring.Add(1)
	go func() {
		defer s.retiring.Done()
		for sl.inflight.Load() > 0 {
			time.Sleep(5 * time.Millisecond)
		}
		if err := sl.h.Close(context.Background()); err != nil {
			s.log.Warn("closing a retired app", "app", a.Name, "err", err)
			return
		}
		s.log.Debug("retired app closed", "app", a.Name)
	}()
}

// Apps returns the apps served now, by name.
func (s *Set) Apps() []*App { return slices.Clone(s.cur.Load().apps) }

// App returns the app named name, or nil.
func (s *Set) App(name string) *App {
	for _, a := range s.cur.Load().apps {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// Healthy reports whether every app is: each pool keeps itself at full
// size.
func (s *Set) Healthy() bool {
	for _, a := range s.cur.Load().apps {
		if h, ok := a.s.h.(interface{ Healthy() bool }); ok && !h.Healthy() {
			return false
		}
	}
	return true
}

// Interrupt interrupts the guests of every app (see host.Handler.Interrupt).
func (s *Set) Interrupt() {
	for _, a := range s.cur.Load().apps {
		if h, ok := a.s.h.(interface{ Interrupt() }); ok {
			h.Interrupt()
		}
	}
}

// ServeGuestProfile answers that a guest profile is per module: with many
// apps there is no one guest to profile.
func (s *Set) ServeGuestProfile(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "guest profiles are per module; serve the app's module alone to profile it", http.StatusNotImplemented)
}

// AppStats are the pool states of the module apps, for the metrics
// (observe.Metrics.CollectApps).
func (s *Set) AppStats() []observe.AppStats {
	var out []observe.AppStats
	for _, a := range s.cur.Load().apps {
		if h, ok := a.s.h.(observe.HandlerStatser); ok {
			out = append(out, observe.AppStats{App: a.Name, HandlerStats: h.HandlerStats()})
		}
	}
	return out
}

// Close closes every app's handler, and waits for the retired ones, until
// ctx is done. Shut the HTTP server down first.
func (s *Set) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, a := range s.cur.Load().apps {
		if err := a.s.h.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("app %q: %w", a.Name, err))
		}
	}
	done := make(chan struct{})
	go func() { s.retiring.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("retired apps still draining: %w", ctx.Err()))
	}
	return errors.Join(errs...)
}
