//! The garbage collector: deletes objects whose owners are all gone, removes dangling owner
//! references, and releases the dependents of owners deleted with `propagationPolicy: Orphan`.
//!
//! Built on the toolkit: one shared cache per served kind ([`SharedInformers`]), each indexed
//! by the uids of its objects' owners, and one [`Controller`] per kind. An object's key is
//! queued when it changes, and when any object it names as owner, or any object naming it as
//! owner, changes or goes. Each reconcile applies kube-core's decisions
//! ([`kube_core::controller::garbage_collector`]):
//! 1. as an **owner** being deleted with the `orphan` finalizer: remove the owner reference to it
//!    from every cached dependent (compare-and-swap updates), then remove the finalizer (which
//!    removes the owner when it was the last one);
//!    As an owner being deleted in the **foreground** (`foregroundDeletion`): once no cached
//!    dependent blocks it (`blockOwnerDeletion`), remove the finalizer; its dependents see it
//!    as gone and delete themselves meanwhile (each one's removal queues the owner again);
//! 2. as a **dependent**: decide from the caches; an owner the caches call absent is confirmed
//!    by a live GET (a missing or re-created owner, with another uid, is absent) before the
//!    dependent is deleted (a plain delete: background propagation, a pod goes graceful) or its
//!    dangling references are removed. Deletes carry the dependent's uid and resourceVersion as
//!    preconditions, so a dependent that changed meanwhile is looked at again, not deleted.
//!
//! Nothing is decided before every cache has synced: an owner a cache has not seen yet is
//! never taken for gone. Errors (a conflict, a failed read) retry the key with backoff.

use crate::client::{ApiClient, ListParams};
use crate::clock::Clock;
use crate::controller::{default_error_policy, Action, Controller, ControllerConfig, Shutdown};
use crate::informer::{key_of, object_key, Cache, SharedInformers};
use futures_util::future::BoxFuture;
use kube_core::controller::garbage_collector::{
    blocks, decide, owner_location, owner_state, releasing, remove_finalizer, remove_references,
    waiting_for_dependents, Decision, OwnerState,
};
use kube_core::deletion::Preconditions;
use kube_core::error::ApiError;
use kube_core::meta::{OwnerReference, FINALIZER_FOREGROUND, FINALIZER_ORPHAN};
use kube_core::{with_resource_type, DeleteOptions, Object, ResourceKind};
use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

/// Name of the cache index of objects by the uids of their owners.
pub const OWNER_UID_INDEX: &str = "metadata.ownerReferences.uid";

/// The kinds collected: every served kind but events, which Kubernetes' collector ignores by
/// default too (they are many, short-lived and owned by nobody).
pub const COLLECTED: [ResourceKind; 6] = [
    ResourceKind::Pods,
    ResourceKind::ReplicationControllers,
    ResourceKind::Services,
    ResourceKind::Endpoints,
    ResourceKind::Nodes,
    ResourceKind::Leases,
];

/// Settings of the garbage collector.
#[derive(Clone, Debug)]
pub struct GarbageCollectorConfig {
    /// The settings of each kind's runner (workers, resync, queue backoff); default 5 workers
    /// per kind.
    pub controller: ControllerConfig,
    /// The source of time.
    pub clock: Clock,
}

impl Default for GarbageCollectorConfig {
    fn default() -> GarbageCollectorConfig {
        GarbageCollectorConfig {
            controller: ControllerConfig {
                workers: 5,
                ..ControllerConfig::default()
            },
            clock: Clock::real(),
        }
    }
}

/// The caches of every served kind, by kind (each a `Cache<T>` of that kind's type).
#[derive(Default)]
struct Caches {
    by_kind: HashMap<ResourceKind, Box<dyn Any + Send + Sync>>,
}

impl Caches {
    fn insert<T: Object>(&mut self, cache: Cache<T>) {
        if !cache.has_index(OWNER_UID_INDEX) {
            cache.add_index(
                OWNER_UID_INDEX,
                Arc::new(|o: &T| {
                    o.meta()
                        .owner_references
                        .iter()
                        .map(|r| r.uid.clone())
                        .collect()
                }),
            );
        }
        self.by_kind.insert(T::RESOURCE, Box::new(cache));
    }

    fn get<T: Object>(&self) -> Option<&Cache<T>> {
        self.by_kind.get(&T::RESOURCE)?.downcast_ref()
    }

    /// The cached objects of kind `T` naming `uid` as an owner.
    fn dependents<T: Object>(&self, uid: &str) -> Vec<Arc<T>> {
        self.get::<T>()
            .and_then(|c| c.by_index(OWNER_UID_INDEX, uid))
            .unwrap_or_default()
    }
}

/// What every reconcile shares.
struct Context<C> {
    client: C,
    caches: Caches,
}

