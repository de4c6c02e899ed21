//! The reflector's cache: one [`Writer`] per resource, any number of cheap [`Cache`] readers.
//!
//! Objects are held as `Arc<T>`, so a reader's `get` or `list` copies pointers, not objects, and
//! ten consumers of one shared informer share one copy of every object. Indexes map an index value
//! (a namespace, a label value, a node name, or anything a user-defined function returns) to the
//! keys of the objects that have it, and are kept in step with every write.
//!
//! Every change is also announced on a broadcast channel ([`Cache::subscribe`]). A subscriber that
//! falls behind gets `Lagged` from the channel instead of unbounded memory growth; since consumers
//! are level-triggered, it then simply re-reads the cache (for a controller: re-queues every key).

use kube_core::Object;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::sync::{broadcast, watch};

/// Events buffered per subscriber before it is told it lagged.
pub const EVENT_BUFFER: usize = 16384;

/// Cache key of an object: `namespace/name`, or `name` when cluster-scoped (client-go's `MetaNamespaceKey`).
pub fn object_key<T: Object>(obj: &T) -> String {
    let m = obj.meta();
    key_of(&m.namespace, &m.name)
}

/// The cache key for `namespace` and `name`.
pub fn key_of(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    }
}

/// A function from an object to its values in one index.
pub type IndexFn<T> = Arc<dyn Fn(&T) -> Vec<String> + Send + Sync>;

/// Ready-made index functions.
pub mod index {
    use super::IndexFn;
    use kube_core::{Object, Pod};
    use std::sync::Arc;

    /// Name of the namespace index.
    pub const NAMESPACE: &str = "namespace";
    /// Name of the pods-by-node index.
    pub const NODE_NAME: &str = "spec.nodeName";
    /// Name of the by-controller index ([`by_controller`]).
    pub const CONTROLLER: &str = "controller";

    /// The [`CONTROLLER`] index value of objects in `namespace` managed by the controller with
    /// `uid` (the empty uid: objects without a controller, orphans).
    pub fn controller_key(namespace: &str, uid: &str) -> String {
        format!("{namespace}/{uid}")
    }

    /// Objects by namespace and the uid of their controller reference (orphans under the
    /// empty uid), so a controller reads its own objects and the candidates for adoption
    /// without scanning its namespace.
    pub fn by_controller<T: Object>() -> IndexFn<T> {
        Arc::new(|o: &T| {
            let m = o.meta();
            let uid = m.controller_ref().map_or("", |r| r.uid.as_str());
            vec![controller_key(&m.namespace, uid)]
        })
    }

    /// Objects by `metadata.namespace`.
    pub fn by_namespace<T: Object>() -> IndexFn<T> {
        Arc::new(|o: &T| vec![o.meta().namespace.clone()])
    }

    /// Objects by the value of label `key` (objects without it are not indexed).
    pub fn by_label<T: Object>(key: &str) -> IndexFn<T> {
        let key = key.to_string();
        Arc::new(move |o: &T| o.meta().labels.get(&key).cloned().into_iter().collect())
    }

    /// Pods by `spec.nodeName` (unscheduled pods under the empty string).
    pub fn by_node_name() -> IndexFn<Pod> {
        Arc::new(|p: &Pod| vec![p.spec.node_name.clone()])
    }
}

/// One change to the cache, as announced to subscribers.
#[derive(Debug)]
pub enum CacheEvent<T> {
    /// The object was added (`old` is `None`) or replaced.
    Applied {
        /// The cached state before, if any.
        old: Option<Arc<T>>,
        /// The new state.
        new: Arc<T>,
    },
    /// The object was removed (its last known state).
    Deleted(Arc<T>),
    /// The cache holds a complete list (after the initial list and after every relist).
    Synced,
}

impl<T> Clone for CacheEvent<T> {
    fn clone(&self) -> Self {
        match self {
            CacheEvent::Applied { old, new } => CacheEvent::Applied {
                old: old.clone(),
                new: new.clone(),
            },
            CacheEvent::Deleted(o) => CacheEvent::Deleted(o.clone()),
            CacheEvent::Synced => CacheEvent::Synced,
        }
    }
}

