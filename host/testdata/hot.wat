;; hot.wat: a guest whose time goes to one known function, for the guest
;; profiler's test: handle_request calls $cold once and $hot 2000 times,
;; and each $hot spins 10 000 iterations.
;; Rebuild: wat2wasm --debug-names host/testdata/hot.wat -o host/testdata/hot.wasm
(module
  (memory (export "memory") 1 1)
  (global $sink (mut i32) (i32.const 0))
  (func $hot
    (local $i i32)
    (loop $spin
      (global.set $sink (i32.add (global.get $sink) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $spin (i32.lt_u (local.get $i) (i32.const 10000)))))
  (func $cold (global.set $sink (i32.const 0)))
  (func (export "handle_request") (result i64)
    (local $n i32)
    (call $cold)
    (loop $again
      (call $hot)
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $n) (i32.const 2000))))
    (i64.const 0))
)
