;; nested.wat: components nested three deep, outer aliases reaching one
;; and two scopes out (from a nested component and from inside a component
;; type), a component type and an instance type declaring core types,
;; types, aliases, imports and exports, and a core module type.
;; Rebuild: jco parse nested.wat -o nested.wasm
(component $outer
  (type $t (list string))
  (core type $ct (func (param i32) (result i32)))
  (type $ctype (component
    (core type $cf (func))
    (core type $mod (module
      (type $f (func (param i32)))
      (import "env" "f" (func (type $f)))
      (import "env" "mem" (memory 1 2))
      (import "env" "tbl" (table 1 funcref))
      (import "env" "g" (global (mut i64)))
      (alias outer 1 0 (type $from-ctype))
      (export "run" (func (type $f)))
    ))
    (alias outer $outer $t (type $tt))
    (type $ft (func (param "x" $tt)))
    (import "f" (func (type $ft)))
    (import "m" (core module (type $mod)))
    (export "g" (func (type $ft)))
  ))
  (type $itype (instance
    (type $u u32)
    (export "u" (type $u2 (eq $u)))
    (export "r" (type (sub resource)))
    (export "get" (func (result $u2)))
  ))
  (import "inst" (instance $inst (type $itype)))
  (import "comp" (component $imported (type $ctype)))
  (component $middle
    (type $mt (tuple u8 u8))
    (component $innermost
      (alias outer $outer $t (type $t2))
      (alias outer $middle $mt (type $mt2))
      (type $use (func (param "a" $t2)))
      (export "use-type" (type $use))
    )
    (instance $i (instantiate $innermost))
    (export "i" (instance $i))
  )
  (instance $m (instantiate $middle))
  (alias export $m "i" (instance $i))
  (export "middle" (instance $m))
  (export "nested-type" (type $ctype))
)
