;; rw_threads.wat: atomic instructions (0xfe prefix: notify, wait, fence,
;; loads, stores, read-modify-write, cmpxchg) for the interrupt rewriter's
;; tests. run(n) -> i32 returns n.
;; Rebuild: wat2wasm --enable-threads rw_threads.wat -o rw_threads.wasm
(module
  (memory 1 1 shared)
  (func (export "run") (param $n i32) (result i32)
    (atomic.fence)
    (i32.atomic.store offset=4 (i32.const 0) (local.get $n))
    (drop (i64.atomic.rmw.add (i32.const 8) (i64.const 1)))
    (drop (i32.atomic.rmw8.cmpxchg_u (i32.const 0) (i32.const 0) (i32.const 0)))
    (drop (memory.atomic.notify (i32.const 0) (i32.const 0)))
    (drop (memory.atomic.wait32 (i32.const 4) (i32.const -1) (i64.const 0)))
    (loop $l (br_if $l (i32.const 0)))
    (i32.atomic.load offset=4 (i32.const 0)))
)
