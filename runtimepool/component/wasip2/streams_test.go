package wasip2

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// drain reads s to its end, waiting on its pollable, and returns the bytes
// and the error that ended it.
func drain(t *testing.T, s InputStream, n uint64) ([]byte, error) {
	t.Helper()
	var out []byte
	for {
		b, err := s.Read(n)
		out = append(out, b...)
		if err != nil {
			return out, err
		}
		if len(b) == 0 {
			if err := Wait(context.Background(), s.Subscribe()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestReaderStream(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 3*ReaderStreamBuffer+17)
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		r       io.Reader
		n       uint64
		want    string
		wantErr error
	}{
		{"empty", strings.NewReader(""), 10, "", io.EOF},
		{"small", strings.NewReader("hello"), 10, "hello", io.EOF},
		{"in small reads", strings.NewReader("hello"), 2, "hello", io.EOF},
		{"past the buffer", strings.NewReader(big), 1 << 20, big, io.EOF},
		{"an error after bytes", io.MultiReader(strings.NewReader("part"), iotestErr{boom}), 100, "part", boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := NewReaderStream(tc.r)
			defer s.Close()
			got, err := drain(t, s, tc.n)
			if string(got) != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("read %d bytes ending in %v; want %d bytes ending in %v", len(got), err, len(tc.want), tc.wantErr)
			}
			// The end stays the end.
			if b, err := s.Read(1); len(b) != 0 || !errors.Is(err, tc.wantErr) {
				t.Fatalf("a read after the end gave %q, %v", b, err)
			}
			if !s.Subscribe().Ready() {
				t.Fatal("a stream at its end is not ready")
			}
		})
	}
}

type iotestErr struct{ err error }

func (r iotestErr) Read([]byte) (int, error) { return 0, r.err }

func TestReaderStreamReadZero(t *testing.T) {
	t.Parallel()
	s := NewReaderStream(strings.NewReader("abc"))
	defer s.Close()
	if err := Wait(context.Background(), s.Subscribe()); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Read(0); len(b) != 0 || err != nil {
		t.Fatalf("Read(0) gave %q, %v", b, err)
	}
	if b, _ := s.Read(3); string(b) != "abc" {
		t.Fatalf("the bytes after Read(0): %q", b)
	}
}

func TestReaderStreamWakes(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	s := NewReaderStream(pr)
	defer s.Close()
	p := s.Subscribe()
	if p.Ready() {
		t.Fatal("ready before anything was written")
	}
	if b, err := s.Read(10); len(b) != 0 || err != nil {
		t.Fatalf("a read before anything was written gave %q, %v", b, err)
	}
	ch := p.Wait()
	go pw.Write([]byte("late"))
	<-ch
	if !p.Ready() {
		t.Fatal("not ready after its channel closed")
	}
	if b, err := s.Read(10); string(b) != "late" || err != nil {
		t.Fatalf("read %q, %v", b, err)
	}
	pw.Close()
	if _, err := drain(t, s, 10); !errors.Is(err, io.EOF) {
		t.Fatalf("after the writer closed: %v", err)
	}
}

// countingReader is an endless reader of zeros that counts what it gave.
type countingReader struct{ n atomic.Int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	clear(p)
	r.n.Add(int64(len(p)))
	return len(p), nil
}

func TestReaderStreamBounded(t *testing.T) {
	t.Parallel()
	r := &countingReader{}
	s := NewReaderStream(r)
	defer s.Close()
	if err := Wait(context.Background(), s.Subscribe()); err != nil {
		t.Fatal(err)
	}
	for r.n.Load() < ReaderStreamBuffer {
		time.Sleep(time.Millisecond)
	}
	if n := r.n.Load(); n > ReaderStreamBuffer {
		t.Fatalf("read %d bytes ahead, more than %d", n, ReaderStreamBuffer)
	}
	// Taking bytes makes room for that many more.
	b, _ := s.Read(readerChunk)
	for r.n.Load() < ReaderStreamBuffer+int64(len(b)) {
		time.Sleep(time.Millisecond)
	}
	if n := r.n.Load(); n > ReaderStreamBuffer+int64(len(b)) {
		t.Fatalf("read %d bytes ahead after %d were taken", n, len(b))
	}
}

func TestReaderStreamClose(t *testing.T) {
	t.Parallel()
	s := NewReaderStream(strings.NewReader("never read"))
	s.Close()
	if b, err := s.Read(10); len(b) != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("a read of a closed stream gave %q, %v", b, err)
	}
	if !s.Subscribe().Ready() {
		t.Fatal("a closed stream is not ready")
	}
}

type flushErrWriter struct {
	bytes.Buffer
	flushes int
	err     error
}

