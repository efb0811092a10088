# Firebreak's everyday commands. CI runs .ci/run (gofmt, go vet, go test -race).

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BENCH     ?= .
BENCHTIME ?= 1s
BENCHPKGS ?= ./risk ./ingest ./journal ./http ./sqlite ./eval ./sim
FUZZTIME  ?= 10s
FUZZPKGS  ?= ./ingest ./journal ./http ./eval ./uap

.PHONY: all build test lint bench fuzz demo clean

all: lint test build

## build: compile the binary to ./firebreak
build:
	$(GO) build -ldflags "-X main.Version=$(VERSION)" -o firebreak ./cmd/firebreak

## test: every test, with the race detector (the README's and CI's test command)
test:
	$(GO) test -race ./...

## lint: gofmt must have nothing to change, and go vet must be clean
lint:
	@files=$$(git ls-files --cached --others --exclude-standard '*.go' | while read -r f; do [ -f "$$f" ] && echo "$$f"; done); \
	out=$$(gofmt -l $$files); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## bench: the key benchmarks (scoring at 1M accounts, decoding, journal, HTTP, store)
bench:
	$(GO) test -run XXX -bench '$(BENCH)' -benchtime $(BENCHTIME) -benchmem $(BENCHPKGS)

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	@for pkg in $(FUZZPKGS); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$t"; \
			$(GO) test -run XXX -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## demo: serve simulated traffic with an attack; open the printed URL
demo:
	$(GO) run ./cmd/firebreak demo

## clean: remove the binary, test binaries and profiles (never a data directory)
clean:
	rm -f firebreak
	find . -name '*.test' -o -name '*.prof' -o -name '*.out' | grep -v '^./.git/' | xargs rm -f
