;; probe.wat: a component whose exports jco's JavaScript host calls with
;; values of many types (jco_test.go), both ways. Every probe-* export takes
;; a value and 16 u32s of padding, so that its parameters are spilled: jco's
;; glue stores them in the core module's memory, allocating with its
;; cabi_realloc, and the core function returns the memory up to the end of
;; the heap as a list<u8>, with the address of the parameters at 24. The
;; test compares those bytes with what this package stores, and lifts them.
;; Every lift-* export takes an image of the heap made by this package, with
;; a value at its start, which jco's glue stores at 1024 (its first
;; allocation after reset); the core function returns that address, and the
;; glue lifts the value there. (jco has no latin1+utf16.)
;; Built at test time: jco parse probe.wat -o probe.wasm
(component
  (core module $m
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))

    ;; A bump allocator from 1024 up; shrinking keeps the block.
    (func (export "cabi_realloc")
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
        (then unreachable))
      (memory.copy (local.get $ret) (local.get $old) (local.get $old_size))
      (global.set $heap (local.get $end))
      (local.get $ret))

    ;; reset: an empty heap of zeros, before each probe.
    (func (export "reset")
      (memory.fill (i32.const 0) (i32.const 0) (i32.const 65536))
      (global.set $heap (i32.const 1024)))

    (func (export "at") (param $p i32) (param $n i32) (result i32) (local.get $p))

    (func (export "probe") (param $args i32) (result i32)
      (i32.store (i32.const 24) (local.get $args))
      (i32.store (i32.const 16) (i32.const 0))
      (i32.store (i32.const 20) (global.get $heap))
      (i32.const 16))
  )
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $mem))
  (alias core export $i "cabi_realloc" (core func $realloc))
  (alias core export $i "probe" (core func $probe))
  (alias core export $i "reset" (core func $reset))
  (alias core export $i "at" (core func $at))

  (type $pad (tuple u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32))
  (type $rec' (record (field "a" u8) (field "b" string) (field "c" (list u16))
                      (field "d" (option f64)) (field "e" char)))
  (import "rec" (type $rec (eq $rec')))
  (type $var' (variant (case "none") (case "num" f32) (case "text" string) (case "big" u64)))
  (import "var" (type $var (eq $var')))
  (type $color' (enum "red" "green" "blue"))
  (import "color" (type $color (eq $color')))
  (type $perms' (flags "a" "b" "c" "d" "e" "f" "g" "h" "i"))
  (import "perms" (type $perms (eq $perms')))

  (func (export "reset") (canon lift (core func $reset)))
  (func (export "probe-string") (param "v" string) (param "pad" $pad) (result (list u8))
    (canon lift (core func $probe) (memory $mem) (realloc $realloc)))
  (func (export "probe-string16") (param "v" string) (param "pad" $pad) (result (list u8))
    (canon lift (core func $probe) (memory $mem) (realloc $realloc) string-encoding=utf16))
  (func (export "probe-strings") (param "v" (list string)) (param "pad" $pad) (result (list u8))
    (canon lift (core func $probe) (memory $mem) (realloc $realloc)))
  (func (export "probe-rec") (param "v" $rec) (param "pad" $pad) (result (list u8))
    (canon lift (core func $probe) (memory $mem) (realloc $realloc)))
  (func (export "probe-var") (param "v" $var) (param "pad" $pad) (result (list u8))
    (canon lift (core func $probe) (memory $mem) (realloc $realloc)))
  (func (export "probe-res") (param "v" (result (list u8) (error $color))) (param "pad" $pad) (result (list u8))
    (canon lift (core func $probe) (memory $mem) (realloc $realloc)))
  (func (export "probe-flags") (param "v" $perms) (param "pad" $pad) (result (list u8))
    (canon lift (core func $probe) (memory $mem) (realloc $realloc)))
  (func (export "probe-tuple") (param "v" (tuple s8 s16 s64 bool f32 f64 u64)) (param "pad" $pad) (result (list u8))
    (canon lift (core func $probe) (memory $mem) (realloc $realloc)))
  (func (export "probe-opts") (param "v" (list (option (tuple string u32)))) (param "pad" $pad) (result (list u8))
    (canon lift (core func $probe) (memory $mem) (realloc $realloc)))

  (func (export "lift-string") (param "image" (list u8)) (result string)
    (canon lift (core func $at) (memory $mem) (realloc $realloc)))
  (func (export "lift-string16") (param "image" (list u8)) (result string)
    (canon lift (core func $at) (memory $mem) (realloc $realloc) string-encoding=utf16))
  (func (export "lift-strings") (param "image" (list u8)) (result (list string))
    (canon lift (core func $at) (memory $mem) (realloc $realloc)))
  (func (export "lift-rec") (param "image" (list u8)) (result $rec)
    (canon lift (core func $at) (memory $mem) (realloc $realloc)))
  (func (export "lift-var") (param "image" (list u8)) (result $var)
    (canon lift (core func $at) (memory $mem) (realloc $realloc)))
  (func (export "lift-res") (param "image" (list u8)) (result (result (list u8) (error $color)))
    (canon lift (core func $at) (memory $mem) (realloc $realloc)))
  (func (export "lift-flags") (param "image" (list u8)) (result (tuple $perms $perms))
    (canon lift (core func $at) (memory $mem) (realloc $realloc)))
  (func (export "lift-tuple") (param "image" (list u8)) (result (tuple s8 s16 s64 bool f32 f64 u64))
    (canon lift (core func $at) (memory $mem) (realloc $realloc)))
  (func (export "lift-opts") (param "image" (list u8)) (result (list (option (tuple string u32))))
    (canon lift (core func $at) (memory $mem) (realloc $realloc)))
)
