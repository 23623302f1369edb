;; threads.wat: the threads proposal's canonical built-ins, with their
;; immediates as wasm-tools writes them (no shared? byte), and a tag in a
;; core module type.
;; Rebuild: jco parse threads.wat -o threads.wasm
(component
  (core type $ft (func (param i32)))
  (core module $m (table (export "t") 1 funcref))
  (core instance $i (instantiate $m))
  (alias core export $i "t" (core table $t))
  (core func (canon thread.spawn-ref $ft))
  (core func (canon thread.spawn-indirect $ft (core table $t)))
  (core func (canon thread.available_parallelism))
  (core func (canon thread.index))
  (core func (canon thread.new-indirect $ft (core table $t)))
  (core func (canon thread.suspend))
  (core func (canon thread.suspend-then-resume))
  (core func (canon thread.suspend-then-promote))
  (core func (canon thread.resume-later))
  (core func (canon thread.yield-then-resume))
  (core func (canon thread.yield-then-promote))
  (core type (module (import "env" "tg" (tag (param i32)))))
)
