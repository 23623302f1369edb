;; rw_bulk.wat: sign extension, saturating truncation, bulk memory and table
;; instructions (0xfc prefix) for the interrupt rewriter's tests.
;; run(n) -> i32 returns n after round trips through them.
;; Rebuild: wat2wasm rw_bulk.wat -o rw_bulk.wasm
(module
  (memory 1)
  (table $t 4 funcref)
  (table $u 4 funcref)
  (data $d "\01\02\03\04")
  (elem $e func $f)
  (func $f)
  (func (export "run") (param $n i32) (result i32)
    (memory.init $d (i32.const 0) (i32.const 0) (i32.const 4))
    (data.drop $d)
    (memory.copy (i32.const 8) (i32.const 0) (i32.const 4))
    (memory.fill (i32.const 16) (i32.const 255) (i32.const 4))
    (table.init $t $e (i32.const 0) (i32.const 0) (i32.const 1))
    (elem.drop $e)
    (table.copy $u $t (i32.const 1) (i32.const 0) (i32.const 1))
    (drop (table.grow $t (ref.null func) (i32.const 1)))
    (drop (table.size $u))
    (table.fill $u (i32.const 2) (ref.null func) (i32.const 1))
    (drop (i32.extend8_s (i32.load8_u (i32.const 16))))
    (drop (i64.extend32_s (i64.const 5)))
    (drop (i32.trunc_sat_f32_s (f32.const 1e30)))
    (drop (i64.trunc_sat_f64_u (f64.const -1)))
    (loop $l (br_if $l (i32.const 0)))
    (i32.trunc_sat_f64_s (f64.convert_i32_s (local.get $n))))
)
