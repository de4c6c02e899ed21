//! The contract harness for `DockerRuntime` on the local daemon, with the images of
//! `scripts/test-images.sh`. Every container carries this test's run label and is removed
//! when the harness drops, even when the test fails.

use super::{config, unique_run_id, Harness, RUN_LABEL};
use kube_core::runtime::{ContainerConfig, ContainerRuntime};
use kube_runtime::runtime::DockerRuntime;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

const PAUSE: &str = "kube-test/pause:latest";
const BUSYBOX: &str = "kube-test/busybox:latest";
const ENDPOINT: &str = "unix:///var/run/docker.sock";

/// The runtime on the local Docker daemon, plus the cleanup of this test's containers.
pub struct DockerHarness {
    docker: Arc<DockerRuntime>,
    run_id: String,
}

/// The harness for one case; fails the test when Docker is not running.
pub async fn harness(case: &str) -> DockerHarness {
    let docker = DockerRuntime::connect(ENDPOINT).await.unwrap_or_else(|e| {
        panic!("Docker is required for these tests ({e}); scripts/test.sh starts dockerd")
    });
    DockerHarness {
        docker: Arc::new(docker),
        run_id: unique_run_id(case),
    }
}

impl Drop for DockerHarness {
    fn drop(&mut self) {
        // Synchronous (the test's runtime may be gone): the docker CLI, argv only.
        let filter = format!("label={RUN_LABEL}={}", self.run_id);
        let Ok(listed) = Command::new("docker")
            .args(["ps", "-aq", "--filter", &filter])
            .output()
        else {
            return;
        };
        let ids: Vec<String> = String::from_utf8_lossy(&listed.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if !ids.is_empty() {
            let _ = Command::new("docker")
                .args(["rm", "-f", "-v"])
                .args(&ids)
                .output();
        }
    }
}

fn sh(script: &str) -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into(), script.into()]
}

impl Harness for DockerHarness {
    fn runtime(&self) -> Arc<dyn ContainerRuntime> {
        self.docker.clone()
    }

    fn run_id(&self) -> &str {
        &self.run_id
    }

    fn deadline(&self) -> Duration {
        Duration::from_secs(10)
    }

    fn present_image(&self) -> String {
        PAUSE.to_string()
    }

    fn missing_image(&self) -> String {
        // A registry on a closed loopback port: the pull fails at once and sends nothing off
        // the machine.
        "127.0.0.1:1/kube-test/missing:latest".to_string()
    }

    fn until_stopped(&self, name: &str) -> ContainerConfig {
        config(&self.run_id, name, PAUSE)
    }

    fn exits_with(&self, name: &str, code: i64) -> ContainerConfig {
        ContainerConfig {
            command: sh(&format!("exit {code}")),
            ..config(&self.run_id, name, BUSYBOX)
        }
    }

    fn prints_lines(&self, name: &str) -> ContainerConfig {
        ContainerConfig {
            command: sh("echo one; echo two; echo three; exec sleep 3600"),
            ..config(&self.run_id, name, BUSYBOX)
        }
    }

    fn emit_lines(&self, _id: &str) {}

    fn exec_hi_exit_3(&self, _id: &str) -> Vec<String> {
        sh("echo hi; exit 3")
    }

    fn exec_hangs(&self, _id: &str) -> Vec<String> {
        vec!["sleep".into(), "5".into()]
    }
}
