//! Node validation.

use super::meta::{
    validate_object_meta, validate_object_meta_update, validate_resource_list, NameRule,
};
use super::names::is_cidr;
use super::{FieldError, FieldErrors, FieldPath, Validate};
use crate::node::Node;

impl Validate for Node {
    fn validate(&self) -> FieldErrors {
        let mut errs = Vec::new();
        validate_object_meta(&self.metadata, NameRule::Dns1123Subdomain, &mut errs);
        let cidr = &self.spec.pod_cidr;
        if !cidr.is_empty() && !is_cidr(cidr) {
            errs.push(FieldError::invalid(
                "spec.podCIDR",
                cidr,
                "must be a valid CIDR, e.g. 10.244.1.0/24",
            ));
        }
        let status = FieldPath::new("status");
        validate_resource_list(&self.status.capacity, &status.child("capacity"), &mut errs);
        validate_resource_list(
            &self.status.allocatable,
            &status.child("allocatable"),
            &mut errs,
        );
        errs
    }

    fn validate_update(&self, old: &Self) -> FieldErrors {
        let mut errs = self.validate();
        validate_object_meta_update(&self.metadata, &old.metadata, &mut errs);
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{check_create, check_update, Case};
    use super::*;
    use crate::meta::ObjectMeta;
    use crate::quantity::Quantity;

    const REQ: &str = "FieldValueRequired";
    const INV: &str = "FieldValueInvalid";

    fn valid_node() -> Node {
        let mut node = Node {
            metadata: ObjectMeta {
                name: "node-1.example.com".into(),
                uid: "uid-1".into(),
                labels: [("disk".to_string(), "ssd".to_string())].into(),
                ..ObjectMeta::default()
            },
            ..Node::default()
        };
        node.spec.pod_cidr = "10.244.1.0/24".into();
        for (k, v) in [("cpu", "4"), ("memory", "8Gi"), ("pods", "110")] {
            node.status.capacity.insert(k.into(), Quantity(v.into()));
        }
        node.status.allocatable = node.status.capacity.clone();
        node.status
            .allocatable
            .insert("cpu".into(), Quantity("3500m".into()));
        node
    }

    fn set(list: &mut crate::pod::ResourceList, k: &str, v: &str) {
        list.insert(k.into(), Quantity(v.into()));
    }

    #[test]
    fn node_create_cases() {
        let cases: &[Case<Node>] = &[
            (
                "no resources",
                |n| {
                    n.status.capacity.clear();
                    n.status.allocatable.clear();
                },
                &[],
            ),
            (
                "an IP as name",
                |n| n.metadata.name = "127.0.0.1".into(),
                &[],
            ),
            (
                "no name",
                |n| n.metadata.name.clear(),
                &[("metadata.name", REQ)],
            ),
            (
                "uppercase name",
                |n| n.metadata.name = "Node1".into(),
                &[("metadata.name", INV)],
            ),
            (
                "bad capacity",
                |n| set(&mut n.status.capacity, "cpu", "four"),
                &[("status.capacity[cpu]", INV)],
            ),
            (
                "negative capacity",
                |n| set(&mut n.status.capacity, "memory", "-1Gi"),
                &[("status.capacity[memory]", INV)],
            ),
            (
                "bad allocatable",
                |n| set(&mut n.status.allocatable, "pods", "1x"),
                &[("status.allocatable[pods]", INV)],
            ),
            (
                "negative allocatable",
                |n| set(&mut n.status.allocatable, "cpu", "-100m"),
                &[("status.allocatable[cpu]", INV)],
            ),
            (
                "bad resource name",
                |n| set(&mut n.status.capacity, "bad name", "1"),
                &[("status.capacity[bad name]", INV)],
            ),
            (
                "bad pod CIDR",
                |n| n.spec.pod_cidr = "10.244.1.0".into(),
                &[("spec.podCIDR", INV)],
            ),
            (
                "many errors at once",
                |n| {
                    n.metadata.name = "-node".into();
                    n.metadata.labels.insert("k".into(), "bad value".into());
                    set(&mut n.status.capacity, "cpu", "x");
                    set(&mut n.status.allocatable, "memory", "-5");
                },
                &[
                    ("metadata.name", INV),
                    ("metadata.labels", INV),
                    ("status.capacity[cpu]", INV),
                    ("status.allocatable[memory]", INV),
                ],
            ),
        ];
        check_create(&valid_node(), cases);
    }

    #[test]
    fn node_update_cases() {
        let cases: &[Case<Node>] = &[
            ("cordon", |n| n.spec.unschedulable = true, &[]),
            (
                "new capacity",
                |n| set(&mut n.status.capacity, "cpu", "8"),
                &[],
            ),
            (
                "rename",
                |n| n.metadata.name = "node-2".into(),
                &[("metadata.name", INV)],
            ),
            (
                "change uid",
                |n| n.metadata.uid.clear(),
                &[("metadata.uid", INV)],
            ),
        ];
        check_update(&valid_node(), cases);
    }
}
