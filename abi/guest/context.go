//go:build wasip1

package guest

import (
	"context"
	"sync"
	"time"
)

// requestContext is the context of a request: done once the handler
// returned (or, in middleware mode, once the response phase ended), as
// net/http cancels a server request's context when ServeHTTP returns. The
// ABI carries no cancellation from the host: a guest the host interrupts
// (a handler timeout, a shutdown) is stopped, not told, and a client that
// went away is not visible to the guest. Its channel is made only when
// someone asks for it, so a request that never looks costs nothing.
type requestContext struct {
	mu   sync.Mutex
	done chan struct{}
	err  error
}

var _ context.Context = (*requestContext)(nil)

// Deadline implements context.Context: there is none the guest can see.
func (c *requestContext) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done implements context.Context.
func (c *requestContext) Done() <-chan struct{} {
	c.mu.Lock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		}
	}
	d := c.done
	c.mu.Unlock()
	return d
}

// Err implements context.Context.
func (c *requestContext) Err() error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	return err
}

// Value implements context.Context; the request context holds no values.
func (c *requestContext) Value(any) any { return nil }

// reset makes a cancelled context new for the next request.
func (c *requestContext) reset() {
	c.mu.Lock()
	c.done, c.err = nil, nil
	c.mu.Unlock()
}

// cancel ends the context. Neither it nor the other methods defer the
// unlock: nothing between Lock and Unlock can panic, and a defer is a
// noticeable cost in a wasm guest's per-request path.
func (c *requestContext) cancel() {
	c.mu.Lock()
	if c.err == nil {
		c.err = context.Canceled
		if c.done != nil {
			close(c.done)
		}
	}
	c.mu.Unlock()
}

// String names the context, as the context package's own do.
func (c *requestContext) String() string { return "guest.requestContext" }
