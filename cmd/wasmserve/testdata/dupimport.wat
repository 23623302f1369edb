;; dupimport.wat: an http-wasm handler that imports one WASI function twice,
;; as Go's wasip1 port does with fd_write and random_get.
;; Rebuild: wat2wasm cmd/wasmserve/testdata/dupimport.wat -o cmd/wasmserve/testdata/dupimport.wasm
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w1 (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $w2 (param i32 i32 i32 i32) (result i32)))
  (import "http_handler" "set_status_code" (func $status (param i32)))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64)
    (call $status (i32.const 204))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
