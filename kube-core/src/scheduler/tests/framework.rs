//! The framework: selection, tie-breaking, sampling, FitError, custom plugins.

use super::builders::{node, pod, Info};
use crate::scheduler::{
    num_feasible_nodes_to_find, FilterPlugin, FitError, Framework, NodeInfo, PodInfo, Reason,
    ScorePlugin, Snapshot, SplitMix64, REASON_NODE_PORTS,
};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

fn cluster(n: usize, cpu: &str, mem: &str) -> Snapshot {
    let mut s = Snapshot::new();
    for i in 0..n {
        s.upsert_node(&node(&format!("n{i}")).cpu(cpu).memory(mem).build());
    }
    s
}

#[test]
fn fit_error_display() {
    let e = FitError {
        num_nodes: 5,
        reasons: BTreeMap::from([
            (REASON_NODE_PORTS.to_string(), 2),
            ("Insufficient cpu".to_string(), 3),
        ]),
    };
    assert_eq!(
        e.to_string(),
        "0/5 nodes are available: 3 Insufficient cpu, 2 node(s) didn't have free ports for the requested pod ports."
    );
    assert_eq!(
        FitError::default().to_string(),
        "0/0 nodes are available: no nodes registered."
    );
    let one = FitError {
        num_nodes: 1,
        reasons: BTreeMap::from([("Too many pods".to_string(), 1)]),
    };
    assert_eq!(one.to_string(), "0/1 nodes are available: 1 Too many pods.");
}

#[test]
fn no_nodes() {
    let err = Framework::new()
        .schedule(&pod("p").info(), &Snapshot::new(), &mut SplitMix64::new(0))
        .unwrap_err();
    assert_eq!((err.num_nodes, err.reasons.len()), (0, 0));
}

/// The seed's case: two redis pods with hostPort 6379 on a one-node cluster.
#[test]
fn second_redis_on_one_node_does_not_fit() {
    let mut s = Snapshot::new();
    s.upsert_node(&node("minion-1").build());
    let fw = Framework::new();
    let mut rng = SplitMix64::new(7);
    let redis = |name: &str| {
        pod(name)
            .label("name", "redis")
            .container_requesting("", "")
            .host_port(6379)
            .info()
    };
    let mut first = redis("redis-1");
    let placed = fw.schedule(&first, &s, &mut rng).unwrap();
    assert_eq!(placed.node, "minion-1");
    first.set_node_name(placed.node);
    s.add_pod(&first);
    let err = fw.schedule(&redis("redis-2"), &s, &mut rng).unwrap_err();
    assert_eq!(
        err.to_string(),
        "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."
    );
    // Once the first one leaves, the second fits.
    s.remove_pod(first.key());
    assert!(fw.schedule(&redis("redis-2"), &s, &mut rng).is_ok());
}

#[test]
fn fit_error_counts_first_failing_filter_per_node() {
    let mut s = Snapshot::new();
    s.upsert_node(&node("small-1").cpu("100m").memory("1Gi").build());
    s.upsert_node(&node("small-2").cpu("100m").memory("1Gi").build());
    s.upsert_node(&node("small-3").cpu("100m").memory("1Gi").build());
    s.upsert_node(&node("busy-1").cpu("8").memory("8Gi").build());
    s.upsert_node(&node("busy-2").cpu("8").memory("8Gi").build());
    // Unschedulable and short of CPU: counted once, as unschedulable.
    s.upsert_node(&node("cordoned").cpu("100m").unschedulable().build());
    s.add_pod(&pod("web-a").host_port(80).node("busy-1").info());
    s.add_pod(&pod("web-b").host_port(80).node("busy-2").info());
    let err = Framework::new()
        .schedule(
            &pod("p").container_requesting("1", "").host_port(80).info(),
            &s,
            &mut SplitMix64::new(1),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "0/6 nodes are available: 3 Insufficient cpu, 2 node(s) didn't have free ports for the requested pod ports, \
         1 node(s) were unschedulable."
    );
    assert_eq!(err.reasons.values().sum::<usize>(), 6);
}

