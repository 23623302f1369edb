package runtimepool

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wasmserve/wasmserve/internal/prefault"
)

// InterruptExport is the name under which a rewritten module exports its
// interrupt global (see [RewriteInterruptible]). A module that already
// exports this name is refused.
const InterruptExport = "wasmserve:interrupt"

// GlobalExportPrefix starts the names under which a rewritten module exports
// each mutable global of its own, followed by the global's index, so that the
// pool can snapshot and restore them (see Config.MaxRequestsPerIsolate).
const GlobalExportPrefix = "wasmserve:global:"

// reservedPrefix starts every export name the rewrite adds; a module that
// already exports such a name is refused.
const reservedPrefix = "wasmserve:"

// CountdownExport is the name under which a rewritten module exports its
// countdown global: setting it to 0 with the interrupt flag makes the guest
// check the flag at its next call or loop iteration.
const CountdownExport = "wasmserve:countdown"

// The section ids of the WebAssembly binary format (core spec §5.5.2).
const (
	secCustom    = 0
	secImport    = 2
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secCode      = 10
	secData      = 11
	secDataCount = 12
	secTag       = 13
)

// sectionRank orders the known sections as the spec requires them to appear
// (the tag section of exception handling comes between memory and global, the
// data count section between element and code). 0 is a custom section.
func sectionRank(id byte) int {
	switch {
	case id == secCustom:
		return 0
	case id >= 1 && id <= 5:
		return int(id)
	case id == secTag:
		return 6
	case id >= secGlobal && id <= 9:
		return int(id) + 1
	case id == secDataCount:
		return 11
	case id == secCode || id == 11:
		return int(id) + 2
	}
	return -1
}

// yieldEvery is how many function entries and loop iterations a rewritten
// guest runs between two visits to Go (see [RewriteInterruptible]).
const yieldEvery = 1024

// RewriteInterruptible returns a copy of the module wasm that can be
// interrupted cheaply from the host. It adds two mutable i32 globals: the
// interrupt flag, initialised to 0 and exported as [InterruptExport], and a
// countdown, initialised to yieldEvery. At the entry of every function and
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
//	  i32.const yieldEvery
//	  global.set $countdown
//	end
//	global.get $countdown
//	i32.const 1
//	i32.sub
//	global.set $countdown
//
// Setting the flag to 1 makes the guest trap within yieldEvery calls or
// loop iterations. The visit to Go matters as much as the flag: Go cannot
// preempt a goroutine running compiled wasm, so a guest that never left
// native code would stall the garbage collector's stop-the-world, and with
// it the watchdog meant to interrupt it. The module must therefore have a
// memory.
//
// Function body and section sizes are recomputed, .debug_* custom sections
// are dropped (their code offsets would be wrong), and every other byte is
// kept. An instruction it does not know is an error; the caller should then
// use another way to interrupt the guest.
func RewriteInterruptible(wasm []byte) ([]byte, error) {
	out, _, err := rewriteErr(wasm, true)
	return out, err
}

// section is one section of the input, its contents without id and size.
type section struct {
	id   byte
	body []byte
}

// moduleInfo is what rewrite learned about a module on its way through.
type moduleInfo struct {
	// globals are the export names rewrite gave the module's own mutable
	// globals (see GlobalExportPrefix), in index order.
	globals []string
	// resetBlocker says why an isolate of the module cannot be reset to its
	// state after start (see resetsafe.go); empty when it can.
	resetBlocker string
	// hostImports are the functions the module imports that this package
	// does not know to be reset-safe, as "module.name": those of WASI it
	// does not list, and the first of every other module. Whether they
	// block resets is for the pool's caller to say
	// (Config.ResetSafeImports).
	hostImports []string
}

