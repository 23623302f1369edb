package binary

import "fmt"

// CanonKind is a canonical definition, by its opcode in the binary format.
type CanonKind uint8

// The canonical definitions. Lift, lower and the three resource built-ins
// make up the component model of WASI 0.2 ([CanonKind.MVP]); the others
// come from the async, error-context and threads proposals and are
// decoded so that a linker can refuse them by name.
const (
	CanonLift                       CanonKind = 0x00
	CanonLower                      CanonKind = 0x01
	CanonResourceNew                CanonKind = 0x02
	CanonResourceDrop               CanonKind = 0x03
	CanonResourceRep                CanonKind = 0x04
	CanonTaskCancel                 CanonKind = 0x05
	CanonSubtaskCancel              CanonKind = 0x06
	CanonTaskReturn                 CanonKind = 0x09
	CanonContextGet                 CanonKind = 0x0a
	CanonContextSet                 CanonKind = 0x0b
	CanonThreadYield                CanonKind = 0x0c
	CanonSubtaskDrop                CanonKind = 0x0d
	CanonStreamNew                  CanonKind = 0x0e
	CanonStreamRead                 CanonKind = 0x0f
	CanonStreamWrite                CanonKind = 0x10
	CanonStreamCancelRead           CanonKind = 0x11
	CanonStreamCancelWrite          CanonKind = 0x12
	CanonStreamDropReadable         CanonKind = 0x13
	CanonStreamDropWritable         CanonKind = 0x14
	CanonFutureNew                  CanonKind = 0x15
	CanonFutureRead                 CanonKind = 0x16
	CanonFutureWrite                CanonKind = 0x17
	CanonFutureCancelRead           CanonKind = 0x18
	CanonFutureCancelWrite          CanonKind = 0x19
	CanonFutureDropReadable         CanonKind = 0x1a
	CanonFutureDropWritable         CanonKind = 0x1b
	CanonErrorContextNew            CanonKind = 0x1c
	CanonErrorContextDebugMessage   CanonKind = 0x1d
	CanonErrorContextDrop           CanonKind = 0x1e
	CanonWaitableSetNew             CanonKind = 0x1f
	CanonWaitableSetWait            CanonKind = 0x20
	CanonWaitableSetPoll            CanonKind = 0x21
	CanonWaitableSetDrop            CanonKind = 0x22
	CanonWaitableJoin               CanonKind = 0x23
	CanonBackpressureInc            CanonKind = 0x24
	CanonBackpressureDec            CanonKind = 0x25
	CanonThreadIndex                CanonKind = 0x26
	CanonThreadNewIndirect          CanonKind = 0x27
	CanonThreadResumeLater          CanonKind = 0x28
	CanonThreadSuspend              CanonKind = 0x29
	CanonThreadSuspendThenResume    CanonKind = 0x2a
	CanonThreadYieldThenResume      CanonKind = 0x2b
	CanonThreadSuspendThenPromote   CanonKind = 0x2c
	CanonThreadYieldThenPromote     CanonKind = 0x2d
	CanonThreadSpawnRef             CanonKind = 0x40
	CanonThreadSpawnIndirect        CanonKind = 0x41
	CanonThreadAvailableParallelism CanonKind = 0x42
)

var canonNames = map[CanonKind]string{
	CanonLift: "lift", CanonLower: "lower", CanonResourceNew: "resource.new",
	CanonResourceDrop: "resource.drop", CanonResourceRep: "resource.rep",
	CanonTaskCancel: "task.cancel", CanonSubtaskCancel: "subtask.cancel",
	CanonTaskReturn: "task.return", CanonContextGet: "context.get", CanonContextSet: "context.set",
	CanonThreadYield: "thread.yield", CanonSubtaskDrop: "subtask.drop",
	CanonStreamNew: "stream.new", CanonStreamRead: "stream.read", CanonStreamWrite: "stream.write",
	CanonStreamCancelRead: "stream.cancel-read", CanonStreamCancelWrite: "stream.cancel-write",
	CanonStreamDropReadable: "stream.drop-readable", CanonStreamDropWritable: "stream.drop-writable",
	CanonFutureNew: "future.new", CanonFutureRead: "future.read", CanonFutureWrite: "future.write",
	CanonFutureCancelRead: "future.cancel-read", CanonFutureCancelWrite: "future.cancel-write",
	CanonFutureDropReadable: "future.drop-readable", CanonFutureDropWritable: "future.drop-writable",
	CanonErrorContextNew: "error-context.new", CanonErrorContextDebugMessage: "error-context.debug-message",
	CanonErrorContextDrop: "error-context.drop", CanonWaitableSetNew: "waitable-set.new",
	CanonWaitableSetWait: "waitable-set.wait", CanonWaitableSetPoll: "waitable-set.poll",
	CanonWaitableSetDrop: "waitable-set.drop", CanonWaitableJoin: "waitable.join",
	CanonBackpressureInc: "backpressure.inc", CanonBackpressureDec: "backpressure.dec",
	CanonThreadIndex: "thread.index", CanonThreadNewIndirect: "thread.new-indirect",
	CanonThreadResumeLater: "thread.resume-later", CanonThreadSuspend: "thread.suspend",
	CanonThreadSuspendThenResume:  "thread.suspend-then-resume",
	CanonThreadYieldThenResume:    "thread.yield-then-resume",
	CanonThreadSuspendThenPromote: "thread.suspend-then-promote",
	CanonThreadYieldThenPromote:   "thread.yield-then-promote",
	CanonThreadSpawnRef:           "thread.spawn-ref", CanonThreadSpawnIndirect: "thread.spawn-indirect",
	CanonThreadAvailableParallelism: "thread.available-parallelism",
}

