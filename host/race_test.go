//go:build race

package host

// raceEnabled: the race detector reserves terabytes of address space, so
// FuzzServePath's child cannot limit its own.
const raceEnabled = true
