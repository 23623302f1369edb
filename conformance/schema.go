// Package conformance holds the JSON Schema of wasmserve's HTTP case files,
// cases.schema.json, so that `wasmserve test --schema` can print it; the
// cases every example handler passes are beside it (README.md).
package conformance

import _ "embed" // for Schema

// Schema is cases.schema.json: the format of a case file (JSON Schema
// 2020-12).
//
//go:embed cases.schema.json
var Schema []byte
