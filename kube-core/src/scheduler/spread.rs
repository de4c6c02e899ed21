//! The index behind selector spreading: which spread selectors (of replication controllers and
//! services) match a pod, and per-pod "signatures" (the set of selectors a pod matches), so each
//! node keeps a handful of `(signature, count)` pairs that are updated in O(labels) per pod.

use super::pod_info::PodInfo;
use std::collections::{BTreeMap, HashMap};

/// A label selector pods are spread by: a replication controller's or a service's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpreadSelector {
    /// Only pods in this namespace match; empty matches every namespace.
    pub namespace: String,
    /// Equality selector; a pod matches when it carries every pair. Empty selectors are ignored.
    pub selector: BTreeMap<String, String>,
}

/// Selectors, an inverted index from label pairs to selectors, and interned signatures.
#[derive(Clone, Debug, Default)]
pub(crate) struct SpreadIndex {
    selectors: Vec<SpreadSelector>,
    /// Label key → label value → selectors requiring that pair.
    by_pair: HashMap<String, HashMap<String, Vec<u32>>>,
    /// Sorted selector indices → signature id.
    sig_ids: HashMap<Vec<u32>, u32>,
    /// Signature id → its selector indices.
    sigs: Vec<Vec<u32>>,
    /// Selector index → signatures containing it.
    sigs_by_selector: Vec<Vec<u32>>,
}

impl SpreadIndex {
    /// An index over `selectors`, sorted and deduplicated, without empty ones.
    pub(crate) fn new(mut selectors: Vec<SpreadSelector>) -> SpreadIndex {
        selectors.retain(|s| !s.selector.is_empty());
        selectors.sort();
        selectors.dedup();
        let mut by_pair: HashMap<String, HashMap<String, Vec<u32>>> = HashMap::new();
        for (i, s) in selectors.iter().enumerate() {
            for (k, v) in &s.selector {
                by_pair
                    .entry(k.clone())
                    .or_default()
                    .entry(v.clone())
                    .or_default()
                    .push(i as u32);
            }
        }
        let n = selectors.len();
        SpreadIndex {
            selectors,
            by_pair,
            sig_ids: HashMap::new(),
            sigs: Vec::new(),
            sigs_by_selector: vec![Vec::new(); n],
        }
    }

    /// The selectors, sorted and deduplicated.
    pub(crate) fn selectors(&self) -> &[SpreadSelector] {
        &self.selectors
    }

    /// Sorted indices of the selectors matching a pod in `namespace` with `labels`, in O(labels).
    pub(crate) fn matching(&self, namespace: &str, labels: &BTreeMap<String, String>) -> Vec<u32> {
        if self.selectors.is_empty() {
            return Vec::new();
        }
        // (selector, pairs of it the pod carries)
        let mut hits: Vec<(u32, usize)> = Vec::new();
        for (k, v) in labels {
            let Some(sels) = self.by_pair.get(k).and_then(|vals| vals.get(v)) else {
                continue;
            };
            for &s in sels {
                match hits.iter_mut().find(|(i, _)| *i == s) {
                    Some((_, n)) => *n += 1,
                    None => hits.push((s, 1)),
                }
            }
        }
        let mut out: Vec<u32> = hits
            .into_iter()
            .filter(|&(i, n)| {
                let sel = &self.selectors[i as usize];
                n == sel.selector.len() && (sel.namespace.is_empty() || sel.namespace == namespace)
            })
            .map(|(i, _)| i)
            .collect();
        out.sort_unstable();
        out
    }

    /// The interned signature of a placed pod; `None` when it counts for no selector (or is terminating).
    pub(crate) fn signature(&mut self, pod: &PodInfo) -> Option<u32> {
        if pod.is_terminating() {
            return None;
        }
        let set = self.matching(pod.namespace(), pod.labels());
        if set.is_empty() {
            return None;
        }
        if let Some(&id) = self.sig_ids.get(&set) {
            return Some(id);
        }
        let id = self.sigs.len() as u32;
        for &s in &set {
            self.sigs_by_selector[s as usize].push(id);
        }
        self.sigs.push(set.clone());
        self.sig_ids.insert(set, id);
        Some(id)
    }

