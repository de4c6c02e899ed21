//! [`PodBuilder`].

use crate::pod::{Container, ContainerPort, Pod, PodCondition};

/// Image of containers the builder adds on its own.
const DEFAULT_IMAGE: &str = "busybox";

/// Builds a [`Pod`]; container settings go to the last container (one is added when none exists).
#[derive(Clone, Debug)]
pub struct PodBuilder(Pod);

impl PodBuilder {
    /// A pod called `name` in namespace `default`, with no containers.
    pub fn new(name: &str) -> PodBuilder {
        PodBuilder(Pod {
            metadata: super::meta(name, "default"),
            ..Pod::default()
        })
    }

    /// `metadata.namespace`.
    pub fn namespace(mut self, ns: &str) -> Self {
        self.0.metadata.namespace = ns.into();
        self
    }

    /// A label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.0.metadata.labels.insert(key.into(), value.into());
        self
    }

    /// An annotation.
    pub fn annotation(mut self, key: &str, value: &str) -> Self {
        self.0.metadata.annotations.insert(key.into(), value.into());
        self
    }

    /// `metadata.uid`.
    pub fn uid(mut self, uid: &str) -> Self {
        self.0.metadata.uid = uid.into();
        self
    }

    /// `spec.nodeName`.
    pub fn node(mut self, node: &str) -> Self {
        self.0.spec.node_name = node.into();
        self
    }

    /// A `spec.nodeSelector` pair.
    pub fn node_selector(mut self, key: &str, value: &str) -> Self {
        self.0.spec.node_selector.insert(key.into(), value.into());
        self
    }

    /// `spec.restartPolicy`.
    pub fn restart_policy(mut self, policy: &str) -> Self {
        self.0.spec.restart_policy = policy.into();
        self
    }

    /// A new container `name` running `image`.
    pub fn container(mut self, name: &str, image: &str) -> Self {
        self.0.spec.containers.push(Container {
            name: name.into(),
            image: image.into(),
            ..Container::default()
        });
        self
    }

    /// A new container (named `c{index}`) requesting `cpu` and `memory`; an empty string leaves
    /// that request out.
    pub fn container_requesting(mut self, cpu: &str, memory: &str) -> Self {
        let name = format!("c{}", self.0.spec.containers.len());
        self = self.container(&name, DEFAULT_IMAGE);
        for (resource, q) in [("cpu", cpu), ("memory", memory)] {
            if !q.is_empty() {
                self = self.request(resource, q);
            }
        }
        self
    }

    /// A request of `resource` on the last container.
    pub fn request(mut self, resource: &str, q: &str) -> Self {
        let c = self.last();
        c.resources.requests.insert(resource.into(), q.into());
        self
    }

    /// A CPU request on the last container.
    pub fn request_cpu(self, q: &str) -> Self {
        self.request("cpu", q)
    }

    /// A memory request on the last container.
    pub fn request_memory(self, q: &str) -> Self {
        self.request("memory", q)
    }

    /// CPU and memory limits on the last container; an empty string leaves that limit out.
    pub fn limits(mut self, cpu: &str, memory: &str) -> Self {
        for (resource, q) in [("cpu", cpu), ("memory", memory)] {
            if !q.is_empty() {
                self = self.limit(resource, q);
            }
        }
        self
    }

    /// A limit of `resource` on the last container.
    pub fn limit(mut self, resource: &str, q: &str) -> Self {
        let c = self.last();
        c.resources.limits.insert(resource.into(), q.into());
        self
    }

    /// A CPU limit on the last container.
    pub fn limit_cpu(self, q: &str) -> Self {
        self.limit("cpu", q)
    }

    /// A memory limit on the last container.
    pub fn limit_memory(self, q: &str) -> Self {
        self.limit("memory", q)
    }

    /// A container port on the last container.
    pub fn container_port(mut self, port: i32) -> Self {
        self.last().ports.push(ContainerPort {
            container_port: port,
            ..ContainerPort::default()
        });
        self
    }

    /// A host port (same container port, all addresses, protocol unset) on the last container.
    pub fn host_port(self, port: i32) -> Self {
        self.host_port_on("", "", port)
    }

    /// A host port with host IP and protocol on the last container.
    pub fn host_port_on(mut self, ip: &str, protocol: &str, port: i32) -> Self {
        self.last().ports.push(ContainerPort {
            container_port: port,
            host_port: port,
            host_ip: ip.into(),
            protocol: protocol.into(),
            ..ContainerPort::default()
        });
        self
    }

    /// `status.phase`.
    pub fn phase(mut self, phase: &str) -> Self {
        self.0.status.phase = phase.into();
        self
    }

    /// `status.podIP`.
    pub fn pod_ip(mut self, ip: &str) -> Self {
        self.0.status.pod_ip = ip.into();
        self
    }

    /// A status condition of type `type_` with `status`.
    pub fn condition(mut self, type_: &str, status: &str) -> Self {
        self.0.status.set_condition(PodCondition {
            type_: type_.into(),
            status: status.into(),
            ..PodCondition::default()
        });
        self
    }

    /// The pod.
    pub fn build(self) -> Pod {
        self.0
    }

    fn last(&mut self) -> &mut Container {
        if self.0.spec.containers.is_empty() {
            self.0.spec.containers.push(Container {
                name: "c0".into(),
                image: DEFAULT_IMAGE.into(),
                ..Container::default()
            });
        }
        let at = self.0.spec.containers.len() - 1;
        &mut self.0.spec.containers[at]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_what_it_says() {
        let cases: Vec<(&str, Pod, serde_json::Value)> = vec![
            (
                "bare",
                PodBuilder::new("web").build(),
                json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"containers": []}, "status": {}}),
            ),
            (
                "scheduled with requests and a host port",
                PodBuilder::new("web")
                    .namespace("ns")
                    .label("app", "web")
                    .node("n1")
                    .request_cpu("100m")
                    .request_memory("64Mi")
                    .host_port(8080)
                    .phase("Running")
                    .build(),
                json!({
                    "metadata": {"name": "web", "namespace": "ns", "labels": {"app": "web"}},
                    "spec": {"nodeName": "n1", "containers": [{
                        "name": "c0", "image": "busybox",
                        "ports": [{"containerPort": 8080, "hostPort": 8080}],
                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}
                    }]},
                    "status": {"phase": "Running"}
                }),
            ),
            (
                "two containers, settings go to the last",
                PodBuilder::new("p")
                    .container_requesting("1", "")
                    .container("side", "nginx")
                    .limit_memory("1Gi")
                    .limits("", "")
                    .host_port_on("127.0.0.1", "UDP", 53)
                    .build(),
                json!({
                    "metadata": {"name": "p", "namespace": "default"},
                    "spec": {"containers": [
                        {"name": "c0", "image": "busybox", "resources": {"requests": {"cpu": "1"}}},
                        {"name": "side", "image": "nginx",
                         "ports": [{"containerPort": 53, "hostPort": 53, "hostIP": "127.0.0.1", "protocol": "UDP"}],
                         "resources": {"limits": {"memory": "1Gi"}}}
                    ]},
                    "status": {}
                }),
            ),
        ];
        for (desc, pod, want) in cases {
            let got = serde_json::to_value(&pod).expect("encodes");
            assert_eq!(got, want, "{desc}");
        }
    }

    #[test]
    fn conditions_and_selectors() {
        let pod = PodBuilder::new("p")
            .node_selector("disk", "ssd")
            .condition("Ready", "False")
            .condition("Ready", "True")
            .pod_ip("10.0.0.1")
            .uid("u")
            .annotation("a", "b")
            .restart_policy("Never")
            .container_port(80)
            .build();
        assert_eq!(pod.spec.node_selector["disk"], "ssd");
        assert_eq!(
            pod.status.conditions.len(),
            1,
            "a condition type is set once"
        );
        assert_eq!(pod.status.conditions[0].status, "True");
        assert_eq!(
            (pod.status.pod_ip.as_str(), pod.metadata.uid.as_str()),
            ("10.0.0.1", "u")
        );
        assert_eq!(pod.spec.containers[0].ports[0].host_port, 0);
        assert_eq!(pod.spec.restart_policy, "Never");
    }
}
