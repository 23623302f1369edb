;; bufresp.wat: buffer_response. The start function enables it for every
;; request; handle_response reads the upstream's body and answers
;; "[" body "]" with status 201 and "x-upstream-status" set to the status it
;; read (as the header "x-upstream-was-200: yes" when it was 200). When the
;; upstream failed (is_error=1) it answers 503 "upstream down".
;; Rebuild: wat2wasm host/testdata/bufresp.wat -o host/testdata/bufresp.wasm
(module
  (import "http_handler" "enable_features" (func $enable_features (param i32) (result i32)))
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (import "http_handler" "get_status_code" (func $get_status_code (result i32)))
  (import "http_handler" "set_status_code" (func $set_status_code (param i32)))
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "[")
  (data (i32.const 1) "]")
  (data (i32.const 16) "upstream down")
  (data (i32.const 32) "x-upstream-was-200")
  (data (i32.const 64) "yes")
  (func (export "_initialize") (drop (call $enable_features (i32.const 2))))
  (func (export "handle_request") (result i64) (i64.const 1))
  (func (export "handle_response") (param $ctx i32) (param $is_error i32)
    (local $n i32) (local $r i64)
    (if (local.get $is_error)
      (then
        (call $set_status_code (i32.const 503))
        (call $write_body (i32.const 1) (i32.const 16) (i32.const 13))
        (return)))
    (if (i32.eq (call $get_status_code) (i32.const 200))
      (then (call $set_header_value (i32.const 1) (i32.const 32) (i32.const 18) (i32.const 64) (i32.const 3))))
    ;; read the whole body at 1024, in pieces of at most 7 bytes.
    (block $done
      (loop $more
        (local.set $r (call $read_body (i32.const 1) (i32.add (i32.const 1024) (local.get $n)) (i32.const 7)))
        (local.set $n (i32.add (local.get $n) (i32.wrap_i64 (local.get $r))))
        (br_if $done (i64.ne (i64.shr_u (local.get $r) (i64.const 32)) (i64.const 0)))
        (br $more)))
    (call $set_status_code (i32.const 201))
    (call $write_body (i32.const 1) (i32.const 0) (i32.const 1))
    (call $write_body (i32.const 1) (i32.const 1024) (local.get $n))
    (call $write_body (i32.const 1) (i32.const 1) (i32.const 1))))
