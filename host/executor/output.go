package executor

import (
	"bytes"
	"log/slog"
	"sync"
	"time"

	"github.com/wasmserve/wasmserve/internal/logsafe"
)

// LineWriter turns guest output into log lines tagged with the isolate and
// the stream, within the rate its OutputLimiter allows.
type LineWriter struct {
	log    *slog.Logger
	limit  *OutputLimiter
	mu     sync.Mutex
	buf    []byte
	attrs  []any
	stream string
}

// NewLineWriter returns the writer of one isolate's stream ("stdout",
// "stderr") that logs to l within limit.
func NewLineWriter(l *slog.Logger, limit *OutputLimiter, id, stream string) *LineWriter {
	return &LineWriter{log: l, limit: limit, stream: stream, attrs: []any{"isolate", id, "stream", stream}}
}

// SetRequest tags the lines from now on with a request id, after logging
// what is left of the previous request's last line.
func (w *LineWriter) SetRequest(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit()
	}
	if len(w.attrs) == 4 {
		w.attrs = append(w.attrs, "request_id", id)
	}
	w.attrs[5] = id
}

// Flush logs a partial last line.
func (w *LineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit()
	}
}

// maxLine bounds a buffered partial line; longer ones are logged in pieces.
const maxLine = 4096

// Write logs every complete line of p and buffers the rest. It never fails,
// so that a guest's write never sees an error because of logging.
func (w *LineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			if len(w.buf) >= maxLine {
				w.emit()
			}
			break
		}
		w.buf = append(w.buf, p[:i]...)
		w.emit()
		p = p[i+1:]
	}
	return n, nil
}

func (w *LineWriter) emit() {
	line := logsafe.Escape(bytes.TrimRight(w.buf, "\r"), maxLine)
	w.buf = w.buf[:0]
	ok, dropped := w.limit.Allow()
	if dropped > 0 {
		w.log.Warn("guest output over the rate limit was dropped", "lines", dropped)
	}
	if ok {
		w.log.Info("guest "+w.stream+": "+line, w.attrs...)
	}
}

// DefaultOutputRate is the guest output rate, in lines a second, of an
// OutputLimiter made with rate 0.
const DefaultOutputRate = 100

// OutputLimiter is a token bucket shared by every isolate of a handler: rate
// lines a second, bursts of twice that. Lines beyond it are dropped, counted,
// and the count is logged with the next line let through.
type OutputLimiter struct {
	mu      sync.Mutex
	rate    float64 // tokens a second; 0 means unlimited
	burst   float64
	tokens  float64
	last    time.Time
	dropped int
	now     func() time.Time
}

// NewOutputLimiter returns a limiter of rate lines a second: 0 means
// DefaultOutputRate, negative means unlimited.
func NewOutputLimiter(rate float64) *OutputLimiter {
	switch {
	case rate == 0:
		rate = DefaultOutputRate
	case rate < 0:
		rate = 0
	}
	return &OutputLimiter{rate: rate, burst: 2 * rate, tokens: 2 * rate, now: time.Now}
}

// Allow takes a token for one line. It reports whether the line may be
// logged and, when it may, how many lines were dropped since the last one
// let through.
func (l *OutputLimiter) Allow() (ok bool, dropped int) {
	if l.rate == 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens < 1 {
		l.dropped++
		return false, 0
	}
	l.tokens--
	dropped, l.dropped = l.dropped, 0
	return true, dropped
}
