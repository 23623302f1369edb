package wasip2

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// preopened returns a descriptor of a preopen on dir, as get-directories
// gives it.
func preopened(t *testing.T, dir string, readOnly bool) *descriptor {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return &descriptor{root: root, shared: true, readOnly: readOnly, flags: flagRead | flagMutateDirectory}
}

func code(err error) string {
	if err == nil {
		return "ok"
	}
	return FilesystemErrorCodeType.Labels[errorCode(err)]
}

func TestDescriptorOpenAt(t *testing.T) {
	t.Parallel()
	dir := fsTree(t)
	d := preopened(t, dir, false)
	for _, tc := range []struct {
		name          string
		pathFlags     uint32
		path          string
		oflags, flags uint32
		want          string
	}{
		{"a file", pathSymlinkFollow, "hello.txt", 0, flagRead, "ok"},
		{"a link followed", pathSymlinkFollow, "alias", 0, flagRead, "ok"},
		{"a link not followed", 0, "alias", 0, flagRead, "loop"},
		{"a link out", pathSymlinkFollow, "escape", 0, flagRead, "not-permitted"},
		{"a directory", 0, "sub", 0, flagRead, "ok"},
		{"a directory for writing", 0, "sub", 0, flagWrite, "is-directory"},
		{"a file as a directory", 0, "hello.txt", openDirectory, flagRead, "not-directory"},
		{"created", 0, "new.txt", openCreate, flagWrite, "ok"},
		{"created exclusively twice", 0, "new.txt", openCreate | openExclusive, flagWrite, "exist"},
		{"created exclusively", 0, "other.txt", openCreate | openExclusive, flagWrite, "ok"},
		{"a directory created", 0, "newdir", openCreate | openDirectory, flagRead, "invalid"},
		{"missing", 0, "nope", 0, flagRead, "no-entry"},
		{"empty", 0, "", 0, flagRead, "no-entry"},
		{"absolute", 0, "/etc", 0, flagRead, "not-permitted"},
		{"up", 0, "..", 0, flagRead, "not-permitted"},
		{"a NUL", 0, "a\x00b", 0, flagRead, "not-permitted"},
	} {
		nd, err := d.openAt(tc.pathFlags, tc.path, tc.oflags, tc.flags)
		if got := code(err); got != tc.want {
			t.Errorf("%s: open-at %q gave %s, want %s", tc.name, tc.path, got, tc.want)
		}
		if nd != nil {
			nd.close()
		}
	}
	f, err := d.openAt(0, "hello.txt", 0, flagRead)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	if _, err := f.openAt(0, "x", 0, flagRead); code(err) != "not-directory" {
		t.Errorf("open-at on a file gave %v", err)
	}
	if _, err := f.file.Write([]byte("x")); code(err) != "bad-descriptor" {
		t.Errorf("writing a file opened for reading gave %s", code(err))
	}
	sub, err := d.openAt(0, "sub", 0, flagRead)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.close()
	if _, err := sub.openAt(pathSymlinkFollow, "../hello.txt", 0, flagRead); code(err) != "not-permitted" {
		t.Errorf("climbing out of a subdirectory's descriptor gave %v", err)
	}
	deep, err := sub.openAt(0, "deep.txt", 0, flagRead)
	if err != nil {
		t.Fatal(err)
	}
	deep.close()
}

func TestDescriptorChanges(t *testing.T) {
	t.Parallel()
	dir := fsTree(t)
	d := preopened(t, dir, false)
	sub, err := d.openAt(0, "sub", 0, flagRead|flagMutateDirectory)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.close()
	other := preopened(t, dir, false) // another handle on the same preopen
	steps := []struct {
		name string
		err  error
		want string
	}{
		{"rename", d.twoPaths("hello.txt", other, "renamed.txt", d.root.Rename), "ok"},
		{"rename across descriptors", d.twoPaths("renamed.txt", sub, "x.txt", d.root.Rename), "cross-device"},
		{"rename out", d.twoPaths("renamed.txt", d, "../x.txt", d.root.Rename), "not-permitted"},
		{"link", d.twoPaths("renamed.txt", d, "linked.txt", d.root.Link), "ok"},
		{"symlink", func() error { return d.root.Symlink("renamed.txt", "sym") }(), "ok"},
		{"times", d.setTimesAt(pathSymlinkFollow, "renamed.txt",
			cabi.Variant{Case: 2, Value: []any{uint64(1000), uint32(0)}},
			cabi.Variant{Case: 2, Value: []any{uint64(2000), uint32(0)}}), "ok"},
		{"times unchanged", d.setTimesAt(pathSymlinkFollow, "renamed.txt", cabi.Variant{}, cabi.Variant{}), "ok"},
		{"remove a file as a directory", d.removeAt("renamed.txt", true), "not-directory"},
		{"remove a directory as a file", d.removeAt("sub", false), "is-directory"},
	}
	for _, s := range steps {
		if got := code(s.err); got != s.want {
			t.Errorf("%s gave %s (%v), want %s", s.name, got, s.err, s.want)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "linked.txt"))
	if err != nil || fi.ModTime().Unix() != 2000 {
		t.Fatalf("the link to the renamed file: %v, %v", fi, err)
	}
	if target, err := d.root.Readlink("sym"); err != nil || target != "renamed.txt" {
		t.Fatalf("readlink gave %q, %v", target, err)
	}
	ro := preopened(t, dir, true)
	for _, err := range []error{
		ro.twoPaths("renamed.txt", ro, "x", ro.root.Rename),
		ro.removeAt("renamed.txt", false),
		ro.setTimesAt(0, "renamed.txt", cabi.Variant{Case: 1}, cabi.Variant{Case: 1}),
		func() error { _, err := ro.openAt(0, "renamed.txt", openTruncate, flagRead); return err }(),
		func() error { _, err := ro.openAt(0, "renamed.txt", 0, flagWrite); return err }(),
	} {
		if code(err) != "read-only" {
			t.Errorf("a change in a read-only directory gave %v", err)
		}
	}
}

func TestErrorCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "open", Path: "x", Err: syscall.ENOENT}, "no-entry"},
		{&fs.PathError{Op: "open", Path: "x", Err: syscall.EEXIST}, "exist"},
		{&fs.PathError{Op: "open", Path: "x", Err: syscall.ENOTEMPTY}, "not-empty"},
		{&fs.PathError{Op: "open", Path: "x", Err: syscall.EACCES}, "access"},
		{&fs.PathError{Op: "open", Path: "x", Err: syscall.EPERM}, "not-permitted"},
		{&fs.PathError{Op: "open", Path: "x", Err: errors.New("path escapes from parent")}, "not-permitted"},
		{fs.ErrNotExist, "no-entry"},
		{os.ErrClosed, "bad-descriptor"},
		{fsError(ecReadOnly), "read-only"},
		{errors.New("something else"), "io"},
	} {
		if got := code(tc.err); got != tc.want {
			t.Errorf("%v mapped to %s, want %s", tc.err, got, tc.want)
		}
	}
}

func TestStatValue(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Unix(1234567890, 5)
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	v := statValue(fi)
	if v[0] != uint32(6) || v[2] != uint64(5) {
		t.Fatalf("stat %v", v)
	}
	if want := (cabi.Option{Some: true, Value: []any{uint64(1234567890), uint32(5)}}); !reflect.DeepEqual(v[4], want) {
		t.Fatalf("modification time %v", v[4])
	}
}
