package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/internal/testredis"
)

// backend opens a fresh store of one kind for a test.
type backend struct {
	name string
	open func(t *testing.T, opts Options) Store
	// ordered: Keys lists in byte order, each key once.
	ordered bool
}

var (
	redisSrv *testredis.Server    // the package's, started by TestMain
	redisDBs = make(chan int, 16) // Redis databases 0-15, one per test at a time
)

// sharedRedis returns the package's redis-server, or skips the test.
func sharedRedis(t *testing.T) *testredis.Server {
	t.Helper()
	if redisSrv == nil {
		t.Skip("redis-server is not installed (Debian: apt-get install redis-server): skipping the Redis test")
	}
	return redisSrv
}

func backends() []backend {
	return []backend{
		{name: "mem", ordered: true, open: func(t *testing.T, opts Options) Store { return NewMem(opts) }},
		{name: "file", ordered: true, open: func(t *testing.T, opts Options) Store {
			s, err := Open("file:"+filepath.Join(t.TempDir(), "kv.db"), opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
		{name: "redis", open: func(t *testing.T, opts Options) Store {
			srv := sharedRedis(t)
			db := <-redisDBs
			s, err := Open(srv.URL(db), opts)
			if err != nil {
				t.Fatal(err)
			}
			r := s.(*Redis)
			if err := r.c.FlushDB(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close(); redisDBs <- db })
			return s
		}},
	}
}

// eachBackend runs fn against a fresh store of every kind.
func eachBackend(t *testing.T, opts Options, fn func(t *testing.T, b backend, s Store)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b, b.open(t, opts))
		})
	}
}

