package apps

import (
	"time"

	"github.com/wasmserve/wasmserve/host/observe"
)

// AppReport is what /debug/apps says of one app.
type AppReport struct {
	Name   string   `json:"name"`
	Kind   string   `json:"kind"`
	Routes []string `json:"routes"`
	// Generation counts the app's modules loaded (a module app only).
	Generation uint64 `json:"generation,omitempty"`
	// Warm says a module app's handler is made: false for a --lazy app
	// before its first request, or one idle past the timeout.
	Warm bool `json:"warm"`
	// InFlight is the requests inside the app now.
	InFlight int64 `json:"in_flight"`
	// Since is when the app's handler was made.
	Since time.Time `json:"since"`
	// Pool is the state of a module app's isolate pool.
	Pool *PoolReport `json:"pool,omitempty"`
}

// PoolReport is a module app's pool state.
type PoolReport struct {
	Idle     int    `json:"idle"`
	Busy     int    `json:"busy"`
	Size     int    `json:"size"`
	Waiting  int    `json:"waiting"`
	Healthy  bool   `json:"healthy"`
	Broken   uint64 `json:"broken"`
	Reloads  uint64 `json:"reloads"`
	Failures uint64 `json:"reload_failures"`
}

// Report is the set's state for the admin listener's /debug/apps: the
// manifests applied and every app, by name.
type Report struct {
	// Applied counts the manifests applied.
	Applied uint64      `json:"applied"`
	Apps    []AppReport `json:"apps"`
}

// AppsReport describes the apps served now.
func (s *Set) AppsReport() any { return s.Report() }

// Report describes the apps served now.
func (s *Set) Report() Report {
	rep := Report{Applied: s.applied.Load(), Apps: []AppReport{}}
	for _, a := range s.cur.Load().apps {
		ar := AppReport{Name: a.Name, Kind: a.Kind, InFlight: a.s.inflight.Load(), Since: a.s.started, Warm: true}
		if l, ok := a.s.h.(*lazy); ok {
			ar.Warm = l.Warm()
		}
		for _, r := range a.Routes {
			ar.Routes = append(ar.Routes, r.String())
		}
		if h, ok := a.s.h.(observe.HandlerStatser); ok {
			st := h.HandlerStats()
			ar.Generation = st.Generation
			ar.Pool = &PoolReport{Idle: st.Idle, Busy: st.Busy, Size: st.Size, Waiting: st.Waiting, Healthy: st.Healthy,
				Broken: st.Broken, Reloads: st.Reloads, Failures: st.ReloadFailures}
		}
		rep.Apps = append(rep.Apps, ar)
	}
	return rep
}
