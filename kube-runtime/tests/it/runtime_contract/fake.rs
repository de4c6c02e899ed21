//! The contract harness for `FakeRuntime`, on tokio's paused time and a virtual clock. The
//! fake is told what a real process would do by itself: print its lines, answer an exec.

use super::{config, unique_run_id, Harness};
use kube_core::runtime::{ContainerConfig, ContainerRuntime};
use kube_core::time::Timestamp;
use kube_runtime::clock::Clock;
use kube_runtime::runtime::fake::ImageBehaviour;
use kube_runtime::runtime::FakeRuntime;
use std::sync::Arc;
use std::time::Duration;

const PAUSE: &str = "kube-test/pause:latest";
const BUSYBOX: &str = "kube-test/busybox:latest";

/// A fresh fake with the pause and busybox images; nothing outlives the test to clean up.
pub struct FakeHarness {
    fake: FakeRuntime,
    run_id: String,
}

/// The harness for one case.
pub async fn harness(case: &str) -> FakeHarness {
    let fake = FakeRuntime::new(Clock::virtual_at(Timestamp::from_unix(1_400_000_000, 0)));
    fake.add_image(PAUSE);
    fake.set_image_behaviour(
        PAUSE,
        ImageBehaviour {
            sigterm_exit_code: 0,
            ..ImageBehaviour::default()
        },
    );
    fake.add_image(BUSYBOX);
    FakeHarness {
        fake,
        run_id: unique_run_id(case),
    }
}

impl Harness for FakeHarness {
    fn runtime(&self) -> Arc<dyn ContainerRuntime> {
        Arc::new(self.fake.clone())
    }

    fn run_id(&self) -> &str {
        &self.run_id
    }

    fn deadline(&self) -> Duration {
        Duration::from_secs(30)
    }

    fn present_image(&self) -> String {
        PAUSE.to_string()
    }

    fn missing_image(&self) -> String {
        "127.0.0.1:1/kube-test/missing:latest".to_string()
    }

    fn until_stopped(&self, name: &str) -> ContainerConfig {
        config(&self.run_id, name, PAUSE)
    }

    fn exits_with(&self, name: &str, code: i64) -> ContainerConfig {
        // Behaviour is per image: one image per exit code.
        let image = format!("kube-test/exit-{code}:latest");
        self.fake.add_image(&image);
        self.fake.set_image_behaviour(
            &image,
            ImageBehaviour {
                run_for: Some(Duration::from_millis(50)),
                exit_code: code,
                ..ImageBehaviour::default()
            },
        );
        config(&self.run_id, name, &image)
    }

    fn prints_lines(&self, name: &str) -> ContainerConfig {
        config(&self.run_id, name, BUSYBOX)
    }

    fn emit_lines(&self, id: &str) {
        self.fake.append_log(id, b"one\ntwo\nthree\n");
    }

    fn exec_hi_exit_3(&self, id: &str) -> Vec<String> {
        self.fake.set_exec_result(id, 3, b"hi\n".to_vec());
        vec!["/bin/sh".into(), "-c".into(), "echo hi; exit 3".into()]
    }

    fn exec_hangs(&self, id: &str) -> Vec<String> {
        self.fake.hang_exec(id);
        vec!["sleep".into(), "5".into()]
    }
}
