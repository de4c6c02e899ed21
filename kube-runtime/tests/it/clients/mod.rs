//! Real Kubernetes clients, unmodified, against the API server: Debian's kubectl 1.20, a
//! current kubectl and the Python `kubernetes` package, each in its own test with its own
//! scenarios, on `localkube` (in process, simulated nodes, so pods really become Running).
//! (The kube-rs `kube` crate is tested by its own crate, `clients/kube-rs/`.)
//!
//! The clients are found through environment variables that `scripts/test.sh` sets after
//! installing them: `KUBECTL_1_20`, `KUBECTL_CURRENT` (paths of kubectl binaries) and
//! `CLIENT_PYTHON` (a Python interpreter with the `kubernetes` package). A missing one fails
//! the test when `CLIENT_TESTS_REQUIRED=1` or `CI=true` (test.sh and CI); otherwise (a developer's
//! `cargo nextest run`) the test prints how to get it and passes without running.

mod kubectl;
mod python;

use clap::Parser;
use kube_runtime::localkube::{Localkube, LocalkubeFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Scenario steps that need a server feature still being built in parallel (issue #11), one
/// name a line: `tests/clients/pending.txt`, the one list every client test reads (see it).
const PENDING_FILE: &str = include_str!("../../clients/pending.txt");

/// The names in `pending.txt` (comments and blank lines left out).
pub fn pending_features() -> Vec<&'static str> {
    PENDING_FILE
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// True while the server feature `feature` is not there yet (listed in `pending.txt`).
pub fn pending(feature: &str) -> bool {
    pending_features().contains(&feature)
}

/// The directory of the scenario files (manifests, the Python scenario).
pub fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// True when a missing client must fail the test (test.sh and CI), not skip it.
fn required() -> bool {
    std::env::var("CLIENT_TESTS_REQUIRED").is_ok_and(|v| v == "1")
        || std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The client named by the environment variable `var`: its path, or `None` (with a message
/// saying how to get it) when unset on a developer's machine; a panic when clients are required.
pub fn client_from_env(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            assert!(p.exists(), "{var}={} does not exist", p.display());
            Some(p)
        }
        _ => {
            let msg = format!(
                "{var} is not set: this test needs a real client; scripts/test.sh installs \
                 them and sets {var} (see its 'real clients' section)"
            );
            assert!(!required(), "{msg} (CLIENT_TESTS_REQUIRED=1 or CI=true)");
            eprintln!("SKIPPED: {msg}");
            None
        }
    }
}

/// A whole cluster in this process: the API server over HTTP on 127.0.0.1 (a free port), the
/// scheduler, the controller manager and two simulated nodes; no proxy (no addresses added).
pub struct Cluster {
    lk: Localkube,
    url: String,
    _tmp: tempfile::TempDir,
}

impl Cluster {
    /// Starts the cluster on a temporary store.
    pub async fn start() -> Cluster {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        let args = [
            "localkube",
            "--runtime",
            "fake",
            "--fake-nodes",
            "2",
            "--proxy=false",
            "--port",
            "0",
            "--data-dir",
            data.to_str().expect("utf-8 temp path"),
        ];
        let flags = LocalkubeFlags::try_parse_from(args).expect("localkube flags");
        let lk = Localkube::start(flags.config("clients"))
            .await
            .expect("start localkube");
        let url = lk.url();
        Cluster { lk, url, _tmp: tmp }
    }

    /// The API server's base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops every component.
    pub async fn shutdown(self) {
        tokio::time::timeout(Duration::from_secs(20), self.lk.shutdown())
            .await
            .expect("localkube shut down within 20 s");
    }
}

/// Every gate name the scenarios check; `pending.txt` may list only these (a typo there would
/// silently run a step meant to wait, or keep one skipped forever).
const GATES: [&str; 6] = [
    "openapi",
    "protobuf",
    "namespaces",
    "server-side-apply",
    "field-validation",
    "paging",
];

#[test]
fn pending_names_are_known_gates() {
    for name in pending_features() {
        assert!(
            GATES.contains(&name),
            "pending.txt names an unknown gate {name:?}"
        );
    }
}
