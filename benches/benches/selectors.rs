//! Label selector micro-benchmarks: parsing, and matching against a 10-label map.

use criterion::{criterion_group, criterion_main, Criterion};
use kube_benches::ten_labels;
use kube_core::labels::Selector;
use std::hint::black_box;
use std::time::Duration;

/// Three equality-based requirements, all satisfied by [`ten_labels`].
const EQUALITY_3: &str = "app=web-frontend,tier=frontend,track!=canary";
/// Set-based requirements (`in`, `notin`, exists, does-not-exist), all satisfied.
const SET_BASED: &str =
    "environment in (production,staging),tier notin (backend,cache),release,!experimental";
/// Fails on its last requirement (by key order), so every requirement is evaluated.
const SET_BASED_MISS: &str =
    "app in (web-frontend),environment in (production),zone notin (eu-west-1b)";

fn selectors(c: &mut Criterion) {
    let labels = ten_labels();
    let mut g = c.benchmark_group("selectors");

    g.bench_function("parse/simple", |b| {
        b.iter(|| Selector::parse(black_box("name=redis")).unwrap())
    });
    g.bench_function("parse/equality_3", |b| {
        b.iter(|| Selector::parse(black_box(EQUALITY_3)).unwrap())
    });
    g.bench_function("parse/set_based_4", |b| {
        b.iter(|| Selector::parse(black_box(SET_BASED)).unwrap())
    });

    let eq = Selector::parse(EQUALITY_3).unwrap();
    assert!(eq.matches(&labels));
    g.bench_function("match/equality_3_vs_10_labels", |b| {
        b.iter(|| black_box(&eq).matches(black_box(&labels)))
    });

    let set = Selector::parse(SET_BASED).unwrap();
    assert!(set.matches(&labels));
    g.bench_function("match/set_based_4_vs_10_labels", |b| {
        b.iter(|| black_box(&set).matches(black_box(&labels)))
    });

    let miss = Selector::parse(SET_BASED_MISS).unwrap();
    assert!(!miss.matches(&labels));
    g.bench_function("match/set_based_3_miss_vs_10_labels", |b| {
        b.iter(|| black_box(&miss).matches(black_box(&labels)))
    });

    let from_map = Selector::from_map(&labels);
    g.bench_function("match/from_map_10_vs_10_labels", |b| {
        b.iter(|| black_box(&from_map).matches(black_box(&labels)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = selectors
}
criterion_main!(benches);
