;; startconfig.wat: reads the guest config and logs it in its start function
;; (_initialize), as a Go guest calling guest.Config() in init does, keeps
;; it at offset 1024, and answers it as every response's body.
;; Rebuild: wat2wasm host/testdata/startconfig.wat -o host/testdata/startconfig.wasm
(module
  (import "http_handler" "get_config" (func $get_config (param i32 i32) (result i32)))
  (import "http_handler" "log" (func $log (param i32 i32 i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $len (mut i32) (i32.const 0))
  (func (export "_initialize")
    (global.set $len (call $get_config (i32.const 1024) (i32.const 4096)))
    (call $log (i32.const 0) (i32.const 1024) (global.get $len)))
  (func (export "handle_request") (result i64)
    (call $write_body (i32.const 1) (i32.const 1024) (global.get $len))
    (i64.const 0)))
