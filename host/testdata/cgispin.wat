;; Rebuild: wat2wasm host/testdata/cgispin.wat -o host/testdata/cgispin.wasm
;; A CGI guest (a WASI command) whose _start never ends: for the handler
;; timeout. It imports proc_exit so that it is a WASI module like any other.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $forever (br $forever))))