// rewrite returns a copy of wasm with every mutable global of its own
// exported under GlobalExportPrefix and, when checks is set, the interrupt
// checks of RewriteInterruptible inserted.
func rewrite(wasm []byte, checks bool) ([]byte, moduleInfo, error) {
	var info moduleInfo
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, info, errors.New("not a WebAssembly binary (no \\0asm magic)")
	}
	if !bytes.Equal(wasm[4:8], []byte{1, 0, 0, 0}) {
		return nil, info, fmt.Errorf("unsupported binary version % x", wasm[4:8])
	}
	var secs []section
	seen := map[byte]bool{}
	r := reader{b: wasm, pos: 8}
	for r.pos < len(r.b) {
		id := r.b[r.pos]
		r.pos++
		size, err := r.u32()
		if err != nil {
			return nil, info, fmt.Errorf("section %d: size: %w", id, err)
		}
		if uint64(size) > uint64(len(r.b)-r.pos) {
			return nil, info, fmt.Errorf("section %d: size %d beyond the end of the module", id, size)
		}
		if sectionRank(id) < 0 {
			return nil, info, fmt.Errorf("unknown section id %d", id)
		}
		if id != secCustom {
			if seen[id] {
				return nil, info, fmt.Errorf("section %d: appears twice", id)
			}
			seen[id] = true
		}
		secs = append(secs, section{id: id, body: r.b[r.pos : r.pos+int(size)]})
		r.pos += int(size)
	}

	// The new globals' indices come after every imported and defined one.
	var imp imports
	var err error
	var mutable []uint32
	memories, index := 0, uint32(0)
	blocker := func(why string) {
		if info.resetBlocker == "" {
			info.resetBlocker = why
		}
	}
	for _, s := range secs {
		if s.id == secImport {
			if imp, err = scanImports(s.body); err != nil {
				return nil, info, fmt.Errorf("import section: %w", err)
			}
			blocker(imp.resetBlocker)
			info.hostImports = imp.host
			memories += imp.memories
			index = imp.globals
		}
	}
	for _, s := range secs {
		if s.id == secMemory {
			n, shared, err := scanMemories(s.body)
			if err != nil {
				return nil, info, fmt.Errorf("memory section: %w", err)
			}
			if shared {
				blocker("it has a shared memory")
			}
			memories += int(n)
		}
	}
	if checks && memories == 0 {
		return nil, info, errors.New("the module has no memory, which the inserted checks need to yield to Go")
	}
	if memories > 1 {
		blocker("it has more than one memory")
	}
	for _, s := range secs {
		if s.id == secGlobal {
			var why string
			mutable, why, err = scanGlobals(s.body, index)
			if err != nil {
				return nil, info, fmt.Errorf("global section: %w", err)
			}
			blocker(why)
			n, _ := (&reader{b: s.body}).u32()
			if uint64(index)+uint64(n) >= 1<<32-2 {
				return nil, info, errors.New("global section: too many globals")
			}
			index += n
		}
	}
	for _, g := range mutable {
		info.globals = append(info.globals, GlobalExportPrefix+strconv.FormatUint(uint64(g), 10))
	}

	out := prefault.Make(0, len(wasm)+len(wasm)/8+64)
	out = append(out, wasm[:8]...)
	doneGlobal, doneExport := !checks, false
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	newGlobal := func(old []byte) ([]byte, error) {
		entries := []byte{0x7F, 0x01, 0x41, 0x00, 0x0B} // flag: (mut i32) (i32.const 0)
		entries = append(entries, 0x7F, 0x01, 0x41)     // countdown
		entries = appendS32(entries, yieldEvery)
		entries = append(entries, 0x0B)
		return appendVec(old, entries, 2)
	}
	newExport := func(old []byte) ([]byte, error) {
		if err := checkExports(old); err != nil {
			return nil, err
		}
		var entries []byte
		add := func(name string, idx uint32) {
			entries = appendU32(entries, uint32(len(name)))
			entries = append(entries, name...)
			entries = append(entries, 0x03) // global
			entries = appendU32(entries, idx)
		}
		if checks {
			add(InterruptExport, index)
			add(CountdownExport, index+1)
		}
		for i, g := range mutable {
			add(info.globals[i], g)
		}
		return appendVec(old, entries, uint32(len(mutable))+2*b2u(checks))
	}
	var code codeScan
	if checks {
		code.check = interruptCheck(index)
	}
	for _, s := range secs {
		rank := sectionRank(s.id)
		if s.id != secCustom {
			if !doneGlobal && rank > sectionRank(secGlobal) {
				b, _ := newGlobal(nil)
				emit(secGlobal, b)
				doneGlobal = true
			}
			if !doneExport && rank > sectionRank(secExport) {
				b, err := newExport(nil)
				if err != nil {
					return nil, info, err
				}
				emit(secExport, b)
				doneExport = true
			}
		}
		switch s.id {
		case secCustom:
			name, err := (&reader{b: s.body}).name()
			if err != nil {
				return nil, info, fmt.Errorf("custom section: name: %w", err)
			}
			if checks && strings.HasPrefix(name, ".debug_") {
				continue
			}
			emit(s.id, s.body)
		case secGlobal:
			if !checks {
				emit(s.id, s.body)
				continue
			}
			b, err := newGlobal(s.body)
			if err != nil {
				return nil, info, fmt.Errorf("global section: %w", err)
			}
			emit(s.id, b)
			doneGlobal = true
		case secExport:
			b, err := newExport(s.body)
			if err != nil {
				return nil, info, fmt.Errorf("export section: %w", err)
			}
			emit(s.id, b)
			doneExport = true
		case secData:
			if seen[secDataCount] {
				emit(s.id, s.body) // memory.init or data.drop may name segments
				continue
			}
			b, _, err := mergeData(s.body)
			if err != nil {
				return nil, info, fmt.Errorf("data section: %w", err)
			}
			emit(s.id, b)
		case secCode:
			b, err := rewriteCode(s.body, &code)
			if err != nil {
				return nil, info, fmt.Errorf("code section: %w", err)
			}
			blocker(code.resetBlocker)
			emit(s.id, b)
		default:
			emit(s.id, s.body)
		}
	}
	if !doneGlobal {
		b, _ := newGlobal(nil)
		emit(secGlobal, b)
	}
	if !doneExport {
		b, err := newExport(nil)
		if err != nil {
			return nil, info, err
		}
		emit(secExport, b)
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
		r := reader{b: old}
		c, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("count: %w", err)
		}
		if uint64(c)+uint64(n) > 1<<32-1 {
			return nil, errors.New("count: too many entries")
		}
		count, rest = c, old[r.pos:]
	}
	b := appendU32(nil, count+n)
	b = append(b, rest...)
	return append(b, entries...), nil
}

