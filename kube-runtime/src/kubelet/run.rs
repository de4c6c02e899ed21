//! The kubelet's main loop: watch this node's pods, relist the runtime every second, and
//! hand each changed pod to a worker that syncs it.

use super::config::KubeletConfig;
use super::node_status::{register_node, run_heartbeat, NodeStatusConfig, NodeStatusError};
use super::pod_source::{PodSignal, PodSource};
use super::pod_sync::SYNC_RETRY;
use super::probe_manager::ProbeManager;
use super::server::KubeletServer;
use super::state::KubeletState;
use crate::client::{ApiClient, ListParams};
use crate::controller::{QueueConfig, Shutdown, WorkQueue};
use crate::informer::SharedInformers;
use kube_core::backoff::Backoff;
use kube_core::runtime::ContainerRuntime;
use kube_core::service::Service;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// Why the kubelet could not run.
#[derive(Debug, thiserror::Error)]
pub enum KubeletError {
    /// The kubelet's server could not be started.
    #[error("kubelet server: {0}")]
    Server(String),
}

/// Runs a kubelet for `config.node_name` until `shutdown` is triggered. Containers keep
/// running when it stops; a kubelet started later adopts them by their labels.
pub async fn run<C: ApiClient>(
    client: C,
    runtime: Arc<dyn ContainerRuntime>,
    config: KubeletConfig,
    shutdown: Shutdown,
) -> Result<(), KubeletError> {
    let informers = SharedInformers::new(client.clone(), config.clock.clone());
    let pods = PodSource::own(&informers, &config.node_name);
    let result = run_with(&informers, pods, client, runtime, config, shutdown).await;
    informers.shutdown();
    result
}

/// Runs a kubelet on shared caches: its pods from `pods` (its own watch, or a [`SharedPods`]
/// source when many kubelets share a process), services from `informers` (started here if
/// they are not yet; not stopped here).
///
/// [`SharedPods`]: super::SharedPods
pub async fn run_with<C: ApiClient>(
    informers: &SharedInformers<C>,
    pods: PodSource,
    client: C,
    runtime: Arc<dyn ContainerRuntime>,
    config: KubeletConfig,
    shutdown: Shutdown,
) -> Result<(), KubeletError> {
    let clock = config.clock.clone();
    let (pods, mut pod_rx) = pods.split();
    let services = informers.cache::<Service>(None, &ListParams::default());
    informers.start();

    let runtime_name = match runtime.version().await {
        Ok(v) => v.name,
        Err(e) => {
            tracing::warn!(error = %e, "container runtime not answering yet");
            "docker".to_string()
        }
    };
    let queue: WorkQueue<String> = WorkQueue::new(
        clock.clone(),
        QueueConfig {
            per_item: Backoff::new(SYNC_RETRY, Duration::from_secs(60)),
            rate_limit: None,
            seed: None,
        },
    );
    let probes = ProbeManager::new(runtime.clone(), clock.clone(), queue.clone());
    let mut tasks = JoinSet::new();
    // The server first: the node reports the port it really got (`--port 0` picks one).
    let server = if config.serve {
        Some(
            KubeletServer::bind(
                SocketAddr::new(config.address, config.port),
                runtime.clone(),
                config.node_name.clone(),
            )
            .await
            .map_err(|e| KubeletError::Server(e.to_string()))?,
        )
    } else {
        None
    };
    let mut status_config = node_status_config(&config);
    if let Some(server) = &server {
        status_config.kubelet_port = server.local_addr().port();
    }
    {
        let (client, runtime, shutdown) = (client.clone(), runtime.clone(), shutdown.clone());
        tasks.spawn(async move {
            match register_node(&client, runtime.as_ref(), &status_config, &shutdown).await {
                Ok(_) => {}
                Err(NodeStatusError::Shutdown(_)) => return,
                Err(e) => tracing::error!(error = %e, "node registration failed"),
            }
            if let Err(e) = run_heartbeat(&client, runtime.as_ref(), &status_config, shutdown).await
            {
                tracing::warn!(error = %e, "node heartbeat stopped");
            }
        });
    }
    let state = Arc::new(KubeletState::new(
        client,
        runtime,
        config,
        pods.clone(),
        services,
        runtime_name,
        probes.clone(),
    ));

    // Nothing is synced before the pods are known and the runtime answered once: a kubelet
    // that started blind would take every container for an orphan.
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    let mut rng = crate::clock::seeded_rng();
    loop {
        tokio::select! {
            _ = pods.wait_until_synced() => {}
            _ = shutdown.triggered() => return finish(&queue, &probes, tasks, server).await,
        }
        match state
            .runtime_cache
            .relist(state.runtime.as_ref(), &state.node_filter, None)
            .await
        {
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(error = %e, "listing containers failed; retrying");
                let delay = backoff.next_delay(&mut rng);
                tokio::select! {
                    _ = clock.sleep(delay) => {}
                    _ = shutdown.triggered() => return finish(&queue, &probes, tasks, server).await,
                }
            }
        }
    }
    enqueue_all(&state, &queue);

    for _ in 0..state.config.workers.max(1) {
        tasks.spawn(worker(state.clone(), queue.clone()));
    }
    let relist_period = state.config.relist_period;
    let sync_period = state.config.sync_period;
    let mut next_relist = clock.instant() + relist_period;
    let mut next_resync = clock.instant() + sync_period;
    loop {
        tokio::select! {
            _ = shutdown.triggered() => break,
            signal = pod_rx.next() => match signal {
                Some(PodSignal::Changed(uid)) => queue.add(uid),
                Some(PodSignal::All) => enqueue_all(&state, &queue),
                None => break,
            },
            _ = clock.sleep_until(next_relist) => {
                next_relist = clock.instant() + relist_period;
                match state.runtime_cache.relist(state.runtime.as_ref(), &state.node_filter, None).await {
                    Ok(changed) => changed.into_iter().for_each(|uid| queue.add(uid)),
                    Err(e) => tracing::warn!(error = %e, "relisting containers failed"),
                }
            }
            _ = clock.sleep_until(next_resync) => {
                next_resync = clock.instant() + sync_period;
                enqueue_all(&state, &queue);
            }
        }
    }
    finish(&queue, &probes, tasks, server).await
}

