package accesslog

import (
	"io"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"
)

// accessFlush is how long an access-log line may wait in its buffer.
const accessFlush = 100 * time.Millisecond

// shardSize is the size at which a shard's buffer is written out before
// its flush is due.
const shardSize = 16 << 10

// flushingWriter buffers lines for w and writes them every interval (and
// when a buffer fills), so that a busy server makes one write(2) for many
// lines instead of one each. The buffer is split into shards, one picked
// at random for each line, so that the goroutines of requests running on
// different cores seldom wait for each other's lock or pass a buffer's
// cache lines back and forth: one shared buffer cost the WAT hello 9 % of
// its requests per second under load. The price is order: lines from
// different shards reach w in flush order, not in the order they were
// logged (each has its time).
type flushingWriter struct {
	w      io.Writer
	wmu    sync.Mutex // one write to w at a time
	shards []shard
	spare  sync.Pool // *[]byte, buffers written out
	stop   chan struct{}
	done   chan struct{}
}

// shard is one lock and its buffer, padded to its own cache lines.
type shard struct {
	mu  sync.Mutex
	buf []byte
	_   [128 - 32]byte
}

// newFlushingWriter returns a writer that flushes to w every interval,
// with four shards per core (a power of two).
func newFlushingWriter(w io.Writer, interval time.Duration) *flushingWriter {
	n := 1 << bits.Len(uint(4*runtime.GOMAXPROCS(0)-1))
	f := &flushingWriter{w: w, shards: make([]shard, n), stop: make(chan struct{}), done: make(chan struct{})}
	for i := range f.shards {
		f.shards[i].buf = make([]byte, 0, shardSize)
	}
	go func() {
		defer close(f.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				f.flush()
			case <-f.stop:
				f.flush()
				return
			}
		}
	}()
	return f
}

// Write buffers p, one whole line, in a shard; when that shard is full it
// writes the shard's lines out first, and returns the error of that write.
func (f *flushingWriter) Write(p []byte) (int, error) {
	s := &f.shards[rand.Uint32()&uint32(len(f.shards)-1)]
	s.mu.Lock()
	var full []byte
	if len(s.buf) > 0 && len(s.buf)+len(p) > shardSize {
		full = s.take(f)
	}
	s.buf = append(s.buf, p...)
	s.mu.Unlock()
	if full != nil {
		if err := f.writeOut(full); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// take returns s's lines and gives s an empty buffer; s.mu is held.
func (s *shard) take(f *flushingWriter) []byte {
	full := s.buf
	if bp, ok := f.spare.Get().(*[]byte); ok {
		s.buf = (*bp)[:0]
	} else {
		s.buf = make([]byte, 0, shardSize)
	}
	return full
}

// writeOut writes b to w and keeps b's storage for another shard.
func (f *flushingWriter) writeOut(b []byte) error {
	f.wmu.Lock()
	_, err := f.w.Write(b)
	f.wmu.Unlock()
	if cap(b) <= 4*shardSize {
		b = b[:0]
		f.spare.Put(&b)
	}
	return err
}

// flush writes out every shard's lines.
func (f *flushingWriter) flush() {
	for i := range f.shards {
		s := &f.shards[i]
		s.mu.Lock()
		var full []byte
		if len(s.buf) > 0 {
			full = s.take(f)
		}
		s.mu.Unlock()
		if full != nil {
			f.writeOut(full)
		}
	}
}

// close flushes what is buffered and stops the flushing goroutine; later
// writes stay in the buffer.
func (f *flushingWriter) close() {
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
	<-f.done
}
