//! The kubelet's shared state: caches, the runtime, remembered start failures, probes.

use super::config::KubeletConfig;
use super::pod_source::PodView;
use super::probe_manager::ProbeManager;
use super::runtime_cache::RuntimeCache;
use crate::client::ApiClient;
use crate::clock::Clock;
use crate::events::EventRecorder;
use crate::informer::Cache;
use kube_core::kubelet::sync::StartFailure;
use kube_core::pod::Pod;
use kube_core::runtime::{ContainerRuntime, ListFilter, RuntimeError};
use kube_core::service::Service;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Why one pod's sync failed (it is retried with back-off).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// A runtime call failed.
    #[error("runtime: {0}")]
    Runtime(#[from] RuntimeError),
    /// A container could not be started (already recorded for back-off and status).
    #[error("start: {0}")]
    Start(String),
    /// An API call failed.
    #[error("api: {0}")]
    Api(String),
    /// The pod disappeared while a step needed it.
    #[error("pod gone")]
    NoPod,
}

/// Everything the pod workers share.
pub(crate) struct KubeletState<C> {
    pub client: C,
    pub runtime: Arc<dyn ContainerRuntime>,
    pub config: KubeletConfig,
    pub clock: Clock,
    pub pods: PodView,
    pub services: Cache<Service>,
    pub runtime_cache: RuntimeCache,
    pub node_filter: ListFilter,
    pub runtime_name: String,
    pub host_ip: String,
    pub events: EventRecorder<C>,
    pub probes: ProbeManager,
    /// Failed starts by pod UID, then container name.
    failures: Mutex<HashMap<String, BTreeMap<String, StartFailure>>>,
}

impl<C: ApiClient> KubeletState<C> {
    /// Builds the state; `runtime_name` is the scheme of reported container IDs.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        client: C,
        runtime: Arc<dyn ContainerRuntime>,
        config: KubeletConfig,
        pods: PodView,
        services: Cache<Service>,
        runtime_name: String,
        probes: ProbeManager,
    ) -> KubeletState<C> {
        let clock = config.clock.clone();
        let node_filter = ListFilter::label(
            kube_core::kubelet::labels::NODE_NAME,
            config.node_name.clone(),
        );
        let host_ip = if config.address.is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            config.address.to_string()
        };
        let events = EventRecorder::with_clock(client.clone(), "kubelet", clock.clone());
        KubeletState {
            client,
            runtime,
            config,
            clock,
            pods,
            services,
            runtime_cache: RuntimeCache::new(),
            node_filter,
            runtime_name,
            host_ip,
            events,
            probes,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The cached pod with this UID.
    pub fn pod_by_uid(&self, uid: &str) -> Option<Arc<Pod>> {
        self.pods.by_uid(uid)
    }

    /// The remembered start failures of a pod.
    pub fn failures_of(&self, uid: &str) -> BTreeMap<String, StartFailure> {
        self.lock_failures().get(uid).cloned().unwrap_or_default()
    }

    /// Remembers a failed start (one more attempt, now).
    pub fn record_failure(&self, uid: &str, container: &str, reason: &str, message: &str) {
        let now = self.clock.now();
        let mut all = self.lock_failures();
        let entry = all
            .entry(uid.to_string())
            .or_default()
            .entry(container.to_string())
            .or_insert_with(|| StartFailure {
                reason: reason.to_string(),
                message: String::new(),
                attempts: 0,
                at: now,
            });
        entry.reason = reason.to_string();
        entry.message = message.to_string();
        entry.attempts += 1;
        entry.at = now;
    }

    /// Forgets a container's failures after it started.
    pub fn clear_failure(&self, uid: &str, container: &str) {
        let mut all = self.lock_failures();
        if let Some(m) = all.get_mut(uid) {
            m.remove(container);
            if m.is_empty() {
                all.remove(uid);
            }
        }
    }

    /// Forgets everything about a pod that is gone.
    pub fn forget_pod(&self, uid: &str) {
        self.lock_failures().remove(uid);
        self.probes.forget_pod(uid);
    }

    fn lock_failures(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, BTreeMap<String, StartFailure>>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }
}
