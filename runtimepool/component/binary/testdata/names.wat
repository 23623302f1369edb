;; names.wat: the forms of import and export names: interface names with
;; and without versions, plain names, annotated [method] and [static]
;; names, and the name attributes (implements, versionsuffix).
;; Rebuild: jco parse names.wat -o names.wasm
(component
  (import "wasi:http/types@0.2.0" (instance $types
    (export "fields" (type (sub resource)))
  ))
  (import "wasi:cli/environment@0.2.10" (instance))
  (import "wasi:keyvalue/store" (instance))
  (import "store" (implements "wasi:keyvalue/store@0.2.0") (instance $kv))
  (import "wasi:io/poll@0.2" (versionsuffix ".6") (instance))
  (import "config" (func $config (result string)))
  (export "wasi:http/incoming-handler@0.2.0" (instance $types))
  (export "cfg" (func $config))
)
