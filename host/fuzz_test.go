package host

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/host/executor/httpwasm"
	"github.com/wasmserve/wasmserve/host/ext/outbound"
	"github.com/wasmserve/wasmserve/internal/testguest"
	"github.com/wasmserve/wasmserve/internal/wasmbin"
	"github.com/wasmserve/wasmserve/internal/wasmprep"
)

// fuzzChildEnv, set, makes the test binary FuzzServePath's child: it reads
// modules from stdin and runs each through servePath.
const fuzzChildEnv = "WASMSERVE_FUZZ_CHILD"

// The child's limits: a soft heap goal for the garbage collector and a hard
// cap on its address space (RLIMIT_AS). An input that makes the child ask
// for more dies as a failed child, which the parent reports with the input.
const (
	fuzzHeapLimit    = 1 << 30
	fuzzAddressSpace = 16 << 30 // wazero's compiler and Go's heap reserve address space freely
	fuzzInputTimeout = 30 * time.Second
)

// servePath runs wasm through what serve does before instantiating: the
// structural pre-check, the interrupt rewrite (refusing what it cannot
// read), wazero's CompileModule (of the module as it is when the rewrite
// declined it or was refused by wazero) and the ABI's validation.
func servePath(ctx context.Context, rt wazero.Runtime, wasm []byte) error {
	if err := CheckModule(wasm); err != nil {
		return err
	}
	code, err := wasmprep.RewriteInterruptible(wasm)
	var fe *wasmbin.FormatError
	switch {
	case errors.As(err, &fe):
		return err
	case err != nil:
		code = wasm
	}
	cm, err := rt.CompileModule(ctx, code)
	if err != nil {
		if cm, err = rt.CompileModule(ctx, wasm); err != nil {
			return err
		}
	}
	defer cm.Close(ctx)
	return httpwasm.Validate(cm, serveExtensions())
}

// serveExtensions are the import checkers of the extensions serve offers
// every guest (outbound HTTP), which the ABI's validation lets a module
// import.
var serveExtensions = sync.OnceValue(func() []executor.ImportChecker {
	ob, err := outbound.New(outbound.Config{}, nil)
	if err != nil {
		panic(err)
	}
	return []executor.ImportChecker{ob}
})

// fuzzChild is the child's main: it limits its memory, then for each
// length-prefixed module on stdin runs servePath and answers one byte.
func fuzzChild() int {
	debug.SetMemoryLimit(fuzzHeapLimit)
	if !raceEnabled {
		lim := syscall.Rlimit{Cur: fuzzAddressSpace, Max: fuzzAddressSpace}
		if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
			fmt.Fprintln(os.Stderr, "fuzz child: setrlimit:", err)
			return 3
		}
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	in, out := bufio.NewReader(os.Stdin), bufio.NewWriter(os.Stdout)
	var n [4]byte
	for {
		if _, err := io.ReadFull(in, n[:]); err != nil {
			return 0 // the parent closed the pipe
		}
		wasm := make([]byte, binary.LittleEndian.Uint32(n[:]))
		if _, err := io.ReadFull(in, wasm); err != nil {
			return 3
		}
		servePath(ctx, rt, wasm) // an error is a refusal, which is fine
		out.WriteByte(0)
		out.Flush()
	}
}

// fuzzParent is the child process of one fuzzing worker, restarted after
// an input kills it.
type fuzzParent struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.Reader
	stderr *testguest.SyncBuffer
}

var fuzzProc fuzzParent

// run sends wasm to the child and waits for its answer, starting the child
// first when none runs. A child that dies or does not answer within
// fuzzInputTimeout is an error holding the end of its stderr.
func (p *fuzzParent) run(wasm []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), fuzzChildEnv+"=1")
		p.stderr = new(testguest.SyncBuffer)
		cmd.Stderr = p.stderr
		if p.stdin, err = cmd.StdinPipe(); err != nil {
			return err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		p.cmd, p.stdout = cmd, out
	}
	done := make(chan error, 1)
	go func() {
		msg := binary.LittleEndian.AppendUint32(nil, uint32(len(wasm)))
		if _, err := p.stdin.Write(append(msg, wasm...)); err != nil {
			done <- err
			return
		}
		var ack [1]byte
		_, err := io.ReadFull(p.stdout, ack[:])
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(fuzzInputTimeout):
		err = fmt.Errorf("no answer within %s", fuzzInputTimeout)
	}
	if err == nil {
		return nil
	}
	p.cmd.Process.Kill()
	werr := p.cmd.Wait()
	tail := p.stderr.String()
	if len(tail) > 2000 {
		tail = tail[:2000] // the fatal error comes first, the stacks after
	}
	p.cmd = nil
	return fmt.Errorf("the child running the serve path failed on this input (%v, %v):\n%s", err, werr, tail)
}

// FuzzServePath feeds arbitrary bytes through the path serve (and reload
// and check) takes before a module runs, in a child process with a memory
// limit, so that a fatal error such as wazero running out of memory is
// caught as a failed child rather than a dead fuzzer. Seeds: the 15 bytes of
// the import-count crash and every committed .wasm fixture.
func FuzzServePath(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x02\x05\xff\xff\xff\xff\x0f"))
	for _, pattern := range []string{"*/testdata/*.wasm", "cmd/*/testdata/*.wasm", "guest-examples/*/*.wasm"} {
		files, _ := filepath.Glob(testguest.Path(pattern))
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil {
				f.Add(b)
			}
		}
	}
	f.Cleanup(func() {
		fuzzProc.mu.Lock()
		defer fuzzProc.mu.Unlock()
		if fuzzProc.cmd != nil {
			fuzzProc.stdin.Close()
			fuzzProc.cmd.Wait()
			fuzzProc.cmd = nil
		}
	})
	f.Fuzz(func(t *testing.T, wasm []byte) {
		// The project's own steps run here too, where the fuzzer sees
		// their coverage (they allocate nothing per declared count);
		// the child runs the whole path, wazero included.
		if CheckModule(wasm) == nil {
			wasmprep.RewriteInterruptible(wasm)
		}
		if err := fuzzProc.run(wasm); err != nil {
			t.Fatal(err)
		}
	})
}
