package wasmbin

import "fmt"

// Opcode is the first byte of an instruction (core spec §5.4).
type Opcode = byte

// The opcodes the project reads or writes by name. The numeric ranges
// (loads and stores, comparisons and arithmetic) are spelled through their
// first and last members.
const (
	OpUnreachable        Opcode = 0x00
	OpNop                Opcode = 0x01
	OpBlock              Opcode = 0x02
	OpLoop               Opcode = 0x03
	OpIf                 Opcode = 0x04
	OpElse               Opcode = 0x05
	OpTry                Opcode = 0x06 // legacy exception handling
	OpCatch              Opcode = 0x07
	OpThrow              Opcode = 0x08
	OpRethrow            Opcode = 0x09
	OpThrowRef           Opcode = 0x0A
	OpEnd                Opcode = 0x0B
	OpBr                 Opcode = 0x0C
	OpBrIf               Opcode = 0x0D
	OpBrTable            Opcode = 0x0E
	OpReturn             Opcode = 0x0F
	OpCall               Opcode = 0x10
	OpCallIndirect       Opcode = 0x11
	OpReturnCall         Opcode = 0x12
	OpReturnCallIndirect Opcode = 0x13
	OpDelegate           Opcode = 0x18
	OpCatchAll           Opcode = 0x19
	OpDrop               Opcode = 0x1A
	OpSelect             Opcode = 0x1B
	OpSelectT            Opcode = 0x1C
	OpTryTable           Opcode = 0x1F
	OpLocalGet           Opcode = 0x20
	OpLocalSet           Opcode = 0x21
	OpLocalTee           Opcode = 0x22
	OpGlobalGet          Opcode = 0x23
	OpGlobalSet          Opcode = 0x24
	OpTableGet           Opcode = 0x25
	OpTableSet           Opcode = 0x26
	OpI32Load            Opcode = 0x28 // first load
	OpI64Store32         Opcode = 0x3E // last store
	OpMemorySize         Opcode = 0x3F
	OpMemoryGrow         Opcode = 0x40
	OpI32Const           Opcode = 0x41
	OpI64Const           Opcode = 0x42
	OpF32Const           Opcode = 0x43
	OpF64Const           Opcode = 0x44
	OpI32Eqz             Opcode = 0x45 // first numeric instruction
	OpI32LtS             Opcode = 0x48
	OpI32Sub             Opcode = 0x6B
	OpI64Extend32S       Opcode = 0xC4 // last numeric instruction
	OpRefNull            Opcode = 0xD0
	OpRefIsNull          Opcode = 0xD1
	OpRefFunc            Opcode = 0xD2
	OpPrefixMisc         Opcode = 0xFC // saturating truncation, bulk memory, tables
	OpPrefixSIMD         Opcode = 0xFD
	OpPrefixAtomic       Opcode = 0xFE
)

// The sub-opcodes after [OpPrefixMisc] the project names.
const (
	MiscMemoryInit = 8
	MiscDataDrop   = 9
	MiscMemoryCopy = 10
	MiscMemoryFill = 11
	MiscTableInit  = 12
	MiscElemDrop   = 13
	MiscTableCopy  = 14
	MiscTableGrow  = 15
	MiscTableSize  = 16
	MiscTableFill  = 17
)

// Value types, and the empty block type.
const (
	ValI32       byte = 0x7F
	ValI64       byte = 0x7E
	ValF32       byte = 0x7D
	ValF64       byte = 0x7C
	ValV128      byte = 0x7B
	ValFuncref   byte = 0x70
	ValExternref byte = 0x6F
	BlockEmpty   byte = 0x40
	FuncType     byte = 0x60 // starts a function type in the type section
)

// IsValType reports whether t is a number, vector or reference type.
func IsValType(t byte) bool {
	switch t {
	case ValI32, ValI64, ValF32, ValF64, ValV128, ValFuncref, ValExternref:
		return true
	}
	return false
}

