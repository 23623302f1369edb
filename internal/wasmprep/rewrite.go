package wasmprep

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wasmserve/wasmserve/internal/prefault"
	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// InterruptExport is the name under which a rewritten module exports its
// interrupt global (see [RewriteInterruptible]). A module that already
// exports this name is refused.
const InterruptExport = "wasmserve:interrupt"

// GlobalExportPrefix starts the names under which a rewritten module exports
// each mutable global of its own, followed by the global's index, so that the
// pool can snapshot and restore them (runtimepool's
// Config.MaxRequestsPerIsolate).
const GlobalExportPrefix = "wasmserve:global:"

// StartExport is the export the rewrite gives the function of a module's
// start section, which it removes: wazero would run it inside
// instantiation, before the interrupt flag can be set, and the pool calls
// it instead, bounded like any other start.
const StartExport = "wasmserve:start"

// reservedPrefix starts every export name the rewrite adds; a module that
// already exports such a name is refused.
const reservedPrefix = "wasmserve:"

// CountdownExport is the name under which a rewritten module exports its
// countdown global: setting it to 0 with the interrupt flag makes the guest
// check the flag at its next call or loop iteration.
const CountdownExport = "wasmserve:countdown"

// YieldEvery is how many function entries and loop iterations a rewritten
// guest runs between two visits to Go (see [RewriteInterruptible]).
const YieldEvery = 1024

// RewriteInterruptible returns a copy of the module wasm that can be
// interrupted cheaply from the host. It adds two mutable i32 globals: the
// interrupt flag, initialised to 0 and exported as [InterruptExport], and a
// countdown, initialised to [YieldEvery]. At the entry of every function and
// the head of every loop it inserts
//
//	global.get $countdown
//	i32.const 1
//	i32.lt_s           ;; not i32.eqz: see interruptCheck
//	if
//	  i32.const 0
//	  memory.grow 0      ;; a no-op that leaves native code for Go
//	  drop
//	  global.get $interrupt
//	  if
//	    unreachable
//	  end
//	  i32.const YieldEvery
//	  global.set $countdown
//	end
//	global.get $countdown
//	i32.const 1
//	i32.sub
//	global.set $countdown
//
// Setting the flag to 1 makes the guest trap within YieldEvery calls or
// loop iterations. The visit to Go matters as much as the flag: Go cannot
// preempt a goroutine running compiled wasm, so a guest that never left
// native code would stall the garbage collector's stop-the-world, and with
// it the watchdog meant to interrupt it. The module must therefore have a
// memory.
//
// Function body and section sizes are recomputed, .debug_* custom sections
// are dropped (their code offsets would be wrong), and every other byte is
// kept. An instruction it does not know is an error; the caller should then
// use another way to interrupt the guest. It is [Parse] and [Module.Rewrite]
// with the checks.
func RewriteInterruptible(wasm []byte) ([]byte, error) {
	m, err := Parse(wasm)
	if err != nil {
		return nil, err
	}
	out, _, err := m.Rewrite(true)
	return out, err
}

// Info is what [Module.Rewrite] learned about a module on its way through.
// A cache of rewrites stores it as JSON next to the module.
type Info struct {
	// Globals are the export names the rewrite gave the module's own
	// mutable globals (see GlobalExportPrefix), in index order.
	Globals []string `json:"globals"`
	// HostImports are the functions the module imports that this package
	// does not know to be reset-safe, as "module.name": those of WASI it
	// does not list, and the first of every other module. Whether they
	// block resets is for the pool's caller to say ([HostResetBlocker]).
	HostImports []string `json:"host_imports"`
	// ResetBlocker says why an instance of the module cannot be reset to
	// its state after start (see resetsafe.go); empty when it can.
	ResetBlocker string `json:"reset_blocker"`
}

// Rewrite returns a copy of the module with every mutable global of its own
// exported under [GlobalExportPrefix] and, when checks is set, the interrupt
// checks of [RewriteInterruptible] inserted; without a data count section,
// its data segments are merged too (see mergeData). A section it cannot
// read is a *wasmbin.FormatError; what it refuses to do (a module without a
// memory gets no checks, an export name is reserved) is an error starting
// "rewriting module".
func (m *Module) Rewrite(checks bool) ([]byte, Info, error) {
	out, info, err := m.rewrite(checks)
	var fe *wasmbin.FormatError
	switch {
	case errors.As(err, &fe):
		return nil, info, err
	case err != nil:
		return nil, info, fmt.Errorf("rewriting module: %w", err)
	}
	return out, info, nil
}

