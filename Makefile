# pktstat — every build, test and benchmark goes through here.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: all build run test deps lint unit bare-check e2e
all: build

deps:
	bash tests/scripts/install-deps.sh

build:
	$(CARGO) build --release

run: build
	./target/release/pktstat -t 10s

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --workspace

test: deps lint unit
