;; hostile.wat: a guest that tries to stall, bloat or confuse the host, the
;; behaviour picked by the first letter after "/" in the request path, for
;; the untrusted-input tests of package host.
;;   /sleep     sleeps 20 s in WASI poll_oneoff, then answers "slept"
;;   /big       writes a 50 MiB response body (800 writes of 64 KiB)
;;   /request   writes 1 GiB as the request body (16384 writes of 64 KiB)
;;              for the next handler, then answers "ok"
;;   /headers   adds 2000 response header values of 64 KiB each
;;   /log       logs 2000 messages of 64 KiB, then answers "ok"
;;   /forge     logs one message holding a newline, a forged log line and
;;              an ESC sequence, then answers "ok"
;;   /framing   sets Content-Length twice (5 and 7), Transfer-Encoding gzip
;;              and chunked, Connection, Keep-Alive, Upgrade and
;;              Proxy-Connection, then writes "hello"
;;   /upload    reads the request body to its end, then answers the
;;              decimal count of bytes read
;; Rebuild: wat2wasm host/testdata/hostile.wat -o host/testdata/hostile.wasm
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "http_handler" "log" (func $log (param i32 i32 i32)))
  (import "http_handler" "get_uri" (func $get_uri (param i32 i32) (result i32)))
  (import "http_handler" "add_header_value" (func $add_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))

  ;; Memory layout: [0,64) strings; [1024,2048) the URI; [2048,2064)
  ;; decimal scratch; [4096,4144) a poll_oneoff clock subscription (20 s);
  ;; [4160,4192) its event; [4200,4204) nevents; [65536,131072) 64 KiB of
  ;; 'x'.
  (memory (export "memory") 3)
  (data (i32.const 0) "sleptokX-Bighello")
  ;; 0 slept, 5 ok, 7 X-Big, 12 hello
  (data (i32.const 100) "content-length57transfer-encodinggzipchunkedconnectionkeep-aliveupgradeh2cproxy-connectionclose")
  ;; 100 content-length(14) 114 "5" 115 "7" 116 transfer-encoding(17) 133 gzip(4)
  ;; 137 chunked(7) 144 connection(10) 154 keep-alive(10) 164 upgrade(7)
  ;; 171 h2c(3) 174 proxy-connection(16) 190 close(5)
  (data (i32.const 300) "guest says hi\0a2026-01-01 ERRO guest failed request_id=forged\1b[31mred\1b[0m")
  ;; 300, 74 bytes
  ;; subscription: userdata 0, tag 0 (clock) at 8, clock id 1 (monotonic)
  ;; at 16, timeout 20 s at 24, precision 0 at 32, flags 0 at 40.
  (data (i32.const 4112) "\01\00\00\00\00\00\00\00\00\c8\17\a8\04\00\00\00")

  (func $fill
    (memory.fill (i32.const 65536) (i32.const 120) (i32.const 65536)))

  ;; repeat calls $f $n times with the 64 KiB block.
  (func $itoa (param $v i32)
    (local $p i32)
    (local.set $p (i32.const 2064))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digit (local.get $v)))
    (call $write_body (i32.const 1) (local.get $p) (i32.sub (i32.const 2064) (local.get $p))))

  (func (export "handle_request") (result i64)
    (local $c i32) (local $i i32) (local $total i32) (local $r i64)
    (drop (call $get_uri (i32.const 1024) (i32.const 1024)))
    (local.set $c (i32.load8_u (i32.const 1025)))
    (call $fill)
    (block $done
      (if (i32.eq (local.get $c) (i32.const 115)) ;; s
        (then
          (drop (call $poll_oneoff (i32.const 4096) (i32.const 4160) (i32.const 1) (i32.const 4200)))
          (call $write_body (i32.const 1) (i32.const 0) (i32.const 5)) (br $done)))
      (if (i32.eq (local.get $c) (i32.const 98)) ;; b
        (then
          (loop $w
            (call $write_body (i32.const 1) (i32.const 65536) (i32.const 65536))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $w (i32.lt_u (local.get $i) (i32.const 800))))
          (br $done)))
      (if (i32.eq (local.get $c) (i32.const 114)) ;; r
        (then
          (loop $w
            (call $write_body (i32.const 0) (i32.const 65536) (i32.const 65536))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $w (i32.lt_u (local.get $i) (i32.const 16384))))
          (call $write_body (i32.const 1) (i32.const 5) (i32.const 2)) (br $done)))
      (if (i32.eq (local.get $c) (i32.const 104)) ;; h
        (then
          (loop $w
            (call $add_header_value (i32.const 1) (i32.const 7) (i32.const 5) (i32.const 65536) (i32.const 65536))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $w (i32.lt_u (local.get $i) (i32.const 2000))))
          (call $write_body (i32.const 1) (i32.const 5) (i32.const 2)) (br $done)))
      (if (i32.eq (local.get $c) (i32.const 108)) ;; l
        (then
          (loop $w
            (call $log (i32.const 0) (i32.const 65536) (i32.const 65536))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $w (i32.lt_u (local.get $i) (i32.const 2000))))
          (call $write_body (i32.const 1) (i32.const 5) (i32.const 2)) (br $done)))
      (if (i32.eq (local.get $c) (i32.const 102)) ;; f
        (then
          (if (i32.eq (i32.load8_u (i32.const 1026)) (i32.const 111)) ;; fo: forge
            (then
              (call $log (i32.const 0) (i32.const 300) (i32.const 74))
              (call $write_body (i32.const 1) (i32.const 5) (i32.const 2)) (br $done)))
          ;; framing
          (call $set_header_value (i32.const 1) (i32.const 100) (i32.const 14) (i32.const 114) (i32.const 1))
          (call $add_header_value (i32.const 1) (i32.const 100) (i32.const 14) (i32.const 115) (i32.const 1))
          (call $set_header_value (i32.const 1) (i32.const 116) (i32.const 17) (i32.const 133) (i32.const 4))
          (call $add_header_value (i32.const 1) (i32.const 116) (i32.const 17) (i32.const 137) (i32.const 7))
          (call $add_header_value (i32.const 1) (i32.const 116) (i32.const 17) (i32.const 137) (i32.const 7))
          (call $set_header_value (i32.const 1) (i32.const 144) (i32.const 10) (i32.const 154) (i32.const 10))
          (call $set_header_value (i32.const 1) (i32.const 154) (i32.const 10) (i32.const 190) (i32.const 5))
          (call $set_header_value (i32.const 1) (i32.const 164) (i32.const 7) (i32.const 171) (i32.const 3))
          (call $set_header_value (i32.const 1) (i32.const 174) (i32.const 16) (i32.const 190) (i32.const 5))
          (call $write_body (i32.const 1) (i32.const 12) (i32.const 5)) (br $done)))
      (if (i32.eq (local.get $c) (i32.const 117)) ;; u
        (then
          (loop $chunk
            (local.set $r (call $read_body (i32.const 0) (i32.const 65536) (i32.const 65536)))
            (local.set $total (i32.add (local.get $total) (i32.wrap_i64 (local.get $r))))
            (br_if $chunk (i32.eqz (i32.wrap_i64 (i64.shr_u (local.get $r) (i64.const 32))))))
          (call $itoa (local.get $total)) (br $done)))
      )
    (i64.const 0))
)
