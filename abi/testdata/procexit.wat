;; procexit.wat: a command whose _start ends in proc_exit(0), as TinyGo >= 0.35
;; builds `main` by default. wazero closes such an instance; wasmserve refuses
;; it at start-up with a message that says how to rebuild it.
;; Rebuild: wat2wasm abi/testdata/procexit.wat -o abi/testdata/procexit.wasm
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $proc_exit (i32.const 0)))
  (func (export "handle_request") (result i64) (i64.const 0)))
