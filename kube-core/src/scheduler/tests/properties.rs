//! Property tests over random clusters and pod streams (SplitMix64-seeded, no external crates):
//! the scheduler never overcommits a node and never places a pod where a filter fails, a
//! FitError means no node fits (checked by brute force against an independent model), and the
//! incremental snapshot equals one rebuilt from scratch.

use super::builders::{node, pod, Info, NodeBuilder};
use crate::node::Node;
use crate::scheduler::{
    uniform, Framework, HostPort, PodInfo, Rng, ScorePlugin, SelectorSpread, Snapshot, SplitMix64,
    REASON_INSUFFICIENT_CPU, REASON_INSUFFICIENT_MEMORY, REASON_NODE_PORTS, REASON_NODE_SELECTOR,
    REASON_NOT_READY, REASON_TOO_MANY_PODS, REASON_UNSCHEDULABLE,
};
use std::collections::{BTreeMap, HashMap};

/// A node of the reference model, in plain numbers.
#[derive(Clone, Debug)]
struct RefNode {
    obj: Node,
    cpu: i64,
    mem: i64,
    max_pods: i64,
    labels: BTreeMap<String, String>,
    ready: bool,
    unschedulable: bool,
    present: bool,
}

/// The reference model: nodes and the pods placed on them.
#[derive(Default)]
struct Model {
    nodes: Vec<RefNode>,
    /// Node name → pod key → pod.
    by_node: BTreeMap<String, BTreeMap<String, PodInfo>>,
    /// Pod key → node name.
    pods: BTreeMap<String, String>,
}

impl Model {
    fn pods_on<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a PodInfo> + 'a {
        self.by_node.get(name).into_iter().flat_map(|m| m.values())
    }

    fn add(&mut self, p: PodInfo) {
        self.pods
            .insert(p.key().to_string(), p.node_name().to_string());
        self.by_node
            .entry(p.node_name().to_string())
            .or_default()
            .insert(p.key().to_string(), p);
    }

    fn remove(&mut self, key: &str) {
        if let Some(node) = self.pods.remove(key) {
            self.by_node.get_mut(&node).unwrap().remove(key);
        }
    }

    /// The first default filter `pod` fails on node `i`, by brute force; `None` when it fits.
    fn first_failure(&self, pod: &PodInfo, i: usize) -> Option<&'static str> {
        let n = &self.nodes[i];
        let name = n.obj.metadata.name.as_str();
        if n.unschedulable {
            return Some(REASON_UNSCHEDULABLE);
        }
        if !n.ready {
            return Some(REASON_NOT_READY);
        }
        if pod
            .node_selector()
            .iter()
            .any(|(k, v)| n.labels.get(k) != Some(v))
        {
            return Some(REASON_NODE_SELECTOR);
        }
        let on: Vec<&PodInfo> = self.pods_on(name).collect();
        let conflict = |a: &HostPort, b: &HostPort| {
            a.port == b.port
                && a.protocol == b.protocol
                && (a.ip == b.ip || a.ip == "0.0.0.0" || b.ip == "0.0.0.0")
        };
        if pod.host_ports().iter().any(|a| {
            on.iter()
                .any(|o| o.host_ports().iter().any(|b| conflict(a, b)))
        }) {
            return Some(REASON_NODE_PORTS);
        }
        let cpu: i64 = on.iter().map(|p| p.milli_cpu()).sum();
        let mem: i64 = on.iter().map(|p| p.memory()).sum();
        if pod.milli_cpu() > 0 && cpu + pod.milli_cpu() > n.cpu {
            return Some(REASON_INSUFFICIENT_CPU);
        }
        if pod.memory() > 0 && mem + pod.memory() > n.mem {
            return Some(REASON_INSUFFICIENT_MEMORY);
        }
        if on.len() as i64 + 1 > n.max_pods {
            return Some(REASON_TOO_MANY_PODS);
        }
        None
    }

    /// Every present node (or only `only`) within its CPU, memory, pod count, and without conflicting host ports.
    fn check_invariants(&self, snapshot: &Snapshot, ctx: &str, only: Option<&str>) {
        let wanted = |n: &&RefNode| n.present && only.is_none_or(|o| o == n.obj.metadata.name);
        for n in self.nodes.iter().filter(wanted) {
            let name = n.obj.metadata.name.as_str();
            let on: Vec<&PodInfo> = self.pods_on(name).collect();
            let cpu: i64 = on.iter().map(|p| p.milli_cpu()).sum();
            let mem: i64 = on.iter().map(|p| p.memory()).sum();
            assert!(cpu <= n.cpu, "{ctx}: {name} cpu {cpu} > {}", n.cpu);
            assert!(mem <= n.mem, "{ctx}: {name} memory {mem} > {}", n.mem);
            assert!(
                on.len() as i64 <= n.max_pods,
                "{ctx}: {name} has {} pods > {}",
                on.len(),
                n.max_pods
            );
            let ports: Vec<(&str, &HostPort)> = on
                .iter()
                .flat_map(|p| p.host_ports().iter().map(move |h| (p.key(), h)))
                .collect();
            for (i, (ka, a)) in ports.iter().enumerate() {
                for (kb, b) in &ports[i + 1..] {
                    assert!(
                        !a.conflicts_with(b),
                        "{ctx}: {name}: {ka} {a:?} conflicts with {kb} {b:?}"
                    );
                }
            }
            let info = snapshot
                .node(name)
                .unwrap_or_else(|| panic!("{ctx}: {name} missing"));
            assert_eq!(
                (
                    info.requested_milli_cpu(),
                    info.requested_memory(),
                    info.pod_count()
                ),
                (cpu, mem, on.len()),
                "{ctx}: {name} accounting"
            );
        }
        assert_eq!(
            snapshot.num_nodes(),
            self.nodes.iter().filter(|n| n.present).count(),
            "{ctx}"
        );
    }
}