// checkExports refuses an export section that already uses a name starting
// with "wasmserve:", which the rewrite's own exports use.
func checkExports(body []byte) error {
	if body == nil {
		return nil
	}
	r := reader{b: body}
	n, err := r.u32()
	if err != nil {
		return fmt.Errorf("count: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		name, err := r.name()
		if err != nil {
			return fmt.Errorf("export %d: %w", i, err)
		}
		if strings.HasPrefix(name, reservedPrefix) {
			return fmt.Errorf("export %d: the module already exports %q, a name reserved for wasmserve", i, name)
		}
		if _, err := r.byte(); err != nil {
			return fmt.Errorf("export %d: %w", i, err)
		}
		if _, err := r.u32(); err != nil {
			return fmt.Errorf("export %d: %w", i, err)
		}
	}
	return nil
}

// interruptCheck is the code inserted at every function entry and loop head
// (see RewriteInterruptible), for the flag global at index flag and the
// countdown at flag+1.
func interruptCheck(flag uint32) []byte {
	get := func(b []byte, idx uint32) []byte { return appendU32(append(b, 0x23), idx) }
	set := func(b []byte, idx uint32) []byte { return appendU32(append(b, 0x24), idx) }
	count := flag + 1
	b := get(nil, count)
	// countdown < 1, signed, not countdown == 0: the host's store of 0 can
	// land between the guest's two reads below, and the guest then writes
	// -1; with == 0 it would run 2^32 more checks (seconds) before the
	// next look at the flag.
	b = append(b, 0x41, 0x01, 0x48, 0x04, 0x40) // i32.const 1; i32.lt_s; if
	b = append(b, 0x41, 0x00, 0x40, 0x00, 0x1A)
	b = get(b, flag)
	b = append(b, 0x04, 0x40, 0x00, 0x0B) // if; unreachable; end
	b = appendS32(append(b, 0x41), yieldEvery)
	b = set(b, count)
	b = append(b, 0x0B) // end
	b = get(b, count)
	b = append(b, 0x41, 0x01, 0x6B) // i32.const 1; i32.sub
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
// and records in sc what it found.
func rewriteCode(body []byte, sc *codeScan) ([]byte, error) {
	r := reader{b: body}
	n, err := r.u32()
	if err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	out := appendU32(prefault.Make(0, len(body)+len(body)/8), n)
	var fn []byte
	for i := uint32(0); i < n; i++ {
		size, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("function %d: size: %w", i, err)
		}
		if uint64(size) > uint64(len(body)-r.pos) {
			return nil, fmt.Errorf("function %d: size %d beyond the end of the section", i, size)
		}
		fn, err = rewriteFunc(fn[:0], body[r.pos:r.pos+int(size)], sc)
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		r.pos += int(size)
		out = appendU32(out, uint32(len(fn)))
		out = append(out, fn...)
	}
	if r.pos != len(body) {
		return nil, fmt.Errorf("%d bytes after the last function", len(body)-r.pos)
	}
	return out, nil
}

// rewriteFunc appends to out the body b (locals and code) with sc.check
// inserted after the locals and after every loop's block type.
func rewriteFunc(out, b []byte, sc *codeScan) ([]byte, error) {
	r := reader{b: b}
	n, err := r.u32()
	if err != nil {
		return nil, fmt.Errorf("locals: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		if _, err := r.u32(); err != nil {
			return nil, fmt.Errorf("locals: %w", err)
		}
		t, err := r.byte()
		if err != nil {
			return nil, fmt.Errorf("locals: %w", err)
		}
		if !isValType(t) {
			return nil, fmt.Errorf("locals: unknown value type 0x%02x", t)
		}
	}
	out = append(out, b[:r.pos]...)
	out = append(out, sc.check...)
	last := r.pos
	depth := 1 // the function body's own block
	for depth > 0 {
		if r.pos >= len(b) {
			return nil, errors.New("code ends before the function's end")
		}
		at := r.pos
		op := b[r.pos]
		r.pos++
		if sc.resetBlocker == "" {
			sc.resetBlocker = stateChange(op, b[r.pos:])
		}
		if err := r.immediates(op, &depth); err != nil {
			return nil, fmt.Errorf("offset %d: %w", at, err)
		}
		if op == 0x03 && sc.check != nil { // loop: check at the head of every iteration
			out = append(out, b[last:r.pos]...)
			out = append(out, sc.check...)
			last = r.pos
		}
	}
	if r.pos != len(b) {
		return nil, fmt.Errorf("%d bytes after the function's end", len(b)-r.pos)
	}
	return append(out, b[last:]...), nil
}

// isValType reports whether t is a number, vector or reference type.
func isValType(t byte) bool {
	switch t {
	case 0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F:
		return true
	}
	return false
}

// immediates skips the immediates of op, already read, and tracks the block
// depth: block, loop, if, try and try_table open one; end closes one.
func (r *reader) immediates(op byte, depth *int) error {
	var err error
	switch {
	case op == 0x02 || op == 0x03 || op == 0x04 || op == 0x06: // block loop if try
		*depth++
		err = r.blockType()
	case op == 0x0B: // end
		*depth--
	case op == 0x18: // delegate ends a try block: label
		*depth--
		_, err = r.u32()
	case op == 0x00, op == 0x01, op == 0x05, op == 0x0A, op == 0x0F, op == 0x19,
		op == 0x1A, op == 0x1B, op >= 0x45 && op <= 0xC4, op == 0xD1:
		// unreachable nop else throw_ref return catch_all drop select,
		// numeric (with sign extension), ref.is_null: none
	case op == 0x07, op == 0x08, op == 0x09, op == 0x0C, op == 0x0D, op == 0x10, op == 0x12,
		op >= 0x20 && op <= 0x26, op == 0xD2, op == 0x3F, op == 0x40:
		// catch throw rethrow br br_if call return_call,
		// local/global/table get/set/tee, ref.func, memory.size/grow
		_, err = r.u32()
	case op == 0x0E: // br_table
		var n uint32
		if n, err = r.u32(); err == nil {
			for i := uint32(0); i <= n && err == nil; i++ {
				_, err = r.u32()
			}
		}
	case op == 0x11, op == 0x13: // call_indirect, return_call_indirect
		if _, err = r.u32(); err == nil {
			_, err = r.u32()
		}
	case op == 0x1C: // select t*
		var n uint32
		if n, err = r.u32(); err == nil {
			for i := uint32(0); i < n && err == nil; i++ {
				var t byte
				if t, err = r.byte(); err == nil && !isValType(t) {
					err = fmt.Errorf("select: unknown value type 0x%02x", t)
				}
			}
		}
	case op == 0x1F: // try_table
		*depth++
		err = r.tryTable()
	case op >= 0x28 && op <= 0x3E: // loads and stores
		err = r.memarg()
	case op == 0x41: // i32.const
		_, err = r.leb(32, true)
	case op == 0x42: // i64.const
		_, err = r.leb(64, true)
	case op == 0x43:
		err = r.skip(4)
	case op == 0x44:
		err = r.skip(8)
	case op == 0xD0: // ref.null: heap type
		_, err = r.leb(33, true)
	case op == 0xFC:
		err = r.prefixFC()
	case op == 0xFD:
		err = r.prefixFD()
	case op == 0xFE:
		err = r.prefixFE()
	default:
		return fmt.Errorf("unknown opcode 0x%02x", op)
	}
	return err
}

// blockType skips a block type: 0x40, a value type, or an s33 type index.
func (r *reader) blockType() error {
	v, err := r.leb(33, true)
	if err != nil {
		return fmt.Errorf("block type: %w", err)
	}
	if v < 0 && v != -0x40 && !isValType(byte(v&0x7F)) {
		return fmt.Errorf("block type: unknown type 0x%02x", byte(v&0x7F))
	}
	return nil
}

// tryTable skips try_table's block type and catch clauses.
func (r *reader) tryTable() error {
	if err := r.blockType(); err != nil {
		return err
	}
	n, err := r.u32()
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		kind, err := r.byte()
		if err != nil {
			return err
		}
		switch kind {
		case 0x00, 0x01: // catch, catch_ref: tag and label
			if _, err := r.u32(); err != nil {
				return err
			}
		case 0x02, 0x03: // catch_all, catch_all_ref: label
		default:
			return fmt.Errorf("try_table: unknown catch kind 0x%02x", kind)
		}
		if _, err := r.u32(); err != nil {
			return err
		}
	}
	return nil
}

