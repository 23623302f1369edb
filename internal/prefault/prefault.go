// Package prefault makes byte slices whose memory the kernel maps in advance,
// in one system call, instead of one page fault at a time as each page is
// first written.
//
// A page fault is cheap on bare metal but costs 10–20 µs in some virtual
// machines, where reading a 5 MB module into a fresh slice spends more time
// faulting than copying. Start-up allocates tens of megabytes once, so it
// asks for them up front. Elsewhere than Linux, and on Linux before 5.14,
// the slices are ordinary ones.
package prefault

import (
	"errors"
	"io"
	"os"
)

// minBytes is the size below which mapping in advance is not worth a
// system call.
const minBytes = 64 << 10

// Make returns make([]byte, n, c) with its memory already mapped.
func Make(n, c int) []byte {
	b := make([]byte, n, c)
	populate(b[:c])
	return b
}

// ReadFile reads the named file like os.ReadFile, into a slice made with
// Make.
func ReadFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := 0
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && int64(int(st.Size())) == st.Size() {
		size = int(st.Size())
	}
	// One byte more than the size, so that a file read whole sees EOF
	// without growing the slice.
	b := Make(0, size+1)
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // the file grew: let append pick a size
		}
	}
}