fn pick<'a, T>(rng: &mut SplitMix64, items: &'a [T]) -> &'a T {
    &items[uniform(rng, items.len() as u64) as usize]
}

fn pick_str<'a>(rng: &mut SplitMix64, items: &[&'a str]) -> &'a str {
    items[uniform(rng, items.len() as u64) as usize]
}

fn chance(rng: &mut SplitMix64, percent: u64) -> bool {
    uniform(rng, 100) < percent
}

/// A random node and the model's view of it.
fn random_node(rng: &mut SplitMix64, name: &str) -> RefNode {
    const GI: i64 = 1024 * 1024 * 1024;
    let (cpu_q, cpu) = *pick(
        rng,
        &[
            ("", 0),
            ("500m", 500),
            ("1", 1000),
            ("2", 2000),
            ("4", 4000),
        ],
    );
    let (mem_q, mem) = *pick(
        rng,
        &[("", 0), ("512Mi", GI / 2), ("1Gi", GI), ("4Gi", 4 * GI)],
    );
    let (pods_q, max_pods) = *pick(
        rng,
        &[("", 110), ("", 110), ("0", 0), ("1", 1), ("3", 3), ("8", 8)],
    );
    let mut b: NodeBuilder = node(name);
    let via_capacity = chance(rng, 30);
    for (res, q) in [("cpu", cpu_q), ("memory", mem_q), ("pods", pods_q)] {
        if q.is_empty() {
            continue;
        }
        if via_capacity {
            b = b.capacity(res, q);
        } else {
            b = b.capacity(res, "1000");
            b = b.allocatable(res, q);
        }
    }
    let mut labels = BTreeMap::new();
    if chance(rng, 80) {
        labels.insert("zone".to_string(), pick(rng, &["a", "b", "c"]).to_string());
    }
    if chance(rng, 50) {
        labels.insert("disk".to_string(), pick(rng, &["ssd", "hdd"]).to_string());
    }
    for (k, v) in &labels {
        b = b.label(k, v);
    }
    let unschedulable = chance(rng, 10);
    if unschedulable {
        b = b.unschedulable();
    }
    let ready = match uniform(rng, 10) {
        0 => {
            b = b.not_ready();
            false
        }
        1..=3 => {
            b = b.condition("Ready", "True");
            true
        }
        _ => true,
    };
    RefNode {
        obj: b.build(),
        cpu,
        mem,
        max_pods,
        labels,
        ready,
        unschedulable,
        present: true,
    }
}

/// A random pending pod.
fn random_pod(rng: &mut SplitMix64, name: &str) -> PodInfo {
    let mut b = pod(name).namespace(pick_str(rng, &["default", "default", "other"]));
    for _ in 0..uniform(rng, 3) {
        let cpu = *pick(rng, &["", "0", "100m", "250m", "500m", "1"]);
        let mem = *pick(rng, &["", "0", "128Mi", "256Mi", "1Gi"]);
        b = if chance(rng, 25) {
            b.container_requesting("", "").limits(cpu, mem)
        } else {
            b.container_requesting(cpu, mem)
        };
    }
    if chance(rng, 30) {
        let ip = *pick(rng, &["", "", "127.0.0.1", "10.0.0.1"]);
        let proto = *pick(rng, &["", "TCP", "UDP"]);
        b = b.host_port_on(ip, proto, *pick(rng, &[80, 443, 6379]));
    }
    if chance(rng, 20) {
        b = b.node_selector("zone", pick_str(rng, &["a", "b", "c"]));
    }
    if chance(rng, 10) {
        b = b.node_selector("disk", "ssd");
    }
    b = b.label("app", pick_str(rng, &["web", "db", "cache"]));
    if chance(rng, 50) {
        b = b.label("track", pick_str(rng, &["stable", "canary"]));
    }
    b.info()
}

