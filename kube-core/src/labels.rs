//! Labels and label selectors. STUB: the full implementation is in progress.

use std::collections::BTreeMap;

/// A label set.
pub type Labels = BTreeMap<String, String>;

/// A parsed label selector.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {}

/// A selector that failed to parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse selector at position {position}: {message}")]
pub struct SelectorParseError {
    /// Byte offset of the problem.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

impl Selector {
    /// Parses `a=b,c!=d,e in (x,y),!f`.
    pub fn parse(_s: &str) -> Result<Selector, SelectorParseError> {
        todo!()
    }
    /// The selector that matches everything.
    pub fn everything() -> Selector {
        Selector {}
    }
    /// An equality selector from a map (`k=v` for each entry).
    pub fn from_map(_m: &BTreeMap<String, String>) -> Selector {
        todo!()
    }
    /// Whether the labels satisfy every requirement.
    pub fn matches(&self, _labels: &BTreeMap<String, String>) -> bool {
        todo!()
    }
    /// True when the selector has no requirements.
    pub fn is_empty(&self) -> bool {
        todo!()
    }
}

/// Checks a label key (optional DNS-1123 subdomain prefix and `/`, then a name of up to 63 characters).
pub fn validate_label_key(_key: &str) -> Result<(), String> {
    todo!()
}

/// Checks a label value (empty, or up to 63 characters of `[A-Za-z0-9_.-]`, alphanumeric at both ends).
pub fn validate_label_value(_value: &str) -> Result<(), String> {
    todo!()
}

/// Formats a label map as `k=v,k2=v2` (sorted), as kubecfg tables print them.
pub fn format_labels(m: &BTreeMap<String, String>) -> String {
    m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}
