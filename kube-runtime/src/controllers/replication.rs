//! The replication controller: keeps `spec.replicas` active pods matching each RC's selector.
//!
//! Built on the toolkit: shared caches of RCs and pods ([`SharedInformers`]), the
//! [`Controller`] runner (an RC's key is queued when it changes, when one of its pods changes,
//! and when an orphan it selects appears), and the pure plan of
//! [`kube_core::controller::replication`]. Each reconcile:
//! 1. prunes the RC's [`Expectations`] (the pods it created or deleted and has not yet seen so
//!    in the cache), then plans;
//! 2. adopts and releases pods (a compare-and-swap update of their owner references);
//! 3. creates pods in slow-start batches (1, 2, 4, …, at most 500 per sync), stopping at the
//!    first error; deletes pods (graceful deletion: a deleted bound pod turns terminating,
//!    which no longer counts);
//! 4. writes the status when it changed.
//!
//! Errors (a conflict, a failed create) fail the reconcile: the runner retries the key with
//! backoff, by which time the cache is newer. Expectations make sure a slow watch never leads
//! to creating or deleting twice.

use crate::client::{ApiClient, ListParams};
use crate::clock::Clock;
use crate::controller::{default_error_policy, Action, Controller, ControllerConfig, Shutdown};
use crate::informer::{index, key_of, object_key, Cache, SharedInformers};
use kube_core::controller::replication::{
    is_owned_by, plan, selector, slow_start_batches, Expectations,
};
use kube_core::error::ApiError;
use kube_core::meta::controller_reference;
use kube_core::rand::SplitMix64;
use kube_core::{Pod, ReplicationController};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Settings of the replication controller.
#[derive(Clone, Debug)]
pub struct ReplicationConfig {
    /// The runner's settings (workers, resync, queue backoff).
    pub controller: ControllerConfig,
    /// Seed of the random source of pod names.
    pub seed: u64,
    /// The source of time.
    pub clock: Clock,
}

impl Default for ReplicationConfig {
    fn default() -> ReplicationConfig {
        ReplicationConfig {
            controller: ControllerConfig {
                workers: 5,
                ..ControllerConfig::default()
            },
            seed: 0x5eed_0009,
            clock: Clock::real(),
        }
    }
}

/// What every reconcile shares: the client, the pod cache, expectations and the name source.
struct Context<C> {
    client: C,
    pods: Cache<Pod>,
    clock: Clock,
    expectations: Mutex<HashMap<String, Expectations>>,
    rng: Mutex<SplitMix64>,
}

