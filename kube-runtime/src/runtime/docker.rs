//! `DockerRuntime`: kube-core's `ContainerRuntime` on Docker Engine's API (crate bollard),
//! over its unix socket. Works with Engine 20.10 (API 1.41, Debian's docker.io) and newer:
//! the API version is negotiated down at connect time.

use async_trait::async_trait;
use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerStateStatusEnum,
    ContainerSummaryStateEnum, ExecConfig, HostConfig, PortBinding as DockerPortBinding,
};
use bollard::query_parameters::{
    CreateContainerOptions, CreateImageOptions, ListContainersOptions, LogsOptions,
    RemoveContainerOptions, StopContainerOptions,
};
use bollard::{ClientVersion, Docker};
use futures_util::StreamExt;
use kube_core::runtime::{
    ContainerConfig, ContainerInfo, ContainerRunState, ContainerRuntime, ContainerSummary,
    ExecResult, ImageInfo, ListFilter, LogOptions, LogStream, NetworkMode, RuntimeError,
    RuntimeVersion,
};
use kube_core::time::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// The oldest API version we speak (Docker Engine 20.10).
const MIN_API: ClientVersion = ClientVersion {
    major_version: 1,
    minor_version: 41,
};
/// Seconds a request may take (pulls and stops with long grace periods excepted: they are
/// bounded by their own terms).
const REQUEST_TIMEOUT_SECS: u64 = 120;

/// A Docker Engine, through its API socket.
#[derive(Clone, Debug)]
pub struct DockerRuntime {
    docker: Docker,
}

impl DockerRuntime {
    /// Connects to `endpoint` (`unix:///var/run/docker.sock`, or a bare socket path) and
    /// negotiates the API version. A missing socket or a daemon that does not answer is
    /// `Unavailable`, with what to do.
    pub async fn connect(endpoint: &str) -> Result<DockerRuntime, RuntimeError> {
        let path = endpoint.strip_prefix("unix://").unwrap_or(endpoint);
        if endpoint.contains("://") && !endpoint.starts_with("unix://") {
            return Err(RuntimeError::Failed(format!(
                "unsupported Docker endpoint {endpoint:?}: only unix:// sockets are supported"
            )));
        }
        let docker = Docker::connect_with_unix(path, REQUEST_TIMEOUT_SECS, &MIN_API)
            .map_err(|e| unavailable(endpoint, e))?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| unavailable(endpoint, e))?;
        let rt = DockerRuntime { docker };
        rt.version().await?;
        Ok(rt)
    }

    /// The bollard client, for callers that need more of Docker's API (benchmarks, say).
    pub fn client(&self) -> &Docker {
        &self.docker
    }
}

fn unavailable(endpoint: &str, e: DockerError) -> RuntimeError {
    RuntimeError::Unavailable(format!(
        "Docker is not reachable at {endpoint} ({e}); is dockerd running?"
    ))
}

/// Maps a Docker error to the runtime's typed error.
fn map_err(e: DockerError) -> RuntimeError {
    match e {
        DockerError::DockerResponseServerError {
            status_code,
            message,
        } => match status_code {
            404 => RuntimeError::NotFound(message),
            409 => RuntimeError::Conflict(message),
            _ => RuntimeError::Failed(message),
        },
        DockerError::SocketNotFoundError(path) => RuntimeError::Unavailable(format!(
            "Docker socket {path} not found; is dockerd running?"
        )),
        DockerError::RequestTimeoutError => {
            RuntimeError::Unavailable("Docker did not answer in time".into())
        }
        e @ (DockerError::HyperResponseError { .. }
        | DockerError::HyperLegacyError { .. }
        | DockerError::IOError { .. }) => RuntimeError::Unavailable(e.to_string()),
        other => RuntimeError::Failed(other.to_string()),
    }
}

/// A pull failure's message naming the image (the daemon's own message may not).
fn pull_failed(image: &str, message: &str) -> String {
    if message.contains(image) {
        message.to_string()
    } else {
        format!("pulling {image}: {message}")
    }
}

/// Docker's time stamps; the zero time (`0001-01-01T00:00:00Z`) means never.
fn parse_time(s: Option<&str>) -> Option<Timestamp> {
    let s = s?;
    if s.starts_with("0001-01-01") {
        return None;
    }
    Timestamp::parse(s).ok()
}

