;; externs.wat: an imported component type and nested instance types, export
;; aliases of every core sort, a core instance of inline exports of each,
;; an async lift without callback, and exports with declared types.
;; Rebuild: jco parse externs.wat -o externs.wasm
(component
  (import "host" (instance $host
    (export "r" (type $r (sub resource)))
    (export "inner" (instance
      (export "get" (func (result u32)))
    ))
  ))
  (import "c" (component $c
    (import "host" (instance $h (export "r" (type (sub resource)))))
    (alias export $h "r" (type $hr))
    (export "f" (func (param "x" (borrow $hr))))
  ))
  (alias export $host "r" (type $r))
  (core module $m
    (table (export "tab") 1 funcref)
    (global (export "glob") i32 (i32.const 1))
    (memory (export "mem") 1)
    (tag (export "tag") (param i32))
    (func (export "f") (param i32))
    (func (export "g") (param i32 i32) (result i32) i32.const 0)
  )
  (core instance $mi (instantiate $m))
  (alias core export $mi "tab" (core table $tab))
  (alias core export $mi "glob" (core global $glob))
  (alias core export $mi "mem" (core memory $mem))
  (alias core export $mi "tag" (core tag $tag))
  (core instance $bundle
    (export "tab" (table $tab))
    (export "glob" (global $glob))
    (export "mem" (memory $mem))
    (export "tag" (tag $tag))
  )
  (type $ft (func (param "s" string) (result string)))
  (func $lifted (type $ft) (canon lift (core func $mi "g") (memory $mem) async))
  (export $e "t" (type $r) (type (sub resource)))
  (export "lifted" (func $lifted) (func (type $ft)))
  (instance $ci (instantiate $c (with "host" (instance $host))))
)