// String names the definition as the text format does ("lift",
// "resource.drop", "task.return").
func (k CanonKind) String() string {
	if n, ok := canonNames[k]; ok {
		return n
	}
	return fmt.Sprintf("canon(0x%02x)", uint8(k))
}

// MVP reports whether k is one of the canonical definitions of WASI 0.2's
// component model: lift, lower, resource.new, resource.drop and
// resource.rep.
func (k CanonKind) MVP() bool { return k <= CanonResourceRep }

// Canon is a canonical definition. Lift defines a func; every other kind
// defines a core func. The fields a kind does not use are zero.
type Canon struct {
	// Kind is the definition.
	Kind CanonKind
	// Func is, for lift, the core function lifted; for lower, the
	// function lowered.
	Func uint32
	// Type is, for lift, the function's type index; for the resource
	// built-ins, the resource's type index; for the stream and future
	// built-ins, the stream's or future's type index; for
	// thread.new-indirect and the thread.spawn built-ins, a core function
	// type index.
	Type uint32
	// Options are lift's, lower's, task.return's, the stream and future
	// reads' and writes' and error-context.new's and debug-message's.
	Options CanonOptions
	// Result is task.return's result type, nil for none.
	Result *ValType
	// Async is the async? immediate of subtask.cancel and of the stream
	// and future cancels.
	Async bool
	// Cancellable is the cancel? immediate of the waitable-set waits and
	// polls and of the thread built-ins.
	Cancellable bool
	// Memory is the core memory index of waitable-set.wait and poll.
	Memory uint32
	// Table is the core table index of thread.new-indirect and
	// thread.spawn-indirect.
	Table uint32
	// ValType is context.get's and context.set's core value type.
	ValType CoreValType
	// Index is context.get's and context.set's slot.
	Index uint32
}

// Sort returns the index space c adds to: SortFunc for a lift, SortCoreFunc
// for the others.
func (c *Canon) Sort() Sort {
	if c.Kind == CanonLift {
		return SortFunc
	}
	return SortCoreFunc
}

// StringEncoding is a canonical option's string encoding.
type StringEncoding uint8

// The string encodings; UTF8 is the default.
const (
	UTF8 StringEncoding = iota
	UTF16
	Latin1UTF16
)

// String names the encoding as the text format does ("utf8",
// "latin1+utf16").
func (e StringEncoding) String() string {
	switch e {
	case UTF8:
		return "utf8"
	case UTF16:
		return "utf16"
	case Latin1UTF16:
		return "latin1+utf16"
	}
	return fmt.Sprintf("encoding(%d)", uint8(e))
}

// CanonOptions are the canonical ABI options of a definition (each at
// most once; the decoder refuses a repeated or conflicting one).
type CanonOptions struct {
	// StringEncoding is the encoding of strings, UTF8 when not given.
	StringEncoding StringEncoding
	// Memory is the core memory index, nil for none.
	Memory *uint32
	// Realloc is the core function index of realloc, nil for none.
	Realloc *uint32
	// PostReturn is the core function index of post-return, nil for none.
	PostReturn *uint32
	// Async is the async proposal's async option.
	Async bool
	// Callback is the async proposal's callback core function index, nil
	// for none.
	Callback *uint32
}

