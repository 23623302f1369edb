;; spin.wat: a minimal guest for the pool's own tests and benchmarks.
;;   nop()          returns at once (the per-call cost)
;;   spin(n)        a counted loop of n iterations (the per-iteration cost)
;;   count() -> i32 how many times count was called on this instance
;;   trap()         executes unreachable
;;   fib(n) -> i32  naive recursive Fibonacci: exponential time, no loops
;;   forever()      an infinite loop
;; Rebuild: wat2wasm runtimepool/testdata/spin.wat -o runtimepool/testdata/spin.wasm
(module
  (memory (export "memory") 1)
  (global $count (mut i32) (i32.const 0))
  (func (export "nop"))
  (func (export "spin") (param $n i32)
    (block $done
      (loop $again
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $again))))
  (func (export "count") (result i32)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (global.get $count))
  (func (export "trap") unreachable)
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add
        (call $fib (i32.sub (local.get $n) (i32.const 1)))
        (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func (export "forever") (loop $l (br $l)))
)
