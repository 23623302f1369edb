;; resources.wat: a resource defined with a destructor and exported, its
;; handles in a function type, the resource built-ins (new, drop, rep),
;; and an imported resource with [constructor], [method] and [static]
;; functions in an instance type.
;; Rebuild: jco parse resources.wat -o resources.wasm
(component
  (import "wasi:io/streams@0.2.10" (instance $streams
    (export "output-stream" (type $os (sub resource)))
    (export "[constructor]output-stream" (func (result (own $os))))
    (export "[method]output-stream.write" (func (param "self" (borrow $os)) (param "bytes" (list u8))))
    (export "[static]output-stream.count" (func (result u32)))
  ))
  (alias export $streams "output-stream" (type $output-stream))
  (core module $m
    (func (export "dtor") (param i32))
    (func (export "make") (param i32) (result i32) local.get 0)
  )
  (core instance $m (instantiate $m))
  (type $counter (resource (rep i32) (dtor (core func $m "dtor"))))
  (type $plain (resource (rep i32)))
  (core func $new (canon resource.new $counter))
  (core func $drop (canon resource.drop $counter))
  (core func $rep (canon resource.rep $counter))
  (core func $drop-stream (canon resource.drop $output-stream))
  (type $make-type (func (param "n" u32) (result (own $counter))))
  (func $make (type $make-type) (canon lift (core func $m "make")))
  (export $counter-export "counter" (type $counter))
  (export "[constructor]counter" (func $make))
)
