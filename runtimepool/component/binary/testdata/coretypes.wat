;; coretypes.wat: the core types a component may define: function types
;; of every value type, a rec group of GC struct and array types with
;; subtyping, a non-final sub type outside of a group (0x00 0x50), and a
;; module type with imports of every kind, exports and a non-final sub type
;; (0x50 alone there).
;; Rebuild: jco parse coretypes.wat -o coretypes.wasm
(component
  (core type $nums (func (param i32 i64 f32 f64 v128) (result i32)))
  (core type $refs (func (param funcref externref) (result (ref null $nums))))
  (core rec
    (type $point (sub (struct (field $x (mut i32)) (field $y i8))))
    (type $bytes (array (mut i8)))
    (type $point3 (sub final $point (struct (field (mut i32)) (field i8) (field i16))))
  )
  (core type $open (sub (func)))
  (core type $mod (module
    (type $f (func (param i32) (result i32)))
    (import "env" "f" (func (type $f)))
    (import "env" "memory" (memory 1 65536))
    (import "env" "shared" (memory 1 2 shared))
    (import "env" "table" (table 10 20 externref))
    (import "env" "counter" (global (mut i32)))
    (import "env" "pi" (global f64))
    (export "run" (func (type $f)))
    (export "mem" (memory 0))
    (type $open-in-module (sub (func (param i64))))
  ))
)
