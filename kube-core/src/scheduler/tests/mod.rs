//! Tests of the scheduling algorithm: per plugin, the snapshot, the framework, and properties
//! over random clusters.

mod builders;
mod filters;
mod framework;
mod properties;
mod scores;
mod snapshot;
