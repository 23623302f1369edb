;; nomemory.wat: exports handle_request but no memory.
;; Rebuild: wat2wasm cmd/wasmserve/testdata/nomemory.wat -o cmd/wasmserve/testdata/nomemory.wasm
(module (func (export "handle_request") (result i64) (i64.const 0)))
