//! Lease validation (`coordination.k8s.io/v1`).

use super::meta::{validate_object_meta, validate_object_meta_update, NameRule};
use super::{FieldError, FieldErrors, Validate};
use crate::lease::Lease;
use crate::time::Timestamp;

/// Longest holder identity accepted.
const MAX_HOLDER_IDENTITY_LEN: usize = 253;

impl Validate for Lease {
    /// Besides metadata (a DNS subdomain name): `leaseDurationSeconds` is positive and
    /// `leaseTransitions` non-negative when set; `acquireTime` and `renewTime` are RFC 3339
    /// times when set; the holder identity is at most 253 bytes.
    fn validate(&self) -> FieldErrors {
        let mut errs = Vec::new();
        validate_object_meta(&self.metadata, NameRule::Dns1123Subdomain, &mut errs);
        let spec = &self.spec;
        if spec.holder_identity.len() > MAX_HOLDER_IDENTITY_LEN {
            errs.push(FieldError::too_long(
                "spec.holderIdentity",
                &spec.holder_identity,
                MAX_HOLDER_IDENTITY_LEN,
            ));
        }
        if let Some(d) = spec.lease_duration_seconds.filter(|d| *d <= 0) {
            errs.push(FieldError::invalid(
                "spec.leaseDurationSeconds",
                d,
                "must be greater than 0",
            ));
        }
        if let Some(t) = spec.lease_transitions.filter(|t| *t < 0) {
            errs.push(FieldError::invalid(
                "spec.leaseTransitions",
                t,
                "must be greater than or equal to 0",
            ));
        }
        for (field, value) in [
            ("spec.acquireTime", &spec.acquire_time),
            ("spec.renewTime", &spec.renew_time),
        ] {
            if !value.is_empty() && Timestamp::parse(value).is_err() {
                errs.push(FieldError::invalid(
                    field,
                    value,
                    "must be an RFC 3339 time",
                ));
            }
        }
        errs
    }

    fn validate_update(&self, old: &Self) -> FieldErrors {
        let mut errs = self.validate();
        validate_object_meta_update(&self.metadata, &old.metadata, &mut errs);
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{check_create, check_update, Case};
    use super::*;
    use crate::lease::LeaseSpec;
    use crate::meta::ObjectMeta;

    const INV: &str = "FieldValueInvalid";
    const REQ: &str = "FieldValueRequired";
    const LONG: &str = "FieldValueTooLong";

    fn valid_lease() -> Lease {
        Lease {
            metadata: ObjectMeta {
                name: "kube-scheduler".into(),
                namespace: "kube-system".into(),
                uid: "uid-1".into(),
                ..ObjectMeta::default()
            },
            spec: LeaseSpec {
                holder_identity: "host-a_1234".into(),
                lease_duration_seconds: Some(15),
                acquire_time: "2026-11-28T05:00:00.000000Z".into(),
                renew_time: "2026-11-28T05:00:02.123456Z".into(),
                lease_transitions: Some(0),
            },
            ..Lease::default()
        }
    }

    #[test]
    fn lease_create_cases() {
        let cases: &[Case<Lease>] = &[
            ("a free lease", |l| l.spec = LeaseSpec::default(), &[]),
            (
                "seconds-only times",
                |l| l.spec.renew_time = "2026-11-28T05:00:02Z".into(),
                &[],
            ),
            (
                "no name",
                |l| l.metadata.name.clear(),
                &[("metadata.name", REQ)],
            ),
            (
                "zero duration",
                |l| l.spec.lease_duration_seconds = Some(0),
                &[("spec.leaseDurationSeconds", INV)],
            ),
            (
                "negative transitions",
                |l| l.spec.lease_transitions = Some(-1),
                &[("spec.leaseTransitions", INV)],
            ),
            (
                "bad times",
                |l| {
                    l.spec.acquire_time = "now".into();
                    l.spec.renew_time = "2026-13-01T00:00:00Z".into();
                },
                &[("spec.acquireTime", INV), ("spec.renewTime", INV)],
            ),
            (
                "holder too long",
                |l| l.spec.holder_identity = "h".repeat(254),
                &[("spec.holderIdentity", LONG)],
            ),
        ];
        check_create(&valid_lease(), cases);
    }

    #[test]
    fn lease_update_cases() {
        let cases: &[Case<Lease>] = &[
            (
                "take over",
                |l| {
                    l.spec.holder_identity = "host-b".into();
                    l.spec.lease_transitions = Some(1);
                },
                &[],
            ),
            (
                "rename",
                |l| l.metadata.name = "other".into(),
                &[("metadata.name", INV)],
            ),
        ];
        check_update(&valid_lease(), cases);
    }
}
