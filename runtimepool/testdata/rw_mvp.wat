;; rw_mvp.wat: MVP instructions for the interrupt rewriter's tests: every
;; immediate shape (blocks, br_table, call_indirect, memargs, constants).
;; run(n) -> i32 computes sum(1..n) twice over and must return n*(n+1).
;; Rebuild: wat2wasm rw_mvp.wat -o rw_mvp.wasm
(module
  (type $bin (func (param i32 i32) (result i32)))
  (import "env" "g" (global $imp i32))
  (memory 1)
  (table 2 funcref)
  (elem (i32.const 0) $add $sub)
  (global $acc (mut i64) (i64.const -1234567890123))
  (global $f (mut f32) (f32.const 1.5))
  (global $d (mut f64) (f64.const -2.25))
  (func $add (type $bin) (i32.add (local.get 0) (local.get 1)))
  (func $sub (type $bin) (i32.sub (local.get 0) (local.get 1)))
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $s i32) (local $x i64) (local $y f64)
    (local.set $i (local.get $n))
    (block $out
      (loop $top
        (br_if $out (i32.eqz (local.get $i)))
        (local.set $s (call_indirect (type $bin) (local.get $s) (local.get $i) (i32.const 0)))
        (i32.store offset=8 align=4 (i32.const 0) (local.get $s))
        (i64.store8 offset=1000 (i32.const 0) (i64.const 0x7fffffffffffffff))
        (local.set $x (i64.load16_s offset=3 (i32.const 0)))
        (local.set $y (f64.add (f64.const 3.5) (f64.convert_i32_s (f32.lt (global.get $f) (f32.const 2.5)))))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $top)))
    (block $b2 (result i32)
      (block $b1
        (block $b0
          (br_table $b0 $b1 (i32.and (local.get $n) (i32.const 1))))
        (drop (select (i32.const 1) (i32.const 2) (local.get $n)))
        (if (i32.gt_s (local.get $n) (i32.const 0)) (then nop) (else unreachable)))
      (drop (memory.grow (i32.const 0)))
      (drop (memory.size))
      (i32.const 0))
    drop
    (i32.add (i32.load offset=8 (i32.const 0)) (local.get $s)))
)
