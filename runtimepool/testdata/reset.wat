;; reset.wat: a guest for the pool's reset tests. Its start function leaves
;; state that an instance does not have before it (global $g = 42, byte 16 =
;; 0x5A), so a test can tell the state after start from the initial one.
;;   state() -> i64  $g * 2^32 + byte 16 * 2^16 + byte 65535 * 2^8 + byte 0
;;   dirty()         changes all four: $g, byte 16, the last byte, byte 0
;;   grow()          grows the memory by one page
;; Rebuild: wat2wasm runtimepool/testdata/reset.wat -o runtimepool/testdata/reset.wasm
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "\07")
  (global $g (mut i64) (i64.const 7))
  (func $init
    (global.set $g (i64.const 42))
    (i32.store8 (i32.const 16) (i32.const 0x5A)))
  (start $init)
  (func (export "state") (result i64)
    (i64.add
      (i64.add (i64.shl (global.get $g) (i64.const 32))
               (i64.shl (i64.load8_u (i32.const 16)) (i64.const 16)))
      (i64.add (i64.shl (i64.load8_u (i32.const 65535)) (i64.const 8))
               (i64.load8_u (i32.const 0)))))
  (func (export "dirty")
    (global.set $g (i64.add (global.get $g) (i64.const 1)))
    (i32.store8 (i32.const 16) (i32.const 0xFF))
    (i32.store8 (i32.const 65535) (i32.const 0xEE))
    (i32.store8 (i32.const 0) (i32.const 0x11)))
  (func (export "grow") (drop (memory.grow (i32.const 1))))
)
