//! Informers: list, then watch, keeping a cache and reporting every change.
//!
//! Level-triggered, as client-go's reflector: the informer lists (remembering the
//! revision), watches from that revision, and when the watch answers 410 (history
//! compacted) it relists and reports the difference against its cache, so a consumer
//! never misses a change even across compaction or a lost connection.

pub mod reflector;
pub mod shared;
pub mod watcher;

pub use reflector::{index, key_of, object_key, Cache, CacheEvent, IndexFn, Writer};
pub use shared::SharedInformers;
pub use watcher::{Watcher, WatcherEvent};

use crate::client::{ApiClient, ListParams};
use kube_core::store::Revision;
use kube_core::watch::WatchEventType;
use kube_core::Object;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;

/// One change seen by an informer.
#[derive(Clone, Debug, PartialEq)]
pub enum Change<T> {
    /// The object appeared.
    Added(T),
    /// The object changed from `old` to `new`.
    Modified {
        /// The cached state before.
        old: T,
        /// The new state.
        new: T,
    },
    /// The object disappeared (its last known state).
    Deleted(T),
    /// The initial list (and every relist) has been reported.
    Synced,
}

/// The changes that turn the cached `old` objects into the `fresh` list (by resourceVersion).
pub fn diff<T: Object>(old: &HashMap<String, T>, fresh: &HashMap<String, T>) -> Vec<Change<T>> {
    let mut out = Vec::new();
    for (key, new) in fresh {
        match old.get(key) {
            None => out.push(Change::Added(new.clone())),
            Some(o) if o.meta().resource_version != new.meta().resource_version => {
                out.push(Change::Modified {
                    old: o.clone(),
                    new: new.clone(),
                })
            }
            Some(_) => {}
        }
    }
    for (key, o) in old {
        if !fresh.contains_key(key) {
            out.push(Change::Deleted(o.clone()));
        }
    }
    out
}

/// Lists and watches one resource and sends every change to a channel.
pub struct Informer<C> {
    client: C,
    namespace: Option<String>,
    params: ListParams,
    retry_delay: Duration,
}

impl<C: ApiClient> Informer<C> {
    /// An informer over every namespace.
    pub fn new(client: C, params: ListParams) -> Informer<C> {
        Informer {
            client,
            namespace: None,
            params,
            retry_delay: Duration::from_millis(500),
        }
    }

    /// Runs until the receiver is dropped. Transport errors are retried after a delay.
    pub async fn run<T: Object>(self, tx: mpsc::UnboundedSender<Change<T>>) {
        let mut cache: HashMap<String, T> = HashMap::new();
        loop {
            if tx.is_closed() {
                return;
            }
            let rv = match self.relist(&mut cache, &tx).await {
                Ok(rv) => rv,
                Err(()) => {
                    tokio::time::sleep(self.retry_delay).await;
                    continue;
                }
            };
            if tx.send(Change::Synced).is_err() {
                return;
            }
            self.watch_from(rv, &mut cache, &tx).await;
            if tx.is_closed() {
                return;
            }
        }
    }

