//go:build wasip1

// Package kv gives a wasmserve guest the key-value stores its server
// configures (wasmserve serve --kv-store NAME=URL), through wasmserve's
// wasmserve_kv host module (docs/kv.md):
//
//	store, err := kv.Open("default")
//	n, err := store.Increment("count", 1)
//	err = store.Set("greeting", []byte("hello"))
//	v, err := store.Get("greeting")
//	if errors.Is(err, kv.ErrNotFound) { ... }
//
// Stores are shared by every isolate of the server, and on Redis by every
// server that names the same database: Increment and CompareAndSwap are
// atomic across them all. A store the server does not configure fails to
// open with [ErrNoStore].
//
// It is a package of its own so that a guest that does not import it does
// not import wasmserve_kv either, and still runs on any http-wasm host.
//
// Operations block the guest until the store answers, within the request's
// handler timeout; they are possible while a request is handled. Open works
// at any time, package initialisation included.
package kv

import (
	"strings"
	"time"
	"unsafe"

	contract "github.com/wasmserve/wasmserve/abi/kv"
)

// Store is an open key-value store. Its handle is valid for the life of the
// instance.
type Store struct {
	name string
	h    int32
}

// Error is a failed host call.
type Error struct {
	// Code says why, one of the Code constants.
	Code Code
	// Message is the host's detail; empty in the Err values.
	Message string
}

