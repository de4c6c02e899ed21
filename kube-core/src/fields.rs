//! Field selectors (`metadata.name=x,spec.nodeName!=`). STUB: implementation in progress.

/// A parsed field selector.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {}

impl FieldSelector {
    /// Parses `f=v`, `f==v`, `f!=v` terms separated by commas.
    pub fn parse(_s: &str) -> Result<FieldSelector, crate::labels::SelectorParseError> {
        todo!()
    }
    /// Whether the object's fields (looked up through `get`) satisfy every term; unknown fields never match.
    pub fn matches(&self, _get: &dyn Fn(&str) -> Option<String>) -> bool {
        todo!()
    }
    /// Field names used by the selector (so callers can reject unsupported ones).
    pub fn fields(&self) -> Vec<String> {
        todo!()
    }
}
