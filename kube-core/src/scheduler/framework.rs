//! [`Framework`]: runs the filters over the nodes (a rotating sample of them on large clusters,
//! like kube-scheduler's percentageOfNodesToScore), scores the feasible ones, and picks the best,
//! breaking ties at random.

use super::filters::{default_filters, FilterPlugin, Reason};
use super::node_info::NodeInfo;
use super::pod_info::PodInfo;
use super::scores::{default_scores, PreparedScore, ScorePlugin, MAX_NODE_SCORE};
use super::snapshot::Snapshot;
use crate::rand::{uniform, Rng};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Below this many nodes every node is checked (kube-scheduler's `minFeasibleNodesToFind`).
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// The adaptive percentage never drops below this (kube-scheduler's `minFeasibleNodesPercentageToFind`).
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: usize = 5;

/// Where a pod should go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleResult {
    /// The chosen node's name.
    pub node: String,
    /// Nodes the filters ran on.
    pub evaluated_nodes: usize,
    /// Of those, the nodes that passed every filter (and were scored).
    pub feasible_nodes: usize,
}

/// No node fits the pod: how many nodes there are and how many failed for each reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FitError {
    /// Nodes in the snapshot (all of them were checked).
    pub num_nodes: usize,
    /// Reason → number of nodes rejected for it (each node counts once, for its first failing filter).
    pub reasons: BTreeMap<String, usize>,
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0/{} nodes are available:", self.num_nodes)?;
        if self.num_nodes == 0 {
            return f.write_str(" no nodes registered.");
        }
        for (i, (reason, count)) in self.reasons.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{count} {reason}")?;
        }
        f.write_str(".")
    }
}

impl std::error::Error for FitError {}

/// How many feasible nodes to find before scoring, for `num_nodes` nodes and a percentage (0 = adaptive, as kube-scheduler).
pub fn num_feasible_nodes_to_find(num_nodes: usize, percentage: u8) -> usize {
    if num_nodes < MIN_FEASIBLE_NODES_TO_FIND || percentage >= 100 {
        return num_nodes;
    }
    let pct = if percentage == 0 {
        50usize
            .saturating_sub(num_nodes / 125)
            .max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    } else {
        usize::from(percentage)
    };
    (num_nodes * pct / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// Filters and weighted scores, and the rotating index the next decision starts filtering at.
pub struct Framework {
    filters: Vec<Box<dyn FilterPlugin>>,
    scores: Vec<(Box<dyn ScorePlugin>, i64)>,
    percentage: u8,
    next_start: AtomicUsize,
}

impl Default for Framework {
    fn default() -> Framework {
        Framework::new()
    }
}

impl fmt::Debug for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let filters: Vec<&str> = self.filters.iter().map(|p| p.name()).collect();
        let scores: Vec<(&str, i64)> = self.scores.iter().map(|(p, w)| (p.name(), *w)).collect();
        f.debug_struct("Framework")
            .field("filters", &filters)
            .field("scores", &scores)
            .field("percentage_of_nodes_to_score", &self.percentage)
            .finish()
    }
}

/// Counts failing nodes per reason, without allocating per node.
#[derive(Default)]
struct Failures(Vec<(Reason, usize)>);

impl Failures {
    fn add(&mut self, reason: Reason) {
        match self.0.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => self.0.push((reason, 1)),
        }
    }

    fn into_map(self) -> BTreeMap<String, usize> {
        let mut map = BTreeMap::new();
        for (reason, n) in self.0 {
            *map.entry(reason.into_owned()).or_insert(0) += n;
        }
        map
    }
}

impl Framework {
    /// The default plugins: every filter of [`default_filters`] and the scores of [`default_scores`], adaptive sampling.
    pub fn new() -> Framework {
        Framework {
            filters: default_filters(),
            scores: default_scores(),
            ..Framework::empty()
        }
    }

    /// No plugins: every node is feasible and ties are broken at random.
    pub fn empty() -> Framework {
        Framework {
            filters: Vec::new(),
            scores: Vec::new(),
            percentage: 0,
            next_start: AtomicUsize::new(0),
        }
    }

    /// Adds a filter, run after the ones already added.
    pub fn with_filter(mut self, f: Box<dyn FilterPlugin>) -> Self {
        self.filters.push(f);
        self
    }

    /// Adds a score with its weight.
    pub fn with_score(mut self, s: Box<dyn ScorePlugin>, weight: i64) -> Self {
        self.scores.push((s, weight));
        self
    }

    /// Sets percentageOfNodesToScore: 0 is adaptive (`max(5, 50 - nodes/125)`), 100 or more checks every node.
    pub fn with_percentage_of_nodes_to_score(mut self, pct: u8) -> Self {
        self.percentage = pct;
        self
    }

