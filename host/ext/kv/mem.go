package kv

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Mem is a store in this process's memory (URL mem:): for tests and for
// state that may be lost with the process. Its zero value is not usable;
// make one with NewMem.
type Mem struct {
	opts Options
	mu   sync.Mutex
	m    map[string]memEntry
}

type memEntry struct {
	value   []byte
	expires time.Time // zero: never
}

func (e memEntry) live(now time.Time) bool { return e.expires.IsZero() || now.Before(e.expires) }

// NewMem returns an empty store in memory.
func NewMem(opts Options) *Mem { return &Mem{opts: opts, m: map[string]memEntry{}} }

// lookup returns the live entry of key; an expired one is removed. Call
// with mu held.
func (s *Mem) lookup(key string, now time.Time) (memEntry, bool) {
	e, ok := s.m[key]
	if ok && !e.live(now) {
		delete(s.m, key)
		return memEntry{}, false
	}
	return e, ok
}

// room fails with ErrQuota when adding key would go over the quota. Call
// with mu held.
func (s *Mem) room(key string, now time.Time) error {
	if s.opts.MaxKeys <= 0 || len(s.m) < s.opts.MaxKeys {
		return nil
	}
	if _, ok := s.lookup(key, now); ok {
		return nil
	}
	for k, e := range s.m { // expired keys do not count
		if !e.live(now) {
			delete(s.m, k)
		}
	}
	if len(s.m) < s.opts.MaxKeys {
		return nil
	}
	return fmt.Errorf("%w: %d keys", ErrQuota, s.opts.MaxKeys)
}

// Get returns a copy of key's value.
func (s *Mem) Get(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.lookup(key, time.Now())
	if !ok {
		return nil, ErrNotFound
	}
	return bytes.Clone(e.value), nil
}

// Set stores a copy of value.
func (s *Mem) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if err := s.room(key, now); err != nil {
		return err
	}
	s.m[key] = memEntry{value: bytes.Clone(value), expires: expiry(now, ttl)}
	return nil
}

// Delete removes key.
func (s *Mem) Delete(_ context.Context, key string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.lookup(key, time.Now())
	delete(s.m, key)
	return ok, nil
}

// Exists says whether key holds a value.
func (s *Mem) Exists(_ context.Context, key string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.lookup(key, time.Now())
	return ok, nil
}

// Keys lists keys in byte order; the cursor is the last key of the page
// before.
func (s *Mem) Keys(_ context.Context, prefix, cursor string, limit int) ([]string, string, error) {
	s.mu.Lock()
	now := time.Now()
	var all []string
	for k, e := range s.m {
		if strings.HasPrefix(k, prefix) && k > cursor && e.live(now) {
			all = append(all, k)
		}
	}
	s.mu.Unlock()
	sort.Strings(all)
	if len(all) <= limit {
		return all, "", nil
	}
	page := all[:limit]
	return page, page[limit-1], nil
}

// Increment adds delta under the store's lock.
func (s *Mem) Increment(_ context.Context, key string, delta int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	e, ok := s.lookup(key, now)
	if !ok {
		if err := s.room(key, now); err != nil {
			return 0, err
		}
	}
	n, err := addDecimal(e.value, ok, delta)
	if err != nil {
		return 0, err
	}
	e.value = strconv.AppendInt(nil, n, 10)
	s.m[key] = e
	return n, nil
}

// CompareAndSwap compares and sets under the store's lock.
func (s *Mem) CompareAndSwap(_ context.Context, key string, old []byte, absent bool, value []byte) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	e, ok := s.lookup(key, now)
	if absent && ok || !absent && (!ok || !bytes.Equal(e.value, old)) {
		return false, nil
	}
	if !ok {
		if err := s.room(key, now); err != nil {
			return false, err
		}
	}
	s.m[key] = memEntry{value: bytes.Clone(value)}
	return true, nil
}

// Ping always answers.
func (s *Mem) Ping(context.Context) error { return nil }

// Close forgets every key.
func (s *Mem) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m = map[string]memEntry{}
	return nil
}

// addDecimal returns the decimal integer in value (0 when !present) plus
// delta, or ErrNotNumber.
func addDecimal(value []byte, present bool, delta int64) (int64, error) {
	var n int64
	if present {
		var err error
		n, err = strconv.ParseInt(string(value), 10, 64)
		if err != nil {
			return 0, ErrNotNumber
		}
	}
	if delta > 0 && n > math.MaxInt64-delta || delta < 0 && n < math.MinInt64-delta {
		return 0, fmt.Errorf("%w: %d + %d overflows", ErrNotNumber, n, delta)
	}
	return n + delta, nil
}
