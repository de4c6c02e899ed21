//! Shared by `body_v1` and `body_v1beta1`: the first byte picks the kind (every served
//! resource, through `kube_core::with_resource_type!`) and whether YAML is declared; the rest
//! is the body, decoded by the server's strict decoding layer, once plainly and once under
//! `fieldValidation=Strict` (repeated keys, unknown members).

use kube_core::ResourceKind;
use kube_runtime::apiserver::decode::{decode_object, decode_object_checked, FieldValidation};
use kube_runtime::apiserver::router::Version;

/// Decodes `data` as a request body of the kind its first byte picks.
pub fn decode_body(data: &[u8], version: Version) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let yaml = selector & 0x80 != 0;
    let kind = ResourceKind::ALL[usize::from(selector & 0x7f) % ResourceKind::ALL.len()];
    let _ = kube_core::with_resource_type!(kind, T => {
        decode_object::<T>(body, yaml, version, kind).map(|_| ())
    });
    let _ = kube_core::with_resource_type!(kind, T => {
        decode_object_checked::<T>(body, yaml, version, kind, FieldValidation::Strict).map(|_| ())
    });
}
