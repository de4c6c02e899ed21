//! Exponential backoff with a cap and jitter: the one retry policy of the whole project.
//!
//! Every retry (etcd calls, watch re-opens, informers, the scheduler and work queues, and later
//! kubelet restarts and image pulls) draws its delays from a [`Backoff`]. It is pure: the random
//! source for jitter is passed in, so tests pin it with a seeded [`crate::rand::SplitMix64`].

use crate::rand::{unit_f64, Rng};
use std::time::Duration;

/// Exponential backoff: `initial * factor^attempt`, capped at `max`, then jittered.
///
/// Jitter `j` spreads each delay uniformly over `[d * (1 - j), d * (1 + j))` and clamps the result
/// to `max`, so a crowd of clients that failed together does not retry together, and no delay ever
/// exceeds the cap.
#[derive(Clone, Debug, PartialEq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    factor: f64,
    jitter: f64,
    attempt: u32,
}

impl Backoff {
    /// Doubling delays from `initial` up to `max`, without jitter.
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max: max.max(initial),
            factor: 2.0,
            jitter: 0.0,
            attempt: 0,
        }
    }

    /// The policy of watch re-opens and informer relists (client-go's reflector: 800 ms → 30 s, jittered).
    pub fn watch() -> Backoff {
        Backoff::new(Duration::from_millis(800), Duration::from_secs(30)).with_jitter(0.5)
    }

    /// The per-item policy of work queues (client-go's: 5 ms → 1000 s).
    pub fn per_item() -> Backoff {
        Backoff::new(Duration::from_millis(5), Duration::from_secs(1000))
    }

    /// The same policy with another growth factor (values below 1 are taken as 1).
    pub fn with_factor(mut self, factor: f64) -> Backoff {
        self.factor = if factor.is_finite() {
            factor.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// The same policy with jitter `fraction` in `[0, 1]` (clamped).
    pub fn with_jitter(mut self, fraction: f64) -> Backoff {
        self.jitter = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// The first delay.
    pub fn initial(&self) -> Duration {
        self.initial
    }

    /// The cap.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// How many delays have been handed out since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The un-jittered delay of attempt `n` (0-based): `initial * factor^n`, capped.
    pub fn base_delay(&self, n: u32) -> Duration {
        let secs = self.initial.as_secs_f64() * self.factor.powi(n.min(1024) as i32);
        if !secs.is_finite() || secs >= self.max.as_secs_f64() {
            self.max
        } else {
            Duration::from_secs_f64(secs)
        }
    }

    /// The delay of attempt `n` with jitter drawn from `rng`, never above the cap.
    pub fn delay(&self, n: u32, rng: &mut dyn Rng) -> Duration {
        let base = self.base_delay(n);
        if self.jitter == 0.0 {
            return base;
        }
        let spread = 1.0 - self.jitter + 2.0 * self.jitter * unit_f64(rng);
        Duration::from_secs_f64(base.as_secs_f64() * spread).min(self.max)
    }

    /// The next delay, counting the attempt.
    pub fn next_delay(&mut self, rng: &mut dyn Rng) -> Duration {
        let d = self.delay(self.attempt, rng);
        self.attempt = self.attempt.saturating_add(1);
        d
    }

    /// Starts again from the initial delay (after a success).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::SplitMix64;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn base_delays_double_up_to_the_cap() {
        // (initial ms, max ms, factor, attempts → expected ms)
        let cases: [(u64, u64, f64, &[u64]); 4] = [
            (100, 1000, 2.0, &[100, 200, 400, 800, 1000, 1000]),
            (5, 20, 2.0, &[5, 10, 20, 20]),
            (10, 1000, 3.0, &[10, 30, 90, 270, 810, 1000]),
            (50, 10, 2.0, &[50, 50]), // a cap below the initial delay is raised to it
        ];
        for (initial, max, factor, want) in cases {
            let mut b = Backoff::new(ms(initial), ms(max)).with_factor(factor);
            let mut rng = SplitMix64::new(1);
            let got: Vec<u64> = (0..want.len())
                .map(|_| b.next_delay(&mut rng).as_millis() as u64)
                .collect();
            assert_eq!(got, want, "{initial} {max} {factor}");
            assert_eq!(b.attempts() as usize, want.len());
        }
    }

    #[test]
    fn huge_attempt_counts_stay_at_the_cap() {
        let b = Backoff::new(ms(1), Duration::from_secs(60));
        assert_eq!(b.base_delay(u32::MAX), Duration::from_secs(60));
        assert_eq!(b.base_delay(2000), Duration::from_secs(60));
    }

    #[test]
    fn reset_starts_over() {
        let mut b = Backoff::new(ms(10), ms(1000));
        let mut rng = SplitMix64::new(7);
        for _ in 0..5 {
            b.next_delay(&mut rng);
        }
        b.reset();
        assert_eq!(b.next_delay(&mut rng), ms(10));
    }

    #[test]
    fn jitter_stays_within_its_band_and_under_the_cap() {
        // (jitter, attempt) → every delay within [base*(1-j), min(base*(1+j), max)]
        let b = Backoff::new(ms(100), ms(1000));
        for jitter in [0.1, 0.5, 1.0] {
            let b = b.clone().with_jitter(jitter);
            let mut rng = SplitMix64::new(42);
            for n in 0..8 {
                let base = b.base_delay(n).as_secs_f64();
                let mut seen = std::collections::BTreeSet::new();
                for _ in 0..200 {
                    let d = b.delay(n, &mut rng).as_secs_f64();
                    assert!(d >= base * (1.0 - jitter) - 1e-9, "{jitter} {n} {d}");
                    assert!(
                        d <= (base * (1.0 + jitter)).min(1.0) + 1e-9,
                        "{jitter} {n} {d}"
                    );
                    seen.insert((d * 1e6) as u64);
                }
                assert!(seen.len() > 50, "jitter {jitter} must spread the delays");
            }
        }
    }

    #[test]
    fn jitter_is_reproducible_for_a_seed() {
        let b = Backoff::watch();
        let run = |seed| {
            let mut b = b.clone();
            let mut rng = SplitMix64::new(seed);
            (0..6).map(|_| b.next_delay(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    #[test]
    fn bad_settings_are_sanitised() {
        let b = Backoff::new(ms(10), ms(100))
            .with_factor(f64::NAN)
            .with_jitter(7.0);
        assert_eq!(b.base_delay(5), ms(10)); // factor NaN → 1
        let mut rng = SplitMix64::new(0);
        assert!(b.delay(0, &mut rng) <= ms(20));
    }
}
