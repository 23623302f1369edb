;; A component whose core module initialises its memory with a data
;; segment, for the memory image tests: "get" returns the string the
;; segment wrote, "poke" changes its first byte.
;;
;; Rebuild: jco parse image.wat -o image.wasm
(component
  (core module $m
    (memory (export "memory") 2)
    (data (i32.const 100) "hello, image")
    (data (i32.const 70000) "second page")
    (func (export "get") (result i32)
      (i32.store (i32.const 16) (i32.const 100))
      (i32.store (i32.const 20) (i32.const 12))
      (i32.const 16))
    (func (export "poke") (param $b i32)
      (i32.store8 (i32.const 100) (local.get $b)))
    (func (export "far") (result i32) (i32.load8_u (i32.const 70000))))
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $mem))
  (func (export "get") (result string) (canon lift (core func $i "get") (memory $mem)))
  (func (export "poke") (param "b" u8) (canon lift (core func $i "poke")))
  (func (export "far") (result u8) (canon lift (core func $i "far")))
)
