;; rw_reftypes.wat: reference types (ref.null, ref.is_null, ref.func, typed
;; select, table.get/set) for the interrupt rewriter's tests.
;; run(n) -> i32 returns n.
;; Rebuild: wat2wasm rw_reftypes.wat -o rw_reftypes.wasm
(module
  (memory 1)
  (table $t 2 funcref)
  (table $x 2 externref)
  (func $f (result i32) (i32.const 1))
  (elem declare func $f)
  (func (export "run") (param $n i32) (result i32)
    (table.set $t (i32.const 0) (ref.func $f))
    (table.set $x (i32.const 1) (ref.null extern))
    (drop (ref.is_null (table.get $t (i32.const 0))))
    (drop (select (result externref) (table.get $x (i32.const 1)) (ref.null extern) (local.get $n)))
    (select (result i32) (local.get $n) (i32.const 0) (i32.const 1)))
)
