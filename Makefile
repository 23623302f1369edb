# wasmserve — the two set-up commands are `make run` and `make test`.
GO       ?= go
BIN      := bin
GUESTS   := hello echo json-api router middleware
WASMENV  := GOOS=wasip1 GOARCH=wasm
PORT     ?= 8080
WAT      := $(wildcard guest-examples/*/*.wat */testdata/*.wat cmd/*/testdata/*.wat)

.PHONY: all build guests run test test-short conformance check wat bench bench-go bench-load clean certs

all: build guests

## build: the server binary, bin/wasmserve
build:
	$(GO) build -o $(BIN)/wasmserve ./cmd/wasmserve

## guests: the Go example handlers, bin/guests/<name>.wasm
guests: $(GUESTS:%=$(BIN)/guests/%.wasm)

$(BIN)/guests/%.wasm: FORCE
	$(WASMENV) $(GO) build -buildmode=c-shared -o $@ ./guest-examples/$*

FORCE:

## run: build everything and serve the hello example on http://localhost:$(PORT)
run: build guests
	$(BIN)/wasmserve serve --port $(PORT) $(BIN)/guests/hello.wasm

## test: every test, with the race detector
test:
	$(GO) test -race -count=1 -timeout 20m ./...

## conformance: rebuild the guests whose toolchains are installed, run
## `wasmserve test` for every example of conformance/examples.tsv, then the
## http-wasm TCK (v0.7.0) and the middleware-mode tests; prints
## "N passed, N failed". `make test` runs the same (TestExamples, TestTCK)
conformance:
	GO=$(GO) bash conformance/run.sh

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
## --debug-names where its Rebuild line says so)
wat:
	@for f in $(WAT); do n=$$(grep -q -- '--debug-names' $$f && echo --debug-names); \
		echo "wat2wasm $$n $$f"; wat2wasm $$n $$f -o $${f%.wat}.wasm || exit 1; done

## certs: remake the committed test certificates in certs/ (100 years; see certs/README.md)
certs:
	$(GO) run ./cmd/wasmserve certs --out certs --days 36500 --force

clean:
	rm -rf $(BIN)

## bench: in-process Go benchmarks, then the load/start-up/memory script
bench: bench-go bench-load

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 20000x ./bench/

bench-load:
	bash bench/load.sh
