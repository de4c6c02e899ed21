//! Request paths and query strings: routing, percent-decoding and parameter validation.
#![no_main]

use kube_runtime::apiserver::params::Params;
use kube_runtime::apiserver::router::{parse_query, route, Version};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (path, query) = text.split_once('?').unwrap_or((text, ""));
    let _ = route(path);
    let q = parse_query(Some(query));
    let _ = Params::parse(&q, Version::V1);
    let _ = Params::parse(&q, Version::V1Beta1);
});
