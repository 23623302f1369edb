package wasikv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wasmserve/wasmserve/host/ext/kv"
	"github.com/wasmserve/wasmserve/internal/testredis"
	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
	"github.com/wasmserve/wasmserve/runtimepool/component/componenttest"
)

// redisSrv is the package's redis-server, started by TestMain when it is
// installed; each Redis test takes its own database of redisDBs.
var (
	redisSrv *testredis.Server
	redisDBs = make(chan int, 16)
)

func TestMain(m *testing.M) {
	for db := range 16 {
		redisDBs <- db
	}
	var stop func()
	if _, err := exec.LookPath("redis-server"); err == nil {
		var err error
		if redisSrv, stop, err = testredis.StartMain(); err != nil {
			println("starting redis-server:", err.Error())
			os.Exit(1)
		}
	}
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

// storeURLs are the kinds of store the tests run on, each a function
// giving the URL of a fresh, empty one.
func storeURLs() []struct {
	name string
	url  func(t *testing.T) string
} {
	return []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"mem", func(*testing.T) string { return "mem:" }},
		{"file", func(t *testing.T) string { return "file:" + filepath.Join(t.TempDir(), "kv.db") }},
		{"redis", func(t *testing.T) string {
			if redisSrv == nil {
				t.Skip("redis-server is not installed (Debian: apt-get install redis-server): skipping the Redis test")
			}
			db := <-redisDBs
			t.Cleanup(func() { redisDBs <- db })
			// Empty the database through a store of its own.
			s, err := kv.Open(redisSrv.URL(db), kv.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for {
				keys, next, err := s.Keys(context.Background(), "", "", 1000)
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range keys {
					if _, err := s.Delete(context.Background(), k); err != nil {
						t.Fatal(err)
					}
				}
				if next == "" && len(keys) == 0 {
					break
				}
			}
			return redisSrv.URL(db)
		}},
	}
}

// guest is one instance of a fixture linked against Define over e.
type guest struct {
	t    *testing.T
	c    *component.Component
	inst *component.Instance
}

