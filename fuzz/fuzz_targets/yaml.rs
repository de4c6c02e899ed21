//! YAML text to a JSON value with the server's depth and alias limits.
#![no_main]

use kube_runtime::apiserver::decode::{yaml, MAX_DEPTH};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = yaml::to_json(text, MAX_DEPTH);
    }
});