func (w *flushErrWriter) Flush() error { w.flushes++; return w.err }

type flushWriter struct {
	bytes.Buffer
	flushes int
}

func (w *flushWriter) Flush() { w.flushes++ }

func TestWriterStream(t *testing.T) {
	t.Parallel()
	t.Run("writes and flushes", func(t *testing.T) {
		t.Parallel()
		var w flushErrWriter
		s := NewWriterStream(&w, 0)
		if n, err := s.CheckWrite(); n != DefaultWriteBudget || err != nil {
			t.Fatalf("CheckWrite gave %d, %v", n, err)
		}
		if err := s.Write([]byte("ab")); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(); err != nil || w.flushes != 1 {
			t.Fatalf("Flush gave %v after %d flushes", err, w.flushes)
		}
		if w.String() != "ab" || !s.Subscribe().Ready() {
			t.Fatalf("wrote %q", w.String())
		}
		s.Close()
		if w.String() != "ab" {
			t.Fatal("Close wrote")
		}
	})
	t.Run("a budget", func(t *testing.T) {
		t.Parallel()
		if n, _ := NewWriterStream(io.Discard, 10).CheckWrite(); n != 10 {
			t.Fatalf("CheckWrite gave %d", n)
		}
	})
	t.Run("flush without an error", func(t *testing.T) {
		t.Parallel()
		var w flushWriter
		if err := NewWriterStream(&w, 0).Flush(); err != nil || w.flushes != 1 {
			t.Fatalf("Flush gave %v after %d flushes", err, w.flushes)
		}
	})
	t.Run("a bufio.Writer is flushed", func(t *testing.T) {
		t.Parallel()
		var b bytes.Buffer
		bw := bufio.NewWriter(&b)
		s := NewWriterStream(bw, 0)
		s.Write([]byte("buffered"))
		if b.Len() != 0 {
			t.Fatal("bufio wrote early")
		}
		s.Flush()
		if b.String() != "buffered" {
			t.Fatalf("after Flush: %q", b.String())
		}
	})
	t.Run("the first error, then closed", func(t *testing.T) {
		t.Parallel()
		w := &flushErrWriter{err: errors.New("flush failed")}
		s := NewWriterStream(w, 0)
		if err := s.Flush(); err == nil || err.Error() != "flush failed" {
			t.Fatalf("Flush gave %v", err)
		}
		if _, err := s.CheckWrite(); !errors.Is(err, io.EOF) {
			t.Fatalf("CheckWrite after a failure gave %v", err)
		}
		if err := s.Write([]byte("x")); !errors.Is(err, io.EOF) {
			t.Fatalf("Write after a failure gave %v", err)
		}
	})
	t.Run("a failing write", func(t *testing.T) {
		t.Parallel()
		s := NewWriterStream(failingWriter{}, 0)
		if err := s.Write([]byte("x")); err == nil || errors.Is(err, io.EOF) {
			t.Fatalf("Write gave %v", err)
		}
		if err := s.Write([]byte("x")); !errors.Is(err, io.EOF) {
			t.Fatalf("the second Write gave %v", err)
		}
	})
}

func TestPollables(t *testing.T) {
	t.Parallel()
	if !ReadyPollable().Ready() || ReadyPollable().Wait() != nil {
		t.Fatal("ReadyPollable is not ready")
	}
	never := ChanPollable(nil)
	if never.Ready() || never.Wait() == nil {
		t.Fatal("ChanPollable(nil) is ready")
	}
	ch := make(chan struct{})
	p := ChanPollable(ch)
	if p.Ready() {
		t.Fatal("ready before its channel closed")
	}
	close(ch)
	if !p.Ready() {
		t.Fatal("not ready after its channel closed")
	}
	past := NewTimerPollable(0)
	if !past.Ready() {
		t.Fatal("a timer in the past is not ready")
	}
	<-past.Wait()
	soon := NewTimerPollable(MonotonicNow() + uint64(time.Millisecond))
	<-soon.Wait()
	if !soon.Ready() {
		t.Fatal("a timer is not ready after its channel closed")
	}
	later := NewTimerPollable(MonotonicNow() + uint64(time.Hour))
	later.Wait()
	later.(interface{ Close() }).Close()
	if later.Ready() {
		t.Fatal("a timer an hour away is ready")
	}
	if NewTimerPollable(1<<64 - 1).Ready() {
		t.Fatal("the end of time is ready")
	}
}

