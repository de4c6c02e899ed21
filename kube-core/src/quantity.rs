//! Resource quantities (`250m`, `64Mi`, `1G`, ...). STUB: parsing in progress.

use serde::{Deserialize, Serialize};

/// A resource quantity as written by the user; parsed on demand so validation can report bad ones by field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantity(pub String);

/// A quantity parsed exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedQuantity {}

/// A quantity that failed to parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {0:?}")]
pub struct QuantityError(pub String);

impl Quantity {
    /// Parses the quantity.
    pub fn parse(&self) -> Result<ParsedQuantity, QuantityError> {
        todo!()
    }
}

impl ParsedQuantity {
    /// Value in thousandths, rounded up (CPU `250m` → 250).
    pub fn milli_value(&self) -> i64 {
        todo!()
    }
    /// Value in units, rounded up (memory `64Mi` → 67108864).
    pub fn value(&self) -> i64 {
        todo!()
    }
}
