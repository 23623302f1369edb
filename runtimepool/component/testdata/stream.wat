;; A component that imports a function taking a stream (component-model
;; async, WASI 0.3), which the linker refuses by name.
;;
;; Rebuild: jco parse stream.wat -o stream.wasm
(component
  (type $s (stream u8))
  (import "f" (func (param "s" $s)))
)
