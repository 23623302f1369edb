;; badstart.wat: traps in its _initialize start function.
;; Rebuild: wat2wasm cmd/wasmserve/testdata/badstart.wat -o cmd/wasmserve/testdata/badstart.wasm
(module
  (memory (export "memory") 1)
  (func (export "_initialize") unreachable)
  (func (export "handle_request") (result i64) (i64.const 0)))