// canonOptions reads a vector of canonopt.
func (r *reader) canonOptions() (CanonOptions, error) {
	var o CanonOptions
	n, err := r.count("canonical options", 1)
	if err != nil {
		return o, err
	}
	var seen [8]bool
	for range n {
		start := r.pos
		c, err := r.byte()
		if err != nil {
			return o, err
		}
		if c > 0x07 {
			return o, errorf(start, "unknown canonical option 0x%02x", c)
		}
		slot := c
		if c <= 0x02 {
			slot = 0 // the three string encodings conflict
		}
		if seen[slot] {
			return o, errorf(start, "canonical option 0x%02x repeated or conflicting", c)
		}
		seen[slot] = true
		var idx *uint32
		if c >= 0x03 && c != 0x06 {
			v, err := r.u32()
			if err != nil {
				return o, err
			}
			idx = &v
		}
		switch c {
		case 0x00, 0x01, 0x02:
			o.StringEncoding = StringEncoding(c)
		case 0x03:
			o.Memory = idx
		case 0x04:
			o.Realloc = idx
		case 0x05:
			o.PostReturn = idx
		case 0x06:
			o.Async = true
		case 0x07:
			o.Callback = idx
		}
	}
	return o, nil
}

// canon reads a canonical definition.
func (r *reader) canon() (Canon, error) {
	start := r.pos
	op, err := r.byte()
	if err != nil {
		return Canon{}, err
	}
	c := Canon{Kind: CanonKind(op)}
	if _, ok := canonNames[c.Kind]; !ok {
		return c, errorf(start, "unknown canonical definition 0x%02x", op)
	}
	switch c.Kind {
	case CanonLift, CanonLower:
		if err := r.expect(0x00, c.Kind.String()+" sort"); err != nil {
			return c, err
		}
		if c.Func, err = r.u32(); err != nil {
			return c, err
		}
		if c.Options, err = r.canonOptions(); err != nil {
			return c, err
		}
		if c.Kind == CanonLift {
			c.Type, err = r.u32()
		}
	case CanonResourceNew, CanonResourceDrop, CanonResourceRep,
		CanonStreamNew, CanonStreamDropReadable, CanonStreamDropWritable,
		CanonFutureNew, CanonFutureDropReadable, CanonFutureDropWritable:
		c.Type, err = r.u32()
	case CanonStreamRead, CanonStreamWrite, CanonFutureRead, CanonFutureWrite:
		if c.Type, err = r.u32(); err != nil {
			return c, err
		}
		c.Options, err = r.canonOptions()
	case CanonStreamCancelRead, CanonStreamCancelWrite, CanonFutureCancelRead, CanonFutureCancelWrite:
		if c.Type, err = r.u32(); err != nil {
			return c, err
		}
		c.Async, err = r.flag(c.Kind.String() + " async")
	case CanonSubtaskCancel:
		c.Async, err = r.flag(c.Kind.String() + " async")
	case CanonTaskReturn:
		if c.Result, err = r.resultList(); err != nil {
			return c, err
		}
		c.Options, err = r.canonOptions()
	case CanonContextGet, CanonContextSet:
		if c.ValType, err = r.coreValType(); err != nil {
			return c, err
		}
		c.Index, err = r.u32()
	case CanonErrorContextNew, CanonErrorContextDebugMessage:
		c.Options, err = r.canonOptions()
	case CanonWaitableSetWait, CanonWaitableSetPoll:
		if c.Cancellable, err = r.flag(c.Kind.String() + " cancel"); err != nil {
			return c, err
		}
		c.Memory, err = r.u32()
	case CanonThreadSuspend, CanonThreadYield, CanonThreadSuspendThenResume,
		CanonThreadYieldThenResume, CanonThreadSuspendThenPromote, CanonThreadYieldThenPromote:
		c.Cancellable, err = r.flag(c.Kind.String() + " cancel")
	case CanonThreadSpawnRef:
		// Binary.md gives the thread.spawn built-ins a shared? immediate
		// first, for a later proposal; wasm-tools does not write it.
		c.Type, err = r.u32()
	case CanonThreadNewIndirect, CanonThreadSpawnIndirect:
		if c.Type, err = r.u32(); err != nil {
			return c, err
		}
		c.Table, err = r.u32()
	}
	// The rest (task.cancel, subtask.drop, error-context.drop, the
	// waitable-set new and drop, waitable.join, backpressure, thread.index,
	// thread.resume-later and thread.available-parallelism) have no
	// immediates.
	return c, err
}
