;; trap.wat: sets a response header, then traps (unreachable).
;; Rebuild: wat2wasm host/testdata/trap.wat -o host/testdata/trap.wasm
(module
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1 1)
  (data (i32.const 0) "x-guest")
  (data (i32.const 16) "leaked")
  (func (export "handle_request") (result i64)
    (call $set_header_value (i32.const 1) (i32.const 0) (i32.const 7) (i32.const 16) (i32.const 6))
    unreachable)
)
