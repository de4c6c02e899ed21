//! One table per default score.

use super::builders::{node, pod, Info, NodeBuilder, PodBuilder};
use crate::scheduler::{
    default_scores, BalancedAllocation, LeastAllocated, ScorePlugin, SelectorSpread, Snapshot,
    MAX_NODE_SCORE,
};
use std::collections::BTreeMap;

/// A case: the pod, the node, the pods already on it, and the expected score.
type Case = (PodBuilder, NodeBuilder, Vec<PodBuilder>, i64);

fn check(plugin: &dyn ScorePlugin, cases: Vec<Case>) {
    for (i, (p, n, existing, want)) in cases.into_iter().enumerate() {
        let p = p.info();
        let n = n.build();
        let mut s = Snapshot::new();
        s.upsert_node(&n);
        for e in existing {
            s.add_pod(&e.node(&n.metadata.name).info());
        }
        let node = s.node(&n.metadata.name).unwrap();
        assert_eq!(
            plugin.score(&p, node, &s),
            want,
            "{} case {i}",
            plugin.name()
        );
        if let Some(prepared) = plugin.prepare(&p, &s) {
            assert_eq!(
                prepared(node),
                want,
                "{} case {i} (prepared)",
                plugin.name()
            );
        };
    }
}

#[test]
fn least_allocated() {
    check(
        &LeastAllocated,
        vec![
            // cpu (4000-1000)/4000 = 75, memory (8-2)/8 = 75.
            (
                pod("p").container_requesting("1", "2Gi"),
                node("n").cpu("4").memory("8Gi"),
                vec![],
                75,
            ),
            // cpu 50, memory 87.5 → 87; average 68.
            (
                pod("p").container_requesting("2", "1Gi"),
                node("n").cpu("4").memory("8Gi"),
                vec![],
                68,
            ),
            // Existing pods count: cpu (4000-3000)/4000 = 25, memory (8-4)/8 = 50.
            (
                pod("p").container_requesting("1", "2Gi"),
                node("n").cpu("4").memory("8Gi"),
                vec![pod("o").container_requesting("2", "2Gi")],
                37,
            ),
            // No requests: 100m / 200Mi for scoring. cpu (1000-100)/1000 = 90, memory (1000Mi-200Mi)/1000Mi = 80.
            (
                pod("p").container_requesting("", ""),
                node("n").cpu("1").memory("1000Mi"),
                vec![],
                85,
            ),
            // Over capacity or unknown capacity scores 0 for that resource.
            (
                pod("p").container_requesting("5", "1Gi"),
                node("n").cpu("4").memory("2Gi"),
                vec![],
                25,
            ),
            (
                pod("p").container_requesting("1", "1Gi"),
                node("n"),
                vec![],
                0,
            ),
            (pod("p"), node("n").cpu("1").memory("1Gi"), vec![], 100),
        ],
    );
}

#[test]
fn balanced_allocation() {
    check(
        &BalancedAllocation,
        vec![
            // Equal fractions (0.25, 0.25).
            (
                pod("p").container_requesting("1", "2Gi"),
                node("n").cpu("4").memory("8Gi"),
                vec![],
                100,
            ),
            // k8s' "differently sized machines": 3000/4000 = 0.75 vs 5000/10000 = 0.5 → 75.
            (
                pod("p").container_requesting("3", "5000"),
                node("n").cpu("4").memory("10000"),
                vec![],
                75,
            ),
            // 0.5 vs 0.125 → 62.5 → 62.
            (
                pod("p").container_requesting("2", "1Gi"),
                node("n").cpu("4").memory("8Gi"),
                vec![],
                62,
            ),
            // Existing pods count: (1+1)/4 = 0.5 vs (1+3)/8 = 0.5.
            (
                pod("p").container_requesting("1", "1Gi"),
                node("n").cpu("4").memory("8Gi"),
                vec![pod("o").container_requesting("1", "3Gi")],
                100,
            ),
            // A full resource, or an unknown one, scores 0.
            (
                pod("p").container_requesting("4", "1Gi"),
                node("n").cpu("4").memory("8Gi"),
                vec![],
                0,
            ),
            (
                pod("p").container_requesting("1", ""),
                node("n").cpu("4"),
                vec![],
                0,
            ),
        ],
    );
}

