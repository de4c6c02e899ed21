//! The endpoints controller: keeps an `Endpoints` object per service with a selector, holding
//! the addresses of the pods it selects.
//!
//! Built on the toolkit: shared caches of services, pods and endpoints
//! ([`SharedInformers`]), and two [`Controller`] runners applying the pure plan of
//! [`kube_core::controller::endpoints`]:
//! - the **sync** runner over the service cache: a service's key is queued when it changes,
//!   when a pod it selects (before or after the pod's change, so a pod relabelled away or
//!   deleted is seen) changes, and when its endpoints change. Each reconcile computes the
//!   subsets from the cached pods and creates the endpoints when missing, or replaces them
//!   (compare-and-swap on the cached resourceVersion) only when their content differs;
//! - the **cleanup** runner over the endpoints cache: the runner drops keys whose object is
//!   gone, so a deleted service is not seen by the sync runner. Service deletions are recorded
//!   instead (and, at start-up and after a lagged subscription, endpoints whose service is
//!   missing: Kubernetes' leftover check), and the cleanup runner deletes the endpoints of a
//!   recorded key while its service stays absent. Endpoints created before their service
//!   (users may do that) are never taken for leftovers at run time.
//!
//! Nothing runs before the three caches are synced, so a starting controller never writes
//! endpoints computed from a partial pod list. Errors (a conflict with a newer object, an
//! endpoints object the cache has not seen yet) fail the reconcile; the runner retries the key
//! with backoff, by which time the cache is newer. Services without a selector are left alone.

use crate::client::{ApiClient, ListParams};
use crate::clock::Clock;
use crate::controller::{
    default_error_policy, Action, Controller, ControllerConfig, Shutdown, WorkQueue,
};
use crate::informer::{index, object_key, Cache, CacheEvent, SharedInformers};
use kube_core::controller::endpoints::{plan, selects, Plan};
use kube_core::error::ApiError;
use kube_core::time::Timestamp;
use kube_core::{Endpoints, Pod, Service};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

/// How long a recorded service deletion waits for its endpoints to appear in the cache before
/// it is forgotten (an endpoints object being created as its service was deleted).
const DELETION_TTL: Duration = Duration::from_secs(5 * 60);

/// Settings of the endpoints controller.
#[derive(Clone, Debug)]
pub struct EndpointsConfig {
    /// The sync runner's settings (workers, resync, queue backoff); the cleanup runner uses
    /// them with one worker.
    pub controller: ControllerConfig,
    /// The source of time.
    pub clock: Clock,
}

impl Default for EndpointsConfig {
    fn default() -> EndpointsConfig {
        EndpointsConfig {
            controller: ControllerConfig {
                // Kubernetes' `--concurrent-endpoint-syncs` default.
                workers: 5,
                ..ControllerConfig::default()
            },
            clock: Clock::real(),
        }
    }
}

/// What every reconcile shares: the client, the caches and the recorded service deletions.
struct Context<C> {
    client: C,
    services: Cache<Service>,
    pods: Cache<Pod>,
    endpoints: Cache<Endpoints>,
    clock: Clock,
    /// Keys of services seen deleted (or missing at start-up), with the time they were
    /// recorded, whose endpoints are to be deleted.
    deleted: Mutex<HashMap<String, Timestamp>>,
}

impl<C> Context<C> {
    fn deleted(&self) -> MutexGuard<'_, HashMap<String, Timestamp>> {
        // A few map operations per critical section: a poisoned lock holds consistent data.
        self.deleted.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records that the endpoints of service `key` are to be deleted, and forgets recorded
    /// deletions whose endpoints never appeared within [`DELETION_TTL`].
    fn record_deletion(&self, key: String) {
        let now = self.clock.now();
        let mut deleted = self.deleted();
        deleted.retain(|k, since| {
            now.saturating_duration_since(*since) <= DELETION_TTL || self.endpoints.get(k).is_some()
        });
        deleted.insert(key, now);
    }
}

/// Runs the endpoints controller against `client` until `shutdown`, on caches of its own.
pub async fn run<C: ApiClient>(client: C, config: EndpointsConfig, shutdown: Shutdown) {
    let informers = SharedInformers::new(client.clone(), config.clock.clone());
    run_with(&informers, client, config, shutdown).await;
    informers.shutdown();
}

