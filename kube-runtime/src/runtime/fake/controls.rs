//! What a test configures and observes on a `FakeRuntime`: image behaviour, recorded calls,
//! the methods errors are injected into.

use std::time::Duration;

/// Calls kept by [`super::FakeRuntime::calls`]; older ones are dropped, so a long run stays small.
pub const MAX_RECORDED_CALLS: usize = 4096;

/// How containers of an image behave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageBehaviour {
    /// How long `start_container` takes.
    pub start_delay: Duration,
    /// How long a run lasts before the process exits by itself; `None` runs until stopped.
    pub run_for: Option<Duration>,
    /// Exit code when the run ends by itself.
    pub exit_code: i64,
    /// Exit code when stopped by SIGTERM (143 = killed by the signal; 0 for a program that
    /// traps it, like the pause image).
    pub sigterm_exit_code: i64,
    /// The process ignores SIGTERM: a stop waits the whole grace period, then SIGKILL (137).
    pub ignores_sigterm: bool,
    /// A pull of this image succeeds (and makes it present).
    pub pullable: bool,
    /// A pull fails with this message (as the daemon's), whatever `pullable` says.
    pub pull_error: Option<String>,
}

impl Default for ImageBehaviour {
    fn default() -> ImageBehaviour {
        ImageBehaviour {
            start_delay: Duration::ZERO,
            run_for: None,
            exit_code: 0,
            sigterm_exit_code: 143,
            ignores_sigterm: false,
            pullable: false,
            pull_error: None,
        }
    }
}

/// A recorded call, with its key argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FakeCall {
    /// `version`.
    Version,
    /// `list_containers`.
    List,
    /// `image_status(image)`.
    ImageStatus(String),
    /// `pull_image(image)`.
    Pull(String),
    /// `create_container`.
    Create {
        /// Container name.
        name: String,
        /// Image.
        image: String,
    },
    /// `start_container(id)`.
    Start(String),
    /// `stop_container(id, grace)`.
    Stop {
        /// Container ID.
        id: String,
        /// Grace period.
        grace: Duration,
    },
    /// `remove_container(id)`.
    Remove(String),
    /// `inspect_container(id)`.
    Inspect(String),
    /// `logs(id)`.
    Logs(String),
    /// `exec(id, argv)`.
    Exec {
        /// Container ID.
        id: String,
        /// Command.
        argv: Vec<String>,
    },
}

/// Which method an injected error applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FakeMethod {
    /// `version`.
    Version,
    /// `list_containers`.
    List,
    /// `image_status`.
    ImageStatus,
    /// `pull_image`.
    Pull,
    /// `create_container`.
    Create,
    /// `start_container`.
    Start,
    /// `stop_container`.
    Stop,
    /// `remove_container`.
    Remove,
    /// `inspect_container`.
    Inspect,
    /// `logs`.
    Logs,
    /// `exec`.
    Exec,
}
