package httpwasm

import "net/http"

// internSlots is the number of strings an [internTable] remembers, a power
// of two.
const internSlots = 16

// internMaxLen is the longest byte string an [internTable] remembers;
// longer ones are converted every time.
const internMaxLen = 128

// internTable turns byte strings from guest memory into Go strings,
// remembering the last one of each slot so that a guest sending the same
// header name or value on every request allocates it once per isolate, not
// once per request. It is direct-mapped: two strings sharing a slot evict
// each other, which costs an allocation and nothing else. A table belongs
// to one Guest and is not safe for concurrent use.
type internTable struct {
	slots [internSlots]internEntry
}

type internEntry struct {
	raw string // the guest's bytes
	s   string // what they convert to
}

// slot picks b's slot from its length and three of its bytes: enough to
// tell apart the few names and values one guest sets, at a constant cost.
func slot(b []byte) int {
	n := len(b)
	if n == 0 {
		return 0
	}
	h := uint(n)*31 + uint(b[0])*7 + uint(b[n/2])*3 + uint(b[n-1])
	return int(h & (internSlots - 1))
}

// convert returns conv(string(b)), reusing the string of the last call
// with the same bytes in b's slot. conv must be a pure function, and
// conv("") must be "" (the value of an unused slot).
func (t *internTable) convert(b []byte, conv func(string) string) string {
	if len(b) > internMaxLen {
		return conv(string(b))
	}
	e := &t.slots[slot(b)]
	if e.raw == string(b) {
		return e.s
	}
	raw := string(b)
	*e = internEntry{raw: raw, s: conv(raw)}
	return e.s
}

func same(s string) string { return s }

// headerName returns the canonical form of the header name b, as keys of
// an http.Header are.
func (g *Guest) headerName(b []byte) string {
	return g.names.convert(b, http.CanonicalHeaderKey)
}

// headerValue returns the header value b as a string.
func (g *Guest) headerValue(b []byte) string {
	return g.values.convert(b, same)
}
