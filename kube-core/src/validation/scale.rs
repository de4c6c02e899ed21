//! Scale validation (`autoscaling/v1`, the `/scale` subresource).

use super::names::NON_NEGATIVE_MSG;
use super::{FieldError, FieldErrors, Validate};
use crate::scale::Scale;

impl Validate for Scale {
    /// `spec.replicas` is not negative. The name and namespace come from the URL (a differing
    /// one is refused before validation), and the status is ignored on writes.
    fn validate(&self) -> FieldErrors {
        let mut errs = Vec::new();
        if self.spec.replicas < 0 {
            errs.push(FieldError::invalid(
                "spec.replicas",
                self.spec.replicas,
                NON_NEGATIVE_MSG,
            ));
        }
        errs
    }

    fn validate_update(&self, _old: &Self) -> FieldErrors {
        self.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_must_not_be_negative() {
        let cases: [(i32, &[&str]); 4] = [
            (0, &[]),
            (3, &[]),
            (-1, &["spec.replicas: Invalid value: \"-1\": must be greater than or equal to 0"]),
            (i32::MIN, &["spec.replicas: Invalid value: \"-2147483648\": must be greater than or equal to 0"]),
        ];
        for (replicas, want) in cases {
            let mut s = Scale::default();
            s.spec.replicas = replicas;
            let got: Vec<String> = s.validate().iter().map(|e| e.message()).collect();
            assert_eq!(got, want, "{replicas}");
            assert_eq!(s.validate_update(&Scale::default()), s.validate());
        }
    }
}