fn sel(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn selector_spread() {
    let mut s = Snapshot::new();
    for n in ["n1", "n2", "n3", "n4"] {
        s.upsert_node(&node(n).cpu("4").memory("8Gi").build());
    }
    s.set_spread_selectors(vec![sel(&[("app", "web")])]);
    for (i, n) in ["n1", "n1", "n2", "n4"].iter().enumerate() {
        s.add_pod(&pod(&format!("w{i}")).label("app", "web").node(n).info());
    }
    s.add_pod(&pod("db").label("app", "db").node("n3").info());
    let web = pod("new").label("app", "web").label("extra", "x").info();
    let raw: Vec<i64> = ["n1", "n2", "n3", "n4"]
        .iter()
        .map(|n| SelectorSpread.score(&web, s.node(n).unwrap(), &s))
        .collect();
    assert_eq!(raw, [2, 1, 0, 1]);
    let prepared = SelectorSpread.prepare(&web, &s).unwrap();
    let mut scores: Vec<i64> = s.nodes().iter().map(prepared).collect();
    assert_eq!(scores, raw);
    SelectorSpread.normalize(&mut scores);
    assert_eq!(scores, [0, 50, 100, 50]);

    // A pod no selector matches: every node is as good.
    let lone = pod("lone").label("app", "cache").info();
    let mut scores: Vec<i64> = s
        .nodes()
        .iter()
        .map(|n| SelectorSpread.score(&lone, n, &s))
        .collect();
    SelectorSpread.normalize(&mut scores);
    assert_eq!(scores, [MAX_NODE_SCORE; 4]);

    // Normalisation table: (raw, normalised).
    let cases: [(&[i64], &[i64]); 4] = [
        (&[], &[]),
        (&[0, 0], &[100, 100]),
        (&[3, 0, 1], &[0, 100, 66]),
        (&[5, 5], &[0, 0]),
    ];
    for (raw, want) in cases {
        let mut v = raw.to_vec();
        SelectorSpread.normalize(&mut v);
        assert_eq!(v, want, "normalize {raw:?}");
    }
}

#[test]
fn default_scores_and_weights() {
    let names: Vec<(&str, i64)> = default_scores()
        .iter()
        .map(|(s, w)| (s.name(), *w))
        .collect();
    assert_eq!(
        names,
        [
            ("LeastAllocated", 1),
            ("BalancedAllocation", 1),
            ("SelectorSpread", 1)
        ]
    );
}

#[test]
fn scaled_fractions_are_exact() {
    use crate::scheduler::{uniform, Rng, SplitMix64};
    let mut rng = SplitMix64::new(3);
    let wholes = [
        1i64,
        3,
        7,
        100,
        4000,
        1 << 30,
        137_438_953_472,
        (1 << 53) - 1,
        i64::MAX / 101,
        i64::MAX,
    ];
    for &whole in &wholes {
        for _ in 0..500 {
            let part = if whole == 1 {
                uniform(&mut rng, 2) as i64
            } else {
                (rng.next_u64() % whole as u64) as i64
            };
            for part in [part, 0, whole, whole - 1] {
                let want = (i128::from(part) * 100 / i128::from(whole)) as i64;
                assert_eq!(
                    super::super::scores::scaled_fraction(part, whole),
                    want,
                    "{part}/{whole}"
                );
                // least_requested(requested, capacity) = floor((capacity - requested) * 100 / capacity).
                let scale = 100.0 / whole as f64;
                let got = super::super::scores::least_requested(whole - part, whole, scale);
                assert_eq!(got, want, "least_requested({}, {whole})", whole - part);
            }
        }
    }
}
