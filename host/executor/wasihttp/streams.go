package wasihttp

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/wasmserve/wasmserve/runtimepool/component/wasip2"
)

// chunkSize is the most one read of a body asks of its reader, and the
// write budget of a response body.
const chunkSize = 64 << 10

// bodyStream is the input stream of an incoming request's body: reads go
// straight to the request body, blocking until the client sends bytes, so
// no goroutine reads it behind the handler's back (net/http forbids that
// past the handler's return) and nothing is read ahead. Its pollable is
// always ready. It counts what it reads against a limit and keeps the
// first read error, which is the client's fault.
type bodyStream struct {
	body *incomingBody
}

func (s *bodyStream) Read(n uint64) ([]byte, error) {
	s.body.mu.Lock()
	defer s.body.mu.Unlock()
	return s.body.readBody(n)
}

func (s *bodyStream) Subscribe() wasip2.Pollable { return wasip2.ReadyPollable() }

func (s *bodyStream) Close() { s.body.streamOpen = false }

// errBodyTooBig is the stream error of a body read past its limit.
type errBodyTooBig struct{ limit int64 }

func (e *errBodyTooBig) Error() string {
	return fmt.Sprintf("request body over the %d bytes allowed", e.limit)
}

// pipe is the body of an outgoing request: the guest writes into a
// bounded buffer through an output stream, without blocking, and the
// transport reads it as the request body. Writes made before the request
// is sent wait in the buffer; the guest's check-write is what room is
// left, and its pollable is ready when there is room again.
type pipe struct {
	mu     sync.Mutex
	buf    []byte
	closed bool  // the writer finished (or gave up: err)
	err    error // the writer's abort, the reader's EOF replaced by it
	gone   error // the reader stopped: writes fail with it
	// readable and room are closed (and renewed) to wake the reader
	// and the guest.
	readable chan struct{}
	room     chan struct{}
}

// pipeBuffer bounds what an outgoing request body holds before the
// transport takes it.
const pipeBuffer = 256 << 10

func newPipe() *pipe {
	return &pipe{readable: make(chan struct{}), room: make(chan struct{})}
}

// closedChan is closed from the start: the Wait of a pollable ready now.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func wake(ch *chan struct{}) {
	close(*ch)
	*ch = make(chan struct{})
}

// Read is the transport's side: it blocks until bytes, the end or an
// abort.
func (p *pipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	for len(p.buf) == 0 && !p.closed && p.gone == nil {
		ch := p.readable
		p.mu.Unlock()
		<-ch
		p.mu.Lock()
	}
	defer p.mu.Unlock()
	if p.gone != nil {
		return 0, p.gone
	}
	if len(p.buf) == 0 {
		if p.err != nil {
			return 0, p.err
		}
		return 0, io.EOF
	}
	n := copy(b, p.buf)
	p.buf = p.buf[n:]
	if len(p.buf) == 0 {
		p.buf = nil
	}
	wake(&p.room)
	return n, nil
}

// Close is the transport's side giving up reading.
func (p *pipe) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gone == nil {
		p.gone = errors.New("the request body is no longer read")
		wake(&p.room)
		wake(&p.readable)
	}
	return nil
}

// finish ends the body: err nil is its end, otherwise the request is cut
// short with err.
func (p *pipe) finish(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed, p.err = true, err
	wake(&p.readable)
	wake(&p.room)
}

// pipeStream is the guest's output stream of a pipe.
type pipeStream struct{ p *pipe }

func (s pipeStream) CheckWrite() (uint64, error) {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.gone != nil:
		return 0, p.gone
	case p.closed:
		return 0, io.EOF
	}
	return uint64(pipeBuffer - len(p.buf)), nil
}

func (s pipeStream) Write(b []byte) error {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.gone != nil:
		return p.gone
	case p.closed:
		return io.EOF
	case len(p.buf)+len(b) > pipeBuffer:
		return fmt.Errorf("wrote %d bytes where check-write allowed %d", len(b), pipeBuffer-len(p.buf))
	}
	p.buf = append(p.buf, b...)
	wake(&p.readable)
	return nil
}

// Flush is done at once: the transport takes what is written as it goes.
func (s pipeStream) Flush() error {
	_, err := s.CheckWrite()
	return err
}

func (s pipeStream) Subscribe() wasip2.Pollable { return pipePollable{s.p} }

// Close is the guest dropping the stream; the body ends with finish.
func (s pipeStream) Close() {}

// pipePollable is ready when a write would be accepted or fail.
type pipePollable struct{ p *pipe }

func (pp pipePollable) Ready() bool {
	p := pp.p
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gone != nil || p.closed || len(p.buf) < pipeBuffer
}

func (pp pipePollable) Wait() <-chan struct{} {
	p := pp.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gone != nil || p.closed || len(p.buf) < pipeBuffer {
		return closedChan
	}
	return p.room
}
