#!/usr/bin/env bash
# Builds and runs every fuzz target (fuzz/, cargo fuzz + libFuzzer) for a bounded time each.
# Fails on a crash, a panic, a hang, or memory beyond the limit. Called by scripts/test.sh.
#
# Works with the stable toolchain alone: cargo fuzz needs a few unstable compiler flags, which
# stable accepts with RUSTC_BOOTSTRAP=1, and no sanitizer (sanitizers need nightly's runtime).
# Panics still abort the run, debug assertions (overflow checks) are on, and the memory limit
# is libFuzzer's -rss_limit_mb (without a sanitizer -malloc_limit_mb has no allocator hook, so
# the RSS limit is what fails an input that allocates too much).
#
# Environment: FUZZ_SECONDS (per target, default 30), FUZZ_RSS_LIMIT_MB (default 1024),
# FUZZ_TARGETS (space-separated subset, default all).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${FUZZ_SECONDS:-30}"
rss_limit_mb="${FUZZ_RSS_LIMIT_MB:-1024}"

log() { printf '\n== %s\n' "$*" >&2; }

if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="$PWD/target"
targets="${FUZZ_TARGETS:-$(cargo fuzz list)}"

log "cargo fuzz build (no sanitizer, debug assertions on)"
cargo fuzz build --sanitizer none

failed=()
for target in $targets; do
  log "fuzzing $target for ${seconds}s"
  # New inputs go to a scratch corpus; the committed seeds (corpus/<target>) are only read.
  scratch="target/corpus/$target"
  mkdir -p "$scratch" "corpus/$target"
  if ! cargo fuzz run --sanitizer none "$target" "$scratch" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb="$rss_limit_mb" -malloc_limit_mb="$rss_limit_mb" \
    -timeout=10 -print_final_stats=1; then
    failed+=("$target")
  fi
done

if ((${#failed[@]})); then
  echo "fuzz targets failed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
log "every fuzz target ran clean"
