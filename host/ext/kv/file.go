package kv

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// File is a store in one bbolt file (URL file:PATH): the embedded default.
// Every write is one bbolt transaction, committed with an fsync of the file
// before it returns, so that an acknowledged write survives the process
// being killed and the machine losing power (as far as the disk keeps what
// fsync says it has). Writes take turns (bbolt has one writer); reads run
// beside them on a snapshot.
//
// The file holds a bucket of values, each prefixed by its expiry (8 bytes,
// big-endian Unix milliseconds, 0 for none), and a count of its keys for
// the quota. Expired values are removed when next read or written, or
// when the quota is reached.
type File struct {
	db   *bolt.DB
	opts Options
}

var (
	bucketValues = []byte("values")
	bucketMeta   = []byte("meta")
	metaKeys     = []byte("keys") // the number of keys in bucketValues, 8 bytes big-endian
)

// fileLockWait is how long OpenFile waits for another process to let go
// of the file.
const fileLockWait = time.Second

// OpenFile opens, or creates, the bbolt file at path. A file held open
// (by another process, or another File) fails after a second.
func OpenFile(path string, opts Options) (*File, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: fileLockWait})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("store file %s is held open by another process, or another store of this one", path)
		}
		return nil, fmt.Errorf("store file %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		v, err := tx.CreateBucketIfNotExists(bucketValues)
		if err != nil {
			return err
		}
		m, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if m.Get(metaKeys) == nil {
			return putCount(m, uint64(v.Stats().KeyN))
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store file %s: %w", path, err)
	}
	return &File{db: db, opts: opts}, nil
}

// Path is the file's path.
func (s *File) Path() string { return s.db.Path() }

func putCount(m *bolt.Bucket, n uint64) error {
	return m.Put(metaKeys, binary.BigEndian.AppendUint64(nil, n))
}

// encode prefixes value with its expiry.
func encode(value []byte, expires time.Time) []byte {
	var ms uint64
	if !expires.IsZero() {
		ms = uint64(expires.UnixMilli())
	}
	b := make([]byte, 8, 8+len(value))
	binary.BigEndian.PutUint64(b, ms)
	return append(b, value...)
}

// decode splits a stored value into its bytes (bbolt's, valid in the
// transaction only) and whether it is still live at now.
func decode(stored []byte, now time.Time) (value []byte, expires time.Time, live bool) {
	if len(stored) < 8 {
		return nil, time.Time{}, false
	}
	if ms := binary.BigEndian.Uint64(stored); ms != 0 {
		expires = time.UnixMilli(int64(ms))
	}
	return stored[8:], expires, expires.IsZero() || now.Before(expires)
}

// tx is one write transaction's view of the store, keeping the key count.
type fileTx struct {
	s      *File
	values *bolt.Bucket
	meta   *bolt.Bucket
	now    time.Time
}

func (s *File) update(ctx context.Context, fn func(t *fileTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return fn(&fileTx{s: s, values: tx.Bucket(bucketValues), meta: tx.Bucket(bucketMeta), now: time.Now()})
	})
}

func (t *fileTx) count() uint64 { return binary.BigEndian.Uint64(t.meta.Get(metaKeys)) }

// lookup returns the live value of key; an expired one is deleted.
func (t *fileTx) lookup(key []byte) ([]byte, time.Time, bool, error) {
	stored := t.values.Get(key)
	if stored == nil {
		return nil, time.Time{}, false, nil
	}
	v, exp, live := decode(stored, t.now)
	if !live {
		return nil, time.Time{}, false, t.delete(key)
	}
	return v, exp, true, nil
}

func (t *fileTx) delete(key []byte) error {
	if err := t.values.Delete(key); err != nil {
		return err
	}
	return putCount(t.meta, t.count()-1)
}

