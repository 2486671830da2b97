# pktstat — every build, test and benchmark goes through here.
#   make run    the main job: live capture on every interface for 10 s, then the report
#   make test   every test (what CI runs through .ci/run)
SHELL := /bin/bash
CARGO ?= cargo
BIN := target/release/pktstat

.PHONY: all deps build run test lint unit bare-check e2e cross dist cross-test \
        bench bench-live fuzz soak clean check-platforms

all: build

deps:
	@bash tests/scripts/install-deps.sh

build:
	$(CARGO) build --release -p pktstat

run: build
	$(BIN) -t 10s

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p pktstat --all-targets --features pcap -- -D warnings

# Unit and property tests of every crate, then the end-to-end tests (they run the debug binary).
unit:
	$(CARGO) build -p pktstat
	$(CARGO) test --workspace

# The core linked into a #![no_std] #![no_main] binary for a bare-metal target.
bare-check:
	@rustup target list --installed | grep -qx thumbv7em-none-eabihf || rustup target add thumbv7em-none-eabihf
	cd cross/bare-check && $(CARGO) build --release --target thumbv7em-none-eabihf

# FreeBSD and macOS with the libpcap backend: compiled (cargo check), never run.
check-platforms:
	bash tests/scripts/check-platforms.sh

cross:
	bash cross/build.sh

dist: cross
	cd dist && sha256sum pktstat-* > SHA256SUMS && cat SHA256SUMS

test: deps lint unit bare-check check-platforms
	@echo "make test: all suites passed"

bench: build
	bash tests/bench/offline.sh
	bash tests/bench/filter_insns.sh

# Live capture against tcpdump on a veth pair (root): BENCH_LIVE_FRAMES="1000000 5000000".
bench-live:
	bash tests/bench/live.sh

clean:
	$(CARGO) clean
	rm -rf dist
