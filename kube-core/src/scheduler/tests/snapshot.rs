//! PodInfo, NodeInfo and Snapshot bookkeeping.

use super::builders::{node, pod, Info};
use crate::scheduler::{
    pod_key, HostPort, NodeInfo, PodInfo, Snapshot, SpreadSelector, DEFAULT_MAX_PODS,
    DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST,
};
use std::collections::BTreeMap;

const MI: i64 = 1024 * 1024;
const GI: i64 = 1024 * MI;

#[test]
fn pod_info_requests() {
    // (pod, milli_cpu, memory, non-zero milli_cpu, non-zero memory)
    let cases: Vec<(PodInfo, i64, i64, i64, i64)> = vec![
        (pod("none").info(), 0, 0, 0, 0),
        (
            pod("empty-container").container_requesting("", "").info(),
            0,
            0,
            DEFAULT_MILLI_CPU_REQUEST,
            DEFAULT_MEMORY_REQUEST,
        ),
        (
            pod("one").container_requesting("500m", "1Gi").info(),
            500,
            GI,
            500,
            GI,
        ),
        (
            pod("two")
                .container_requesting("500m", "1Gi")
                .container_requesting("250m", "")
                .info(),
            750,
            GI,
            750,
            GI + DEFAULT_MEMORY_REQUEST,
        ),
        (
            pod("limits")
                .container_requesting("", "")
                .limits("2", "64Mi")
                .info(),
            2000,
            64 * MI,
            2000,
            64 * MI,
        ),
        (
            pod("req-wins")
                .container_requesting("100m", "")
                .limits("2", "")
                .info(),
            100,
            0,
            100,
            DEFAULT_MEMORY_REQUEST,
        ),
        (
            pod("explicit-zero").container_requesting("0", "0").info(),
            0,
            0,
            0,
            0,
        ),
        (
            pod("unparsable").container_requesting("lots", "1Gi").info(),
            0,
            GI,
            0,
            GI,
        ),
        (
            pod("fraction").container_requesting("0.1", "1.5Gi").info(),
            100,
            3 * GI / 2,
            100,
            3 * GI / 2,
        ),
    ];
    for (info, cpu, mem, nz_cpu, nz_mem) in cases {
        let name = info.name().to_string();
        assert_eq!(info.milli_cpu(), cpu, "{name} cpu");
        assert_eq!(info.memory(), mem, "{name} memory");
        assert_eq!(info.non_zero_milli_cpu(), nz_cpu, "{name} non-zero cpu");
        assert_eq!(info.non_zero_memory(), nz_mem, "{name} non-zero memory");
    }
}

#[test]
fn pod_info_identity_and_ports() {
    let mut p = pod("web")
        .namespace("prod")
        .label("app", "web")
        .node_selector("zone", "a")
        .container_requesting("", "")
        .host_port(80)
        .host_port_on("::", "UDP", 53)
        .host_port_on("10.0.0.1", "TCP", 8080)
        .node("n1")
        .build();
    p.metadata.uid = "u-1".into();
    p.spec.containers[0].ports.push(crate::pod::ContainerPort {
        container_port: 9000,
        ..Default::default()
    });
    let info = PodInfo::new(&p);
    assert_eq!(info.key(), "prod/web");
    assert_eq!(
        (info.namespace(), info.name(), info.uid(), info.node_name()),
        ("prod", "web", "u-1", "n1")
    );
    assert_eq!(info.labels().get("app").map(String::as_str), Some("web"));
    assert_eq!(
        info.node_selector().get("zone").map(String::as_str),
        Some("a")
    );
    assert_eq!(
        info.host_ports(),
        &[
            HostPort::new("0.0.0.0", "TCP", 80),
            HostPort::new("0.0.0.0", "UDP", 53),
            HostPort::new("10.0.0.1", "TCP", 8080)
        ]
    );
    assert!(!info.is_terminating());

    // hostNetwork: the container port is bound on the host.
    p.spec.host_network = true;
    assert!(PodInfo::new(&p)
        .host_ports()
        .contains(&HostPort::new("", "TCP", 9000)));

    assert_eq!(pod_key("", "n"), "n");
    assert_eq!(pod_key("ns", "n"), "ns/n");
}

