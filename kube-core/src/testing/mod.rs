//! Object builders for tests (feature `testing`), in the style of kube-scheduler's
//! `MakePod().Name(..).Node(..).Obj()` wrappers:
//! `PodBuilder::new("web").namespace("ns").label("app", "web").request_cpu("100m").build()`.
//!
//! Builders start from the smallest object the API accepts (a name, namespace `default` for
//! namespaced kinds) and each call sets one thing, so a test states only what it is about.

mod node;
mod pod;
mod replication_controller;
mod service;

pub use node::NodeBuilder;
pub use pod::PodBuilder;
pub use replication_controller::ReplicationControllerBuilder;
pub use service::ServiceBuilder;

use crate::meta::ObjectMeta;

/// Metadata with `name` in namespace `namespace` (empty for cluster-scoped kinds).
fn meta(name: &str, namespace: &str) -> ObjectMeta {
    ObjectMeta {
        name: name.into(),
        namespace: namespace.into(),
        ..ObjectMeta::default()
    }
}
