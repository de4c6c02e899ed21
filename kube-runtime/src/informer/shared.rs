//! [`SharedInformers`]: one watcher and one cache per (resource, namespace, selectors), shared by
//! every consumer (client-go's `SharedInformerFactory`).
//!
//! `cache::<Pod>(None, &params)` returns the same [`Cache`] to every caller asking for the same
//! resource, namespace and selectors; the first caller creates it, and its [`Watcher`] runs from
//! [`SharedInformers::start`] (or at once, for caches asked for after `start`). Ten controllers
//! watching pods therefore open one watch, not ten, and share one copy of every pod.

use super::reflector::{Cache, Writer};
use super::watcher::Watcher;
use crate::client::{ApiClient, ListParams};
use crate::clock::Clock;
use kube_core::Object;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::task::JoinHandle;

type Key = (TypeId, Option<String>, ListParams);
type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

struct Entry {
    /// The `Cache<T>` handed out.
    cache: Box<dyn Any + Send + Sync>,
    /// Starts the watcher (taken when started).
    start: Option<Box<dyn FnOnce() -> BoxFuture + Send>>,
    /// Waits until the cache is synced.
    synced: Box<dyn Fn() -> BoxFuture + Send + Sync>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    tasks: Vec<JoinHandle<()>>,
    started: bool,
}

/// A factory of shared caches over one client; cheap to clone (clones share everything).
#[derive(Clone)]
pub struct SharedInformers<C> {
    client: C,
    clock: Clock,
    inner: Arc<Mutex<Inner>>,
    watches_opened: Arc<AtomicU64>,
}

impl<C: ApiClient> SharedInformers<C> {
    /// A factory over `client`, timing retries on `clock`.
    pub fn new(client: C, clock: Clock) -> SharedInformers<C> {
        SharedInformers {
            client,
            clock,
            inner: Arc::new(Mutex::new(Inner::default())),
            watches_opened: Arc::new(AtomicU64::new(0)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every critical section is a few map operations: a poisoned lock holds consistent data.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The shared cache of `T` in `namespace` (every namespace when `None`) matching `params`.
    pub fn cache<T: Object>(&self, namespace: Option<&str>, params: &ListParams) -> Cache<T> {
        let key: Key = (
            TypeId::of::<T>(),
            namespace.map(str::to_string),
            params.clone(),
        );
        let mut inner = self.lock();
        if let Some(cache) = inner
            .entries
            .get(&key)
            .and_then(|e| e.cache.downcast_ref::<Cache<T>>())
        {
            return cache.clone();
        }
        let writer = Writer::<T>::new();
        let cache = writer.cache();
        let watcher = Watcher::<C, T>::new(
            self.client.clone(),
            key.1.clone(),
            params.clone(),
            self.clock.clone(),
        )
        .with_watch_counter(self.watches_opened.clone());
        let start: Box<dyn FnOnce() -> BoxFuture + Send> =
            Box::new(move || Box::pin(watcher.reflect(writer)));
        let reader = cache.clone();
        let synced: Box<dyn Fn() -> BoxFuture + Send + Sync> = Box::new(move || {
            let c = reader.clone();
            Box::pin(async move { c.wait_until_synced().await })
        });
        let mut entry = Entry {
            cache: Box::new(cache.clone()),
            start: Some(start),
            synced,
        };
        if inner.started {
            if let Some(f) = entry.start.take() {
                inner.tasks.push(tokio::spawn(f()));
            }
        }
        inner.entries.insert(key, entry);
        cache
    }

    /// Starts the watcher of every cache asked for so far; later caches start when asked for.
    pub fn start(&self) {
        let mut inner = self.lock();
        inner.started = true;
        let starts: Vec<_> = inner
            .entries
            .values_mut()
            .filter_map(|e| e.start.take())
            .collect();
        for f in starts {
            inner.tasks.push(tokio::spawn(f()));
        }
    }

    /// Waits until every cache asked for so far holds a complete list.
    pub async fn wait_for_sync(&self) {
        let waits: Vec<BoxFuture> = self.lock().entries.values().map(|e| (e.synced)()).collect();
        for w in waits {
            w.await;
        }
    }

    /// Stops every watcher (the caches keep their last content).
    pub fn shutdown(&self) {
        let mut inner = self.lock();
        inner.started = false;
        for t in inner.tasks.drain(..) {
            t.abort();
        }
    }

    /// How many watchers run (one per distinct resource, namespace and selectors).
    pub fn watchers(&self) -> usize {
        self.lock().tasks.len()
    }

    /// How many watches the watchers have opened so far (re-opens included).
    pub fn watches_opened(&self) -> u64 {
        self.watches_opened.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::InProcessClient;
    use crate::registry::Registry;
    use crate::store::MemoryStore;
    use kube_core::{Node, Pod};

    fn pod(name: &str, app: &str) -> Pod {
        let mut p = Pod::default();
        p.metadata.name = name.into();
        p.metadata.labels.insert("app".into(), app.into());
        p.spec.containers.push(kube_core::pod::Container {
            name: "c".into(),
            image: "busybox".into(),
            ..Default::default()
        });
        p
    }

    #[tokio::test]
    async fn ten_consumers_share_one_watch_and_one_cache() {
        let registry = Registry::new(Arc::new(MemoryStore::new()));
        registry
            .create("default", pod("a", "web"))
            .await
            .expect("create");
        registry
            .create("default", pod("b", "db"))
            .await
            .expect("create");
        let informers = SharedInformers::new(InProcessClient::new(registry.clone()), Clock::real());
        let caches: Vec<Cache<Pod>> = (0..10)
            .map(|_| informers.cache::<Pod>(None, &ListParams::default()))
            .collect();
        let web = informers.cache::<Pod>(None, &ListParams::labels("app=web"));
        let other_ns = informers.cache::<Pod>(Some("other"), &ListParams::default());
        let nodes = informers.cache::<Node>(None, &ListParams::default());
        informers.start();
        informers.wait_for_sync().await;
        assert_eq!(
            informers.watchers(),
            4,
            "one per distinct resource, namespace and selector"
        );
        assert_eq!(caches[0].len(), 2);
        assert_eq!(web.len(), 1);
        assert_eq!(other_ns.len(), 0);
        assert_eq!(nodes.len(), 0);
        // Every consumer reads the very same objects.
        let a0 = caches[0].get("default/a").expect("cached");
        for c in &caches[1..] {
            assert!(Arc::ptr_eq(&a0, &c.get("default/a").expect("cached")));
        }
        registry
            .create("default", pod("c", "web"))
            .await
            .expect("create");
        let mut rx = caches[9].subscribe();
        while caches[9].len() < 3 {
            rx.recv().await.expect("event");
        }
        assert_eq!(caches[0].len(), 3);
        assert_eq!(
            informers.watches_opened(),
            4,
            "ten pod consumers opened one watch"
        );
        // A cache asked for after start starts at once.
        let late = informers.cache::<Pod>(None, &ListParams::labels("app=db"));
        late.wait_until_synced().await;
        assert_eq!(late.len(), 1);
        informers.shutdown();
        assert_eq!(informers.watchers(), 0);
    }
}
