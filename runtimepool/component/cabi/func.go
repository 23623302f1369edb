package cabi

import (
	"fmt"
)

// LiftArgs reads the arguments a guest passed to a host import (canon
// lower): flat in core, or, when they are spilled (see [FlatFunc]), stored
// as a tuple at the address core[0]. Core values after the arguments (the
// return pointer) are ignored.
func LiftArgs(c *Call, params []*Type, core []uint64) ([]any, error) {
	return liftValues(c, params, core, MaxFlatParams, "param", label("params"))
}

// LowerResults writes the results of a host import back to the guest (canon
// lower) and returns the core results: the flat values, or, when the
// results are spilled, none, the results stored as a tuple at the return
// pointer, the last of the core arguments.
func LowerResults(c *Call, results []*Type, vals []any, core []uint64) ([]uint64, error) {
	if len(vals) != len(results) {
		return nil, fmt.Errorf("cabi: %d results, want %d", len(vals), len(results))
	}
	w := lowerer{c: c}
	if flatLenAll(results, MaxFlatResults) > MaxFlatResults {
		if len(core) == 0 {
			return nil, fmt.Errorf("cabi: results: no return pointer")
		}
		if err := w.storeTuple(results, vals, uint32(core[len(core)-1]), "result", label("results")); err != nil {
			return nil, fmt.Errorf("cabi: %w", err)
		}
		return nil, nil
	}
	return w.lowerAll(results, vals, "result")
}

// LowerArgs turns the arguments of a call to a guest export (canon lift)
// into core arguments: flat, or, when they are spilled, one i32, the
// address of the tuple of arguments it stored in memory allocated with the
// guest's realloc.
func LowerArgs(c *Call, params []*Type, vals []any) ([]uint64, error) {
	if len(vals) != len(params) {
		return nil, fmt.Errorf("cabi: %d arguments, want %d", len(vals), len(params))
	}
	w := lowerer{c: c}
	if flatLenAll(params, MaxFlatParams) > MaxFlatParams {
		p, err := w.alloc(0, 0, tupleAlign(params), tupleSize(params), label("params"))
		if err == nil {
			err = w.storeTuple(params, vals, p, "param", label("params"))
		}
		if err != nil {
			return nil, fmt.Errorf("cabi: %w", err)
		}
		return []uint64{uint64(p)}, nil
	}
	return w.lowerAll(params, vals, "param")
}

// LiftResults reads the results of a guest export (canon lift) from its
// core results: flat, or, when they are spilled, stored as a tuple at the
// address core[0]. The linker calls the export's post-return after it.
func LiftResults(c *Call, results []*Type, core []uint64) ([]any, error) {
	return liftValues(c, results, core, MaxFlatResults, "result", label("results"))
}

// liftValues lifts parameters or results: flat from core when they flatten
// to at most limit values, else stored as a tuple at the address core[0].
func liftValues(c *Call, ts []*Type, core []uint64, limit int, what string, whats fmt.Stringer) ([]any, error) {
	l := lifter{c: c}
	if flatLenAll(ts, limit) <= limit {
		return l.liftAll(ts, core, what)
	}
	if len(core) == 0 {
		return nil, fmt.Errorf("cabi: %s: no core value for their address", whats)
	}
	vals, err := l.loadTuple(ts, uint32(core[0]), what, whats)
	if err != nil {
		return nil, fmt.Errorf("cabi: %w", err)
	}
	return vals, nil
}

// liftAll lifts values of types ts from their flat core values.
func (l *lifter) liftAll(ts []*Type, core []uint64, what string) ([]any, error) {
	vals := make([]any, len(ts))
	for i, t := range ts {
		n := flatLen(t)
		if len(core) < n {
			return nil, fmt.Errorf("cabi: %s %d: %s: %w: %d of %d", what, i, t, errTooFewValues, len(core), n)
		}
		v, err := l.liftFlatN(t, core[:n])
		if err != nil {
			return nil, fmt.Errorf("cabi: %s %d: %w", what, i, err)
		}
		vals[i] = v
		core = core[n:]
	}
	return vals, nil
}

// lowerAll lowers values of types ts to flat core values.
func (w *lowerer) lowerAll(ts []*Type, vals []any, what string) ([]uint64, error) {
	out := make([]uint64, 0, flatLenAll(ts, MaxFlatParams))
	for i, t := range ts {
		var err error
		if out, err = w.lowerFlat(t, vals[i], out); err != nil {
			return nil, fmt.Errorf("cabi: %s %d: %w", what, i, err)
		}
	}
	return out, nil
}

// loadTuple reads values of types ts stored as a tuple at ptr; what and
// whats name one and all of them in messages.
func (l *lifter) loadTuple(ts []*Type, ptr uint32, what string, whats fmt.Stringer) ([]any, error) {
	mem, err := l.memory(whats)
	if err != nil {
		return nil, err
	}
	if err := checkRange(mem, whats, ptr, uint64(tupleSize(ts)), tupleAlign(ts)); err != nil {
		return nil, err
	}
	vals := make([]any, len(ts))
	off := ptr
	for i, t := range ts {
		off = alignTo(off, Align(t))
		v, err := l.load(t, off)
		if err != nil {
			return nil, fmt.Errorf("%s %d: %w", what, i, err)
		}
		vals[i] = v
		off += Size(t)
	}
	return vals, nil
}

// storeTuple writes values of types ts as a tuple at ptr; what and whats
// name one and all of them in messages.
func (w *lowerer) storeTuple(ts []*Type, vals []any, ptr uint32, what string, whats fmt.Stringer) error {
	if err := w.needMemory(whats); err != nil {
		return err
	}
	if err := checkRange(w.mem, whats, ptr, uint64(tupleSize(ts)), tupleAlign(ts)); err != nil {
		return err
	}
	off := ptr
	for i, t := range ts {
		off = alignTo(off, Align(t))
		if err := w.store(t, vals[i], off); err != nil {
			return fmt.Errorf("%s %d: %w", what, i, err)
		}
		off += Size(t)
	}
	return nil
}
