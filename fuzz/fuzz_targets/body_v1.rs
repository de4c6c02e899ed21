//! v1 request bodies (JSON or YAML) through the server's strict decoding layer, for every kind.
//! The first byte picks the kind and whether YAML is declared; the rest is the body.
#![no_main]

#[path = "body_common.rs"]
mod body_common;

use kube_runtime::apiserver::router::Version;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| body_common::decode_body(data, Version::V1));
