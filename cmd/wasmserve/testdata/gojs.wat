;; gojs.wat: the shape of a Go program built with GOOS=js GOARCH=wasm (which
;; runs only under JavaScript): imports from gojs, exports run and mem.
;; Rebuild: wat2wasm cmd/wasmserve/testdata/gojs.wat -o cmd/wasmserve/testdata/gojs.wasm
(module
  (import "gojs" "runtime.wasmExit" (func (param i32)))
  (import "gojs" "runtime.wasmWrite" (func (param i32)))
  (memory (export "mem") 1)
  (func (export "run") (param i32 i32))
  (func (export "resume")))
