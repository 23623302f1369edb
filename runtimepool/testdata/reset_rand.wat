;; reset_rand.wat: a start function that reads random bytes into memory, so
;; that resetting its isolates would replay them to every caller.
;;   seed() -> i64  the 8 random bytes the start function read
;; Rebuild: wat2wasm runtimepool/testdata/reset_rand.wat -o runtimepool/testdata/reset_rand.wasm
(module
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $init (drop (call $random_get (i32.const 0) (i32.const 8))))
  (start $init)
  (func (export "seed") (result i64) (i64.load (i32.const 0)))
)
