package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// signalError is the cause of a context that a signal cancelled.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return e.sig.String() + " signal received" }

// notifyStop returns a context that the first SIGINT or SIGTERM cancels,
// with a signalError as its cause; stop stops catching them. Caught from
// the start, they stop a start-up at whatever point it is, and a process
// started with SIGINT ignored (in the background of a script) gets it.
func notifyStop() (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			cancel(signalError{sig})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		select {
		case <-done:
		default:
			close(done)
		}
		cancel(nil)
	}
}

// interrupted returns the error of a start-up that a signal stopped while
// it was doing what during says, with the exit code shells give a command
// the signal ended (128 and its number: 130 for SIGINT, 143 for SIGTERM);
// nil when ctx is not done.
func interrupted(ctx context.Context, during string) error {
	if ctx.Err() == nil {
		return nil
	}
	code := 130
	var se signalError
	if errors.As(context.Cause(ctx), &se) {
		if n, ok := se.sig.(syscall.Signal); ok {
			code = 128 + int(n)
		}
	}
	return &exitError{code: code, err: fmt.Errorf("interrupted while %s; nothing was served", during)}
}