    /// Names of the filters, in order.
    pub fn filter_names(&self) -> Vec<&'static str> {
        self.filters.iter().map(|f| f.name()).collect()
    }

    /// Names and weights of the scores.
    pub fn score_names(&self) -> Vec<(&'static str, i64)> {
        self.scores.iter().map(|(s, w)| (s.name(), *w)).collect()
    }

    /// Picks a node for `pod`, or says why none fits (having then checked every node).
    pub fn schedule(
        &self,
        pod: &PodInfo,
        snapshot: &Snapshot,
        rng: &mut dyn Rng,
    ) -> Result<ScheduleResult, FitError> {
        let nodes = snapshot.nodes();
        let n = nodes.len();
        if n == 0 {
            return Err(FitError::default());
        }
        let filters: Vec<&dyn FilterPlugin> = self
            .filters
            .iter()
            .filter(|f| f.is_relevant(pod))
            .map(|f| &**f)
            .collect();
        let to_find = num_feasible_nodes_to_find(n, self.percentage);
        // Raw scores are taken as soon as a node passes the filters, while it is in cache;
        // `raw` is node-major: the scores of feasible node j are raw[j * scorers.len()..].
        let scorers: Vec<(Scorer<'_>, &dyn ScorePlugin, i64)> = self
            .scores
            .iter()
            .filter(|(p, _)| p.is_relevant(pod, snapshot))
            .map(|(p, w)| {
                let scorer = match p.prepare(pod, snapshot) {
                    Some(f) => Scorer::Prepared(f),
                    None => Scorer::Plain(&**p),
                };
                (scorer, &**p, *w)
            })
            .collect();
        let mut raw: Vec<i64> = Vec::with_capacity(to_find * scorers.len());
        let start = self.next_start.load(Ordering::Relaxed) % n;
        let mut feasible: Vec<usize> = Vec::with_capacity(to_find);
        let mut failures = Failures::default();
        let mut checked = 0;
        for i in 0..n {
            let idx = if start + i < n {
                start + i
            } else {
                start + i - n
            };
            let node = &nodes[idx];
            checked += 1;
            match run_filters(&filters, pod, node) {
                Ok(()) => {
                    feasible.push(idx);
                    for (s, _, _) in &scorers {
                        raw.push(s.score(pod, node, snapshot));
                    }
                    if feasible.len() >= to_find {
                        break;
                    }
                }
                Err(reason) => failures.add(reason),
            }
        }
        self.next_start
            .store((start + checked) % n, Ordering::Relaxed);
        if feasible.is_empty() {
            return Err(FitError {
                num_nodes: n,
                reasons: failures.into_map(),
            });
        }
        let chosen = if feasible.len() == 1 {
            feasible[0]
        } else {
            feasible[select(&scorers, &raw, feasible.len(), rng)]
        };
        Ok(ScheduleResult {
            node: nodes[chosen].name().to_string(),
            evaluated_nodes: checked,
            feasible_nodes: feasible.len(),
        })
    }
}

/// Index of a best-scoring node among `m` with node-major `raw` scores (one per scorer): normalises per plugin, weighs, sums, and picks uniformly at random among ties (reservoir sampling).
fn select(
    scorers: &[(Scorer<'_>, &dyn ScorePlugin, i64)],
    raw: &[i64],
    m: usize,
    rng: &mut dyn Rng,
) -> usize {
    let np = scorers.len();
    let mut totals = vec![0i64; m];
    let mut buf = vec![0i64; m];
    for (p, (_, plugin, weight)) in scorers.iter().enumerate() {
        for (j, b) in buf.iter_mut().enumerate() {
            *b = raw[j * np + p];
        }
        plugin.normalize(&mut buf);
        for (t, s) in totals.iter_mut().zip(&buf) {
            *t = t.saturating_add(s.clamp(&0, &MAX_NODE_SCORE).saturating_mul(*weight));
        }
    }
    let (mut best, mut ties, mut chosen) = (i64::MIN, 0u64, 0usize);
    for (j, &t) in totals.iter().enumerate() {
        if t > best {
            (best, ties, chosen) = (t, 1, j);
        } else if t == best {
            ties += 1;
            if uniform(rng, ties) == 0 {
                chosen = j;
            }
        }
    }
    chosen
}

/// A score plugin ready for one pod: prepared, or called plainly.
enum Scorer<'a> {
    Prepared(PreparedScore<'a>),
    Plain(&'a dyn ScorePlugin),
}

impl Scorer<'_> {
    #[inline]
    fn score(&self, pod: &PodInfo, node: &NodeInfo, snapshot: &Snapshot) -> i64 {
        match self {
            Scorer::Prepared(f) => f(node),
            Scorer::Plain(p) => p.score(pod, node, snapshot),
        }
    }
}

/// The first failing filter's reason, or `Ok` when the node passes them all.
#[inline]
fn run_filters(
    filters: &[&dyn FilterPlugin],
    pod: &PodInfo,
    node: &NodeInfo,
) -> Result<(), Reason> {
    for f in filters {
        f.filter(pod, node)?;
    }
    Ok(())
}
