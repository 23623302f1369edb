;; copy.wat: the body echo of the in-process benchmarks, doing what the native
;; handler beside it does (io.Copy of the request body into the response,
;; with a Content-Type), so that the two differ only in the ABI: every byte
;; is copied into guest memory by read_body and out by write_body.
;; Rebuild: wat2wasm bench/testdata/copy.wat -o bench/testdata/copy.wasm
(module
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))

  (memory (export "memory") 2)
  (data (i32.const 0) "content-type")       ;; 12 bytes
  (data (i32.const 16) "application/json")  ;; 16 bytes

  (func (export "handle_request") (result i64)
    (local $r i64)
    (call $set_header_value (i32.const 1) (i32.const 0) (i32.const 12) (i32.const 16) (i32.const 16))
    ;; read_body answers the length read in the low 32 bits and 1 in the
    ;; high ones at the end of the body.
    (loop $more
      (local.set $r (call $read_body (i32.const 0) (i32.const 1024) (i32.const 65536)))
      (if (i32.wrap_i64 (local.get $r))
        (then (call $write_body (i32.const 1) (i32.const 1024) (i32.wrap_i64 (local.get $r)))))
      (br_if $more (i64.eqz (i64.shr_u (local.get $r) (i64.const 32)))))
    (i64.const 0))

  (func (export "handle_response") (param i32 i32))
)
