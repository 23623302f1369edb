;; badimport.wat: imports a function the http-wasm ABI does not define.
;; Rebuild: wat2wasm cmd/wasmserve/testdata/badimport.wat -o cmd/wasmserve/testdata/badimport.wasm
(module
  (import "http_handler" "get_moon_phase" (func (result i32)))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64) (i64.const 0)))
