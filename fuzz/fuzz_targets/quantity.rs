//! Resource quantities (`100m`, `1Gi`, `1e3`): parsing never panics.
#![no_main]

use kube_core::quantity::Quantity;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(q) = Quantity(text.to_string()).parse() {
            let _ = (q.value(), q.milli_value());
        }
    }
});
