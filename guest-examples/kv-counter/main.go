//go:build wasip1

// Command kv-counter is a wasmserve guest that keeps state in the server's
// key-value store named "default" (wasmserve serve --kv-store
// default=file:kv.db):
//
//	GET    /count    increments the key "count" atomically and answers the new value
//	PUT    /kv/KEY   stores the request body under KEY (204)
//	GET    /kv/KEY   answers the value (404 when absent)
//	DELETE /kv/KEY   deletes KEY (204; 404 when absent)
//
// Build it with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o kv-counter.wasm ./guest-examples/kv-counter
package main

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/wasmserve/wasmserve/abi/guest"
	"github.com/wasmserve/wasmserve/abi/guest/kv"
)

// maxValue is the largest body PUT takes: the server's default largest
// value.
const maxValue = 1 << 20

// store is the "default" store, opened once per instance; storeErr says
// why it is not there (the server configures no such store).
var (
	store    *kv.Store
	storeErr error
)

// fail answers err with the status it calls for.
func fail(w http.ResponseWriter, err error) {
	status := http.StatusServiceUnavailable // unavailable, timeout, no store
	switch {
	case errors.Is(err, kv.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, kv.ErrInvalid):
		status = http.StatusBadRequest
	case errors.Is(err, kv.ErrTooBig):
		status = http.StatusRequestEntityTooLarge
	case errors.Is(err, kv.ErrQuota):
		status = http.StatusInsufficientStorage
	case errors.Is(err, kv.ErrNotNumber):
		status = http.StatusConflict
	}
	http.Error(w, err.Error(), status)
}

func count(w http.ResponseWriter, r *http.Request) {
	n, err := store.Increment("count", 1)
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, strconv.FormatInt(n, 10))
}

func getKey(w http.ResponseWriter, r *http.Request) {
	v, err := store.Get(r.PathValue("key"))
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(v)
}

func putKey(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxValue))
	if err != nil {
		http.Error(w, "body over 1 MiB", http.StatusRequestEntityTooLarge)
		return
	}
	if err := store.Set(r.PathValue("key"), body); err != nil {
		fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func deleteKey(w http.ResponseWriter, r *http.Request) {
	was, err := store.Delete(r.PathValue("key"))
	switch {
	case err != nil:
		fail(w, err)
	case !was:
		http.Error(w, "no such key", http.StatusNotFound)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// init opens the store and registers the routes: a -buildmode=c-shared
// module runs package initialization when the host calls _initialize, but
// never main.
func init() {
	store, storeErr = kv.Open("default")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /count", count)
	mux.HandleFunc("GET /kv/{key...}", getKey)
	mux.HandleFunc("PUT /kv/{key...}", putKey)
	mux.HandleFunc("DELETE /kv/{key...}", deleteKey)
	guest.Handle(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if storeErr != nil {
			fail(w, storeErr)
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

func main() {}
