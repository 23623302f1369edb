package runtimepool

import "github.com/wasmserve/wasmserve/internal/wasmprep"

// The names under which a module rewritten for Config.Interruptible exports
// its interrupt flag and its countdown (see Isolate.Interrupt and
// wasmprep.RewriteInterruptible).
const (
	InterruptExport = wasmprep.InterruptExport
	CountdownExport = wasmprep.CountdownExport
)

// Shape is what a module imports and exports (see wasmprep.Shape).
type Shape = wasmprep.Shape

// ReadShape parses wasm (wasmprep.Parse: the structural pre-check, whose
// *wasmbin.FormatError it returns) and returns what it imports and exports.
// A caller that goes on to make a pool of the module parses it itself and
// calls NewParsed, so that the module is parsed once.
func ReadShape(wasm []byte) (Shape, error) {
	mod, err := wasmprep.Parse(wasm)
	if err != nil {
		return Shape{}, err
	}
	return mod.Shape(), nil
}

// RewriteInterruptible is wasmprep.RewriteInterruptible: wasm with the
// checks that Isolate.Interrupt sets off inserted.
func RewriteInterruptible(wasm []byte) ([]byte, error) {
	return wasmprep.RewriteInterruptible(wasm)
}
