//! Score plugins (kube-scheduler's Score extension point, the old "priorities"): how good is
//! this node for this pod? Scores are 0..=[`MAX_NODE_SCORE`], higher is better, then weighted.

use super::node_info::NodeInfo;
use super::pod_info::PodInfo;
use super::snapshot::Snapshot;
use super::spread::sig_mask;

/// The best score a node can get.
pub const MAX_NODE_SCORE: i64 = 100;

/// A scorer prepared for one pod (kube-scheduler's PreScore): per-pod work done once, then called per node.
pub type PreparedScore<'a> = Box<dyn Fn(&NodeInfo) -> i64 + 'a>;

/// A score: ranks the feasible nodes for a pod. Implement it to plug in your own.
pub trait ScorePlugin: Send + Sync {
    /// The plugin's name, e.g. `LeastAllocated`.
    fn name(&self) -> &'static str;

    /// The node's score for the pod: 0..=100, or a raw value that [`ScorePlugin::normalize`] maps there.
    fn score(&self, pod: &PodInfo, node: &NodeInfo, snapshot: &Snapshot) -> i64;

    /// False when every node would get the same score for this pod, so the plugin cannot change the choice and the framework skips it.
    fn is_relevant(&self, _pod: &PodInfo, _snapshot: &Snapshot) -> bool {
        true
    }

    /// Optionally precomputes per-pod state once per decision; the framework then calls the returned scorer instead of `score` (same results).
    fn prepare<'a>(
        &'a self,
        _pod: &'a PodInfo,
        _snapshot: &'a Snapshot,
    ) -> Option<PreparedScore<'a>> {
        None
    }

    /// Maps the raw scores of all scored nodes to 0..=100 (default: they already are).
    fn normalize(&self, _scores: &mut [i64]) {}
}

/// `(capacity - requested) * 100 / capacity`; 0 when the capacity is unknown or exceeded.
/// `scale` is `100 / capacity`, so the common case needs no division.
pub(crate) fn least_requested(requested: i64, capacity: i64, scale: f64) -> i64 {
    if capacity <= 0 || requested > capacity {
        return 0;
    }
    let free = capacity - requested.max(0);
    if capacity > i64::MAX / (MAX_NODE_SCORE + 1) {
        return scaled_fraction(free, capacity);
    }
    // The estimate is within one of the exact floor; integer products settle it.
    let num = free * MAX_NODE_SCORE;
    let mut q = ((free as f64 * scale) as i64).clamp(0, MAX_NODE_SCORE);
    if q * capacity > num {
        q -= 1;
    } else if (q + 1) * capacity <= num {
        q += 1;
    }
    q
}

/// `floor(part * 100 / whole)` for `0 <= part <= whole`, `whole > 0`, exactly, without an integer
/// division (the slowest instruction in the scoring loop): a float estimate, then corrected.
pub(crate) fn scaled_fraction(part: i64, whole: i64) -> i64 {
    const LIMIT: i64 = i64::MAX / (MAX_NODE_SCORE + 1);
    if whole > LIMIT {
        return (i128::from(part) * i128::from(MAX_NODE_SCORE) / i128::from(whole)) as i64;
    }
    let num = part * MAX_NODE_SCORE;
    let mut q = (num as f64 / whole as f64) as i64;
    if q * whole > num {
        q -= 1;
    } else if (q + 1) * whole <= num {
        q += 1;
    }
    q
}

/// Prefers nodes with the most free CPU and memory after placing the pod (k8s NodeResourcesFit LeastAllocated, non-zero requests).
#[derive(Clone, Copy, Debug, Default)]
pub struct LeastAllocated;

impl LeastAllocated {
    /// The score without a snapshot.
    pub fn node_score(pod: &PodInfo, node: &NodeInfo) -> i64 {
        let cpu = least_requested(
            node.non_zero_milli_cpu()
                .saturating_add(pod.non_zero_milli_cpu()),
            node.allocatable_milli_cpu(),
            node.cpu_scale(),
        );
        let mem = least_requested(
            node.non_zero_memory().saturating_add(pod.non_zero_memory()),
            node.allocatable_memory(),
            node.mem_scale(),
        );
        (cpu + mem) / 2
    }
}

