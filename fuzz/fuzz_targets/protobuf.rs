//! Kubernetes' protobuf request bodies (magic, `runtime.Unknown` envelope, object): decoding
//! never panics, stays within its nesting bound, and what it accepts is a JSON object.
#![no_main]

use kube_core::protobuf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = protobuf::to_json(data) {
        assert!(value.is_object(), "{value}");
        let _ = value.to_string();
    }
});