#[test]
fn picks_the_best_node() {
    let mut s = cluster(3, "4", "8Gi");
    s.add_pod(&pod("a").container_requesting("3", "6Gi").node("n0").info());
    s.add_pod(&pod("b").container_requesting("1", "2Gi").node("n2").info());
    let r = Framework::new()
        .schedule(
            &pod("p").container_requesting("1", "1Gi").info(),
            &s,
            &mut SplitMix64::new(3),
        )
        .unwrap();
    assert_eq!(
        r,
        crate::scheduler::ScheduleResult {
            node: "n1".into(),
            evaluated_nodes: 3,
            feasible_nodes: 3
        }
    );
}

#[test]
fn ties_are_broken_deterministically_and_uniformly() {
    let s = cluster(4, "4", "8Gi");
    let fw = Framework::new();
    let p = pod("p").container_requesting("1", "1Gi").info();
    let run = |seed: u64| -> Vec<String> {
        let mut rng = SplitMix64::new(seed);
        (0..40)
            .map(|_| fw.schedule(&p, &s, &mut rng).unwrap().node)
            .collect()
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
    let mut rng = SplitMix64::new(9);
    let mut counts: HashMap<String, usize> = HashMap::new();
    for _ in 0..4000 {
        *counts
            .entry(fw.schedule(&p, &s, &mut rng).unwrap().node)
            .or_default() += 1;
    }
    assert_eq!(counts.len(), 4);
    for (n, c) in &counts {
        assert!((850..=1150).contains(c), "{n} chosen {c} times of 4000");
    }
}

#[test]
fn spreads_replicas_over_identical_nodes() {
    let mut s = cluster(4, "4", "8Gi");
    s.set_spread_selectors(vec![BTreeMap::from([(
        "app".to_string(),
        "web".to_string(),
    )])]);
    let fw = Framework::new();
    let mut rng = SplitMix64::new(5);
    for i in 0..8 {
        // No requests, so only spreading tells the nodes apart.
        let mut p = pod(&format!("web-{i}")).label("app", "web").info();
        let r = fw.schedule(&p, &s, &mut rng).unwrap();
        p.set_node_name(r.node);
        s.add_pod(&p);
    }
    for n in s.nodes() {
        assert_eq!(n.pod_count(), 2, "{}", n.name());
    }
}

#[test]
fn feasible_nodes_to_find() {
    // (nodes, percentage, nodes to find)
    let cases = [
        (0, 0, 0),
        (1, 0, 1),
        (99, 0, 99),
        (100, 0, 100),
        (500, 0, 230),
        (1000, 0, 420),
        (5000, 0, 500),
        (6000, 0, 300),
        (10000, 0, 500),
        (1000, 50, 500),
        (1000, 5, 100),
        (1000, 100, 1000),
        (1000, 200, 1000),
        (50, 10, 50),
    ];
    for (n, pct, want) in cases {
        assert_eq!(
            num_feasible_nodes_to_find(n, pct),
            want,
            "{n} nodes at {pct}%"
        );
    }
}

#[test]
fn samples_large_clusters_from_a_rotating_start() {
    let s = cluster(1000, "4", "8Gi");
    let fw = Framework::new();
    let p = pod("p").container_requesting("100m", "").info();
    let mut rng = SplitMix64::new(1);
    let a = fw.schedule(&p, &s, &mut rng).unwrap();
    assert_eq!((a.evaluated_nodes, a.feasible_nodes), (420, 420));
    // The next decision starts where the last one stopped: nodes 420.. then 840.. wrapping.
    let b = fw.schedule(&p, &s, &mut rng).unwrap();
    let index = |name: &str| name[1..].parse::<usize>().unwrap();
    assert!((420..840).contains(&index(&b.node)), "{}", b.node);
    let c = fw.schedule(&p, &s, &mut rng).unwrap();
    let ci = index(&c.node);
    assert!(!(260..840).contains(&ci), "{}", c.node);

    let all = Framework::new().with_percentage_of_nodes_to_score(100);
    assert_eq!(
        all.schedule(&p, &s, &mut rng).unwrap().evaluated_nodes,
        1000
    );
}

#[test]
fn sampling_never_misses_the_only_feasible_node() {
    let mut s = Snapshot::new();
    for i in 0..500 {
        let b = node(&format!("n{i}")).cpu("1").memory("1Gi");
        s.upsert_node(&if i == 377 {
            b.build()
        } else {
            b.unschedulable().build()
        });
    }
    let fw = Framework::new();
    let mut rng = SplitMix64::new(2);
    for _ in 0..5 {
        let r = fw.schedule(&pod("p").info(), &s, &mut rng).unwrap();
        assert_eq!((r.node.as_str(), r.feasible_nodes), ("n377", 1));
    }
    s.upsert_node(&node("n377").unschedulable().build());
    let err = fw.schedule(&pod("p").info(), &s, &mut rng).unwrap_err();
    assert_eq!(
        err.to_string(),
        "0/500 nodes are available: 500 node(s) were unschedulable."
    );
}

/// Rejects nodes whose name is in a deny list, with a dynamic reason.
struct DenyList(Vec<&'static str>);

impl FilterPlugin for DenyList {
    fn name(&self) -> &'static str {
        "DenyList"
    }

    fn filter(&self, _pod: &PodInfo, node: &NodeInfo) -> Result<(), Reason> {
        if self.0.contains(&node.name()) {
            return Err(Cow::Owned(format!("node(s) denied by {}", self.name())));
        }
        Ok(())
    }
}

/// Scores nodes labelled `tier=gold` highest.
struct Gold;

impl ScorePlugin for Gold {
    fn name(&self) -> &'static str {
        "Gold"
    }

    fn score(&self, _pod: &PodInfo, node: &NodeInfo, _snapshot: &Snapshot) -> i64 {
        if node.labels().get("tier").map(String::as_str) == Some("gold") {
            100
        } else {
            0
        }
    }
}

