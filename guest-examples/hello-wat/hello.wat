;; hello.wat: the hello example by hand, in WebAssembly text.
;; Answers "Hello from wasmserve: <path>\n" as text/plain.
;; Rebuild: wat2wasm guest-examples/hello-wat/hello.wat -o guest-examples/hello-wat/hello.wasm
(module
  (import "http_handler" "get_uri" (func $get_uri (param i32 i32) (result i32)))
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))

  (memory (export "memory") 1 1)
  (data (i32.const 0) "Hello from wasmserve: ")       ;; 22 bytes
  (data (i32.const 32) "content-type")                ;; 12 bytes
  (data (i32.const 48) "text/plain; charset=utf-8")   ;; 25 bytes
  (data (i32.const 80) "\n")

  ;; The URI is read into [1024, 65536).
  (func (export "handle_request") (result i64)
    (local $n i32)
    (call $set_header_value (i32.const 1) (i32.const 32) (i32.const 12) (i32.const 48) (i32.const 25))
    (local.set $n (call $get_uri (i32.const 1024) (i32.const 64512)))
    (call $write_body (i32.const 1) (i32.const 0) (i32.const 22))
    (if (i32.le_u (local.get $n) (i32.const 64512))
      (then (call $write_body (i32.const 1) (i32.const 1024) (local.get $n))))
    (call $write_body (i32.const 1) (i32.const 80) (i32.const 1))
    (i64.const 0))

  (func (export "handle_response") (param i32 i32))
)
