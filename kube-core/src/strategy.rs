//! Server-side create and update preparation per kind (the "registry strategy").
//!
//! Pure: the server passes in the uid, the time and the random name suffix.

use crate::defaults::Defaults;
use crate::deletion::{delete_pod, Deletion};
use crate::lease::Lease;
use crate::namespace::{
    Namespace, NamespaceStatus, FINALIZER_KUBERNETES, PHASE_ACTIVE, PHASE_TERMINATING,
};
use crate::object::Object;
use crate::pod::{PodCondition, CONDITION_POD_SCHEDULED, CONDITION_TRUE};
use crate::time::Timestamp;
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
    /// Takes the status of `other` (the `/status` subresource writes only the status).
    fn copy_status_from(&mut self, _other: &Self) {}
    /// Whether the spec (the part that bumps `generation`) differs from `old`.
    fn spec_differs(&self, _old: &Self) -> bool {
        false
    }
    /// Value of a selectable field, or `None` if the field is not selectable for this kind.
    fn field_value(&self, field: &str) -> Option<String> {
        common_field(self, field)
    }
    /// Whether a delete may only mark the object (graceful deletion); if false, deletes
    /// remove it at once unless finalizers keep it (see `deletion::plan_delete`).
    const GRACEFUL_DELETION: bool = false;
    /// Applies a delete request with `grace` seconds at time `now` (only called when
    /// [`Strategy::GRACEFUL_DELETION`]): mark the object, leave it, or remove it now.
    fn prepare_for_delete(&mut self, _grace: Option<i64>, _now: Timestamp) -> Deletion {
        Deletion::Immediate
    }
    /// Whether an update leaving the object in this state removes it (see
    /// `deletion::finalized`); namespaces also wait for their `spec.finalizers`.
    fn finalized(&self) -> bool {
        crate::deletion::finalized(self.meta())
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
    meta.deletion_grace_period_seconds = None;
    meta.generation = 1;
    obj.reset_status_on_create();
    obj.apply_defaults();
}

/// Prepares an update: keeps identity, timestamps (the deletion mark included: an update can
/// neither set nor clear it) and status from `old`, bumps generation on spec change.
pub fn prepare_for_update<T: Strategy>(new: &mut T, old: &T) {
    new.set_type_meta();
    new.keep_server_fields_on_update(old);
    new.apply_defaults();
    let bump = new.spec_differs(old);
    let (om, nm) = (old.meta(), new.meta_mut());
    nm.uid = om.uid.clone();
    nm.creation_timestamp = om.creation_timestamp.clone();
    nm.deletion_timestamp = om.deletion_timestamp.clone();
    nm.deletion_grace_period_seconds = om.deletion_grace_period_seconds;
    nm.generation = om.generation + i64::from(bump);
    nm.self_link.clear();
}

/// Prepares a namespace's `/finalize` update: an update (identity, timestamps and status kept
/// from `old`) that, unlike a plain one, takes `spec.finalizers` from `new`, as Kubernetes'
/// finalize strategy does.
pub fn prepare_for_finalize(new: &mut Namespace, old: &Namespace) {
    let finalizers = std::mem::take(&mut new.spec.finalizers);
    prepare_for_update(new, old);
    new.spec.finalizers = finalizers;
}

/// Binds `pod` to `node` at time `now`: sets `spec.nodeName` and `PodScheduled=True`.
/// Fails with the name of the current node when the pod is already bound.
pub fn apply_binding(pod: &mut Pod, node: &str, now: &str) -> Result<(), String> {
    if !pod.spec.node_name.is_empty() {
        return Err(pod.spec.node_name.clone());
    }
    pod.spec.node_name = node.to_string();
    pod.status.set_condition(PodCondition {
        type_: CONDITION_POD_SCHEDULED.to_string(),
        status: CONDITION_TRUE.to_string(),
        last_transition_time: now.to_string(),
        ..PodCondition::default()
    });
    Ok(())
}

