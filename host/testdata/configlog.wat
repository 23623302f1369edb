;; configlog.wat: get_config and log. handle_request reads the guest config,
;; logs it at info level when info is enabled, and answers it as the body.
;; Rebuild: wat2wasm host/testdata/configlog.wat -o host/testdata/configlog.wasm
(module
  (import "http_handler" "get_config" (func $get_config (param i32 i32) (result i32)))
  (import "http_handler" "log_enabled" (func $log_enabled (param i32) (result i32)))
  (import "http_handler" "log" (func $log (param i32 i32 i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64)
    (local $len i32)
    (local.set $len (call $get_config (i32.const 0) (i32.const 65536)))
    (if (call $log_enabled (i32.const 0))
      (then (call $log (i32.const 0) (i32.const 0) (local.get $len))))
    (call $write_body (i32.const 1) (i32.const 0) (local.get $len))
    (i64.const 0)))
