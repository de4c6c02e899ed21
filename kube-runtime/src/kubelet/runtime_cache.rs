//! What the kubelet knows of its containers: a relist every second (Kubernetes' PLEG) that
//! inspects only the containers whose state changed, so a container that dies is noticed
//! within a second at the cost of one list call.

use kube_core::kubelet::labels;
use kube_core::runtime::{ContainerInfo, ContainerRuntime, ListFilter, RuntimeError};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// The inspected state of this node's containers, by ID.
#[derive(Clone, Default)]
pub struct RuntimeCache {
    inner: Arc<Mutex<HashMap<String, Arc<ContainerInfo>>>>,
}

impl RuntimeCache {
    /// An empty cache.
    pub fn new() -> RuntimeCache {
        RuntimeCache::default()
    }

    /// Lists the containers carrying `filter`'s labels, inspects the new and changed ones and
    /// forgets the gone ones. Returns the pod UIDs whose containers changed. With
    /// `pod_uid`, only that pod's containers are refreshed.
    pub async fn relist(
        &self,
        runtime: &dyn ContainerRuntime,
        node_filter: &ListFilter,
        pod_uid: Option<&str>,
    ) -> Result<BTreeSet<String>, RuntimeError> {
        let mut filter = node_filter.clone();
        filter.all = true;
        if let Some(uid) = pod_uid {
            filter
                .labels
                .push((labels::POD_UID.to_string(), uid.to_string()));
        }
        let listed = runtime.list_containers(&filter).await?;
        let mut changed = BTreeSet::new();
        let mut to_inspect = Vec::new();
        {
            let cache = self.lock();
            for s in &listed {
                let stale = cache.get(&s.id).is_none_or(|c| c.state != s.state);
                if stale {
                    to_inspect.push(s.id.clone());
                }
            }
        }
        let mut fresh = Vec::with_capacity(to_inspect.len());
        let mut vanished = Vec::new();
        for id in to_inspect {
            match runtime.inspect_container(&id).await {
                Ok(info) => fresh.push(info),
                Err(RuntimeError::NotFound(_)) => vanished.push(id),
                Err(e) => return Err(e),
            }
        }
        let listed_ids: BTreeSet<&str> = listed.iter().map(|s| s.id.as_str()).collect();
        let mut cache = self.lock();
        let gone: Vec<String> = cache
            .iter()
            .filter(|(id, info)| {
                !listed_ids.contains(id.as_str())
                    && pod_uid.is_none_or(|uid| pod_uid_of(info) == Some(uid))
            })
            .map(|(id, _)| id.clone())
            .chain(vanished)
            .collect();
        for id in gone {
            if let Some(info) = cache.remove(&id) {
                changed.extend(pod_uid_of(&info).map(str::to_string));
            }
        }
        for info in fresh {
            changed.extend(pod_uid_of(&info).map(str::to_string));
            cache.insert(info.id.clone(), Arc::new(info));
        }
        Ok(changed)
    }

    /// The cached containers of one pod.
    pub fn pod_containers(&self, pod_uid: &str) -> Vec<Arc<ContainerInfo>> {
        self.lock()
            .values()
            .filter(|i| pod_uid_of(i) == Some(pod_uid))
            .cloned()
            .collect()
    }

    /// The UIDs of every pod that has containers here.
    pub fn pod_uids(&self) -> BTreeSet<String> {
        self.lock()
            .values()
            .filter_map(|i| pod_uid_of(i).map(str::to_string))
            .collect()
    }

    /// How many containers are cached.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no container is cached.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// One cached container.
    pub fn get(&self, id: &str) -> Option<Arc<ContainerInfo>> {
        self.lock().get(id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<ContainerInfo>>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn pod_uid_of(info: &ContainerInfo) -> Option<&str> {
    info.labels.get(labels::POD_UID).map(String::as_str)
}
