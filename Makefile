# marksync-log — the two commands of the quick start are `make serve` and `make test`.
SHELL := /bin/bash
SWIFT ?= swift
EXAMPLE ?= examples/task-manager-api/README.md
PREFIX ?= /usr/local

.PHONY: setup build test serve bench install clean

## Install system and Python packages the build and the tests need (idempotent).
setup:
	@bash scripts/setup.sh

## Debug build of everything (the binary lands in .build/debug/marksync-log).
build: setup
	$(SWIFT) build --build-tests

## Install, build and run the whole test suite.
test: build
	$(SWIFT) test --skip-build

## Install, build and start marksync-log on an example project (a copy in .demo/, so edits made
## through the server do not touch the example in the repository). Stop it with Ctrl-C.
serve: setup
	$(SWIFT) build --product marksync-log
	mkdir -p .demo/$(notdir $(patsubst %/,%,$(dir $(EXAMPLE))))
	test -f .demo/$(notdir $(patsubst %/,%,$(dir $(EXAMPLE))))/README.md || cp $(EXAMPLE) .demo/$(notdir $(patsubst %/,%,$(dir $(EXAMPLE))))/README.md
	.build/debug/marksync-log blocks .demo/$(notdir $(patsubst %/,%,$(dir $(EXAMPLE))))/README.md
	.build/debug/marksync-log serve .demo/$(notdir $(patsubst %/,%,$(dir $(EXAMPLE))))/README.md --port $${MARKSYNC_PORT:-8765}

## Benchmarks (release build): `make bench` runs the core benchmark.
bench: setup
	$(SWIFT) run -c release marksync-bench core

## Release binary on the PATH.
install: setup
	$(SWIFT) build -c release --product marksync-log
	install -m 0755 .build/release/marksync-log $(PREFIX)/bin/marksync-log

clean:
	rm -rf .build