fn summary_state(s: Option<&ContainerSummaryStateEnum>) -> ContainerRunState {
    match s {
        Some(ContainerSummaryStateEnum::CREATED) => ContainerRunState::Created,
        Some(
            ContainerSummaryStateEnum::RUNNING
            | ContainerSummaryStateEnum::PAUSED
            | ContainerSummaryStateEnum::RESTARTING
            | ContainerSummaryStateEnum::STOPPING,
        ) => ContainerRunState::Running,
        Some(ContainerSummaryStateEnum::EXITED | ContainerSummaryStateEnum::DEAD) => {
            ContainerRunState::Exited
        }
        _ => ContainerRunState::Unknown,
    }
}

fn inspect_state(s: Option<&ContainerStateStatusEnum>) -> ContainerRunState {
    match s {
        Some(ContainerStateStatusEnum::CREATED) => ContainerRunState::Created,
        Some(
            ContainerStateStatusEnum::RUNNING
            | ContainerStateStatusEnum::PAUSED
            | ContainerStateStatusEnum::RESTARTING,
        ) => ContainerRunState::Running,
        Some(ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD) => {
            ContainerRunState::Exited
        }
        _ => ContainerRunState::Unknown,
    }
}

fn to_info(r: ContainerInspectResponse) -> ContainerInfo {
    let state = r.state.unwrap_or_default();
    let run_state = inspect_state(state.status.as_ref());
    let started_at = parse_time(state.started_at.as_deref());
    let config = r.config.unwrap_or_default();
    let labels: BTreeMap<String, String> = config.labels.unwrap_or_default().into_iter().collect();
    let ip_address = r
        .network_settings
        .and_then(|n| n.networks)
        .and_then(|nets| {
            nets.values()
                .filter_map(|e| e.ip_address.as_deref())
                .find(|ip| !ip.is_empty())
                .and_then(|ip| ip.parse().ok())
        })
        .filter(|_| run_state == ContainerRunState::Running);
    ContainerInfo {
        id: r.id.unwrap_or_default(),
        name: r
            .name
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string(),
        image: config.image.unwrap_or_default(),
        image_id: r.image.unwrap_or_default(),
        labels,
        state: run_state,
        exit_code: (run_state == ContainerRunState::Exited)
            .then_some(state.exit_code)
            .flatten(),
        oom_killed: state.oom_killed.unwrap_or(false),
        error: state.error.unwrap_or_default(),
        created_at: parse_time(r.created.as_deref()),
        started_at,
        // Only once exited (a restarted container still carries its last run's), and never
        // before the start: for a process that exits at once the daemon may stamp its finish
        // a millisecond before its start.
        finished_at: parse_time(state.finished_at.as_deref())
            .filter(|_| run_state == ContainerRunState::Exited)
            .map(|f| started_at.map_or(f, |s| s.max(f))),
        ip_address,
    }
}

