;; startrap.wat: a handler whose start function (_initialize) traps, so the
;; server must refuse it at start.
;; Rebuild: wat2wasm host/testdata/startrap.wat -o host/testdata/startrap.wasm
(module
  (memory (export "memory") 1)
  (func (export "_initialize") unreachable)
  (func (export "handle_request") (result i64) (i64.const 0))
)
