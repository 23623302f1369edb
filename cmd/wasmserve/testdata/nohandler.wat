;; nohandler.wat: exports memory but no handle_request.
;; Rebuild: wat2wasm cmd/wasmserve/testdata/nohandler.wat -o cmd/wasmserve/testdata/nohandler.wasm
(module (memory (export "memory") 1))
