//! THROWAWAY release-mode timing; delete after measuring.

use super::builders::{node, pod};
use crate::scheduler::{uniform, Framework, Snapshot, SplitMix64};
use std::collections::BTreeMap;
use std::time::Instant;

#[test]
#[ignore]
fn timing_5000_nodes() {
    println!(
        "size_of NodeInfo {}",
        std::mem::size_of::<crate::scheduler::NodeInfo>()
    );
    for &(nn, np) in &[(500usize, 10000usize), (5000, 10000), (5000, 50000)] {
        let mut s = Snapshot::new();
        for i in 0..nn {
            s.upsert_node(
                &node(&format!("node-{i}"))
                    .cpu("32")
                    .mem("128Gi")
                    .label("zone", ["a", "b", "c"][i % 3])
                    .obj(),
            );
        }
        let sels: Vec<BTreeMap<String, String>> = (0..100)
            .map(|i| BTreeMap::from([("rc".to_string(), format!("rc-{i}"))]))
            .collect();
        s.set_spread_selectors(sels);
        let mut rng = SplitMix64::new(1);
        let pods: Vec<_> = (0..np)
            .map(|i| {
                let mut b = pod(&format!("p{i}"))
                    .req("100m", "256Mi")
                    .label("rc", &format!("rc-{}", i % 100));
                if i % 10 == 0 {
                    b = b.host_port(8000 + (i as i32 % 50));
                }
                b.info()
            })
            .collect();
        let fw = Framework::new();
        let (mut t_sched, mut t_add) = (0u128, 0u128);
        let mut evaluated = 0usize;
        let mut batch = 0u128;
        let mut best_batch = u128::MAX;
        for (k, mut p) in pods.into_iter().enumerate() {
            let t0 = Instant::now();
            let r = fw.schedule(&p, &s, &mut rng).unwrap();
            let t1 = Instant::now();
            evaluated += r.evaluated_nodes;
            p.set_node_name(r.node);
            s.add_pod(&p);
            t_add += t1.elapsed().as_nanos();
            t_sched += (t1 - t0).as_nanos();
            batch += (t1 - t0).as_nanos();
            if k % 500 == 499 {
                best_batch = best_batch.min(batch);
                batch = 0;
            }
        }
        println!("{nn} nodes {np} pods: schedule {:.2} us/pod (best 500-batch {:.2}), add_pod {:.2} us/pod, avg evaluated {}",
            t_sched as f64 / np as f64 / 1000.0, best_batch as f64 / 500.0 / 1000.0, t_add as f64 / np as f64 / 1000.0, evaluated / np);
        // Steady state: same pod repeatedly, min over runs.
        for (label, probe) in [("plain", pod("probe").req("100m", "256Mi").label("rc", "rc-7").info()), ("port", pod("probe").req("100m", "256Mi").host_port(8001).label("rc", "rc-7").info()), ("nolabel", pod("probe").req("100m", "256Mi").info())] {
            let mut best = u128::MAX;
            for _ in 0..30 {
                let t0 = Instant::now();
                for _ in 0..100 { let _ = fw.schedule(&probe, &s, &mut rng); }
                best = best.min(t0.elapsed().as_nanos());
            }
            println!("  steady {label}: {:.2} us", best as f64 / 100.0 / 1000.0);
        }
        // Worst case: nothing fits, all nodes checked.
        let bad = pod("bad").node_selector("zone", "nowhere").info();
        let t0 = Instant::now();
        for _ in 0..100 {
            let _ = fw.schedule(&bad, &s, &mut rng).unwrap_err();
        }
        println!(
            "  FitError (selector) full scan: {:.2} us",
            t0.elapsed().as_nanos() as f64 / 100.0 / 1000.0
        );
        let big = pod("big").req("64", "").info();
        let t0 = Instant::now();
        for _ in 0..100 {
            let _ = fw.schedule(&big, &s, &mut rng).unwrap_err();
        }
        println!(
            "  FitError (cpu) full scan: {:.2} us",
            t0.elapsed().as_nanos() as f64 / 100.0 / 1000.0
        );
        let _ = uniform(&mut rng, 1);
    }
}