// prefixFC skips a saturating truncation, bulk memory or table instruction.
func (r *reader) prefixFC() error {
	sub, err := r.u32()
	if err != nil {
		return err
	}
	imms := 0
	switch {
	case sub <= 7: // trunc_sat
	case sub == 8, sub == 10, sub == 12, sub == 14: // memory.init/copy, table.init/copy
		imms = 2
	case sub == 9, sub == 11, sub == 13, sub >= 15 && sub <= 17: // data.drop memory.fill elem.drop table.grow/size/fill
		imms = 1
	default:
		return fmt.Errorf("unknown opcode 0xfc 0x%x", sub)
	}
	for ; imms > 0; imms-- {
		if _, err := r.u32(); err != nil {
			return err
		}
	}
	return nil
}

// prefixFD skips a SIMD instruction (fixed-width and relaxed).
func (r *reader) prefixFD() error {
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 11 || sub == 92 || sub == 93: // loads, stores, load_zero
		return r.memarg()
	case sub == 12, sub == 13: // v128.const, i8x16.shuffle
		return r.skip(16)
	case sub >= 21 && sub <= 34: // extract and replace lane
		return r.skip(1)
	case sub >= 84 && sub <= 91: // load and store lane
		if err := r.memarg(); err != nil {
			return err
		}
		return r.skip(1)
	case sub <= 0x113: // everything else, relaxed SIMD included: none
		return nil
	}
	return fmt.Errorf("unknown opcode 0xfd 0x%x", sub)
}

