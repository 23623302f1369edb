;; guest.wat: the core module of a component, as the Canonical ABI tests
;; (wazero_test.go) call it through real wazero: a memory, a cabi_realloc
;; that grows the memory when it must (so lowering sees the memory move),
;; exports whose parameters and results are spilled to memory, and an export
;; that calls a host import with spilled results.
;; Rebuild: wat2wasm runtimepool/component/cabi/testdata/guest.wat -o runtimepool/component/cabi/testdata/guest.wasm
(module
  ;; greet(name: string, n: u32) -> string, lowered: the results go to a
  ;; return pointer.
  (import "host" "greet" (func $greet (param i32 i32 i32 i32)))

  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 200) "wasm")

  ;; cabi_realloc: a bump allocator from 1024 up. Shrinking keeps the block.
  (func $realloc (export "cabi_realloc")
    (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32) (result i32)
    (local $ret i32) (local $end i32)
    (if (i32.and (i32.ne (local.get $old) (i32.const 0))
                 (i32.le_u (local.get $new_size) (local.get $old_size)))
      (then (return (local.get $old))))
    (local.set $ret
      (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
               (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $ret) (local.get $new_size)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq (memory.grow
                      (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16))
                               (memory.size)))
                    (i32.const -1))
          (then unreachable))))
    (memory.copy (local.get $ret) (local.get $old) (local.get $old_size))
    (global.set $heap (local.get $end))
    (local.get $ret))

  ;; allocated() -> u32: where the allocator is.
  (func (export "allocated") (result i32) (global.get $heap))

  ;; weighted17(17 × u32) -> u32: the sum of (i+1) × param i, its
  ;; parameters spilled: the address of a tuple of 17 u32s.
  (func (export "weighted17") (param $p i32) (result i32)
    (local $i i32) (local $s i32)
    (loop $l
      (local.set $s
        (i32.add (local.get $s)
          (i32.mul (i32.add (local.get $i) (i32.const 1))
                   (i32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 17))))
    (local.get $s))

  ;; mixed(a: u8, b: u64, c: string, d: f64, e: 13 × u32)
  ;;   -> tuple<u64, u32, f64>
  ;; Parameters spilled (18 flat values): a at 0, b at 8, c at 16, d at 24,
  ;; e at 32. Results spilled, returned at 64: a+b, len(c) + c[0] + sum(e),
  ;; d×2.
  (func (export "mixed") (param $p i32) (result i32)
    (local $i i32) (local $s i32)
    (i64.store (i32.const 64)
      (i64.add (i64.load8_u (local.get $p)) (i64.load offset=8 (local.get $p))))
    (local.set $s
      (i32.add (i32.load offset=20 (local.get $p))
               (i32.load8_u (i32.load offset=16 (local.get $p)))))
    (loop $l
      (local.set $s
        (i32.add (local.get $s)
          (i32.load offset=32 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 13))))
    (i32.store (i32.const 72) (local.get $s))
    (f64.store (i32.const 80) (f64.mul (f64.load offset=24 (local.get $p)) (f64.const 2)))
    (i32.const 64))

  ;; checksum(list<string>) -> u32: the sum of every byte of every string.
  (func (export "checksum") (param $list i32) (param $n i32) (result i32)
    (local $s i32) (local $i i32) (local $p i32) (local $end i32)
    (block $done
      (loop $strings
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $p (i32.load (i32.add (local.get $list) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $end
          (i32.add (local.get $p)
                   (i32.load offset=4 (i32.add (local.get $list) (i32.shl (local.get $i) (i32.const 3))))))
        (block $str
          (loop $bytes
            (br_if $str (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $p))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $bytes)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $strings)))
    (local.get $s))

  ;; echo(s: string) -> string: the same string, its result spilled at 96.
  (func (export "echo") (param $p i32) (param $n i32) (result i32)
    (i32.store (i32.const 96) (local.get $p))
    (i32.store (i32.const 100) (local.get $n))
    (i32.const 96))

  ;; call-host() -> string: greet("wasm", 3), whose result it returns.
  (func (export "call-host") (result i32)
    (call $greet (i32.const 200) (i32.const 4) (i32.const 3) (i32.const 128))
    (i32.const 128))
)
