//! The Python `kubernetes` package (the official client), unmodified: `tests/clients/scenario.py`
//! run by the interpreter `CLIENT_PYTHON` names, against a fresh cluster.

use super::{client_from_env, pending, pending_features, scenario_dir, Cluster};
use std::process::{Command, Stdio};

/// Every step of `scenario.py` (create, get, list with selectors, label, annotate, patch, scale,
/// watch, dry run, 404 and 409, delete; the pending ones skipped): the script must pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client() {
    let Some(python) = client_from_env("CLIENT_PYTHON") else {
        return;
    };
    let cluster = Cluster::start().await;
    let home = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(python);
    cmd.env_clear()
        .env("HOME", home.path())
        .env("PENDING", pending_features().join(","))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg(scenario_dir().join("scenario.py"))
        .arg(cluster.url())
        .stdin(Stdio::null());
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("python task")
        .expect("run the Python scenario");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "scenario.py failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("all scenarios passed"), "{stdout}");
    let mut steps = vec!["create", "patch", "scale", "watch", "404 and 409", "delete"];
    if !pending("field-validation") {
        steps.push("field validation");
    }
    for step in steps {
        assert!(
            stdout.contains(&format!("ok: {step}\n")),
            "{step} did not run: {stdout}"
        );
    }
    cluster.shutdown().await;
}
