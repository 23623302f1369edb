;; extguest.wat: an http-wasm guest that imports a host extension of the
;; tests, test_counter: handle_request asks it to fill its memory at offset
;; 1024 and answers what it wrote as the response body.
;; Rebuild: wat2wasm host/testdata/extguest.wat -o host/testdata/extguest.wasm
(module
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (import "test_counter" "fill" (func $fill (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64)
    (call $write_body (i32.const 1) (i32.const 1024)
      (call $fill (i32.const 1024) (i32.const 256)))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
