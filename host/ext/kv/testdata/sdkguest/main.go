//go:build wasip1

// Command sdkguest runs one operation of the Go SDK (abi/guest/kv) per
// request, for the tests of host/ext/kv: POST / with a JSON op answers
// its result as JSON.
package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/wasmserve/wasmserve/abi/guest"
	"github.com/wasmserve/wasmserve/abi/guest/kv"
)

// op is one operation.
type op struct {
	Store  string `json:"store"`
	Op     string `json:"op"`
	Key    string `json:"key"`
	Value  []byte `json:"value"`
	Old    []byte `json:"old"` // null: swap only when absent
	TTLMs  int64  `json:"ttl_ms"`
	Delta  int64  `json:"delta"`
	Prefix string `json:"prefix"`
	Cursor string `json:"cursor"`
}

// result is what it did.
type result struct {
	Value    []byte   `json:"value,omitempty"`
	OK       bool     `json:"ok"`
	N        int64    `json:"n"`
	Keys     []string `json:"keys,omitempty"`
	Next     string   `json:"next"`
	Err      string   `json:"err,omitempty"`
	Code     int32    `json:"code,omitempty"`
	NotFound bool     `json:"not_found,omitempty"` // errors.Is(err, kv.ErrNotFound)
}

func run(o op) (r result) {
	s, err := kv.Open(o.Store)
	if err == nil {
		switch o.Op {
		case "get":
			r.Value, err = s.Get(o.Key)
		case "set":
			err = s.SetTTL(o.Key, o.Value, time.Duration(o.TTLMs)*time.Millisecond)
		case "delete":
			r.OK, err = s.Delete(o.Key)
		case "exists":
			r.OK, err = s.Exists(o.Key)
		case "keys":
			r.Keys, r.Next, err = s.Keys(o.Prefix, o.Cursor)
		case "increment":
			r.N, err = s.Increment(o.Key, o.Delta)
		case "cas":
			r.OK, err = s.CompareAndSwap(o.Key, o.Old, o.Value)
		default:
			err = errors.New("unknown op " + o.Op)
		}
	}
	if err != nil {
		r.Err = err.Error()
		var ke *kv.Error
		if errors.As(err, &ke) {
			r.Code = int32(ke.Code)
		}
		r.NotFound = errors.Is(err, kv.ErrNotFound)
	}
	return r
}

func init() {
	guest.Handle(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var o op
		if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(run(o))
	}))
}

func main() {}