#[test]
fn host_port_conflicts() {
    let hp = HostPort::new;
    // (a, b, conflict)
    let cases = [
        (hp("", "", 80), hp("0.0.0.0", "TCP", 80), true),
        (hp("", "TCP", 80), hp("", "TCP", 81), false),
        (hp("", "TCP", 80), hp("", "UDP", 80), false),
        (hp("127.0.0.1", "TCP", 80), hp("127.0.0.1", "TCP", 80), true),
        (
            hp("127.0.0.1", "TCP", 80),
            hp("127.0.0.2", "TCP", 80),
            false,
        ),
        (hp("127.0.0.1", "TCP", 80), hp("", "TCP", 80), true),
        (hp("0.0.0.0", "TCP", 80), hp("10.1.1.1", "TCP", 80), true),
        (hp("::", "TCP", 80), hp("10.1.1.1", "TCP", 80), true),
    ];
    for (a, b, want) in cases {
        assert_eq!(a.conflicts_with(&b), want, "{a:?} vs {b:?}");
        assert_eq!(b.conflicts_with(&a), want, "{b:?} vs {a:?}");
    }
}

#[test]
fn node_info_from_node() {
    let n = node("n1").cpu("2").memory("4Gi").label("zone", "a").info();
    assert_eq!(
        (n.name(), n.allocatable_milli_cpu(), n.allocatable_memory()),
        ("n1", 2000, 4 * GI)
    );
    assert_eq!(n.max_pods(), DEFAULT_MAX_PODS);
    assert!(n.is_ready() && !n.is_unschedulable());
    assert_eq!(n.labels().get("zone").map(String::as_str), Some("a"));

    // Allocatable falls back to capacity per resource; unparsable counts as absent.
    let n = node("n2")
        .cpu("1")
        .capacity("cpu", "4")
        .capacity("memory", "1Gi")
        .pods("x")
        .capacity("pods", "3")
        .info();
    assert_eq!(
        (
            n.allocatable_milli_cpu(),
            n.allocatable_memory(),
            n.max_pods()
        ),
        (1000, GI, 3)
    );
    let n = node("n3").cpu("many").pods("7").info();
    assert_eq!(
        (
            n.allocatable_milli_cpu(),
            n.allocatable_memory(),
            n.max_pods()
        ),
        (0, 0, 7)
    );

    // Readiness: no conditions, or Ready=True, is ready; Ready=False/Unknown is not.
    let ready = |b: super::builders::NodeBuilder| b.info().is_ready();
    assert!(ready(node("a")));
    assert!(ready(node("b").condition("Ready", "True")));
    assert!(ready(node("c").condition("MemoryPressure", "False")));
    assert!(!ready(node("d").not_ready()));
    assert!(!ready(node("e").condition("Ready", "Unknown")));
    assert!(node("f").unschedulable().info().is_unschedulable());
}

#[test]
fn node_info_accounting() {
    let mut n = node("n1").cpu("4").memory("8Gi").info();
    let a = pod("a")
        .container_requesting("1", "1Gi")
        .host_port(80)
        .info();
    let b = pod("b")
        .container_requesting("500m", "")
        .host_port_on("10.0.0.1", "UDP", 53)
        .info();
    n.add_pod(&a);
    n.add_pod(&b);
    n.add_pod(&a); // replaces, does not double count
    assert_eq!(
        (n.requested_milli_cpu(), n.requested_memory(), n.pod_count()),
        (1500, GI, 2)
    );
    assert_eq!(n.non_zero_memory(), GI + DEFAULT_MEMORY_REQUEST);
    assert!(n.port_conflicts(&HostPort::new("", "TCP", 80)));
    assert!(n.port_conflicts(&HostPort::new("", "UDP", 53)));
    assert!(!n.port_conflicts(&HostPort::new("10.0.0.2", "UDP", 53)));
    assert_eq!(n.used_ports().count(), 2);
    assert!(n.remove_pod("default/a"));
    assert!(!n.remove_pod("default/a"));
    assert!(!n.port_conflicts(&HostPort::new("", "TCP", 80)));
    assert_eq!(
        (n.requested_milli_cpu(), n.requested_memory(), n.pod_count()),
        (500, 0, 1)
    );
    assert!(n.has_pod("default/b") && !n.has_pod("default/a"));
    assert!(n.remove_pod("default/b"));
    assert!(n.has_no_host_ports());
    assert_eq!((n.non_zero_milli_cpu(), n.non_zero_memory()), (0, 0));
}

