//! Namespaces have no v1beta1 form: the seed's API never served them, and the router never
//! sends a v1beta1 request to them. The impl exists only so that one generic server path
//! (bounded on `V1Beta1`) serves every kind; it refuses to decode and encodes the v1 shape.

use super::{ConversionError, V1Beta1};
use crate::namespace::Namespace;
use serde_json::Value;

impl V1Beta1 for Namespace {
    fn from_v1beta1(_value: Value) -> Result<Self, ConversionError> {
        Err(ConversionError::new(
            "",
            "namespaces are served only as v1, not in v1beta1",
        ))
    }

    fn to_v1beta1(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1beta1_refuses_namespaces() {
        let err = Namespace::from_v1beta1(serde_json::json!({"id": "a"})).unwrap_err();
        assert!(err.message.contains("only as v1"), "{err}");
    }
}
