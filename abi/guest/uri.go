package guest

// This file has no build constraint so that its tests run natively.

import (
	"net/url"
	"strings"
)

// parseRequestURI is url.ParseRequestURI with a fast path for the common
// origin-form target ("/path?query") that holds nothing to unescape: it
// gives the same URL without the general parser's work, which is
// noticeable in a wasm guest. The fast path fills u, which must be zero; the
// slow path allocates its own.
func parseRequestURI(s string, u *url.URL) (*url.URL, error) {
	if len(s) == 0 || s[0] != '/' || !plainTarget(s) {
		return url.ParseRequestURI(s)
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		u.Path, u.RawQuery = s[:i], s[i+1:]
		u.ForceQuery = u.RawQuery == ""
	} else {
		u.Path = s
	}
	return u, nil
}

// plainTarget reports whether s is a target that net/url keeps exactly as
// it is: a path made only of unreserved characters and the sub-delimiters
// net/url leaves unescaped in paths, and an optional query without
// percent-escapes, fragment, space, control or non-ASCII characters.
func plainTarget(s string) bool {
	inQuery := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c >= 0x7f || c == '%' || c == '#':
			return false
		case c == '?':
			inQuery = true
		case inQuery:
		case !pathByte[c]:
			return false
		}
	}
	return true
}

// pathByte holds the bytes plainTarget accepts in a path: letters, digits,
// and "-_.~/$&+,:;=@". A table, as a call to strings.IndexByte per byte is
// noticeable in a wasm guest.
var pathByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-_.~/$&+,:;=@", byte(c)) >= 0
	}
	return t
}()
