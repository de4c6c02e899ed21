//! The node lifecycle controller: marks nodes whose kubelet stopped heartbeating
//! `Ready=Unknown` and evicts the pods of nodes not ready for too long, at a bounded rate.
//!
//! Built on the toolkit: a shared cache of nodes drives the [`Controller`] runner, a shared pod
//! cache indexed by `spec.nodeName` gives each node's pods, and every decision is kube-core's
//! [`kube_core::controller::node_lifecycle`]. Each reconcile of a node:
//! 1. plans at the clock's `now`; writes `Ready=Unknown` through `/status` when the heartbeat
//!    is stale (a compare-and-swap: a heartbeat that raced it makes it fail and retry);
//! 2. once the node has been not ready past the eviction timeout, asks the shared
//!    [`EvictionLimiter`] for a token and, when granted, deletes every pod of the node
//!    gracefully in one go (when not, looks again when a token will be there);
//! 3. force-deletes (grace 0) the terminating pods of an `Unknown` node past their deadline;
//! 4. requeues the node at the plan's next deadline, at most [`NODE_MONITOR_PERIOD`] away: a
//!    silent node produces no event, so time alone must bring it back.
//!
//! Nodes without any condition are not managed by a kubelet (the API server's `--machines`)
//! and are left alone. A failed write fails the reconcile, retried with backoff; an eviction
//! that failed half-way asks for a new token for the pods left.