// prefixFE skips an atomic (threads) instruction.
func (r *reader) prefixFE() error {
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub == 0x03: // atomic.fence
		return r.skip(1)
	case sub <= 0x02, sub >= 0x10 && sub <= 0x4E:
		return r.memarg()
	}
	return fmt.Errorf("unknown opcode 0xfe 0x%x", sub)
}

// reader decodes the binary format's primitive values.
type reader struct {
	b   []byte
	pos int
}

var errEOF = errors.New("unexpected end")

func (r *reader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, errEOF
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

func (r *reader) skip(n int) error {
	if len(r.b)-r.pos < n {
		return errEOF
	}
	r.pos += n
	return nil
}

func (r *reader) u32() (uint32, error) {
	v, err := r.leb(32, false)
	return uint32(v), err
}

// leb decodes an LEB128 number of at most bits bits, signed or not. It
// checks the length, not the unused bits of the last byte (wazero validates
// the module).
func (r *reader) leb(bits uint, signed bool) (int64, error) {
	var v uint64
	var shift uint
	for {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if shift >= bits {
			return 0, errors.New("integer too long")
		}
		v |= uint64(c&0x7F) << shift
		shift += 7
		if c&0x80 == 0 {
			if signed && shift < 64 && c&0x40 != 0 {
				v |= ^uint64(0) << shift
			}
			return int64(v), nil
		}
	}
}

// name decodes a name: a length and that many bytes.
func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	if uint64(n) > uint64(len(r.b)-r.pos) {
		return "", errEOF
	}
	s := string(r.b[r.pos : r.pos+int(n)])
	r.pos += int(n)
	return s, nil
}

// limits skips table or memory limits: flags, minimum, maybe maximum.
func (r *reader) limits() error {
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if flags > 0x07 {
		return fmt.Errorf("unknown limits flags 0x%02x", flags)
	}
	if _, err := r.leb(64, false); err != nil {
		return err
	}
	if flags&1 != 0 {
		_, err = r.leb(64, false)
	}
	return err
}

// memarg skips a memory argument: alignment (bit 6 set: a memory index
// follows) and offset.
func (r *reader) memarg() error {
	align, err := r.u32()
	if err != nil {
		return err
	}
	if align&0x40 != 0 {
		if _, err := r.u32(); err != nil {
			return err
		}
	}
	_, err = r.leb(64, false)
	return err
}

// appendS32 appends v as signed LEB128.
func appendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// appendU32 appends v as unsigned LEB128.
func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
