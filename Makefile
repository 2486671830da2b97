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

# Static musl router binaries into dist/ (checked: statically linked, <= 800 KiB each).
cross:
	bash cross/build.sh

dist:
	bash cross/build.sh --sums

# The router binaries under qemu: byte-identical reports, core unit tests, live capture
# (qemu-user recvmsg fallback; qemu-system booting Debian's arm kernels with the ring).
cross-test:
	bash tests/scripts/cross-test.sh

test: deps lint unit bare-check check-platforms cross-test
	@echo "make test: all suites passed"

bench: build
	bash tests/bench/offline.sh
	bash tests/bench/collide.sh
	bash tests/bench/filter_insns.sh

# Live capture against tcpdump on a veth pair (root): BENCH_LIVE_FRAMES="1000000 5000000".
bench-live:
	bash tests/bench/live.sh

# Each cargo-fuzz target for FUZZ_SECONDS (default 60); needs nightly and cargo-fuzz.
fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
	bash core/fuzz/run.sh $(or $(FUZZ_SECONDS),60)

# 10 minutes (SOAK_SECONDS) of paced traffic between namespaces with -l 1s --jsonl.
soak: build
	PKTSTAT_BIN=$(CURDIR)/$(BIN) bash tests/bench/soak.sh

clean:
	$(CARGO) clean
	rm -rf dist