func newExtension(t *testing.T, cfg kv.Config) *kv.Extension {
	t.Helper()
	e, err := kv.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

func loadGuest(t *testing.T, fixture string, e *kv.Extension) *guest {
	t.Helper()
	var h component.Host
	if err := Define(&h, e); err != nil {
		t.Fatal(err)
	}
	c, inst := componenttest.Load(t, filepath.Join("testdata", fixture+".wasm"), &h)
	return &guest{t: t, c: c, inst: inst}
}

// callCtx calls an export with ctx: its one result, or the trap.
func (g *guest) callCtx(ctx context.Context, name string, args ...any) (any, error) {
	g.t.Helper()
	f, err := g.c.Func(name)
	if err != nil {
		g.t.Fatal(err)
	}
	out, err := g.inst.Call(ctx, f, args...)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return out[0], nil
}

// call calls an export that answers a result<T, error>, failing the test
// on a trap, and returns the result.
func (g *guest) call(name string, args ...any) cabi.Result {
	g.t.Helper()
	out, err := g.callCtx(context.Background(), name, args...)
	if err != nil {
		g.t.Fatalf("%s: trapped: %v", name, err)
	}
	return out.(cabi.Result)
}

// ok calls an export that must succeed and returns the result's value.
func (g *guest) ok(name string, args ...any) any {
	g.t.Helper()
	r := g.call(name, args...)
	if r.Err {
		g.t.Fatalf("%s%v: %v, want ok", name, args, r.Value)
	}
	return r.Value
}

// otherErr calls an export that must fail with error::other and returns
// its message.
func (g *guest) otherErr(name string, args ...any) string {
	g.t.Helper()
	r := g.call(name, args...)
	v, isVariant := r.Value.(cabi.Variant)
	if !r.Err || !isVariant || v.Case != caseOther {
		g.t.Fatalf("%s%v: %#v, want error::other", name, args, r)
	}
	return v.Value.(string)
}

// TestDraftStore: open, get, set, exists, delete, increment and the batch
// functions of 0.2.0-draft through a guest, on every kind of store.
func TestDraftStore(t *testing.T) {
	t.Parallel()
	for _, s := range storeURLs() {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			e := newExtension(t, kv.Config{Stores: []kv.StoreConfig{{Name: "default", URL: s.url(t)}}})
			g := loadGuest(t, "draft", e)
			g.ok("open", "default")

			if got := g.ok("get", "greeting").(cabi.Option); got.Some {
				t.Errorf("get of an absent key: %#v, want none", got)
			}
			if got := g.ok("exists", "greeting"); got != false {
				t.Errorf("exists of an absent key: %v", got)
			}
			g.ok("set", "greeting", []byte("hello"))
			if got := g.ok("get", "greeting").(cabi.Option); !got.Some || !bytes.Equal(got.Value.([]byte), []byte("hello")) {
				t.Errorf("get: %#v, want some(hello)", got)
			}
			if got := g.ok("exists", "greeting"); got != true {
				t.Errorf("exists after set: %v", got)
			}
			g.ok("set", "empty", []byte{})
			if got := g.ok("get", "empty").(cabi.Option); !got.Some || len(got.Value.([]byte)) != 0 {
				t.Errorf("get of an empty value: %#v, want some([])", got)
			}
			g.ok("delete", "greeting")
			g.ok("delete", "greeting") // absent: nothing to do, no error
			if got := g.ok("exists", "greeting"); got != false {
				t.Errorf("exists after delete: %v", got)
			}

			if got := g.ok("increment", "count", uint64(5)); got != uint64(5) {
				t.Errorf("increment of an absent key: %v, want 5", got)
			}
			if got := g.ok("increment", "count", uint64(3)); got != uint64(8) {
				t.Errorf("increment: %v, want 8", got)
			}
			// A u64 delta is the two's complement of a signed one.
			if got := g.ok("increment", "count", ^uint64(0)); got != uint64(7) {
				t.Errorf("increment by 2^64-1: %v, want 7", got)
			}
			if got := g.ok("get", "count").(cabi.Option); !got.Some || string(got.Value.([]byte)) != "7" {
				t.Errorf("a counter reads as %#v, want the decimal text 7", got)
			}
			g.ok("set", "word", []byte("abc"))
			if msg := g.otherErr("increment", "word", uint64(1)); !strings.Contains(msg, "not a decimal 64-bit integer") || !strings.Contains(msg, `"word"`) {
				t.Errorf("increment of a word: %q", msg)
			}

			g.ok("set-many", []any{[]any{"a", []byte("1")}, []any{"b", []byte("2")}, []any{"c", []byte("3")}})
			got := g.ok("get-many", []any{"a", "nope", "c"}).([]any)
			want := []cabi.Option{{Some: true, Value: []any{"a", []byte("1")}}, {}, {Some: true, Value: []any{"c", []byte("3")}}}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("get-many: %v, want %v", got, want)
			}
			g.ok("delete-many", []any{"a", "b", "nope"})
			if got := g.ok("exists", "b"); got != false {
				t.Errorf("exists after delete-many: %v", got)
			}
			if got := g.ok("exists", "c"); got != true {
				t.Errorf("delete-many deleted a key it was not given")
			}
		})
	}
}

