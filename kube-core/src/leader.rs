//! Leader election decisions: given the current [`Lease`] (or none), who I am, the time and the
//! timing config, what to do next. Pure; the loop that reads and writes the lease lives in
//! `kube_runtime::leader_election`. client-go's `leaderelection` is the model.
//!
//! Expiry is judged from the lease itself: a lease is held until `renewTime +
//! leaseDurationSeconds` (strictly after that instant it is free). A holder stops acting when it
//! has not renewed within the renew deadline, which is shorter than the lease duration, so the
//! old holder has always stopped before anyone else may take the lease over.

use crate::lease::{Lease, LeaseSpec};
use crate::time::Timestamp;
use std::time::Duration;

/// Timing of leader election (client-go's `LeaseDuration`, `RenewDeadline`, `RetryPeriod`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaderTiming {
    /// How long a lease is held after its last renewal; others wait this long to take over.
    pub lease_duration: Duration,
    /// How long a leader keeps acting without a successful renewal before it steps down.
    pub renew_deadline: Duration,
    /// How often candidates try to acquire and leaders renew.
    pub retry_period: Duration,
}

impl Default for LeaderTiming {
    /// client-go's defaults: 15 s, 10 s, 2 s.
    fn default() -> Self {
        LeaderTiming {
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// Why a [`LeaderTiming`] is unsafe to run with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimingError {
    /// The lease must outlive the renew deadline, or two leaders could overlap.
    #[error("lease duration {lease:?} must be greater than the renew deadline {deadline:?}")]
    LeaseNotLongerThanDeadline {
        /// The lease duration.
        lease: Duration,
        /// The renew deadline.
        deadline: Duration,
    },
    /// A leader must get more than one try to renew before its deadline.
    #[error("renew deadline {deadline:?} must be greater than the retry period {retry:?}")]
    DeadlineNotLongerThanRetry {
        /// The renew deadline.
        deadline: Duration,
        /// The retry period.
        retry: Duration,
    },
    /// The lease duration is written in whole seconds, at least one.
    #[error("lease duration {0:?} must be a whole number of seconds, at least 1")]
    LeaseNotWholeSeconds(Duration),
    /// A zero retry period would spin.
    #[error("retry period must be positive")]
    ZeroRetry,
}

impl LeaderTiming {
    /// Checks `lease_duration > renew_deadline > retry_period > 0`, lease in whole seconds.
    pub fn validate(&self) -> Result<(), TimingError> {
        if self.retry_period.is_zero() {
            return Err(TimingError::ZeroRetry);
        }
        if self.lease_duration.subsec_nanos() != 0
            || self.lease_duration.is_zero()
            || self.lease_duration.as_secs() > i32::MAX as u64
        {
            return Err(TimingError::LeaseNotWholeSeconds(self.lease_duration));
        }
        if self.lease_duration <= self.renew_deadline {
            return Err(TimingError::LeaseNotLongerThanDeadline {
                lease: self.lease_duration,
                deadline: self.renew_deadline,
            });
        }
        if self.renew_deadline <= self.retry_period {
            return Err(TimingError::DeadlineNotLongerThanRetry {
                deadline: self.renew_deadline,
                retry: self.retry_period,
            });
        }
        Ok(())
    }

    fn lease_seconds(&self) -> i32 {
        i32::try_from(self.lease_duration.as_secs()).unwrap_or(i32::MAX)
    }
}

/// What a candidate should do after reading the lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Write this spec: create the lease when there is none, else a compare-and-swap update.
    /// The lease was free or expired; the writer leads once the write succeeds.
    Acquire(LeaseSpec),
    /// Write this spec (compare-and-swap): I hold the lease and extend it.
    Renew(LeaseSpec),
    /// Someone else holds the lease until `until`; try again later.
    Wait {
        /// The current holder.
        holder: String,
        /// The instant the lease expires unless renewed.
        until: Timestamp,
    },
    /// I believed I led, but someone else holds the lease now: stop acting at once.
    Lost {
        /// The new holder.
        holder: String,
    },
}

/// When a held lease expires: `renewTime + leaseDurationSeconds` (the configured duration when
/// the lease gives none). `None` when the lease is free or its renew time cannot be read, which
/// makes it free to take: a lease whose liveness cannot be judged must not block forever.
pub fn expiry(spec: &LeaseSpec, timing: &LeaderTiming) -> Option<Timestamp> {
    if spec.holder_identity.is_empty() {
        return None;
    }
    let renewed = spec.renew_timestamp().ok().flatten()?;
    let duration = spec.lease_duration().unwrap_or(timing.lease_duration);
    Some(renewed.saturating_add(duration))
}

/// Decides the next step of candidate `identity` at `now`. `leading` says whether the candidate
/// currently believes it leads (so that a lease taken by another reads as [`Decision::Lost`]).
pub fn decide(
    lease: Option<&Lease>,
    identity: &str,
    leading: bool,
    now: Timestamp,
    timing: &LeaderTiming,
) -> Decision {
    let stamp = now.to_rfc3339_micros();
    let Some(lease) = lease else {
        return Decision::Acquire(LeaseSpec {
            holder_identity: identity.to_string(),
            lease_duration_seconds: Some(timing.lease_seconds()),
            acquire_time: stamp.clone(),
            renew_time: stamp,
            lease_transitions: Some(0),
        });
    };
    let old = &lease.spec;
    if old.holder_identity == identity {
        let mut spec = old.clone();
        spec.renew_time = stamp.clone();
        spec.lease_duration_seconds = Some(timing.lease_seconds());
        if spec.acquire_time.is_empty() {
            spec.acquire_time = stamp;
        }
        spec.lease_transitions.get_or_insert(0);
        return Decision::Renew(spec);
    }
    match expiry(old, timing) {
        Some(until) if until > now => {
            let holder = old.holder_identity.clone();
            if leading {
                Decision::Lost { holder }
            } else {
                Decision::Wait { holder, until }
            }
        }
        _ => Decision::Acquire(LeaseSpec {
            holder_identity: identity.to_string(),
            lease_duration_seconds: Some(timing.lease_seconds()),
            acquire_time: stamp.clone(),
            renew_time: stamp,
            lease_transitions: Some(old.lease_transitions.unwrap_or(0).saturating_add(1)),
        }),
    }
}

/// The spec a leader writes on a clean shutdown: no holder, a one-second duration, so the next
/// candidate takes over at its next try instead of waiting out the lease (client-go's release).
pub fn released(spec: &LeaseSpec, now: Timestamp) -> LeaseSpec {
    let stamp = now.to_rfc3339_micros();
    LeaseSpec {
        holder_identity: String::new(),
        lease_duration_seconds: Some(1),
        acquire_time: stamp.clone(),
        renew_time: stamp,
        lease_transitions: spec.lease_transitions,
    }
}

/// Whether a leader whose last successful renewal started at `last_renew` must step down at `now`:
/// true once the renew deadline has passed.
pub fn renew_deadline_passed(last_renew: Timestamp, now: Timestamp, timing: &LeaderTiming) -> bool {
    now >= last_renew.saturating_add(timing.renew_deadline)
}

#[cfg(test)]
#[path = "leader_tests.rs"]
mod tests;
