//! Implementations of kube-core's `ContainerRuntime`: Docker (bollard) and an in-memory fake.

pub mod docker;
pub mod fake;

pub use docker::DockerRuntime;
pub use fake::FakeRuntime;
