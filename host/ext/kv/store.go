package kv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Store is one key-value store, shared by every isolate of a server. Keys
// are checked by the caller (package abi/kv's ValidKey); values are the
// caller's until the call returns. Its methods are safe for concurrent
// use; ctx bounds each call.
type Store interface {
	// Get returns the value of key, or an error wrapping [ErrNotFound].
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key; a ttl above zero expires it after
	// that long. A new key over the quota fails with [ErrQuota].
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key and says whether it was there.
	Delete(ctx context.Context, key string) (bool, error)
	// Exists says whether key holds a value.
	Exists(ctx context.Context, key string) (bool, error)
	// Keys returns up to limit keys that start with prefix, from where
	// cursor says ("" the first page), and the cursor of the next page:
	// "" once the listing is done.
	Keys(ctx context.Context, prefix, cursor string, limit int) (keys []string, next string, err error)
	// Increment adds delta to the decimal integer under key (0 when
	// absent), atomically, and returns the sum. A value that is not a
	// decimal 64-bit integer, or a sum that overflows, fails with
	// [ErrNotNumber]. A key's expiry, if any, is kept.
	Increment(ctx context.Context, key string, delta int64) (int64, error)
	// CompareAndSwap sets key to value if it holds old (when absent,
	// if it is absent), atomically, and says whether it did.
	CompareAndSwap(ctx context.Context, key string, old []byte, absent bool, value []byte) (bool, error)
	// Ping says whether the store answers, for readiness.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// Errors of a Store's methods, wrapped; any other error is the store's
// failure (CodeUnavailable), or its context's (CodeTimeout).
var (
	// ErrNotFound: no value under the key.
	ErrNotFound = errors.New("not found")
	// ErrQuota: a new key over the store's quota of keys.
	ErrQuota = errors.New("store is full")
	// ErrNotNumber: increment of a value that is not a decimal integer,
	// or a sum that overflows.
	ErrNotNumber = errors.New("value is not a decimal 64-bit integer")
)

// Options are a store's limits. The zero value bounds nothing.
type Options struct {
	// MaxKeys bounds the keys a store holds: a Set or Increment that
	// would add one more fails with ErrQuota. 0 means no bound. On
	// Redis it bounds the keys of the whole database (DBSIZE).
	MaxKeys int
	// Timeout bounds a Redis store's connection attempt and each
	// command's network wait; 0 means DefaultRedisTimeout.
	Timeout time.Duration
}

// DefaultRedisTimeout bounds a Redis connection attempt and each command's
// network reads and writes, unless Options.Timeout says otherwise.
const DefaultRedisTimeout = 2 * time.Second

// Open opens the store rawURL names:
//
//	mem:                 in this process's memory, gone when it exits
//	file:PATH            a bbolt file, created if absent; every write is
//	                     fsynced before it is acknowledged
//	redis://host:port/db a Redis database (rediss:// for TLS); user and
//	                     password in the URL as redis.ParseURL reads them
func Open(rawURL string, opts Options) (Store, error) {
	scheme, rest, ok := strings.Cut(rawURL, ":")
	if !ok {
		return nil, fmt.Errorf("store URL %q: want mem:, file:PATH or redis://host:port/db", rawURL)
	}
	switch strings.ToLower(scheme) {
	case "mem":
		if rest != "" {
			return nil, fmt.Errorf("store URL %q: mem: takes nothing after the colon", rawURL)
		}
		return NewMem(opts), nil
	case "file":
		path := rest
		if strings.HasPrefix(rest, "//") {
			u, err := url.Parse(rawURL)
			if err != nil {
				return nil, fmt.Errorf("store URL %q: %w", rawURL, err)
			}
			if u.Host != "" && u.Host != "localhost" {
				return nil, fmt.Errorf("store URL %q: a file: URL names a local path (file:/var/lib/kv.db or file:kv.db)", rawURL)
			}
			path = u.Path
		}
		if path == "" {
			return nil, fmt.Errorf("store URL %q: file: needs a path (file:kv.db)", rawURL)
		}
		return OpenFile(path, opts)
	case "redis", "rediss":
		return OpenRedis(rawURL, opts)
	}
	return nil, fmt.Errorf("store URL %q: unknown scheme %q: want mem:, file:PATH or redis://host:port/db", rawURL, scheme)
}

// isTimeout says whether err is its context's deadline or a network
// timeout.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// expiry returns the time ttl from now, zero for no ttl.
func expiry(now time.Time, ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return now.Add(ttl)
}
