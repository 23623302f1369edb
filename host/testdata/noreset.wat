;; noreset.wat: a guest whose isolates cannot be reset, only replaced: it
;; imports fd_close, which could change the instance's descriptor table (it
;; never calls it). Answers "ok".
;; Rebuild: wat2wasm host/testdata/noreset.wat -o host/testdata/noreset.wasm
(module
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "ok")
  (func (export "handle_request") (result i64)
    (call $write_body (i32.const 1) (i32.const 0) (i32.const 2))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32))
)
