//! Where a kubelet learns of its pods.
//!
//! A kubelet of its own process watches `spec.nodeName=<node>` ([`PodSource::own`]). Many
//! simulated kubelets in one process (hollow nodes) instead share one cache of every pod,
//! indexed by node, and one routing task that hands each change to the kubelet of the pod's
//! node ([`SharedPods`]): N kubelets then cost one watch, not N, and a change costs one
//! lookup, not N filters.

use crate::client::{ApiClient, ListParams};
use crate::controller::Shutdown;
use crate::informer::{index, Cache, CacheEvent, SharedInformers};
use kube_core::pod::Pod;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc};

/// What a kubelet's main loop hears about its pods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PodSignal {
    /// The pod with this UID changed (added, modified or deleted).
    Changed(String),
    /// Anything may have changed: look at every pod.
    All,
}

/// The pods of one kubelet's node: a cache view and the stream of its changes.
pub struct PodSource {
    view: PodView,
    events: PodEvents,
}

/// A read-only view of one node's pods.
#[derive(Clone)]
pub(crate) enum PodView {
    /// A cache holding exactly this node's pods.
    Own(Cache<Pod>),
    /// A cache of every pod, with the node-name index.
    Shared { cache: Cache<Pod>, node: String },
}

enum PodEvents {
    Own(broadcast::Receiver<CacheEvent<Pod>>),
    Routed(mpsc::UnboundedReceiver<PodSignal>),
}

impl PodSource {
    /// This node's pods from a watch of its own (`spec.nodeName=<node>`) on `informers`.
    /// Subscribes before returning, so start the informers afterwards.
    pub fn own<C: ApiClient>(informers: &SharedInformers<C>, node: &str) -> PodSource {
        let cache =
            informers.cache::<Pod>(None, &ListParams::fields(format!("spec.nodeName={node}")));
        let events = PodEvents::Own(cache.subscribe());
        PodSource {
            view: PodView::Own(cache),
            events,
        }
    }

    /// The view and the event stream, for the kubelet's main loop.
    pub(crate) fn split(self) -> (PodView, PodEventStream) {
        (self.view, PodEventStream(self.events))
    }
}

/// The changes to one node's pods.
pub(crate) struct PodEventStream(PodEvents);

impl PodEventStream {
    /// The next change; `None` once the source is gone.
    pub async fn next(&mut self) -> Option<PodSignal> {
        match &mut self.0 {
            PodEvents::Own(rx) => match rx.recv().await {
                Ok(CacheEvent::Applied { new, .. }) => {
                    Some(PodSignal::Changed(new.metadata.uid.clone()))
                }
                Ok(CacheEvent::Deleted(old)) => Some(PodSignal::Changed(old.metadata.uid.clone())),
                Ok(CacheEvent::Synced) | Err(RecvError::Lagged(_)) => Some(PodSignal::All),
                Err(RecvError::Closed) => None,
            },
            PodEvents::Routed(rx) => rx.recv().await,
        }
    }
}

impl PodView {
    /// The node's pods.
    pub fn list(&self) -> Vec<Arc<Pod>> {
        match self {
            PodView::Own(c) => c.list(),
            PodView::Shared { cache, node } => {
                cache.by_index(index::NODE_NAME, node).unwrap_or_default()
            }
        }
    }

    /// The node's pod with this UID.
    pub fn by_uid(&self, uid: &str) -> Option<Arc<Pod>> {
        self.list().into_iter().find(|p| p.metadata.uid == uid)
    }

    /// Waits until the underlying cache holds a complete list.
    pub async fn wait_until_synced(&self) {
        match self {
            PodView::Own(c) | PodView::Shared { cache: c, .. } => c.wait_until_synced().await,
        }
    }
}

/// One cache of every pod shared by many kubelets of this process, and the task routing each
/// change to the kubelet of the pod's node (old and new node, when a pod moves).
#[derive(Clone)]
pub struct SharedPods {
    cache: Cache<Pod>,
    routes: Arc<Mutex<HashMap<String, mpsc::UnboundedSender<PodSignal>>>>,
}

impl SharedPods {
    /// The all-pods cache of `informers` (shared with any other component using it), indexed
    /// by node, and the routing task (until `shutdown`). Start the informers afterwards.
    pub fn new<C: ApiClient>(informers: &SharedInformers<C>, shutdown: Shutdown) -> SharedPods {
        let cache = informers.cache::<Pod>(None, &ListParams::default());
        if !cache.has_index(index::NODE_NAME) {
            cache.add_index(index::NODE_NAME, index::by_node_name());
        }
        let shared = SharedPods {
            cache: cache.clone(),
            routes: Arc::new(Mutex::new(HashMap::new())),
        };
        let mut rx = cache.subscribe();
        let routes = shared.routes.clone();
        tokio::spawn(async move {
            loop {
                let ev = tokio::select! {
                    _ = shutdown.triggered() => return,
                    ev = rx.recv() => ev,
                };
                let routes = routes.lock().unwrap_or_else(|e| e.into_inner());
                let send = |node: &str, signal: PodSignal| {
                    if let Some(tx) = routes.get(node) {
                        let _ = tx.send(signal);
                    }
                };
                match ev {
                    Ok(CacheEvent::Applied { old, new }) => {
                        let uid = &new.metadata.uid;
                        send(&new.spec.node_name, PodSignal::Changed(uid.clone()));
                        if let Some(old) = old.filter(|o| o.spec.node_name != new.spec.node_name) {
                            send(
                                &old.spec.node_name,
                                PodSignal::Changed(old.metadata.uid.clone()),
                            );
                        }
                    }
                    Ok(CacheEvent::Deleted(old)) => send(
                        &old.spec.node_name,
                        PodSignal::Changed(old.metadata.uid.clone()),
                    ),
                    Ok(CacheEvent::Synced) | Err(RecvError::Lagged(_)) => {
                        for tx in routes.values() {
                            let _ = tx.send(PodSignal::All);
                        }
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
        shared
    }

    /// The pod source of the kubelet of `node` (one per node: a second replaces the first).
    pub fn source(&self, node: &str) -> PodSource {
        let (tx, rx) = mpsc::unbounded_channel();
        self.routes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(node.to_string(), tx);
        PodSource {
            view: PodView::Shared {
                cache: self.cache.clone(),
                node: node.to_string(),
            },
            events: PodEvents::Routed(rx),
        }
    }
}
