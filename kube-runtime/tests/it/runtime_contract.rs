//! The `ContainerRuntime` contract suite, written once and run against every implementation,
//! so the fake behaves like Docker where it matters. Docker is the truth: when the fake
//! disagrees, the fake is fixed.
//!
//! Each implementation provides a [`Harness`] (in `runtime_contract/<impl>.rs`): the runtime,
//! the container configs the cases need, and what the fake must be told that a real process
//! does by itself (print lines, answer an exec). Add an implementation with one more
//! `runtime_contract!(name, #[test attribute], factory)` line at the bottom. The fake runs on
//! tokio's paused time (polls advance virtual time); Docker on real time with short deadlines.

use kube_core::runtime::{
    ContainerConfig, ContainerInfo, ContainerRunState, ContainerRuntime, LogOptions, RuntimeError,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

mod cases;
mod docker;
mod fake;

/// The label every container a contract test creates carries.
pub const RUN_LABEL: &str = "kube-test.run";

/// What the cases need from one runtime implementation.
pub trait Harness: Send + Sync {
    /// The runtime under test.
    fn runtime(&self) -> Arc<dyn ContainerRuntime>;
    /// The value of [`RUN_LABEL`] unique to this test; every created container carries it.
    fn run_id(&self) -> &str;
    /// How long a case waits for a state change before failing.
    fn deadline(&self) -> Duration;
    /// An image present locally, by a `:latest` tag.
    fn present_image(&self) -> String;
    /// An image that is neither present nor pullable (and whose pull sends nothing off the
    /// machine).
    fn missing_image(&self) -> String;
    /// Runs until stopped and exits promptly with code 0 on SIGTERM (the pause image).
    fn until_stopped(&self, name: &str) -> ContainerConfig;
    /// Exits by itself soon after it starts, with `code`.
    fn exits_with(&self, name: &str, code: i64) -> ContainerConfig;
    /// Prints `one`, `two`, `three` (a line each) once started, then runs until removed; has
    /// a shell for exec.
    fn prints_lines(&self, name: &str) -> ContainerConfig;
    /// Makes the started `prints_lines` container `id` print its lines (a no-op where the
    /// process prints them itself).
    fn emit_lines(&self, id: &str);
    /// An argv that prints `hi` and a newline and exits 3 in the started `prints_lines`
    /// container `id` (the fake is told so).
    fn exec_hi_exit_3(&self, id: &str) -> Vec<String>;
    /// An argv that runs for seconds in the started `prints_lines` container `id`.
    fn exec_hangs(&self, id: &str) -> Vec<String>;
}

/// The labels every config of a test carries.
pub fn run_labels(run_id: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(RUN_LABEL.to_string(), run_id.to_string())])
}

/// A config of `image` named `<run_id>-<name>` with the run label.
pub fn config(run_id: &str, name: &str, image: &str) -> ContainerConfig {
    ContainerConfig {
        name: format!("{run_id}-{name}"),
        image: image.to_string(),
        labels: run_labels(run_id),
        ..ContainerConfig::default()
    }
}

/// A run id unique to this test: case name, process and time.
pub fn unique_run_id(case: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("contract-{case}-{}-{nanos}", std::process::id()).replace('_', "-")
}

/// Polls inspect until container `id` is in `state`, failing the test after the deadline.
pub async fn wait_for_state<H: Harness + ?Sized>(
    h: &H,
    id: &str,
    state: ContainerRunState,
) -> ContainerInfo {
    let rt = h.runtime();
    let deadline = tokio::time::Instant::now() + h.deadline();
    loop {
        let info = rt.inspect_container(id).await.expect("inspect");
        if info.state == state {
            return info;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("{id} not {state:?} within {:?}: {info:?}", h.deadline());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The whole log of `id` with these options, read to its end (not following).
pub async fn read_logs<H: Harness + ?Sized>(h: &H, id: &str, tail: Option<u64>) -> String {
    use futures_util::StreamExt;
    let mut stream = h
        .runtime()
        .logs(
            id,
            LogOptions {
                tail,
                follow: false,
            },
        )
        .await
        .expect("logs");
    let mut out = Vec::new();
    let read = tokio::time::timeout(h.deadline(), async {
        while let Some(chunk) = stream.next().await {
            out.extend(chunk.expect("log chunk"));
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "a non-follow log read ended within the deadline"
    );
    String::from_utf8_lossy(&out).into_owned()
}

/// The error of `r`, failing the test when it is `Ok`.
pub fn expect_err<T: std::fmt::Debug>(r: Result<T, RuntimeError>) -> RuntimeError {
    match r {
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
        Err(e) => e,
    }
}

/// Generates one test per contract case for the harness built by `$factory(case_name)`.
macro_rules! runtime_contract {
    ($name:ident, #[$test:meta], $factory:path) => {
        runtime_contract!(@cases $name, #[$test], $factory;
            create_is_created_and_listed,
            start_is_running_with_started_at,
            self_exit_reports_code_and_finish,
            restart_of_exited_runs_again,
            stop_with_grace_exits_and_is_idempotent,
            remove_running_conflicts_then_remove_is_not_found,
            missing_container_is_not_found,
            create_with_missing_image_is_not_found,
            pull_of_unpullable_image_is_image_pull,
            image_status_present_and_missing,
            image_without_tag_is_latest,
            duplicate_name_conflicts,
            list_filters_by_label_and_state,
            joined_container_shares_infra_network,
            exec_returns_exit_code_and_output,
            exec_timeout_is_timeout,
            exec_in_stopped_container_is_conflict,
            logs_with_and_without_tail,
            logs_follow_streams_lines,
            version_answers,
        );
    };
    (@cases $name:ident, #[$test:meta], $factory:path; $($case:ident),* $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::{docker, fake};
            $(
                #[$test]
                async fn $case() {
                    let harness = $factory(stringify!($case)).await;
                    super::cases::$case(&harness).await;
                }
            )*
        }
    };
}

runtime_contract!(on_fake, #[tokio::test(start_paused = true)], fake::harness);
// Needs dockerd and the images of scripts/test-images.sh (scripts/test.sh provides both).
runtime_contract!(
    on_docker,
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)],
    docker::harness
);
