;; trailers.wat: the trailers feature. handle_request enables it, reads the
;; request body to its end (trailers arrive after it), reads the request
;; trailer "x-sum", and answers the body "ok" with the response trailer
;; "x-echo-sum" set to that value.
;; Rebuild: wat2wasm host/testdata/trailers.wat -o host/testdata/trailers.wasm
(module
  (import "http_handler" "enable_features" (func $enable_features (param i32) (result i32)))
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (import "http_handler" "get_header_values" (func $get_header_values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "x-sum")
  (data (i32.const 16) "x-echo-sum")
  (data (i32.const 32) "ok")
  (func (export "handle_request") (result i64)
    (local $r i64) (local $len i32)
    (drop (call $enable_features (i32.const 4)))
    (block $done
      (loop $more
        (local.set $r (call $read_body (i32.const 0) (i32.const 4096) (i32.const 4096)))
        (br_if $done (i64.ne (i64.shr_u (local.get $r) (i64.const 32)) (i64.const 0)))
        (br $more)))
    (call $write_body (i32.const 1) (i32.const 32) (i32.const 2))
    ;; the first value of trailer x-sum, NUL-terminated, at 1024.
    (local.set $r (call $get_header_values (i32.const 2) (i32.const 0) (i32.const 5) (i32.const 1024) (i32.const 1024)))
    (local.set $len (i32.wrap_i64 (local.get $r)))
    (if (i32.gt_u (local.get $len) (i32.const 0))
      (then
        (call $set_header_value (i32.const 3) (i32.const 16) (i32.const 10)
          (i32.const 1024) (i32.sub (local.get $len) (i32.const 1)))))
    (i64.const 0)))
