;; sections.wat: every kind of section of a component, in a small component
;; that imports an interface, runs a core module against it and exports a
;; function: custom, core module, core instance (instantiated and made of
;; exports), core type (function and module types), nested component,
;; instance (instantiated and made of exports), alias (export, core
;; export, outer), type, canon (lift with every option, lower), import and
;; export (with a version in the name and an explicit type).
;; Rebuild: jco parse sections.wat -o sections.wasm
(component $sections
  (@custom "producers-note" "made by hand")
  (type $log-func (func (param "msg" string)))
  (import "wasi:logging/logging@0.1.0-draft" (instance $logging
    (export "log" (func (type 0)))
  ))
  (import "greeting" (func $greeting (result string)))
  (alias export $logging "log" (func $log))
  (core type $ft (func (param i32 i32)))
  (core type $mt (module
    (import "host" "log" (func (type 0)))
    (export "memory" (memory 1))
  ))
  (core module $libc
    (memory (export "memory") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 8)
  )
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))
  (core func $log-lowered (canon lower (func $log) (memory $mem) string-encoding=utf8))
  (core instance $host (export "log" (func $log-lowered)))
  (core module $main
    (import "host" "log" (func $log (param i32 i32)))
    (memory (export "memory") 1)
    (func (export "run") (param i32 i32) (result i32) i32.const 0)
    (func (export "run-post") (param i32))
  )
  (core instance $main (instantiate $main (with "host" (instance $host))))
  (type $run-type (func (param "name" string) (result u32)))
  (func $run (type $run-type)
    (canon lift (core func $main "run")
      (memory $mem) (realloc (core func $libc "realloc")) string-encoding=utf16
      (post-return (core func $main "run-post"))))
  (component $inner
    (import "f" (func $f (type 0)))
    (alias outer $sections $run-type (type $outer-t))
    (export "g" (func $f))
  )
  (instance $inner (instantiate $inner (with "f" (func $run))))
  (instance $bundle (export "run" (func $run)) (export "inner" (instance $inner)))
  (export "wasi:example/run@1.2.3" (func $run) (func (type $run-type)))
  (export "bundle" (instance $bundle))
)