// Immediates skips the immediates of op, already read, and tracks the block
// depth: block, loop, if, try and try_table open one; end and delegate close
// one. An opcode it does not know is an error.
func (r *Reader) Immediates(op Opcode, depth *int) error {
	var err error
	switch {
	case op == OpBlock || op == OpLoop || op == OpIf || op == OpTry:
		*depth++
		err = r.BlockType()
	case op == OpEnd:
		*depth--
	case op == OpDelegate: // ends a try block: label
		*depth--
		_, err = r.U32()
	case op == OpUnreachable, op == OpNop, op == OpElse, op == OpThrowRef, op == OpReturn, op == OpCatchAll,
		op == OpDrop, op == OpSelect, op >= OpI32Eqz && op <= OpI64Extend32S, op == OpRefIsNull:
		// none (numeric ones include sign extension)
	case op == OpCatch, op == OpThrow, op == OpRethrow, op == OpBr, op == OpBrIf, op == OpCall, op == OpReturnCall,
		op >= OpLocalGet && op <= OpTableSet, op == OpRefFunc, op == OpMemorySize, op == OpMemoryGrow:
		_, err = r.U32()
	case op == OpBrTable:
		var n uint32
		if n, err = r.U32(); err == nil {
			for i := uint32(0); i <= n && err == nil; i++ {
				_, err = r.U32()
			}
		}
	case op == OpCallIndirect, op == OpReturnCallIndirect: // type and table
		if _, err = r.U32(); err == nil {
			_, err = r.U32()
		}
	case op == OpSelectT:
		var n uint32
		if n, err = r.U32(); err == nil {
			for i := uint32(0); i < n && err == nil; i++ {
				var t byte
				if t, err = r.Byte(); err == nil && !IsValType(t) {
					err = fmt.Errorf("select: unknown value type 0x%02x", t)
				}
			}
		}
	case op == OpTryTable:
		*depth++
		err = r.tryTable()
	case op >= OpI32Load && op <= OpI64Store32:
		err = r.MemArg()
	case op == OpI32Const:
		_, err = r.LEB(32, true)
	case op == OpI64Const:
		_, err = r.LEB(64, true)
	case op == OpF32Const:
		err = r.Skip(4)
	case op == OpF64Const:
		err = r.Skip(8)
	case op == OpRefNull: // heap type
		_, err = r.LEB(33, true)
	case op == OpPrefixMisc:
		err = r.prefixMisc()
	case op == OpPrefixSIMD:
		err = r.prefixSIMD()
	case op == OpPrefixAtomic:
		err = r.prefixAtomic()
	default:
		return fmt.Errorf("unknown opcode 0x%02x", op)
	}
	return err
}

// SkipConstExpr skips a constant expression (or any instruction sequence)
// up to and including the end that closes it.
func (r *Reader) SkipConstExpr() error {
	for depth := 1; depth > 0; {
		op, err := r.Byte()
		if err != nil {
			return err
		}
		if err := r.Immediates(op, &depth); err != nil {
			return err
		}
	}
	return nil
}

// BlockType skips a block type: [BlockEmpty], a value type, or an s33 type
// index.
func (r *Reader) BlockType() error {
	v, err := r.LEB(33, true)
	if err != nil {
		return fmt.Errorf("block type: %w", err)
	}
	if v < 0 && v != -0x40 && !IsValType(byte(v&0x7F)) {
		return fmt.Errorf("block type: unknown type 0x%02x", byte(v&0x7F))
	}
	return nil
}

// tryTable skips try_table's block type and catch clauses.
func (r *Reader) tryTable() error {
	if err := r.BlockType(); err != nil {
		return err
	}
	n, err := r.U32()
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		kind, err := r.Byte()
		if err != nil {
			return err
		}
		switch kind {
		case 0x00, 0x01: // catch, catch_ref: tag and label
			if _, err := r.U32(); err != nil {
				return err
			}
		case 0x02, 0x03: // catch_all, catch_all_ref: label
		default:
			return fmt.Errorf("try_table: unknown catch kind 0x%02x", kind)
		}
		if _, err := r.U32(); err != nil {
			return err
		}
	}
	return nil
}

// prefixMisc skips a saturating truncation, bulk memory or table instruction.
func (r *Reader) prefixMisc() error {
	sub, err := r.U32()
	if err != nil {
		return err
	}
	imms := 0
	switch {
	case sub <= 7: // trunc_sat
	case sub == MiscMemoryInit, sub == MiscMemoryCopy, sub == MiscTableInit, sub == MiscTableCopy:
		imms = 2
	case sub == MiscDataDrop, sub == MiscMemoryFill, sub == MiscElemDrop, sub >= MiscTableGrow && sub <= MiscTableFill:
		imms = 1
	default:
		return fmt.Errorf("unknown opcode 0xfc 0x%x", sub)
	}
	for ; imms > 0; imms-- {
		if _, err := r.U32(); err != nil {
			return err
		}
	}
	return nil
}

// prefixSIMD skips a SIMD instruction (fixed-width and relaxed).
func (r *Reader) prefixSIMD() error {
	sub, err := r.U32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 11 || sub == 92 || sub == 93: // loads, stores, load_zero
		return r.MemArg()
	case sub == 12, sub == 13: // v128.const, i8x16.shuffle
		return r.Skip(16)
	case sub >= 21 && sub <= 34: // extract and replace lane
		return r.Skip(1)
	case sub >= 84 && sub <= 91: // load and store lane
		if err := r.MemArg(); err != nil {
			return err
		}
		return r.Skip(1)
	case sub <= 0x113: // everything else, relaxed SIMD included: none
		return nil
	}
	return fmt.Errorf("unknown opcode 0xfd 0x%x", sub)
}

// prefixAtomic skips an atomic (threads) instruction.
func (r *Reader) prefixAtomic() error {
	sub, err := r.U32()
	if err != nil {
		return err
	}
	switch {
	case sub == 0x03: // atomic.fence
		return r.Skip(1)
	case sub <= 0x02, sub >= 0x10 && sub <= 0x4E:
		return r.MemArg()
	}
	return fmt.Errorf("unknown opcode 0xfe 0x%x", sub)
}
