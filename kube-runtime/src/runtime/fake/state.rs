//! The fake's in-memory model: containers with their runs (settled lazily against the
//! clock), images, and the helpers that answer like Docker (pod IPs, image references, tails).

use super::controls::{FakeCall, FakeMethod, ImageBehaviour};
use kube_core::runtime::{ContainerConfig, ContainerInfo, ContainerRunState, RuntimeError};
use kube_core::time::Timestamp;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// One run of a container.
#[derive(Clone, Debug)]
pub(super) struct Run {
    pub(super) started_at: Timestamp,
    /// When the run ends by itself, with the image's exit code.
    pub(super) ends_at: Option<Timestamp>,
    /// Set once it ended: (when, exit code).
    pub(super) finished: Option<(Timestamp, i64)>,
}

#[derive(Debug)]
pub(super) struct Container {
    pub(super) id: String,
    pub(super) config: Arc<ContainerConfig>,
    pub(super) image_id: String,
    pub(super) created_at: Timestamp,
    pub(super) ip: Option<IpAddr>,
    pub(super) run: Option<Run>,
    pub(super) logs: Vec<u8>,
    pub(super) exec_result: Option<(i64, Vec<u8>)>,
    pub(super) exec_hangs: bool,
    /// Why the last start failed (Docker's `State.Error`); empty once a start succeeds.
    pub(super) start_error: String,
}

impl Container {
    /// The state at `now`, settling a run that has ended by itself.
    pub(super) fn settle(
        &mut self,
        now: Timestamp,
        behaviour: &ImageBehaviour,
    ) -> ContainerRunState {
        let Some(run) = &mut self.run else {
            return ContainerRunState::Created;
        };
        if run.finished.is_none() {
            if let Some(end) = run.ends_at.filter(|e| *e <= now) {
                run.finished = Some((end, behaviour.exit_code));
            }
        }
        if run.finished.is_some() {
            ContainerRunState::Exited
        } else {
            ContainerRunState::Running
        }
    }
}

#[derive(Default)]
pub(super) struct State {
    pub(super) images: BTreeMap<String, String>,
    pub(super) behaviours: HashMap<String, ImageBehaviour>,
    /// The behaviour of images without one of their own.
    pub(super) default_behaviour: ImageBehaviour,
    pub(super) containers: BTreeMap<String, Container>,
    pub(super) names: HashMap<String, String>,
    pub(super) calls: VecDeque<FakeCall>,
    /// Calls are not recorded (`set_call_recording(false)`).
    pub(super) calls_off: bool,
    pub(super) errors: HashMap<FakeMethod, VecDeque<RuntimeError>>,
    pub(super) unavailable: bool,
    pub(super) next_id: u64,
}

impl State {
    pub(super) fn behaviour(&self, image: &str) -> ImageBehaviour {
        self.behaviours
            .get(&image_key(image))
            .cloned()
            .unwrap_or_else(|| self.default_behaviour.clone())
    }

    pub(super) fn container(&mut self, id: &str) -> Result<&mut Container, RuntimeError> {
        let id = self
            .names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string());
        self.containers
            .get_mut(&id)
            .ok_or_else(|| RuntimeError::NotFound(format!("No such container: {id}")))
    }
}

/// Pod IPs handed out so far by every `FakeRuntime` of the process.
static POD_IPS: AtomicU32 = AtomicU32::new(0);

/// The next pod IP: `127.A.B.C` with `A` in 1..=254 and `C` in 1..=254 (no `.0` or `.255`
/// hosts), unique in the process until about 16 million have been handed out, then reused.
pub(super) fn next_pod_ip() -> IpAddr {
    const PER_BLOCK: u32 = 254;
    const BLOCKS: u32 = 254 * 256;
    let n = POD_IPS.fetch_add(1, Ordering::Relaxed) % (PER_BLOCK * BLOCKS);
    let (block, host) = (n / PER_BLOCK, n % PER_BLOCK + 1);
    IpAddr::V4(Ipv4Addr::new(
        127,
        (1 + block / 256) as u8,
        (block % 256) as u8,
        host as u8,
    ))
}

