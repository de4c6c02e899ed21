//! Informers: list, then watch, keeping a shared cache and announcing every change.
//!
//! Level-triggered, as client-go's reflector and kube-rs's watcher: the [`Watcher`] lists
//! (remembering the revision), watches from that revision, resumes from the last revision seen
//! when a stream breaks, and relists when the watch answers 410 (history compacted); the
//! [`reflector`] applies what it sees to a cache of `Arc`s that any number of readers share, and
//! [`SharedInformers`] hands every consumer of the same resource and selectors the same cache.

pub mod reflector;
pub mod shared;
pub mod watcher;

pub use reflector::{index, key_of, object_key, Cache, CacheEvent, IndexFn, Writer};
pub use shared::SharedInformers;
pub use watcher::{Watcher, WatcherEvent};
