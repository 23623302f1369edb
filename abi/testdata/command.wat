;; command.wat: a command whose _start returns normally (no proc_exit); it
;; sets a global that handle_request then answers with, so a test can see
;; that _start ran and the instance stayed usable.
;; Rebuild: wat2wasm abi/testdata/command.wat -o abi/testdata/command.wasm
(module
  (import "http_handler" "set_status_code" (func $set_status_code (param i32)))
  (memory (export "memory") 1)
  (global $status (mut i32) (i32.const 500))
  (func (export "_start") (global.set $status (i32.const 203)))
  (func (export "handle_request") (result i64)
    (call $set_status_code (global.get $status))
    (i64.const 0)))
