package executor

import (
	"testing"
	"time"
)

// TestOutputLimiter drives the token bucket with a fake clock.
func TestOutputLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := NewOutputLimiter(10) // 10 lines a second, bursts of 20
	l.now = func() time.Time { return now }
	allowed := 0
	for range 100 {
		if ok, _ := l.Allow(); ok {
			allowed++
		}
	}
	if allowed != 20 {
		t.Errorf("burst let %d lines through, want 20", allowed)
	}
	now = now.Add(time.Second)
	ok, dropped := l.Allow()
	if !ok || dropped != 80 {
		t.Errorf("after a second: ok %v, dropped %d; want true, 80", ok, dropped)
	}
	unlimited := NewOutputLimiter(-1)
	for range 1000 {
		if ok, _ := unlimited.Allow(); !ok {
			t.Fatal("an unlimited limiter dropped a line")
		}
	}
}
