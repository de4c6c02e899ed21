//! A tiny `ContainerRuntime` for the probe and node status tests: `version()` and `exec()`
//! answer what the test set; every other call is `Unavailable`. (The kubelet's tests use
//! `FakeRuntime`; this stub only stands in where two calls matter.)

use async_trait::async_trait;
use kube_core::runtime::{
    ContainerConfig, ContainerInfo, ContainerRuntime, ContainerSummary, ExecResult, ImageInfo,
    ListFilter, LogOptions, LogStream, RuntimeError, RuntimeVersion,
};
use std::sync::Mutex;
use std::time::Duration;

/// One recorded exec call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecCall {
    pub id: String,
    pub argv: Vec<String>,
    pub timeout: Duration,
}

/// What the stub answers.
pub struct StubRuntime {
    version: Mutex<Result<RuntimeVersion, RuntimeError>>,
    exec: Mutex<Result<ExecResult, RuntimeError>>,
    /// Exec never answers (the caller's timeout must end it).
    exec_hangs: bool,
    calls: Mutex<Vec<ExecCall>>,
}

impl StubRuntime {
    /// A healthy `docker 20.10.24` whose execs exit 0.
    pub fn new() -> StubRuntime {
        StubRuntime {
            version: Mutex::new(Ok(StubRuntime::docker_version())),
            exec: Mutex::new(Ok(ExecResult::default())),
            exec_hangs: false,
            calls: Mutex::new(Vec::new()),
        }
    }

    /// What a healthy stub's `version()` answers.
    pub fn docker_version() -> RuntimeVersion {
        RuntimeVersion {
            name: "docker".into(),
            version: "20.10.24".into(),
            api_version: "1.41".into(),
        }
    }

    /// A stub whose execs never answer.
    pub fn with_hanging_exec() -> StubRuntime {
        StubRuntime {
            exec_hangs: true,
            ..StubRuntime::new()
        }
    }

    /// Makes `version()` answer `v` from now on.
    pub fn set_version(&self, v: Result<RuntimeVersion, RuntimeError>) {
        *self.version.lock().unwrap() = v;
    }

    /// Makes `exec()` answer `r` from now on.
    pub fn set_exec(&self, r: Result<ExecResult, RuntimeError>) {
        *self.exec.lock().unwrap() = r;
    }

    /// Every exec call so far.
    pub fn exec_calls(&self) -> Vec<ExecCall> {
        self.calls.lock().unwrap().clone()
    }
}

fn unavailable<T>() -> Result<T, RuntimeError> {
    Err(RuntimeError::Unavailable("stub runtime".into()))
}

#[async_trait]
impl ContainerRuntime for StubRuntime {
    async fn version(&self) -> Result<RuntimeVersion, RuntimeError> {
        self.version.lock().unwrap().clone()
    }
    async fn list_containers(&self, _: &ListFilter) -> Result<Vec<ContainerSummary>, RuntimeError> {
        unavailable()
    }
    async fn image_status(&self, _: &str) -> Result<Option<ImageInfo>, RuntimeError> {
        unavailable()
    }
    async fn pull_image(&self, _: &str) -> Result<ImageInfo, RuntimeError> {
        unavailable()
    }
    async fn create_container(&self, _: &ContainerConfig) -> Result<String, RuntimeError> {
        unavailable()
    }
    async fn start_container(&self, _: &str) -> Result<(), RuntimeError> {
        unavailable()
    }
    async fn stop_container(&self, _: &str, _: Duration) -> Result<(), RuntimeError> {
        unavailable()
    }
    async fn remove_container(&self, _: &str) -> Result<(), RuntimeError> {
        unavailable()
    }
    async fn inspect_container(&self, _: &str) -> Result<ContainerInfo, RuntimeError> {
        unavailable()
    }
    async fn logs(&self, _: &str, _: LogOptions) -> Result<LogStream, RuntimeError> {
        unavailable()
    }
    async fn exec(
        &self,
        id: &str,
        argv: &[String],
        timeout: Duration,
    ) -> Result<ExecResult, RuntimeError> {
        self.calls.lock().unwrap().push(ExecCall {
            id: id.to_string(),
            argv: argv.to_vec(),
            timeout,
        });
        if self.exec_hangs {
            std::future::pending::<()>().await;
        }
        self.exec.lock().unwrap().clone()
    }
}
