;; slowstart.wat: its _initialize start function never returns, so the
;; server stays in start-up until it is interrupted.
;; Rebuild: wat2wasm cmd/wasmserve/testdata/slowstart.wat -o cmd/wasmserve/testdata/slowstart.wasm
(module
  (memory (export "memory") 1)
  (func (export "_initialize") (loop $forever (br $forever)))
  (func (export "handle_request") (result i64) (i64.const 0)))