    /// Lists, reports the difference against the cache, and returns the list's revision.
    async fn relist<T: Object>(
        &self,
        cache: &mut HashMap<String, T>,
        tx: &mpsc::UnboundedSender<Change<T>>,
    ) -> Result<Revision, ()> {
        let list = match self
            .client
            .list::<T>(self.namespace.as_deref(), &self.params)
            .await
        {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!("list {} failed: {e}", T::RESOURCE.info().plural);
                return Err(());
            }
        };
        let rv = list
            .metadata
            .resource_version
            .parse::<Revision>()
            .unwrap_or(0);
        let mut fresh: HashMap<String, T> = HashMap::with_capacity(list.items.len());
        for obj in list.items {
            fresh.insert(object_key(&obj), obj);
        }
        let old = std::mem::take(cache);
        for change in diff(&old, &fresh) {
            let _ = tx.send(change);
        }
        *cache = fresh;
        Ok(rv)
    }

    /// Watches from `rv` until the stream ends or fails; returns to relist on 410.
    async fn watch_from<T: Object>(
        &self,
        mut rv: Revision,
        cache: &mut HashMap<String, T>,
        tx: &mpsc::UnboundedSender<Change<T>>,
    ) {
        loop {
            let mut w = match self
                .client
                .watch::<T>(self.namespace.as_deref(), &self.params, rv)
                .await
            {
                Ok(w) => w,
                Err(e) if e.is_gone() => return,
                Err(e) => {
                    tracing::warn!("watch {} failed: {e}", T::RESOURCE.info().plural);
                    tokio::time::sleep(self.retry_delay).await;
                    continue;
                }
            };
            loop {
                match w.next().await {
                    None => break,
                    Some(Err(e)) if e.is_gone() => return,
                    Some(Err(e)) => {
                        tracing::warn!("watch {} broke: {e}", T::RESOURCE.info().plural);
                        tokio::time::sleep(self.retry_delay).await;
                        break;
                    }
                    Some(Ok(ev)) => {
                        if let Ok(r) = ev.object.meta().resource_version.parse::<Revision>() {
                            rv = rv.max(r);
                        }
                        let key = object_key(&ev.object);
                        let change = match ev.type_ {
                            WatchEventType::Deleted => {
                                cache.remove(&key).map(|_| Change::Deleted(ev.object))
                            }
                            _ => match cache.insert(key, ev.object.clone()) {
                                Some(old) => Some(Change::Modified {
                                    old,
                                    new: ev.object,
                                }),
                                None => Some(Change::Added(ev.object)),
                            },
                        };
                        if let Some(c) = change {
                            if tx.send(c).is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_core::Pod;

    fn pod(name: &str, rv: &str) -> (String, Pod) {
        let mut p = Pod::default();
        p.metadata.name = name.into();
        p.metadata.namespace = "ns".into();
        p.metadata.resource_version = rv.into();
        (object_key(&p), p)
    }

    fn summary(changes: Vec<Change<Pod>>) -> Vec<String> {
        let mut out: Vec<String> = changes
            .into_iter()
            .map(|c| match c {
                Change::Added(p) => format!("+{}@{}", p.metadata.name, p.metadata.resource_version),
                Change::Modified { old, new } => format!(
                    "~{}@{}->{}",
                    new.metadata.name, old.metadata.resource_version, new.metadata.resource_version
                ),
                Change::Deleted(p) => {
                    format!("-{}@{}", p.metadata.name, p.metadata.resource_version)
                }
                Change::Synced => "synced".into(),
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn relist_reports_the_difference() {
        // (cached (name, rv) pairs, listed pairs, expected changes)
        type Case<'a> = (
            Vec<(&'a str, &'a str)>,
            Vec<(&'a str, &'a str)>,
            Vec<&'a str>,
        );
        let cases: Vec<Case> = vec![
            (vec![], vec![("a", "1")], vec!["+a@1"]),
            (vec![("a", "1")], vec![], vec!["-a@1"]),
            (vec![("a", "1")], vec![("a", "1")], vec![]),
            (vec![("a", "1")], vec![("a", "5")], vec!["~a@1->5"]),
            (
                vec![("a", "1"), ("b", "2")],
                vec![("b", "2"), ("c", "9")],
                vec!["+c@9", "-a@1"],
            ),
        ];
        for (old, fresh, want) in cases {
            let old: HashMap<String, Pod> = old.iter().map(|(n, rv)| pod(n, rv)).collect();
            let fresh: HashMap<String, Pod> = fresh.iter().map(|(n, rv)| pod(n, rv)).collect();
            assert_eq!(summary(diff(&old, &fresh)), want);
        }
    }

    #[test]
    fn keys_are_namespaced() {
        let (key, _) = pod("a", "1");
        assert_eq!(key, "ns/a");
        let mut node = kube_core::Node::default();
        node.metadata.name = "n1".into();
        assert_eq!(object_key(&node), "n1");
    }
}
