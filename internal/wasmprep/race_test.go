//go:build race

package wasmprep

// raceEnabled: the race detector slows wazero's compiler about tenfold.
const raceEnabled = true