impl Strategy for Pod {
    const GRACEFUL_DELETION: bool = true;
    fn prepare_for_delete(&mut self, grace: Option<i64>, now: Timestamp) -> Deletion {
        delete_pod(self, grace, now)
    }
    fn copy_status_from(&mut self, other: &Self) {
        self.status = other.status.clone();
    }
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
    fn copy_status_from(&mut self, other: &Self) {
        self.status = other.status.clone();
    }
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
    fn copy_status_from(&mut self, other: &Self) {
        self.status = other.status.clone();
    }
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
    fn copy_status_from(&mut self, other: &Self) {
        self.status = other.status.clone();
    }
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
            // Kubernetes selects on the events.k8s.io reporting controller too; core/v1
            // events here never carry one.
            "reportingComponent" => Some(String::new()),
            _ => common_field(self, field),
        }
    }
}

impl Strategy for Lease {
    fn spec_differs(&self, old: &Self) -> bool {
        self.spec != old.spec
    }
    fn field_value(&self, field: &str) -> Option<String> {
        match field {
            "spec.holderIdentity" => Some(self.spec.holder_identity.clone()),
            _ => common_field(self, field),
        }
    }
}

impl Strategy for Namespace {
    const GRACEFUL_DELETION: bool = true;
    /// Kubernetes' namespace storage: a namespace without `spec.finalizers` goes at once;
    /// otherwise the first delete marks it (`deletionTimestamp` now) and turns it
    /// `Terminating`, and later deletes change nothing until the finalizers are gone.
    fn prepare_for_delete(&mut self, _grace: Option<i64>, now: Timestamp) -> Deletion {
        if self.spec.finalizers.is_empty() {
            return Deletion::Immediate;
        }
        if self.metadata.is_deleting() {
            return Deletion::Pending;
        }
        self.metadata.deletion_timestamp = now.to_rfc3339();
        self.metadata.deletion_grace_period_seconds = Some(0);
        self.status.phase = PHASE_TERMINATING.to_string();
        Deletion::Graceful
    }
    /// Creates are `Active` with the `kubernetes` finalizer (kept with any others sent).
    fn reset_status_on_create(&mut self) {
        self.status = NamespaceStatus {
            phase: PHASE_ACTIVE.to_string(),
            ..NamespaceStatus::default()
        };
        if !self
            .spec
            .finalizers
            .iter()
            .any(|f| f == FINALIZER_KUBERNETES)
        {
            self.spec.finalizers.push(FINALIZER_KUBERNETES.to_string());
        }
    }
    /// The status is `/status`'s and `spec.finalizers` are `/finalize`'s (see
    /// [`prepare_for_finalize`]), as in Kubernetes: a plain update keeps both.
    fn keep_server_fields_on_update(&mut self, old: &Self) {
        self.status = old.status.clone();
        self.spec.finalizers.clone_from(&old.spec.finalizers);
    }
    fn copy_status_from(&mut self, other: &Self) {
        self.status = other.status.clone();
    }
    fn finalized(&self) -> bool {
        crate::deletion::finalized(&self.metadata) && self.spec.finalizers.is_empty()
    }
    fn field_value(&self, field: &str) -> Option<String> {
        match field {
            "status.phase" => Some(self.status.phase.clone()),
            _ => common_field(self, field),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_is_set_once() {
        let mut pod = Pod::default();
        assert_eq!(apply_binding(&mut pod, "n1", "t1"), Ok(()));
        assert_eq!(pod.spec.node_name, "n1");
        let cond = pod
            .status
            .condition(CONDITION_POD_SCHEDULED)
            .expect("condition");
        assert_eq!(
            (cond.status.as_str(), cond.last_transition_time.as_str()),
            ("True", "t1")
        );
        assert_eq!(apply_binding(&mut pod, "n2", "t2"), Err("n1".to_string()));
        assert_eq!(pod.spec.node_name, "n1");
    }

    #[test]
    fn conditions_keep_transition_time_while_status_holds() {
        let mut st = crate::pod::PodStatus::default();
        let cond = |status: &str, msg: &str, t: &str| PodCondition {
            type_: CONDITION_POD_SCHEDULED.into(),
            status: status.into(),
            message: msg.into(),
            last_transition_time: t.into(),
            ..PodCondition::default()
        };
        let cases = [
            (cond("False", "a", "t1"), true, "t1"),
            (cond("False", "a", "t2"), false, "t1"),
            (cond("False", "b", "t3"), true, "t1"),
            (cond("True", "", "t4"), true, "t4"),
        ];
        for (c, changed, want_time) in cases {
            assert_eq!(st.set_condition(c.clone()), changed, "{c:?}");
            assert_eq!(st.conditions.len(), 1);
            assert_eq!(st.conditions[0].last_transition_time, want_time, "{c:?}");
        }
    }

    #[test]
    fn create_prepares_identity_and_status() {
        let mut pod = Pod::default();
        pod.metadata.generate_name = "web-".into();
        pod.status.phase = "Running".into();
        let ctx = CreateContext {
            uid: "u1".into(),
            now: "2026-11-25T00:00:00Z".into(),
            name_suffix: "abcde".into(),
        };
        prepare_for_create(&mut pod, "ns", &ctx);
        assert_eq!(pod.metadata.name, "web-abcde");
        assert_eq!(pod.metadata.namespace, "ns");
        assert_eq!(pod.metadata.uid, "u1");
        assert_eq!(pod.metadata.generation, 1);
        assert_eq!(
            pod.status.phase, "Pending",
            "clients cannot set status on create"
        );
        assert_eq!((pod.api_version.as_str(), pod.kind.as_str()), ("v1", "Pod"));

        let mut node = Node::default();
        node.metadata.name = "n".into();
        prepare_for_create(&mut node, "ns", &ctx);
        assert_eq!(
            node.metadata.namespace, "",
            "cluster-scoped kinds have no namespace"
        );
    }

    #[test]
    fn update_keeps_identity_and_status_and_bumps_generation() {
        let mut old = Pod::default();
        old.metadata.uid = "u1".into();
        old.metadata.creation_timestamp = "t0".into();
        old.metadata.generation = 3;
        old.status.phase = "Running".into();
        // Stored objects are always defaulted.
        old.apply_defaults();
        let mut same = old.clone();
        same.metadata.uid = "forged".into();
        same.status.phase = "Failed".into();
        prepare_for_update(&mut same, &old);
        assert_eq!(same.metadata.uid, "u1");
        assert_eq!(same.status.phase, "Running");
        let mut changed = old.clone();
        changed.spec.node_selector.insert("a".into(), "b".into());
        prepare_for_update(&mut changed, &old);
        let cases = [(&same, 3), (&changed, 4)];
        for (obj, generation) in cases {
            assert_eq!(obj.metadata.generation, generation);
        }
    }

    #[test]
    fn updates_can_neither_set_nor_clear_the_deletion_mark() {
        let mut live = Pod::default();
        live.apply_defaults();
        let mut dying = live.clone();
        dying.metadata.deletion_timestamp = "2026-01-01T00:00:30Z".into();
        dying.metadata.deletion_grace_period_seconds = Some(30);
        // (stored, sent, kept)
        let cases = [(&dying, &live, &dying), (&live, &dying, &live)];
        for (old, sent, want) in cases {
            let mut new = sent.clone();
            prepare_for_update(&mut new, old);
            assert_eq!(
                (
                    &new.metadata.deletion_timestamp,
                    new.metadata.deletion_grace_period_seconds
                ),
                (
                    &want.metadata.deletion_timestamp,
                    want.metadata.deletion_grace_period_seconds
                )
            );
        }
        let mut created = dying.clone();
        prepare_for_create(&mut created, "ns", &CreateContext::default());
        assert_eq!(
            (
                created.metadata.deletion_timestamp.as_str(),
                created.metadata.deletion_grace_period_seconds
            ),
            ("", None)
        );
    }

    #[test]
    fn events_are_selectable_as_kubectl_describe_looks_them_up() {
        use crate::fields::FieldSelector;
        let ev = Event {
            metadata: crate::ObjectMeta {
                name: "web.1".into(),
                namespace: "ns".into(),
                ..Default::default()
            },
            involved_object: crate::ObjectReference {
                kind: "Pod".into(),
                namespace: "ns".into(),
                name: "web".into(),
                uid: "u-1".into(),
                api_version: "v1".into(),
                resource_version: "42".into(),
                field_path: "spec.containers{c}".into(),
            },
            reason: "Started".into(),
            source: crate::event::EventSource {
                component: "kubelet".into(),
                host: "n1".into(),
            },
            type_: "Normal".into(),
            ..Event::default()
        };
        // (selector, matches)
        let cases = [
            // What `kubectl describe pod web` sends.
            (
                "involvedObject.name=web,involvedObject.namespace=ns,involvedObject.kind=Pod,involvedObject.uid=u-1",
                true,
            ),
            ("involvedObject.name=other", false),
            ("involvedObject.kind=Node", false),
            ("involvedObject.uid=u-2", false),
            ("involvedObject.apiVersion=v1", true),
            ("involvedObject.resourceVersion=42", true),
            ("involvedObject.resourceVersion!=42", false),
            ("involvedObject.fieldPath=spec.containers{c}", true),
            ("reason=Started", true),
            ("reason=Killing", false),
            ("source=kubelet", true),
            ("source=scheduler", false),
            ("type=Normal", true),
            ("type!=Normal", false),
            ("type=Warning", false),
            ("reportingComponent=", true),
            ("metadata.name=web.1,metadata.namespace=ns", true),
            ("involvedObject.host=n1", false),
        ];
        for (selector, want) in cases {
            let sel = FieldSelector::parse(selector).expect(selector);
            assert_eq!(
                sel.matches(&|f: &str| ev.field_value(f)),
                want,
                "{selector}"
            );
        }
        assert_eq!(ev.field_value("involvedObject.host"), None);
    }

    #[test]
    fn namespaces_are_marked_terminating_then_removed_when_finalized() {
        use crate::deletion::{plan_delete, DeleteOptions};
        let now = Timestamp::from_unix(1_000, 0);
        let mut created = Namespace::named("team-a");
        prepare_for_create(&mut created, "ignored", &CreateContext::default());
        assert_eq!(created.metadata.namespace, "");
        assert_eq!(created.status.phase, PHASE_ACTIVE);
        assert_eq!(created.spec.finalizers, [FINALIZER_KUBERNETES]);
        // (spec finalizers, already marked) → deletion, phase after, finalized after
        let cases: [(&[&str], bool, Deletion, &str, bool); 4] = [
            (&[], false, Deletion::Immediate, PHASE_ACTIVE, false),
            (
                &[FINALIZER_KUBERNETES],
                false,
                Deletion::Graceful,
                PHASE_TERMINATING,
                false,
            ),
            (
                &[FINALIZER_KUBERNETES],
                true,
                Deletion::Pending,
                PHASE_TERMINATING,
                false,
            ),
            (&[], true, Deletion::Immediate, PHASE_TERMINATING, true),
        ];
        for (finalizers, marked, want, phase, finalized_after) in cases {
            let mut ns = created.clone();
            ns.spec.finalizers = finalizers.iter().map(|f| f.to_string()).collect();
            if marked {
                ns.metadata.deletion_timestamp = "1970-01-01T00:10:00Z".into();
                ns.metadata.deletion_grace_period_seconds = Some(0);
                ns.status.phase = PHASE_TERMINATING.into();
            }
            let got = plan_delete(&mut ns, &DeleteOptions::default(), now).expect("plan");
            assert_eq!(got, want, "{finalizers:?} marked={marked}");
            assert_eq!(ns.status.phase, phase, "{finalizers:?} marked={marked}");
            assert_eq!(ns.finalized(), finalized_after, "{finalizers:?}");
            if want == Deletion::Graceful {
                assert_eq!(ns.metadata.deletion_timestamp, now.to_rfc3339());
                // A plain update keeps the finalizers; the `/finalize` update removing the
                // last one is the one that removes the namespace.
                let mut plain = ns.clone();
                plain.spec.finalizers.clear();
                plain.metadata.labels.insert("l".into(), "v".into());
                prepare_for_update(&mut plain, &ns);
                assert_eq!(plain.spec.finalizers, [FINALIZER_KUBERNETES]);
                assert_eq!(
                    plain.metadata.labels.get("l").map(String::as_str),
                    Some("v")
                );
                assert!(!plain.finalized());
                let mut done = ns.clone();
                done.spec.finalizers.clear();
                done.status.phase = PHASE_ACTIVE.into();
                prepare_for_finalize(&mut done, &ns);
                assert!(done.finalized());
                assert_eq!(done.status.phase, PHASE_TERMINATING, "status kept");
                assert_eq!(
                    done.metadata.deletion_timestamp,
                    ns.metadata.deletion_timestamp
                );
            }
        }
    }
}