/// Docker's create body from a container config.
fn create_body(c: &ContainerConfig) -> ContainerCreateBody {
    let mut exposed = Vec::new();
    let mut bindings: HashMap<String, Option<Vec<DockerPortBinding>>> = HashMap::new();
    for p in &c.ports {
        let key = format!("{}/{}", p.container_port, p.protocol.as_str());
        exposed.push(key.clone());
        bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(DockerPortBinding {
                host_ip: Some(p.host_ip.to_string()),
                host_port: Some(p.host_port.to_string()),
            });
    }
    let network_mode = match &c.network {
        NetworkMode::Bridge => "bridge".to_string(),
        NetworkMode::Container(id) => format!("container:{id}"),
        NetworkMode::Host => "host".to_string(),
        NetworkMode::None => "none".to_string(),
    };
    let binds: Vec<String> = c
        .mounts
        .iter()
        .map(|m| {
            let mode = if m.read_only { ":ro" } else { "" };
            format!("{}:{}{mode}", m.host_path, m.container_path)
        })
        .collect();
    ContainerCreateBody {
        image: Some(c.image.clone()),
        entrypoint: (!c.command.is_empty()).then(|| c.command.clone()),
        cmd: (!c.args.is_empty()).then(|| c.args.clone()),
        env: Some(c.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        working_dir: c.working_dir.clone(),
        labels: Some(
            c.labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        hostname: c.hostname.clone(),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        host_config: Some(HostConfig {
            network_mode: Some(network_mode),
            port_bindings: (!bindings.is_empty()).then_some(bindings),
            binds: (!binds.is_empty()).then_some(binds),
            memory: c.limits.memory_bytes,
            nano_cpus: c.limits.cpu_millis.map(|m| m.saturating_mul(1_000_000)),
            cpu_shares: c.limits.cpu_shares,
            init: c.init.then_some(true),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    }
}

#[async_trait]
impl ContainerRuntime for DockerRuntime {
    async fn version(&self) -> Result<RuntimeVersion, RuntimeError> {
        let v = self.docker.version().await.map_err(map_err)?;
        Ok(RuntimeVersion {
            name: "docker".into(),
            version: v.version.unwrap_or_default(),
            api_version: self.docker.client_version().to_string(),
        })
    }

    async fn list_containers(
        &self,
        filter: &ListFilter,
    ) -> Result<Vec<ContainerSummary>, RuntimeError> {
        let mut filters = HashMap::new();
        if !filter.labels.is_empty() {
            filters.insert(
                "label".to_string(),
                filter
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect(),
            );
        }
        let options = ListContainersOptions {
            all: filter.all,
            filters: (!filters.is_empty()).then_some(filters),
            ..ListContainersOptions::default()
        };
        let listed = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(map_err)?;
        Ok(listed
            .into_iter()
            .map(|s| ContainerSummary {
                id: s.id.unwrap_or_default(),
                name: s
                    .names
                    .and_then(|n| n.into_iter().next())
                    .unwrap_or_default()
                    .trim_start_matches('/')
                    .to_string(),
                image: s.image.unwrap_or_default(),
                labels: s.labels.unwrap_or_default().into_iter().collect(),
                state: summary_state(s.state.as_ref()),
            })
            // Docker's filter is the authority; this keeps the contract exact if it is not.
            .filter(|s| filter.matches_labels(&s.labels))
            .collect())
    }

    async fn image_status(&self, image: &str) -> Result<Option<ImageInfo>, RuntimeError> {
        match self.docker.inspect_image(image).await {
            Ok(i) => Ok(Some(ImageInfo {
                id: i.id.unwrap_or_default(),
            })),
            Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(map_err(e)),
        }
    }

    async fn pull_image(&self, image: &str) -> Result<ImageInfo, RuntimeError> {
        let options = CreateImageOptions {
            from_image: Some(image.to_string()),
            ..CreateImageOptions::default()
        };
        let mut progress = self.docker.create_image(Some(options), None, None);
        while let Some(item) = progress.next().await {
            match item {
                Ok(info) => {
                    if let Some(detail) = info.error_detail {
                        let message = detail.message.unwrap_or_else(|| "failed".into());
                        return Err(RuntimeError::ImagePull(pull_failed(image, &message)));
                    }
                }
                Err(DockerError::DockerResponseServerError { message, .. }) => {
                    return Err(RuntimeError::ImagePull(pull_failed(image, &message)))
                }
                Err(e) => {
                    return Err(match map_err(e) {
                        u @ RuntimeError::Unavailable(_) => u,
                        other => RuntimeError::ImagePull(pull_failed(image, &other.to_string())),
                    })
                }
            }
        }
        self.image_status(image).await?.ok_or_else(|| {
            RuntimeError::ImagePull(format!("image {image} not present after its pull"))
        })
    }

    async fn create_container(&self, config: &ContainerConfig) -> Result<String, RuntimeError> {
        let options = CreateContainerOptions {
            name: Some(config.name.clone()),
            ..CreateContainerOptions::default()
        };
        let created = self
            .docker
            .create_container(Some(options), create_body(config))
            .await
            .map_err(map_err)?;
        Ok(created.id)
    }

    async fn start_container(&self, id: &str) -> Result<(), RuntimeError> {
        match self.docker.start_container(id, None).await {
            Ok(()) => Ok(()),
            // 304: already started.
            Err(DockerError::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            Err(e) => Err(map_err(e)),
        }
    }

    async fn stop_container(&self, id: &str, grace: Duration) -> Result<(), RuntimeError> {
        // Docker counts whole seconds: round up, so a grace is never cut short.
        let secs = grace.as_secs() + u64::from(grace.subsec_nanos() > 0);
        let options = StopContainerOptions {
            t: Some(i32::try_from(secs).unwrap_or(i32::MAX)),
            ..StopContainerOptions::default()
        };
        match self.docker.stop_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            // 304: already stopped.
            Err(DockerError::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            Err(e) => Err(map_err(e)),
        }
    }

    async fn remove_container(&self, id: &str) -> Result<(), RuntimeError> {
        let options = RemoveContainerOptions {
            force: false,
            ..RemoveContainerOptions::default()
        };
        self.docker
            .remove_container(id, Some(options))
            .await
            .map_err(map_err)
    }

    async fn inspect_container(&self, id: &str) -> Result<ContainerInfo, RuntimeError> {
        let r = self
            .docker
            .inspect_container(id, None)
            .await
            .map_err(map_err)?;
        Ok(to_info(r))
    }

    async fn logs(&self, id: &str, options: LogOptions) -> Result<LogStream, RuntimeError> {
        // Fail early (a typed NotFound) rather than inside the stream.
        self.docker
            .inspect_container(id, None)
            .await
            .map_err(map_err)?;
        let opts = LogsOptions {
            follow: options.follow,
            stdout: true,
            stderr: true,
            tail: options
                .tail
                .map_or_else(|| "all".to_string(), |n| n.to_string()),
            ..LogsOptions::default()
        };
        let stream = self.docker.logs(id, Some(opts)).map(|item| match item {
            Ok(
                LogOutput::StdOut { message }
                | LogOutput::StdErr { message }
                | LogOutput::Console { message }
                | LogOutput::StdIn { message },
            ) => Ok(message.to_vec()),
            Err(e) => Err(map_err(e)),
        });
        Ok(Box::pin(stream))
    }

    async fn exec(
        &self,
        id: &str,
        argv: &[String],
        timeout: Duration,
    ) -> Result<ExecResult, RuntimeError> {
        let run = async {
            let created = self
                .docker
                .create_exec(
                    id,
                    ExecConfig {
                        attach_stdout: Some(true),
                        attach_stderr: Some(true),
                        cmd: Some(argv.to_vec()),
                        ..ExecConfig::default()
                    },
                )
                .await
                .map_err(map_err)?;
            let mut out = Vec::new();
            let started = self
                .docker
                .start_exec(
                    &created.id,
                    Some(StartExecOptions {
                        detach: false,
                        ..StartExecOptions::default()
                    }),
                )
                .await
                .map_err(map_err)?;
            if let StartExecResults::Attached { mut output, .. } = started {
                while let Some(chunk) = output.next().await {
                    match chunk.map_err(map_err)? {
                        LogOutput::StdOut { message }
                        | LogOutput::StdErr { message }
                        | LogOutput::Console { message } => out.extend_from_slice(&message),
                        LogOutput::StdIn { .. } => {}
                    }
                }
            }
            let inspected = self
                .docker
                .inspect_exec(&created.id)
                .await
                .map_err(map_err)?;
            Ok(ExecResult {
                exit_code: inspected.exit_code.unwrap_or(-1),
                output: out,
            })
        };
        match tokio::time::timeout(timeout, run).await {
            Ok(r) => r,
            Err(_) => Err(RuntimeError::Timeout(format!(
                "exec {argv:?} in {id} did not finish within {timeout:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_core::runtime::{Mount, PortBinding, Protocol, ResourceLimits};

    #[test]
    fn create_body_maps_the_config() {
        let c = ContainerConfig {
            name: "n".into(),
            image: "img".into(),
            command: vec!["/bin/sh".into()],
            args: vec!["-c".into(), "true".into()],
            env: vec![("A".into(), "1".into())],
            working_dir: Some("/w".into()),
            ports: vec![PortBinding {
                container_port: 80,
                host_port: 8080,
                host_ip: "127.0.0.1".parse().unwrap(),
                protocol: Protocol::Udp,
            }],
            network: NetworkMode::Container("abc".into()),
            mounts: vec![Mount {
                host_path: "/h".into(),
                container_path: "/c".into(),
                read_only: true,
            }],
            limits: ResourceLimits {
                memory_bytes: Some(64),
                cpu_millis: Some(500),
                cpu_shares: Some(512),
            },
            init: true,
            ..ContainerConfig::default()
        };
        let b = create_body(&c);
        assert_eq!(b.entrypoint, Some(vec!["/bin/sh".to_string()]));
        assert_eq!(b.cmd, Some(vec!["-c".to_string(), "true".to_string()]));
        assert_eq!(b.env, Some(vec!["A=1".to_string()]));
        assert_eq!(b.exposed_ports, Some(vec!["80/udp".to_string()]));
        let h = b.host_config.unwrap();
        assert_eq!(h.network_mode.as_deref(), Some("container:abc"));
        let pb = h.port_bindings.unwrap();
        let bound = pb["80/udp"].as_ref().unwrap();
        assert_eq!(bound[0].host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(bound[0].host_port.as_deref(), Some("8080"));
        assert_eq!(h.binds, Some(vec!["/h:/c:ro".to_string()]));
        assert_eq!(
            (h.memory, h.nano_cpus, h.cpu_shares, h.init),
            (Some(64), Some(500_000_000), Some(512), Some(true))
        );
    }

    #[test]
    fn docker_zero_time_is_none() {
        let cases = [
            (Some("0001-01-01T00:00:00Z"), None),
            (None, None),
            (Some("garbage"), None),
            (
                Some("2026-11-28T08:04:04.989465149Z"),
                Timestamp::parse("2026-11-28T08:04:04.989465149Z").ok(),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse_time(input), want, "{input:?}");
        }
    }
}
