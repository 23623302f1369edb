package runtimepool

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestStartTimeout: a start function that never returns is interrupted at
// Config.StartTimeout and New refuses the module with a message naming the
// timeout, with the inserted checks and with CloseOnContextDone.
func TestStartTimeout(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config[any]
	}{
		{"interrupt global", Config[any]{Isolates: 1, Interruptible: true, StartTimeout: 300 * time.Millisecond}},
		{"close on context done", Config[any]{Isolates: 1, CloseOnContextDone: true, StartTimeout: 300 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := New(context.Background(), readWasm(t, "initloop.wasm"), tc.cfg)
			took := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), "ran past the start timeout of 300ms") {
				t.Fatalf("err %v, want the start timeout", err)
			}
			if took > 10*time.Second {
				t.Errorf("refused after %v, long past the 300ms timeout", took)
			}
		})
	}
}