// rewrite is Rewrite with its refusals worded as they happen.
func (m *Module) rewrite(checks bool) ([]byte, Info, error) {
	var info Info
	var err error
	_, hasDataCount := m.section(wasmbin.SecDataCount)
	startFunc, hasStart := uint32(0), false
	if s, ok := m.section(wasmbin.SecStart); ok {
		if startFunc, err = (&wasmbin.Reader{B: s.Body}).U32(); err != nil {
			return nil, info, malformed(s, err)
		}
		hasStart = true
	}

	// The new globals' indices come after every imported and defined one.
	var mutable []uint32
	blocker := func(why string) {
		if info.ResetBlocker == "" {
			info.ResetBlocker = why
		}
	}
	blocker(m.imports.resetBlocker)
	info.HostImports = m.imports.host
	memories, index := m.imports.memories, m.imports.globals
	if s, ok := m.section(wasmbin.SecMemory); ok {
		n, shared, err := scanMemories(s.Body)
		if err != nil {
			return nil, info, malformed(s, err)
		}
		if shared {
			blocker("it has a shared memory")
		}
		memories += int(n)
	}
	if checks && memories == 0 {
		return nil, info, errors.New("the module has no memory, which the inserted checks need to yield to Go")
	}
	if memories > 1 {
		blocker("it has more than one memory")
	}
	if s, ok := m.section(wasmbin.SecGlobal); ok {
		var why string
		if mutable, why, err = scanGlobals(s.Body, index); err != nil {
			return nil, info, malformed(s, err)
		}
		blocker(why)
		n, _ := (&wasmbin.Reader{B: s.Body}).U32()
		if uint64(index)+uint64(n) >= 1<<32-2 {
			return nil, info, errors.New("global section: too many globals")
		}
		index += n
	}
	for _, g := range mutable {
		info.Globals = append(info.Globals, GlobalExportPrefix+strconv.FormatUint(uint64(g), 10))
	}

	out := prefault.Make(0, len(m.wasm)+len(m.wasm)/8+64)
	out = append(out, m.wasm[:8]...)
	doneGlobal, doneExport := !checks, false
	emit := func(id byte, body []byte) { out = wasmbin.AppendSection(out, id, body) }
	newGlobal := func(old []byte) ([]byte, error) {
		const mut = 0x01
		// The flag: (mut i32) (i32.const 0); the countdown.
		entries := []byte{wasmbin.ValI32, mut, wasmbin.OpI32Const, 0x00, wasmbin.OpEnd}
		entries = append(entries, wasmbin.ValI32, mut, wasmbin.OpI32Const)
		entries = wasmbin.AppendS32(entries, YieldEvery)
		entries = append(entries, wasmbin.OpEnd)
		return appendVec(old, entries, 2)
	}
	newExport := func(old []byte) ([]byte, error) {
		if err := m.checkExports(); err != nil {
			return nil, err
		}
		var entries []byte
		add := func(name string, idx uint32) {
			entries = wasmbin.AppendU32(entries, uint32(len(name)))
			entries = append(entries, name...)
			entries = append(entries, wasmbin.ExternGlobal)
			entries = wasmbin.AppendU32(entries, idx)
		}
		if checks {
			add(InterruptExport, index)
			add(CountdownExport, index+1)
		}
		for i, g := range mutable {
			add(info.Globals[i], g)
		}
		if hasStart {
			entries = wasmbin.AppendU32(entries, uint32(len(StartExport)))
			entries = append(entries, StartExport...)
			entries = append(entries, wasmbin.ExternFunc)
			entries = wasmbin.AppendU32(entries, startFunc)
		}
		return appendVec(old, entries, uint32(len(mutable))+2*b2u(checks)+b2u(hasStart))
	}
	var code codeScan
	if checks {
		code.check = interruptCheck(index)
	}
	for _, s := range m.secs {
		rank := wasmbin.SectionRank(s.ID)
		if s.ID != wasmbin.SecCustom {
			if !doneGlobal && rank > wasmbin.SectionRank(wasmbin.SecGlobal) {
				b, _ := newGlobal(nil)
				emit(wasmbin.SecGlobal, b)
				doneGlobal = true
			}
			if !doneExport && rank > wasmbin.SectionRank(wasmbin.SecExport) {
				b, err := newExport(nil)
				if err != nil {
					return nil, info, err
				}
				emit(wasmbin.SecExport, b)
				doneExport = true
			}
		}
		switch s.ID {
		case wasmbin.SecCustom:
			name, err := (&wasmbin.Reader{B: s.Body}).Name()
			if err != nil {
				return nil, info, fmt.Errorf("custom section: name: %w", err)
			}
			if checks && strings.HasPrefix(name, ".debug_") {
				continue
			}
			emit(s.ID, s.Body)
		case wasmbin.SecGlobal:
			if !checks {
				emit(s.ID, s.Body)
				continue
			}
			b, err := newGlobal(s.Body)
			if err != nil {
				return nil, info, fmt.Errorf("global section: %w", err)
			}
			emit(s.ID, b)
			doneGlobal = true
		case wasmbin.SecExport:
			b, err := newExport(s.Body)
			if err != nil {
				return nil, info, fmt.Errorf("export section: %w", err)
			}
			emit(s.ID, b)
			doneExport = true
		case wasmbin.SecStart:
			// Exported as StartExport instead, for the pool to call.
		case wasmbin.SecData:
			if hasDataCount {
				emit(s.ID, s.Body) // memory.init or data.drop may name segments
				continue
			}
			b, _, err := mergeData(s.Body)
			if err != nil {
				return nil, info, malformed(s, err)
			}
			emit(s.ID, b)
		case wasmbin.SecCode:
			b, err := rewriteCode(s.Body, s.Offset, &code)
			if err != nil {
				return nil, info, err
			}
			blocker(code.resetBlocker)
			emit(s.ID, b)
		default:
			emit(s.ID, s.Body)
		}
	}
	if !doneGlobal {
		b, _ := newGlobal(nil)
		emit(wasmbin.SecGlobal, b)
	}
	if !doneExport {
		b, err := newExport(nil)
		if err != nil {
			return nil, info, err
		}
		emit(wasmbin.SecExport, b)
	}
	return out, info, nil
}

