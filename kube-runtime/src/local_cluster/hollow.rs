//! A hollow node: a real kubelet on a [`FakeRuntime`], fed by the cluster's shared pod cache.

use crate::client::InProcessClient;
use crate::clock::Clock;
use crate::controller::Shutdown;
use crate::informer::SharedInformers;
use crate::kubelet::{self, KubeletConfig, SharedPods};
use crate::runtime::FakeRuntime;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// The kubelet settings of a hollow node: no server, 4 CPUs, 16 GiB, 110 pods.
pub(super) fn default_kubelet_config(name: &str, clock: &Clock) -> KubeletConfig {
    let mut c = KubeletConfig::new(name);
    c.serve = false;
    c.port = 0;
    c.cpu_millis = Some(4000);
    c.memory_bytes = Some(16 << 30);
    c.workers = 2;
    c.relist_period = Duration::from_secs(1);
    c.clock = clock.clone();
    c
}

/// One simulated node of a [`super::LocalCluster`].
pub struct HollowNode {
    name: String,
    runtime: FakeRuntime,
    config: KubeletConfig,
    running: Option<(Shutdown, JoinHandle<()>)>,
}

impl HollowNode {
    pub(super) fn new(name: &str, runtime: FakeRuntime, config: KubeletConfig) -> HollowNode {
        HollowNode {
            name: name.to_string(),
            runtime,
            config,
            running: None,
        }
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node's container runtime.
    pub fn runtime(&self) -> &FakeRuntime {
        &self.runtime
    }

    /// Whether its kubelet runs.
    pub fn is_running(&self) -> bool {
        self.running.as_ref().is_some_and(|(_, t)| !t.is_finished())
    }

    /// Starts the kubelet (no-op when it runs).
    pub(super) fn start(
        &mut self,
        informers: &SharedInformers<InProcessClient>,
        pods: &SharedPods,
        client: &InProcessClient,
    ) {
        if self.is_running() {
            return;
        }
        let shutdown = Shutdown::new();
        let source = pods.source(&self.name);
        let (informers, client, config) = (informers.clone(), client.clone(), self.config.clone());
        let runtime: Arc<dyn kube_core::runtime::ContainerRuntime> = Arc::new(self.runtime.clone());
        let stop = shutdown.clone();
        let name = self.name.clone();
        let task = tokio::spawn(async move {
            if let Err(e) =
                kubelet::run_with(&informers, source, client, runtime, config, stop).await
            {
                tracing::error!(node = %name, error = %e, "hollow kubelet stopped");
            }
        });
        self.running = Some((shutdown, task));
    }

    /// Stops the kubelet without waiting (for a cluster dropped without `shutdown`).
    pub(super) fn abort(&mut self) {
        if let Some((shutdown, task)) = self.running.take() {
            shutdown.trigger();
            task.abort();
        }
    }

    /// Stops the kubelet: no more heartbeats or syncs (its containers stay in the runtime).
    pub(super) async fn stop(&mut self) {
        if let Some((shutdown, task)) = self.running.take() {
            shutdown.trigger();
            let _ = task.await;
        }
    }
}
