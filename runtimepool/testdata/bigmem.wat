;; bigmem.wat: a module that needs 3 pages (192 KiB) of memory at start, for
;; the memory-limit refusal test.
;; Rebuild: wat2wasm runtimepool/testdata/bigmem.wat -o runtimepool/testdata/bigmem.wasm
(module
  (memory (export "memory") 3)
)
