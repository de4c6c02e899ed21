//! The controller toolkit's loop: a [`WorkQueue`] of keys and the [`Controller`] runner that
//! feeds it from reflector caches and calls a user's `reconcile` for each key.
//!
//! Controllers are level-triggered: a key in the queue means "look at this object again", never
//! "this event happened". Whatever the events (one or a thousand, or a lagged subscription), the
//! reconcile reads the current object from the cache and converges towards it.

pub mod runner;
pub mod shutdown;
pub mod workqueue;

pub use runner::{default_error_policy, Action, Controller, ControllerConfig, ControllerStats};
pub use shutdown::Shutdown;
pub use workqueue::{QueueConfig, RateLimit, WorkQueue};
