;; initloop.wat: a reactor whose _initialize never returns (an endless
;; loop), for TestStartTimeout: the pool must refuse it at the start
;; timeout instead of hanging.
;; Rebuild: wat2wasm runtimepool/testdata/initloop.wat -o runtimepool/testdata/initloop.wasm
(module
  (memory (export "memory") 1)
  (func (export "_initialize") (loop $l (br $l)))
  (func (export "handle_request") (result i64) (i64.const 0)))