// Error spells the failure as "wasmserve_kv: not found" and the host's
// message.
func (e *Error) Error() string {
	s := "wasmserve_kv: " + e.Code.String()
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is makes errors.Is(err, kv.ErrQuota) true for every error with the code
// of ErrQuota, whatever its message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Code is why a host call failed: the contract's code, whose String is the
// name docs/kv.md gives it.
type Code = contract.Code

// The error codes of the host module (docs/kv.md).
const (
	CodeNotFound    = contract.CodeNotFound    // no value under the key
	CodeNoStore     = contract.CodeNoStore     // the server configures no store of this name
	CodeInvalid     = contract.CodeInvalid     // an invalid key, prefix, cursor or TTL
	CodeTooBig      = contract.CodeTooBig      // the value is over the server's largest
	CodeQuota       = contract.CodeQuota       // the store holds as many keys as it may
	CodeHandle      = contract.CodeHandle      // not an open store
	CodeNotNumber   = contract.CodeNotNumber   // increment of a value that is not a decimal integer
	CodeUnavailable = contract.CodeUnavailable // the store failed or cannot be reached
	CodeTimeout     = contract.CodeTimeout     // the operation's deadline passed
	CodeNoRequest   = contract.CodeNoRequest   // no request in flight (package init, for one)
)

// Errors to compare with errors.Is, one per code.
var (
	ErrNotFound    = &Error{Code: CodeNotFound}
	ErrNoStore     = &Error{Code: CodeNoStore}
	ErrInvalid     = &Error{Code: CodeInvalid}
	ErrTooBig      = &Error{Code: CodeTooBig}
	ErrQuota       = &Error{Code: CodeQuota}
	ErrNotNumber   = &Error{Code: CodeNotNumber}
	ErrUnavailable = &Error{Code: CodeUnavailable}
	ErrTimeout     = &Error{Code: CodeTimeout}
	ErrNoRequest   = &Error{Code: CodeNoRequest}
)

// hostError returns the error of a failed host call, with the host's
// message. Not found has no message.
func hostError(code Code) error {
	if code == CodeNotFound {
		return ErrNotFound
	}
	return &Error{Code: code, Message: lastError()}
}

// lastError reads the message of the host's last failure.
func lastError() string {
	var small [256]byte
	n := getError(&small[0], uint32(len(small)))
	if n <= uint32(len(small)) {
		return string(small[:n])
	}
	buf := make([]byte, n)
	n = getError(&buf[0], n)
	return string(buf[:min(n, uint32(len(buf)))])
}

// Open opens the store the server configures under name.
func Open(name string) (*Store, error) {
	h := open(name)
	if h < 0 {
		return nil, hostError(Code(h))
	}
	return &Store{name: name, h: h}, nil
}

// Name is the name the store was opened by.
func (s *Store) Name() string { return s.name }

// ptr returns the address of b's first byte, nil when empty.
func ptr(b []byte) *byte {
	if len(b) == 0 {
		return nil
	}
	return unsafe.SliceData(b)
}

// scratch is the buffer a read starts with, reused: the guest runs one
// goroutine at a time and a host call never yields, so nothing else writes
// it between the call and the copy out. A longer value is read again into
// a buffer of its size (the host keeps it: no second trip to the store).
var scratch [1024]byte

// Get returns the value under key, or [ErrNotFound].
func (s *Store) Get(key string) ([]byte, error) {
	buf := scratch[:]
	for {
		n := get(s.h, key, &buf[0], uint32(len(buf)))
		switch {
		case n < 0:
			return nil, hostError(Code(n))
		case n > int64(len(buf)):
			buf = make([]byte, n)
		case &buf[0] == &scratch[0]:
			return append([]byte(nil), buf[:n]...), nil
		default:
			return buf[:n:n], nil
		}
	}
}

// Set stores value under key, with no expiry.
func (s *Store) Set(key string, value []byte) error { return s.SetTTL(key, value, 0) }

// SetTTL stores value under key; it expires after ttl (rounded up to a
// millisecond), or never when ttl is 0.
func (s *Store) SetTTL(key string, value []byte, ttl time.Duration) error {
	ms := int64(0)
	if ttl > 0 {
		ms = int64((ttl + time.Millisecond - 1) / time.Millisecond)
	} else if ttl < 0 {
		ms = -1
	}
	if r := set(s.h, key, ptr(value), uint32(len(value)), ms); r < 0 {
		return hostError(Code(r))
	}
	return nil
}

// Delete removes key, and says whether it was there.
func (s *Store) Delete(key string) (bool, error) {
	r := del(s.h, key)
	if r < 0 {
		return false, hostError(Code(r))
	}
	return r == 1, nil
}

// Exists says whether key holds a value.
func (s *Store) Exists(key string) (bool, error) {
	r := exists(s.h, key)
	if r < 0 {
		return false, hostError(Code(r))
	}
	return r == 1, nil
}

// Keys returns a page of the keys that start with prefix, from cursor (""
// for the first page), and the cursor of the next page, "" after the last:
//
//	for cursor := ""; ; {
//		keys, next, err := store.Keys("user:", cursor)
//		...
//		if next == "" { break }
//		cursor = next
//	}
//
// A page holds up to 100 keys; on file: and mem: stores they come in byte
// order, each once; on Redis in no order, a page may be empty before the
// end, and a key may come twice (SCAN's rules).
func (s *Store) Keys(prefix, cursor string) (keys []string, next string, err error) {
	buf := make([]byte, 4096)
	for {
		r := keysCall(s.h, prefix, cursor, buf)
		if r < 0 {
			return nil, "", hostError(Code(r))
		}
		count, n := uint32(uint64(r)>>32), uint32(r)
		if n > uint32(len(buf)) {
			buf = make([]byte, n)
			continue
		}
		parts := strings.Split(string(buf[:n]), "\x00")
		// The cursor, the keys, and "" after the last NUL.
		if len(parts) < 2 || uint32(len(parts)-2) != count {
			return nil, "", &Error{Code: CodeInvalid, Message: "the host's page of keys is malformed"}
		}
		return parts[1 : len(parts)-1], parts[0], nil
	}
}

func keysCall(h int32, prefix, cursor string, buf []byte) int64 {
	return keys(h, prefix, cursor, &buf[0], uint32(len(buf)))
}

// Increment adds delta to the decimal integer under key (0 when absent),
// atomically, and returns the sum. The value is stored as decimal text, so
// Get returns "42".
func (s *Store) Increment(key string, delta int64) (int64, error) {
	var n int64
	if r := increment(s.h, key, delta, &n); r < 0 {
		return 0, hostError(Code(r))
	}
	return n, nil
}

// CompareAndSwap sets key to value if it holds old, atomically, and says
// whether it did. A nil old swaps only when key is absent ([]byte{} is the
// empty value). The value it sets has no expiry.
func (s *Store) CompareAndSwap(key string, old, value []byte) (bool, error) {
	var flags contract.Flags
	if old == nil {
		flags = contract.FlagOldAbsent
	}
	r := compareAndSwap(s.h, key, ptr(old), uint32(len(old)), ptr(value), uint32(len(value)), flags)
	if r < 0 {
		return false, hostError(Code(r))
	}
	return r == 1, nil
}
