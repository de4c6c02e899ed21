//! Leader election through a `Lease` (`coordination.k8s.io/v1`), after client-go's
//! `leaderelection`: acquire (create the lease, or take over an expired one with a
//! compare-and-swap update), renew every retry period, release on shutdown.
//!
//! The decisions are kube-core's pure [`kube_core::leader::decide`]; this loop only reads and
//! writes the lease on the injected [`Clock`]. A leader that has not renewed within the renew
//! deadline (counted from the start of its last successful renewal) stops leading at once, even
//! while a renewal is still in flight; since the deadline is shorter than the lease duration, it
//! has stopped before anyone else may take the lease over. A component acts only while
//! [`Leadership::is_leader`] holds, and selects on [`Leadership::lost`] to stop at once:
//!
//! ```ignore
//! let mut leadership = LeaderElector::new(client, config, clock)?.spawn();
//! leadership.acquired().await?;
//! tokio::select! {
//!     _ = leadership.lost() => {}         // stop acting at once
//!     _ = controller.run() => {}
//! }
//! leadership.release().await;             // on shutdown: the next candidate takes over at once
//! ```

use crate::client::ApiClient;
use crate::clock::Clock;
use kube_core::error::ApiError;
use kube_core::leader::{decide, released, Decision, LeaderTiming, TimingError};
use kube_core::lease::{Lease, LeaseSpec};
use kube_core::{ObjectMeta, Timestamp};
use std::future::Future;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// What to elect over and as whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderElectionConfig {
    /// Namespace of the lease.
    pub namespace: String,
    /// Name of the lease (one per elected component, e.g. `kube-scheduler`).
    pub name: String,
    /// This candidate's identity, unique among the candidates (e.g. `host_pid`).
    pub identity: String,
    /// Lease duration, renew deadline and retry period.
    pub timing: LeaderTiming,
}

