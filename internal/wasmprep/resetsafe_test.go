package wasmprep

import (
	"strings"
	"testing"
)

// TestResetBlockers: what rewrite finds that keeps state outside memory and
// globals.
func TestResetBlockers(t *testing.T) {
	imports := func(entries ...[]byte) []byte { return sec(2, vec(entries...)...) }
	typeI := sec(1, 1, 0x60, 0, 0)
	fn := sec(3, 1, 0)
	body := func(code ...byte) []byte {
		f := append([]byte{0}, code...)
		return sec(10, append([]byte{1, byte(len(f))}, f...)...)
	}
	cases := []struct {
		name string
		in   []byte
		want string // a part of the blocker; "" for none
	}{
		{"memory and globals only", module(typeI, fn, mem1, sec(6, 1, 0x7E, 0x01, 0x42, 0x00, 0x0B), body(0x0B)), ""},
		{"ABI and stateless WASI imports",
			module(typeI, imports(importEntry("http_handler", "log", 0, 0), importEntry("wasi_snapshot_preview1", "fd_write", 0, 0),
				importEntry("wasi_snapshot_preview1", "random_get", 0, 0)), mem1), ""},
		{"path_open", module(typeI, imports(importEntry("wasi_snapshot_preview1", "path_open", 0, 0)), mem1),
			"wasi_snapshot_preview1.path_open"},
		{"another host module", module(typeI, imports(importEntry("env", "f", 0, 0)), mem1), "env.f"},
		{"imported memory", module(imports(importEntry("env", "m", 2, 0, 1))), "imports its memory"},
		{"imported table", module(imports(importEntry("env", "t", 1, 0x70, 0, 1)), mem1), "imports a table"},
		{"imported mutable global", module(imports(importEntry("env", "g", 3, 0x7F, 1)), mem1), "mutable global"},
		{"imported constant global", module(imports(importEntry("env", "g", 3, 0x7F, 0)), mem1), ""},
		{"mutable funcref global", module(mem1, sec(6, 1, 0x70, 0x01, 0xD0, 0x70, 0x0B)), "global 0"},
		{"shared memory", module(sec(5, 1, 0x03, 1, 1)), "shared memory"},
		{"two memories", module(sec(5, 2, 0, 1, 0, 1)), "more than one memory"},
		{"table.set", module(typeI, fn, mem1, body(0x41, 0, 0xD0, 0x70, 0x26, 0, 0x0B)), "table.set"},
		{"table.grow", module(typeI, fn, mem1, body(0xD0, 0x70, 0x41, 1, 0xFC, 15, 0, 0x1A, 0x0B)), "table.grow"},
		{"data.drop", module(typeI, fn, mem1, body(0xFC, 9, 0, 0x0B)), "data.drop"},
		{"memory.fill is fine", module(typeI, fn, mem1, body(0x41, 0, 0x41, 0, 0x41, 0, 0xFC, 11, 0, 0x0B)), ""},
	}
	t.Run("host module not declared reset-safe", func(t *testing.T) {
		_, info, err := parseRewrite(module(typeI, imports(importEntry("http_handler", "log", 0, 0)), mem1), false)
		if err != nil {
			t.Fatal(err)
		}
		if got := HostResetBlocker(info.HostImports, nil); !strings.Contains(got, "http_handler.log") {
			t.Errorf("blocker %q, want one naming http_handler.log", got)
		}
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, info, err := parseRewrite(c.in, false)
			if err != nil {
				t.Fatal(err)
			}
			got := info.ResetBlocker
			if got == "" {
				got = HostResetBlocker(info.HostImports, []string{"http_handler"})
			}
			if c.want == "" && got != "" || !strings.Contains(got, c.want) {
				t.Errorf("blocker %q, want %q", got, c.want)
			}
		})
	}
}

// TestResetSafeWASIFunction: a WASI function the package does not know to
// be reset-safe blocks resets unless the caller names it, by its own name
// ("wasi_snapshot_preview1" alone does not clear every WASI function).
func TestResetSafeWASIFunction(t *testing.T) {
	imports := []string{"wasi_snapshot_preview1.fd_close", "http_handler.log"}
	cases := []struct {
		name string
		safe []string
		want string
	}{
		{"none named", nil, "wasi_snapshot_preview1.fd_close"},
		{"the WASI module named", []string{"wasi_snapshot_preview1", "http_handler"}, "wasi_snapshot_preview1.fd_close"},
		{"the function named", []string{"wasi_snapshot_preview1.fd_close"}, "http_handler.log"},
		{"both named", []string{"wasi_snapshot_preview1.fd_close", "http_handler"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := HostResetBlocker(imports, c.safe)
			if c.want == "" && got != "" || !strings.Contains(got, c.want) {
				t.Errorf("blocker %q, want one naming %q", got, c.want)
			}
		})
	}
	_, info, err := parseRewrite(readWasm(t, "command.wasm"), false)
	if err != nil {
		t.Fatal(err)
	}
	if info.ResetBlocker != "" || len(info.HostImports) != 1 || info.HostImports[0] != "wasi_snapshot_preview1.fd_read" {
		t.Errorf("command.wasm: blocker %q, host imports %v: want fd_read left to the caller", info.ResetBlocker, info.HostImports)
	}
}