func TestPoll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	closed := make(chan struct{})
	close(closed)
	ready, never := ChanPollable(closed), ChanPollable(nil)
	for _, tc := range []struct {
		name string
		ps   []Pollable
		want []uint32
	}{
		{"one ready", []Pollable{ready}, []uint32{0}},
		{"some ready", []Pollable{never, ready, never, ReadyPollable()}, []uint32{1, 3}},
		{"all ready", []Pollable{ready, ready}, []uint32{0, 1}},
	} {
		got, err := Poll(ctx, tc.ps)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Poll gave %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := Poll(ctx, nil); err == nil {
		t.Error("Poll of nothing did not fail")
	}
	later := make(chan struct{})
	go close(later)
	if got, err := Poll(ctx, []Pollable{never, ChanPollable(later)}); err != nil || !reflect.DeepEqual(got, []uint32{1}) {
		t.Errorf("Poll waiting for a channel gave %v, %v", got, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Poll(cctx, []Pollable{never, never}); !errors.Is(err, context.Canceled) {
		t.Errorf("Poll with a cancelled context gave %v", err)
	}
	if err := Wait(cctx, never); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a cancelled context gave %v", err)
	}
}

// slowStream is an output stream accepting budget bytes at a time, whose
// flush takes until the test lets it end.
type slowStream struct {
	mu       sync.Mutex
	budget   uint64
	chunks   []string
	flushing chan struct{}
	flushes  int
}

func (s *slowStream) CheckWrite() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flushing != nil {
		select {
		case <-s.flushing:
			s.flushing = nil
		default:
			return 0, nil
		}
	}
	return s.budget, nil
}

func (s *slowStream) Write(p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if uint64(len(p)) > s.budget {
		return errors.New("more than allowed")
	}
	s.chunks = append(s.chunks, string(p))
	return nil
}

func (s *slowStream) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushes++
	ch := make(chan struct{})
	s.flushing = ch
	go close(ch)
	return nil
}

func (s *slowStream) Subscribe() Pollable {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flushing != nil {
		return ChanPollable(s.flushing)
	}
	return ReadyPollable()
}

func (s *slowStream) Close() {}

func TestBlockingWriteAndFlush(t *testing.T) {
	t.Parallel()
	s := &slowStream{budget: 3}
	res, err := blockingWriteAndFlush(context.Background(), s, []byte("hello world"), 0)
	if err != nil || res != (cabi.Result{}) {
		t.Fatalf("gave %v, %v", res, err)
	}
	if want := []string{"hel", "lo ", "wor", "ld"}; !reflect.DeepEqual(s.chunks, want) || s.flushes != 1 {
		t.Fatalf("wrote %q with %d flushes", s.chunks, s.flushes)
	}
	s = &slowStream{budget: 4}
	if _, err := blockingWriteAndFlush(context.Background(), s, nil, 10); err != nil {
		t.Fatal(err)
	}
	if want := []string{"\x00\x00\x00\x00", "\x00\x00\x00\x00", "\x00\x00"}; !reflect.DeepEqual(s.chunks, want) {
		t.Fatalf("wrote zeroes as %q", s.chunks)
	}
	// A stream that never accepts anything: the context ends the wait.
	stuck := &slowStream{budget: 3, flushing: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := blockingWriteAndFlush(ctx, stuck, []byte("x"), 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("a stuck stream gave %v", err)
	}
	res, err = blockingWriteAndFlush(context.Background(), NewWriterStream(failingWriter{}, 0), []byte("x"), 0)
	if err != nil || !res.(cabi.Result).Err || res.(cabi.Result).Value.(cabi.Variant).Case != 0 {
		t.Fatalf("a failing writer gave %v, %v", res, err)
	}
}

func TestSplice(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	dst := NewWriterStream(&out, 4)
	src := NewReaderStream(strings.NewReader("spliced bytes"))
	defer src.Close()
	var total uint64
	for {
		res, err := blockingSplice(context.Background(), dst, src, 100)
		if err != nil {
			t.Fatal(err)
		}
		r := res.(cabi.Result)
		if r.Err {
			if r.Value.(cabi.Variant).Case != 1 {
				t.Fatalf("splice ended with %v", r)
			}
			break
		}
		n := r.Value.(uint64)
		if n == 0 || n > 4 {
			t.Fatalf("a blocking splice moved %d bytes", n)
		}
		total += n
	}
	if out.String() != "spliced bytes" || total != uint64(out.Len()) {
		t.Fatalf("spliced %q, counted %d", out.String(), total)
	}
	if res, _ := splice(dst, src, 10); !res.(cabi.Result).Err {
		t.Fatalf("a splice from a finished stream gave %v", res)
	}
	if res, _ := splice(dst, src, 0); res != (cabi.Result{Value: uint64(0)}) {
		t.Fatalf("a splice of 0 bytes gave %v", res)
	}
}
