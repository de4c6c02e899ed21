//! Watch event lines as the HTTP client reads them from a server.
#![no_main]

use kube_core::{Node, Pod};
use kube_runtime::client::decode_watch_line;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decode_watch_line::<Pod>(data);
    let _ = decode_watch_line::<Node>(data);
});
