package wasmbin

import (
	"errors"
	"fmt"
)

// MaxLocals bounds the locals one function may declare, as the web's
// engines do (V8 and SpiderMonkey: 50 000). wazero reserves room for the
// declared sum before it looks at the code, so a body declaring 2^32 locals
// in six bytes would make it allocate gigabytes.
const MaxLocals = 50000

// Check is the structural pre-check every module passes before its bytes
// reach wazero: at start, on every reload, in `wasmserve check`. It walks the
// section headers and every entry of the sections wazero decodes eagerly
// (type, import, function, table, memory, tag, global, export, start,
// element, data count, code, data, and the "name" custom section) and
// refuses, with a [*FormatError]:
//
//   - a section that overruns the module, or an LEB128 longer than its width;
//   - a vector count, name length or byte-vector length larger than what is
//     left of its section (every entry takes at least one byte);
//   - a function declaring more than [MaxLocals] locals;
//   - anything else it cannot read where wazero would read it.
//
// wazero allocates room for a declared count before it reads the entries
// (see RATIONALE.md): without this check, 15 bytes declaring 2^32 imports
// make it ask for hundreds of gigabytes, a fatal error no recover catches.
// Check reads instruction streams only inside constant expressions; function
// bodies are left to the rewriter and wazero, which allocate nothing per
// declared count there.
func Check(wasm []byte) error {
	_, err := CheckSections(wasm)
	return err
}

// CheckSections is [Check] returning the sections it split the module into
// (see [Sections]), for a caller that goes on to read them.
func CheckSections(wasm []byte) ([]Section, error) {
	secs, err := Sections(wasm)
	if err != nil {
		return nil, err
	}
	for _, s := range secs {
		c := checker{r: Reader{B: wasm[:s.Offset+len(s.Body)], Pos: s.Offset}, name: SectionName(s.ID)}
		if err := c.section(s.ID); err != nil {
			return nil, err
		}
	}
	return secs, nil
}

// checker walks one section; its reader ends where the section ends, so
// that no read can go beyond it, and its offsets are the module's.
type checker struct {
	r    Reader
	name string
	at   int // where the value being read starts
}

// fail returns a FormatError at the offset of the value being read.
func (c *checker) fail(format string, args ...any) error {
	return &FormatError{Section: c.name, Offset: c.at, Reason: fmt.Sprintf(format, args...)}
}

// wrap turns a reader's error about what into a FormatError.
func (c *checker) wrap(what string, err error) error {
	var fe *FormatError
	if errors.As(err, &fe) {
		return err
	}
	if errors.Is(err, ErrEOF) {
		return c.fail("%s: the section ends before it", what)
	}
	return c.fail("%s: %v", what, err)
}

// u32 reads an unsigned LEB128 number named what.
func (c *checker) u32(what string) (uint32, error) {
	c.at = c.r.Pos
	v, err := c.r.U32()
	if err != nil {
		return 0, c.wrap(what, err)
	}
	return v, nil
}

// suffixedU32 is u32 of a number named what+suffix, the two joined only
// for an error: Check reads such a number for every data segment and
// function body of a module, tens of thousands in a Go guest.
func (c *checker) suffixedU32(what, suffix string) (uint32, error) {
	c.at = c.r.Pos
	v, err := c.r.U32()
	if err != nil {
		return 0, c.wrap(what+suffix, err)
	}
	return v, nil
}

// byte reads one byte named what.
func (c *checker) byte(what string) (byte, error) {
	c.at = c.r.Pos
	b, err := c.r.Byte()
	if err != nil {
		return 0, c.wrap(what, err)
	}
	return b, nil
}

// count reads a vector count named what and refuses one larger than the
// bytes left in the section: each entry takes at least one byte.
func (c *checker) count(what string) (uint32, error) {
	n, err := c.suffixedU32(what, " count")
	if err != nil {
		return 0, err
	}
	if uint64(n) > uint64(c.r.Len()) {
		return 0, c.fail("%s count %d exceeds the %d bytes left in the section (each entry takes at least one byte)", what, n, c.r.Len())
	}
	return n, nil
}

