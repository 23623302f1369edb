;; probe.wat: imports every http_handler function and re-exports it as
;; "call_<name>" with the same signature, so that tests can call each host
;; function with any pointer and length and then inspect guest memory.
;; Memory is exactly one page (64 KiB), so offset 65536 is out of range.
;; handle_request calls the test's hook (import "test" "hook") and returns
;; the i64 the hook leaves in its global. handle_response stores its
;; arguments in the globals resp_ctx and resp_err, then calls the hook.
;; Rebuild: wat2wasm host/executor/httpwasm/testdata/probe.wat -o host/executor/httpwasm/testdata/probe.wasm
(module
  (import "http_handler" "enable_features" (func $enable_features (param i32) (result i32)))
  (import "http_handler" "get_config" (func $get_config (param i32 i32) (result i32)))
  (import "http_handler" "log_enabled" (func $log_enabled (param i32) (result i32)))
  (import "http_handler" "log" (func $log (param i32 i32 i32)))
  (import "http_handler" "get_method" (func $get_method (param i32 i32) (result i32)))
  (import "http_handler" "set_method" (func $set_method (param i32 i32)))
  (import "http_handler" "get_uri" (func $get_uri (param i32 i32) (result i32)))
  (import "http_handler" "set_uri" (func $set_uri (param i32 i32)))
  (import "http_handler" "get_protocol_version" (func $get_protocol_version (param i32 i32) (result i32)))
  (import "http_handler" "get_source_addr" (func $get_source_addr (param i32 i32) (result i32)))
  (import "http_handler" "get_header_names" (func $get_header_names (param i32 i32 i32) (result i64)))
  (import "http_handler" "get_header_values" (func $get_header_values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "add_header_value" (func $add_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "remove_header" (func $remove_header (param i32 i32 i32)))
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (import "http_handler" "get_status_code" (func $get_status_code (result i32)))
  (import "http_handler" "set_status_code" (func $set_status_code (param i32)))
  (import "test" "hook" (func $hook))

  (memory (export "memory") 1 1)
  (global $result (export "result") (mut i64) (i64.const 0))

  (func (export "set_result") (param i64) (global.set $result (local.get 0)))
  (func (export "handle_request") (result i64) (call $hook) (global.get $result))
  (global $resp_ctx (export "resp_ctx") (mut i32) (i32.const 0))
  (global $resp_err (export "resp_err") (mut i32) (i32.const 0))
  (func (export "handle_response") (param i32 i32)
    (global.set $resp_ctx (local.get 0))
    (global.set $resp_err (local.get 1))
    (call $hook))

  (func (export "call_enable_features") (param i32) (result i32) (call $enable_features (local.get 0)))
  (func (export "call_get_config") (param i32 i32) (result i32) (call $get_config (local.get 0) (local.get 1)))
  (func (export "call_log_enabled") (param i32) (result i32) (call $log_enabled (local.get 0)))
  (func (export "call_log") (param i32 i32 i32) (call $log (local.get 0) (local.get 1) (local.get 2)))
  (func (export "call_get_method") (param i32 i32) (result i32) (call $get_method (local.get 0) (local.get 1)))
  (func (export "call_set_method") (param i32 i32) (call $set_method (local.get 0) (local.get 1)))
  (func (export "call_get_uri") (param i32 i32) (result i32) (call $get_uri (local.get 0) (local.get 1)))
  (func (export "call_set_uri") (param i32 i32) (call $set_uri (local.get 0) (local.get 1)))
  (func (export "call_get_protocol_version") (param i32 i32) (result i32) (call $get_protocol_version (local.get 0) (local.get 1)))
  (func (export "call_get_source_addr") (param i32 i32) (result i32) (call $get_source_addr (local.get 0) (local.get 1)))
  (func (export "call_get_header_names") (param i32 i32 i32) (result i64) (call $get_header_names (local.get 0) (local.get 1) (local.get 2)))
  (func (export "call_get_header_values") (param i32 i32 i32 i32 i32) (result i64) (call $get_header_values (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)))
  (func (export "call_set_header_value") (param i32 i32 i32 i32 i32) (call $set_header_value (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)))
  (func (export "call_add_header_value") (param i32 i32 i32 i32 i32) (call $add_header_value (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)))
  (func (export "call_remove_header") (param i32 i32 i32) (call $remove_header (local.get 0) (local.get 1) (local.get 2)))
  (func (export "call_read_body") (param i32 i32 i32) (result i64) (call $read_body (local.get 0) (local.get 1) (local.get 2)))
  (func (export "call_write_body") (param i32 i32 i32) (call $write_body (local.get 0) (local.get 1) (local.get 2)))
  (func (export "call_get_status_code") (result i32) (call $get_status_code))
  (func (export "call_set_status_code") (param i32) (call $set_status_code (local.get 0)))
)
