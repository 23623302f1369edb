//go:build wasip1

package guest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/wasmserve/wasmserve/abi/guest"
)

// A handler served for every request. Register it from init: a
// -buildmode=c-shared module never runs main.
func ExampleHandle() {
	guest.HandleFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+r.URL.Path+"\n")
	})
}

// A middleware in front of wasmserve's --upstream: it adds a request
// header, passes the request on, and changes the response it got back.
func ExampleNext() {
	guest.HandleMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("X-Edge", "wasmserve")
		resp, err := guest.Next(w, r)
		if err != nil {
			// The host answers 502; say where it came from.
			w.Header().Set("X-Edge-Error", "upstream failed")
			return
		}
		w.Header().Set("X-Upstream-Status", strconv.Itoa(resp.StatusCode))
		if resp.Header.Get("Content-Type") == "text/plain" {
			body, _ := io.ReadAll(resp.Body)
			w.Write(bytes.ToUpper(body)) // replaces the upstream's body
		}
	}))
}

// Logging to the host's log with log/slog: the host adds the time, level,
// module and isolate; the guest's level follows the host's --log-level.
func ExampleNewLogHandler() {
	slog.SetDefault(slog.New(guest.NewLogHandler(nil)))
	guest.HandleFunc(func(w http.ResponseWriter, r *http.Request) {
		slog.Info("request", "method", r.Method, "path", r.URL.Path)
	})
}

// Configuration from the host's --guest-config file, read once at start.
func ExampleConfig() {
	var cfg struct {
		Greeting string `json:"greeting"`
	}
	if b := guest.Config(); b != nil {
		json.Unmarshal(b, &cfg)
	}
	guest.HandleFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, cfg.Greeting+"\n")
	})
}

// Trailers both ways: Request.Trailer is filled once the body was read to
// its end; response trailers are set with http.TrailerPrefix (or announced
// in the Trailer header before WriteHeader, as in net/http).
func Example_trailers() {
	guest.HandleFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set(http.TrailerPrefix+"X-Bytes", strconv.FormatInt(n, 10))
		w.Header().Set(http.TrailerPrefix+"X-Checksum-Echo", r.Trailer.Get("X-Checksum"))
		io.WriteString(w, "counted\n")
	})
}

// The request's context is done once the handler returned, so work started
// for the request can stop with it.
func Example_context() {
	guest.HandleFunc(func(w http.ResponseWriter, r *http.Request) {
		results := make(chan string, 1)
		go func() {
			select {
			case results <- "computed":
			case <-r.Context().Done():
			}
		}()
		io.WriteString(w, <-results+"\n")
	})
}