impl ScorePlugin for LeastAllocated {
    fn name(&self) -> &'static str {
        "LeastAllocated"
    }

    fn score(&self, pod: &PodInfo, node: &NodeInfo, _snapshot: &Snapshot) -> i64 {
        LeastAllocated::node_score(pod, node)
    }
}

/// Prefers nodes whose CPU and memory would be used in equal fractions: `(1 - |cpu% - mem%|) * 100`, 0 when either is full (k8s BalancedResourceAllocation).
#[derive(Clone, Copy, Debug, Default)]
pub struct BalancedAllocation;

impl BalancedAllocation {
    /// The score without a snapshot.
    pub fn node_score(pod: &PodInfo, node: &NodeInfo) -> i64 {
        let fraction = |requested: i64, capacity: i64| {
            // An unknown capacity counts as full, like k8s' fractionOfCapacity.
            if capacity <= 0 {
                1.0
            } else {
                requested as f64 / capacity as f64
            }
        };
        let cpu = fraction(
            node.non_zero_milli_cpu()
                .saturating_add(pod.non_zero_milli_cpu()),
            node.allocatable_milli_cpu(),
        );
        let mem = fraction(
            node.non_zero_memory().saturating_add(pod.non_zero_memory()),
            node.allocatable_memory(),
        );
        if cpu >= 1.0 || mem >= 1.0 {
            return 0;
        }
        ((1.0 - (cpu - mem).abs()) * MAX_NODE_SCORE as f64) as i64
    }
}

impl ScorePlugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        "BalancedAllocation"
    }

    fn score(&self, pod: &PodInfo, node: &NodeInfo, _snapshot: &Snapshot) -> i64 {
        BalancedAllocation::node_score(pod, node)
    }
}

/// Prefers nodes with fewer pods matching a spread selector that also matches the pod (k8s SelectorSpread, per node).
///
/// The raw score is that count; [`ScorePlugin::normalize`] maps it to `100 * (max - count) / max`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SelectorSpread;

impl SelectorSpread {
    /// The spread signatures relevant to `pod`, sorted (empty when it matches no selector).
    fn relevant(pod: &PodInfo, snapshot: &Snapshot) -> Vec<u32> {
        let index = snapshot.spread_index();
        index.relevant(&index.matching(pod.namespace(), pod.labels()))
    }
}

impl ScorePlugin for SelectorSpread {
    fn name(&self) -> &'static str {
        "SelectorSpread"
    }

    fn score(&self, pod: &PodInfo, node: &NodeInfo, snapshot: &Snapshot) -> i64 {
        let relevant = SelectorSpread::relevant(pod, snapshot);
        node.spread_count(&relevant, sig_mask(&relevant))
    }

    fn is_relevant(&self, pod: &PodInfo, snapshot: &Snapshot) -> bool {
        let index = snapshot.spread_index();
        !index.matching(pod.namespace(), pod.labels()).is_empty()
    }

    fn prepare<'a>(
        &'a self,
        pod: &'a PodInfo,
        snapshot: &'a Snapshot,
    ) -> Option<PreparedScore<'a>> {
        let relevant = SelectorSpread::relevant(pod, snapshot);
        if relevant.is_empty() {
            return Some(Box::new(|_| 0));
        }
        let mask = sig_mask(&relevant);
        Some(Box::new(move |node| node.spread_count(&relevant, mask)))
    }

    fn normalize(&self, scores: &mut [i64]) {
        let max = scores.iter().copied().max().unwrap_or(0);
        for s in scores.iter_mut() {
            *s = match *s {
                0 => MAX_NODE_SCORE,
                c if c >= max => 0,
                c => scaled_fraction(max - c.max(0), max),
            };
        }
    }
}

/// The default scores with their weights (1 each).
pub fn default_scores() -> Vec<(Box<dyn ScorePlugin>, i64)> {
    vec![
        (Box::new(LeastAllocated), 1),
        (Box::new(BalancedAllocation), 1),
        (Box::new(SelectorSpread), 1),
    ]
}
