package main

import (
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/charmbracelet/log"
)

// reloader is one thing SIGHUP re-reads, such as the TLS certificate or the
// module. fn must leave the old state serving when it fails and say why.
type reloader struct {
	name string
	fn   func() error
}

// reloadOnSIGHUP runs every reloader, in order, on each SIGHUP until the
// returned stop is called; stop returns once a reload under way has ended.
// A failing reloader is logged and does not stop the ones after it. SIGHUP
// is caught even with nothing to reload, so it never kills the server.
func reloadOnSIGHUP(charm *log.Logger, reloaders []reloader) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case <-hup:
			}
			if len(reloaders) == 0 {
				charm.Info("SIGHUP: nothing to reload")
			}
			for _, r := range reloaders {
				if err := r.fn(); err != nil {
					charm.Error("SIGHUP: reload failed", "what", r.name, "err", err)
					continue
				}
				charm.Info("SIGHUP: reloaded", "what", r.name)
			}
		}
	}()
	return func() { signal.Stop(hup); close(done); wg.Wait() }
}
