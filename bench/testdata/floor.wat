;; floor.wat: the call shape of guest-examples/hello-wat with nothing behind
;; it. handle_request makes the same five host calls with the same
;; signatures (set_header_value, get_uri, write_body x3), to host functions
;; that do nothing: what wazero itself costs a WAT hello request.
;; Rebuild: wat2wasm bench/testdata/floor.wat -o bench/testdata/floor.wasm
(module
  (import "floor" "five" (func $five (param i32 i32 i32 i32 i32)))
  (import "floor" "two" (func $two (param i32 i32) (result i32)))
  (import "floor" "three" (func $three (param i32 i32 i32)))

  (memory (export "memory") 1 1)

  (func (export "handle_request") (result i64)
    (local $n i32)
    (call $five (i32.const 1) (i32.const 32) (i32.const 12) (i32.const 48) (i32.const 25))
    (local.set $n (call $two (i32.const 1024) (i32.const 64512)))
    (call $three (i32.const 1) (i32.const 0) (i32.const 22))
    (if (i32.le_u (local.get $n) (i32.const 64512))
      (then (call $three (i32.const 1) (i32.const 1024) (local.get $n))))
    (call $three (i32.const 1) (i32.const 80) (i32.const 1))
    (i64.const 0))
)