fn random_selectors(rng: &mut SplitMix64) -> Vec<BTreeMap<String, String>> {
    let all: [&[(&str, &str)]; 5] = [
        &[("app", "web")],
        &[("app", "db")],
        &[("app", "web"), ("track", "canary")],
        &[("track", "stable")],
        &[("app", "cache"), ("track", "stable")],
    ];
    all.iter()
        .filter(|_| chance(rng, 50))
        .map(|pairs| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Spread count of `probe` on node `name`, by brute force over the model.
fn ref_spread(
    model: &Model,
    selectors: &[BTreeMap<String, String>],
    probe: &PodInfo,
    name: &str,
) -> i64 {
    let matches = |s: &BTreeMap<String, String>, p: &PodInfo| {
        s.iter().all(|(k, v)| p.labels().get(k) == Some(v))
    };
    let relevant: Vec<&BTreeMap<String, String>> =
        selectors.iter().filter(|s| matches(s, probe)).collect();
    model
        .pods_on(name)
        .filter(|p| relevant.iter().any(|s| matches(s, p)))
        .count() as i64
}

/// One random cluster and pod stream.
fn run_cluster(seed: u64) {
    let mut rng = SplitMix64::new(seed);
    let num_nodes = if chance(&mut rng, 5) {
        100 + uniform(&mut rng, 100)
    } else {
        1 + uniform(&mut rng, 30)
    };
    let mut model = Model::default();
    let mut snapshot = Snapshot::new();
    for i in 0..num_nodes {
        let n = random_node(&mut rng, &format!("node-{i}"));
        snapshot.upsert_node(&n.obj);
        model.nodes.push(n);
    }
    let mut selectors = random_selectors(&mut rng);
    snapshot.set_spread_selectors(selectors.clone());
    let fw = Framework::new();
    let num_pods = 1 + uniform(&mut rng, 200);
    for step in 0..num_pods {
        let ctx = format!("seed {seed} step {step}");
        // The node whose accounting changed; `None` for all of them.
        let touched: Option<String> = match uniform(&mut rng, 100) {
            // A pod leaves.
            0..=9 if !model.pods.is_empty() => {
                let keys: Vec<String> = model.pods.keys().cloned().collect();
                let key = pick(&mut rng, &keys).clone();
                let node = model.pods[&key].clone();
                model.remove(&key);
                snapshot.remove_pod(&key);
                Some(node)
            }
            // A node is cordoned, uncordoned, or its readiness flips.
            10..=12 => {
                let i = uniform(&mut rng, model.nodes.len() as u64) as usize;
                let n = &mut model.nodes[i];
                if chance(&mut rng, 50) {
                    n.unschedulable = !n.unschedulable;
                    n.obj.spec.unschedulable = n.unschedulable;
                } else {
                    n.ready = !n.ready;
                    n.obj.status.conditions = vec![crate::node::NodeCondition {
                        type_: "Ready".into(),
                        status: if n.ready { "True" } else { "False" }.into(),
                        ..Default::default()
                    }];
                }
                if n.present {
                    snapshot.upsert_node(&n.obj);
                }
                Some(n.obj.metadata.name.clone())
            }
            // A node goes away or comes back (its pods stay bound to it).
            13..=14 => {
                let i = uniform(&mut rng, model.nodes.len() as u64) as usize;
                let n = &mut model.nodes[i];
                n.present = !n.present;
                if n.present {
                    snapshot.upsert_node(&n.obj);
                } else {
                    snapshot.remove_node(&n.obj.metadata.name);
                }
                None
            }
            // The spread selectors change.
            15 => {
                selectors = random_selectors(&mut rng);
                snapshot.set_spread_selectors(selectors.clone());
                Some(String::new())
            }
            _ => {
                let mut p = random_pod(&mut rng, &format!("pod-{step}"));
                let present: Vec<usize> = (0..model.nodes.len())
                    .filter(|&i| model.nodes[i].present)
                    .collect();
                match fw.schedule(&p, &snapshot, &mut rng) {
                    Ok(r) => {
                        let i = model
                            .nodes
                            .iter()
                            .position(|n| n.obj.metadata.name == r.node)
                            .unwrap();
                        assert!(
                            model.nodes[i].present,
                            "{ctx}: placed on absent node {}",
                            r.node
                        );
                        assert_eq!(
                            model.first_failure(&p, i),
                            None,
                            "{ctx}: placed {} on {}",
                            p.key(),
                            r.node
                        );
                        assert!(r.feasible_nodes >= 1 && r.feasible_nodes <= r.evaluated_nodes);
                        assert!(r.evaluated_nodes <= present.len());
                        p.set_node_name(r.node.clone());
                        snapshot.add_pod(&p);
                        model.add(p);
                        Some(r.node)
                    }
                    Err(e) => {
                        let mut want: BTreeMap<String, usize> = BTreeMap::new();
                        for &i in &present {
                            let reason = model.first_failure(&p, i);
                            assert!(
                                reason.is_some(),
                                "{ctx}: FitError but {} fits: {e}",
                                model.nodes[i].obj.metadata.name
                            );
                            *want.entry(reason.unwrap().to_string()).or_default() += 1;
                        }
                        assert_eq!(e.num_nodes, present.len(), "{ctx}");
                        assert_eq!(e.reasons, want, "{ctx}");
                        Some(String::new())
                    }
                }
            }
        };
        // Check the touched node every step, and every node now and then.
        let only = if step % 16 == 0 {
            None
        } else {
            touched.as_deref()
        };
        model.check_invariants(&snapshot, &ctx, only);
    }
    model.check_invariants(&snapshot, &format!("seed {seed} end"), None);

    // The incremental snapshot equals one rebuilt from scratch, spread counts included.
    let mut fresh = Snapshot::new();
    fresh.set_spread_selectors(selectors.clone());
    for p in model.by_node.values().flat_map(|m| m.values()).rev() {
        fresh.add_pod(p);
    }
    for n in model.nodes.iter().filter(|n| n.present) {
        fresh.upsert_node(&n.obj);
    }
    let probes = [
        pod("probe")
            .label("app", "web")
            .label("track", "canary")
            .info(),
        pod("probe").label("app", "db").info(),
        pod("probe")
            .label("app", "cache")
            .label("track", "stable")
            .info(),
        pod("probe").namespace("other").label("app", "web").info(),
    ];
    for n in model.nodes.iter().filter(|n| n.present) {
        let name = n.obj.metadata.name.as_str();
        let (a, b) = (snapshot.node(name).unwrap(), fresh.node(name).unwrap());
        assert_eq!(
            (
                a.requested_milli_cpu(),
                a.requested_memory(),
                a.non_zero_milli_cpu(),
                a.non_zero_memory()
            ),
            (
                b.requested_milli_cpu(),
                b.requested_memory(),
                b.non_zero_milli_cpu(),
                b.non_zero_memory()
            ),
            "seed {seed}: {name}"
        );
        let mut ports_a: Vec<&HostPort> = a.used_ports().collect();
        let mut ports_b: Vec<&HostPort> = b.used_ports().collect();
        ports_a.sort();
        ports_b.sort();
        assert_eq!(ports_a, ports_b, "seed {seed}: {name} ports");
        for probe in &probes {
            let want = ref_spread(&model, &selectors, probe, name);
            assert_eq!(
                SelectorSpread.score(probe, a, &snapshot),
                want,
                "seed {seed}: {name} spread"
            );
            assert_eq!(
                SelectorSpread.score(probe, b, &fresh),
                want,
                "seed {seed}: {name} fresh spread"
            );
        }
    }
    assert_eq!(snapshot.num_pods(), model.pods.len());
}

#[test]
fn random_clusters_never_overcommit_and_fit_errors_are_true() {
    let mut seeds = SplitMix64::new(0x5eed);
    for _ in 0..200 {
        run_cluster(seeds.next_u64());
    }
}

#[test]
fn random_streams_fill_clusters_exactly() {
    // Placing identical pods until one does not fit leaves every node without room for another.
    let mut seeds = SplitMix64::new(77);
    for _ in 0..20 {
        let seed = seeds.next_u64();
        let mut rng = SplitMix64::new(seed);
        let mut snapshot = Snapshot::new();
        let mut caps: HashMap<String, i64> = HashMap::new();
        for i in 0..(1 + uniform(&mut rng, 12)) {
            let cpu = 1 + uniform(&mut rng, 8) as i64;
            let name = format!("n{i}");
            snapshot.upsert_node(&node(&name).cpu(&cpu.to_string()).memory("64Gi").build());
            caps.insert(name, cpu * 1000);
        }
        let fw = Framework::new();
        let mut placed = 0;
        loop {
            let mut p = pod(&format!("p{placed}"))
                .container_requesting("500m", "1Gi")
                .info();
            match fw.schedule(&p, &snapshot, &mut rng) {
                Ok(r) => {
                    p.set_node_name(r.node);
                    snapshot.add_pod(&p);
                    placed += 1;
                }
                Err(e) => {
                    assert_eq!(
                        e.reasons.keys().collect::<Vec<_>>(),
                        ["Insufficient cpu"],
                        "seed {seed}"
                    );
                    break;
                }
            }
        }
        let want: i64 = caps.values().map(|c| c / 500).sum();
        assert_eq!(placed, want, "seed {seed}");
    }
}
