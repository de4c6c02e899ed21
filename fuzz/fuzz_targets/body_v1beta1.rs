//! v1beta1 request bodies (JSON or YAML) through the server's strict decoding layer, for every kind.
//! The first byte picks the kind and whether YAML is declared; the rest is the body.
#![no_main]

use kube_core::{Endpoints, Event, Node, Pod, ReplicationController, ResourceKind, Service};
use kube_runtime::apiserver::decode::decode_object;
use kube_runtime::apiserver::router::Version;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let yaml = selector & 0x80 != 0;
    let v = Version::V1Beta1;
    let _ = match selector % 6 {
        0 => decode_object::<Pod>(body, yaml, v, ResourceKind::Pods).map(|_| ()),
        1 => decode_object::<ReplicationController>(
            body,
            yaml,
            v,
            ResourceKind::ReplicationControllers,
        )
        .map(|_| ()),
        2 => decode_object::<Service>(body, yaml, v, ResourceKind::Services).map(|_| ()),
        3 => decode_object::<Endpoints>(body, yaml, v, ResourceKind::Endpoints).map(|_| ()),
        4 => decode_object::<Node>(body, yaml, v, ResourceKind::Nodes).map(|_| ()),
        _ => decode_object::<Event>(body, yaml, v, ResourceKind::Events).map(|_| ()),
    };
});
