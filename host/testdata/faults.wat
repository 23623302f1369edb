;; faults.wat: one hostile guest whose behaviour is picked by the request
;; path, for the fault, limit and hammer tests of package host.
;;   /ok...     answers "ok:<uri>"; answers 409 if it finds itself re-entered
;;              (two requests in one isolate at once)
;;   /sleep...  sleeps 50 ms (WASI poll_oneoff), then answers like /ok
;;   /upload... reads the whole request body, then answers like /ok
;;   /count     answers how many requests this isolate has served, in decimal
;;   /trap      executes unreachable
;;   /loop      loops forever
;;   /grow      grows memory one page at a time until memory.grow fails, then traps
;;   /pages     grows like /grow, then answers status 200 + its size in pages
;;   /recurse   recurses without end (stack overflow)
;;   /exit      calls WASI proc_exit(3)
;;   /bad/X     calls host function X (a..o, see $bad) with out-of-range pointers
;; Rebuild: wat2wasm host/testdata/faults.wat -o host/testdata/faults.wasm
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "http_handler" "get_config" (func $get_config (param i32 i32) (result i32)))
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
  (import "http_handler" "set_status_code" (func $set_status_code (param i32)))

  ;; Memory layout: [0,3) "ok:"; [1024,2048) the URI; [2048,2064) decimal
  ;; scratch; [3072,4096) URI re-reads; [4096,4144) a poll_oneoff clock
  ;; subscription; [4160,4192) its event; [4200,4204) nevents;
  ;; [8192,16384) request body chunks.
  (memory (export "memory") 1)
  (data (i32.const 0) "ok:")
  ;; subscription: userdata 0, tag 0 (clock) at 8, clock id 1 (monotonic)
  ;; at 16, timeout 50 ms at 24, precision 0 at 32, flags 0 at 40.
  (data (i32.const 4112) "\01\00\00\00\00\00\00\00\80\f0\fa\02\00\00\00\00")

  (global $busy (mut i32) (i32.const 0))
  (global $count (mut i32) (i32.const 0))

  (func $write (param $p i32) (param $n i32)
    (call $write_body (i32.const 1) (local.get $p) (local.get $n)))

  ;; itoa writes v in decimal to the response.
  (func $itoa (param $v i32)
    (local $p i32)
    (local.set $p (i32.const 2064))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digits (local.get $v)))
    (call $write (local.get $p) (i32.sub (i32.const 2064) (local.get $p))))

  (func $recurse (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))

  (func $growall
    (block $done
      (loop $more
        (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        (br $more))))

  ;; ok answers "ok:<uri>", refusing with 409 when another request is
  ;; inside this isolate; the URI is re-read in between to give such a
  ;; request time to show up.
  (func $ok (param $n i32)
    (local $i i32)
    (if (global.get $busy)
      (then (call $set_status_code (i32.const 409)) (return)))
    (global.set $busy (i32.const 1))
    (loop $again
      (drop (call $get_uri (i32.const 3072) (i32.const 1024)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 20))))
    (global.set $busy (i32.const 0))
    (call $write (i32.const 0) (i32.const 3))
    (call $write (i32.const 1024) (local.get $n)))

  ;; bad calls one host function with a pointer far outside the one-page
  ;; memory (0xffff0000) and a 64 KiB length.
  (func $bad (param $which i32)
    (local $p i32) (local $l i32)
    (local.set $p (i32.const -65536))
    (local.set $l (i32.const 65536))
    (block $end
      (block $o (block $n (block $m (block $l_ (block $k (block $j (block $i
      (block $h (block $g (block $f (block $e (block $d (block $c (block $b (block $a
        (br_table $a $b $c $d $e $f $g $h $i $j $k $l_ $m $n $o $end
          (i32.sub (local.get $which) (i32.const 97))))
      (drop (call $get_config (local.get $p) (local.get $l))) (br $end))
      (call $log (i32.const 2) (local.get $p) (local.get $l)) (br $end))
      (drop (call $get_method (local.get $p) (local.get $l))) (br $end))
      (call $set_method (local.get $p) (local.get $l)) (br $end))
      (drop (call $get_uri (local.get $p) (local.get $l))) (br $end))
      (call $set_uri (local.get $p) (local.get $l)) (br $end))
      (drop (call $get_protocol_version (local.get $p) (local.get $l))) (br $end))
      (drop (call $get_source_addr (local.get $p) (local.get $l))) (br $end))
      (drop (call $get_header_names (i32.const 0) (local.get $p) (local.get $l))) (br $end))
      (drop (call $get_header_values (i32.const 0) (local.get $p) (local.get $l) (i32.const 0) (i32.const 16))) (br $end))
      (call $set_header_value (i32.const 1) (local.get $p) (local.get $l) (i32.const 0) (i32.const 2)) (br $end))
      (call $add_header_value (i32.const 1) (local.get $p) (local.get $l) (i32.const 0) (i32.const 2)) (br $end))
      (call $remove_header (i32.const 1) (local.get $p) (local.get $l)) (br $end))
      (drop (call $read_body (i32.const 0) (local.get $p) (local.get $l))) (br $end))
      (call $write_body (i32.const 1) (local.get $p) (local.get $l))))

  (func (export "handle_request") (result i64)
    (local $n i32) (local $c i32)
    (local.set $n (call $get_uri (i32.const 1024) (i32.const 1024)))
    (if (i32.gt_u (local.get $n) (i32.const 1024))
      (then (local.set $n (i32.const 0))))
    (local.set $c (i32.load8_u (i32.const 1025)))
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (block $done
      (if (i32.eq (local.get $c) (i32.const 111)) ;; o
        (then (call $ok (local.get $n)) (br $done)))
      (if (i32.eq (local.get $c) (i32.const 115)) ;; s
        (then
          (drop (call $poll_oneoff (i32.const 4096) (i32.const 4160) (i32.const 1) (i32.const 4200)))
          (call $ok (local.get $n)) (br $done)))
      (if (i32.eq (local.get $c) (i32.const 117)) ;; u
        (then
          (loop $chunk
            (br_if $chunk (i32.eqz (i32.wrap_i64 (i64.shr_u
              (call $read_body (i32.const 0) (i32.const 8192) (i32.const 8192)) (i64.const 32))))))
          (call $ok (local.get $n)) (br $done)))
      (if (i32.eq (local.get $c) (i32.const 99)) ;; c
        (then (call $itoa (global.get $count)) (br $done)))
      (if (i32.eq (local.get $c) (i32.const 116)) ;; t
        (then unreachable))
      (if (i32.eq (local.get $c) (i32.const 108)) ;; l
        (then (loop $forever (br $forever))))
      (if (i32.eq (local.get $c) (i32.const 103)) ;; g
        (then (call $growall) unreachable))
      (if (i32.eq (local.get $c) (i32.const 112)) ;; p
        (then (call $growall)
          (call $set_status_code (i32.add (i32.const 200) (memory.size))) (br $done)))
      (if (i32.eq (local.get $c) (i32.const 114)) ;; r
        (then (drop (call $recurse (i32.const 0))) (br $done)))
      (if (i32.eq (local.get $c) (i32.const 101)) ;; e
        (then (call $proc_exit (i32.const 3)) (br $done)))
      (if (i32.eq (local.get $c) (i32.const 98)) ;; b
        (then (call $bad (i32.load8_u (i32.const 1029))) (br $done)))
      (call $set_status_code (i32.const 404)))
    (i64.const 0))

  (func (export "handle_response") (param i32 i32))
)
