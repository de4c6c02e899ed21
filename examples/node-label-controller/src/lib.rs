//! Example of a user-written controller: every scheduled pod carries the label
//! `node=<spec.nodeName>`.
//!
//! The decision is a pure function ([`desired_labels`]); [`reconcile`] applies it through any
//! [`ApiClient`]; [`run`] wires a shared pod informer, the [`Controller`] runner and the client
//! together.
//! A conflicting write (the pod changed meanwhile) is an error: the runner retries the key with
//! per-key backoff, by which time the cache holds the newer pod.

use kube_core::error::ApiError;
use kube_core::meta::StringMap;
use kube_core::Pod;
use kube_runtime::client::{ApiClient, ListParams};
use kube_runtime::clock::Clock;
use kube_runtime::controller::{
    default_error_policy, Action, Controller, ControllerConfig, Shutdown,
};
use kube_runtime::informer::SharedInformers;
use std::sync::Arc;

/// The label this controller maintains.
pub const NODE_LABEL: &str = "node";

/// The labels `pod` should have, or `None` when it needs no change (unscheduled pods are left alone).
pub fn desired_labels(pod: &Pod) -> Option<StringMap> {
    let node = &pod.spec.node_name;
    if node.is_empty() || pod.metadata.labels.get(NODE_LABEL) == Some(node) {
        return None;
    }
    let mut labels = pod.metadata.labels.clone();
    labels.insert(NODE_LABEL.to_string(), node.clone());
    Some(labels)
}

/// What the reconcile needs: the client it writes through.
pub struct Context<C> {
    /// The API client.
    pub client: C,
}

/// Brings one pod's labels in line with its node (a compare-and-swap on the cached version).
pub async fn reconcile<C: ApiClient>(
    pod: Arc<Pod>,
    ctx: Arc<Context<C>>,
) -> Result<Action, ApiError> {
    if let Some(labels) = desired_labels(&pod) {
        let mut updated = (*pod).clone();
        updated.metadata.labels = labels;
        ctx.client.update(&pod.metadata.namespace, &updated).await?;
        tracing::info!(
            "labelled pod {}/{} with {NODE_LABEL}={}",
            pod.metadata.namespace,
            pod.metadata.name,
            pod.spec.node_name
        );
    }
    Ok(Action::await_change())
}

/// Runs the controller until `shutdown`, then drains the reconciles in flight.
pub async fn run<C: ApiClient>(
    client: C,
    clock: Clock,
    config: ControllerConfig,
    shutdown: Shutdown,
) {
    let informers = SharedInformers::new(client.clone(), clock.clone());
    let cache = informers.cache::<Pod>(None, &ListParams::default());
    informers.start();
    Controller::with_config(cache, clock, config)
        .run(
            reconcile::<C>,
            default_error_policy,
            Arc::new(Context { client }),
            shutdown,
        )
        .await;
    informers.shutdown();
}

#[cfg(test)]
mod tests;
