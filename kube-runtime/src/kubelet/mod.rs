//! The kubelet: runs the pods bound to its node through a `ContainerRuntime`.

pub mod server;
