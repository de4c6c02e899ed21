//! Label and field selectors as they arrive in query strings; what parses must print and
//! parse again to the same selector.
#![no_main]

use kube_core::fields::FieldSelector;
use kube_core::labels::Selector;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(sel) = Selector::parse(text) {
        let again = Selector::parse(&sel.to_string());
        assert_eq!(again.as_ref().ok(), Some(&sel), "label selector {text:?}");
    }
    let _ = FieldSelector::parse(text);
});
