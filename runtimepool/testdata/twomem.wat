;; A component of two core instances with a memory of two pages each, for
;; the memory limit over all of an instance's memories: "grow" asks the
;; second for more pages and returns what memory.grow answered.
;;
;; Rebuild: jco parse twomem.wat -o twomem.wasm
(component
  (core module $a (memory (export "memory") 2))
  (core module $b
    (memory (export "memory") 2)
    (func (export "grow") (param $n i32) (result i32) (memory.grow (local.get $n))))
  (core instance $a (instantiate $a))
  (core instance $b (instantiate $b))
  (func (export "grow") (param "n" u32) (result s32) (canon lift (core func $b "grow")))
)
