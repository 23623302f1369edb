;; Rebuild: wat2wasm runtimepool/testdata/command.wat -o runtimepool/testdata/command.wasm
;; A WASI command for the NoStart and Stdio tests: _start counts its runs in
;; the exported global "runs", copies stdin to stdout through a 64-byte
;; buffer, and exits with proc_exit(0) when the first stdin byte is "x".
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (global $runs (export "runs") (mut i32) (i32.const 0))
  ;; iovec at 0: buf 64, len 64; n read/written at 8; buf at 64
  (func (export "_start")
    (local $n i32)
    (global.set $runs (i32.add (global.get $runs) (i32.const 1)))
    (block $done
      (loop $copy
        (i32.store (i32.const 0) (i32.const 64))
        (i32.store (i32.const 4) (i32.const 64))
        (br_if $done (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
        (local.set $n (i32.load (i32.const 8)))
        (br_if $done (i32.eqz (local.get $n)))
        (if (i32.eq (i32.load8_u (i32.const 64)) (i32.const 120))
          (then (call $proc_exit (i32.const 0))))
        (i32.store (i32.const 4) (local.get $n))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br $copy)))))
