package wasikv

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/wasmserve/wasmserve/host/ext/kv"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// TestDraft2 runs 0.2.0-draft2's differences from 0.2.0-draft through a
// guest, on every kind of store: a signed increment, string cursors, and
// compare-and-swap.
func TestDraft2(t *testing.T) {
	t.Parallel()
	for _, s := range storeURLs() {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			e := newExtension(t, kv.Config{Stores: []kv.StoreConfig{{Name: "default", URL: s.url(t)}}})
			g := loadGuest(t, "draft2", e)
			if r := g.call("open", "nope"); !r.Err || r.Value.(cabi.Variant).Case != caseNoSuchStore {
				t.Errorf("open of an unconfigured store: %#v, want error::no-such-store", r)
			}
			g.ok("open", "default")

			if got := g.ok("increment", "n", int64(-4)); got != int64(-4) {
				t.Errorf("increment by -4: %v", got)
			}
			if got := g.ok("increment", "n", int64(10)); got != int64(6) {
				t.Errorf("increment by 10: %v", got)
			}

			// Swap into an absent key, then a stale swap fails and hands
			// back a cas of the current value, which swaps.
			g.ok("cas-new", "lock")
			if got := g.ok("cas-current").(cabi.Option); got.Some {
				t.Errorf("current of an absent key: %#v", got)
			}
			if got := g.callU32("swap", []byte("first")); got != 0 {
				t.Fatalf("swap into an absent key: %d, want 0 (swapped)", got)
			}
			g.ok("cas-new", "lock")
			g.ok("set", "lock", []byte("changed"))
			if got := g.callU32("swap", []byte("stale")); got != 1 {
				t.Fatalf("swap of a stale cas: %d, want 1 (cas-failed)", got)
			}
			if got := g.ok("cas-current").(cabi.Option); !got.Some || string(got.Value.([]byte)) != "changed" {
				t.Errorf("the cas of cas-failed holds %#v, want changed", got)
			}
			if got := g.callU32("swap", []byte("second")); got != 0 {
				t.Fatalf("swap with the cas of cas-failed: %d, want 0", got)
			}
			if got := g.ok("get", "lock").(cabi.Option); !got.Some || string(got.Value.([]byte)) != "second" {
				t.Errorf("after the swaps: %#v, want second", got)
			}
			if msg := g.otherErr("cas-new", ""); msg == "" {
				t.Error("cas of an empty key: no message")
			}

			for i := range 150 {
				g.ok("set", fmt.Sprintf("p%03d", i), []byte("x"))
			}
			seen := map[string]bool{}
			cursor := cabi.Option{}
			for pages := 0; ; pages++ {
				if pages > 300 {
					t.Fatal("list-keys never ends")
				}
				resp := g.ok("list-keys", cursor).([]any)
				for _, k := range resp[0].([]any) {
					seen[k.(string)] = true
				}
				if cursor = resp[1].(cabi.Option); !cursor.Some {
					break
				}
				if _, isString := cursor.Value.(string); !isString {
					t.Fatalf("cursor %#v is not a string", cursor.Value)
				}
			}
			var got []string
			for k := range seen {
				got = append(got, k)
			}
			sort.Strings(got)
			if len(got) != 152 || got[0] != "lock" || got[1] != "n" || got[2] != "p000" || got[151] != "p149" {
				t.Errorf("listed %d keys (%v…), want lock, n and p000 to p149", len(got), got[:min(len(got), 3)])
			}
		})
	}
}

// callU32 calls an export answering a u32, failing the test on a trap.
func (g *guest) callU32(name string, args ...any) uint32 {
	g.t.Helper()
	out, err := g.callCtx(context.Background(), name, args...)
	if err != nil {
		g.t.Fatalf("%s: trapped: %v", name, err)
	}
	return out.(uint32)
}
