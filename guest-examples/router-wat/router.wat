;; router.wat: the conformance router (conformance/README.md) by hand, in
;; WebAssembly text. Every host function of the http_handler module is
;; called by one of its routes; the strings are in data segments at the
;; offsets their comments give, each used as (offset, length).
;;
;; Rebuild (Debian: apt-get install wabt):
;;   wat2wasm guest-examples/router-wat/router.wat -o guest-examples/router-wat/router.wasm
(module
  (import "http_handler" "enable_features" (func $enable_features (param i32) (result i32)))
  (import "http_handler" "get_config" (func $get_config (param i32 i32) (result i32)))
  (import "http_handler" "log_enabled" (func $log_enabled (param i32) (result i32)))
  (import "http_handler" "log" (func $log (param i32 i32 i32)))
  (import "http_handler" "get_method" (func $get_method (param i32 i32) (result i32)))
  (import "http_handler" "set_method" (func $set_method (param i32 i32)))
  (import "http_handler" "get_uri" (func $get_uri (param i32 i32) (result i32)))
  (import "http_handler" "set_uri" (func $set_uri (param i32 i32)))
  (import "http_handler" "get_protocol_version" (func $get_protocol_version (param i32 i32) (result i32)))
  (import "http_handler" "get_source_addr" (func $get_source_addr (param i32 i32) (result i32)))
  (import "http_handler" "get_header_names" (func $get_header_names (param i32 i32 i32) (result i64)))
  (import "http_handler" "get_header_values" (func $get_header_values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "add_header_value" (func $add_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "remove_header" (func $remove_header (param i32 i32 i32)))
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (import "http_handler" "get_status_code" (func $get_status_code (result i32)))
  (import "http_handler" "set_status_code" (func $set_status_code (param i32)))

  ;; One page: strings in [0, 2048), the URI in [2048, 4096), a value and
  ;; body buffer in [4096, 20480), header names in [20480, 28672), header
  ;; values in [28672, 36864).
  (memory (export "memory") 1 1)
  (global $uri i32 (i32.const 2048))
  (global $uri_size i32 (i32.const 2048))
  (global $buf i32 (i32.const 4096))
  (global $buf_size i32 (i32.const 16384))
  (global $names i32 (i32.const 20480))
  (global $names_size i32 (i32.const 8192))
  (global $values i32 (i32.const 28672))
  (global $values_size i32 (i32.const 8192))
  (data (i32.const 0) "text/plain; charset=utf-8")                   ;; $text_type, 25 bytes
  (data (i32.const 28) "content-type")                                ;; $content_type, 12 bytes
  (data (i32.const 40) "application/octet-stream")                    ;; $octet, 24 bytes
  (data (i32.const 64) "/hello")                                      ;; $p_hello, 6 bytes
  (data (i32.const 72) "/request")                                    ;; $p_request, 8 bytes
  (data (i32.const 80) "/headers")                                    ;; $p_headers, 8 bytes
  (data (i32.const 88) "/echo")                                       ;; $p_echo, 5 bytes
  (data (i32.const 96) "/status")                                     ;; $p_status, 7 bytes
  (data (i32.const 104) "/config")                                     ;; $p_config, 7 bytes
  (data (i32.const 112) "/log")                                        ;; $p_log, 4 bytes
  (data (i32.const 116) "/rewrite")                                    ;; $p_rewrite, 8 bytes
  (data (i32.const 124) "/trailers")                                   ;; $p_trailers, 9 bytes
  (data (i32.const 136) "/next")                                       ;; $p_next, 5 bytes
  (data (i32.const 144) "hello\n")                                     ;; $hello, 6 bytes
  (data (i32.const 152) "ok\n")                                        ;; $ok, 3 bytes
  (data (i32.const 156) "teapot\n")                                    ;; $teapot, 7 bytes
  (data (i32.const 164) "logged\n")                                    ;; $logged, 7 bytes
  (data (i32.const 172) "rewritten\n")                                 ;; $rewritten, 10 bytes
  (data (i32.const 184) "not found\n")                                 ;; $not_found, 10 bytes
  (data (i32.const 196) "too many headers\n")                          ;; $too_many, 17 bytes
  (data (i32.const 216) "x-method")                                    ;; $x_method, 8 bytes
  (data (i32.const 224) "x-uri")                                       ;; $x_uri, 5 bytes
  (data (i32.const 232) "x-protocol")                                  ;; $x_protocol, 10 bytes
  (data (i32.const 244) "x-source-addr")                               ;; $x_source_addr, 13 bytes
  (data (i32.const 260) "x-drop")                                      ;; $x_drop, 6 bytes
  (data (i32.const 268) "x-set-by-guest")                              ;; $x_set_by_guest, 14 bytes
  (data (i32.const 284) "yes")                                         ;; $yes, 3 bytes
  (data (i32.const 288) "no")                                          ;; $no, 2 bytes
  (data (i32.const 292) "x-multi")                                     ;; $x_multi, 7 bytes
  (data (i32.const 300) "three")                                       ;; $three, 5 bytes
  (data (i32.const 308) "x-set")                                       ;; $x_set, 5 bytes
  (data (i32.const 316) "one")                                         ;; $one, 3 bytes
  (data (i32.const 320) "x-add")                                       ;; $x_add, 5 bytes
  (data (i32.const 328) "a")                                           ;; $a, 1 bytes
  (data (i32.const 332) "b")                                           ;; $b, 1 bytes
  (data (i32.const 336) "x-removed")                                   ;; $x_removed, 9 bytes
  (data (i32.const 348) "gone")                                        ;; $gone, 4 bytes
  (data (i32.const 352) ": ")                                          ;; $colon, 2 bytes
  (data (i32.const 356) "\n")                                          ;; $nl, 1 bytes
  (data (i32.const 360) "x-status-read")                               ;; $x_status_read, 13 bytes
  (data (i32.const 376) "x-log-enabled")                               ;; $x_log_enabled, 13 bytes
  (data (i32.const 392) "x-log-debug")                                 ;; $x_log_debug, 11 bytes
  (data (i32.const 404) "conformance: hello from the guest")           ;; $log_msg, 33 bytes
  (data (i32.const 440) "PUT")                                         ;; $PUT, 3 bytes
  (data (i32.const 444) "/rewritten?by=guest")                         ;; $target, 19 bytes
  (data (i32.const 464) "x-trailers")                                  ;; $x_trailers, 10 bytes
  (data (i32.const 476) "on")                                          ;; $on, 2 bytes
  (data (i32.const 480) "off")                                         ;; $off, 3 bytes
  (data (i32.const 484) "x-checksum")                                  ;; $x_checksum, 10 bytes
  (data (i32.const 496) "x-checksum-echo")                             ;; $x_checksum_echo, 15 bytes
  (data (i32.const 512) "x-trailer")                                   ;; $x_trailer, 9 bytes
  (data (i32.const 524) "done")                                        ;; $done, 4 bytes
  (data (i32.const 528) "conformance: handle_response got the wrong request context") ;; $bad_ctx, 58 bytes

  ;; Header and body kinds, log levels, features.
  (global $req i32 (i32.const 0))
  (global $resp i32 (i32.const 1))
  (global $req_trailers i32 (i32.const 2))
  (global $resp_trailers i32 (i32.const 3))
  (global $log_debug i32 (i32.const -1))
  (global $log_info i32 (i32.const 0))
  (global $log_error i32 (i32.const 2))
  (global $feature_trailers i32 (i32.const 4))

  ;; The length of the URI of this request (0 when it did not fit).
  (global $uri_len (mut i32) (i32.const 0))

  ;; write appends (ptr, len) to the response body.
  (func $write (param $ptr i32) (param $len i32)
    (call $write_body (global.get $resp) (local.get $ptr) (local.get $len)))

  ;; set_resp sets response header (name) to (value).
  (func $set_resp (param $n i32) (param $nl i32) (param $v i32) (param $vl i32)
    (call $set_header_value (global.get $resp) (local.get $n) (local.get $nl) (local.get $v) (local.get $vl)))

  (func $text
    (call $set_resp (i32.const 28) (i32.const 12) (i32.const 0) (i32.const 25)))

  ;; memeq reports whether len bytes at a and b are equal.
  (func $memeq (param $a i32) (param $b i32) (param $len i32) (result i32)
    (block $differ
      (loop $next
        (if (i32.eqz (local.get $len)) (then (return (i32.const 1))))
        (br_if $differ (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $len (i32.sub (local.get $len) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; strlen is the length of the NUL-terminated string at p.
  (func $strlen (param $p i32) (result i32)
    (local $q i32)
    (local.set $q (local.get $p))
    (block $end
      (loop $next
        (br_if $end (i32.eqz (i32.load8_u (local.get $q))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $next)))
    (i32.sub (local.get $q) (local.get $p)))

  ;; path_is reports whether the URI's path is (p, len): the URI equals it
  ;; or continues with a query.
  (func $path_is (param $p i32) (param $len i32) (result i32)
    (if (i32.lt_u (global.get $uri_len) (local.get $len)) (then (return (i32.const 0))))
    (if (i32.eqz (call $memeq (global.get $uri) (local.get $p) (local.get $len)))
      (then (return (i32.const 0))))
    (if (i32.eq (global.get $uri_len) (local.get $len)) (then (return (i32.const 1))))
    (i32.eq (i32.load8_u (i32.add (global.get $uri) (local.get $len))) (i32.const 63))) ;; '?'

  ;; put sets response header (name) to the len bytes a get_ function just
  ;; read into $buf, or to "" when the value did not fit.
  (func $put (param $n i32) (param $nl i32) (param $len i32)
    (if (i32.gt_u (local.get $len) (global.get $buf_size)) (then (local.set $len (i32.const 0))))
    (call $set_resp (local.get $n) (local.get $nl) (global.get $buf) (local.get $len)))

  (func $route_request
    (call $put (i32.const 216) (i32.const 8) (call $get_method (global.get $buf) (global.get $buf_size)))
    (call $put (i32.const 224) (i32.const 5) (call $get_uri (global.get $buf) (global.get $buf_size)))
    (call $put (i32.const 232) (i32.const 10) (call $get_protocol_version (global.get $buf) (global.get $buf_size)))
    (call $put (i32.const 244) (i32.const 13) (call $get_source_addr (global.get $buf) (global.get $buf_size)))
    (call $text)
    (call $write (i32.const 152) (i32.const 3)))

  ;; route_headers changes the request headers, lists them in the body
  ;; ("name: value\n" for each value), and sets, adds and removes
  ;; response headers.
  (func $route_headers
    (local $r i64) (local $len i32) (local $i i32) (local $name i32) (local $nl i32)
    (local $vlen i32) (local $j i32) (local $value i32) (local $vl i32)
    (call $remove_header (global.get $req) (i32.const 260) (i32.const 6))
    (call $set_header_value (global.get $req) (i32.const 268) (i32.const 14) (i32.const 284) (i32.const 3))
    (call $add_header_value (global.get $req) (i32.const 292) (i32.const 7) (i32.const 300) (i32.const 5))
    (call $set_resp (i32.const 308) (i32.const 5) (i32.const 316) (i32.const 3))
    (call $add_header_value (global.get $resp) (i32.const 320) (i32.const 5) (i32.const 328) (i32.const 1))
    (call $add_header_value (global.get $resp) (i32.const 320) (i32.const 5) (i32.const 332) (i32.const 1))
    (call $set_resp (i32.const 336) (i32.const 9) (i32.const 348) (i32.const 4))
    (call $remove_header (global.get $resp) (i32.const 336) (i32.const 9))
    (call $text)
    (local.set $r (call $get_header_names (global.get $req) (global.get $names) (global.get $names_size)))
    (local.set $len (i32.wrap_i64 (local.get $r)))
    (if (i32.gt_u (local.get $len) (global.get $names_size))
      (then
        (call $set_status_code (i32.const 431))
        (call $write (i32.const 196) (i32.const 17))
        (return)))
    (block $names_done
      (loop $next_name
        (br_if $names_done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $name (i32.add (global.get $names) (local.get $i)))
        (local.set $nl (call $strlen (local.get $name)))
        (local.set $r (call $get_header_values (global.get $req) (local.get $name) (local.get $nl)
          (global.get $values) (global.get $values_size)))
        (local.set $vlen (i32.wrap_i64 (local.get $r)))
        (if (i32.le_u (local.get $vlen) (global.get $values_size))
          (then
            (local.set $j (i32.const 0))
            (block $values_done
              (loop $next_value
                (br_if $values_done (i32.ge_u (local.get $j) (local.get $vlen)))
                (local.set $value (i32.add (global.get $values) (local.get $j)))
                (local.set $vl (call $strlen (local.get $value)))
                (call $write (local.get $name) (local.get $nl))
                (call $write (i32.const 352) (i32.const 2))
                (call $write (local.get $value) (local.get $vl))
                (call $write (i32.const 356) (i32.const 1))
                (local.set $j (i32.add (local.get $j) (i32.add (local.get $vl) (i32.const 1))))
                (br $next_value)))))
        (local.set $i (i32.add (local.get $i) (i32.add (local.get $nl) (i32.const 1))))
        (br $next_name))))

  ;; copy_body streams the request body to the response body.
  (func $copy_body
    (local $r i64) (local $n i32)
    (loop $more
      (local.set $r (call $read_body (global.get $req) (global.get $buf) (global.get $buf_size)))
      (local.set $n (i32.wrap_i64 (local.get $r)))
      (if (local.get $n) (then (call $write (global.get $buf) (local.get $n))))
      (br_if $more (i64.eqz (i64.shr_u (local.get $r) (i64.const 32))))))

  (func $route_echo
    (call $set_resp (i32.const 28) (i32.const 12) (i32.const 40) (i32.const 24))
    (call $copy_body))

  (func $route_status
    (call $set_status_code (i32.const 418))
    (if (i32.eq (call $get_status_code) (i32.const 418))
      (then (call $set_resp (i32.const 360) (i32.const 13) (i32.const 284) (i32.const 3))))
    (call $text)
    (call $write (i32.const 156) (i32.const 7)))

  (func $route_config
    (local $n i32)
    (local.set $n (call $get_config (global.get $buf) (global.get $buf_size)))
    (call $text)
    (if (i32.le_u (local.get $n) (global.get $buf_size))
      (then (call $write (global.get $buf) (local.get $n)))))

  (func $route_log
    (if (call $log_enabled (global.get $log_info))
      (then
        (call $log (global.get $log_info) (i32.const 404) (i32.const 33))
        (call $set_resp (i32.const 376) (i32.const 13) (i32.const 284) (i32.const 3)))
      (else (call $set_resp (i32.const 376) (i32.const 13) (i32.const 288) (i32.const 2))))
    (if (call $log_enabled (global.get $log_debug))
      (then (call $set_resp (i32.const 392) (i32.const 11) (i32.const 284) (i32.const 3)))
      (else (call $set_resp (i32.const 392) (i32.const 11) (i32.const 288) (i32.const 2))))
    (call $text)
    (call $write (i32.const 164) (i32.const 7)))

  (func $route_rewrite
    (call $set_method (i32.const 440) (i32.const 3))
    (call $set_uri (i32.const 444) (i32.const 19))
    (call $put (i32.const 216) (i32.const 8) (call $get_method (global.get $buf) (global.get $buf_size)))
    (call $put (i32.const 224) (i32.const 5) (call $get_uri (global.get $buf) (global.get $buf_size)))
    (call $text)
    (call $write (i32.const 172) (i32.const 10)))

  (func $route_trailers
    (local $r i64) (local $n i32)
    (if (i32.and (call $enable_features (global.get $feature_trailers)) (global.get $feature_trailers))
      (then (call $set_resp (i32.const 464) (i32.const 10) (i32.const 476) (i32.const 2)))
      (else (call $set_resp (i32.const 464) (i32.const 10) (i32.const 480) (i32.const 3))))
    (call $text)
    (call $copy_body)
    (local.set $r (call $get_header_values (global.get $req_trailers) (i32.const 484) (i32.const 10)
      (global.get $values) (global.get $values_size)))
    (local.set $n (i32.wrap_i64 (local.get $r)))
    (if (i32.and (i64.ne (i64.shr_u (local.get $r) (i64.const 32)) (i64.const 0))
                 (i32.le_u (local.get $n) (global.get $values_size)))
      (then
        (call $set_header_value (global.get $resp_trailers) (i32.const 496) (i32.const 15)
          (global.get $values) (call $strlen (global.get $values)))))
    (call $set_header_value (global.get $resp_trailers) (i32.const 512) (i32.const 9) (i32.const 524) (i32.const 4)))

  (func (export "handle_request") (result i64)
    (global.set $uri_len (call $get_uri (global.get $uri) (global.get $uri_size)))
    (if (i32.gt_u (global.get $uri_len) (global.get $uri_size)) (then (global.set $uri_len (i32.const 0))))
    (block $done
      (if (call $path_is (i32.const 64) (i32.const 6)) (then (call $text) (call $write (i32.const 144) (i32.const 6)) (br $done)))
      (if (call $path_is (i32.const 72) (i32.const 8)) (then (call $route_request) (br $done)))
      (if (call $path_is (i32.const 80) (i32.const 8)) (then (call $route_headers) (br $done)))
      (if (call $path_is (i32.const 88) (i32.const 5)) (then (call $route_echo) (br $done)))
      (if (call $path_is (i32.const 96) (i32.const 7)) (then (call $route_status) (br $done)))
      (if (call $path_is (i32.const 104) (i32.const 7)) (then (call $route_config) (br $done)))
      (if (call $path_is (i32.const 112) (i32.const 4)) (then (call $route_log) (br $done)))
      (if (call $path_is (i32.const 116) (i32.const 8)) (then (call $route_rewrite) (br $done)))
      (if (call $path_is (i32.const 124) (i32.const 9)) (then (call $route_trailers) (br $done)))
      ;; next=1 with request context 7, which handle_response checks
      (if (call $path_is (i32.const 136) (i32.const 5)) (then (return (i64.const 0x700000001))))
      (call $set_status_code (i32.const 404))
      (call $text)
      (call $write (i32.const 184) (i32.const 10)))
    (i64.const 0))

  (func (export "handle_response") (param $req_ctx i32) (param $is_error i32)
    (if (i32.ne (local.get $req_ctx) (i32.const 7))
      (then (call $log (global.get $log_error) (i32.const 528) (i32.const 58)))))
)
