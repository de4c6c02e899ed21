//! Leases have no v1beta1 form: the seed's API never served them, and the router never sends a
//! v1beta1 request to them. The impl exists only so that one generic server path (bounded on
//! `V1Beta1`) serves every kind; it refuses to decode and encodes the v1 shape unchanged.

use super::{ConversionError, V1Beta1};
use crate::lease::Lease;
use serde_json::Value;

impl V1Beta1 for Lease {
    fn from_v1beta1(_value: Value) -> Result<Self, ConversionError> {
        Err(ConversionError::new(
            "",
            "leases are served only as coordination.k8s.io/v1, not in v1beta1",
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
    fn v1beta1_refuses_leases() {
        let err = Lease::from_v1beta1(serde_json::json!({"id": "l"})).unwrap_err();
        assert!(err.message.contains("coordination.k8s.io/v1"), "{err}");
    }
}