// b2u is 1 for true and 0 for false.
func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// appendVec returns the vector old (a count and its entries, or nil for an
// empty one) with n more entries appended.
func appendVec(old, entries []byte, n uint32) ([]byte, error) {
	var count uint32
	rest := []byte(nil)
	if old != nil {
		r := wasmbin.Reader{B: old}
		c, err := r.U32()
		if err != nil {
			return nil, fmt.Errorf("count: %w", err)
		}
		if uint64(c)+uint64(n) > 1<<32-1 {
			return nil, errors.New("count: too many entries")
		}
		count, rest = c, old[r.Pos:]
	}
	b := wasmbin.AppendU32(nil, count+n)
	b = append(b, rest...)
	return append(b, entries...), nil
}

// checkExports refuses a module that already exports a name starting with
// "wasmserve:", which the rewrite's own exports use.
func (m *Module) checkExports() error {
	for i, e := range m.exports {
		if strings.HasPrefix(e.name, reservedPrefix) {
			return fmt.Errorf("export %d: the module already exports %q, a name reserved for wasmserve", i, e.name)
		}
	}
	return nil
}

// interruptCheck is the code inserted at every function entry and loop head
// (see RewriteInterruptible), for the flag global at index flag and the
// countdown at flag+1.
func interruptCheck(flag uint32) []byte {
	get := func(b []byte, idx uint32) []byte { return wasmbin.AppendU32(append(b, wasmbin.OpGlobalGet), idx) }
	set := func(b []byte, idx uint32) []byte { return wasmbin.AppendU32(append(b, wasmbin.OpGlobalSet), idx) }
	count := flag + 1
	b := get(nil, count)
	// countdown < 1, signed, not countdown == 0: the host's store of 0 can
	// land between the guest's two reads below, and the guest then writes
	// -1; with == 0 it would run 2^32 more checks (seconds) before the
	// next look at the flag.
	b = append(b, wasmbin.OpI32Const, 1, wasmbin.OpI32LtS, wasmbin.OpIf, wasmbin.BlockEmpty)
	// memory.grow 0 returns to Go; its result is dropped.
	b = append(b, wasmbin.OpI32Const, 0, wasmbin.OpMemoryGrow, 0, wasmbin.OpDrop)
	b = get(b, flag)
	b = append(b, wasmbin.OpIf, wasmbin.BlockEmpty, wasmbin.OpUnreachable, wasmbin.OpEnd)
	b = wasmbin.AppendS32(append(b, wasmbin.OpI32Const), YieldEvery)
	b = set(b, count)
	b = append(b, wasmbin.OpEnd)
	b = get(b, count)
	b = append(b, wasmbin.OpI32Const, 1, wasmbin.OpI32Sub)
	return set(b, count)
}

