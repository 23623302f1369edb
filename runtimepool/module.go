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