// bytes skips a length-prefixed byte vector (a name or a data segment's
// contents) named what.
func (c *checker) bytes(what string) error {
	n, err := c.suffixedU32(what, " length")
	if err != nil {
		return err
	}
	if uint64(n) > uint64(c.r.Len()) {
		return c.fail("%s length %d exceeds the %d bytes left in the section", what, n, c.r.Len())
	}
	c.r.Pos += int(n)
	return nil
}

// vec reads a count and calls entry for each entry, naming the entry in
// errors.
func (c *checker) vec(what string, entry func() error) error {
	n, err := c.count(what)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		if err := entry(); err != nil {
			var fe *FormatError
			if errors.As(err, &fe) {
				fe.Reason = fmt.Sprintf("%s %d: %s", what, i, fe.Reason)
			}
			return err
		}
	}
	return nil
}

// valType reads a value type: a number, vector or reference type, exnref,
// or a typed reference (0x63/0x64 and a heap type).
func (c *checker) valType() error {
	t, err := c.byte("value type")
	if err != nil {
		return err
	}
	switch {
	case IsValType(t), t == 0x69: // exnref
		return nil
	case t == 0x63 || t == 0x64: // (ref null ht), (ref ht)
		if _, err := c.r.LEB(33, true); err != nil {
			return c.wrap("heap type", err)
		}
		return nil
	}
	return c.fail("unknown value type 0x%02x", t)
}

// limits reads table or memory limits.
func (c *checker) limits() error {
	c.at = c.r.Pos
	if _, err := c.r.Limits(); err != nil {
		return c.wrap("limits", err)
	}
	return nil
}

// constExpr reads a constant expression up to its end.
func (c *checker) constExpr() error {
	for depth := 1; depth > 0; {
		op, err := c.byte("constant expression")
		if err != nil {
			return err
		}
		if err := c.r.Immediates(op, &depth); err != nil {
			return c.wrap("constant expression", err)
		}
	}
	return nil
}

func (c *checker) funcType() error {
	form, err := c.byte("type form")
	if err != nil {
		return err
	}
	if form != FuncType {
		return c.fail("unknown type form 0x%02x (want 0x60, a function type)", form)
	}
	if err := c.vec("parameter", c.valType); err != nil {
		return err
	}
	return c.vec("result", c.valType)
}

func (c *checker) importEntry() error {
	if err := c.bytes("module name"); err != nil {
		return err
	}
	if err := c.bytes("name"); err != nil {
		return err
	}
	kind, err := c.byte("import kind")
	if err != nil {
		return err
	}
	switch kind {
	case ExternFunc:
		_, err = c.u32("type index")
	case ExternTable:
		if err = c.valType(); err == nil {
			err = c.limits()
		}
	case ExternMemory:
		err = c.limits()
	case ExternGlobal:
		if err = c.valType(); err == nil {
			_, err = c.byte("mutability")
		}
	case ExternTag:
		if _, err = c.byte("tag attribute"); err == nil {
			_, err = c.u32("type index")
		}
	default:
		return c.fail("unknown import kind 0x%02x", kind)
	}
	return err
}

func (c *checker) global() error {
	if err := c.valType(); err != nil {
		return err
	}
	if _, err := c.byte("mutability"); err != nil {
		return err
	}
	return c.constExpr()
}

func (c *checker) export() error {
	if err := c.bytes("name"); err != nil {
		return err
	}
	if _, err := c.byte("export kind"); err != nil {
		return err
	}
	_, err := c.u32("index")
	return err
}

func (c *checker) index() error {
	_, err := c.u32("index")
	return err
}

func (c *checker) element() error {
	flags, err := c.u32("element segment flags")
	if err != nil {
		return err
	}
	if flags > 7 {
		return c.fail("unknown element segment flags %d (want 0 to 7)", flags)
	}
	if flags&3 == 2 { // active with a table index
		if _, err := c.u32("table index"); err != nil {
			return err
		}
	}
	if flags&1 == 0 { // active: an offset
		if err := c.constExpr(); err != nil {
			return err
		}
	}
	if flags&3 != 0 { // an element kind or a reference type
		if flags&4 == 0 {
			if _, err := c.byte("element kind"); err != nil {
				return err
			}
		} else if err := c.valType(); err != nil {
			return err
		}
	}
	if flags&4 == 0 {
		return c.vec("function index", c.index)
	}
	return c.vec("initialiser", c.constExpr)
}