struct Index<T> {
    func: IndexFn<T>,
    /// index value → keys of the objects with it.
    values: HashMap<String, BTreeSet<String>>,
}

struct State<T> {
    objects: HashMap<String, Arc<T>>,
    indexes: HashMap<String, Index<T>>,
}

impl<T> State<T> {
    fn unindex(&mut self, key: &str, obj: &T) {
        for idx in self.indexes.values_mut() {
            for v in (idx.func)(obj) {
                if let Some(keys) = idx.values.get_mut(&v) {
                    keys.remove(key);
                    if keys.is_empty() {
                        idx.values.remove(&v);
                    }
                }
            }
        }
    }

    fn index(&mut self, key: &str, obj: &T) {
        for idx in self.indexes.values_mut() {
            for v in (idx.func)(obj) {
                idx.values.entry(v).or_default().insert(key.to_string());
            }
        }
    }
}

struct Shared<T> {
    state: RwLock<State<T>>,
    synced: watch::Sender<bool>,
    events: broadcast::Sender<CacheEvent<T>>,
}

impl<T> Shared<T> {
    fn read(&self) -> RwLockReadGuard<'_, State<T>> {
        // A panic while holding the lock cannot leave the maps half-updated in a way readers
        // could misread (each write is a few map operations), so poisoning is ignored.
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State<T>> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// The single writer of a cache (owned by the reflector that lists and watches).
pub struct Writer<T> {
    shared: Arc<Shared<T>>,
}

/// A cheap, cloneable, read-only view of a cache.
pub struct Cache<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for Cache<T> {
    fn clone(&self) -> Self {
        Cache {
            shared: self.shared.clone(),
        }
    }
}

impl<T: Object> Default for Writer<T> {
    fn default() -> Self {
        Writer::new()
    }
}

impl<T: Object> Writer<T> {
    /// An empty, unsynced cache.
    pub fn new() -> Writer<T> {
        let (synced, _) = watch::channel(false);
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Writer {
            shared: Arc::new(Shared {
                state: RwLock::new(State {
                    objects: HashMap::new(),
                    indexes: HashMap::new(),
                }),
                synced,
                events,
            }),
        }
    }

    /// A reader of this cache.
    pub fn cache(&self) -> Cache<T> {
        Cache {
            shared: self.shared.clone(),
        }
    }

    /// Adds or replaces an object; returns the previous state.
    pub fn apply(&self, obj: T) -> Option<Arc<T>> {
        let key = object_key(&obj);
        let new = Arc::new(obj);
        let old = {
            let mut st = self.shared.write();
            let old = st.objects.insert(key.clone(), new.clone());
            if let Some(o) = &old {
                st.unindex(&key, o);
            }
            st.index(&key, &new);
            old
        };
        let _ = self.shared.events.send(CacheEvent::Applied {
            old: old.clone(),
            new,
        });
        old
    }

    /// Removes the object with `key`; returns its last state.
    pub fn delete(&self, key: &str) -> Option<Arc<T>> {
        let old = {
            let mut st = self.shared.write();
            let old = st.objects.remove(key);
            if let Some(o) = &old {
                st.unindex(key, o);
            }
            old
        };
        if let Some(o) = &old {
            let _ = self.shared.events.send(CacheEvent::Deleted(o.clone()));
        }
        old
    }

    /// Replaces the whole content with a fresh list, announcing only the differences
    /// (by `resourceVersion`), then marks the cache synced.
    pub fn replace(&self, fresh: Vec<T>) {
        let mut fresh: HashMap<String, T> =
            fresh.into_iter().map(|o| (object_key(&o), o)).collect();
        let gone: Vec<String> = self
            .shared
            .read()
            .objects
            .keys()
            .filter(|k| !fresh.contains_key(*k))
            .cloned()
            .collect();
        for key in gone {
            self.delete(&key);
        }
        let unchanged: Vec<String> = {
            let st = self.shared.read();
            fresh
                .iter()
                .filter(|(k, o)| {
                    st.objects.get(*k).is_some_and(|c| {
                        c.meta().resource_version == o.meta().resource_version
                            && !o.meta().resource_version.is_empty()
                    })
                })
                .map(|(k, _)| k.clone())
                .collect()
        };
        for key in unchanged {
            fresh.remove(&key);
        }
        for (_, obj) in fresh {
            self.apply(obj);
        }
        self.mark_synced();
    }