/// The node registration settings from the kubelet's.
fn node_status_config(config: &KubeletConfig) -> NodeStatusConfig {
    let mut c = NodeStatusConfig::new(config.node_name.clone());
    c.address = config.address;
    c.kubelet_port = config.port;
    c.cpu_millis = config.cpu_millis;
    c.memory_bytes = config.memory_bytes;
    c.max_pods = config.max_pods;
    c.node_status_update_frequency = config.node_status_update_frequency;
    c.clock = config.clock.clone();
    c
}

/// Queues every pod the kubelet knows of, from the API and from the runtime.
fn enqueue_all<C: ApiClient>(state: &KubeletState<C>, queue: &WorkQueue<String>) {
    for p in state.pods.list() {
        queue.add(p.metadata.uid.clone());
    }
    for uid in state.runtime_cache.pod_uids() {
        queue.add(uid);
    }
}

async fn worker<C: ApiClient>(state: Arc<KubeletState<C>>, queue: WorkQueue<String>) {
    while let Some(uid) = queue.get().await {
        match state.sync_pod(&uid).await {
            Ok(resync) => {
                queue.forget(&uid);
                if let Some(at) = resync {
                    let delay = at.saturating_duration_since(state.clock.now());
                    queue.add_after(uid.clone(), delay);
                }
            }
            Err(e) => {
                tracing::debug!(pod = %uid, error = %e, "pod sync failed; retrying");
                queue.add_rate_limited(uid.clone());
            }
        }
        queue.done(&uid);
    }
}

async fn finish(
    queue: &WorkQueue<String>,
    probes: &ProbeManager,
    mut tasks: JoinSet<()>,
    server: Option<KubeletServer>,
) -> Result<(), KubeletError> {
    queue.shutdown();
    probes.shutdown();
    while tasks.join_next().await.is_some() {}
    if let Some(server) = server {
        server.shutdown().await;
    }
    Ok(())
}
