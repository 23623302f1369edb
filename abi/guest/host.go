//go:build wasip1

package guest

import "github.com/wasmserve/wasmserve/abi"

// LogLevel is a log level of the host's log function, the ABI's.
type LogLevel = abi.LogLevel

// Log levels understood by the host.
const (
	// LogLevelDebug is for verbose diagnostics.
	LogLevelDebug = abi.LogLevelDebug
	// LogLevelInfo is for informational messages.
	LogLevelInfo = abi.LogLevelInfo
	// LogLevelWarn is for conditions that deserve attention.
	LogLevelWarn = abi.LogLevelWarn
	// LogLevelError is for errors, such as a recovered handler panic.
	LogLevelError = abi.LogLevelError
	// LogLevelNone disables logging; LogEnabled(LogLevelNone) is false.
	LogLevelNone = abi.LogLevelNone
)

// Log sends msg to the host's logger at the given level. The host may drop
// messages below its configured level; use LogEnabled to skip building
// expensive messages.
func Log(level LogLevel, msg string) {
	hostLog(level, msg)
}

// LogEnabled reports whether the host would record a message logged at
// level.
func LogEnabled(level LogLevel) bool {
	return logEnabled(level) != 0
}

// Config returns the guest configuration the host was started with (for
// example, the contents of a config file given to the server for this
// module). It returns a fresh copy on each call, or nil when there is none.
func Config() []byte {
	b := readHostValue(&scratch, getConfig)
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// scratch is the growable buffer that host values are read into. Wasm
// modules are single-threaded and the host calls one export at a time, so a
// package-level buffer is safe and saves allocating one per request.
var scratch = make([]byte, 2048)

// namesBuf holds the header-name list while scratch is reused for each
// header's values.
var namesBuf = make([]byte, 1024)

// ensure grows *buf to at least n bytes, discarding its contents.
func ensure(buf *[]byte, n uint32) {
	if uint32(len(*buf)) < n {
		*buf = make([]byte, roundUp(n))
	}
}

// roundUp rounds n up to a power of two, at least 64, so that repeated
// growth settles quickly.
func roundUp(n uint32) uint32 {
	c := uint32(64)
	for c < n && c < 1<<31 {
		c <<= 1
	}
	if c < n {
		return n
	}
	return c
}

// readHostValue calls a "(buf, buf_limit) -> len" host function with *buf,
// growing *buf and calling again when the value did not fit. The result
// aliases *buf and is valid until the next use of that buffer.
func readHostValue(buf *[]byte, fn func(*byte, uint32) uint32) []byte {
	for {
		b := *buf
		n := fn(&b[0], uint32(len(b)))
		if n <= uint32(len(b)) {
			return b[:n]
		}
		ensure(buf, n)
	}
}
