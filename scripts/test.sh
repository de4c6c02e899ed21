#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, unit tests, the store contract
# suites and the end-to-end tests of the real binaries.
#
# Written for a fresh Debian 12 machine: it installs what the tests need when missing.
# This is the command the README names and .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*" >&2; }

# --- tools ----------------------------------------------------------------------------
if ! command -v cargo >/dev/null; then
  echo "cargo is required (rustup toolchain)" >&2
  exit 1
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  log "installing cargo-nextest"
  cargo install cargo-nextest --locked
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy

# System packages: the etcd tests run real etcd processes (Debian's etcd-server, etcd 3.4),
# and building the etcd client needs protoc. Missing ones are installed, never skipped.
packages=()
command -v etcd >/dev/null || packages+=(etcd-server)
command -v protoc >/dev/null || packages+=(protobuf-compiler)
# protoc's well-known types (google/protobuf/descriptor.proto), which etcd-client's protos import,
# come with libprotobuf-dev: only a Recommends of protobuf-compiler, so not installed with it here.
[ -f /usr/include/google/protobuf/descriptor.proto ] || packages+=(libprotobuf-dev)
if ((${#packages[@]})); then
  log "installing ${packages[*]}"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"
fi
command -v etcd >/dev/null && command -v protoc >/dev/null || {
  echo "etcd and protoc are required (apt-get install etcd-server protobuf-compiler)" >&2
  exit 1
}

# Everything below builds with etcd support: the etcd store and its tests, the apiserver binary
# the kubecfg end-to-end tests run (with --etcd-servers too) and etcd-bench.
FEATURES=kube-runtime/etcd,kubecfg/etcd,kube-benches/etcd

# --- checks ---------------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy (all targets, with etcd, warnings are errors)"
cargo clippy --workspace --all-targets --features "$FEATURES" -- -D warnings

# The default build (no etcd, no protoc needed) must stay clean too.
log "cargo clippy (default features)"
cargo clippy --workspace --all-targets -- -D warnings

# The kubecfg end-to-end tests run the real apiserver binary, so every binary is built first.
log "cargo build (all binaries, with etcd)"
cargo build --workspace --bins --features "$FEATURES"

# Every decoder that reads outside input, fuzzed for a bounded time (about 30 s per target).
# Before the tests, so the test runner's summary stays the last thing this script prints.
log "fuzzing (scripts/fuzz.sh)"
scripts/fuzz.sh

log "cargo nextest run (every test, etcd included)"
cargo nextest run --workspace --features "$FEATURES" --no-fail-fast