/// Runs the garbage collector against `client` until `shutdown`, on caches of its own.
pub async fn run<C: ApiClient>(client: C, config: GarbageCollectorConfig, shutdown: Shutdown) {
    let informers = SharedInformers::new(client.clone(), config.clock.clone());
    run_with(&informers, client, config, shutdown).await;
    informers.shutdown();
}

/// Runs the garbage collector on the shared caches of `informers` (one per served kind,
/// started here if they are not yet) until `shutdown`, then drains the reconciles in flight.
pub async fn run_with<C: ApiClient>(
    informers: &SharedInformers<C>,
    client: C,
    config: GarbageCollectorConfig,
    shutdown: Shutdown,
) {
    let all = ListParams::default();
    let mut caches = Caches::default();
    for kind in COLLECTED {
        with_resource_type!(kind, T => caches.insert(informers.cache::<T>(None, &all)));
    }
    informers.start();
    // Decide nothing before every cache holds a complete list.
    tokio::select! {
        _ = informers.wait_for_sync() => {}
        _ = shutdown.triggered() => return,
    }
    let ctx = Arc::new(Context { client, caches });
    let mut runs: Vec<BoxFuture<'static, ()>> = Vec::new();
    for kind in COLLECTED {
        with_resource_type!(kind, T => {
            if let Some(c) = controller_of::<T, C>(&ctx, &config) {
                runs.push(Box::pin(c.run(
                    reconcile::<T, C>,
                    default_error_policy,
                    ctx.clone(),
                    shutdown.clone(),
                )));
            }
        });
    }
    futures_util::future::join_all(runs).await;
}

/// The runner of kind `T`: its own changes, and those of every object related to one of its
/// objects as owner or dependent, queue the object.
fn controller_of<T: Object, C: ApiClient>(
    ctx: &Arc<Context<C>>,
    config: &GarbageCollectorConfig,
) -> Option<Controller<T>> {
    let primary = ctx.caches.get::<T>()?.clone();
    let mut controller =
        Controller::with_config(primary, config.clock.clone(), config.controller.clone());
    for kind in COLLECTED {
        controller = with_resource_type!(kind, U => watch_related::<T, U, C>(controller, ctx));
    }
    Some(controller)
}

/// Queues the objects of kind `T` related to each changed object of kind `U`: those naming it
/// as an owner (it may be gone now) and those it names as owners (one may be waiting for its
/// dependents to be released).
fn watch_related<T: Object, U: Object, C: ApiClient>(
    controller: Controller<T>,
    ctx: &Arc<Context<C>>,
) -> Controller<T> {
    let Some(related) = ctx.caches.get::<U>().cloned() else {
        return controller;
    };
    let Some(primary) = ctx.caches.get::<T>().cloned() else {
        return controller;
    };
    controller.watches(related, move |u: &U| {
        let m = u.meta();
        let mut keys: Vec<String> = primary
            .by_index(OWNER_UID_INDEX, &m.uid)
            .unwrap_or_default()
            .iter()
            .map(|d| object_key(d.as_ref()))
            .collect();
        for r in &m.owner_references {
            if let Some((kind, ns)) = owner_location(r, &m.namespace) {
                if kind == T::RESOURCE {
                    keys.push(key_of(&ns, &r.name));
                }
            }
        }
        keys
    })
}

/// Looks at one object as an owner (release its dependents when it orphans them) and as a
/// dependent (delete it, or remove its dangling references).
async fn reconcile<T: Object, C: ApiClient>(
    obj: Arc<T>,
    ctx: Arc<Context<C>>,
) -> Result<Action, ApiError> {
    if releasing(obj.meta()) {
        release_dependents(obj.as_ref(), &ctx).await?;
    }
    if waiting_for_dependents(obj.meta()) {
        finish_foreground(obj.as_ref(), &ctx).await?;
    }
    collect(obj.as_ref(), &ctx).await?;
    Ok(Action::await_change())
}

/// Removes the owner reference to `owner` from each of its cached dependents, then the
/// owner's `orphan` finalizer.
async fn release_dependents<T: Object, C: ApiClient>(
    owner: &T,
    ctx: &Context<C>,
) -> Result<(), ApiError> {
    let uid = owner.meta().uid.clone();
    for kind in COLLECTED {
        with_resource_type!(kind, U => {
            for d in ctx.caches.dependents::<U>(&uid) {
                remove_owner_references(ctx, d.as_ref(), std::slice::from_ref(&uid)).await?;
            }
        });
    }
    let mut updated = owner.clone();
    if remove_finalizer(updated.meta_mut(), FINALIZER_ORPHAN) {
        let m = updated.meta();
        tracing::info!(
            "garbage collector: released the dependents of {} {}",
            T::RESOURCE.info().kind,
            key_of(&m.namespace, &m.name)
        );
        ignore_not_found(ctx.client.update(&m.namespace, &updated).await)?;
    }
    Ok(())
}

