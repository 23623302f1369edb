;; outbad.wat: a guest whose wasmserve_http imports do not fit: a function
;; the module does not define, and request with the wrong signature. It
;; must be refused before it runs, and `check` must name both.
;; Rebuild: wat2wasm host/testdata/outbad.wat -o host/testdata/outbad.wasm
(module
  (import "wasmserve_http" "teleport" (func (param i32)))
  (import "wasmserve_http" "request" (func (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64) (i64.const 0)))