#[test]
fn custom_plugins() {
    let mut s = Snapshot::new();
    s.upsert_node(&node("a").cpu("4").memory("8Gi").build());
    s.upsert_node(
        &node("b")
            .cpu("1")
            .memory("1Gi")
            .label("tier", "gold")
            .build(),
    );
    s.upsert_node(
        &node("c")
            .cpu("4")
            .memory("8Gi")
            .label("tier", "gold")
            .build(),
    );
    let mut rng = SplitMix64::new(4);
    let p = pod("p").container_requesting("500m", "512Mi").info();

    // Default plugins prefer the big nodes; the Gold score with a heavy weight prefers gold ones.
    let fw = Framework::new()
        .with_filter(Box::new(DenyList(vec!["c"])))
        .with_score(Box::new(Gold), 10);
    assert_eq!(fw.filter_names().last(), Some(&"DenyList"));
    assert_eq!(fw.score_names().last(), Some(&("Gold", 10)));
    assert_eq!(fw.schedule(&p, &s, &mut rng).unwrap().node, "b");

    let only_custom = Framework::empty().with_filter(Box::new(DenyList(vec!["a", "b", "c"])));
    let err = only_custom.schedule(&p, &s, &mut rng).unwrap_err();
    assert_eq!(
        err.to_string(),
        "0/3 nodes are available: 3 node(s) denied by DenyList."
    );

    // No plugins at all: any node, at random.
    let empty = Framework::empty();
    let r = empty.schedule(&p, &s, &mut rng).unwrap();
    assert_eq!((r.evaluated_nodes, r.feasible_nodes), (3, 3));
    assert!(format!("{:?}", Framework::new()).contains("NodePorts"));
}

#[test]
fn framework_and_snapshot_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Framework>();
    assert_send_sync::<Snapshot>();
    assert_send_sync::<PodInfo>();
    assert_send_sync::<FitError>();
}

#[test]
fn a_score_that_cannot_tell_nodes_apart_is_skipped_without_changing_the_choice() {
    // No spread selectors: SelectorSpread is irrelevant, and the result equals a framework without it.
    let mut s = cluster(5, "4", "8Gi");
    s.add_pod(&pod("a").container_requesting("2", "1Gi").node("n0").info());
    s.add_pod(&pod("b").container_requesting("1", "4Gi").node("n3").info());
    let p = pod("p")
        .label("app", "web")
        .container_requesting("500m", "1Gi")
        .info();
    let with = Framework::new();
    let without = Framework::empty()
        .with_filter(Box::new(crate::scheduler::NodeResourcesFit))
        .with_score(Box::new(crate::scheduler::LeastAllocated), 1)
        .with_score(Box::new(crate::scheduler::BalancedAllocation), 1);
    for seed in 0..20 {
        let a = with.schedule(&p, &s, &mut SplitMix64::new(seed)).unwrap();
        let b = without
            .schedule(&p, &s, &mut SplitMix64::new(seed))
            .unwrap();
        assert_eq!(a, b, "seed {seed}");
    }
}
