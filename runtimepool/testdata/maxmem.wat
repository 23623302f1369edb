;; maxmem.wat: a module declaring a maximum of 32 pages (2 MiB), for the
;; memory-limit refusal test.
;; Rebuild: wat2wasm runtimepool/testdata/maxmem.wat -o runtimepool/testdata/maxmem.wasm
(module
  (memory (export "memory") 1 32)
)
