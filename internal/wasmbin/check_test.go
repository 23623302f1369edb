package wasmbin

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// mod is a module header followed by sections.
func mod(sections ...string) []byte {
	return []byte("\x00asm\x01\x00\x00\x00" + strings.Join(sections, ""))
}

func TestCheckRefuses(t *testing.T) {
	tests := []struct {
		name string
		wasm []byte
		want string // in the message
	}{
		{"15 bytes declaring 2^32-1 imports", []byte("\x00asm\x01\x00\x00\x00\x02\x05\xff\xff\xff\xff\x0f"),
			"import section, offset 10: import count 4294967295 exceeds the 0 bytes left in the section"},
		{"no magic", []byte("\x00wasm\x01\x00\x00"), "no \\0asm magic"},
		{"short", []byte("\x00as"), "no \\0asm magic"},
		{"version", []byte("\x00asm\x02\x00\x00\x00"), "unsupported binary version"},
		{"section overruns the module", mod("\x01\x10\x00"), "type section, offset 9: section size 16 overruns the module by 15 bytes"},
		{"section size too long", mod("\x01\x80\x80\x80\x80\x80\x01"), "section size: integer too long"},
		{"unknown id", mod("\x0e\x00"), "unknown section id 14"},
		{"twice", mod("\x03\x01\x00", "\x03\x01\x00"), "appears twice"},
		{"out of order", mod("\x03\x01\x00", "\x01\x01\x00"), "out of order"},
		{"type count", mod("\x01\x02\x05\x60"), "type count 5 exceeds the 1 bytes left"},
		{"param count", mod("\x01\x05\x01\x60\xff\xff\x03"), "type 0: parameter count 65535 exceeds the 0 bytes left"},
		{"import name", mod("\x02\x06\x01\xff\xff\xff\xff\x0f"), "import 0: module name length 4294967295 exceeds the 0 bytes left"},
		{"function count", mod("\x03\x02\x09\x00"), "function count 9 exceeds the 1 bytes left"},
		{"memory count", mod("\x05\x02\x02\x00"), "memory count 2 exceeds the 1 bytes left"},
		{"export name", mod("\x07\x03\x01\x7f\x00"), "export 0: name length 127 exceeds the 1 bytes left"},
		{"element vector", mod("\x09\x07\x01\x00\x41\x00\x0b\xff\x01"), "element segment 0: function index count 255 exceeds"},
		{"data contents", mod("\x0b\x06\x01\x00\x41\x00\x0b\x7f"), "data segment 0: contents length 127 exceeds"},
		{"code size", mod("\x0a\x03\x01\x7f\x00"), "function body 0: function size 127 exceeds the 1 bytes left"},
		{"locals", mod("\x0a\x09\x01\x07\x01\xff\xff\xff\xff\x0f\x7f"), "function body 0: local declaration 0: the function declares 4294967295 or more locals, above the limit of 50000"},
		{"name section function names", mod("\x00\x09\x04name\x01\x02\x7f\x00"), `custom "name" section, offset 17: function name count 127 exceeds`},
		{"custom name length", mod("\x00\x02\x7f\x00"), "custom section name: the section ends before it"},
		{"trailing bytes", mod("\x03\x02\x00\x00"), "1 bytes after the section's last entry"},
		{"global initialiser", mod("\x06\x04\x01\x7f\x00\x41"), "global 0: constant expression: the section ends before it"},
		{"unknown value type", mod("\x01\x04\x01\x60\x01\x01"), "type 0: parameter 0: unknown value type 0x01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.wasm)
			if err == nil {
				t.Fatal("Check accepted the module")
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T, want *FormatError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q spans lines", err)
			}
		})
	}
}

// TestCheckAcceptsFixtures runs the check over every committed core module
// of the repository: none of them is malformed. Components have checks of
// their own (runtimepool/component/binary).
func TestCheckAcceptsFixtures(t *testing.T) {
	files, _ := filepath.Glob("../../*/testdata/*.wasm")
	more, _ := filepath.Glob("../../guest-examples/*/*.wasm")
	files = append(files, more...)
	if len(files) < 5 {
		t.Fatalf("found only %d fixtures", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if format, _ := DetectFormat(b); format == FormatComponent {
			continue
		}
		if err := Check(b); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestCheckAcceptsGoGuests: the Go toolchain's modules (a name section,
// thousands of functions) pass.
func TestCheckAcceptsGoGuests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go guests")
	}
	for _, name := range []string{"hello", "echo"} {
		if err := Check(testguest.Read(t, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestMain(m *testing.M) { os.Exit(testguest.Main(m)) }

// FuzzCheck: no input panics the pre-check, and an accepted module's every
// section splits again the same way.
func FuzzCheck(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x02\x05\xff\xff\xff\xff\x0f"))
	files, _ := filepath.Glob("../../*/testdata/*.wasm")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, wasm []byte) {
		if Check(wasm) != nil {
			return
		}
		if _, err := Sections(wasm); err != nil {
			t.Fatalf("Check accepts the module but Sections refuses it: %v", err)
		}
	})
}
