//! kube-core: the sans-IO heart of the orchestrator.
//!
//! It holds the object model (core/v1 shape), labels and selectors, quantities,
//! defaulting and validation, v1beta1 conversion, and the [`store::Store`] and
//! [`runtime::ContainerRuntime`] traits. Nothing here touches sockets, files, clocks
//! or threads: time and randomness come in as arguments.

pub mod backoff;
pub mod binding;
pub mod controller;
pub mod decode;
pub mod defaults;
pub mod deletion;
pub mod endpoints;
pub mod error;
pub mod event;
pub mod fields;
pub mod intstr;
pub mod ip_allocator;
pub mod kubelet;
pub mod labels;
pub mod leader;
pub mod lease;
pub mod list;
pub mod managed_fields;
pub mod meta;
pub mod namespace;
pub mod node;
pub mod object;
pub mod openapi;
pub mod paging;
pub mod patch;
pub mod pod;
pub mod protobuf;
pub mod proxy;
pub mod quantity;
pub mod rand;
pub mod replication_controller;
pub mod runtime;
pub mod scale;
pub mod scheduler;
pub mod service;
pub mod status;
pub mod store;
pub mod strategic_merge;
pub mod strategy;
pub mod table;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;
pub mod v1beta1;
pub mod validation;
pub mod watch;

pub use binding::Binding;
pub use deletion::DeleteOptions;
pub use endpoints::Endpoints;
pub use event::Event;
pub use lease::Lease;
pub use list::List;
pub use meta::{ListMeta, ObjectMeta, ObjectReference, OwnerReference};
pub use namespace::Namespace;
pub use node::Node;
pub use object::{Object, ResourceKind};
pub use pod::Pod;
pub use replication_controller::ReplicationController;
pub use scale::Scale;
pub use service::Service;
pub use status::Status;
pub use store::{Store, StoreError};
pub use time::Timestamp;
pub use watch::{WatchEvent, WatchEventType};
