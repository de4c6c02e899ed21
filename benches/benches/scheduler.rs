//! One scheduling decision (filter, score, select) at 100, 1,000 and 5,000 nodes.
//!
//! Each cluster is half full (pods spread over replication controllers, some with host
//! ports), so filters and spreading do real work. The decision is measured against a
//! fixed snapshot: nothing is placed, so every iteration sees the same cluster.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use kube_core::scheduler::{Framework, PodInfo, Snapshot, SplitMix64};
use kube_core::{Node, Pod};
use serde_json::json;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

fn node(i: usize) -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": format!("node-{i}"), "labels": {"zone": format!("zone-{}", i % 3)}},
        "status": {"capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"}}
    }))
    .expect("node")
}

fn pod(i: usize, node: Option<String>) -> Pod {
    let mut container = json!({"name": "app", "image": "busybox",
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}});
    if i % 10 == 0 {
        container["ports"] = json!([{"containerPort": 80, "hostPort": 20000 + (i % 50)}]);
    }
    let mut p: Pod = serde_json::from_value(json!({
        "metadata": {"name": format!("pod-{i}"), "namespace": "default", "labels": {"app": format!("rc-{}", i % 100)}},
        "spec": {"containers": [container]}
    }))
    .expect("pod");
    p.spec.node_name = node.unwrap_or_default();
    p
}

fn cluster(nodes: usize) -> Snapshot {
    let mut s = Snapshot::new();
    for i in 0..nodes {
        s.upsert_node(&node(i));
    }
    s.set_spread_selectors(
        (0..100)
            .map(|i| BTreeMap::from([("app".to_string(), format!("rc-{i}"))]))
            .collect(),
    );
    for i in 0..nodes * 8 {
        s.add_pod(&PodInfo::new(&pod(i, Some(format!("node-{}", i % nodes)))));
    }
    s
}

fn decision(c: &mut Criterion) {
    let mut g = c.benchmark_group("scheduler/decision");
    g.sample_size(30).measurement_time(Duration::from_secs(3));
    let framework = Framework::new();
    let incoming = PodInfo::new(&pod(7, None));
    for nodes in [100, 1_000, 5_000] {
        let snapshot = cluster(nodes);
        let mut rng = SplitMix64::new(42);
        g.bench_with_input(BenchmarkId::from_parameter(nodes), &snapshot, |b, s| {
            b.iter(|| {
                framework
                    .schedule(black_box(&incoming), s, &mut rng)
                    .expect("fits")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, decision);
criterion_main!(benches);
