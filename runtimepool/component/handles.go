package component

import (
	"context"
	"fmt"

	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// GuestResource is the Go value of an owned handle to a resource type a
// component defines itself, as the host receives it: the resource's type
// and the representation the guest gave resource.new.
type GuestResource struct {
	Type *cabi.Resource
	Rep  uint32
}

// handleTable is one component instance's table of resource handles. The
// guest sees indices into it; index 0 is never used, so a zeroed handle in
// guest memory is always invalid. It is used by one goroutine at a time,
// like the instance it belongs to.
type handleTable struct {
	slots []handleSlot
	free  []uint32
	// drop releases what an owning handle held when the guest drops it or
	// the instance closes.
	drop func(ctx context.Context, r *cabi.Resource, v any) error
}

type handleSlot struct {
	used bool
	own  bool
	res  *cabi.Resource
	val  any // a host value, or the rep (uint32) of a guest resource
	// lends counts borrows of this owning handle not yet returned.
	lends int32
	// scope is the call a borrowed handle was lent for.
	scope *callScope
}

// callScope is one call from the host into a guest export: the borrowed
// handles it lent the guest must all be dropped when the call returns.
type callScope struct {
	borrows int32
}

// maxHandles bounds a table: a guest that leaks handles in a loop gets a
// trap, not the host's memory.
const maxHandles = 1 << 20

func (t *handleTable) add(s handleSlot) (uint32, error) {
	s.used = true
	if n := len(t.free); n > 0 {
		h := t.free[n-1]
		t.free = t.free[:n-1]
		t.slots[h] = s
		return h, nil
	}
	if len(t.slots) == 0 {
		t.slots = append(t.slots, handleSlot{}) // index 0 stays unused
	}
	if len(t.slots) > maxHandles {
		return 0, fmt.Errorf("more than %d resource handles in one instance", maxHandles)
	}
	t.slots = append(t.slots, s)
	return uint32(len(t.slots) - 1), nil
}

func (t *handleTable) get(r *cabi.Resource, h uint32) (*handleSlot, error) {
	if h == 0 || int64(h) >= int64(len(t.slots)) || !t.slots[h].used {
		return nil, fmt.Errorf("handle %d is not a live %s handle", h, r.Name)
	}
	s := &t.slots[h]
	if s.res != r {
		return nil, fmt.Errorf("handle %d is a %s handle, not %s", h, s.res.Name, r.Name)
	}
	return s, nil
}

func (t *handleTable) remove(h uint32) {
	t.slots[h] = handleSlot{}
	t.free = append(t.free, h)
}

// newOwn is canon resource.new: a new owning handle to a guest resource.
func (t *handleTable) newOwn(r *cabi.Resource, rep uint32) (uint32, error) {
	return t.add(handleSlot{own: true, res: r, val: rep})
}

// rep is canon resource.rep: the representation behind a handle to a
// resource the guest defines.
func (t *handleTable) rep(r *cabi.Resource, h uint32) (uint32, error) {
	s, err := t.get(r, h)
	if err != nil {
		return 0, err
	}
	rep, ok := s.val.(uint32)
	if !ok {
		return 0, fmt.Errorf("handle %d: %s is not a resource of this component", h, r.Name)
	}
	return rep, nil
}

// dropHandle is canon resource.drop: the guest gives up a handle. Dropping
// an owning handle releases what it holds; dropping a borrowed one ends
// the borrow.
func (t *handleTable) dropHandle(ctx context.Context, r *cabi.Resource, h uint32) error {
	s, err := t.get(r, h)
	if err != nil {
		return err
	}
	if !s.own {
		if s.scope != nil {
			s.scope.borrows--
		}
		t.remove(h)
		return nil
	}
	if s.lends != 0 {
		return fmt.Errorf("handle %d (%s) dropped while %d borrows of it are out", h, r.Name, s.lends)
	}
	v := s.val
	t.remove(h)
	if t.drop != nil {
		return t.drop(ctx, r, v)
	}
	return nil
}

// closeAll drops every owning handle still in the table, for an instance
// that closes: host resources the guest kept are released.
func (t *handleTable) closeAll(ctx context.Context) {
	for h := range t.slots {
		s := t.slots[h]
		if s.used && s.own && t.drop != nil {
			if _, guest := s.val.(uint32); !guest {
				_ = t.drop(ctx, s.res, s.val)
			}
		}
	}
	t.slots, t.free = nil, nil
}

// handles adapts a table to cabi.Handles for one call. scope is set for
// calls from the host into the guest, whose borrowed arguments must be
// dropped before the call returns.
type handles struct {
	t     *handleTable
	scope *callScope
}

func (c handles) LowerOwn(r *cabi.Resource, v any) (uint32, error) {
	if g, ok := v.(*GuestResource); ok {
		if g.Type != r {
			return 0, fmt.Errorf("a %s given where %s is expected", g.Type.Name, r.Name)
		}
		return c.t.newOwn(r, g.Rep)
	}
	return c.t.add(handleSlot{own: true, res: r, val: v})
}

func (c handles) LowerBorrow(r *cabi.Resource, v any) (uint32, error) {
	if c.scope == nil {
		return 0, fmt.Errorf("a borrowed %s can only be passed into a call", r.Name)
	}
	if g, ok := v.(*GuestResource); ok {
		// A borrow of the guest's own resource arrives as its rep.
		return g.Rep, nil
	}
	c.scope.borrows++
	return c.t.add(handleSlot{res: r, val: v, scope: c.scope})
}

func (c handles) LiftOwn(r *cabi.Resource, h uint32) (any, error) {
	s, err := c.t.get(r, h)
	if err != nil {
		return nil, err
	}
	if !s.own {
		return nil, fmt.Errorf("handle %d (%s) is borrowed; it cannot be given away", h, r.Name)
	}
	if s.lends != 0 {
		return nil, fmt.Errorf("handle %d (%s) given away while %d borrows of it are out", h, r.Name, s.lends)
	}
	v := s.val
	c.t.remove(h)
	if rep, ok := v.(uint32); ok {
		return &GuestResource{Type: r, Rep: rep}, nil
	}
	return v, nil
}

func (c handles) LiftBorrow(r *cabi.Resource, h uint32) (any, error) {
	s, err := c.t.get(r, h)
	if err != nil {
		return nil, err
	}
	if rep, ok := s.val.(uint32); ok {
		return &GuestResource{Type: r, Rep: rep}, nil
	}
	return s.val, nil
}
