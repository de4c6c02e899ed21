//! A pod's containers as the runtime reports them, grouped by the kubelet's labels: the infra
//! container's attempts and, per app container name, its runs (newest first).

use crate::kubelet::labels;
use crate::runtime::{ContainerInfo, ContainerRunState};
use std::collections::BTreeMap;

/// The identity the kubelet's labels give a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContainerKey<'a> {
    /// UID of the pod it belongs to.
    pub pod_uid: &'a str,
    /// Container name within the pod ([`labels::INFRA_CONTAINER_NAME`] for the infra container).
    pub container_name: &'a str,
    /// Restart count (attempt number for the infra container) when it was created.
    pub restart_count: i32,
    /// Spec hash it was created from; `None` when the label is missing or malformed.
    pub hash: Option<u64>,
}

impl<'a> ContainerKey<'a> {
    /// Reads the key from a container's labels; `None` when it is not a kubelet container.
    pub fn from_labels(l: &'a BTreeMap<String, String>) -> Option<ContainerKey<'a>> {
        let pod_uid = l.get(labels::POD_UID)?;
        let container_name = l.get(labels::CONTAINER_NAME)?;
        let restart_count = l
            .get(labels::RESTART_COUNT)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let hash = l
            .get(labels::CONTAINER_HASH)
            .and_then(|s| u64::from_str_radix(s, 16).ok());
        Some(ContainerKey {
            pod_uid,
            container_name,
            restart_count,
            hash,
        })
    }
}

/// One observed container with its parsed key.
#[derive(Clone, Copy, Debug)]
pub struct Observed<'a> {
    /// Parsed labels.
    pub key: ContainerKey<'a>,
    /// What the runtime reported.
    pub info: &'a ContainerInfo,
}

impl Observed<'_> {
    /// Whether the container is running (or in an unknown state, which is treated as running
    /// so that it is stopped before anything replaces it).
    pub fn is_running(&self) -> bool {
        matches!(
            self.info.state,
            ContainerRunState::Running | ContainerRunState::Unknown
        )
    }

    /// Whether the container has exited.
    pub fn is_exited(&self) -> bool {
        self.info.state == ContainerRunState::Exited
    }
}

/// The containers of one pod, grouped.
#[derive(Clone, Debug, Default)]
pub struct PodContainers<'a> {
    /// Infra containers, newest attempt first.
    pub infra: Vec<Observed<'a>>,
    /// App containers by name, newest run first.
    pub apps: BTreeMap<&'a str, Vec<Observed<'a>>>,
}

impl<'a> PodContainers<'a> {
    /// Groups the containers of one pod (containers of other pods and foreign ones are skipped).
    pub fn group(pod_uid: &str, containers: &[&'a ContainerInfo]) -> PodContainers<'a> {
        let mut out = PodContainers::default();
        for info in containers {
            let Some(key) = ContainerKey::from_labels(&info.labels) else {
                continue;
            };
            if key.pod_uid != pod_uid {
                continue;
            }
            let o = Observed { key, info };
            if key.container_name == labels::INFRA_CONTAINER_NAME {
                out.infra.push(o);
            } else {
                out.apps.entry(key.container_name).or_default().push(o);
            }
        }
        out.infra.sort_by(newest_first);
        for runs in out.apps.values_mut() {
            runs.sort_by(newest_first);
        }
        out
    }

    /// The running infra container, newest first.
    pub fn running_infra(&self) -> Option<Observed<'a>> {
        self.infra.iter().copied().find(|o| o.is_running())
    }

    /// The newest run of an app container.
    pub fn latest(&self, name: &str) -> Option<Observed<'a>> {
        self.apps.get(name).and_then(|runs| runs.first().copied())
    }

    /// The run before the newest one (what `previous=true` logs show).
    pub fn previous(&self, name: &str) -> Option<Observed<'a>> {
        self.apps.get(name).and_then(|runs| runs.get(1).copied())
    }

    /// Every container of the pod.
    pub fn all(&self) -> impl Iterator<Item = Observed<'a>> + '_ {
        self.infra
            .iter()
            .chain(self.apps.values().flatten())
            .copied()
    }
}

/// Higher restart count first; then the later creation time.
fn newest_first(a: &Observed<'_>, b: &Observed<'_>) -> std::cmp::Ordering {
    b.key
        .restart_count
        .cmp(&a.key.restart_count)
        .then_with(|| b.info.created_at.cmp(&a.info.created_at))
}
