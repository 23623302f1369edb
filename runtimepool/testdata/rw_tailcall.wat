;; rw_tailcall.wat: tail calls (return_call, return_call_indirect) for the
;; interrupt rewriter's tests. run(n) -> i32 counts n down to 0 by tail
;; calls and returns n.
;; Rebuild: wat2wasm --enable-tail-call rw_tailcall.wat -o rw_tailcall.wasm
(module
  (memory 1)
  (type $c (func (param i32 i32) (result i32)))
  (table funcref (elem $count))
  (func $count (type $c)
    (if (result i32) (i32.eqz (local.get 0))
      (then (local.get 1))
      (else (return_call_indirect (type $c)
        (i32.sub (local.get 0) (i32.const 1)) (i32.add (local.get 1) (i32.const 1)) (i32.const 0)))))
  (func (export "run") (param $n i32) (result i32)
    (return_call $count (local.get $n) (i32.const 0)))
)
