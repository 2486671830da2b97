#!/usr/bin/env bash
# make fuzz: runs every fuzz target of pktstat-core for SECONDS each (default 60), one after
# the other, at low priority (the machine is shared). Each starts from the committed seeds
# (seeds/TARGET) plus what earlier runs found (corpus/TARGET, not committed). A crash stops
# the script with libFuzzer's report; the input is in artifacts/TARGET/.
#   core/fuzz/run.sh [SECONDS] [TARGET...]
# Needs nightly and cargo-fuzz (`cargo install cargo-fuzz`).
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode capfile engine filter)
command -v cargo-fuzz >/dev/null || { echo "run.sh: cargo-fuzz missing: cargo install cargo-fuzz" >&2; exit 2; }
nice cargo +nightly fuzz build -O ${FUZZ_TARGET_DIR:+--target-dir "$FUZZ_TARGET_DIR"} >/dev/null
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  echo "== fuzz $t for ${secs}s"
  log=$(mktemp)
  dict=()
  [ -f "$t.dict" ] && dict=(-dict="$t.dict")
  if ! nice cargo +nightly fuzz run -O ${FUZZ_TARGET_DIR:+--target-dir "$FUZZ_TARGET_DIR"} "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="artifacts/$t/" -print_final_stats=1 "${dict[@]}" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "run.sh: $t FAILED (input in core/fuzz/artifacts/$t/)" >&2
    rm -f "$log"
    exit 1
  fi
  # The last status line (executions, coverage, features) and the final stats.
  grep -E '^#[0-9]+' "$log" | tail -n 1
  grep -E '^stat::(number_of_executed_units|peak_rss_mb|new_units_added)' "$log" | tr '\n' ' '
  echo
  rm -f "$log"
done