/// An image reference as Docker resolves it: the default registry and `library/` dropped,
/// `:latest` added when neither a tag nor a digest is given.
pub(super) fn image_key(image: &str) -> String {
    let name = image
        .strip_prefix("docker.io/")
        .or_else(|| image.strip_prefix("index.docker.io/"))
        .map(|rest| match rest.strip_prefix("library/") {
            Some(official) if !official.contains('/') => official,
            _ => rest,
        })
        .unwrap_or(image);
    let last = name.rsplit('/').next().unwrap_or(name);
    if name.contains('@') || last.contains(':') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

/// The fake ID of a (normalized) image reference.
pub(super) fn image_id(key: &str) -> String {
    format!("sha256:{:064x}", fnv(key))
}

pub(super) fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The inspected view of one container at `now`.
pub(super) fn info(s: &mut State, id: &str, now: Timestamp) -> Result<ContainerInfo, RuntimeError> {
    let image = s.container(id)?.config.image.clone();
    let behaviour = s.behaviour(&image);
    let c = s.container(id)?;
    let state = c.settle(now, &behaviour);
    let run = c.run.as_ref();
    Ok(ContainerInfo {
        id: c.id.clone(),
        name: c.config.name.clone(),
        image: c.config.image.clone(),
        image_id: c.image_id.clone(),
        labels: c.config.labels.clone(),
        state,
        exit_code: run.and_then(|r| r.finished.map(|f| f.1)),
        oom_killed: false,
        error: c.start_error.clone(),
        created_at: Some(c.created_at),
        started_at: run.map(|r| r.started_at),
        finished_at: run.and_then(|r| r.finished.map(|f| f.0)),
        ip_address: c.ip.filter(|_| state == ContainerRunState::Running),
    })
}

/// The last `n` lines of `bytes` (all when `None`).
pub(super) fn tail(bytes: &[u8], n: Option<u64>) -> Vec<u8> {
    let Some(n) = n else {
        return bytes.to_vec();
    };
    if n == 0 {
        return Vec::new();
    }
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut seen = 0;
    for (i, b) in body.iter().enumerate().rev() {
        if *b == b'\n' {
            seen += 1;
            if seen == n {
                return bytes[i + 1..].to_vec();
            }
        }
    }
    bytes.to_vec()
}

#[cfg(test)]
mod tests {
    use super::{image_key, tail};

    #[test]
    fn image_references_resolve_as_docker_does() {
        let cases = [
            ("busybox", "busybox:latest"),
            ("busybox:latest", "busybox:latest"),
            ("docker.io/library/busybox", "busybox:latest"),
            ("docker.io/busybox:1.36", "busybox:1.36"),
            ("index.docker.io/library/busybox:1", "busybox:1"),
            ("dockerfile/redis", "dockerfile/redis:latest"),
            ("docker.io/dockerfile/redis", "dockerfile/redis:latest"),
            ("docker.io/library/a/b", "library/a/b:latest"),
            ("localhost:5000/app", "localhost:5000/app:latest"),
            ("localhost:5000/app:v2", "localhost:5000/app:v2"),
            ("app@sha256:abcd", "app@sha256:abcd"),
        ];
        for (input, want) in cases {
            assert_eq!(image_key(input), want, "{input}");
        }
    }

    #[test]
    fn tail_counts_lines() {
        let cases: [(&[u8], Option<u64>, &[u8]); 6] = [
            (b"a\nb\nc\n", None, b"a\nb\nc\n"),
            (b"a\nb\nc\n", Some(2), b"b\nc\n"),
            (b"a\nb\nc", Some(2), b"b\nc"),
            (b"a\nb\nc\n", Some(5), b"a\nb\nc\n"),
            (b"a\nb\nc\n", Some(0), b""),
            (b"", Some(1), b""),
        ];
        for (input, n, want) in cases {
            assert_eq!(tail(input, n), want, "{n:?}");
        }
    }
}
