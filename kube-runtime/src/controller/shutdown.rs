//! [`Shutdown`]: a cloneable stop signal (a cancellation token built on `tokio::sync::watch`).

use std::future::Future;
use std::sync::Arc;
use tokio::sync::watch;

/// A stop signal shared by clones: once triggered, it stays triggered.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Shutdown {
        Shutdown::new()
    }
}

impl Shutdown {
    /// A signal not yet triggered.
    pub fn new() -> Shutdown {
        let (tx, _) = watch::channel(false);
        Shutdown { tx: Arc::new(tx) }
    }

    /// A signal triggered when `fut` completes (e.g. `cli::shutdown_signal()`); spawns a task.
    pub fn on<F: Future<Output = ()> + Send + 'static>(fut: F) -> Shutdown {
        let s = Shutdown::new();
        let trigger = s.clone();
        tokio::spawn(async move {
            fut.await;
            trigger.trigger();
        });
        s
    }

    /// Triggers the signal (idempotent).
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Whether the signal has been triggered.
    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Completes once the signal is triggered.
    pub async fn triggered(&self) {
        let mut rx = self.tx.subscribe();
        // The sender is kept alive by `self`: the wait cannot fail.
        let _ = rx.wait_for(|s| *s).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn clones_share_the_signal() {
        let s = Shutdown::new();
        let waiter = tokio::spawn({
            let s = s.clone();
            async move { s.triggered().await }
        });
        assert!(!s.is_triggered());
        s.clone().trigger();
        waiter.await.unwrap();
        assert!(s.is_triggered());
        s.triggered().await; // already triggered: returns at once

        let from_future = Shutdown::on(tokio::time::sleep(std::time::Duration::from_secs(3)));
        let start = tokio::time::Instant::now();
        from_future.triggered().await;
        assert_eq!(start.elapsed().as_secs(), 3);
    }
}
