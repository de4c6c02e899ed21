//! The namespace controller: empties a terminating namespace, then lets it go.
//!
//! Built on the toolkit: a shared cache of namespaces drives the [`Controller`] runner, and
//! every decision is kube-core's [`kube_core::controller::namespace`]. Each reconcile of a
//! namespace marked for deletion (and still carrying the `kubernetes` finalizer):
//! 1. lists every namespaced kind in it (live lists: what remains must not be a cache's word);
//! 2. deletes what is not being deleted yet (pods gracefully: their kubelets finish them);
//! 3. lists again and writes the `NamespaceDeletionContentFailure` and
//!    `NamespaceContentRemaining` conditions through `/status` when they changed;
//! 4. when nothing is left and every delete succeeded, removes the `kubernetes` finalizer
//!    (a plain compare-and-swap update, which removes the namespace); otherwise looks again
//!    after [`NamespaceConfig::recheck`].
//!
//! Creates in the namespace are refused by the API server meanwhile (403), so its content only
//! shrinks. Active namespaces are left alone.

use crate::client::{ApiClient, ListParams};
use crate::clock::Clock;
use crate::controller::{default_error_policy, Action, Controller, ControllerConfig, Shutdown};
use crate::informer::SharedInformers;
use kube_core::controller::namespace::{
    namespaced_kinds, plan, without_kubernetes_finalizer, Content,
};
use kube_core::error::ApiError;
use kube_core::{Namespace, Object, ResourceKind};
use std::sync::Arc;
use std::time::Duration;

/// How often a terminating namespace with content left is looked at again.
pub const NAMESPACE_RECHECK: Duration = Duration::from_secs(1);

/// Settings of the namespace controller.
#[derive(Clone, Debug)]
pub struct NamespaceConfig {
    /// The runner's settings (workers, resync, queue backoff).
    pub controller: ControllerConfig,
    /// The source of time.
    pub clock: Clock,
    /// How often a namespace whose content is still going is looked at again (1 s).
    pub recheck: Duration,
}

impl Default for NamespaceConfig {
    fn default() -> NamespaceConfig {
        NamespaceConfig {
            controller: ControllerConfig::default(),
            clock: Clock::real(),
            recheck: NAMESPACE_RECHECK,
        }
    }
}

/// What every reconcile shares.
struct Context<C> {
    client: C,
    clock: Clock,
    recheck: Duration,
}

/// Runs the namespace controller against `client` until `shutdown`, on caches of its own.
pub async fn run<C: ApiClient>(client: C, config: NamespaceConfig, shutdown: Shutdown) {
    let informers = SharedInformers::new(client.clone(), config.clock.clone());
    run_with(&informers, client, config, shutdown).await;
    informers.shutdown();
}

/// Runs the namespace controller on the shared caches of `informers` (started here if they
/// are not yet) until `shutdown`, then drains the reconciles in flight.
pub async fn run_with<C: ApiClient>(
    informers: &SharedInformers<C>,
    client: C,
    config: NamespaceConfig,
    shutdown: Shutdown,
) {
    let namespaces = informers.cache::<Namespace>(None, &ListParams::default());
    let ctx = Arc::new(Context {
        client,
        clock: config.clock.clone(),
        recheck: config.recheck.max(Duration::from_millis(1)),
    });
    let controller = Controller::with_config(namespaces, config.clock, config.controller);
    informers.start();
    controller
        .run(reconcile::<C>, default_error_policy, ctx, shutdown)
        .await;
}

/// Looks at one namespace: nothing while it is active; otherwise one round of deletion.
async fn reconcile<C: ApiClient>(
    ns: Arc<Namespace>,
    ctx: Arc<Context<C>>,
) -> Result<Action, ApiError> {
    let name = ns.metadata.name.as_str();
    let now = ctx.clock.now().to_rfc3339();
    let first = plan(&ns, &[], &[], &now);
    if first == Default::default() {
        // Active, or not ours to finalize: only a change (a delete) matters.
        return Ok(Action::await_change());
    }
    let content = list_content(&ctx.client, name).await?;
    let first = plan(&ns, &content, &[], &now);
    let mut failures = Vec::new();
    for (kind, object) in &first.delete {
        if let Err(e) = delete(&ctx.client, *kind, name, object).await {
            if !e.is_not_found() {
                tracing::warn!(
                    "namespace {name}: delete of {} {object} failed: {e}",
                    kind.info().plural
                );
                failures.push(format!("{} {object:?}: {e}", kind.info().plural));
            }
        }
    }
    let content = if first.delete.is_empty() {
        content
    } else {
        list_content(&ctx.client, name).await?
    };
    let second = plan(&ns, &content, &failures, &now);
    let mut current = (*ns).clone();
    if let Some(status) = second.status {
        current.status = status;
        current = ctx.client.update_status("", &current).await?;
    }
    if second.finalize {
        ctx.client
            .finalize_namespace(&without_kubernetes_finalizer(&current))
            .await?;
        tracing::info!("namespace {name}: content deleted, finalized");
        return Ok(Action::await_change());
    }
    Ok(Action::requeue(ctx.recheck))
}

/// Every object of every namespaced kind in `namespace`.
async fn list_content<C: ApiClient>(client: &C, namespace: &str) -> Result<Vec<Content>, ApiError> {
    let mut content = Vec::new();
    for kind in namespaced_kinds() {
        kube_core::with_resource_type!(kind, T => {
            content.extend(list_kind::<C, T>(client, namespace).await?);
        });
    }
    Ok(content)
}

async fn list_kind<C: ApiClient, T: Object>(
    client: &C,
    namespace: &str,
) -> Result<Vec<Content>, ApiError> {
    let list = client
        .list::<T>(Some(namespace), &ListParams::default())
        .await?;
    Ok(list
        .items
        .iter()
        .map(|o| Content {
            resource: T::RESOURCE,
            name: o.meta().name.clone(),
            deleting: o.meta().is_deleting(),
        })
        .collect())
}

/// Deletes one object with the default options (pods: gracefully).
async fn delete<C: ApiClient>(
    client: &C,
    kind: ResourceKind,
    namespace: &str,
    name: &str,
) -> Result<(), ApiError> {
    kube_core::with_resource_type!(kind, T => {
        client.delete::<T>(namespace, name).await.map(|_| ())
    })
}
