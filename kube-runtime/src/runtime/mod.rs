//! Implementations of kube-core's `ContainerRuntime`: Docker (bollard) and an in-memory fake.

pub mod fake;

pub use fake::FakeRuntime;
