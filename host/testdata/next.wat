;; next.wat: hands every request to the next handler (next=1).
;; Rebuild: wat2wasm host/testdata/next.wat -o host/testdata/next.wasm
(module
  (memory (export "memory") 1 1)
  (func (export "handle_request") (result i64) (i64.const 1))
  (func (export "handle_response") (param i32 i32))
)
