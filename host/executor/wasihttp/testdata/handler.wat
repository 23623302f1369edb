;; handler.wat: a wasi:http incoming-handler written by hand, for the
;; precise tests of the host side. handle(request, outparam) branches on
;; the request's method:
;;   GET      returns without setting the outparam
;;   POST     sets the outparam twice (the second set traps: the handle
;;            was consumed by the first)
;;   PUT      checks fields: forbidden and invalid names, immutable
;;            request headers; answers 200, or 500+k for the failing check k
;;   DELETE   traps (unreachable)
;;   PATCH    sets the outparam to error-code internal-error(none)
;;   OPTIONS  answers 204 with a header set by from-list, x-from-list: yes
;; Rebuild: jco parse handler.wat -o handler.wasm
(component
  (import "wasi:http/types@0.2.0" (instance $types
    (export "fields" (type $fields (sub resource)))
    (export "incoming-request" (type $req (sub resource)))
    (export "response-outparam" (type $out (sub resource)))
    (export "outgoing-response" (type $resp (sub resource)))
    (type $method' (variant (case "get") (case "head") (case "post") (case "put") (case "delete")
      (case "connect") (case "options") (case "trace") (case "patch") (case "other" string)))
    (export "method" (type $method (eq $method')))
    (type $header-error' (variant (case "invalid-syntax") (case "forbidden") (case "immutable")))
    (export "header-error" (type $header-error (eq $header-error')))
    (type $dns' (record (field "rcode" (option string)) (field "info-code" (option u16))))
    (export "DNS-error-payload" (type $dns (eq $dns')))
    (type $tls' (record (field "alert-id" (option u8)) (field "alert-message" (option string))))
    (export "TLS-alert-received-payload" (type $tls (eq $tls')))
    (type $fsp' (record (field "field-name" (option string)) (field "field-size" (option u32))))
    (export "field-size-payload" (type $fsp (eq $fsp')))
    (type $error-code' (variant
      (case "DNS-timeout") (case "DNS-error" $dns) (case "destination-not-found")
      (case "destination-unavailable") (case "destination-IP-prohibited")
      (case "destination-IP-unroutable") (case "connection-refused")
      (case "connection-terminated") (case "connection-timeout")
      (case "connection-read-timeout") (case "connection-write-timeout")
      (case "connection-limit-reached") (case "TLS-protocol-error")
      (case "TLS-certificate-error") (case "TLS-alert-received" $tls)
      (case "HTTP-request-denied") (case "HTTP-request-length-required")
      (case "HTTP-request-body-size" (option u64)) (case "HTTP-request-method-invalid")
      (case "HTTP-request-URI-invalid") (case "HTTP-request-URI-too-long")
      (case "HTTP-request-header-section-size" (option u32))
      (case "HTTP-request-header-size" (option $fsp))
      (case "HTTP-request-trailer-section-size" (option u32))
      (case "HTTP-request-trailer-size" $fsp) (case "HTTP-response-incomplete")
      (case "HTTP-response-header-section-size" (option u32))
      (case "HTTP-response-header-size" $fsp)
      (case "HTTP-response-body-size" (option u64))
      (case "HTTP-response-trailer-section-size" (option u32))
      (case "HTTP-response-trailer-size" $fsp)
      (case "HTTP-response-transfer-coding" (option string))
      (case "HTTP-response-content-coding" (option string))
      (case "HTTP-response-timeout") (case "HTTP-upgrade-failed") (case "HTTP-protocol-error")
      (case "loop-detected") (case "configuration-error") (case "internal-error" (option string))))
    (export "error-code" (type $error-code (eq $error-code')))
    (export "[constructor]fields" (func (result (own $fields))))
    (export "[static]fields.from-list" (func
      (param "entries" (list (tuple string (list u8))))
      (result (result (own $fields) (error $header-error)))))
    (export "[method]fields.append" (func (param "self" (borrow $fields)) (param "name" string)
      (param "value" (list u8)) (result (result (error $header-error)))))
    (export "[method]fields.delete" (func (param "self" (borrow $fields)) (param "name" string)
      (result (result (error $header-error)))))
    (export "[method]fields.has" (func (param "self" (borrow $fields)) (param "name" string) (result bool)))
    (export "[method]incoming-request.method" (func (param "self" (borrow $req)) (result $method)))
    (export "[method]incoming-request.headers" (func (param "self" (borrow $req)) (result (own $fields))))
    (export "[constructor]outgoing-response" (func (param "headers" (own $fields)) (result (own $resp))))
    (export "[method]outgoing-response.set-status-code" (func (param "self" (borrow $resp))
      (param "status-code" u16) (result (result))))
    (export "[static]response-outparam.set" (func (param "param" (own $out))
      (param "response" (result (own $resp) (error $error-code)))))
  ))
  (alias export $types "fields" (type $fields))
  (alias export $types "incoming-request" (type $req))
  (alias export $types "response-outparam" (type $out))

  (core module $mem
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 1024))
    ;; A bump allocator: nothing is freed.
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      global.get $next
      local.get 2
      i32.add
      i32.const 1
      i32.sub
      i32.const 0
      local.get 2
      i32.sub
      i32.and
      local.tee $p
      local.get 3
      i32.add
      global.set $next
      local.get $p)
    ;; Names and values the handler passes to the host.
    (data (i32.const 16) "connection")   ;; 16, 10
    (data (i32.const 32) "bad name")     ;; 32, 8
    (data (i32.const 48) "x-ok")         ;; 48, 4
    (data (i32.const 64) "yes")          ;; 64, 3
    (data (i32.const 80) "host")         ;; 80, 4
    (data (i32.const 96) "bad\0avalue")  ;; 96, 9
    (data (i32.const 112) "x-from-list") ;; 112, 11
    ;; from-list's entries: one tuple (string, list<u8>) at 128.
    (data (i32.const 128) "\70\00\00\00\0b\00\00\00\40\00\00\00\03\00\00\00")
  )
  (core instance $mem (instantiate $mem))
  (alias core export $mem "mem" (core memory $memory))
  (alias core export $mem "realloc" (core func $realloc))

  (core func $fields-new (canon lower (func $types "[constructor]fields")))
  (core func $from-list (canon lower (func $types "[static]fields.from-list") (memory $memory) (realloc $realloc)))
  (core func $append (canon lower (func $types "[method]fields.append") (memory $memory)))
  (core func $delete (canon lower (func $types "[method]fields.delete") (memory $memory)))
  (core func $has (canon lower (func $types "[method]fields.has") (memory $memory)))
  (core func $method (canon lower (func $types "[method]incoming-request.method") (memory $memory) (realloc $realloc)))
  (core func $req-headers (canon lower (func $types "[method]incoming-request.headers")))
  (core func $resp-new (canon lower (func $types "[constructor]outgoing-response")))
  (core func $set-status (canon lower (func $types "[method]outgoing-response.set-status-code")))
  (core func $set (canon lower (func $types "[static]response-outparam.set") (memory $memory)))
  (core func $drop-fields (canon resource.drop $fields))

  (core module $handler
    (import "m" "mem" (memory 1))
    (import "h" "fields-new" (func $fields-new (result i32)))
    (import "h" "from-list" (func $from-list (param i32 i32 i32)))
    (import "h" "append" (func $append (param i32 i32 i32 i32 i32 i32)))
    (import "h" "delete" (func $delete (param i32 i32 i32 i32)))
    (import "h" "has" (func $has (param i32 i32 i32) (result i32)))
    (import "h" "method" (func $method (param i32 i32)))
    (import "h" "req-headers" (func $req-headers (param i32) (result i32)))
    (import "h" "resp-new" (func $resp-new (param i32) (result i32)))
    (import "h" "set-status" (func $set-status (param i32 i32) (result i32)))
    (import "h" "set" (func $set (param i32 i32 i32 i32 i64 i32 i32 i32 i32)))
    (import "h" "drop-fields" (func $drop-fields (param i32)))

    ;; respond sets the outparam to a response with headers h and status.
    (func $respond (param $out i32) (param $h i32) (param $status i32)
      (local $r i32)
      (local.set $r (call $resp-new (local.get $h)))
      (drop (call $set-status (local.get $r) (local.get $status)))
      (call $set (local.get $out) (i32.const 0) (local.get $r)
        (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))

    ;; header-result reads the result<_, header-error> at 512: 0 for ok,
    ;; 1 + the header-error case for an error.
    (func $header-result (result i32)
      (if (result i32) (i32.load8_u (i32.const 512))
        (then (i32.add (i32.const 1) (i32.load8_u (i32.const 513))))
        (else (i32.const 0))))

    ;; check-fields runs the checks of PUT: 0 when all pass, else the
    ;; number of the failing one.
    (func $check-fields (param $req i32) (result i32)
      (local $f i32) (local $rh i32)
      (local.set $f (call $fields-new))
      ;; 1: a forbidden name → forbidden (case 1)
      (call $append (local.get $f) (i32.const 16) (i32.const 10) (i32.const 64) (i32.const 3) (i32.const 512))
      (if (i32.ne (call $header-result) (i32.const 2)) (then (return (i32.const 1))))
      ;; 2: a name that is no token → invalid-syntax (case 0)
      (call $append (local.get $f) (i32.const 32) (i32.const 8) (i32.const 64) (i32.const 3) (i32.const 512))
      (if (i32.ne (call $header-result) (i32.const 1)) (then (return (i32.const 2))))
      ;; 3: a value with a line feed → invalid-syntax
      (call $append (local.get $f) (i32.const 48) (i32.const 4) (i32.const 96) (i32.const 9) (i32.const 512))
      (if (i32.ne (call $header-result) (i32.const 1)) (then (return (i32.const 3))))
      ;; 4: a good one → ok, and has says so
      (call $append (local.get $f) (i32.const 48) (i32.const 4) (i32.const 64) (i32.const 3) (i32.const 512))
      (if (i32.ne (call $header-result) (i32.const 0)) (then (return (i32.const 4))))
      (if (i32.eqz (call $has (local.get $f) (i32.const 48) (i32.const 4))) (then (return (i32.const 4))))
      ;; 5: deleting a forbidden name → forbidden
      (call $delete (local.get $f) (i32.const 16) (i32.const 10) (i32.const 512))
      (if (i32.ne (call $header-result) (i32.const 2)) (then (return (i32.const 5))))
      (call $drop-fields (local.get $f))
      ;; 6: the request's headers are immutable, for append and delete
      (local.set $rh (call $req-headers (local.get $req)))
      (call $append (local.get $rh) (i32.const 48) (i32.const 4) (i32.const 64) (i32.const 3) (i32.const 512))
      (if (i32.ne (call $header-result) (i32.const 3)) (then (return (i32.const 6))))
      (call $delete (local.get $rh) (i32.const 80) (i32.const 4) (i32.const 512))
      (if (i32.ne (call $header-result) (i32.const 3)) (then (return (i32.const 6))))
      ;; 7: they hold the request's host
      (if (i32.eqz (call $has (local.get $rh) (i32.const 80) (i32.const 4))) (then (return (i32.const 7))))
      (call $drop-fields (local.get $rh))
      (i32.const 0))

    (func (export "handle") (param $req i32) (param $out i32)
      (local $k i32)
      (call $method (local.get $req) (i32.const 256))
      (block $done
        (block $options
          (block $patch
            (block $delete
              (block $put
                (block $post
                  (block $get
                    (br_table $get $done $post $put $delete $done $options $done $patch $done
                      (i32.load8_u (i32.const 256))))
                  ;; GET: nothing set.
                  (br $done))
                ;; POST: set twice.
                (call $respond (local.get $out) (call $fields-new) (i32.const 200))
                (call $respond (local.get $out) (call $fields-new) (i32.const 201))
                (br $done))
              ;; PUT: the fields checks.
              (local.set $k (call $check-fields (local.get $req)))
              (call $respond (local.get $out) (call $fields-new)
                (select (i32.add (i32.const 500) (local.get $k)) (i32.const 200) (local.get $k)))
              (br $done))
            ;; DELETE: trap.
            unreachable)
          ;; PATCH: error-code internal-error(none) is case 38.
          (call $set (local.get $out) (i32.const 1) (i32.const 38)
            (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
          (br $done))
        ;; OPTIONS: a header from from-list, 204.
        (call $from-list (i32.const 128) (i32.const 1) (i32.const 520))
        (if (i32.load8_u (i32.const 520)) (then unreachable))
        (call $respond (local.get $out) (i32.load (i32.const 524)) (i32.const 204))))
  )
  (core instance $host
    (export "fields-new" (func $fields-new))
    (export "from-list" (func $from-list))
    (export "append" (func $append))
    (export "delete" (func $delete))
    (export "has" (func $has))
    (export "method" (func $method))
    (export "req-headers" (func $req-headers))
    (export "resp-new" (func $resp-new))
    (export "set-status" (func $set-status))
    (export "set" (func $set))
    (export "drop-fields" (func $drop-fields))
  )
  (core instance $handler (instantiate $handler
    (with "m" (instance $mem))
    (with "h" (instance $host))))

  (type $handle-type (func (param "request" (own $req)) (param "response-out" (own $out))))
  (func $handle (type $handle-type) (canon lift (core func $handler "handle")))
  (instance $handler-export (export "handle" (func $handle)))
  (export "wasi:http/incoming-handler@0.2.0" (instance $handler-export))
)
