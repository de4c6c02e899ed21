//! A minimal list+watch loop filling the pod cache.
//!
//! Local to this example until the shared informers (`kube_runtime::informer::watcher` and
//! `shared`) are available to it: list, replace the cache, watch from the list's revision, and
//! on any watch error or end list again, after a [`Backoff`] step when a call failed.

use kube_core::backoff::Backoff;
use kube_core::rand::SplitMix64;
use kube_core::store::Revision;
use kube_core::watch::WatchEventType;
use kube_core::Pod;
use kube_runtime::client::{ApiClient, ListParams};
use kube_runtime::clock::Clock;
use kube_runtime::controller::Shutdown;
use kube_runtime::informer::reflector::{object_key, Writer};

/// Keeps `pods` in step with the API until `shutdown`.
pub async fn list_and_watch<C: ApiClient>(
    client: C,
    pods: Writer<Pod>,
    clock: Clock,
    shutdown: Shutdown,
) {
    let params = ListParams::default();
    let mut backoff = Backoff::watch();
    let mut rng = SplitMix64::new(0x6e6f6465);
    loop {
        let failed = tokio::select! {
            failed = sync_once(&client, &pods, &params, &mut backoff) => failed,
            _ = shutdown.triggered() => return,
        };
        if failed {
            tokio::select! {
                _ = clock.sleep(backoff.next_delay(&mut rng)) => {}
                _ = shutdown.triggered() => return,
            }
        }
    }
}

/// One list and the watch after it; returns whether it ended on a failed call.
async fn sync_once<C: ApiClient>(
    client: &C,
    pods: &Writer<Pod>,
    params: &ListParams,
    backoff: &mut Backoff,
) -> bool {
    let list = match client.list::<Pod>(None, params).await {
        Ok(list) => list,
        Err(e) => {
            tracing::warn!("list pods failed: {e}");
            return true;
        }
    };
    let rv: Revision = list.metadata.resource_version.parse().unwrap_or(0);
    pods.replace(list.items);
    let mut watch = match client.watch::<Pod>(None, params, rv).await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!("watch pods failed: {e}");
            return true;
        }
    };
    backoff.reset();
    loop {
        match watch.next().await {
            None => return false,
            Some(Err(e)) => {
                tracing::debug!("pod watch ended: {e}; relisting");
                return !e.is_gone();
            }
            Some(Ok(ev)) => match ev.type_ {
                WatchEventType::Deleted => {
                    pods.delete(&object_key(&ev.object));
                }
                _ => {
                    pods.apply(ev.object);
                }
            },
        }
    }
}
