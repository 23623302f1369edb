;; values.wat: imported values and a start function, of the value
;; proposal (🪙).
;; Rebuild: jco parse values.wat -o values.wasm
(component
  (import "f" (func $f (param "a" u32) (param "b" string) (result string)))
  (import "a" (value $a u32))
  (import "b" (value $b string))
  (start $f (value $a) (value $b) (result (value $r)))
  (export "r" (value $r))
)
