//! Lease (`coordination.k8s.io/v1`): a named, time-bounded claim, used for leader election.

use crate::meta::ObjectMeta;
use crate::time::{TimeError, Timestamp};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The API version leases are served and stored in.
pub const LEASE_API_VERSION: &str = "coordination.k8s.io/v1";

/// A lease (`coordination.k8s.io/v1` `Lease`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.coordination.v1.Lease")]
#[serde(rename_all = "camelCase")]
pub struct Lease {
    /// Always `coordination.k8s.io/v1` once stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// Always `Lease` once stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Standard object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The claim.
    #[serde(default)]
    pub spec: LeaseSpec,
}

/// What a lease claims and until when.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.coordination.v1.LeaseSpec")]
#[serde(rename_all = "camelCase")]
pub struct LeaseSpec {
    /// Identity of the holder; empty when the lease is free.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub holder_identity: String,
    /// Seconds the holder keeps the lease after its last renewal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_duration_seconds: Option<i32>,
    /// When the current holder acquired the lease (MicroTime, RFC 3339 with microseconds).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(with = "crate::openapi::schemas::MicroTime")]
    pub acquire_time: String,
    /// When the current holder last renewed the lease (MicroTime).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(with = "crate::openapi::schemas::MicroTime")]
    pub renew_time: String,
    /// How many times the lease has changed holders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_transitions: Option<i32>,
}

impl LeaseSpec {
    /// The parsed `renewTime`, `None` when unset.
    pub fn renew_timestamp(&self) -> Result<Option<Timestamp>, TimeError> {
        optional_time(&self.renew_time)
    }

    /// The parsed `acquireTime`, `None` when unset.
    pub fn acquire_timestamp(&self) -> Result<Option<Timestamp>, TimeError> {
        optional_time(&self.acquire_time)
    }

    /// The lease duration, `None` when unset or not positive.
    pub fn lease_duration(&self) -> Option<Duration> {
        match self.lease_duration_seconds {
            Some(s) if s > 0 => Some(Duration::from_secs(s.unsigned_abs().into())),
            _ => None,
        }
    }
}

fn optional_time(s: &str) -> Result<Option<Timestamp>, TimeError> {
    if s.is_empty() {
        Ok(None)
    } else {
        Timestamp::parse(s).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_round_trips() {
        let json = r#"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"scheduler","namespace":"kube-system"},"spec":{"holderIdentity":"a","leaseDurationSeconds":15,"acquireTime":"2026-11-28T05:00:00.000000Z","renewTime":"2026-11-28T05:00:10.500000Z","leaseTransitions":2}}"#;
        let lease: Lease = serde_json::from_str(json).expect("decodes");
        assert_eq!(lease.spec.holder_identity, "a");
        assert_eq!(lease.spec.lease_duration(), Some(Duration::from_secs(15)));
        assert_eq!(lease.spec.lease_transitions, Some(2));
        let renew = lease.spec.renew_timestamp().expect("parses");
        assert_eq!(
            renew,
            Some(Timestamp::from_unix(1_795_842_010, 500_000_000))
        );
        assert_eq!(serde_json::to_string(&lease).expect("encodes"), json);
    }

    #[test]
    fn durations_and_times_read_unset_and_bad_values() {
        let cases: [(Option<i32>, Option<Duration>); 4] = [
            (None, None),
            (Some(0), None),
            (Some(-3), None),
            (Some(1), Some(Duration::from_secs(1))),
        ];
        for (secs, want) in cases {
            let spec = LeaseSpec {
                lease_duration_seconds: secs,
                ..LeaseSpec::default()
            };
            assert_eq!(spec.lease_duration(), want, "{secs:?}");
        }
        let spec = LeaseSpec {
            acquire_time: "yesterday".into(),
            ..LeaseSpec::default()
        };
        assert!(spec.acquire_timestamp().is_err());
        assert_eq!(spec.renew_timestamp(), Ok(None));
    }
}
