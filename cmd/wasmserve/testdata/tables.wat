;; Two tables of 600 000 elements each: within the bound one by one, above
;; it together (1 048 576 elements), so the module is refused before it is
;; instantiated. Build: wat2wasm --enable-all tables.wat -o tables.wasm
(module
  (import "http_handler" "get_uri" (func $get_uri (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (table 600000 funcref)
  (table 600000 externref)
  (func (export "handle_request") (result i64) (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
