//! [`ServiceBuilder`].

use crate::intstr::IntOrString;
use crate::service::{Service, ServicePort};

/// Builds a [`Service`].
#[derive(Clone, Debug)]
pub struct ServiceBuilder(Service);

impl ServiceBuilder {
    /// A service called `name` in namespace `default`.
    pub fn new(name: &str) -> ServiceBuilder {
        ServiceBuilder(Service {
            metadata: super::meta(name, "default"),
            ..Service::default()
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

    /// A `spec.selector` pair.
    pub fn selector(mut self, key: &str, value: &str) -> Self {
        self.0.spec.selector.insert(key.into(), value.into());
        self
    }

    /// A port forwarding to `target_port` on the pods.
    pub fn port(mut self, port: i32, target_port: i32) -> Self {
        self.0.spec.ports.push(ServicePort {
            port,
            target_port: Some(IntOrString::Int(target_port)),
            ..ServicePort::default()
        });
        self
    }

    /// `spec.clusterIP`.
    pub fn cluster_ip(mut self, ip: &str) -> Self {
        self.0.spec.cluster_ip = ip.into();
        self
    }

    /// The service.
    pub fn build(self) -> Service {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_what_it_says() {
        let cases: Vec<(&str, Service, serde_json::Value)> = vec![
            (
                "bare",
                ServiceBuilder::new("db").build(),
                json!({"metadata": {"name": "db", "namespace": "default"}, "spec": {"ports": []}, "status": {}}),
            ),
            (
                "selector and port",
                ServiceBuilder::new("db")
                    .namespace("ns")
                    .label("tier", "data")
                    .selector("app", "redis")
                    .port(6379, 6380)
                    .cluster_ip("10.0.0.10")
                    .build(),
                json!({
                    "metadata": {"name": "db", "namespace": "ns", "labels": {"tier": "data"}},
                    "spec": {"ports": [{"port": 6379, "targetPort": 6380}],
                             "selector": {"app": "redis"}, "clusterIP": "10.0.0.10"},
                    "status": {}
                }),
            ),
        ];
        for (desc, svc, want) in cases {
            assert_eq!(serde_json::to_value(&svc).expect("encodes"), want, "{desc}");
        }
    }
}
