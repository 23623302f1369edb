;; rw_simd.wat: SIMD instructions (0xfd prefix) with every immediate shape:
;; memargs, lanes, v128.const and i8x16.shuffle, for the interrupt
;; rewriter's tests. run(n) -> i32 returns n.
;; Rebuild: wat2wasm rw_simd.wat -o rw_simd.wasm
(module
  (memory 1)
  (func (export "run") (param $n i32) (result i32) (local $v v128)
    (v128.store offset=16 (i32.const 0) (i32x4.splat (local.get $n)))
    (local.set $v (v128.load offset=16 align=8 (i32.const 0)))
    (local.set $v (v128.load8_lane 3 (i32.const 0) (local.get $v)))
    (v128.store64_lane 1 (i32.const 32) (local.get $v))
    (local.set $v (v128.load32_zero (i32.const 0)))
    (local.set $v (v128.load8_splat (i32.const 0)))
    (local.set $v (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
      (local.get $v) (v128.const i32x4 0x0b0c0d0e 1 2 3)))
    (local.set $v (i8x16.replace_lane 15 (local.get $v) (i32.const 9)))
    (local.set $v (f64x2.promote_low_f32x4 (i32x4.add (local.get $v) (local.get $v))))
    (local.set $v (i32x4.dot_i16x8_s (local.get $v) (local.get $v)))
    (drop (v128.any_true (local.get $v)))
    (loop $l (br_if $l (i32.const 0)))
    (i32x4.extract_lane 0 (i32x4.splat (local.get $n))))
)
