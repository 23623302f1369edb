;; middleware.wat: the README's middleware-mode example. In front of an
;; upstream it adds the request header "x-edge: wasmserve", prefixes the path
;; with /v2 (GET /users?id=1 reaches the upstream as /v2/users?id=1) and
;; returns next=1, so the request goes on to --upstream.
;; Rebuild: wat2wasm host/testdata/middleware.wat -o host/testdata/middleware.wasm
(module
  (import "http_handler" "get_uri" (func $get_uri (param i32 i32) (result i32)))
  (import "http_handler" "set_uri" (func $set_uri (param i32 i32)))
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "/v2")
  (data (i32.const 16) "x-edge")
  (data (i32.const 32) "wasmserve")
  (func (export "handle_request") (result i64)
    (local $len i32)
    ;; the URI lands right after "/v2"; a longer one is left alone.
    (local.set $len (call $get_uri (i32.const 3) (i32.const 4096)))
    (if (i32.le_u (local.get $len) (i32.const 4096))
      (then (call $set_uri (i32.const 0) (i32.add (local.get $len) (i32.const 3)))))
    (call $set_header_value (i32.const 0) (i32.const 16) (i32.const 6) (i32.const 32) (i32.const 9))
    (i64.const 1)))
