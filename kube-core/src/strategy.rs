//! Server-side create and update preparation per kind (the "registry strategy").
//!
//! Pure: the server passes in the uid, the time and the random name suffix.

use crate::defaults::Defaults;
use crate::object::Object;
use crate::validation::Validate;
use crate::{Endpoints, Event, Node, Pod, ReplicationController, Service};

/// Values the server generates for a create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateContext {
    /// The new object's uid.
    pub uid: String,
    /// RFC 3339 creation time.
    pub now: String,
    /// Random suffix for `generateName` (5 characters in Kubernetes).
    pub name_suffix: String,
}

/// Longest `generateName` prefix kept, so that prefix + suffix stays a valid name.
const MAX_GENERATE_NAME_PREFIX: usize = 58;

/// Kind-specific behaviour the generic registry needs.
pub trait Strategy: Object + Validate + Defaults + Default {
    /// Resets server-owned fields (status) of a new object.
    fn reset_status_on_create(&mut self) {}
    /// Carries server-owned fields (status, allocated addresses) over from the stored object on update.
    fn keep_server_fields_on_update(&mut self, _old: &Self) {}
    /// Whether the spec (the part that bumps `generation`) differs from `old`.
    fn spec_differs(&self, _old: &Self) -> bool {
        false
    }
    /// Value of a selectable field, or `None` if the field is not selectable for this kind.
    fn field_value(&self, field: &str) -> Option<String> {
        common_field(self, field)
    }
}

fn common_field<T: Object>(obj: &T, field: &str) -> Option<String> {
    match field {
        "metadata.name" => Some(obj.meta().name.clone()),
        "metadata.namespace" => Some(obj.meta().namespace.clone()),
        _ => None,
    }
}

/// Prepares a new object for storage: namespace, generated name, uid, timestamps, status, defaults.
pub fn prepare_for_create<T: Strategy>(obj: &mut T, namespace: &str, ctx: &CreateContext) {
    obj.set_type_meta();
    let namespaced = T::RESOURCE.info().namespaced;
    let meta = obj.meta_mut();
    meta.namespace = if namespaced {
        namespace.to_string()
    } else {
        String::new()
    };
    if meta.name.is_empty() && !meta.generate_name.is_empty() {
        let prefix: String = meta
            .generate_name
            .chars()
            .take(MAX_GENERATE_NAME_PREFIX)
            .collect();
        meta.name = format!("{prefix}{}", ctx.name_suffix);
    }
    meta.uid = ctx.uid.clone();
    meta.creation_timestamp = ctx.now.clone();
    meta.resource_version.clear();
    meta.self_link.clear();
    meta.deletion_timestamp.clear();
    meta.generation = 1;
    obj.reset_status_on_create();
    obj.apply_defaults();
}

/// Prepares an update: keeps identity, timestamps and status from `old`, bumps generation on spec change.
pub fn prepare_for_update<T: Strategy>(new: &mut T, old: &T) {
    new.set_type_meta();
    new.keep_server_fields_on_update(old);
    new.apply_defaults();
    let bump = new.spec_differs(old);
    let (om, nm) = (old.meta(), new.meta_mut());
    nm.uid = om.uid.clone();
    nm.creation_timestamp = om.creation_timestamp.clone();
    nm.deletion_timestamp = om.deletion_timestamp.clone();
    nm.generation = om.generation + i64::from(bump);
    nm.self_link.clear();
}

impl Strategy for Pod {
    fn reset_status_on_create(&mut self) {
        self.status = crate::pod::PodStatus {
            phase: crate::pod::PHASE_PENDING.to_string(),
            ..Default::default()
        };
    }
    fn keep_server_fields_on_update(&mut self, old: &Self) {
        self.status = old.status.clone();
    }
    fn spec_differs(&self, old: &Self) -> bool {
        self.spec != old.spec
    }
    fn field_value(&self, field: &str) -> Option<String> {
        match field {
            "spec.nodeName" => Some(self.spec.node_name.clone()),
            "spec.restartPolicy" => Some(self.spec.restart_policy.clone()),
            "status.phase" => Some(self.status.phase.clone()),
            "status.podIP" => Some(self.status.pod_ip.clone()),
            _ => common_field(self, field),
        }
    }
}

impl Strategy for ReplicationController {
    fn reset_status_on_create(&mut self) {
        self.status = Default::default();
    }
    fn keep_server_fields_on_update(&mut self, old: &Self) {
        self.status = old.status.clone();
    }
    fn spec_differs(&self, old: &Self) -> bool {
        self.spec != old.spec
    }
    fn field_value(&self, field: &str) -> Option<String> {
        match field {
            "status.replicas" => Some(self.status.replicas.to_string()),
            _ => common_field(self, field),
        }
    }
}

impl Strategy for Service {
    fn reset_status_on_create(&mut self) {
        self.status = Default::default();
    }
    fn keep_server_fields_on_update(&mut self, old: &Self) {
        self.status = old.status.clone();
        // An update that omits the cluster IP keeps the one already assigned.
        if self.spec.cluster_ip.is_empty() {
            self.spec.cluster_ip = old.spec.cluster_ip.clone();
        }
    }
    fn spec_differs(&self, old: &Self) -> bool {
        self.spec != old.spec
    }
}

impl Strategy for Endpoints {}

impl Strategy for Node {
    fn spec_differs(&self, old: &Self) -> bool {
        self.spec != old.spec
    }
    fn field_value(&self, field: &str) -> Option<String> {
        match field {
            "spec.unschedulable" => Some(self.spec.unschedulable.to_string()),
            _ => common_field(self, field),
        }
    }
}

impl Strategy for Event {
    fn field_value(&self, field: &str) -> Option<String> {
        let io = &self.involved_object;
        match field {
            "involvedObject.kind" => Some(io.kind.clone()),
            "involvedObject.namespace" => Some(io.namespace.clone()),
            "involvedObject.name" => Some(io.name.clone()),
            "involvedObject.uid" => Some(io.uid.clone()),
            "involvedObject.apiVersion" => Some(io.api_version.clone()),
            "involvedObject.resourceVersion" => Some(io.resource_version.clone()),
            "involvedObject.fieldPath" => Some(io.field_path.clone()),
            "reason" => Some(self.reason.clone()),
            "type" => Some(self.type_.clone()),
            "source" => Some(self.source.component.clone()),
            _ => common_field(self, field),
        }
    }
}
