//! The CPU steps of one pod create and one list item, measured separately: JSON decoding
//! (through `serde_json::Value` with serde's decoder and with the server's strict one, and directly), defaulting,
//! validation, recording the managed fields, and encoding. A create pays decode + prepare +
//! record + validate + encode (store); a list pays one stored-pod decode and one encode per
//! item.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kube_benches::pod_json;
use kube_core::managed_fields::{record_create, record_update, Scope, UpdateOperation};
use kube_core::strategy::{prepare_for_create, CreateContext};
use kube_core::validation::Validate;
use kube_core::{Pod, ResourceKind, Store};
use kube_runtime::registry::Registry;
use kube_runtime::store::MemoryStore;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

/// The bytes the registry stores for the benchmark pod (defaulted, with uid and timestamp).
fn stored_pod() -> Vec<u8> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Arc::new(MemoryStore::new());
        let registry = Registry::new(store.clone());
        let pod: Pod = serde_json::from_str(&pod_json(0)).unwrap();
        registry.create("default", pod).await.unwrap();
        let kv = store
            .get(&ResourceKind::Pods.key("default", "bench-000000"))
            .await
            .unwrap()
            .unwrap();
        kv.value.to_vec()
    })
}

fn ctx() -> CreateContext {
    CreateContext {
        uid: "0b6d4a0e-6f1c-4a57-9a4e-3f0f5b1c2d3e".into(),
        now: "2026-11-25T10:00:00Z".into(),
        name_suffix: "x7k2q".into(),
    }
}

fn codec(c: &mut Criterion) {
    let body = pod_json(0).into_bytes();
    let stored = stored_pod();
    let mut g = c.benchmark_group("pod_codec");
    g.throughput(Throughput::Elements(1));

    g.bench_function("decode_request/via_value", |b| {
        b.iter(|| {
            let v: serde_json::Value = serde_json::from_slice(black_box(&body)).unwrap();
            serde_json::from_value::<Pod>(v).unwrap()
        })
    });
    // What the server does since issue 12: parse to a value, then the strict path-tracking decoder.
    g.bench_function("decode_request/strict_via_value", |b| {
        b.iter(|| {
            let v: serde_json::Value = serde_json::from_slice(black_box(&body)).unwrap();
            kube_core::decode::from_value::<Pod>(&v).unwrap()
        })
    });
    g.bench_function("decode_request/direct", |b| {
        b.iter(|| serde_json::from_slice::<Pod>(black_box(&body)).unwrap())
    });
    g.bench_function("decode_stored/direct", |b| {
        b.iter(|| serde_json::from_slice::<Pod>(black_box(&stored)).unwrap())
    });
    g.bench_function("decode_stored/to_value_only", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&stored)).unwrap())
    });

    let request: Pod = serde_json::from_slice(&body).unwrap();
    let ctx = ctx();
    g.bench_function("prepare_for_create", |b| {
        b.iter(|| {
            let mut p = request.clone();
            prepare_for_create(&mut p, "default", &ctx);
            p
        })
    });
    g.bench_function("clone", |b| b.iter(|| black_box(&request).clone()));

    let mut prepared = request.clone();
    prepare_for_create(&mut prepared, "default", &ctx);
    assert!(
        prepared.validate().is_empty(),
        "the benchmark pod must be valid"
    );
    g.bench_function("validate", |b| b.iter(|| black_box(&prepared).validate()));
    g.bench_function("encode", |b| {
        b.iter(|| serde_json::to_vec(black_box(&prepared)).unwrap())
    });

    // Recording a create's managed fields (an HTTP create's `Update` entry): the typed walk
    // the registry takes, and the JSON walk it replaced (`to_value` of the object, then the
    // comparison with the kind's empty object).
    let mut zero = Pod::default();
    kube_core::object::Object::set_type_meta(&mut zero);
    let zero = serde_json::to_value(&zero).unwrap();
    let schema = kube_core::strategic_merge::schema_for_kind("Pod");
    let op = UpdateOperation {
        manager: "kubectl",
        api_version: "v1",
        scope: Scope::Main,
        time: "2026-11-25T10:00:00Z",
        creating: true,
    };
    let typed = record_create(&[], &zero, &prepared, schema, &op).unwrap();
    let json = serde_json::to_value(&prepared).unwrap();
    assert_eq!(
        typed,
        record_update(&[], &[], zero.clone(), json, schema, &op),
        "both walks must record the same entry"
    );
    g.bench_function("record_create/typed", |b| {
        b.iter(|| record_create(&[], &zero, black_box(&prepared), schema, &op).unwrap())
    });
    g.bench_function("record_create/json_walk", |b| {
        b.iter(|| {
            let new = serde_json::to_value(black_box(&prepared)).unwrap();
            record_update(&[], &[], zero.clone(), new, schema, &op)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    targets = codec
}
criterion_main!(benches);