/// Why leader election cannot start, or why a wait for leadership ended.
#[derive(Debug, thiserror::Error)]
pub enum LeaderElectionError {
    /// The timing is unsafe.
    #[error("invalid leader election timing: {0}")]
    Timing(#[from] TimingError),
    /// A field the election needs is empty.
    #[error("leader election needs a non-empty {0}")]
    Empty(&'static str),
    /// The elector stopped before this candidate led.
    #[error("the leader elector for lease {0} stopped")]
    Stopped(String),
}

/// A candidate for one lease.
pub struct LeaderElector<C> {
    client: C,
    config: LeaderElectionConfig,
    clock: Clock,
}

/// The outcome of one try.
enum Attempt {
    /// The lease was written with this candidate as holder.
    Held,
    /// Someone else holds the lease (and, when `lost`, took it from this candidate).
    Other { lost: bool },
    /// The read or write failed (conflict, unavailable...); try again.
    Failed(ApiError),
}

impl<C: ApiClient> LeaderElector<C> {
    /// A candidate; checks the config.
    pub fn new(
        client: C,
        config: LeaderElectionConfig,
        clock: Clock,
    ) -> Result<LeaderElector<C>, LeaderElectionError> {
        config.timing.validate()?;
        for (field, value) in [
            ("namespace", &config.namespace),
            ("lease name", &config.name),
            ("identity", &config.identity),
        ] {
            if value.is_empty() {
                return Err(LeaderElectionError::Empty(field));
            }
        }
        Ok(LeaderElector {
            client,
            config,
            clock,
        })
    }

    /// Starts campaigning in the background.
    pub fn spawn(self) -> Leadership {
        let (leading_tx, leading) = watch::channel(false);
        let (stop_tx, stop) = oneshot::channel();
        let lease = format!("{}/{}", self.config.namespace, self.config.name);
        let task = tokio::spawn(self.run(leading_tx, stop));
        Leadership {
            leading,
            stop: Some(stop_tx),
            task,
            lease,
        }
    }

    async fn run(self, leading: watch::Sender<bool>, mut stop: oneshot::Receiver<()>) {
        let timing = self.config.timing;
        // Start of the last successful write while leading; leading implies `Some`.
        let mut renewed_at: Option<Instant> = None;
        let set = |lead: bool| {
            leading.send_if_modified(|l| std::mem::replace(l, lead) != lead);
        };
        loop {
            let start = self.clock.instant();
            let is_leading = *leading.borrow();
            // A try never outlives the leader's deadline, nor a candidate's own renew deadline.
            let deadline = match renewed_at {
                Some(at) if is_leading => at + timing.renew_deadline,
                _ => start + timing.renew_deadline,
            };
            let attempt = tokio::select! {
                _ = &mut stop => break,
                _ = self.clock.sleep_until(deadline) => None,
                a = self.try_acquire_or_renew(self.clock.now(), is_leading) => Some(a),
            };
            match attempt {
                Some(Attempt::Held) => {
                    renewed_at = Some(start);
                    if !is_leading {
                        tracing::info!(identity = %self.config.identity, "acquired lease");
                    }
                    set(true);
                }
                Some(Attempt::Other { lost }) => {
                    if lost {
                        tracing::warn!(identity = %self.config.identity, "lease taken over");
                    }
                    renewed_at = None;
                    set(false);
                }
                Some(Attempt::Failed(e)) => {
                    tracing::debug!(identity = %self.config.identity, "lease attempt failed: {e}")
                }
                None => {
                    tracing::debug!(identity = %self.config.identity, "lease attempt timed out")
                }
            }
            // The deadline of the renewal just made (or of the last one, if this try failed).
            let deadline = renewed_at.map(|at| at + timing.renew_deadline);
            if *leading.borrow() && deadline.is_none_or(|d| self.clock.instant() >= d) {
                tracing::warn!(identity = %self.config.identity, "renew deadline passed: stepping down");
                renewed_at = None;
                set(false);
            }
            let mut wake = start + timing.retry_period;
            if let (true, Some(d)) = (*leading.borrow(), deadline) {
                // Wake at the deadline too, to step down on time if renewals keep failing.
                wake = wake.min(d);
            }
            tokio::select! {
                _ = &mut stop => break,
                _ = self.clock.sleep_until(wake) => {}
            }
        }
        // Stop acting before giving the lease away, so two leaders never overlap.
        let was_leading = *leading.borrow();
        set(false);
        if was_leading {
            let release = self.release();
            if self
                .clock
                .timeout(timing.renew_deadline, release)
                .await
                .is_err()
            {
                tracing::warn!(identity = %self.config.identity, "lease release timed out");
            }
        }
    }

    async fn try_acquire_or_renew(&self, now: Timestamp, leading: bool) -> Attempt {
        let cfg = &self.config;
        let current = match self.client.get::<Lease>(&cfg.namespace, &cfg.name).await {
            Ok(l) => Some(l),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Attempt::Failed(e),
        };
        let spec = match decide(current.as_ref(), &cfg.identity, leading, now, &cfg.timing) {
            Decision::Acquire(spec) | Decision::Renew(spec) => spec,
            Decision::Wait { .. } => return Attempt::Other { lost: false },
            Decision::Lost { .. } => return Attempt::Other { lost: true },
        };
        let written = match current {
            // The update carries the resourceVersion read: a compare-and-swap.
            Some(mut lease) => {
                lease.spec = spec;
                self.client.update(&cfg.namespace, &lease).await
            }
            None => {
                self.client
                    .create(&cfg.namespace, &self.new_lease(spec))
                    .await
            }
        };
        match written {
            Ok(_) => Attempt::Held,
            Err(e) => Attempt::Failed(e),
        }
    }

    fn new_lease(&self, spec: LeaseSpec) -> Lease {
        Lease {
            metadata: ObjectMeta {
                name: self.config.name.clone(),
                namespace: self.config.namespace.clone(),
                ..ObjectMeta::default()
            },
            spec,
            ..Lease::default()
        }
    }

    /// Frees the lease if this candidate still holds it (compare-and-swap).
    async fn release(&self) {
        let cfg = &self.config;
        let mut lease = match self.client.get::<Lease>(&cfg.namespace, &cfg.name).await {
            Ok(l) if l.spec.holder_identity == cfg.identity => l,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(identity = %cfg.identity, "cannot read the lease to release it: {e}");
                return;
            }
        };
        lease.spec = released(&lease.spec, self.clock.now());
        match self.client.update(&cfg.namespace, &lease).await {
            Ok(_) => tracing::info!(identity = %cfg.identity, "released lease"),
            Err(e) => tracing::warn!(identity = %cfg.identity, "lease release failed: {e}"),
        }
    }
}

/// A running candidate: whether it leads now, and how to stop it.
pub struct Leadership {
    leading: watch::Receiver<bool>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    lease: String,
}

impl Leadership {
    /// Whether this candidate leads right now (false once the elector has stopped).
    pub fn is_leader(&self) -> bool {
        *self.leading.borrow() && self.leading.has_changed().is_ok()
    }

    /// A receiver of leadership changes (`true` while leading).
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.leading.clone()
    }

    /// Waits until this candidate leads.
    pub async fn acquired(&self) -> Result<(), LeaderElectionError> {
        let mut rx = self.leading.clone();
        let led = rx.wait_for(|l| *l).await.map(|_| ());
        led.map_err(|_| LeaderElectionError::Stopped(self.lease.clone()))
    }

    /// Resolves as soon as this candidate does not lead (at once if it does not lead now).
    pub fn lost(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.leading.clone();
        async move {
            let _ = rx.wait_for(|l| !*l).await;
        }
    }

    /// Clean shutdown: stops leading, then frees the lease so the next candidate takes over at
    /// its next try; returns when done.
    pub async fn release(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Stops at once without releasing the lease (as a crash would): others wait for it to expire.
    pub fn abort(self) {
        self.task.abort();
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        self.task.abort();
    }
}