func (c *checker) data() error {
	flags, err := c.u32("data segment flags")
	if err != nil {
		return err
	}
	switch flags {
	case 0:
		err = c.constExpr()
	case 1:
	case 2:
		if _, err = c.u32("memory index"); err == nil {
			err = c.constExpr()
		}
	default:
		return c.fail("unknown data segment flags %d (want 0 to 2)", flags)
	}
	if err != nil {
		return err
	}
	return c.bytes("contents")
}

func (c *checker) code() error {
	size, err := c.u32("function size")
	if err != nil {
		return err
	}
	if uint64(size) > uint64(c.r.Len()) {
		return c.fail("function size %d exceeds the %d bytes left in the section", size, c.r.Len())
	}
	end := c.r.Pos + int(size)
	outer := c.r.B
	c.r.B = c.r.B[:end]
	defer func() { c.r.B, c.r.Pos = outer, end }()
	var sum uint64
	return c.vec("local declaration", func() error {
		n, err := c.u32("local count")
		if err != nil {
			return err
		}
		if sum += uint64(n); sum > MaxLocals {
			return c.fail("the function declares %d or more locals, above the limit of %d", sum, MaxLocals)
		}
		return c.valType()
	})
}

func (c *checker) tag() error {
	if _, err := c.byte("tag attribute"); err != nil {
		return err
	}
	_, err := c.u32("type index")
	return err
}

// names reads the "name" custom section's subsections: the module name,
// function names and local names, which wazero decodes; others are skipped.
func (c *checker) names() error {
	for c.r.Len() > 0 {
		id, err := c.byte("subsection id")
		if err != nil {
			return err
		}
		size, err := c.u32("subsection size")
		if err != nil {
			return err
		}
		if uint64(size) > uint64(c.r.Len()) {
			return c.fail("subsection %d size %d exceeds the %d bytes left in the section", id, size, c.r.Len())
		}
		end := c.r.Pos + int(size)
		outer := c.r.B
		c.r.B = c.r.B[:end]
		nameAssoc := func() error {
			if _, err := c.u32("index"); err != nil {
				return err
			}
			return c.bytes("name")
		}
		switch id {
		case 0:
			err = c.bytes("module name")
		case 1:
			err = c.vec("function name", nameAssoc)
		case 2:
			err = c.vec("function", func() error {
				if _, err := c.u32("function index"); err != nil {
					return err
				}
				return c.vec("local name", nameAssoc)
			})
		}
		if err != nil {
			return err
		}
		c.r.B, c.r.Pos = outer, end
	}
	return nil
}

// section walks the section with the given id.
func (c *checker) section(id byte) error {
	var err error
	switch id {
	case SecCustom:
		c.at = c.r.Pos
		name, nerr := c.r.Name()
		if nerr != nil {
			return c.wrap("custom section name", nerr)
		}
		c.name = fmt.Sprintf("custom %q", name)
		if name == "name" {
			return c.names()
		}
		return nil // other custom sections are kept as bytes, or skipped
	case SecType:
		err = c.vec("type", c.funcType)
	case SecImport:
		err = c.vec("import", c.importEntry)
	case SecFunction:
		err = c.vec("function", c.index)
	case SecTable:
		err = c.vec("table", func() error {
			if err := c.valType(); err != nil {
				return err
			}
			return c.limits()
		})
	case SecMemory:
		err = c.vec("memory", c.limits)
	case SecTag:
		err = c.vec("tag", c.tag)
	case SecGlobal:
		err = c.vec("global", c.global)
	case SecExport:
		err = c.vec("export", c.export)
	case SecStart:
		err = c.index()
	case SecElement:
		err = c.vec("element segment", c.element)
	case SecDataCount:
		_, err = c.u32("data count")
	case SecCode:
		err = c.vec("function body", c.code)
	case SecData:
		err = c.vec("data segment", c.data)
	}
	if err != nil {
		return err
	}
	if c.r.Len() > 0 {
		c.at = c.r.Pos
		return c.fail("%d bytes after the section's last entry", c.r.Len())
	}
	return nil
}
