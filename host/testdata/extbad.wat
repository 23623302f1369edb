;; extbad.wat: imports the tests' test_counter.fill with the wrong signature.
;; Rebuild: wat2wasm host/testdata/extbad.wat -o host/testdata/extbad.wasm
(module
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (import "test_counter" "fill" (func $fill (param i64) (result i32)))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64) (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
