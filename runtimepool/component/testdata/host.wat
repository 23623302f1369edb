;; A component that imports a host interface with a resource, lowers its
;; functions into core code that shares a memory and a realloc of another
;; core instance, lifts core functions back, and re-exports one through a
;; nested component. The linker and canonical ABI tests call it.
;;
;; Rebuild: jco parse host.wat -o host.wasm
;; (jco is @bytecodealliance/jco@1.35.0 from npm)
(component
  (import "test:host/api@0.1.0" (instance $api
    (export "counter" (type (sub resource)))
    (export "log" (func (param "msg" string)))
    (export "[constructor]counter" (func (param "start" u32) (result (own 0))))
    (export "[method]counter.add" (func (param "self" (borrow 0)) (param "n" u32) (result u32)))
    (export "pair" (func (result (tuple string (list u8)))))
  ))
  (alias export $api "counter" (type $counter))

  ;; The memory and the allocator, in a core instance of their own.
  (core module $libc
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 1024))
    (func (export "cabi_realloc") (param $old i32) (param $oldsz i32) (param $align i32) (param $new i32) (result i32)
      (local $p i32)
      (local.set $p
        (i32.and
          (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
      (global.set $bump (i32.add (local.get $p) (local.get $new)))
      (if (i32.gt_u (global.get $bump) (i32.mul (memory.size) (i32.const 65536)))
        (then (drop (memory.grow (i32.const 1)))))
      (if (local.get $old)
        (then (memory.copy (local.get $p) (local.get $old) (local.get $oldsz))))
      (local.get $p))
  )
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $mem))
  (alias core export $libc "cabi_realloc" (core func $realloc))

  (alias export $api "log" (func $log))
  (core func $log_l (canon lower (func $log) (memory $mem)))
  (alias export $api "[constructor]counter" (func $ctor))
  (core func $ctor_l (canon lower (func $ctor)))
  (alias export $api "[method]counter.add" (func $add))
  (core func $add_l (canon lower (func $add)))
  (core func $drop_l (canon resource.drop $counter))
  (alias export $api "pair" (func $pair))
  (core func $pair_l (canon lower (func $pair) (memory $mem) (realloc $realloc)))
  (core instance $hostfns
    (export "log" (func $log_l))
    (export "new" (func $ctor_l))
    (export "add" (func $add_l))
    (export "drop" (func $drop_l))
    (export "pair" (func $pair_l)))

  (core module $main
    (import "libc" "memory" (memory 1))
    (import "host" "log" (func $log (param i32 i32)))
    (import "host" "new" (func $new (param i32) (result i32)))
    (import "host" "add" (func $add (param i32 i32) (result i32)))
    (import "host" "drop" (func $drop (param i32)))
    (import "host" "pair" (func $pair (param i32)))
    (global $posts (mut i32) (i32.const 0))
    ;; echo(s: string) -> string: logs s and returns it.
    (func (export "echo") (param $ptr i32) (param $len i32) (result i32)
      (call $log (local.get $ptr) (local.get $len))
      (i32.store (i32.const 16) (local.get $ptr))
      (i32.store (i32.const 20) (local.get $len))
      (i32.const 16))
    (func (export "post-echo") (param i32)
      (global.set $posts (i32.add (global.get $posts) (i32.const 1))))
    (func (export "posts") (result i32) (global.get $posts))
    ;; count(n: u32) -> u32: a host counter from 10, plus n, dropped.
    (func (export "count") (param $n i32) (result i32)
      (local $h i32) (local $r i32)
      (local.set $h (call $new (i32.const 10)))
      (local.set $r (call $add (local.get $h) (local.get $n)))
      (call $drop (local.get $h))
      (local.get $r))
    ;; pair-len() -> u32: the lengths of what the host's pair returns.
    (func (export "pair-len") (result i32)
      (call $pair (i32.const 32))
      (i32.add (i32.load (i32.const 36)) (i32.load (i32.const 44))))
    ;; add-to(c: borrow<counter>, n: u32) -> u32, dropping the borrow.
    (func (export "add-to") (param $h i32) (param $n i32) (result i32)
      (local $r i32)
      (local.set $r (call $add (local.get $h) (local.get $n)))
      (call $drop (local.get $h))
      (local.get $r))
    ;; keep(c: borrow<counter>) -> u32, keeping the borrow: a trap.
    (func (export "keep") (param $h i32) (result i32)
      (call $add (local.get $h) (i32.const 1)))
    (func (export "boom") unreachable)
  )
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "host" (instance $hostfns))))

  (func $echo (param "s" string) (result string)
    (canon lift (core func $main "echo") (memory $mem) (realloc $realloc)
      (post-return (core func $main "post-echo"))))
  (func $posts (result u32) (canon lift (core func $main "posts")))
  (func $count (param "n" u32) (result u32) (canon lift (core func $main "count")))
  (func $pair-len (result u32) (canon lift (core func $main "pair-len")))
  (type $bc (borrow $counter))
  (func $add-to (param "c" $bc) (param "n" u32) (result u32) (canon lift (core func $main "add-to")))
  (func $keep (param "c" $bc) (result u32) (canon lift (core func $main "keep")))
  (func $boom (canon lift (core func $main "boom")))
  (export "echo" (func $echo))
  (export "posts" (func $posts))
  (export "count" (func $count))
  (export "pair-len" (func $pair-len))
  (export "add-to" (func $add-to))
  (export "keep" (func $keep))
  (export "boom" (func $boom))

  ;; A nested component re-exports count as "g" of an exported instance.
  (component $inner
    (import "f" (func $f (param "n" u32) (result u32)))
    (export "g" (func $f)))
  (instance $nested (instantiate $inner (with "f" (func $count))))
  (export "test:nested/fns@1.2.3" (instance $nested))
)
