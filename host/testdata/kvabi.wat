;; kvabi.wat: every function of wasmserve_kv, imported and exported again
;; under the same name with the same signature, and a memory of one page,
;; so that a test calls the host functions directly, with any arguments.
;; Rebuild: wat2wasm host/testdata/kvabi.wat -o host/testdata/kvabi.wasm
(module
  (import "wasmserve_kv" "open" (func $open (param i32 i32) (result i32)))
  (import "wasmserve_kv" "get" (func $get (param i32 i32 i32 i32 i32) (result i64)))
  (import "wasmserve_kv" "set" (func $set (param i32 i32 i32 i32 i32 i64) (result i32)))
  (import "wasmserve_kv" "delete" (func $delete (param i32 i32 i32) (result i32)))
  (import "wasmserve_kv" "exists" (func $exists (param i32 i32 i32) (result i32)))
  (import "wasmserve_kv" "keys" (func $keys (param i32 i32 i32 i32 i32 i32 i32) (result i64)))
  (import "wasmserve_kv" "increment" (func $increment (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasmserve_kv" "compare_and_swap" (func $compare_and_swap (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasmserve_kv" "get_error" (func $get_error (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "open") (param i32 i32) (result i32) (call $open (local.get 0) (local.get 1)))
  (func (export "get") (param i32 i32 i32 i32 i32) (result i64) (call $get (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)))
  (func (export "set") (param i32 i32 i32 i32 i32 i64) (result i32) (call $set (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5)))
  (func (export "delete") (param i32 i32 i32) (result i32) (call $delete (local.get 0) (local.get 1) (local.get 2)))
  (func (export "exists") (param i32 i32 i32) (result i32) (call $exists (local.get 0) (local.get 1) (local.get 2)))
  (func (export "keys") (param i32 i32 i32 i32 i32 i32 i32) (result i64) (call $keys (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5) (local.get 6)))
  (func (export "increment") (param i32 i32 i32 i64 i32) (result i32) (call $increment (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)))
  (func (export "compare_and_swap") (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32) (call $compare_and_swap (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5) (local.get 6) (local.get 7)))
  (func (export "get_error") (param i32 i32) (result i32) (call $get_error (local.get 0) (local.get 1)))
)
