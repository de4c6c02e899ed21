//! [`Snapshot`]: the scheduler's view of the cluster, every node with the pods accounted to it,
//! updated incrementally as nodes and pods come and go (never rebuilt per pod).

use super::node_info::NodeInfo;
use super::pod_info::PodInfo;
use super::spread::{SpreadIndex, SpreadSelector};
use crate::node::Node;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// A pod the snapshot knows, with its spread signature.
#[derive(Clone, Debug)]
struct PodSlot {
    info: Arc<PodInfo>,
    sig: Option<u32>,
}

/// Nodes (in a `Vec`, for fast iteration), bound pods, and the spread selectors.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    nodes: Vec<NodeInfo>,
    /// Node name → index in `nodes`.
    index: HashMap<String, usize>,
    /// Every pod added and not removed, by key, whether or not its node is known.
    pods: HashMap<String, PodSlot>,
    /// Node name → keys of pods bound to that node while it is unknown.
    pending: HashMap<String, BTreeSet<String>>,
    spread: SpreadIndex,
}

impl Snapshot {
    /// An empty snapshot.
    pub fn new() -> Snapshot {
        Snapshot::default()
    }

    /// Adds a node or updates it (labels, allocatable, readiness, schedulability), keeping the pods already accounted to it.
    pub fn upsert_node(&mut self, node: &Node) {
        let name = &node.metadata.name;
        if let Some(&i) = self.index.get(name) {
            self.nodes[i].set_node(node);
            return;
        }
        let mut info = NodeInfo::new(node);
        if let Some(keys) = self.pending.remove(name) {
            for key in keys {
                if let Some(slot) = self.pods.get(&key) {
                    info.account(slot.info.clone(), slot.sig);
                }
            }
        }
        self.index.insert(name.clone(), self.nodes.len());
        self.nodes.push(info);
    }

    /// Removes a node; its pods stay known and are accounted again if the node comes back.
    pub fn remove_node(&mut self, name: &str) {
        let Some(i) = self.index.remove(name) else {
            return;
        };
        let info = self.nodes.swap_remove(i);
        if let Some(moved) = self.nodes.get(i) {
            self.index.insert(moved.name().to_string(), i);
        }
        let keys: BTreeSet<String> = info.pods().map(|p| p.key().to_string()).collect();
        if !keys.is_empty() {
            self.pending.insert(name.to_string(), keys);
        }
    }

    /// Accounts a pod to its `node_name` (replacing an earlier version with the same key); a pod with no node is ignored, one whose node is unknown waits for it.
    pub fn add_pod(&mut self, pod: &PodInfo) {
        if pod.node_name().is_empty() {
            return;
        }
        self.remove_pod(pod.key());
        let info = Arc::new(pod.clone());
        let sig = self.spread.signature(pod);
        match self.index.get(pod.node_name()) {
            Some(&i) => self.nodes[i].account(info.clone(), sig),
            None => {
                self.pending
                    .entry(pod.node_name().to_string())
                    .or_default()
                    .insert(pod.key().to_string());
            }
        }
        self.pods
            .insert(pod.key().to_string(), PodSlot { info, sig });
    }

    /// Forgets the pod with `key` (see [`PodInfo::key`]), releasing its resources and ports.
    pub fn remove_pod(&mut self, key: &str) {
        let Some(slot) = self.pods.remove(key) else {
            return;
        };
        let node = slot.info.node_name();
        if let Some(&i) = self.index.get(node) {
            self.nodes[i].unaccount(key, slot.sig);
        } else if let Some(keys) = self.pending.get_mut(node) {
            keys.remove(key);
            if keys.is_empty() {
                self.pending.remove(node);
            }
        }
    }

    /// True when a pod with `key` was added and not removed.
    pub fn has_pod(&self, key: &str) -> bool {
        self.pods.contains_key(key)
    }

    /// The pod with `key`, if known.
    pub fn pod(&self, key: &str) -> Option<&PodInfo> {
        self.pods.get(key).map(|s| &*s.info)
    }

    /// Number of known pods (including those whose node is unknown).
    pub fn num_pods(&self) -> usize {
        self.pods.len()
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.index.get(name).map(|&i| &self.nodes[i])
    }

    /// Every node, in the snapshot's internal order (which removals change).
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// Number of nodes.
    pub fn num_nodes(&self) -> usize {
        self.nodes.len()
    }

    /// Sets the selectors (of replication controllers and services) pods are spread by, in any namespace; see [`Snapshot::set_namespaced_spread_selectors`].
    pub fn set_spread_selectors(&mut self, selectors: Vec<BTreeMap<String, String>>) {
        let selectors = selectors
            .into_iter()
            .map(|selector| SpreadSelector {
                namespace: String::new(),
                selector,
            })
            .collect();
        self.set_namespaced_spread_selectors(selectors);
    }

    /// Sets the spread selectors, each limited to its namespace as kube-scheduler does; a no-op when unchanged, else O(pods × labels).
    pub fn set_namespaced_spread_selectors(&mut self, selectors: Vec<SpreadSelector>) {
        let index = SpreadIndex::new(selectors);
        if index.selectors() == self.spread.selectors() {
            return;
        }
        self.spread = index;
        for node in &mut self.nodes {
            node.clear_spread();
        }
        for slot in self.pods.values_mut() {
            slot.sig = self.spread.signature(&slot.info);
            if let (Some(sig), Some(&i)) = (slot.sig, self.index.get(slot.info.node_name())) {
                self.nodes[i].spread_add(sig);
            }
        }
    }

    /// The spread selectors in effect, sorted and deduplicated, without empty ones.
    pub fn spread_selectors(&self) -> &[SpreadSelector] {
        self.spread.selectors()
    }

    /// The spread index, for the selector-spread score.
    pub(crate) fn spread_index(&self) -> &SpreadIndex {
        &self.spread
    }
}
