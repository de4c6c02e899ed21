//! Replication controller validation.

use super::meta::{
    validate_annotations, validate_labels, validate_object_meta, validate_object_meta_update,
    NameRule,
};
use super::names::NON_NEGATIVE_MSG;
use super::pod::{validate_pod_spec, RESTART_POLICIES};
use super::{FieldError, FieldErrors, FieldPath, Validate};
use crate::labels::{format_labels, Selector};
use crate::pod::RESTART_ALWAYS;
use crate::replication_controller::ReplicationController;

impl Validate for ReplicationController {
    fn validate(&self) -> FieldErrors {
        let mut errs = Vec::new();
        // Controller names are validated as path-segment names, not DNS-1123 subdomains:
        // the seed's walkthrough document names its controller `redisController` (uppercase)
        // and must be accepted as it is.
        validate_object_meta(&self.metadata, NameRule::PathSegment, &mut errs);
        let spec = FieldPath::new("spec");
        if let Some(replicas) = self.spec.replicas {
            if replicas < 0 {
                errs.push(FieldError::invalid(
                    spec.child("replicas"),
                    replicas,
                    NON_NEGATIVE_MSG,
                ));
            }
        }
        let selector_path = spec.child("selector");
        if self.spec.selector.is_empty() {
            errs.push(FieldError::required(&selector_path, ""));
        } else {
            validate_labels(&self.spec.selector, &selector_path, &mut errs);
        }
        let template_path = spec.child("template");
        let Some(template) = &self.spec.template else {
            errs.push(FieldError::required(&template_path, ""));
            return errs;
        };
        let template_meta = template_path.child("metadata");
        let labels_path = template_meta.child("labels");
        validate_labels(&template.metadata.labels, &labels_path, &mut errs);
        validate_annotations(
            &template.metadata.annotations,
            &template_meta.child("annotations"),
            &mut errs,
        );
        if !self.spec.selector.is_empty()
            && !Selector::from_map(&self.spec.selector).matches(&template.metadata.labels)
        {
            errs.push(FieldError::invalid(
                &labels_path,
                format_labels(&template.metadata.labels),
                "selector does not match template labels",
            ));
        }
        let pod_spec = template_path.child("spec");
        validate_pod_spec(&template.spec, &pod_spec, &mut errs);
        // Controllers restart their pods forever. An unknown policy was already reported by
        // the pod-spec rules; an empty one defaults to Always.
        let policy = template.spec.restart_policy.as_str();
        if policy != RESTART_ALWAYS && RESTART_POLICIES.contains(&policy) {
            errs.push(FieldError::not_supported(
                pod_spec.child("restartPolicy"),
                policy,
                &[RESTART_ALWAYS],
            ));
        }
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
    use super::super::pod::tests::{container, valid_pod_spec};
    use super::super::testutil::{check_create, check_update, Case};
    use super::*;
    use crate::meta::ObjectMeta;
    use crate::pod::PodTemplateSpec;
    use crate::replication_controller::ReplicationControllerSpec;

    const REQ: &str = "FieldValueRequired";
    const INV: &str = "FieldValueInvalid";
    const UNS: &str = "FieldValueNotSupported";

    fn labels(k: &str, v: &str) -> crate::meta::StringMap {
        [(k.to_string(), v.to_string())].into()
    }

    fn valid_rc() -> ReplicationController {
        ReplicationController {
            metadata: ObjectMeta {
                name: "redisController".into(),
                namespace: "default".into(),
                uid: "uid-1".into(),
                labels: labels("name", "redis"),
                ..ObjectMeta::default()
            },
            spec: ReplicationControllerSpec {
                replicas: Some(1),
                selector: labels("name", "redis"),
                template: Some(PodTemplateSpec {
                    metadata: ObjectMeta {
                        labels: [
                            ("name".to_string(), "redis".to_string()),
                            ("tier".to_string(), "cache".to_string()),
                        ]
                        .into(),
                        ..ObjectMeta::default()
                    },
                    spec: valid_pod_spec(),
                }),
            },
            ..ReplicationController::default()
        }
    }

    fn template(rc: &mut ReplicationController) -> &mut PodTemplateSpec {
        rc.spec
            .template
            .get_or_insert_with(PodTemplateSpec::default)
    }

    #[test]
    fn rc_create_cases() {
        let cases: &[Case<ReplicationController>] = &[
            ("zero replicas", |rc| rc.spec.replicas = Some(0), &[]),
            (
                "replicas not defaulted yet",
                |rc| rc.spec.replicas = None,
                &[],
            ),
            (
                "negative replicas",
                |rc| rc.spec.replicas = Some(-1),
                &[("spec.replicas", INV)],
            ),
            (
                "no name",
                |rc| rc.metadata.name.clear(),
                &[("metadata.name", REQ)],
            ),
            (
                "name with a slash",
                |rc| rc.metadata.name = "a/b".into(),
                &[("metadata.name", INV)],
            ),
            (
                "name '..'",
                |rc| rc.metadata.name = "..".into(),
                &[("metadata.name", INV)],
            ),
            (
                "name with '%'",
                |rc| rc.metadata.name = "a%20b".into(),
                &[("metadata.name", INV)],
            ),
            (
                "bad namespace",
                |rc| rc.metadata.namespace = "Default".into(),
                &[("metadata.namespace", INV)],
            ),
            (
                "no selector",
                |rc| rc.spec.selector.clear(),
                &[("spec.selector", REQ)],
            ),
            (
                "bad selector",
                |rc| {
                    rc.spec.selector.insert("bad key".into(), "x".into());
                },
                &[
                    ("spec.selector", INV),
                    ("spec.template.metadata.labels", INV),
                ],
            ),
            (
                "selector does not match",
                |rc| rc.spec.selector = labels("name", "web"),
                &[("spec.template.metadata.labels", INV)],
            ),
            (
                "template without labels",
                |rc| template(rc).metadata.labels.clear(),
                &[("spec.template.metadata.labels", INV)],
            ),
            (
                "bad template label",
                |rc| {
                    template(rc)
                        .metadata
                        .labels
                        .insert("x".into(), "-bad".into());
                },
                &[("spec.template.metadata.labels", INV)],
            ),
            (
                "bad template annotation",
                |rc| {
                    template(rc)
                        .metadata
                        .annotations
                        .insert("a b".into(), "x".into());
                },
                &[("spec.template.metadata.annotations", INV)],
            ),
            (
                "no template",
                |rc| rc.spec.template = None,
                &[("spec.template", REQ)],
            ),
            (
                "template without containers",
                |rc| template(rc).spec.containers.clear(),
                &[("spec.template.spec.containers", REQ)],
            ),
            (
                "template container without image",
                |rc| template(rc).spec.containers[0].image.clear(),
                &[("spec.template.spec.containers[0].image", REQ)],
            ),
            (
                "template restart policy OnFailure",
                |rc| template(rc).spec.restart_policy = "OnFailure".into(),
                &[("spec.template.spec.restartPolicy", UNS)],
            ),
            (
                "template restart policy Never",
                |rc| template(rc).spec.restart_policy = "Never".into(),
                &[("spec.template.spec.restartPolicy", UNS)],
            ),
            (
                "template restart policy unknown",
                |rc| template(rc).spec.restart_policy = "Sometimes".into(),
                &[("spec.template.spec.restartPolicy", UNS)],
            ),
            (
                "template restart policy empty",
                |rc| template(rc).spec.restart_policy.clear(),
                &[],
            ),
            (
                "many errors at once",
                |rc| {
                    rc.metadata.name = "a/b".into();
                    rc.spec.replicas = Some(-3);
                    rc.spec.selector = labels("name", "web");
                    let t = template(rc);
                    t.spec.restart_policy = "Never".into();
                    t.spec.containers.push(container("redis", ""));
                },
                &[
                    ("metadata.name", INV),
                    ("spec.replicas", INV),
                    ("spec.template.metadata.labels", INV),
                    ("spec.template.spec.restartPolicy", UNS),
                    (
                        "spec.template.spec.containers[1].name",
                        "FieldValueDuplicate",
                    ),
                    ("spec.template.spec.containers[1].image", REQ),
                ],
            ),
        ];
        check_create(&valid_rc(), cases);
    }

    #[test]
    fn rc_update_cases() {
        let cases: &[Case<ReplicationController>] = &[
            ("scale", |rc| rc.spec.replicas = Some(5), &[]),
            (
                "change the template",
                |rc| template(rc).spec.containers[0].image = "redis:7".into(),
                &[],
            ),
            (
                "change the selector",
                |rc| {
                    rc.spec.selector = labels("tier", "cache");
                },
                &[],
            ),
            (
                "rename",
                |rc| rc.metadata.name = "other".into(),
                &[("metadata.name", INV)],
            ),
            (
                "change uid",
                |rc| rc.metadata.uid = "uid-2".into(),
                &[("metadata.uid", INV)],
            ),
            (
                "invalid update",
                |rc| rc.spec.replicas = Some(-1),
                &[("spec.replicas", INV)],
            ),
        ];
        check_update(&valid_rc(), cases);
    }

    #[test]
    fn selector_mismatch_message() {
        let mut rc = valid_rc();
        rc.spec.selector = labels("name", "web");
        let msgs: Vec<String> = rc.validate().iter().map(|e| e.message()).collect();
        assert_eq!(
            msgs,
            vec!["spec.template.metadata.labels: Invalid value: \"name=redis,tier=cache\": selector does not match template labels"]
        );
    }
}
