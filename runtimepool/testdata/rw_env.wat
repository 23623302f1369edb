;; rw_env.wat: the "env" module rw_mvp.wasm imports its global from, so
;; that the rewriter's tests see a module with an imported global.
;; Rebuild: wat2wasm rw_env.wat -o rw_env.wasm
(module (global (export "g") i32 (i32.const 7)))
