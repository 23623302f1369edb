;; bufreq.wat: buffer_request. handle_request enables it for this request,
;; reads only the first 5 bytes of the request body (less if it is shorter),
;; copies them into the request header "x-first", and returns next=1: the
;; upstream must still receive the whole body.
;; Rebuild: wat2wasm host/testdata/bufreq.wat -o host/testdata/bufreq.wasm
(module
  (import "http_handler" "enable_features" (func $enable_features (param i32) (result i32)))
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "x-first")
  (func (export "handle_request") (result i64)
    (local $n i32) (local $r i64)
    (drop (call $enable_features (i32.const 1)))
    (block $done
      (loop $more
        (br_if $done (i32.ge_u (local.get $n) (i32.const 5)))
        (local.set $r (call $read_body (i32.const 0) (i32.add (i32.const 64) (local.get $n)) (i32.sub (i32.const 5) (local.get $n))))
        (local.set $n (i32.add (local.get $n) (i32.wrap_i64 (local.get $r))))
        (br_if $done (i64.ne (i64.shr_u (local.get $r) (i64.const 32)) (i64.const 0)))
        (br $more)))
    (call $set_header_value (i32.const 0) (i32.const 0) (i32.const 7) (i32.const 64) (local.get $n))
    (i64.const 1))
  (func (export "handle_response") (param i32 i32)))
