package runtimepool

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestStartTimeout: a start function that never returns is interrupted at
// Config.StartTimeout and New refuses the module with a message naming the
// timeout, with the inserted checks and with CloseOnContextDone, and so
// does a start section, which the rewrite turns into StartExport.
func TestStartTimeout(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		cfg        Config[any]
	}{
		{"interrupt global", "initloop.wasm", Config[any]{Isolates: 1, Interruptible: true, StartTimeout: 300 * time.Millisecond}},
		{"close on context done", "initloop.wasm", Config[any]{Isolates: 1, CloseOnContextDone: true, StartTimeout: 300 * time.Millisecond}},
		{"start section", "startsec.wasm", Config[any]{Isolates: 1, Interruptible: true, StartTimeout: 300 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := New(context.Background(), readWasm(t, tc.file), tc.cfg)
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