// TestListKeys: list-keys pages through every key, each once, with u64
// cursors, on every kind of store.
func TestListKeys(t *testing.T) {
	t.Parallel()
	for _, s := range storeURLs() {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			e := newExtension(t, kv.Config{Stores: []kv.StoreConfig{{Name: "default", URL: s.url(t)}}})
			g := loadGuest(t, "draft", e)
			g.ok("open", "default")
			var want []string
			var pairs []any
			for i := range 250 {
				k := fmt.Sprintf("k%03d", i)
				want = append(want, k)
				pairs = append(pairs, []any{k, []byte{byte(i)}})
			}
			g.ok("set-many", pairs)

			seen := map[string]bool{}
			cursor := cabi.Option{}
			for pages := 0; ; pages++ {
				if pages > 300 {
					t.Fatal("list-keys never ends")
				}
				resp := g.ok("list-keys", cursor).([]any)
				for _, k := range resp[0].([]any) {
					seen[k.(string)] = true // Redis' SCAN may repeat a key
				}
				cursor = resp[1].(cabi.Option)
				if !cursor.Some {
					break
				}
			}
			var got []string
			for k := range seen {
				got = append(got, k)
			}
			sort.Strings(got)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("listed %d keys, want the %d set", len(got), len(want))
			}
			if msg := g.otherErr("list-keys", cabi.Option{Some: true, Value: uint64(12345)}); !strings.Contains(msg, "cursor 12345") {
				t.Errorf("an unknown cursor: %q", msg)
			}
		})
	}
}

// TestOpenNoSuchStore: open of a name the server does not configure, or
// of any name when it configures none, answers error::no-such-store, and
// the guest may open a configured store afterwards.
func TestOpenNoSuchStore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		e    func(t *testing.T) *kv.Extension
	}{
		{"no extension", func(*testing.T) *kv.Extension { return nil }},
		{"no store", func(t *testing.T) *kv.Extension { return newExtension(t, kv.Config{}) }},
		{"another store", func(t *testing.T) *kv.Extension {
			return newExtension(t, kv.Config{Stores: []kv.StoreConfig{{Name: "other", URL: "mem:"}}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := loadGuest(t, "draft", tc.e(t))
			for _, name := range []string{"default", "", "Default", "default\x00"} {
				r := g.call("open", name)
				if v, isVariant := r.Value.(cabi.Variant); !r.Err || !isVariant || v.Case != caseNoSuchStore {
					t.Errorf("open(%q): %#v, want error::no-such-store", name, r)
				}
			}
		})
	}
}

// TestLimits: the limits of core guests hold for components: keys of 1 to
// 255 bytes, the largest value, the quota of keys; each failure is
// error::other naming the store and the key, never a trap.
func TestLimits(t *testing.T) {
	t.Parallel()
	e := newExtension(t, kv.Config{Stores: []kv.StoreConfig{{Name: "small", URL: "mem:"}}, MaxValue: 10, MaxKeys: 2})
	g := loadGuest(t, "draft", e)
	g.ok("open", "small")
	for _, tc := range []struct {
		name string
		call func() string
		want string
	}{
		{"empty key", func() string { return g.otherErr("get", "") }, "empty key"},
		{"long key", func() string { return g.otherErr("set", strings.Repeat("k", 256), []byte("v")) }, "over 255"},
		{"NUL in key", func() string { return g.otherErr("exists", "a\x00b") }, "NUL"},
		{"big value", func() string { return g.otherErr("set", "big", make([]byte, 11)) }, "a value of 11 bytes, over the largest, 10"},
		{"big value in a batch", func() string { return g.otherErr("set-many", []any{[]any{"big", make([]byte, 11)}}) }, "over the largest"},
		{"bad key in a batch", func() string { return g.otherErr("get-many", []any{"ok", ""}) }, "empty key"},
	} {
		if got := tc.call(); !strings.Contains(got, tc.want) || !strings.HasPrefix(got, `store "small": `) {
			t.Errorf("%s: %q, want a message about the store %q holding %q", tc.name, got, "small", tc.want)
		}
	}
	g.ok("set", "a", []byte("1"))
	g.ok("increment", "b", uint64(1))
	if got := g.otherErr("set", "c", []byte("1")); !strings.Contains(got, "store is full") {
		t.Errorf("a third key over a quota of 2: %q", got)
	}
	g.ok("set", "a", []byte("0123456789")) // changing a key is always allowed
	g.ok("delete", "b")
	g.ok("set", "c", []byte("1"))
}

// TestMetrics: a component's operations count in the extension's metrics
// under the store's name, as a core guest's do.
func TestMetrics(t *testing.T) {
	t.Parallel()
	e := newExtension(t, kv.Config{Stores: []kv.StoreConfig{{Name: "default", URL: "mem:"}}})
	g := loadGuest(t, "draft", e)
	g.ok("open", "default")
	g.ok("set", "k", []byte("hello"))
	g.ok("get", "k")
	g.ok("get", "absent")
	g.ok("increment", "n", uint64(1))
	g.otherErr("increment", "k", uint64(1))

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := []string{f.GetName()}
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			if c := m.GetCounter(); c != nil {
				got[strings.Join(labels, ",")] = c.GetValue()
			}
		}
	}
	for series, want := range map[string]float64{
		"wasmserve_kv_operations_total,op=set,result=ok,store=default":                 1,
		"wasmserve_kv_operations_total,op=get,result=ok,store=default":                 1,
		"wasmserve_kv_operations_total,op=get,result=not_found,store=default":          1,
		"wasmserve_kv_operations_total,op=increment,result=ok,store=default":           1,
		"wasmserve_kv_operations_total,op=increment,result=not_a_number,store=default": 1,
		"wasmserve_kv_bytes_total,direction=written,store=default":                     5,
		"wasmserve_kv_bytes_total,direction=read,store=default":                        5,
	} {
		if got[series] != want {
			t.Errorf("%s = %v, want %v", series, got[series], want)
		}
	}
}

