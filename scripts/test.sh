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

# --- checks ---------------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

# The kubecfg end-to-end tests run the real apiserver binary, so every binary is built first.
log "cargo build (all binaries)"
cargo build --workspace --bins

log "cargo nextest run (every test)"
cargo nextest run --workspace --no-fail-fast