use crate::client::{ApiClient, ListParams};
use crate::clock::Clock;
use crate::controller::{default_error_policy, Action, Controller, ControllerConfig, Shutdown};
use crate::informer::{index, Cache, SharedInformers};
use kube_core::controller::node_lifecycle::{
    plan, Admission, EvictionLimiter, NodeTiming, Readiness, NODE_EVICTION_RATE,
    NODE_MONITOR_GRACE_PERIOD, NODE_MONITOR_PERIOD, NODE_STARTUP_GRACE_PERIOD,
    POD_EVICTION_TIMEOUT,
};
use kube_core::error::ApiError;
use kube_core::{DeleteOptions, Node, Pod};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Settings of the node lifecycle controller (Kubernetes' flags and defaults).
#[derive(Clone, Debug)]
pub struct NodeLifecycleConfig {
    /// The runner's settings (workers, resync, queue backoff).
    pub controller: ControllerConfig,
    /// The source of time.
    pub clock: Clock,
    /// `--node-monitor-grace-period`: heartbeat age at which a node turns `Unknown` (40 s).
    pub node_monitor_grace_period: Duration,
    /// `--node-startup-grace-period`: time a new node gets to post its first heartbeat (60 s).
    pub node_startup_grace_period: Duration,
    /// `--pod-eviction-timeout`: time not ready before a node's pods are evicted (5 min).
    pub pod_eviction_timeout: Duration,
    /// `--node-eviction-rate`: nodes whose pods are evicted per second (0.1; 0 disables).
    pub node_eviction_rate: f64,
    /// `--node-monitor-period`: longest time between two looks at a node (5 s).
    pub node_monitor_period: Duration,
}

impl Default for NodeLifecycleConfig {
    fn default() -> NodeLifecycleConfig {
        NodeLifecycleConfig {
            controller: ControllerConfig::default(),
            clock: Clock::real(),
            node_monitor_grace_period: NODE_MONITOR_GRACE_PERIOD,
            node_startup_grace_period: NODE_STARTUP_GRACE_PERIOD,
            pod_eviction_timeout: POD_EVICTION_TIMEOUT,
            node_eviction_rate: NODE_EVICTION_RATE,
            node_monitor_period: NODE_MONITOR_PERIOD,
        }
    }
}

/// What every reconcile shares: the client, the pod cache, the timing and the token bucket.
struct Context<C> {
    client: C,
    pods: Cache<Pod>,
    clock: Clock,
    timing: NodeTiming,
    monitor_period: Duration,
    limiter: Mutex<EvictionLimiter>,
}

/// Runs the node lifecycle controller against `client` until `shutdown`, on caches of its own.
pub async fn run<C: ApiClient>(client: C, config: NodeLifecycleConfig, shutdown: Shutdown) {
    let informers = SharedInformers::new(client.clone(), config.clock.clone());
    run_with(&informers, client, config, shutdown).await;
    informers.shutdown();
}

/// Runs the node lifecycle controller on the shared caches of `informers` (started here if
/// they are not yet) until `shutdown`, then drains the reconciles in flight.
pub async fn run_with<C: ApiClient>(
    informers: &SharedInformers<C>,
    client: C,
    config: NodeLifecycleConfig,
    shutdown: Shutdown,
) {
    let all = ListParams::default();
    let nodes = informers.cache::<Node>(None, &all);
    let pods = informers.cache::<Pod>(None, &all);
    if !pods.has_index(index::NODE_NAME) {
        pods.add_index(index::NODE_NAME, index::by_node_name());
    }
    let ctx = Arc::new(Context {
        client,
        pods,
        clock: config.clock.clone(),
        timing: NodeTiming {
            node_monitor_grace_period: config.node_monitor_grace_period,
            node_startup_grace_period: config.node_startup_grace_period,
            pod_eviction_timeout: config.pod_eviction_timeout,
        },
        monitor_period: config.node_monitor_period.max(Duration::from_millis(1)),
        limiter: Mutex::new(EvictionLimiter::new(config.node_eviction_rate)),
    });
    let controller = Controller::with_config(nodes, config.clock, config.controller);
    informers.start();
    controller
        .run(reconcile::<C>, default_error_policy, ctx, shutdown)
        .await;
}

/// Looks at one node: marks it `Unknown` when its heartbeat is stale, evicts its pods when it
/// has been not ready for too long, and says when to look again.
async fn reconcile<C: ApiClient>(
    node: Arc<Node>,
    ctx: Arc<Context<C>>,
) -> Result<Action, ApiError> {
    let name = node.metadata.name.as_str();
    let now = ctx.clock.now();
    let cached = ctx
        .pods
        .by_index(index::NODE_NAME, name)
        .unwrap_or_default();
    let pods: Vec<&Pod> = cached.iter().map(|p| p.as_ref()).collect();
    let the_plan = plan(&node, &pods, now, &ctx.timing);
    if the_plan.health.readiness == Readiness::Unmanaged {
        // No kubelet manages it: only an edit (an event) can change that.
        return Ok(Action::await_change());
    }
    if let Some(updated) = &the_plan.health.mark_unknown {
        ctx.client.update_status("", updated).await?;
        tracing::info!("node {name}: kubelet stopped posting node status, marked Ready=Unknown");
    }
    let mut next = the_plan
        .next_check
        .map(|t| t.saturating_duration_since(now))
        .filter(|d| !d.is_zero())
        .unwrap_or(ctx.monitor_period)
        .min(ctx.monitor_period);
    if !the_plan.evict.is_empty() {
        let admission = ctx
            .limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .admit(now);
        match admission {
            Admission::Granted => {
                tracing::info!(
                    "node {name}: not ready since {:?}, evicting {} pods",
                    the_plan.health.readiness.not_ready_since(),
                    the_plan.evict.len()
                );
                delete_pods(&ctx, name, &the_plan.evict, DeleteOptions::default()).await?;
            }
            Admission::Wait(d) => next = next.min(d.max(Duration::from_millis(1))),
            Admission::Never => {}
        }
    }
    if !the_plan.force_delete.is_empty() {
        tracing::info!(
            "node {name}: force-deleting {} pods past their grace on an unreachable node",
            the_plan.force_delete.len()
        );
        delete_pods(
            &ctx,
            name,
            &the_plan.force_delete,
            DeleteOptions::immediate(),
        )
        .await?;
    }
    Ok(Action::requeue(next))
}

/// Deletes `pods` with `options`; a pod already gone counts as deleted.
async fn delete_pods<C: ApiClient>(
    ctx: &Context<C>,
    node: &str,
    pods: &[&Pod],
    options: DeleteOptions,
) -> Result<(), ApiError> {
    let results = futures_util::future::join_all(pods.iter().map(|p| {
        ctx.client
            .delete_with::<Pod>(&p.metadata.namespace, &p.metadata.name, &options)
    }))
    .await;
    let mut failure = None;
    for (pod, r) in pods.iter().zip(results) {
        match r {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                tracing::warn!(
                    "node {node}: delete of pod {}/{} failed: {e}",
                    pod.metadata.namespace,
                    pod.metadata.name
                );
                failure.get_or_insert(e);
            }
        }
    }
    failure.map_or(Ok(()), Err)
}
