# wasmserve — the two set-up commands are `make run` and `make test`.
GO       ?= go
BIN      := bin
GUESTS   := hello echo json-api router middleware fetch-json kv-counter
WASMENV  := GOOS=wasip1 GOARCH=wasm
PORT     ?= 8080
WAT      := $(sort $(wildcard guest-examples/*/*.wat */testdata/*.wat */*/testdata/*.wat */*/*/testdata/*.wat */*/*/*/testdata/*.wat cmd/*/testdata/*.wat))
# jco builds the component fixtures (component text): npm's @bytecodealliance/jco
JCO      ?= $(or $(wildcard $(NPMTOOLS)/node_modules/.bin/jco),$(wildcard /tmp/npmtools/node_modules/.bin/jco),jco)
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
IMAGE    ?= wasmserve:dev
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
CONTAINER_ENGINE ?= $(shell command -v podman 2>/dev/null || command -v docker 2>/dev/null)

.PHONY: all build install guests run test test-short conformance check wat bench bench-go bench-targets bench-load bench-ledger bench-http3 clean certs image image-test fuzz

all: build guests

## build: the server binary, bin/wasmserve
build:
	$(GO) build -o $(BIN)/wasmserve ./cmd/wasmserve

## install: wasmserve into $(go env GOPATH)/bin (put that on your PATH), with
## this checkout's version; `wasmserve new` then points a Go project at this
## checkout's SDK
install:
	$(GO) install -ldflags "-X main.version=$(VERSION) -X 'main.sdkDir=$(CURDIR)'" ./cmd/wasmserve

## guests: the Go example handlers, bin/guests/<name>.wasm
guests: $(GUESTS:%=$(BIN)/guests/%.wasm) $(BIN)/guests/cgi-go.wasm

$(BIN)/guests/%.wasm: FORCE
	$(WASMENV) $(GO) build -buildmode=c-shared -o $@ ./guest-examples/$*

# A CGI guest is a WASI command: no -buildmode.
$(BIN)/guests/cgi-go.wasm: FORCE
	$(WASMENV) $(GO) build -o $@ ./guest-examples/cgi-go

FORCE:

## run: build everything and serve the hello example on http://localhost:$(PORT)
run: build guests
	$(BIN)/wasmserve serve --port $(PORT) $(BIN)/guests/hello.wasm

## test: every test twice, without and then with the race detector. The test
## binaries share a new directory of built guests and compiled modules,
## WASMSERVE_TEST_CACHE, removed after the run: the first pass compiles the
## guests at full speed, and the second, whose compiler runs about ten times
## slower under the race detector, finds most of them compiled
test:
	@dir=$$(mktemp -d "$${TMPDIR:-/tmp}/wasmserve-test-XXXXXX") || exit 1; \
	trap 'rm -rf "$$dir"' EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; \
	echo "WASMSERVE_TEST_CACHE=$$dir $(GO) test -count=1 -timeout 28m ./..."; \
	WASMSERVE_TEST_CACHE=$$dir $(GO) test -count=1 -timeout 28m ./... || exit $$?; \
	echo "WASMSERVE_TEST_CACHE=$$dir $(GO) test -race -count=1 -timeout 28m ./..."; \
	WASMSERVE_TEST_CACHE=$$dir $(GO) test -race -count=1 -timeout 28m ./...

## conformance: rebuild the guests whose toolchains are installed, run
## `wasmserve test` for every example of conformance/examples.tsv, then the
## http-wasm TCK (v0.7.0) and the middleware-mode tests; prints
## "N passed, N failed". `make test` runs the same (TestExamples, TestTCK)
conformance:
	GO=$(GO) bash conformance/run.sh

## fuzz: every Fuzz target for FUZZTIME each (default 30s), one worker; not in
## `make test`. Crashers land in testdata/fuzz/ as regression seeds to commit.
fuzz:
	GO=$(GO) bash .ci/fuzz.sh

test-short:
	$(GO) test -short ./...

## check: formatting, vet (host and guest side), and a tidy go.mod
check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(WASMENV) $(GO) vet ./abi/guest/... ./guest-examples/...
	$(GO) mod tidy
	@git diff --exit-code go.mod go.sum || (echo "go mod tidy changed go.mod/go.sum"; exit 1)

## wat: rebuild the committed .wasm of every .wat (needs wabt's wat2wasm; with
## --debug-names where its Rebuild line says so), and of every component
## fixture whose Rebuild line says jco parse (needs jco from npm: JCO=path)
wat:
	@for f in $(WAT); do \
		if grep -q 'Rebuild: jco parse' $$f; then echo "jco parse $$f"; $(JCO) parse $$f -o $${f%.wat}.wasm || exit 1; continue; fi; \
		n=$$(grep -q -- '--debug-names' $$f && echo --debug-names); \
		echo "wat2wasm $$n $$f"; wat2wasm $$n $$f -o $${f%.wat}.wasm || exit 1; done

## certs: remake the committed test certificates in certs/ (100 years; see certs/README.md)
certs:
	$(GO) run ./cmd/wasmserve certs --out certs --days 36500 --force

clean:
	rm -rf $(BIN)

## image: the container image $(IMAGE), FROM scratch, from a static build of
## this checkout (bin/image/rootfs), with podman or docker; pulls no base image
image:
	@[ -n "$(CONTAINER_ENGINE)" ] || { echo "make image: neither podman nor docker is installed (apt-get install podman runc), or set CONTAINER_ENGINE"; exit 1; }
	@[ -r "$(CA_BUNDLE)" ] || { echo "make image: no CA bundle at $(CA_BUNDLE): install ca-certificates or set CA_BUNDLE"; exit 1; }
	rm -rf $(BIN)/image/rootfs
	mkdir -p $(BIN)/image/rootfs/etc/ssl/certs $(BIN)/image/rootfs/tmp
	chmod 1777 $(BIN)/image/rootfs/tmp
	cp $(CA_BUNDLE) $(BIN)/image/rootfs/etc/ssl/certs/ca-certificates.crt
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN)/image/rootfs/wasmserve ./cmd/wasmserve
	$(CONTAINER_ENGINE) build --target prebuilt --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) -t $(IMAGE) .

## image-test: build the image and run it as README and the Deployment do:
## a guest answers, SIGTERM exits 0; fails (not skips) without a working engine
image-test:
	cd deploy && WASMSERVE_IMAGE_TEST=require $(GO) test -count=1 -run '^TestImage' -v .

## bench: in-process Go benchmarks, the in-process targets, the load/start-up/memory script, a request's
## CPU step by step (the ledger), then HTTP/3 beside HTTP/2
bench: bench-go bench-targets bench-load bench-ledger bench-http3

## bench-go: every in-process benchmark; the slow ones (a new instance or a
## reload per iteration, a key-value write fsynced) with fewer iterations
bench-go:
	$(GO) test -run '^$$' -bench . -skip 'HelloGoFresh|ReloadGo|KV' -benchmem -benchtime 20000x ./bench/
	$(GO) test -run '^$$' -bench 'HelloGoFresh$$|ReloadGo$$' -benchmem -benchtime 100x ./bench/
	$(GO) test -run '^$$' -bench 'KV' -benchmem -benchtime 2000x ./bench/

bench-targets:
	bash bench/targets.sh

## bench-load: under load (wrk), wasmserve against a native net/http hello
## and the same WAT hello on http-wasm-host-go (bench/load.sh); prints every
## goal met or NOT MET, also in bench/out/goals
bench-load:
	bash bench/load.sh

## bench-ledger: a request's server CPU step by step under load, wasmserve
## beside native, from CPU profiles taken during wrk (bench/ledger.sh)
bench-ledger:
	bash bench/ledger.sh

## bench-http3: HTTP/3 and HTTP/2 over TLS against one server, req/s and p99 (bench/protoload)
bench-http3:
	bash bench/http3.sh
