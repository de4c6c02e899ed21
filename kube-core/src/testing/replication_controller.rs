//! [`ReplicationControllerBuilder`].

use super::PodBuilder;
use crate::pod::PodTemplateSpec;
use crate::replication_controller::ReplicationController;

/// Builds a [`ReplicationController`].
#[derive(Clone, Debug)]
pub struct ReplicationControllerBuilder(ReplicationController);

impl ReplicationControllerBuilder {
    /// A controller called `name` in namespace `default`, replicas unset, no template.
    pub fn new(name: &str) -> ReplicationControllerBuilder {
        ReplicationControllerBuilder(ReplicationController {
            metadata: super::meta(name, "default"),
            ..ReplicationController::default()
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

    /// `spec.replicas`.
    pub fn replicas(mut self, n: i32) -> Self {
        self.0.spec.replicas = Some(n);
        self
    }

    /// A `spec.selector` pair.
    pub fn selector(mut self, key: &str, value: &str) -> Self {
        self.0.spec.selector.insert(key.into(), value.into());
        self
    }

    /// `spec.template` from a pod: its labels, annotations and spec (not its name or status).
    pub fn template(mut self, pod: PodBuilder) -> Self {
        let pod = pod.build();
        let mut template = PodTemplateSpec {
            spec: pod.spec,
            ..PodTemplateSpec::default()
        };
        template.metadata.labels = pod.metadata.labels;
        template.metadata.annotations = pod.metadata.annotations;
        self.0.spec.template = Some(template);
        self
    }

    /// `status.replicas`.
    pub fn status_replicas(mut self, n: i32) -> Self {
        self.0.status.replicas = n;
        self
    }

    /// The controller.
    pub fn build(self) -> ReplicationController {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_what_it_says() {
        let cases: Vec<(&str, ReplicationController, serde_json::Value)> = vec![
            (
                "bare",
                ReplicationControllerBuilder::new("rc").build(),
                json!({"metadata": {"name": "rc", "namespace": "default"}, "spec": {}, "status": {"replicas": 0}}),
            ),
            (
                "selector, replicas and a template",
                ReplicationControllerBuilder::new("rc")
                    .namespace("ns")
                    .replicas(3)
                    .selector("app", "web")
                    .template(
                        PodBuilder::new("ignored")
                            .label("app", "web")
                            .container("web", "nginx")
                            .phase("Running"),
                    )
                    .status_replicas(2)
                    .build(),
                json!({
                    "metadata": {"name": "rc", "namespace": "ns"},
                    "spec": {
                        "replicas": 3,
                        "selector": {"app": "web"},
                        "template": {
                            "metadata": {"labels": {"app": "web"}},
                            "spec": {"containers": [{"name": "web", "image": "nginx"}]}
                        }
                    },
                    "status": {"replicas": 2}
                }),
            ),
        ];
        for (desc, rc, want) in cases {
            assert_eq!(serde_json::to_value(&rc).expect("encodes"), want, "{desc}");
        }
    }
}
