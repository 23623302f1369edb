//go:build wasip1

// Command json-api is a small JSON API as a wasmserve guest: Go 1.22
// ServeMux patterns with methods and path values, JSON in and out, and
// JSON errors with the right status (400, 404, 413, 415); the mux answers
// 405 with Allow for a known path and another method, and 404 otherwise.
//
//	GET  /v1/users         the users
//	GET  /v1/users/{id}    one user, or 404
//	POST /v1/sum           {"numbers":[1,2,3]} -> {"sum":6,"count":3}
//
// It keeps no state between requests, so any isolate answers alike.
//
// Build it with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o json-api.wasm ./guest-examples/json-api
package main

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"

	"github.com/wasmserve/wasmserve/abi/guest"
)

type user struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

var users = []user{{1, "Ada", "admin"}, {2, "Grace", "developer"}, {3, "Linus", "developer"}}

// maxBody bounds a request body.
const maxBody = 64 << 10

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func listUsers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"users": users, "count": len(users)})
}

func getUser(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "user id must be a number")
		return
	}
	for _, u := range users {
		if u.ID == id {
			writeJSON(w, http.StatusOK, u)
			return
		}
	}
	writeError(w, http.StatusNotFound, "no user "+strconv.Itoa(id))
}

func sum(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "send application/json")
		return
	}
	var in struct {
		Numbers []float64 `json:"numbers"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body over 64 KiB")
			return
		}
		writeError(w, http.StatusBadRequest, "bad JSON: "+err.Error())
		return
	}
	total := 0.0
	for _, n := range in.Numbers {
		total += n
	}
	writeJSON(w, http.StatusOK, map[string]any{"sum": total, "count": len(in.Numbers)})
}

func init() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/users", listUsers)
	mux.HandleFunc("GET /v1/users/{id}", getUser)
	mux.HandleFunc("POST /v1/sum", sum)
	guest.Handle(mux)
}

func main() {}