fn snapshot_with(nodes: &[&str]) -> Snapshot {
    let mut s = Snapshot::new();
    for name in nodes {
        s.upsert_node(&node(name).cpu("4").memory("8Gi").build());
    }
    s
}

#[test]
fn snapshot_nodes_and_pods() {
    let mut s = snapshot_with(&["n1", "n2", "n3"]);
    assert_eq!(s.num_nodes(), 3);
    s.add_pod(&pod("a").container_requesting("1", "1Gi").node("n1").info());
    s.add_pod(&pod("b").container_requesting("1", "").node("n2").info());
    s.add_pod(&pod("unbound").container_requesting("1", "").info()); // ignored
    assert!(s.has_pod("default/a") && !s.has_pod("default/unbound"));
    assert_eq!(s.num_pods(), 2);

    // Updating a node keeps its pods.
    s.upsert_node(&node("n1").cpu("8").memory("8Gi").unschedulable().build());
    let n1 = s.node("n1").unwrap();
    assert_eq!(
        (
            n1.allocatable_milli_cpu(),
            n1.requested_milli_cpu(),
            n1.pod_count()
        ),
        (8000, 1000, 1)
    );
    assert!(n1.is_unschedulable());

    // Re-adding a pod on another node moves it.
    s.add_pod(&pod("a").container_requesting("1", "1Gi").node("n3").info());
    assert_eq!(s.node("n1").unwrap().pod_count(), 0);
    assert_eq!(s.node("n3").unwrap().requested_memory(), GI);

    // Removing a node keeps the index consistent, and its pods come back with it.
    s.remove_node("n1");
    s.remove_node("n3");
    assert_eq!(s.num_nodes(), 1);
    assert_eq!(s.nodes()[0].name(), "n2");
    assert!(s.node("n1").is_none() && s.node("n2").is_some());
    assert!(s.has_pod("default/a"));
    s.upsert_node(&node("n3").cpu("4").memory("8Gi").build());
    assert_eq!(s.node("n3").unwrap().requested_memory(), GI);

    s.remove_pod("default/a");
    s.remove_pod("default/missing");
    assert_eq!(s.node("n3").unwrap().pod_count(), 0);
    assert_eq!(s.pod("default/b").map(PodInfo::node_name), Some("n2"));
}

#[test]
fn snapshot_pods_wait_for_their_node() {
    let mut s = Snapshot::new();
    s.add_pod(
        &pod("early")
            .container_requesting("1", "")
            .host_port(80)
            .node("late")
            .info(),
    );
    s.add_pod(
        &pod("gone")
            .container_requesting("1", "")
            .node("late")
            .info(),
    );
    s.remove_pod("default/gone");
    assert!(s.has_pod("default/early"));
    s.upsert_node(&node("late").cpu("2").build());
    let n = s.node("late").unwrap();
    assert_eq!((n.requested_milli_cpu(), n.pod_count()), (1000, 1));
    assert!(n.port_conflicts(&HostPort::new("", "TCP", 80)));
}

/// The raw spread count of a pod with `labels` in `ns` on each of `nodes`.
fn spread_counts(s: &Snapshot, ns: &str, labels: &[(&str, &str)], nodes: &[&str]) -> Vec<i64> {
    use crate::scheduler::{ScorePlugin, SelectorSpread};
    let mut b = pod("probe").namespace(ns);
    for (k, v) in labels {
        b = b.label(k, v);
    }
    let probe = b.info();
    nodes
        .iter()
        .map(|n| SelectorSpread.score(&probe, s.node(n).unwrap(), s))
        .collect()
}

