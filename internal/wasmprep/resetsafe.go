package wasmprep

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// An isolate can be reset to the state it had right after its start
// function, instead of being replaced by a new instance, when all of that
// state lives in its linear memory and its mutable globals: those the pool
// can copy back. The scans below, run by Parse and Rewrite, find what would
// put state anywhere else: a table the code changes, a passive segment it
// drops, a memory or mutable global shared with another module, or a WASI
// function that changes the instance's file descriptor table.

// wasiResetSafe are the WASI functions that keep no state in the instance
// between calls. The rest (path_open, fd_close, fd_renumber,
// fd_fdstat_set_flags, fd_seek, sock_accept, ...) open, close or move file
// descriptors, which a reset could not put back.
var wasiResetSafe = map[string]bool{
	"args_get": true, "args_sizes_get": true,
	"environ_get": true, "environ_sizes_get": true,
	"clock_res_get": true, "clock_time_get": true,
	"fd_write": true, "fd_fdstat_get": true,
	"fd_prestat_get": true, "fd_prestat_dir_name": true,
	"poll_oneoff": true, "proc_exit": true, "sched_yield": true,
	// random_get keeps no state, but a start function that reads it
	// leaves random bytes in memory that a reset would replay; the pool
	// watches for that while instantiating.
	"random_get": true,
}

// HostResetBlocker says why an instance importing hostImports (as
// "module.name", see [Info]) cannot be reset, given the modules and
// functions in safe, which the caller knows to keep no state across calls
// (a WASI function only by its own name); empty when none blocks.
func HostResetBlocker(hostImports, safe []string) string {
	for _, imp := range hostImports {
		module, _, _ := strings.Cut(imp, ".")
		if !slices.Contains(safe, imp) && (module == "wasi_snapshot_preview1" || !slices.Contains(safe, module)) {
			return "it imports " + imp + ", which may keep state outside its memory"
		}
	}
	return ""
}

// imports is what scanImports found in an import section.
type imports struct {
	globals      uint32 // imported globals, which come first in the index space
	memories     int
	resetBlocker string
	host         []string // the first function imported from each non-WASI module, as "module.name"
	modules      []string // every module imported from, once each, in order
}

// scanImports reads an import section.
func scanImports(body []byte) (imports, error) {
	var im imports
	block := func(why string) {
		if im.resetBlocker == "" {
			im.resetBlocker = why
		}
	}
	r := wasmbin.Reader{B: body}
	n, err := r.U32()
	if err != nil {
		return im, err
	}
	for i := uint32(0); i < n; i++ {
		module, err := r.Name()
		if err != nil {
			return im, fmt.Errorf("import %d: module: %w", i, err)
		}
		name, err := r.Name()
		if err != nil {
			return im, fmt.Errorf("import %d: name: %w", i, err)
		}
		if !slices.Contains(im.modules, module) {
			im.modules = append(im.modules, module)
		}
		kind, err := r.Byte()
		if err != nil {
			return im, fmt.Errorf("import %d: %w", i, err)
		}
		switch kind {
		case wasmbin.ExternFunc: // type index
			_, err = r.U32()
			switch {
			case module == "wasi_snapshot_preview1":
				if !wasiResetSafe[name] {
					// Unless the caller replaced it with one
					// of its own (HostResetBlocker's safe).
					im.host = append(im.host, module+"."+name)
				}
			case !slices.ContainsFunc(im.host, func(s string) bool { return strings.HasPrefix(s, module+".") }):
				// Whether a host module keeps state is the
				// caller's knowledge (HostResetBlocker's safe).
				im.host = append(im.host, module+"."+name)
			}
		case wasmbin.ExternTable: // reference type, limits
			block("it imports a table")
			if _, err = r.Byte(); err == nil {
				_, err = r.Limits()
			}
		case wasmbin.ExternMemory: // limits
			block("it imports its memory")
			im.memories++
			_, err = r.Limits()
		case wasmbin.ExternGlobal: // value type, mutability
			im.globals++
			var mut byte
			if _, err = r.Byte(); err == nil {
				if mut, err = r.Byte(); mut == 1 {
					block("it imports a mutable global")
				}
			}
		case wasmbin.ExternTag: // attribute, type index
			if _, err = r.Byte(); err == nil {
				_, err = r.U32()
			}
		default:
			return im, fmt.Errorf("import %d: unknown kind 0x%02x", i, kind)
		}
		if err != nil {
			return im, fmt.Errorf("import %d: %w", i, err)
		}
	}
	return im, nil
}