impl<C> Context<C> {
    fn expectations(&self) -> MutexGuard<'_, HashMap<String, Expectations>> {
        // A few map operations per critical section: a poisoned lock holds consistent data.
        self.expectations.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs the replication controller against `client` until `shutdown`, on caches of its own.
pub async fn run<C: ApiClient>(client: C, config: ReplicationConfig, shutdown: Shutdown) {
    let informers = SharedInformers::new(client.clone(), config.clock.clone());
    run_with(&informers, client, config, shutdown).await;
    informers.shutdown();
}

/// Runs the replication controller on the shared caches of `informers` (started here if they
/// are not yet) until `shutdown`, then drains the reconciles in flight.
pub async fn run_with<C: ApiClient>(
    informers: &SharedInformers<C>,
    client: C,
    config: ReplicationConfig,
    shutdown: Shutdown,
) {
    let all = ListParams::default();
    let rcs = informers.cache::<ReplicationController>(None, &all);
    let pods = informers.cache::<Pod>(None, &all);
    if !pods.has_index(index::NAMESPACE) {
        pods.add_index(index::NAMESPACE, index::by_namespace::<Pod>());
    }
    if !pods.has_index(index::CONTROLLER) {
        pods.add_index(index::CONTROLLER, index::by_controller::<Pod>());
    }
    let ctx = Arc::new(Context {
        client,
        pods: pods.clone(),
        clock: config.clock.clone(),
        expectations: Mutex::new(HashMap::new()),
        rng: Mutex::new(SplitMix64::new(config.seed)),
    });
    let controller = Controller::with_config(rcs.clone(), config.clock, config.controller)
        .watches(pods, move |p: &Pod| rcs_of_pod(&rcs, p));
    informers.start();
    controller
        .run(reconcile::<C>, default_error_policy, ctx, shutdown)
        .await;
}

/// The RCs to look at when `pod` changes: its controller if it has one, else every RC of its
/// namespace selecting it (a candidate for adoption).
fn rcs_of_pod(rcs: &Cache<ReplicationController>, pod: &Pod) -> Vec<String> {
    let m = &pod.metadata;
    if let Some(r) = m.controller_ref() {
        return if r.kind == "ReplicationController" {
            vec![key_of(&m.namespace, &r.name)]
        } else {
            Vec::new()
        };
    }
    rcs.list_namespace(&m.namespace)
        .iter()
        .filter(|rc| selector(rc).is_some_and(|s| s.matches(&m.labels)))
        .map(|rc| object_key(rc.as_ref()))
        .collect()
}

/// Brings one RC's pods and status in line with its spec.
async fn reconcile<C: ApiClient>(
    rc: Arc<ReplicationController>,
    ctx: Arc<Context<C>>,
) -> Result<Action, ApiError> {
    let key = object_key(rc.as_ref());
    let ns = rc.metadata.namespace.clone();
    // Its own pods and the orphans of its namespace: pods of other controllers play no part
    // in the plan, and reading only these keeps a sync independent of the namespace's size.
    let mut cached = ctx
        .pods
        .by_index(
            index::CONTROLLER,
            &index::controller_key(&ns, &rc.metadata.uid),
        )
        .unwrap_or_default();
    cached.extend(
        ctx.pods
            .by_index(index::CONTROLLER, &index::controller_key(&ns, ""))
            .unwrap_or_default(),
    );
    let pods: Vec<&Pod> = cached.iter().map(|p| p.as_ref()).collect();
    let now = ctx.clock.now();
    let the_plan = {
        let mut all = ctx.expectations();
        let exp = all.entry(key.clone()).or_default();
        exp.observe(&pods, now);
        let mut rng = ctx.rng.lock().unwrap_or_else(|e| e.into_inner());
        let p = plan(&rc, &pods, exp, now, &mut *rng);
        exp.expect_creates(p.create.iter().map(|p| p.metadata.name.as_str()), now);
        exp.expect_deletes(p.delete.iter().map(String::as_str), now);
        if exp.satisfied() {
            // Nothing pending: keep no entry (an RC deleted later leaves none behind).
            all.remove(&key);
        }
        p
    };
    for name in &the_plan.adopt {
        set_controller(&ctx, &rc, &ns, name, true).await?;
    }
    for name in &the_plan.release {
        set_controller(&ctx, &rc, &ns, name, false).await?;
    }
    let created = create_pods(&ctx, &key, &ns, &the_plan.create).await;
    let deleted = delete_pods(&ctx, &key, &ns, &the_plan.delete).await;
    if the_plan.status != rc.status {
        let mut updated = (*rc).clone();
        updated.status = the_plan.status.clone();
        ctx.client.update_status(&ns, &updated).await?;
    }
    created?;
    deleted?;
    Ok(Action::await_change())
}

/// Adds (`adopt`) or removes the RC's controller reference on pod `name`.
async fn set_controller<C: ApiClient>(
    ctx: &Context<C>,
    rc: &ReplicationController,
    ns: &str,
    name: &str,
    adopt: bool,
) -> Result<(), ApiError> {
    let Some(cached) = ctx.pods.get(&key_of(ns, name)) else {
        return Ok(());
    };
    let mut pod = (*cached).clone();
    if adopt {
        if pod.metadata.controller_ref().is_some() {
            return Ok(());
        }
        pod.metadata.owner_references.push(controller_reference(rc));
    } else {
        if !is_owned_by(&pod, rc) {
            return Ok(());
        }
        pod.metadata
            .owner_references
            .retain(|r| r.uid != rc.metadata.uid);
    }
    match ctx.client.update(ns, &pod).await {
        Ok(_) => {
            let verb = if adopt { "adopted" } else { "released" };
            tracing::info!(
                "replication controller {ns}/{} {verb} pod {name}",
                rc.metadata.name
            );
            Ok(())
        }
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates `pods` in slow-start batches, stopping at the first error; the creates that failed
/// or were never sent are dropped from the expectations.
async fn create_pods<C: ApiClient>(
    ctx: &Context<C>,
    key: &str,
    ns: &str,
    pods: &[Pod],
) -> Result<(), ApiError> {
    let mut next = 0;
    let mut failure = None;
    for size in slow_start_batches(pods.len()) {
        let batch = &pods[next..next + size];
        next += size;
        let results =
            futures_util::future::join_all(batch.iter().map(|p| ctx.client.create(ns, p))).await;
        for (pod, r) in batch.iter().zip(results) {
            if let Err(e) = r {
                tracing::warn!(
                    "replication controller {key}: create of pod {} failed: {e}",
                    pod.metadata.name
                );
                ctx.expectations()
                    .entry(key.to_string())
                    .or_default()
                    .create_failed(&pod.metadata.name);
                failure.get_or_insert(e);
            }
        }
        if failure.is_some() {
            break;
        }
    }
    if let Some(e) = failure {
        let mut all = ctx.expectations();
        let exp = all.entry(key.to_string()).or_default();
        for p in &pods[next..] {
            exp.create_failed(&p.metadata.name);
        }
        return Err(e);
    }
    Ok(())
}

/// Deletes the pods named `names` (a pod already gone counts as deleted); the deletes that
/// failed are dropped from the expectations.
async fn delete_pods<C: ApiClient>(
    ctx: &Context<C>,
    key: &str,
    ns: &str,
    names: &[String],
) -> Result<(), ApiError> {
    let results =
        futures_util::future::join_all(names.iter().map(|n| ctx.client.delete::<Pod>(ns, n))).await;
    let mut failure = None;
    for (name, r) in names.iter().zip(results) {
        match r {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                tracing::warn!("replication controller {key}: delete of pod {name} failed: {e}");
                ctx.expectations()
                    .entry(key.to_string())
                    .or_default()
                    .delete_failed(name);
                failure.get_or_insert(e);
            }
        }
    }
    failure.map_or(Ok(()), Err)
}