fn sel(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn snapshot_spread_counts() {
    let mut s = snapshot_with(&["n1", "n2"]);
    let web = |name: &str, track: &str, n: &str| {
        pod(name)
            .label("app", "web")
            .label("track", track)
            .node(n)
            .info()
    };
    s.add_pod(&web("w1", "stable", "n1"));
    s.add_pod(&web("w2", "canary", "n1"));
    s.add_pod(&web("w3", "stable", "n2"));
    s.add_pod(&pod("db").label("app", "db").node("n2").info());
    s.add_pod(
        &pod("other-ns")
            .namespace("other")
            .label("app", "web")
            .node("n2")
            .info(),
    );
    let nodes = ["n1", "n2"];
    // No selectors: nothing counts.
    assert_eq!(
        spread_counts(&s, "default", &[("app", "web")], &nodes),
        [0, 0]
    );

    // A service over all web pods, and an RC over the canary track; empty and duplicate selectors are ignored.
    s.set_spread_selectors(vec![
        sel(&[("app", "web")]),
        sel(&[("app", "web"), ("track", "canary")]),
        sel(&[("app", "web")]),
        sel(&[]),
    ]);
    assert_eq!(s.spread_selectors().len(), 2);
    let canary = [("app", "web"), ("track", "canary")];
    // Pods matching both selectors count once ("any").
    assert_eq!(spread_counts(&s, "default", &canary, &nodes), [2, 2]);
    assert_eq!(
        spread_counts(&s, "default", &[("app", "web")], &nodes),
        [2, 2]
    );
    assert_eq!(
        spread_counts(&s, "default", &[("app", "db")], &nodes),
        [0, 0]
    );

    // Namespaced selectors only count pods of their namespace.
    s.set_namespaced_spread_selectors(vec![SpreadSelector {
        namespace: "default".into(),
        selector: sel(&[("app", "web")]),
    }]);
    assert_eq!(
        spread_counts(&s, "default", &[("app", "web")], &nodes),
        [2, 1]
    );
    assert_eq!(
        spread_counts(&s, "other", &[("app", "web")], &nodes),
        [0, 0]
    );

    // Incremental updates.
    s.remove_pod("default/w1");
    s.add_pod(&web("w4", "stable", "n2"));
    let mut dying = pod("dying").label("app", "web").node("n1").build();
    dying.metadata.deletion_timestamp = "2024-01-01T00:00:00Z".into();
    s.add_pod(&PodInfo::new(&dying));
    assert_eq!(
        spread_counts(&s, "default", &[("app", "web")], &nodes),
        [1, 2]
    );
    s.remove_node("n2");
    s.upsert_node(&node("n2").build());
    assert_eq!(
        spread_counts(&s, "default", &[("app", "web")], &nodes),
        [1, 2]
    );
}

#[test]
fn node_info_standalone_has_no_spread() {
    let mut n: NodeInfo = node("n").info();
    n.add_pod(&pod("a").label("app", "web").info());
    assert_eq!(n.spread_count(&[0, 1, 2, 3], u64::MAX), 0);
}

#[test]
fn spread_counts_match_a_map_through_inline_spill_and_back() {
    use crate::scheduler::spread::{sig_mask, SpreadCounts};
    use crate::scheduler::{uniform, SplitMix64};
    let mut rng = SplitMix64::new(11);
    let mut counts = SpreadCounts::default();
    let mut model: BTreeMap<u32, i64> = BTreeMap::new();
    for step in 0..4000 {
        // Few distinct signatures at first (inline), many later (spilled), then draining.
        let range = if step < 1000 { 4 } else { 130 };
        let sig = uniform(&mut rng, range) as u32;
        let add = step < 3000 && uniform(&mut rng, 3) > 0 || model.is_empty();
        if add {
            counts.add(sig);
            *model.entry(sig).or_default() += 1;
        } else {
            let sig = *model
                .keys()
                .nth(uniform(&mut rng, model.len() as u64) as usize)
                .unwrap();
            counts.remove(sig);
            let n = model.get_mut(&sig).unwrap();
            *n -= 1;
            if *n == 0 {
                model.remove(&sig);
            }
        }
        for probe in [
            vec![sig],
            vec![0, 1, 2, 3, 64, 65, 100, 129],
            vec![sig, sig + 1],
        ] {
            let want: i64 = probe
                .iter()
                .map(|s| model.get(s).copied().unwrap_or(0))
                .sum();
            assert_eq!(
                counts.count(&probe, sig_mask(&probe)),
                want,
                "step {step} probe {probe:?}"
            );
        }
    }
    counts.clear();
    assert_eq!(counts.count(&[0], u64::MAX), 0);
}
