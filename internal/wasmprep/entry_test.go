package wasmprep

import (
	"bytes"
	"os"
	"reflect"
	"testing"
)

// TestSourceSumCoversRewriter: the source SourceSum hashes includes the
// rewriter as it is on disk.
func TestSourceSumCoversRewriter(t *testing.T) {
	want, err := os.ReadFile("rewrite.go")
	if err != nil {
		t.Fatal(err)
	}
	got, err := source.ReadFile("rewrite.go")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the embedded rewrite.go differs from the file (err %v)", err)
	}
}

// TestEntry: an entry splits back into what made it, and one with a byte
// changed, cut short or with an info length beyond it does not split.
func TestEntry(t *testing.T) {
	code := []byte("\x00asm code")
	info := Info{Globals: []string{"g"}, HostImports: []string{"env.f"}, ResetBlocker: "why"}
	trailer, err := EntryTrailer(code, info)
	if err != nil {
		t.Fatal(err)
	}
	entry := append(bytes.Clone(code), trailer...)
	gotCode, gotInfo, ok := SplitEntry(entry)
	if !ok || !bytes.Equal(gotCode, code) || !reflect.DeepEqual(gotInfo, info) {
		t.Fatalf("split %v: %q %+v, want %q %+v", ok, gotCode, gotInfo, code, info)
	}
	for i := range entry {
		damaged := bytes.Clone(entry)
		damaged[i] ^= 1
		if _, _, ok := SplitEntry(damaged); ok {
			t.Fatalf("an entry with byte %d changed splits", i)
		}
	}
	if _, _, ok := SplitEntry(entry[:7]); ok {
		t.Error("an entry shorter than its trailer splits")
	}
}

// TestRewriteKey: a key names one module, with or without checks, and
// changes with this package's source.
func TestRewriteKey(t *testing.T) {
	spin, err := Parse(readWasm(t, "spin.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := Parse(readWasm(t, "rw_mvp.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	key := spin.RewriteKey(true)
	if key == other.RewriteKey(true) {
		t.Error("two modules share a key")
	}
	if key == spin.RewriteKey(false) {
		t.Error("the rewrites with and without checks share a key")
	}
	old := sourceSum
	defer func() { sourceSum = old }()
	sourceSum = func() [32]byte { // as if the package had changed
		sum := old()
		sum[0]++
		return sum
	}
	if spin.RewriteKey(true) == key {
		t.Error("the key outlives a change of the package's source")
	}
}