// TestDeadline: an operation whose context is done fails with
// error::other naming it, and the instance goes on.
func TestDeadline(t *testing.T) {
	t.Parallel()
	e := newExtension(t, kv.Config{Stores: []kv.StoreConfig{{Name: "default", URL: "file:" + filepath.Join(t.TempDir(), "kv.db")}}})
	g := loadGuest(t, "draft", e)
	g.ok("open", "default")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out, err := g.callCtx(ctx, "set", "k", []byte("v"))
	if err != nil {
		t.Fatalf("set with its context done trapped: %v", err)
	}
	r := out.(cabi.Result)
	if v, isVariant := r.Value.(cabi.Variant); !r.Err || !isVariant || !strings.Contains(v.Value.(string), "context canceled") {
		t.Errorf("set with its context done: %#v, want error::other(... context canceled)", r)
	}
	g.ok("set", "k", []byte("v"))
}

// TestRedisDown: a Redis store whose server is unreachable fails each
// operation with error::other within its timeout; open still succeeds.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	if redisSrv == nil {
		t.Skip("redis-server is not installed (Debian: apt-get install redis-server): skipping the Redis test")
	}
	srv := testredis.Start(t)
	url := srv.URL(0)
	srv.Stop()
	e := newExtension(t, kv.Config{Stores: []kv.StoreConfig{{Name: "cache", URL: url}}})
	g := loadGuest(t, "draft", e)
	g.ok("open", "cache")
	if msg := g.otherErr("increment", "count", uint64(1)); !strings.Contains(msg, `store "cache": increment "count"`) {
		t.Errorf("increment on a Redis store that is down: %q", msg)
	}
}

// TestClose: a guest may drop its bucket and open another.
func TestClose(t *testing.T) {
	t.Parallel()
	e := newExtension(t, kv.Config{Stores: []kv.StoreConfig{{Name: "a", URL: "mem:"}, {Name: "b", URL: "mem:"}}})
	g := loadGuest(t, "draft", e)
	g.ok("open", "a")
	g.ok("set", "k", []byte("in a"))
	if _, err := g.callCtx(context.Background(), "close"); err != nil {
		t.Fatal(err)
	}
	g.ok("open", "b")
	if got := g.ok("get", "k").(cabi.Option); got.Some {
		t.Errorf("store b holds store a's key: %#v", got)
	}
	g.ok("open", "a") // the guest drops b's handle
	if got := g.ok("get", "k").(cabi.Option); !got.Some || string(got.Value.([]byte)) != "in a" {
		t.Errorf("store a after reopening: %#v", got)
	}
}
