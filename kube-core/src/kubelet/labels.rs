//! Labels the kubelet puts on every container it creates, so that it finds its containers
//! again after a restart and never touches anyone else's. The names are the ones Kubernetes'
//! Docker integration used.

/// Namespace of the pod the container belongs to.
pub const POD_NAMESPACE: &str = "io.kubernetes.pod.namespace";
/// Name of the pod the container belongs to.
pub const POD_NAME: &str = "io.kubernetes.pod.name";
/// UID of the pod the container belongs to.
pub const POD_UID: &str = "io.kubernetes.pod.uid";
/// Name of the container within its pod; [`INFRA_CONTAINER_NAME`] for the infra container.
pub const CONTAINER_NAME: &str = "io.kubernetes.container.name";
/// Hash of the container's spec; a different hash means the container must be recreated.
pub const CONTAINER_HASH: &str = "io.kubernetes.container.hash";
/// How many times this container of the pod had been restarted when this one was created.
pub const RESTART_COUNT: &str = "io.kubernetes.container.restartCount";
/// Node whose kubelet owns the container; the kubelet lists with this label only.
pub const NODE_NAME: &str = "io.kubernetes.node.name";
/// `CONTAINER_NAME` of a pod's infra ("pause") container.
pub const INFRA_CONTAINER_NAME: &str = "POD";
