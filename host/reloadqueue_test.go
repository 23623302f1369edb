package host

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wasmserve/wasmserve/host/server"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// TestReloadServesQueuedRequests: requests waiting for an isolate when a
// reload swaps the module are served, by the old module or the new one,
// never answered with an error. Two Go guests take turns across a dozen
// reloads under a load that keeps callers queued behind two isolates.
func TestReloadServesQueuedRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two Go guests")
	}
	hello, err := os.ReadFile(testguest.Build(t, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	echo, err := os.ReadFile(testguest.Build(t, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	base, h, logs := startConfig(t, hello, HandlerConfig{Isolates: 2}, server.Config{})
	const workers = 12 // six callers queued for each isolate
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer client.CloseIdleConnections()

	var (
		stop      atomic.Bool
		wg        sync.WaitGroup
		served    atomic.Int64
		failedMu  sync.Mutex
		failed    []string
		failedNum atomic.Int64
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Bounded: at most this many requests, whatever happens.
			for i := 0; i < 20000 && !stop.Load(); i++ {
				url := fmt.Sprintf("%s/reload?w=%d&i=%d", base, w, i)
				resp, err := client.Get(url)
				if err != nil {
					failedNum.Add(1)
					failedMu.Lock()
					failed = append(failed, err.Error())
					failedMu.Unlock()
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					failedNum.Add(1)
					failedMu.Lock()
					failed = append(failed, fmt.Sprintf("GET %s: %d", url, resp.StatusCode))
					failedMu.Unlock()
					continue
				}
				served.Add(1)
			}
		}()
	}
	testguest.WaitFor(t, "load to build up", func() bool { return served.Load() >= 200 })
	const reloads = 12
	for i := range reloads {
		next := echo
		if i%2 == 1 {
			next = hello
		}
		before := served.Load()
		if err := h.Reload(context.Background(), next); err != nil {
			t.Fatalf("reload %d: %v", i+1, err)
		}
		// Enough requests through the new module for its pool to have
		// queued callers again before the next swap.
		testguest.WaitFor(t, "requests after the reload", func() bool { return served.Load() >= before+50 })
	}
	stop.Store(true)
	wg.Wait()
	if n := failedNum.Load(); n > 0 {
		if len(failed) > 10 {
			failed = failed[:10]
		}
		t.Errorf("%d of %d requests failed across %d reloads, first: %v\nlog:\n%s",
			n, served.Load()+n, reloads, failed, tail(logs.String(), 4000))
	}
	if g := h.Generation(); g != reloads+1 {
		t.Errorf("generation %d after %d reloads", g, reloads)
	}
}

// tail returns at most the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
