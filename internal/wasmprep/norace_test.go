//go:build !race

package wasmprep

const raceEnabled = false
