//go:build wasip1

// Command fetch-json is a wasmserve guest that calls an upstream JSON API
// with http.Get and answers a reshaped summary of it: the users of a
// JSONPlaceholder-style /users endpoint, as their names, cities and
// companies, sorted by name, optionally filtered by ?city=.
//
// The upstream URL is the guest config. Build and run it with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o fetch-json.wasm ./guest-examples/fetch-json
//	wasmserve serve --allow-outbound https://jsonplaceholder.typicode.com \
//		--guest-config-string https://jsonplaceholder.typicode.com/users fetch-json.wasm
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/wasmserve/wasmserve/abi/guest"
	_ "github.com/wasmserve/wasmserve/abi/guest/outbound" // http.Get through the host
)

// user is the part of an upstream user this guest reads.
type user struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	Address struct {
		City string `json:"city"`
	} `json:"address"`
	Company struct {
		Name string `json:"name"`
	} `json:"company"`
}

// person is one entry of the answer.
type person struct {
	Name    string `json:"name"`
	City    string `json:"city"`
	Company string `json:"company"`
}

// summary is the answer.
type summary struct {
	Source string   `json:"source"`
	Count  int      `json:"count"`
	People []person `json:"people"`
}

func handle(w http.ResponseWriter, r *http.Request) {
	// The URL to fetch is the guest config, read at each request: it is
	// small, and the host may give a new one at a reload.
	upstream := strings.TrimSpace(string(guest.Config()))
	if upstream == "" {
		http.Error(w, "no upstream: start wasmserve with --guest-config-string URL", http.StatusInternalServerError)
		return
	}
	resp, err := http.Get(upstream)
	if err != nil {
		http.Error(w, "fetching the upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		http.Error(w, fmt.Sprintf("the upstream answered %s", resp.Status), http.StatusBadGateway)
		return
	}
	var users []user
	if err := json.NewDecoder(resp.Body).Decode(&users); err != nil {
		http.Error(w, "the upstream's JSON: "+err.Error(), http.StatusBadGateway)
		return
	}
	city := r.URL.Query().Get("city")
	out := summary{Source: upstream, People: []person{}}
	for _, u := range users {
		if city != "" && !strings.EqualFold(u.Address.City, city) {
			continue
		}
		out.People = append(out.People, person{Name: u.Name, City: u.Address.City, Company: u.Company.Name})
	}
	sort.Slice(out.People, func(i, j int) bool { return out.People[i].Name < out.People[j].Name })
	out.Count = len(out.People)
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

func init() { guest.Handle(http.HandlerFunc(handle)) }

func main() {}