// TestStoreBasics: set, get, exists, delete and their answers for an
// absent key, on every backend.
func TestStoreBasics(t *testing.T) {
	t.Parallel()
	eachBackend(t, Options{}, func(t *testing.T, _ backend, s Store) {
		ctx := context.Background()
		if _, err := s.Get(ctx, "a"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get of an absent key: %v, want ErrNotFound", err)
		}
		value := make([]byte, 100_000)
		for i := range value {
			value[i] = byte(i * 7)
		}
		if err := s.Set(ctx, "a", value, 0); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, "a")
		if err != nil || !bytes.Equal(got, value) {
			t.Fatalf("Get = %d bytes, %v; want the 100000 bytes set", len(got), err)
		}
		if err := s.Set(ctx, "empty", nil, 0); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, "empty"); err != nil || len(got) != 0 {
			t.Fatalf("Get of an empty value = %q, %v", got, err)
		}
		if ok, err := s.Exists(ctx, "a"); !ok || err != nil {
			t.Fatalf("Exists = %v, %v", ok, err)
		}
		if ok, err := s.Delete(ctx, "a"); !ok || err != nil {
			t.Fatalf("Delete = %v, %v; want true", ok, err)
		}
		if ok, err := s.Delete(ctx, "a"); ok || err != nil {
			t.Fatalf("second Delete = %v, %v; want false", ok, err)
		}
		if ok, err := s.Exists(ctx, "a"); ok || err != nil {
			t.Fatalf("Exists after Delete = %v, %v", ok, err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestStoreTTL: a value set with a TTL is gone after it, and one without
// stays.
func TestStoreTTL(t *testing.T) {
	t.Parallel()
	eachBackend(t, Options{}, func(t *testing.T, _ backend, s Store) {
		ctx := context.Background()
		if err := s.Set(ctx, "short", []byte("x"), 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if err := s.Set(ctx, "long", []byte("y"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "short"); err != nil {
			t.Fatalf("Get before the TTL: %v", err)
		}
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			_, err := s.Get(ctx, "short")
			if errors.Is(err, ErrNotFound) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Get 5s after a 50ms TTL: %v, want ErrNotFound", err)
			}
		}
		if ok, _ := s.Exists(ctx, "short"); ok {
			t.Error("Exists of an expired key is true")
		}
		keys := allKeys(t, s, "")
		if fmt.Sprint(keys) != "[long]" {
			t.Errorf("keys after expiry = %v, want [long]", keys)
		}
	})
}

// allKeys lists every key with prefix, page by page of 3 (on Redis, of
// about 3: SCAN's COUNT is a hint).
func allKeys(t *testing.T, s Store, prefix string) []string {
	t.Helper()
	seen := map[string]bool{}
	var all []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("Keys never ends")
		}
		keys, next, err := s.Keys(context.Background(), prefix, cursor, 3)
		if err != nil {
			t.Fatal(err)
		}
		if _, redis := s.(*Redis); len(keys) > 3 && !redis {
			t.Fatalf("a page of %d keys, limit 3", len(keys))
		}
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				all = append(all, k)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	sort.Strings(all)
	return all
}

// TestStoreKeys: listing by prefix, by pages, sees every key once; on the
// ordered backends pages come in byte order without repeats.
func TestStoreKeys(t *testing.T) {
	t.Parallel()
	eachBackend(t, Options{}, func(t *testing.T, b backend, s Store) {
		ctx := context.Background()
		var want []string
		for i := range 10 {
			k := fmt.Sprintf("user:%02d", i)
			want = append(want, k)
			if err := s.Set(ctx, k, []byte("v"), 0); err != nil {
				t.Fatal(err)
			}
		}
		for _, k := range []string{"other", "user", "user*x"} {
			s.Set(ctx, k, []byte("v"), 0)
		}
		if got := allKeys(t, s, "user:"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("keys user: = %v, want %v", got, want)
		}
		if got := allKeys(t, s, "user*"); fmt.Sprint(got) != "[user*x]" {
			t.Errorf("keys user* = %v: a glob character in the prefix is not literal", got)
		}
		if got := allKeys(t, s, ""); len(got) != 13 {
			t.Errorf("every key: %d, want 13", len(got))
		}
		if b.ordered {
			page, next, err := s.Keys(ctx, "user:", "", 4)
			if err != nil || fmt.Sprint(page) != "[user:00 user:01 user:02 user:03]" || next != "user:03" {
				t.Errorf("first page = %v, %q, %v", page, next, err)
			}
			page, next, _ = s.Keys(ctx, "user:", "user:07", 4)
			if fmt.Sprint(page) != "[user:08 user:09]" || next != "" {
				t.Errorf("last page = %v, %q", page, next)
			}
		}
	})
}

// TestStoreIncrement: increments start at 0, add, refuse a value that is
// not a number, and refuse to overflow.
func TestStoreIncrement(t *testing.T) {
	t.Parallel()
	eachBackend(t, Options{}, func(t *testing.T, _ backend, s Store) {
		ctx := context.Background()
		for i, want := range []int64{5, 3, -7} {
			n, err := s.Increment(ctx, "n", []int64{5, -2, -10}[i])
			if err != nil || n != want {
				t.Fatalf("increment %d = %d, %v; want %d", i, n, err, want)
			}
		}
		if v, _ := s.Get(ctx, "n"); string(v) != "-7" {
			t.Errorf("counter's value = %q, want decimal -7", v)
		}
		s.Set(ctx, "text", []byte("abc"), 0)
		if _, err := s.Increment(ctx, "text", 1); !errors.Is(err, ErrNotNumber) {
			t.Errorf("increment of text: %v, want ErrNotNumber", err)
		}
		s.Set(ctx, "big", []byte("9223372036854775807"), 0)
		if _, err := s.Increment(ctx, "big", 1); !errors.Is(err, ErrNotNumber) {
			t.Errorf("overflowing increment: %v, want ErrNotNumber", err)
		}
	})
}

// TestStoreIncrementConcurrent: 200 concurrent increments make 200.
func TestStoreIncrementConcurrent(t *testing.T) {
	t.Parallel()
	eachBackend(t, Options{}, func(t *testing.T, _ backend, s Store) {
		var wg sync.WaitGroup
		for range 200 {
			wg.Go(func() {
				if _, err := s.Increment(context.Background(), "c", 1); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if v, _ := s.Get(context.Background(), "c"); string(v) != "200" {
			t.Errorf("after 200 increments: %q", v)
		}
	})
}

// TestStoreCompareAndSwap: a swap happens only on the expected value, or
// on absence when asked so.
func TestStoreCompareAndSwap(t *testing.T) {
	t.Parallel()
	eachBackend(t, Options{}, func(t *testing.T, _ backend, s Store) {
		ctx := context.Background()
		steps := []struct {
			name   string
			old    string
			absent bool
			value  string
			want   bool
			after  string
		}{
			{"create when absent", "", true, "v1", true, "v1"},
			{"create when present", "", true, "v2", false, "v1"},
			{"wrong old", "v0", false, "v2", false, "v1"},
			{"right old", "v1", false, "v2", true, "v2"},
			{"empty old is not absent", "", false, "v3", false, "v2"},
		}
		for _, st := range steps {
			ok, err := s.CompareAndSwap(ctx, "k", []byte(st.old), st.absent, []byte(st.value))
			if err != nil || ok != st.want {
				t.Fatalf("%s: swapped %v, %v; want %v", st.name, ok, err, st.want)
			}
			if v, _ := s.Get(ctx, "k"); string(v) != st.after {
				t.Fatalf("%s: value %q, want %q", st.name, v, st.after)
			}
		}
		if ok, _ := s.CompareAndSwap(ctx, "absent", []byte("x"), false, []byte("y")); ok {
			t.Error("a swap of an absent key against a value happened")
		}
	})
}

// TestStoreQuota: a store with a quota of keys refuses a new key beyond
// it, but lets existing keys change and deleted ones make room.
func TestStoreQuota(t *testing.T) {
	t.Parallel()
	eachBackend(t, Options{MaxKeys: 2}, func(t *testing.T, _ backend, s Store) {
		ctx := context.Background()
		s.Set(ctx, "a", []byte("1"), 0)
		s.Set(ctx, "b", []byte("1"), 0)
		if err := s.Set(ctx, "c", []byte("1"), 0); !errors.Is(err, ErrQuota) {
			t.Fatalf("third key: %v, want ErrQuota", err)
		}
		if _, err := s.Increment(ctx, "c", 1); !errors.Is(err, ErrQuota) {
			t.Fatalf("third key by increment: %v, want ErrQuota", err)
		}
		if _, err := s.CompareAndSwap(ctx, "c", nil, true, []byte("x")); !errors.Is(err, ErrQuota) {
			t.Fatalf("third key by swap: %v, want ErrQuota", err)
		}
		if err := s.Set(ctx, "a", []byte("2"), 0); err != nil {
			t.Fatalf("overwriting a key at the quota: %v", err)
		}
		if _, err := s.Increment(ctx, "b", 1); err != nil {
			t.Fatalf("incrementing a key at the quota: %v", err)
		}
		s.Delete(ctx, "a")
		if err := s.Set(ctx, "c", []byte("1"), 0); err != nil {
			t.Fatalf("a key after a delete: %v", err)
		}
	})
}

// TestFileReopen: what a file store acknowledged is there when it is
// opened again, key count included; a second opener is refused.
func TestFileReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kv.db")
	s, err := OpenFile(path, Options{MaxKeys: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s.Set(ctx, "a", []byte("x"), 0)
	s.Increment(ctx, "n", 41)
	if _, err := OpenFile(path, Options{}); err == nil || !contains(err.Error(), "is held open by another process") {
		t.Errorf("second open: %v", err)
	}
	s.Close()
	s, err = OpenFile(path, Options{MaxKeys: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.Increment(ctx, "n", 1); n != 42 || err != nil {
		t.Errorf("increment after reopening = %d, %v", n, err)
	}
	if err := s.Set(ctx, "b", []byte("x"), 0); !errors.Is(err, ErrQuota) {
		t.Errorf("the key count was not kept: %v", err)
	}
}

func contains(s, sub string) bool { return bytes.Contains([]byte(s), []byte(sub)) }

// TestOpenURL: the URLs Open takes, and the errors of those it does not.
func TestOpenURL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, url, err string
	}{
		{"mem", "mem:", ""},
		{"file", "file:" + filepath.Join(dir, "a.db"), ""},
		{"file URL", "file://" + filepath.Join(dir, "b.db"), ""},
		{"redis", "redis://127.0.0.1:1/0", ""},
		{"no scheme", "kv.db", `store URL "kv.db": want mem:, file:PATH or redis://host:port/db`},
		{"unknown", "etcd://x", `store URL "etcd://x": unknown scheme "etcd"`},
		{"mem with path", "mem:x", "mem: takes nothing after the colon"},
		{"empty file", "file:", "file: needs a path"},
		{"remote file", "file://host/x", "a file: URL names a local path"},
		{"bad redis db", "redis://127.0.0.1:1/x", "store URL redis://127.0.0.1:1/x: redis: invalid database number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Open(tt.url, Options{})
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
				return
			}
			if err == nil || !contains(err.Error(), tt.err) {
				t.Fatalf("Open(%q) = %v, want an error with %q", tt.url, err, tt.err)
			}
		})
	}
}

// TestRedisOutage: while Redis is down an operation fails within its
// deadline, Ping fails, and both heal once it is back.
func TestRedisOutage(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	s, err := OpenRedis(srv.URL(0), Options{Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Increment(ctx, "n", 1); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := s.Increment(cctx, "n", 1); err == nil {
		t.Fatal("an increment succeeded with Redis down")
	}
	if cctx.Err() != nil {
		t.Fatal("the failed increment waited for its whole context instead of failing")
	}
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping succeeded with Redis down")
	}
	srv.Restart(t)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after Redis came back: %v", err)
	}
	if n, err := s.Increment(ctx, "n", 1); n != 1 || err != nil {
		t.Fatalf("increment after Redis came back (empty) = %d, %v", n, err)
	}
}

func TestMain(m *testing.M) {
	for i := range 16 {
		redisDBs <- i
	}
	runMain(m)
}
