;; growmem.wat: a module whose memory (1 page, no maximum) the tests grow,
;; write and read, for the mapped linear memories (linmem_linux_test.go).
;; Rebuild: wat2wasm runtimepool/testdata/growmem.wat -o runtimepool/testdata/growmem.wasm
(module
  (memory (export "memory") 1)
  ;; grow adds n pages and returns the old size in pages, or -1.
  (func (export "grow") (param $n i32) (result i32)
    (memory.grow (local.get $n)))
  (func (export "store") (param $addr i32) (param $v i32)
    (i32.store (local.get $addr) (local.get $v)))
  (func (export "load") (param $addr i32) (result i32)
    (i32.load (local.get $addr)))
)
