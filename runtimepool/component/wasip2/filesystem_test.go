package wasip2

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// fsTree makes a preopen's directory: hello.txt, sub/deep.txt, and a
// secret beside the directory that a symbolic link inside points at.
func fsTree(t *testing.T) string {
	t.Helper()
	top := t.TempDir()
	dir := filepath.Join(top, "pre")
	for _, f := range []struct{ name, body string }{
		{"pre/hello.txt", "hello, file"},
		{"pre/sub/deep.txt", "deep"},
		{"secret.txt", "do not read"},
	} {
		p := filepath.Join(top, f.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../secret.txt", filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("hello.txt", filepath.Join(dir, "alias")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func ok(v any) cabi.Result         { return cabi.Result{Value: v} }
func fail(code string) cabi.Result { return fsErr(labelIndex(FilesystemErrorCodeType, code)) }

func TestGuestFilesystemRead(t *testing.T) {
	t.Parallel()
	dir := fsTree(t)
	g := loadGuest(t, "fs", Config{Dirs: []Dir{{HostPath: dir, GuestPath: "/data"}}})
	for _, tc := range []struct {
		path string
		want cabi.Result
	}{
		{"hello.txt", ok([]any{[]byte("hello, file"), true})},
		{"sub/deep.txt", ok([]any{[]byte("deep"), true})},
		{"./sub/../hello.txt", ok([]any{[]byte("hello, file"), true})},
		{"alias", ok([]any{[]byte("hello, file"), true})},
		{"missing.txt", fail("no-entry")},
		{"../secret.txt", fail("not-permitted")},
		{"sub/../../secret.txt", fail("not-permitted")},
		{"/etc/passwd", fail("not-permitted")},
		{"escape", fail("not-permitted")},
		{"sub", fail("is-directory")},
		{"hello.txt/x", fail("not-directory")},
	} {
		if got := g.call("read-file", tc.path); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("read-file %q: got %v, want %v", tc.path, got, tc.want)
		}
	}
	if got := g.call("preopens"); !reflect.DeepEqual(got, []any{"/data"}) {
		t.Errorf("preopens %v", got)
	}
	names := g.call("list").([]any)
	slices.SortFunc(names, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
	if want := []any{"alias", "escape", "hello.txt", "sub"}; !reflect.DeepEqual(names, want) {
		t.Errorf("list gave %v, want %v", names, want)
	}
	for _, tc := range []struct {
		path string
		want cabi.Result
	}{
		{"hello.txt", ok(uint64(11))},
		{"sub/deep.txt", ok(uint64(4))},
		{"nope", fail("no-entry")},
		{"../secret.txt", fail("not-permitted")},
	} {
		if got := g.call("size", tc.path); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("size %q: got %v, want %v", tc.path, got, tc.want)
		}
	}
	for _, tc := range []struct {
		path string
		want cabi.Result
	}{
		{"hello.txt", ok(uint32(6))},
		{"sub", ok(uint32(3))},
		{".", ok(uint32(3))},
		{"..", fail("not-permitted")},
	} {
		if got := g.call("kind", tc.path); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("kind %q: got %v, want %v", tc.path, got, tc.want)
		}
	}
	h1, h2, h3 := g.call("hash", "hello.txt"), g.call("hash", "alias"), g.call("hash", "sub/deep.txt")
	if h1 == uint64(0) || h1 != h2 || h1 == h3 {
		t.Errorf("metadata hashes: hello.txt %v, alias to it %v, another file %v", h1, h2, h3)
	}
}

func TestGuestFilesystemCat(t *testing.T) {
	t.Parallel()
	dir := fsTree(t)
	big := strings.Repeat("abcdefgh", 40000)
	if err := os.WriteFile(filepath.Join(dir, "big.txt"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	g := loadGuest(t, "fs", Config{Stdout: &out, Dirs: []Dir{{HostPath: dir, GuestPath: "/"}}})
	if got := g.call("cat", "big.txt"); !reflect.DeepEqual(got, ok(uint64(len(big)))) {
		t.Fatalf("cat answered %v", got)
	}
	if out.String() != big {
		t.Fatalf("stdout got %d bytes, want %d", len(out.String()), len(big))
	}
	if got := g.call("cat", "../secret.txt"); !reflect.DeepEqual(got, fail("not-permitted")) {
		t.Fatalf("cat of an escape answered %v", got)
	}
}

func TestGuestFilesystemWrite(t *testing.T) {
	t.Parallel()
	dir := fsTree(t)
	g := loadGuest(t, "fs", Config{Dirs: []Dir{{HostPath: dir, GuestPath: "/"}}})
	steps := []struct {
		export string
		args   []any
		want   cabi.Result
	}{
		{"write-file", []any{"new.txt", []byte("fresh")}, ok(uint64(5))},
		{"append", []any{"new.txt", []byte(" and more")}, ok(nil)},
		{"write-file", []any{"../outside.txt", []byte("x")}, fail("not-permitted")},
		{"write-file", []any{"escape", []byte("x")}, fail("not-permitted")},
		{"mkdir", []any{"made"}, ok(nil)},
		{"mkdir", []any{"made"}, fail("exist")},
		{"mkdir", []any{"../made"}, fail("not-permitted")},
		{"write-file", []any{"made/inner.txt", []byte("in")}, ok(uint64(2))},
		{"rmdir", []any{"made"}, fail("not-empty")},
		{"unlink", []any{"made"}, fail("is-directory")},
		{"rmdir", []any{"new.txt"}, fail("not-directory")},
		{"unlink", []any{"made/inner.txt"}, ok(nil)},
		{"rmdir", []any{"made"}, ok(nil)},
		{"unlink", []any{"../secret.txt"}, fail("not-permitted")},
		{"unlink", []any{"gone"}, fail("no-entry")},
	}
	for _, s := range steps {
		if got := g.call(s.export, s.args...); !reflect.DeepEqual(got, s.want) {
			t.Fatalf("%s %v: got %v, want %v", s.export, s.args[0], got, s.want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "new.txt")); err != nil || string(b) != "fresh and more" {
		t.Fatalf("new.txt holds %q (%v)", b, err)
	}
	if b, _ := os.ReadFile(filepath.Join(filepath.Dir(dir), "secret.txt")); string(b) != "do not read" {
		t.Fatalf("the secret beside the preopen was changed: %q", b)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "outside.txt")); err == nil {
		t.Fatal("a file was created outside the preopen")
	}
}

func TestGuestFilesystemReadOnly(t *testing.T) {
	t.Parallel()
	dir := fsTree(t)
	g := loadGuest(t, "fs", Config{Dirs: []Dir{{HostPath: dir, GuestPath: "/", ReadOnly: true}}})
	for _, s := range []struct {
		export string
		args   []any
	}{
		{"write-file", []any{"new.txt", []byte("x")}},
		{"write-file", []any{"hello.txt", []byte("x")}},
		{"append", []any{"hello.txt", []byte("x")}},
		{"mkdir", []any{"made"}},
		{"rmdir", []any{"sub"}},
		{"unlink", []any{"hello.txt"}},
	} {
		if got := g.call(s.export, s.args...); !reflect.DeepEqual(got, fail("read-only")) {
			t.Errorf("%s %v on a read-only directory: got %v", s.export, s.args[0], got)
		}
	}
	if got := g.call("read-file", "hello.txt"); !reflect.DeepEqual(got, ok([]any{[]byte("hello, file"), true})) {
		t.Errorf("reading in a read-only directory: %v", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "hello.txt")); string(b) != "hello, file" {
		t.Fatalf("hello.txt was changed: %q", b)
	}
}

func TestGuestFilesystemNoPreopens(t *testing.T) {
	t.Parallel()
	g := loadGuest(t, "fs", Config{})
	if got := g.call("preopens"); !reflect.DeepEqual(got, []any{}) {
		t.Fatalf("preopens without Config.Dirs: %v", got)
	}
}

func TestDefineMissingDir(t *testing.T) {
	t.Parallel()
	var h component.Host
	err := Define(&h, Config{Dirs: []Dir{{HostPath: filepath.Join(t.TempDir(), "nope"), GuestPath: "/"}}})
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("a missing directory gave %v", err)
	}
}
