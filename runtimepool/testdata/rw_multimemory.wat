;; rw_multimemory.wat: multi-memory memargs (flag bit 6 and a memory index)
;; for the interrupt rewriter's tests. wazero does not run it; the tests
;; validate the rewritten binary with wabt.
;; Rebuild: wat2wasm --enable-multi-memory rw_multimemory.wat -o rw_multimemory.wasm
(module
  (memory $a 1)
  (memory $b 1)
  (func (export "run") (param $n i32) (result i32)
    (i32.store $b offset=4 (i32.const 0) (local.get $n))
    (memory.copy $a $b (i32.const 0) (i32.const 4) (i32.const 4))
    (loop $l (br_if $l (i32.const 0)))
    (i32.load $a (i32.const 0)))
)