// codeScan is what rewriteCode inserts, and what it found.
type codeScan struct {
	// check is inserted at every function entry and loop head; nil
	// inserts nothing.
	check []byte
	// resetBlocker names the first instruction found that changes an
	// instance's state outside its memory and globals, if any.
	resetBlocker string
}

// rewriteCode inserts sc.check into every function body of a code section
// that starts at offset base of the module, and records in sc what it
// found. What it cannot read is a *wasmbin.FormatError.
func rewriteCode(body []byte, base int, sc *codeScan) ([]byte, error) {
	r := wasmbin.Reader{B: body}
	fail := func(at int, format string, args ...any) error {
		return &wasmbin.FormatError{Section: "code", Offset: base + at, Reason: fmt.Sprintf(format, args...)}
	}
	n, err := r.U32()
	if err != nil {
		return nil, fail(0, "count: %v", err)
	}
	out := wasmbin.AppendU32(prefault.Make(0, len(body)+len(body)/8), n)
	var fn []byte
	for i := uint32(0); i < n; i++ {
		at := r.Pos
		size, err := r.U32()
		if err != nil {
			return nil, fail(at, "function %d: size: %v", i, err)
		}
		if uint64(size) > uint64(len(body)-r.Pos) {
			return nil, fail(at, "function %d: size %d beyond the end of the section", i, size)
		}
		fr := wasmbin.Reader{B: body[:r.Pos+int(size)], Pos: r.Pos}
		fn, err = rewriteFunc(fn[:0], &fr, sc)
		if err != nil {
			return nil, fail(fr.Pos, "function %d: %v", i, err)
		}
		r.Pos += int(size)
		out = wasmbin.AppendU32(out, uint32(len(fn)))
		out = append(out, fn...)
	}
	if r.Pos != len(body) {
		return nil, fail(r.Pos, "%d bytes after the last function", len(body)-r.Pos)
	}
	return out, nil
}

// rewriteFunc appends to out the function body r holds from r.Pos to its
// end (locals and code) with sc.check inserted after the locals and after
// every loop's block type. On an error, r.Pos is near what it could not
// read.
func rewriteFunc(out []byte, r *wasmbin.Reader, sc *codeScan) ([]byte, error) {
	b, first := r.B, r.Pos
	n, err := r.U32()
	if err != nil {
		return nil, fmt.Errorf("locals: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		if _, err := r.U32(); err != nil {
			return nil, fmt.Errorf("locals: %w", err)
		}
		t, err := r.Byte()
		if err != nil {
			return nil, fmt.Errorf("locals: %w", err)
		}
		if !wasmbin.IsValType(t) {
			return nil, fmt.Errorf("locals: unknown value type 0x%02x", t)
		}
	}
	out = append(out, b[first:r.Pos]...)
	out = append(out, sc.check...)
	last := r.Pos
	depth := 1 // the function body's own block
	for depth > 0 {
		if r.Pos >= len(b) {
			return nil, errors.New("code ends before the function's end")
		}
		at := r.Pos
		op := b[r.Pos]
		r.Pos++
		if sc.resetBlocker == "" {
			sc.resetBlocker = stateChange(op, b[r.Pos:])
		}
		if err := r.Immediates(op, &depth); err != nil {
			r.Pos = at
			return nil, fmt.Errorf("instruction 0x%02x: %w", op, err)
		}
		if op == wasmbin.OpLoop && sc.check != nil { // check at the head of every iteration
			out = append(out, b[last:r.Pos]...)
			out = append(out, sc.check...)
			last = r.Pos
		}
	}
	if r.Pos != len(b) {
		return nil, fmt.Errorf("%d bytes after the function's end", len(b)-r.Pos)
	}
	return append(out, b[last:]...), nil
}
