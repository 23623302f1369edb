// Package wasip2 is the host side of the WASI 0.2 interfaces other than
// HTTP, for components run by package component: wasi:io (error, poll,
// streams), wasi:clocks (monotonic-clock, wall-clock), wasi:random
// (random, insecure, insecure-seed), wasi:cli (environment, exit, the
// standard streams, no terminal), wasi:filesystem (types and preopens,
// confined to the directories granted) and wasi:sockets (defined so that
// components importing it load, every operation denied).
//
// [Define] adds them all to a component.Host at version 0.2.12, which
// serves imports of any 0.2.x version. Other host interfaces (wasi:http)
// build on the resource types and stream interfaces exported here:
// [InputStream] and [OutputStream] values are what their handles hold,
// and the blocking functions of wasi:io are implemented once, here, on
// those interfaces. Every wait selects on the call's context, so a
// cancelled call interrupts a guest blocked in the host (the call traps).
package wasip2

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/wasmserve/wasmserve/runtimepool/component"
)

// Version is the version of the interfaces Define defines.
const Version = "0.2.12"

// Config is what Define grants the components of a host. The zero value
// grants nothing but clocks and randomness: no environment, no
// arguments, empty stdin, output discarded, no directories.
type Config struct {
	// Env is the environment, KEY=VALUE strings, for
	// wasi:cli/environment get-environment.
	Env []string
	// Args are the arguments for get-arguments.
	Args []string
	// Stdin is what get-stdin reads, shared by every instance of the
	// host (one goroutine reads ahead of them); nil is empty.
	Stdin io.Reader
	// Stdout and Stderr receive what the guests write, each write as the
	// guest made it; nil discards it. Every instance of the host writes
	// to them, concurrently: they must be safe for that.
	Stdout, Stderr io.Writer
	// Dirs are the preopened directories; none by default.
	Dirs []Dir
	// Random is the source of wasi:random/random; nil is crypto/rand.
	Random io.Reader
	// Now is the wall clock; nil is time.Now.
	Now func() time.Time
}

// Dir is a preopened directory: the host directory HostPath, shown to
// guests as GuestPath. Guests cannot reach outside it, by ".." or by
// symbolic links. ReadOnly refuses every change with error-code
// read-only.
type Dir struct {
	HostPath, GuestPath string
	ReadOnly            bool
}

// State is per-instance WASI state an embedder may give: when an
// instance's Data has a method WASIState() *State returning non-nil, its
// fields replace Config's for that instance.
type State struct {
	// Stdin, Stdout and Stderr, when set, are the instance's standard
	// streams instead of Config's. Stdin is read ahead by a goroutine
	// from the first get-stdin until it ends; whoever owns it closes it
	// when the instance is done.
	Stdin          io.Reader
	Stdout, Stderr io.Writer

	stdin InputStream // the stream over Stdin, made at the first get-stdin
}

// StateHolder is what an instance's Data implements to give the instance
// its own State.
type StateHolder interface {
	WASIState() *State
}

// stateOf returns the State of the instance calling, or nil.
func stateOf(ctx context.Context) *State {
	inst := component.InstanceOf(ctx)
	if inst == nil {
		return nil
	}
	if h, ok := inst.Data.(StateHolder); ok {
		return h.WASIState()
	}
	return nil
}

// ExitError is the trap of a guest calling wasi:cli/exit: the call that
// was running fails with an error wrapping it (find it with errors.As).
type ExitError struct {
	// Code is the exit status: 0 for exit(ok), 1 for exit(err), the code
	// given to exit-with-code.
	Code uint32
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("the guest exited with status %d", e.Code)
}

// Define adds the WASI 0.2 interfaces other than HTTP to h, at version
// 0.2.12, with what cfg grants. A directory of cfg.Dirs that cannot be
// opened is an error. h must not define any of them already.
func Define(h *component.Host, cfg Config) error {
	defs := []func(*component.Host, *Config) error{
		defineIO, defineClocks, defineRandom, defineCLI, defineFilesystem, defineSockets,
	}
	for _, def := range defs {
		if err := def(h, &cfg); err != nil {
			return err
		}
	}
	return nil
}