    /// The signatures (sorted ids) sharing a selector with `matching`: pods with them count for spreading.
    pub(crate) fn relevant(&self, matching: &[u32]) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::new();
        for &s in matching {
            out.extend_from_slice(&self.sigs_by_selector[s as usize]);
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Entries of [`SpreadCounts`] kept inline, so scoring a node rarely touches other memory.
const INLINE: usize = 3;

/// The bit of signature `sig` in a [`SpreadCounts`] bloom mask.
pub(crate) fn sig_bit(sig: u32) -> u64 {
    1 << (sig % 64)
}

/// The bloom mask of a set of signatures.
pub(crate) fn sig_mask(sigs: &[u32]) -> u64 {
    sigs.iter().fold(0, |m, &s| m | sig_bit(s))
}

/// One node's `(signature, pods)` pairs, sorted by signature: up to [`INLINE`] of them inline,
/// and a bloom mask of the signatures present, so most nodes answer "none" from one cache line.
#[derive(Clone, Debug, Default)]
#[repr(C)]
pub(crate) struct SpreadCounts {
    bloom: u64,
    len: u32,
    inline: [(u32, u32); INLINE],
    /// Every entry, once there are more than [`INLINE`].
    spill: Vec<(u32, u32)>,
}

impl SpreadCounts {
    fn as_slice(&self) -> &[(u32, u32)] {
        if self.len as usize <= INLINE {
            &self.inline[..self.len as usize]
        } else {
            &self.spill
        }
    }

    fn as_mut_slice(&mut self) -> &mut [(u32, u32)] {
        if self.len as usize <= INLINE {
            &mut self.inline[..self.len as usize]
        } else {
            &mut self.spill
        }
    }

    /// Counts one more pod with signature `sig`.
    pub(crate) fn add(&mut self, sig: u32) {
        self.bloom |= sig_bit(sig);
        match self.as_slice().binary_search_by_key(&sig, |e| e.0) {
            Ok(i) => self.as_mut_slice()[i].1 += 1,
            Err(i) if (self.len as usize) < INLINE => {
                self.inline.copy_within(i..self.len as usize, i + 1);
                self.inline[i] = (sig, 1);
                self.len += 1;
            }
            Err(i) => {
                if self.len as usize == INLINE {
                    self.spill = self.inline.to_vec();
                }
                self.spill.insert(i, (sig, 1));
                self.len += 1;
            }
        }
    }

    /// Counts one pod fewer with signature `sig`.
    pub(crate) fn remove(&mut self, sig: u32) {
        let Ok(i) = self.as_slice().binary_search_by_key(&sig, |e| e.0) else {
            return;
        };
        let entry = &mut self.as_mut_slice()[i];
        entry.1 -= 1;
        if entry.1 > 0 {
            return;
        }
        if self.len as usize <= INLINE {
            self.inline.copy_within(i + 1..self.len as usize, i);
        } else {
            self.spill.remove(i);
            if self.spill.len() == INLINE {
                self.inline.copy_from_slice(&self.spill);
                self.spill = Vec::new();
            }
        }
        self.len -= 1;
        self.bloom = self.as_slice().iter().fold(0, |m, e| m | sig_bit(e.0));
    }

    /// Forgets every count.
    pub(crate) fn clear(&mut self) {
        *self = SpreadCounts::default();
    }

    /// Pods whose signature is in `sigs` (sorted), whose [`sig_mask`] is `mask`.
    pub(crate) fn count(&self, sigs: &[u32], mask: u64) -> i64 {
        if self.bloom & mask == 0 {
            return 0;
        }
        let entries = self.as_slice();
        if sigs.len() <= 4 {
            return sigs
                .iter()
                .filter_map(|sig| entries.binary_search_by_key(sig, |e| e.0).ok())
                .map(|i| i64::from(entries[i].1))
                .sum();
        }
        // Merge two sorted lists.
        let (mut i, mut j, mut n) = (0, 0, 0i64);
        while i < entries.len() && j < sigs.len() {
            match entries[i].0.cmp(&sigs[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    n += i64::from(entries[i].1);
                    i += 1;
                    j += 1;
                }
            }
        }
        n
    }
}
