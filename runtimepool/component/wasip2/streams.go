package wasip2

import (
	"io"
	"sync"

	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// The wasi:io resource types. Every host interface that hands out or takes
// pollables, streams or errors (wasi:http's bodies included) uses these,
// since the linker compares resource types by identity.
//
// The Go value behind a handle is: a [Pollable] for PollableType, an
// [InputStream] for InputStreamType, an [OutputStream] for
// OutputStreamType, and a Go error for ErrorType (to-debug-string is its
// Error()).
var (
	PollableType     = &cabi.Resource{Name: "pollable"}
	InputStreamType  = &cabi.Resource{Name: "input-stream"}
	OutputStreamType = &cabi.Resource{Name: "output-stream"}
	ErrorType        = &cabi.Resource{Name: "error"}
)

// Pollable is the Go side of a wasi:io/poll pollable. When the guest drops
// its handle, Close is called if the value has a Close() method.
type Pollable interface {
	// Ready reports whether the pollable is ready now.
	Ready() bool
	// Wait returns a channel closed once the pollable is ready; nil when
	// Ready is always true. It may be called many times, and may return a
	// new channel each time.
	Wait() <-chan struct{}
}

// InputStream is the Go side of a wasi:io/streams input-stream. The
// blocking functions of the interface are built on these methods.
type InputStream interface {
	// Read returns up to n bytes without blocking: empty when none are
	// ready yet, io.EOF at the end (stream-error.closed), another error
	// as stream-error.last-operation-failed (an error resource whose
	// to-debug-string is err.Error()).
	Read(n uint64) ([]byte, error)
	// Subscribe returns a pollable ready when Read would return bytes or
	// an error.
	Subscribe() Pollable
	// Close is called when the guest drops the stream.
	Close()
}

// OutputStream is the Go side of a wasi:io/streams output-stream. Errors
// are as for InputStream: io.EOF is stream-error.closed, another error is
// stream-error.last-operation-failed.
type OutputStream interface {
	// CheckWrite returns how many bytes Write accepts now; 0 means wait
	// on Subscribe.
	CheckWrite() (uint64, error)
	// Write writes p, at most what the last CheckWrite allowed.
	Write(p []byte) error
	// Flush begins flushing what was written; CheckWrite is 0 until it is
	// done.
	Flush() error
	// Subscribe returns a pollable ready when CheckWrite would return
	// more than 0 or an error.
	Subscribe() Pollable
	// Close is called when the guest drops the stream.
	Close()
}

// closedChan is a channel closed from the start: what Wait returns for a
// pollable that is ready now.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

type readyPollable struct{}

func (readyPollable) Ready() bool           { return true }
func (readyPollable) Wait() <-chan struct{} { return nil }

// ReadyPollable returns a pollable that is always ready.
func ReadyPollable() Pollable { return readyPollable{} }

type chanPollable struct{ ch <-chan struct{} }

func (p chanPollable) Ready() bool {
	select {
	case <-p.ch:
		return true
	default:
		return false
	}
}

func (p chanPollable) Wait() <-chan struct{} { return p.ch }

// neverChan is never closed: the channel of a pollable never ready.
var neverChan = make(chan struct{})

// ChanPollable returns a pollable ready once ch is closed. A nil ch is
// never ready.
func ChanPollable(ch <-chan struct{}) Pollable {
	if ch == nil {
		ch = neverChan
	}
	return chanPollable{ch: ch}
}

// ReaderStreamBuffer is how many bytes a stream of NewReaderStream reads
// ahead of the guest.
const ReaderStreamBuffer = 64 << 10

// readerChunk is the most one Read of the underlying reader asks for.
const readerChunk = 16 << 10

// readerStream is an InputStream fed by a pump goroutine reading an
// io.Reader into a bounded buffer. The pump starts at the first Read or
// Subscribe, so a stream the guest never reads costs no goroutine.
type readerStream struct {
	r io.Reader

	mu      sync.Mutex
	buf     []byte // read ahead, from off
	off     int
	err     error // the reader's error once it returned one; io.EOF at the end
	started bool
	closed  bool
	ready   chan struct{} // closed when bytes or err arrive; nil when no one waits
	space   chan struct{} // a token when the guest made room for the pump
}

// NewReaderStream returns an input stream reading r. A goroutine reads
// ahead up to ReaderStreamBuffer bytes; Read hands out what it has read.
// Closing the stream stops the goroutine after the read it is in, if any:
// r itself is not closed, and a reader that blocks forever keeps the
// goroutine until whoever owns r closes it.
func NewReaderStream(r io.Reader) InputStream {
	return &readerStream{r: r, space: make(chan struct{}, 1)}
}

func (s *readerStream) startLocked() {
	if !s.started && !s.closed {
		s.started = true
		go s.pump()
	}
}

func (s *readerStream) pump() {
	var chunk []byte
	for {
		s.mu.Lock()
		for len(s.buf)-s.off >= ReaderStreamBuffer && !s.closed {
			s.mu.Unlock()
			<-s.space
			s.mu.Lock()
		}
		if s.closed {
			s.mu.Unlock()
			return
		}
		room := min(ReaderStreamBuffer-(len(s.buf)-s.off), readerChunk)
		s.mu.Unlock()
		if chunk == nil {
			chunk = make([]byte, readerChunk)
		}
		n, err := s.r.Read(chunk[:room])
		s.mu.Lock()
		if n > 0 {
			if s.off > 0 {
				k := copy(s.buf, s.buf[s.off:])
				s.buf, s.off = s.buf[:k], 0
			}
			s.buf = append(s.buf, chunk[:n]...)
		}
		if err != nil {
			s.err = err
		}
		if (n > 0 || err != nil) && s.ready != nil {
			close(s.ready)
			s.ready = nil
		}
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (s *readerStream) Read(n uint64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.startLocked()
	if avail := uint64(len(s.buf) - s.off); avail > 0 {
		if n == 0 {
			return nil, nil
		}
		k := min(n, avail)
		out := make([]byte, k)
		copy(out, s.buf[s.off:])
		s.off += int(k)
		if s.off == len(s.buf) {
			s.buf, s.off = s.buf[:0], 0
		}
		select {
		case s.space <- struct{}{}:
		default:
		}
		return out, nil
	}
	if s.err != nil {
		return nil, s.err
	}
	if s.closed {
		return nil, io.EOF
	}
	return nil, nil
}

func (s *readerStream) Subscribe() Pollable { return readerPollable{s} }

func (s *readerStream) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	select {
	case s.space <- struct{}{}:
	default:
	}
}

type readerPollable struct{ s *readerStream }

func (p readerPollable) Ready() bool {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.startLocked()
	return len(s.buf) > s.off || s.err != nil || s.closed
}

func (p readerPollable) Wait() <-chan struct{} {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.startLocked()
	if len(s.buf) > s.off || s.err != nil || s.closed {
		return closedChan
	}
	if s.ready == nil {
		s.ready = make(chan struct{})
	}
	return s.ready
}

// DefaultWriteBudget is what CheckWrite allows on a stream of
// NewWriterStream given no budget.
const DefaultWriteBudget = 64 << 10

// writerStream is an OutputStream writing synchronously to an io.Writer.
type writerStream struct {
	w      io.Writer
	budget uint64
	err    error // the first error, reported once; io.EOF after it
}

// NewWriterStream returns an output stream writing to w synchronously:
// CheckWrite allows budget bytes (DefaultWriteBudget if budget <= 0) at
// every call, Write writes them to w at once, Flush calls w's Flush
// method if it has one (Flush() error or Flush()). The first error w
// returns is the stream's last-operation-failed; the stream is closed
// afterwards. Closing the stream does not close w.
func NewWriterStream(w io.Writer, budget int) OutputStream {
	if budget <= 0 {
		budget = DefaultWriteBudget
	}
	return &writerStream{w: w, budget: uint64(budget)}
}

func (s *writerStream) fail(err error) error {
	if s.err != nil {
		return io.EOF
	}
	s.err = err
	return err
}

func (s *writerStream) CheckWrite() (uint64, error) {
	if s.err != nil {
		return 0, io.EOF
	}
	return s.budget, nil
}

func (s *writerStream) Write(p []byte) error {
	if s.err != nil {
		return io.EOF
	}
	if len(p) == 0 {
		return nil
	}
	if _, err := s.w.Write(p); err != nil {
		return s.fail(err)
	}
	return nil
}

func (s *writerStream) Flush() error {
	if s.err != nil {
		return io.EOF
	}
	switch f := s.w.(type) {
	case interface{ Flush() error }:
		if err := f.Flush(); err != nil {
			return s.fail(err)
		}
	case interface{ Flush() }:
		f.Flush()
	}
	return nil
}

func (s *writerStream) Subscribe() Pollable { return readyPollable{} }

func (s *writerStream) Close() {}