/// Removes the `foregroundDeletion` finalizer of `owner` once no cached dependent blocks it.
async fn finish_foreground<T: Object, C: ApiClient>(
    owner: &T,
    ctx: &Context<C>,
) -> Result<(), ApiError> {
    let uid = owner.meta().uid.as_str();
    for kind in COLLECTED {
        let blocked = with_resource_type!(kind, U => ctx
            .caches
            .dependents::<U>(uid)
            .iter()
            .any(|d| blocks(d.meta(), uid)));
        if blocked {
            return Ok(());
        }
    }
    let mut updated = owner.clone();
    if remove_finalizer(updated.meta_mut(), FINALIZER_FOREGROUND) {
        let m = updated.meta();
        tracing::info!(
            "garbage collector: the dependents of {} {} are gone",
            T::RESOURCE.info().kind,
            key_of(&m.namespace, &m.name)
        );
        ignore_not_found(ctx.client.update(&m.namespace, &updated).await)?;
    }
    Ok(())
}

/// Applies kube-core's decision on `obj` as a dependent, after confirming by live reads every
/// owner the caches call absent.
async fn collect<T: Object, C: ApiClient>(obj: &T, ctx: &Context<C>) -> Result<(), ApiError> {
    let meta = obj.meta();
    let cached = |r: &OwnerReference| cached_owner_state(ctx, r, &meta.namespace);
    if decide(meta, cached) == Decision::Keep {
        return Ok(());
    }
    let mut confirmed: HashMap<String, OwnerState> = HashMap::new();
    for r in &meta.owner_references {
        let state = match cached(r) {
            OwnerState::Absent => live_owner_state(ctx, r, &meta.namespace).await?,
            s => s,
        };
        confirmed.insert(r.uid.clone(), state);
    }
    let decision = decide(meta, |r| {
        confirmed
            .get(&r.uid)
            .copied()
            .unwrap_or(OwnerState::Unknown)
    });
    let kind = T::RESOURCE.info().kind;
    let key = object_key(obj);
    match decision {
        Decision::Keep => Ok(()),
        Decision::Delete => {
            tracing::info!("garbage collector: deleting {kind} {key}, its owners are gone");
            let options = DeleteOptions {
                preconditions: Some(Preconditions {
                    uid: Some(meta.uid.clone()),
                    resource_version: Some(meta.resource_version.clone())
                        .filter(|rv| !rv.is_empty()),
                }),
                ..DeleteOptions::default()
            };
            ignore_not_found(
                ctx.client
                    .delete_with::<T>(&meta.namespace, &meta.name, &options)
                    .await,
            )
        }
        Decision::RemoveReferences(uids) => {
            tracing::info!("garbage collector: removing owner references {uids:?} of {kind} {key}");
            remove_owner_references(ctx, obj, &uids).await
        }
    }
}

/// The state of the owner `r` names, from the caches.
fn cached_owner_state<C>(ctx: &Context<C>, r: &OwnerReference, namespace: &str) -> OwnerState {
    let Some((kind, ns)) = owner_location(r, namespace) else {
        return OwnerState::Unknown;
    };
    let key = key_of(&ns, &r.name);
    with_resource_type!(kind, U => match ctx.caches.get::<U>() {
        Some(cache) => owner_state(r, cache.get(&key).as_deref().map(|o| o.meta())),
        None => OwnerState::Unknown,
    })
}

/// The state of the owner `r` names, read from the API server.
async fn live_owner_state<C: ApiClient>(
    ctx: &Context<C>,
    r: &OwnerReference,
    namespace: &str,
) -> Result<OwnerState, ApiError> {
    let Some((kind, ns)) = owner_location(r, namespace) else {
        return Ok(OwnerState::Unknown);
    };
    with_resource_type!(kind, U => match ctx.client.get::<U>(&ns, &r.name).await {
        Ok(owner) => Ok(owner_state(r, Some(owner.meta()))),
        Err(e) if e.is_not_found() => Ok(OwnerState::Absent),
        Err(e) => Err(e),
    })
}

/// Removes the owner references with `uids` from `obj` (a compare-and-swap update against
/// the cached version; a conflict fails the reconcile, retried on a newer cache).
async fn remove_owner_references<T: Object, C: ApiClient>(
    ctx: &Context<C>,
    obj: &T,
    uids: &[String],
) -> Result<(), ApiError> {
    let mut updated = obj.clone();
    if !remove_references(updated.meta_mut(), uids) {
        return Ok(());
    }
    let ns = updated.meta().namespace.clone();
    ignore_not_found(ctx.client.update(&ns, &updated).await)
}

/// `Ok` for a success or a 404 (the object is already gone).
fn ignore_not_found<T>(r: Result<T, ApiError>) -> Result<(), ApiError> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}
