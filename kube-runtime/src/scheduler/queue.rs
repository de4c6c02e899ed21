//! The scheduling queue: pending pods in FIFO order, with per-pod exponential backoff.
//!
//! Pure: the caller passes the time in. A pod that failed waits the project's [`Backoff`]
//! (`initial · 2^(attempts-1)`, capped at `max`, unjittered); any change that may let pods fit (a node added, a pod leaving) makes
//! every waiting pod ready at once.

use kube_core::backoff::Backoff;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

/// Pending pods, keyed by `namespace/name`.
#[derive(Debug)]
pub struct SchedulingQueue {
    active: VecDeque<String>,
    queued: HashSet<String>,
    backoff: BTreeSet<(Instant, String)>,
    ready_at: HashMap<String, Instant>,
    attempts: HashMap<String, u32>,
    policy: Backoff,
}

impl SchedulingQueue {
    /// An empty queue with the given backoff bounds.
    pub fn new(initial: Duration, max: Duration) -> SchedulingQueue {
        SchedulingQueue {
            active: VecDeque::new(),
            queued: HashSet::new(),
            backoff: BTreeSet::new(),
            ready_at: HashMap::new(),
            attempts: HashMap::new(),
            policy: Backoff::new(initial, max),
        }
    }

    /// Adds a pod to the active queue unless it is queued or backing off already.
    pub fn add(&mut self, key: &str) {
        if self.queued.contains(key) || self.ready_at.contains_key(key) {
            return;
        }
        self.queued.insert(key.to_string());
        self.active.push_back(key.to_string());
    }

    /// Forgets a pod entirely (bound or deleted).
    pub fn remove(&mut self, key: &str) {
        if self.queued.remove(key) {
            self.active.retain(|k| k != key);
        }
        if let Some(at) = self.ready_at.remove(key) {
            self.backoff.remove(&(at, key.to_string()));
        }
        self.attempts.remove(key);
    }

    /// Takes the next ready pod, first moving pods whose backoff ended at `now` to the active queue.
    pub fn pop(&mut self, now: Instant) -> Option<String> {
        while let Some((at, _)) = self.backoff.first() {
            if *at > now {
                break;
            }
            if let Some((_, key)) = self.backoff.pop_first() {
                self.ready_at.remove(&key);
                if self.queued.insert(key.clone()) {
                    self.active.push_back(key);
                }
            }
        }
        let key = self.active.pop_front()?;
        self.queued.remove(&key);
        Some(key)
    }

    /// Puts a pod that could not be placed back, ready after its backoff; returns the delay.
    pub fn backoff(&mut self, key: &str, now: Instant) -> Duration {
        let attempts = self.attempts.entry(key.to_string()).or_insert(0);
        *attempts += 1;
        let delay = self.policy.base_delay(attempts.saturating_sub(1));
        if self.queued.remove(key) {
            self.active.retain(|k| k != key);
        }
        if let Some(old) = self.ready_at.insert(key.to_string(), now + delay) {
            self.backoff.remove(&(old, key.to_string()));
        }
        self.backoff.insert((now + delay, key.to_string()));
        delay
    }

    /// Clears the failure count of a pod (after a successful bind).
    pub fn forget(&mut self, key: &str) {
        self.attempts.remove(key);
    }

    /// Makes every backing-off pod ready now (the cluster changed).
    pub fn move_all_to_active(&mut self) {
        for (_, key) in std::mem::take(&mut self.backoff) {
            self.ready_at.remove(&key);
            if self.queued.insert(key.clone()) {
                self.active.push_back(key);
            }
        }
    }

    /// When the earliest backing-off pod becomes ready, if any.
    pub fn next_ready_at(&self) -> Option<Instant> {
        self.backoff.first().map(|(at, _)| *at)
    }

    /// Whether a pod is ready to pop now.
    pub fn has_active(&self) -> bool {
        !self.active.is_empty()
    }

    /// Pods waiting, active or backing off.
    pub fn len(&self) -> usize {
        self.active.len() + self.backoff.len()
    }

    /// True when no pod waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q() -> SchedulingQueue {
        SchedulingQueue::new(Duration::from_secs(1), Duration::from_secs(60))
    }

    #[test]
    fn fifo_without_duplicates() {
        let mut q = q();
        let now = Instant::now();
        for k in ["a", "b", "a", "c"] {
            q.add(k);
        }
        let popped: Vec<String> = std::iter::from_fn(|| q.pop(now)).collect();
        assert_eq!(popped, ["a", "b", "c"]);
        assert!(q.is_empty());
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let mut q = q();
        let now = Instant::now();
        let delays: Vec<u64> = (0..9).map(|_| q.backoff("p", now).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        q.forget("p");
        assert_eq!(q.backoff("p", now).as_secs(), 1, "forget resets the count");
    }

    #[test]
    fn backing_off_pods_wait_until_ready_or_moved() {
        let mut q = q();
        let t0 = Instant::now();
        q.add("a");
        assert_eq!(q.pop(t0).as_deref(), Some("a"));
        q.backoff("a", t0);
        q.add("a");
        assert_eq!(q.pop(t0), None, "a backing-off pod is not re-added");
        assert_eq!(q.next_ready_at(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(q.pop(t0 + Duration::from_millis(999)), None);
        assert_eq!(q.pop(t0 + Duration::from_secs(1)).as_deref(), Some("a"));

        q.backoff("a", t0);
        q.backoff("b", t0);
        q.move_all_to_active();
        let mut got: Vec<String> = std::iter::from_fn(|| q.pop(t0)).collect();
        got.sort();
        assert_eq!(
            got,
            ["a", "b"],
            "a cluster change makes every pod ready at once"
        );
    }

    #[test]
    fn remove_forgets_everywhere() {
        let mut q = q();
        let t0 = Instant::now();
        q.add("a");
        q.add("b");
        q.backoff("b", t0);
        q.remove("a");
        q.remove("b");
        assert!(q.is_empty());
        assert_eq!(q.pop(t0 + Duration::from_secs(100)), None);
    }
}
