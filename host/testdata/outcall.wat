;; outcall.wat: a small guest of the wasmserve_http module, for the host
;; tests that need many isolates cheaply or a guest that breaks the rules.
;;   /bad   calls wasmserve_http.request with a URL pointer past the end of
;;          its memory (the call must trap)
;;   /start answers what request returned in _initialize, in decimal
;;          (-code: a start function cannot call out)
;;   other  GETs the URL given as the guest config and answers its status
;;          and body; a failed call answers 502 with the error code in
;;          decimal
;; Rebuild: wat2wasm host/testdata/outcall.wat -o host/testdata/outcall.wasm
(module
  (import "http_handler" "get_uri" (func $get_uri (param i32 i32) (result i32)))
  (import "http_handler" "get_config" (func $get_config (param i32 i32) (result i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (import "http_handler" "set_status_code" (func $set_status_code (param i32)))
  (import "wasmserve_http" "request" (func $request (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasmserve_http" "send" (func $send (param i32) (result i32)))
  (import "wasmserve_http" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (import "wasmserve_http" "close" (func $close (param i32)))

  ;; Memory: [0,3) "GET"; [3,22) a URL; [1024,2048) the URI; [2048,2064) decimal
  ;; scratch; [4096,8192) the URL; [16384,32768) body chunks.
  (memory (export "memory") 1)
  (data (i32.const 0) "GET")
  (data (i32.const 3) "http://127.0.0.1:1/")

  ;; What request returned in the start function.
  (global $atStart (mut i32) (i32.const 0))

  (func (export "_initialize")
    (global.set $atStart (call $request (i32.const 0) (i32.const 3) (i32.const 3) (i32.const 19) (i32.const 0))))

  ;; fail answers 502 with -code in decimal.
  (func $fail (param $code i32)
    (local $p i32) (local $v i32)
    (call $set_status_code (i32.const 502))
    (local.set $v (i32.sub (i32.const 0) (local.get $code)))
    (local.set $p (i32.const 2064))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digits (local.get $v)))
    (call $write_body (i32.const 1) (local.get $p) (i32.sub (i32.const 2064) (local.get $p))))

  (func (export "handle_request") (result i64)
    (local $n i32) (local $h i32) (local $st i32) (local $r i64)
    (drop (call $get_uri (i32.const 1024) (i32.const 1024)))
    (if (i32.eq (i32.load8_u (i32.const 1025)) (i32.const 115)) ;; 's'
      (then (call $fail (global.get $atStart)) (return (i64.const 0))))
    (if (i32.eq (i32.load8_u (i32.const 1025)) (i32.const 98)) ;; 'b'
      (then
        (drop (call $request (i32.const 0) (i32.const 3) (i32.const 65530) (i32.const 64) (i32.const 0)))
        (return (i64.const 0))))
    (local.set $n (call $get_config (i32.const 4096) (i32.const 4096)))
    (local.set $h (call $request (i32.const 0) (i32.const 3) (i32.const 4096) (local.get $n) (i32.const 0)))
    (if (i32.lt_s (local.get $h) (i32.const 0))
      (then (call $fail (local.get $h)) (return (i64.const 0))))
    (local.set $st (call $send (local.get $h)))
    (if (i32.lt_s (local.get $st) (i32.const 0))
      (then (call $fail (local.get $st)) (call $close (local.get $h)) (return (i64.const 0))))
    (call $set_status_code (local.get $st))
    (block $done
      (loop $chunks
        (local.set $r (call $read_body (local.get $h) (i32.const 16384) (i32.const 16384)))
        (if (i64.lt_s (local.get $r) (i64.const 0))
          (then (call $fail (i32.wrap_i64 (local.get $r))) (br $done)))
        (call $write_body (i32.const 1) (i32.const 16384) (i32.wrap_i64 (local.get $r)))
        (br_if $chunks (i64.eqz (i64.shr_u (local.get $r) (i64.const 32))))))
    (call $close (local.get $h))
    (i64.const 0)))
