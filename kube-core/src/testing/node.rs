//! [`NodeBuilder`].

use crate::node::{Node, NodeCondition};

/// Builds a [`Node`].
#[derive(Clone, Debug)]
pub struct NodeBuilder(Node);

impl NodeBuilder {
    /// A node called `name` with nothing else set.
    pub fn new(name: &str) -> NodeBuilder {
        NodeBuilder(Node {
            metadata: super::meta(name, ""),
            ..Node::default()
        })
    }

    /// A label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.0.metadata.labels.insert(key.into(), value.into());
        self
    }

    /// A `status.capacity` entry (allocatable defaults to capacity on the server).
    pub fn capacity(mut self, resource: &str, q: &str) -> Self {
        self.0.status.capacity.insert(resource.into(), q.into());
        self
    }

    /// A `status.allocatable` entry.
    pub fn allocatable(mut self, resource: &str, q: &str) -> Self {
        self.0.status.allocatable.insert(resource.into(), q.into());
        self
    }

    /// Allocatable CPU.
    pub fn cpu(self, q: &str) -> Self {
        self.allocatable("cpu", q)
    }

    /// Allocatable memory.
    pub fn memory(self, q: &str) -> Self {
        self.allocatable("memory", q)
    }

    /// Allocatable pod count.
    pub fn pods(self, q: &str) -> Self {
        self.allocatable("pods", q)
    }

    /// `spec.unschedulable = true`.
    pub fn unschedulable(mut self) -> Self {
        self.0.spec.unschedulable = true;
        self
    }

    /// A condition of type `type_` with `status` (replacing one of the same type).
    pub fn condition(mut self, type_: &str, status: &str) -> Self {
        let conditions = &mut self.0.status.conditions;
        conditions.retain(|c| c.type_ != type_);
        conditions.push(NodeCondition {
            type_: type_.into(),
            status: status.into(),
            ..NodeCondition::default()
        });
        self
    }

    /// `Ready=True`.
    pub fn ready(self) -> Self {
        self.condition("Ready", "True")
    }

    /// `Ready=False`.
    pub fn not_ready(self) -> Self {
        self.condition("Ready", "False")
    }

    /// The node.
    pub fn build(self) -> Node {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_what_it_says() {
        let cases: Vec<(&str, Node, serde_json::Value)> = vec![
            (
                "bare",
                NodeBuilder::new("n1").build(),
                json!({"metadata": {"name": "n1"}, "spec": {}, "status": {}}),
            ),
            (
                "resources, labels, conditions",
                NodeBuilder::new("n1")
                    .label("zone", "a")
                    .capacity("cpu", "4")
                    .cpu("3500m")
                    .memory("8Gi")
                    .pods("110")
                    .not_ready()
                    .ready()
                    .unschedulable()
                    .build(),
                json!({
                    "metadata": {"name": "n1", "labels": {"zone": "a"}},
                    "spec": {"unschedulable": true},
                    "status": {
                        "capacity": {"cpu": "4"},
                        "allocatable": {"cpu": "3500m", "memory": "8Gi", "pods": "110"},
                        "conditions": [{"type": "Ready", "status": "True"}]
                    }
                }),
            ),
        ];
        for (desc, node, want) in cases {
            assert_eq!(
                serde_json::to_value(&node).expect("encodes"),
                want,
                "{desc}"
            );
        }
    }
}
