//! Builders in the style of kube-scheduler's `MakePod().Name(..).Obj()` test wrappers.

use crate::meta::ObjectMeta;
use crate::node::{Node, NodeCondition};
use crate::pod::{Container, ContainerPort, Pod};
use crate::scheduler::{NodeInfo, PodInfo};

/// A node under construction.
pub struct NodeBuilder(pub Node);

/// A node called `name` with nothing set.
pub fn node(name: &str) -> NodeBuilder {
    NodeBuilder(Node {
        metadata: ObjectMeta {
            name: name.into(),
            ..Default::default()
        },
        ..Default::default()
    })
}

impl NodeBuilder {
    /// Allocatable CPU.
    pub fn cpu(mut self, q: &str) -> Self {
        self.0.status.allocatable.insert("cpu".into(), q.into());
        self
    }

    /// Allocatable memory.
    pub fn mem(mut self, q: &str) -> Self {
        self.0.status.allocatable.insert("memory".into(), q.into());
        self
    }

    /// Allocatable pods.
    pub fn pods(mut self, q: &str) -> Self {
        self.0.status.allocatable.insert("pods".into(), q.into());
        self
    }

    /// A capacity entry (allocatable falls back to it).
    pub fn capacity(mut self, resource: &str, q: &str) -> Self {
        self.0.status.capacity.insert(resource.into(), q.into());
        self
    }

    /// A label.
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.0.metadata.labels.insert(k.into(), v.into());
        self
    }

    /// `spec.unschedulable`.
    pub fn unschedulable(mut self) -> Self {
        self.0.spec.unschedulable = true;
        self
    }

    /// A condition of type `type_` with `status`.
    pub fn condition(mut self, type_: &str, status: &str) -> Self {
        self.0.status.conditions.push(NodeCondition {
            type_: type_.into(),
            status: status.into(),
            ..Default::default()
        });
        self
    }

    /// `Ready=False`.
    pub fn not_ready(self) -> Self {
        self.condition("Ready", "False")
    }

    /// The node.
    pub fn obj(self) -> Node {
        self.0
    }

    /// A standalone `NodeInfo` of the node.
    pub fn info(self) -> NodeInfo {
        NodeInfo::new(&self.0)
    }
}

/// A pod under construction.
pub struct PodBuilder(pub Pod);

/// A pod called `name` in namespace `default`, with no containers.
pub fn pod(name: &str) -> PodBuilder {
    PodBuilder(Pod {
        metadata: ObjectMeta {
            name: name.into(),
            namespace: "default".into(),
            ..Default::default()
        },
        ..Default::default()
    })
}

impl PodBuilder {
    /// The namespace.
    pub fn ns(mut self, ns: &str) -> Self {
        self.0.metadata.namespace = ns.into();
        self
    }

    /// The container the next settings go to (the last one, created when there is none).
    fn last(&mut self) -> &mut Container {
        if self.0.spec.containers.is_empty() {
            self.0.spec.containers.push(Container {
                name: "c0".into(),
                image: "busybox".into(),
                ..Default::default()
            });
        }
        self.0.spec.containers.last_mut().unwrap()
    }

    /// A new container requesting `cpu` and `mem` (an empty string leaves that request out).
    pub fn req(mut self, cpu: &str, mem: &str) -> Self {
        let n = self.0.spec.containers.len();
        let mut c = Container {
            name: format!("c{n}"),
            image: "busybox".into(),
            ..Default::default()
        };
        if !cpu.is_empty() {
            c.resources.requests.insert("cpu".into(), cpu.into());
        }
        if !mem.is_empty() {
            c.resources.requests.insert("memory".into(), mem.into());
        }
        self.0.spec.containers.push(c);
        self
    }

    /// Limits on the last container (an empty string leaves that limit out).
    pub fn limits(mut self, cpu: &str, mem: &str) -> Self {
        let c = self.last();
        if !cpu.is_empty() {
            c.resources.limits.insert("cpu".into(), cpu.into());
        }
        if !mem.is_empty() {
            c.resources.limits.insert("memory".into(), mem.into());
        }
        self
    }

    /// A TCP host port on all addresses, on the last container.
    pub fn host_port(self, port: i32) -> Self {
        self.host_port_on("", "", port)
    }

    /// A host port with host IP and protocol, on the last container.
    pub fn host_port_on(mut self, ip: &str, protocol: &str, port: i32) -> Self {
        self.last().ports.push(ContainerPort {
            container_port: port,
            host_port: port,
            host_ip: ip.into(),
            protocol: protocol.into(),
            ..Default::default()
        });
        self
    }

    /// A label.
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.0.metadata.labels.insert(k.into(), v.into());
        self
    }

    /// A nodeSelector pair.
    pub fn node_selector(mut self, k: &str, v: &str) -> Self {
        self.0.spec.node_selector.insert(k.into(), v.into());
        self
    }

    /// `spec.nodeName`.
    pub fn node(mut self, n: &str) -> Self {
        self.0.spec.node_name = n.into();
        self
    }

    /// The pod.
    pub fn obj(self) -> Pod {
        self.0
    }

    /// Its `PodInfo`.
    pub fn info(self) -> PodInfo {
        PodInfo::new(&self.0)
    }
}
