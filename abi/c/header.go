// Package c holds http_handler.h, the C header of the http-wasm handler ABI,
// so that tools such as `wasmserve new --lang c` can write it into a project.
package c

import _ "embed" // for Header

// Header is the text of http_handler.h.
//
//go:embed http_handler.h
var Header []byte