/// Runs the endpoints controller on the shared caches of `informers` (started here if they
/// are not yet) until `shutdown`, then drains the reconciles in flight.
pub async fn run_with<C: ApiClient>(
    informers: &SharedInformers<C>,
    client: C,
    config: EndpointsConfig,
    shutdown: Shutdown,
) {
    let all = ListParams::default();
    let services = informers.cache::<Service>(None, &all);
    let pods = informers.cache::<Pod>(None, &all);
    let endpoints = informers.cache::<Endpoints>(None, &all);
    if !services.has_index(index::NAMESPACE) {
        services.add_index(index::NAMESPACE, index::by_namespace::<Service>());
    }
    if !pods.has_index(index::NAMESPACE) {
        pods.add_index(index::NAMESPACE, index::by_namespace::<Pod>());
    }
    let ctx = Arc::new(Context {
        client,
        services: services.clone(),
        pods: pods.clone(),
        endpoints: endpoints.clone(),
        clock: config.clock.clone(),
        deleted: Mutex::new(HashMap::new()),
    });
    let mapped = services.clone();
    let sync = Controller::with_config(
        services.clone(),
        config.clock.clone(),
        config.controller.clone(),
    )
    .watches(pods.clone(), move |p: &Pod| services_of_pod(&mapped, p))
    .watches(endpoints.clone(), |e: &Endpoints| vec![object_key(e)]);
    let cleanup = Controller::with_config(
        endpoints.clone(),
        config.clock,
        ControllerConfig {
            workers: 1,
            ..config.controller
        },
    );
    let cleanup_queue = cleanup.queue();
    // Subscribed before the caches fill, so no deletion is missed.
    let service_events = services.subscribe();
    informers.start();
    tokio::select! {
        _ = async {
            services.wait_until_synced().await;
            pods.wait_until_synced().await;
            endpoints.wait_until_synced().await;
        } => {}
        _ = shutdown.triggered() => return,
    }
    tokio::join!(
        sync.run(
            reconcile::<C>,
            default_error_policy,
            ctx.clone(),
            shutdown.clone()
        ),
        cleanup.run(
            reconcile_deleted::<C>,
            default_error_policy,
            ctx.clone(),
            shutdown.clone()
        ),
        track_deletions(ctx.clone(), service_events, cleanup_queue, shutdown.clone()),
    );
}

/// The services to look at when `pod` changes: every service of its namespace selecting it.
fn services_of_pod(services: &Cache<Service>, pod: &Pod) -> Vec<String> {
    services
        .list_namespace(&pod.metadata.namespace)
        .iter()
        .filter(|s| selects(s, pod))
        .map(|s| object_key(s.as_ref()))
        .collect()
}

/// Brings one service's endpoints in line with the pods it selects.
async fn reconcile<C: ApiClient>(
    service: Arc<Service>,
    ctx: Arc<Context<C>>,
) -> Result<Action, ApiError> {
    let key = object_key(service.as_ref());
    let ns = &service.metadata.namespace;
    let cached = ctx.pods.list_namespace(ns);
    let pods: Vec<&Pod> = cached.iter().map(|p| p.as_ref()).collect();
    let current = ctx.endpoints.get(&key);
    match plan(Some(&service), current.as_deref(), &pods) {
        Plan::Nothing => {}
        Plan::Create(ep) => {
            ctx.client.create(ns, &ep).await?;
            tracing::info!("endpoints controller: created endpoints {key}");
        }
        Plan::Update(ep) => {
            ctx.client.update(ns, &ep).await?;
            tracing::debug!("endpoints controller: updated endpoints {key}");
        }
        Plan::Delete => delete_endpoints(&ctx, ns, &service.metadata.name).await?,
    }
    Ok(Action::await_change())
}

/// Deletes cached endpoints whose service was recorded deleted and is still absent.
async fn reconcile_deleted<C: ApiClient>(
    ep: Arc<Endpoints>,
    ctx: Arc<Context<C>>,
) -> Result<Action, ApiError> {
    let key = object_key(ep.as_ref());
    let service = ctx.services.get(&key);
    if service.is_some() {
        ctx.deleted().remove(&key);
    }
    if service.is_some() || !ctx.deleted().contains_key(&key) {
        return Ok(Action::await_change());
    }
    if plan(None, Some(&ep), &[]) == Plan::Delete {
        delete_endpoints(&ctx, &ep.metadata.namespace, &ep.metadata.name).await?;
    }
    ctx.deleted().remove(&key);
    Ok(Action::await_change())
}

/// Deletes endpoints `ns/name` (already gone counts as deleted).
async fn delete_endpoints<C: ApiClient>(
    ctx: &Context<C>,
    ns: &str,
    name: &str,
) -> Result<(), ApiError> {
    match ctx.client.delete::<Endpoints>(ns, name).await {
        Ok(_) => {
            tracing::info!("endpoints controller: deleted endpoints {ns}/{name} (service gone)");
            Ok(())
        }
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Records service deletions for the cleanup runner and queues their keys there; at start and
/// after a lagged subscription, records every cached endpoints object without a service.
async fn track_deletions<C>(
    ctx: Arc<Context<C>>,
    mut events: broadcast::Receiver<CacheEvent<Service>>,
    queue: WorkQueue<String>,
    shutdown: Shutdown,
) {
    record_leftovers(&ctx, &queue);
    loop {
        let ev = tokio::select! {
            ev = events.recv() => ev,
            _ = shutdown.triggered() => return,
        };
        match ev {
            Ok(CacheEvent::Deleted(s)) => {
                let key = object_key(s.as_ref());
                ctx.record_deletion(key.clone());
                queue.add(key);
            }
            Ok(CacheEvent::Applied { new, .. }) => {
                ctx.deleted().remove(&object_key(new.as_ref()));
            }
            Ok(CacheEvent::Synced) => {}
            Err(RecvError::Lagged(n)) => {
                tracing::debug!("endpoints controller: service events lagged by {n}");
                record_leftovers(&ctx, &queue);
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Records (and queues) every cached endpoints object whose service is not cached.
fn record_leftovers<C>(ctx: &Context<C>, queue: &WorkQueue<String>) {
    for ep in ctx.endpoints.list() {
        let key = object_key(ep.as_ref());
        if ctx.services.get(&key).is_none() {
            tracing::debug!("endpoints controller: endpoints {key} have no service");
            ctx.record_deletion(key.clone());
            queue.add(key);
        }
    }
}
