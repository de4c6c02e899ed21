//! Defaulting of API objects. STUB: implementation in progress.

/// Fills in defaults the way Kubernetes does, idempotently.
pub trait Defaults {
    /// Applies defaults in place (never touches `metadata.namespace`).
    fn apply_defaults(&mut self);
}
