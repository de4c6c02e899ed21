//! [`Clock`]: the one source of time for every timer and timestamp in the components.
//!
//! Timers always run on tokio's clock (`tokio::time`), so a test on a paused runtime
//! (`#[tokio::test(start_paused = true)]`, `tokio::time::advance`) moves them in no real time.
//! Wall-clock timestamps (heartbeats, `deletionTimestamp`, lease renewals) come from [`Clock::now`]:
//! the system's time for [`Clock::real`], and for [`Clock::virtual_at`] a fixed start plus the
//! tokio time elapsed since the clock was made, so on a paused runtime the wall clock advances
//! exactly with the timers: minutes of heartbeats pass in milliseconds.

use kube_core::time::Timestamp;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// An injectable clock; cheap to clone.
#[derive(Clone, Debug)]
pub struct Clock {
    /// `None`: the system's wall clock; `Some`: wall time `start` at tokio instant `origin`.
    virtual_origin: Option<(Timestamp, Instant)>,
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::real()
    }
}

impl Clock {
    /// The system's clock.
    pub fn real() -> Clock {
        Clock {
            virtual_origin: None,
        }
    }

    /// A clock whose wall time is `start` now and then advances with tokio's (possibly paused) time.
    pub fn virtual_at(start: Timestamp) -> Clock {
        Clock {
            virtual_origin: Some((start, Instant::now())),
        }
    }

    /// Whether this is a virtual clock.
    pub fn is_virtual(&self) -> bool {
        self.virtual_origin.is_some()
    }

    /// The current wall-clock time.
    pub fn now(&self) -> Timestamp {
        match self.virtual_origin {
            Some((start, origin)) => start.saturating_add(Instant::now().duration_since(origin)),
            None => system_now(),
        }
    }

    /// The current monotonic instant (tokio's, so paused in tests).
    pub fn instant(&self) -> Instant {
        Instant::now()
    }

    /// Waits for `d`.
    pub fn sleep(&self, d: Duration) -> tokio::time::Sleep {
        tokio::time::sleep(d)
    }

    /// Waits until `deadline`.
    pub fn sleep_until(&self, deadline: Instant) -> tokio::time::Sleep {
        tokio::time::sleep_until(deadline)
    }

    /// Runs `fut` for at most `d`.
    pub fn timeout<F: Future>(&self, d: Duration, fut: F) -> tokio::time::Timeout<F> {
        tokio::time::timeout(d, fut)
    }
}

/// The system's wall-clock time.
pub fn system_now() -> Timestamp {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => Timestamp::from_unix(d.as_secs() as i64, d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            let mut t = Timestamp::from_unix(-(d.as_secs() as i64), 0);
            if d.subsec_nanos() > 0 {
                t = Timestamp::from_unix(t.unix_secs() - 1, 1_000_000_000 - d.subsec_nanos());
            }
            t
        }
    }
}

/// A random source for jitter, seeded from the system (for production code paths).
pub fn seeded_rng() -> kube_core::rand::SplitMix64 {
    let t = system_now();
    let addr = &t as *const Timestamp as u64;
    kube_core::rand::SplitMix64::new(
        (t.unix_secs() as u64)
            .wrapping_mul(1_000_000_007)
            .wrapping_add(u64::from(t.subsec_nanos()))
            ^ addr.rotate_left(17)
            ^ u64::from(std::process::id()).rotate_left(40),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn virtual_wall_time_follows_paused_tokio_time() {
        let start = Timestamp::parse("2014-10-30T15:57:02Z").unwrap();
        let clock = Clock::virtual_at(start);
        assert_eq!(clock.now(), start);
        clock.sleep(Duration::from_secs(3600)).await;
        assert_eq!(clock.now(), start.saturating_add(Duration::from_secs(3600)));
        tokio::time::advance(Duration::from_millis(1500)).await;
        assert_eq!(
            clock.now().to_rfc3339_micros(),
            "2014-10-30T16:57:03.500000Z"
        );
        // A clone shares the origin.
        assert_eq!(clock.clone().now(), clock.now());
    }

    #[test]
    fn real_time_is_after_2020() {
        let now = Clock::real().now();
        assert!(now > Timestamp::parse("2020-01-01T00:00:00Z").unwrap());
        assert!(!Clock::real().is_virtual());
    }
}
