;; stash.wat: keeps a value in its own linear memory between requests.
;; POST stores the request body (up to 4 KiB) at offset 1024 and its length
;; at offset 0; any other method answers what is stored. Used to show that
;; isolates do not share memory.
;; Rebuild: wat2wasm host/testdata/stash.wat -o host/testdata/stash.wasm
(module
  (import "http_handler" "get_method" (func $get_method (param i32 i32) (result i32)))
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1 1)

  (func (export "handle_request") (result i64)
    (local $n i32) (local $r i64)
    ;; "POST" is 4 bytes; read the method at 16.
    (if (i32.and
          (i32.eq (call $get_method (i32.const 16) (i32.const 8)) (i32.const 4))
          (i32.eq (i32.load (i32.const 16)) (i32.const 0x54534f50))) ;; "POST" little-endian
      (then
        (local.set $n (i32.const 0))
        (block $done
          (loop $more
            (local.set $r (call $read_body (i32.const 0)
              (i32.add (i32.const 1024) (local.get $n))
              (i32.sub (i32.const 4096) (local.get $n))))
            (local.set $n (i32.add (local.get $n) (i32.wrap_i64 (local.get $r))))
            (br_if $done (i64.ne (i64.shr_u (local.get $r) (i64.const 32)) (i64.const 0)))
            (br_if $done (i32.ge_u (local.get $n) (i32.const 4096)))
            (br $more)))
        (i32.store (i32.const 0) (local.get $n))
        (return (i64.const 0))))
    (call $write_body (i32.const 1) (i32.const 1024) (i32.load (i32.const 0)))
    (i64.const 0))
)
