;; rw_exceptions.wat: legacy exception handling (try, catch, catch_all,
;; throw, rethrow, delegate) for the interrupt rewriter's tests. wazero does
;; not run it; the tests validate the rewritten binary with wabt.
;; Rebuild: wat2wasm --enable-exceptions rw_exceptions.wat -o rw_exceptions.wasm
(module
  (memory 1)
  (tag $e (param i32))
  (func (export "run") (param $n i32) (result i32)
    (try (result i32)
      (do
        (try
          (do (loop $l (br_if $l (i32.const 0))) (throw $e (local.get $n)))
          (delegate 0))
        (i32.const 0))
      (catch $e)
      (catch_all (try (do (rethrow 1)) (catch_all)) (i32.const 0))))
)
