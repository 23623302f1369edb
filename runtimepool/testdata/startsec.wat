;; startsec.wat: a module whose start section never returns (an endless
;; loop), for TestStartTimeout: the rewrite turns the section into an
;; export the pool calls, bounded like _initialize.
;; Rebuild: wat2wasm runtimepool/testdata/startsec.wat -o runtimepool/testdata/startsec.wasm
(module
  (memory (export "memory") 1)
  (func $start (loop $l (br $l)))
  (start $start)
  (func (export "handle_request") (result i64) (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