// put stores value; a key not there before (present false) is counted,
// within the quota.
func (t *fileTx) put(key, value []byte, expires time.Time, present bool) error {
	if !present {
		if err := t.room(); err != nil {
			return err
		}
	}
	if err := t.values.Put(key, encode(value, expires)); err != nil {
		return err
	}
	if !present {
		return putCount(t.meta, t.count()+1)
	}
	return nil
}

// room fails with ErrQuota when one more key would go over the quota,
// after removing the expired ones.
func (t *fileTx) room() error {
	max := uint64(t.s.opts.MaxKeys)
	if max == 0 || t.count() < max {
		return nil
	}
	var expired [][]byte
	c := t.values.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if _, _, live := decode(v, t.now); !live {
			expired = append(expired, bytes.Clone(k))
		}
	}
	for _, k := range expired {
		if err := t.delete(k); err != nil {
			return err
		}
	}
	if t.count() < max {
		return nil
	}
	return fmt.Errorf("%w: %d keys", ErrQuota, max)
}

// Get reads key in a read transaction; an expired value is not found (and
// left for the next write to remove).
func (s *File) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v, _, live := decode(tx.Bucket(bucketValues).Get([]byte(key)), time.Now())
		if !live {
			return ErrNotFound
		}
		out = bytes.Clone(v)
		return nil
	})
	return out, err
}

// Set writes key and fsyncs.
func (s *File) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return s.update(ctx, func(t *fileTx) error {
		k := []byte(key)
		_, _, present, err := t.lookup(k)
		if err != nil {
			return err
		}
		return t.put(k, value, expiry(t.now, ttl), present)
	})
}

// Delete removes key and fsyncs.
func (s *File) Delete(ctx context.Context, key string) (bool, error) {
	var was bool
	err := s.update(ctx, func(t *fileTx) error {
		k := []byte(key)
		_, _, present, err := t.lookup(k)
		if err != nil || !present {
			return err
		}
		was = true
		return t.delete(k)
	})
	return was, err
}

// Exists reads key in a read transaction.
func (s *File) Exists(ctx context.Context, key string) (bool, error) {
	_, err := s.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Keys lists keys in byte order; the cursor is the last key of the page
// before.
func (s *File) Keys(ctx context.Context, prefix, cursor string, limit int) ([]string, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	var keys []string
	next := ""
	err := s.db.View(func(tx *bolt.Tx) error {
		now := time.Now()
		p := []byte(prefix)
		c := tx.Bucket(bucketValues).Cursor()
		start := p
		if cursor > prefix {
			start = []byte(cursor)
		}
		for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			if string(k) <= cursor {
				continue
			}
			if _, _, live := decode(v, now); !live {
				continue
			}
			if len(keys) == limit {
				next = keys[len(keys)-1]
				return nil
			}
			keys = append(keys, string(k))
		}
		return nil
	})
	return keys, next, err
}

// Increment adds delta in one write transaction.
func (s *File) Increment(ctx context.Context, key string, delta int64) (int64, error) {
	var n int64
	err := s.update(ctx, func(t *fileTx) error {
		k := []byte(key)
		v, exp, present, err := t.lookup(k)
		if err != nil {
			return err
		}
		if n, err = addDecimal(v, present, delta); err != nil {
			return err
		}
		return t.put(k, strconv.AppendInt(nil, n, 10), exp, present)
	})
	return n, err
}

// CompareAndSwap compares and sets in one write transaction.
func (s *File) CompareAndSwap(ctx context.Context, key string, old []byte, absent bool, value []byte) (bool, error) {
	var swapped bool
	err := s.update(ctx, func(t *fileTx) error {
		k := []byte(key)
		v, _, present, err := t.lookup(k)
		if err != nil {
			return err
		}
		if absent && present || !absent && (!present || !bytes.Equal(v, old)) {
			return nil
		}
		swapped = true
		return t.put(k, value, time.Time{}, present)
	})
	if err != nil {
		swapped = false
	}
	return swapped, err
}

// Ping always answers: the file is open.
func (s *File) Ping(context.Context) error { return nil }

// Close closes the file.
func (s *File) Close() error { return s.db.Close() }