    /// Marks the cache as holding a complete list.
    pub fn mark_synced(&self) {
        self.shared.synced.send_replace(true);
        let _ = self.shared.events.send(CacheEvent::Synced);
    }
}

impl<T: Object> Cache<T> {
    /// The object with `key` (`namespace/name`, or `name` when cluster-scoped).
    pub fn get(&self, key: &str) -> Option<Arc<T>> {
        self.shared.read().objects.get(key).cloned()
    }

    /// The object named `name` in `namespace`.
    pub fn get_named(&self, namespace: &str, name: &str) -> Option<Arc<T>> {
        self.get(&key_of(namespace, name))
    }

    /// Every cached object, in no particular order.
    pub fn list(&self) -> Vec<Arc<T>> {
        self.shared.read().objects.values().cloned().collect()
    }

    /// Every cached key.
    pub fn keys(&self) -> Vec<String> {
        self.shared.read().objects.keys().cloned().collect()
    }

    /// How many objects are cached.
    pub fn len(&self) -> usize {
        self.shared.read().objects.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the cache holds a complete list.
    pub fn is_synced(&self) -> bool {
        *self.shared.synced.borrow()
    }

    /// Waits until the cache holds a complete list.
    pub async fn wait_until_synced(&self) {
        let mut rx = self.shared.synced.subscribe();
        // The sender lives in `shared`, which this reader keeps alive: the wait cannot fail.
        let _ = rx.wait_for(|s| *s).await;
    }

    /// Adds an index named `name` (replacing one of the same name), built over the current
    /// objects and kept up to date from now on.
    pub fn add_index(&self, name: &str, func: IndexFn<T>) {
        let mut st = self.shared.write();
        let mut values: HashMap<String, BTreeSet<String>> = HashMap::new();
        for (key, obj) in &st.objects {
            for v in func(obj) {
                values.entry(v).or_default().insert(key.clone());
            }
        }
        st.indexes.insert(name.to_string(), Index { func, values });
    }

    /// Whether an index named `name` exists.
    pub fn has_index(&self, name: &str) -> bool {
        self.shared.read().indexes.contains_key(name)
    }

    /// The objects whose index `name` holds `value`; `None` when there is no such index.
    pub fn by_index(&self, name: &str, value: &str) -> Option<Vec<Arc<T>>> {
        let st = self.shared.read();
        let idx = st.indexes.get(name)?;
        Some(
            idx.values
                .get(value)
                .map(|keys| {
                    keys.iter()
                        .filter_map(|k| st.objects.get(k).cloned())
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    /// The objects in `namespace` (through the namespace index when present, else by scanning).
    pub fn list_namespace(&self, namespace: &str) -> Vec<Arc<T>> {
        if let Some(objs) = self.by_index(index::NAMESPACE, namespace) {
            return objs;
        }
        self.shared
            .read()
            .objects
            .values()
            .filter(|o| o.meta().namespace == namespace)
            .cloned()
            .collect()
    }

    /// A receiver of every later change (see the module docs on lagging).
    pub fn subscribe(&self) -> broadcast::Receiver<CacheEvent<T>> {
        self.shared.events.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_core::Pod;

    fn pod(ns: &str, name: &str, node: &str, app: &str, rv: &str) -> Pod {
        let mut p = Pod::default();
        p.metadata.namespace = ns.into();
        p.metadata.name = name.into();
        p.metadata.resource_version = rv.into();
        if !app.is_empty() {
            p.metadata.labels.insert("app".into(), app.into());
        }
        p.spec.node_name = node.into();
        p
    }

    fn names(mut objs: Vec<Arc<Pod>>) -> Vec<String> {
        objs.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        objs.iter().map(|p| p.metadata.name.clone()).collect()
    }

    #[test]
    fn indexes_follow_every_write() {
        let w = Writer::<Pod>::new();
        let c = w.cache();
        c.add_index(index::NODE_NAME, index::by_node_name());
        w.apply(pod("a", "p1", "n1", "web", "1"));
        w.apply(pod("a", "p2", "", "web", "2"));
        // An index added later covers the objects already there.
        c.add_index("app", index::by_label("app"));
        c.add_index(index::NAMESPACE, index::by_namespace());
        w.apply(pod("b", "p3", "n1", "db", "3"));
        // p2 is bound: it moves from "" to n2.
        w.apply(pod("a", "p2", "n2", "web", "4"));
        w.delete("a/p1");

        // (index, value, expected names)
        let cases: [(&str, &str, &[&str]); 8] = [
            (index::NODE_NAME, "n1", &["p3"]),
            (index::NODE_NAME, "n2", &["p2"]),
            (index::NODE_NAME, "", &[]),
            ("app", "web", &["p2"]),
            ("app", "db", &["p3"]),
            (index::NAMESPACE, "a", &["p2"]),
            (index::NAMESPACE, "b", &["p3"]),
            (index::NAMESPACE, "c", &[]),
        ];
        for (idx, value, want) in cases {
            assert_eq!(
                names(c.by_index(idx, value).unwrap()),
                want.to_vec(),
                "{idx}={value}"
            );
        }
        assert!(c.by_index("nope", "x").is_none());
        assert_eq!(names(c.list_namespace("a")), vec!["p2"]);
        assert_eq!(c.get_named("b", "p3").unwrap().spec.node_name, "n1");
        assert_eq!(c.len(), 2);
    }

    #[tokio::test]
    async fn replace_announces_only_differences_and_syncs() {
        let w = Writer::<Pod>::new();
        let c = w.cache();
        assert!(!c.is_synced());
        w.apply(pod("a", "keep", "", "", "1"));
        w.apply(pod("a", "change", "", "", "1"));
        w.apply(pod("a", "gone", "", "", "1"));
        let mut rx = c.subscribe();
        w.replace(vec![
            pod("a", "keep", "", "", "1"),
            pod("a", "change", "", "", "2"),
            pod("a", "new", "", "", "3"),
        ]);
        c.wait_until_synced().await;
        let mut seen = Vec::new();
        while let Ok(ev) = rx.try_recv() {
            seen.push(match ev {
                CacheEvent::Applied { old: None, new } => format!("+{}", new.metadata.name),
                CacheEvent::Applied { old: Some(o), new } => format!(
                    "~{}@{}->{}",
                    new.metadata.name, o.metadata.resource_version, new.metadata.resource_version
                ),
                CacheEvent::Deleted(o) => format!("-{}", o.metadata.name),
                CacheEvent::Synced => "synced".into(),
            });
        }
        let last = seen.pop();
        seen.sort();
        assert_eq!(seen, vec!["+new", "-gone", "~change@1->2"]);
        assert_eq!(last.as_deref(), Some("synced"));
        assert!(c.is_synced());
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn readers_share_objects() {
        let w = Writer::<Pod>::new();
        let (c1, c2) = (w.cache(), w.cache());
        w.apply(pod("a", "p", "", "", "1"));
        let (a, b) = (c1.get("a/p").unwrap(), c2.get("a/p").unwrap());
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(key_of("", "n1"), "n1");
        assert_eq!(object_key(&*a), "a/p");
    }

    #[test]
    fn a_lagging_subscriber_is_told() {
        let w = Writer::<Pod>::new();
        let mut rx = w.cache().subscribe();
        for i in 0..EVENT_BUFFER + 10 {
            w.apply(pod("a", &format!("p{i}"), "", "", "1"));
        }
        assert!(matches!(
            rx.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(_))
        ));
    }
}