// scanMemories reads a memory section: how many memories it defines, and
// whether one is shared (threads).
func scanMemories(body []byte) (n uint32, shared bool, err error) {
	r := wasmbin.Reader{B: body}
	if n, err = r.U32(); err != nil {
		return 0, false, fmt.Errorf("count: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		if r.Pos < len(r.B) && r.B[r.Pos]&0x02 != 0 {
			shared = true
		}
		if _, err := r.Limits(); err != nil {
			return 0, false, fmt.Errorf("memory %d: %w", i, err)
		}
	}
	return n, shared, nil
}

// scanGlobals reads a global section whose first global has index first, and
// returns the indices of the mutable globals of a number type. A mutable
// global of another type (v128, a reference) cannot be restored through
// wazero's API and blocks resets.
func scanGlobals(body []byte, first uint32) (mutable []uint32, resetBlocker string, err error) {
	r := wasmbin.Reader{B: body}
	n, err := r.U32()
	if err != nil {
		return nil, "", fmt.Errorf("count: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		t, err := r.Byte()
		if err != nil {
			return nil, "", fmt.Errorf("global %d: %w", i, err)
		}
		if !wasmbin.IsValType(t) {
			return nil, "", fmt.Errorf("global %d: unknown value type 0x%02x", i, t)
		}
		mut, err := r.Byte()
		if err != nil {
			return nil, "", fmt.Errorf("global %d: %w", i, err)
		}
		if mut == 1 {
			switch t {
			case wasmbin.ValI32, wasmbin.ValI64, wasmbin.ValF32, wasmbin.ValF64:
				mutable = append(mutable, first+i)
			default:
				if resetBlocker == "" {
					resetBlocker = fmt.Sprintf("its global %d is a mutable v128 or reference", first+i)
				}
			}
		}
		// The initialiser: a constant expression up to its end.
		depth := 1
		for depth > 0 {
			op, err := r.Byte()
			if err != nil {
				return nil, "", fmt.Errorf("global %d: initialiser: %w", i, err)
			}
			if err := r.Immediates(op, &depth); err != nil {
				return nil, "", fmt.Errorf("global %d: initialiser: %w", i, err)
			}
		}
	}
	return mutable, resetBlocker, nil
}

// stateChange names the instruction op (its immediates follow in rest) when
// it changes an instance's state outside memory and globals: a table's
// contents or size, or which passive segments are left. Otherwise it returns
// "".
func stateChange(op byte, rest []byte) string {
	switch op {
	case wasmbin.OpTableSet:
		return "its code uses table.set"
	case wasmbin.OpPrefixMisc:
		sub, err := (&wasmbin.Reader{B: rest}).U32()
		if err != nil {
			return ""
		}
		switch sub {
		case wasmbin.MiscDataDrop:
			return "its code uses data.drop"
		case wasmbin.MiscTableInit:
			return "its code uses table.init"
		case wasmbin.MiscElemDrop:
			return "its code uses elem.drop"
		case wasmbin.MiscTableCopy:
			return "its code uses table.copy"
		case wasmbin.MiscTableGrow:
			return "its code uses table.grow"
		case wasmbin.MiscTableFill:
			return "its code uses table.fill"
		}
	}
	return ""
}
