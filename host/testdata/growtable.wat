;; growtable.wat: a guest that asks for a table of 2^31 - 16 elements (16
;; GiB of host memory) with table.grow, then answers "refused" when the
;; grow returned -1 and "grown" when it did not, for TestTableGrowIsBounded.
;; Its table declares no maximum; the host gives it one.
;; Rebuild: wat2wasm host/testdata/growtable.wat -o host/testdata/growtable.wasm
(module
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (table 1 funcref)
  (memory (export "memory") 1)
  (data (i32.const 0) "refusedgrown")
  (func (export "handle_request") (result i64)
    (if (i32.eq (table.grow 0 (ref.null func) (i32.const 0x7ffffff0)) (i32.const -1))
      (then (call $write_body (i32.const 1) (i32.const 0) (i32.const 7)))
      (else (call $write_body (i32.const 1) (i32.const 7) (i32.const 5))))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
