//! Rules shared by every kind: object metadata, labels, annotations, quantities.

use super::names::{
    dns1035_label_error, dns1123_label_error, dns1123_subdomain_error, path_segment_name_error,
    IMMUTABLE_MSG, NON_NEGATIVE_MSG,
};
use super::{FieldError, FieldErrors, FieldPath};
use crate::labels::{validate_label_key, validate_label_value};
use crate::meta::{ObjectMeta, OwnerReference, StringMap, FINALIZER_FOREGROUND, FINALIZER_ORPHAN};
use crate::pod::ResourceList;
use crate::quantity::{ParsedQuantity, Quantity};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Largest total size of an object's annotations (keys plus values), as in Kubernetes.
const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// Syntax an object's name must follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NameRule {
    /// DNS-1123 subdomain (pods, nodes, endpoints, events).
    Dns1123Subdomain,
    /// DNS-1035 label (services, whose names become DNS labels).
    Dns1035Label,
    /// Anything usable as one URL path segment (replication controllers).
    PathSegment,
    /// DNS-1123 label (namespaces, whose names are single path and DNS labels).
    Dns1123Label,
}

impl NameRule {
    fn error(self, name: &str) -> Option<String> {
        match self {
            NameRule::Dns1123Subdomain => dns1123_subdomain_error(name),
            NameRule::Dns1035Label => dns1035_label_error(name),
            NameRule::PathSegment => path_segment_name_error(name),
            NameRule::Dns1123Label => dns1123_label_error(name),
        }
    }

    /// Why `prefix` cannot start a generated name, if it cannot. The random suffix (lower
    /// case alphanumerics) follows the prefix, so a prefix ending in `-` or `.` (or any
    /// path-segment prefix, even `.`) is checked with one such character appended.
    pub(super) fn prefix_error(self, prefix: &str) -> Option<String> {
        if self == NameRule::PathSegment || prefix.ends_with(['-', '.']) {
            self.error(&format!("{prefix}a"))
        } else {
            self.error(prefix)
        }
    }
}

/// Checks `metadata`: name, namespace, labels and annotations.
pub(super) fn validate_object_meta(meta: &ObjectMeta, rule: NameRule, errs: &mut FieldErrors) {
    let path = FieldPath::new("metadata");
    if meta.name.is_empty() {
        errs.push(FieldError::required(
            path.child("name"),
            "name or generateName is required",
        ));
    } else if let Some(msg) = rule.error(&meta.name) {
        errs.push(FieldError::invalid(path.child("name"), &meta.name, msg));
    }
    if !meta.generate_name.is_empty() {
        if let Some(msg) = rule.prefix_error(&meta.generate_name) {
            errs.push(FieldError::invalid(
                path.child("generateName"),
                &meta.generate_name,
                msg,
            ));
        }
    }
    if !meta.namespace.is_empty() {
        if let Some(msg) = dns1123_label_error(&meta.namespace) {
            errs.push(FieldError::invalid(
                path.child("namespace"),
                &meta.namespace,
                msg,
            ));
        }
    }
    validate_labels(&meta.labels, &path.child("labels"), errs);
    validate_annotations(&meta.annotations, &path.child("annotations"), errs);
    validate_owner_references(&meta.owner_references, &path.child("ownerReferences"), errs);
    validate_finalizers(&meta.finalizers, &path.child("finalizers"), errs);
    validate_managed_fields(&meta.managed_fields, &path.child("managedFields"), errs);
}

/// Longest manager name or subresource of a managed fields entry (Kubernetes' limit).
const FIELD_MANAGER_MAX_LENGTH: usize = 128;

/// Checks `metadata.managedFields` as apimachinery's `ValidateManagedFields`: operation `Apply`
/// or `Update`, fieldsType empty or `FieldsV1`, manager and subresource at most 128 bytes.
pub(super) fn validate_managed_fields(
    entries: &[crate::meta::ManagedFieldsEntry],
    path: &FieldPath,
    errs: &mut FieldErrors,
) {
    use crate::meta::{
        FIELDS_TYPE_V1, MANAGED_FIELDS_OPERATION_APPLY, MANAGED_FIELDS_OPERATION_UPDATE,
    };
    for (i, e) in entries.iter().enumerate() {
        let at = path.index(i);
        if e.operation != MANAGED_FIELDS_OPERATION_APPLY
            && e.operation != MANAGED_FIELDS_OPERATION_UPDATE
        {
            errs.push(FieldError::invalid(
                at.child("operation"),
                &e.operation,
                "must be `Apply` or `Update`",
            ));
        }
        if !e.fields_type.is_empty() && e.fields_type != FIELDS_TYPE_V1 {
            errs.push(FieldError::invalid(
                at.child("fieldsType"),
                &e.fields_type,
                "must be `FieldsV1`",
            ));
        }
        if e.manager.len() > FIELD_MANAGER_MAX_LENGTH {
            errs.push(FieldError::too_long(
                at.child("manager"),
                &e.manager,
                FIELD_MANAGER_MAX_LENGTH,
            ));
        }
        if e.subresource.len() > FIELD_MANAGER_MAX_LENGTH {
            errs.push(FieldError::too_long(
                at.child("subresource"),
                &e.subresource,
                FIELD_MANAGER_MAX_LENGTH,
            ));
        }
    }
}

/// Checks finalizer names: qualified names (as label keys), and not both `orphan` and
/// `foregroundDeletion` (as apimachinery's `ValidateFinalizers`).
pub(super) fn validate_finalizers(finalizers: &[String], path: &FieldPath, errs: &mut FieldErrors) {
    for (i, f) in finalizers.iter().enumerate() {
        if let Err(msg) = validate_label_key(f) {
            errs.push(FieldError::invalid(path.index(i), f, msg));
        }
    }
    let has = |name: &str| finalizers.iter().any(|f| f == name);
    if has(FINALIZER_ORPHAN) && has(FINALIZER_FOREGROUND) {
        errs.push(FieldError::invalid(
            path,
            finalizers.join(", "),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
}

/// Checks owner references: apiVersion, kind, name and uid are required, and at most one
/// reference is the controller (as apimachinery's `ValidateOwnerReferences`).
pub(super) fn validate_owner_references(
    refs: &[OwnerReference],
    path: &FieldPath,
    errs: &mut FieldErrors,
) {
    for (i, r) in refs.iter().enumerate() {
        let entry = path.index(i);
        let fields = [
            ("apiVersion", &r.api_version),
            ("kind", &r.kind),
            ("name", &r.name),
            ("uid", &r.uid),
        ];
        for (name, value) in fields {
            if value.is_empty() {
                errs.push(FieldError::required(entry.child(name), ""));
            }
        }
    }
    let controllers: Vec<&str> = refs
        .iter()
        .filter(|r| r.is_controller())
        .map(|r| r.name.as_str())
        .collect();
    if controllers.len() > 1 {
        errs.push(FieldError::invalid(
            path,
            controllers.join(", "),
            "only one reference can have controller set to true",
        ));
    }
}

/// Checks that an update keeps `metadata.name`, `metadata.namespace` and `metadata.uid`, and
/// adds no finalizer to an object being deleted (they may only be removed then).
pub(super) fn validate_object_meta_update(
    new: &ObjectMeta,
    old: &ObjectMeta,
    errs: &mut FieldErrors,
) {
    let path = FieldPath::new("metadata");
    let fields = [
        ("name", &new.name, &old.name),
        ("namespace", &new.namespace, &old.namespace),
        ("uid", &new.uid, &old.uid),
    ];
    for (name, new_value, old_value) in fields {
        if new_value != old_value {
            errs.push(FieldError::invalid(
                path.child(name),
                new_value,
                IMMUTABLE_MSG,
            ));
        }
    }
    if old.is_deleting() {
        let added: Vec<&str> = new
            .finalizers
            .iter()
            .filter(|f| !old.finalizers.contains(f))
            .map(String::as_str)
            .collect();
        if !added.is_empty() {
            errs.push(FieldError::forbidden(
                path.child("finalizers"),
                format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers {added:?}"
                ),
            ));
        }
    }
}

/// Checks label keys and values; errors are reported on `path` itself, as Kubernetes does.
pub(super) fn validate_labels(labels: &StringMap, path: &FieldPath, errs: &mut FieldErrors) {
    for (key, value) in labels {
        if let Err(msg) = validate_label_key(key) {
            errs.push(FieldError::invalid(path, key, msg));
        }
        if let Err(msg) = validate_label_value(value) {
            errs.push(FieldError::invalid(path, value, msg));
        }
    }
}

/// Checks annotation keys (label-key syntax, case-insensitive) and their total size.
pub(super) fn validate_annotations(
    annotations: &StringMap,
    path: &FieldPath,
    errs: &mut FieldErrors,
) {
    let mut total = 0usize;
    for (key, value) in annotations {
        if let Err(msg) = validate_label_key(&key.to_ascii_lowercase()) {
            errs.push(FieldError::invalid(path, key, msg));
        }
        total = total.saturating_add(key.len()).saturating_add(value.len());
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.push(FieldError::too_long(path, "", TOTAL_ANNOTATION_SIZE_LIMIT));
    }
}

/// Checks a resource list: names are qualified names, quantities parse and are not negative.
///
/// Returns the quantities that parsed, for further comparisons (requests against limits).
pub(super) fn validate_resource_list<'a>(
    list: &'a ResourceList,
    path: &FieldPath,
    errs: &mut FieldErrors,
) -> BTreeMap<&'a str, ParsedQuantity> {
    let mut parsed = BTreeMap::new();
    for (name, quantity) in list {
        let entry = path.key(name);
        if let Err(msg) = validate_label_key(name) {
            errs.push(FieldError::invalid(&entry, name, msg));
        }
        match quantity.parse() {
            Err(e) => errs.push(FieldError::invalid(&entry, &quantity.0, e.to_string())),
            Ok(_) if is_negative(quantity) => {
                errs.push(FieldError::invalid(&entry, &quantity.0, NON_NEGATIVE_MSG))
            }
            Ok(q) => {
                parsed.insert(name.as_str(), q);
            }
        }
    }
    parsed
}

/// Whether a quantity that parsed is below zero: a leading `-` and a non-zero digit before
/// the suffix. Decided on the text so that tiny negatives are not rounded away.
fn is_negative(q: &Quantity) -> bool {
    let s = q.0.trim();
    let Some(rest) = s.strip_prefix('-') else {
        return false;
    };
    rest.chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .any(|c| c.is_ascii_digit() && c != '0')
}

/// Orders two parsed quantities: first by whole units (rounded up), then by thousandths.
///
/// If the rounded-up units differ, the order is right; if they are equal, both values lie in
/// the same unit interval and the thousandths (also rounded up) order them.
pub(super) fn compare_quantities(a: &ParsedQuantity, b: &ParsedQuantity) -> Ordering {
    a.value()
        .cmp(&b.value())
        .then_with(|| a.milli_value().cmp(&b.milli_value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity(s.to_string())
    }

    fn owner(kind: &str, name: &str, uid: &str, controller: Option<bool>) -> OwnerReference {
        OwnerReference {
            api_version: "v1".into(),
            kind: kind.into(),
            name: name.into(),
            uid: uid.into(),
            controller,
            block_owner_deletion: None,
        }
    }

    #[test]
    fn owner_references_are_complete_with_at_most_one_controller() {
        const REQ: &str = "FieldValueRequired";
        const INV: &str = "FieldValueInvalid";
        let rc = |name: &str, c: Option<bool>| owner("ReplicationController", name, "u", c);
        // (references, expected (field, reason) pairs)
        type Case = (Vec<OwnerReference>, Vec<(&'static str, &'static str)>);
        let cases: Vec<Case> = vec![
            (vec![], vec![]),
            (vec![rc("a", Some(true)), rc("b", Some(false))], vec![]),
            (vec![rc("a", None), rc("b", None)], vec![]),
            (
                vec![OwnerReference::default()],
                vec![
                    ("metadata.ownerReferences[0].apiVersion", REQ),
                    ("metadata.ownerReferences[0].kind", REQ),
                    ("metadata.ownerReferences[0].name", REQ),
                    ("metadata.ownerReferences[0].uid", REQ),
                ],
            ),
            (
                vec![rc("a", None), owner("Node", "n1", "", None)],
                vec![("metadata.ownerReferences[1].uid", REQ)],
            ),
            (
                vec![rc("a", Some(true)), rc("b", Some(true))],
                vec![("metadata.ownerReferences", INV)],
            ),
        ];
        for (refs, want) in cases {
            let meta = ObjectMeta {
                name: "p".into(),
                owner_references: refs.clone(),
                ..ObjectMeta::default()
            };
            let mut errs = FieldErrors::new();
            validate_object_meta(&meta, NameRule::Dns1123Subdomain, &mut errs);
            let mut got: Vec<(String, String)> = errs
                .iter()
                .map(|e| (e.field.clone(), e.kind.reason().to_string()))
                .collect();
            got.sort();
            let mut want: Vec<(String, String)> = want
                .iter()
                .map(|(f, r)| (f.to_string(), r.to_string()))
                .collect();
            want.sort();
            assert_eq!(got, want, "{refs:?}");
        }
    }

    #[test]
    fn finalizers_are_qualified_names_not_both_orphan_and_foreground() {
        // (finalizers, expected error fields)
        let cases: [(&[&str], &[&str]); 6] = [
            (&[], &[]),
            (&["orphan", "example.com/cleanup"], &[]),
            (&["foregroundDeletion"], &[]),
            (&["bad name"], &["metadata.finalizers[0]"]),
            (
                &["ok", "a/b/c", "/x"],
                &["metadata.finalizers[1]", "metadata.finalizers[2]"],
            ),
            (&["orphan", "foregroundDeletion"], &["metadata.finalizers"]),
        ];
        for (finalizers, want) in cases {
            let meta = ObjectMeta {
                name: "p".into(),
                finalizers: finalizers.iter().map(|f| f.to_string()).collect(),
                ..ObjectMeta::default()
            };
            let mut errs = FieldErrors::new();
            validate_object_meta(&meta, NameRule::Dns1123Subdomain, &mut errs);
            let got: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(got, want, "{finalizers:?}");
        }
    }

    #[test]
    fn finalizers_may_only_be_removed_while_deleting() {
        let meta = |deleting: bool, finalizers: &[&str]| ObjectMeta {
            name: "p".into(),
            deletion_timestamp: if deleting {
                "2026-01-01T00:00:00Z".into()
            } else {
                String::new()
            },
            finalizers: finalizers.iter().map(|f| f.to_string()).collect(),
            ..ObjectMeta::default()
        };
        // (deleting, old finalizers, new finalizers, refused)
        let cases: [(bool, &[&str], &[&str], bool); 6] = [
            (false, &[], &["a"], false),
            (false, &["a"], &[], false),
            (true, &["a", "b"], &["b"], false),
            (true, &["a"], &[], false),
            (true, &["a"], &["a", "b"], true),
            (true, &[], &["orphan"], true),
        ];
        for (deleting, old, new, refused) in cases {
            let mut errs = FieldErrors::new();
            validate_object_meta_update(&meta(deleting, new), &meta(deleting, old), &mut errs);
            assert_eq!(!errs.is_empty(), refused, "{deleting} {old:?} -> {new:?}");
            if refused {
                assert_eq!(errs[0].field, "metadata.finalizers");
                assert_eq!(errs[0].kind.reason(), "FieldValueForbidden");
            }
        }
    }

    #[test]
    fn generate_name_is_checked_as_a_name_prefix() {
        let long = "a".repeat(300);
        let max = "a".repeat(253);
        let cases = [
            (NameRule::Dns1123Subdomain, "web-", true),
            (NameRule::Dns1123Subdomain, "web", true),
            (NameRule::Dns1123Subdomain, "web.x-", true),
            (NameRule::Dns1123Subdomain, max.as_str(), true),
            (NameRule::Dns1123Subdomain, long.as_str(), false),
            (NameRule::Dns1123Subdomain, "Web-", false),
            (NameRule::Dns1123Subdomain, "web--", true),
            (NameRule::Dns1123Subdomain, "-web-", false),
            (NameRule::Dns1123Subdomain, "pod-x.", true),
            (NameRule::Dns1123Subdomain, "a..", false),
            (NameRule::Dns1035Label, "svc.", false),
            (NameRule::Dns1123Subdomain, "-", false),
            (NameRule::Dns1123Subdomain, "we b-", false),
            (NameRule::Dns1035Label, "svc-", true),
            (NameRule::Dns1035Label, "1svc-", false),
            (NameRule::Dns1035Label, "a.b-", false),
            (NameRule::PathSegment, "redisController-", true),
            (NameRule::PathSegment, ".", true),
            (NameRule::PathSegment, "a/b-", false),
            (NameRule::PathSegment, "a%-", false),
        ];
        for (rule, prefix, ok) in cases {
            assert_eq!(
                rule.prefix_error(prefix).is_none(),
                ok,
                "{rule:?} {prefix:?}: {:?}",
                rule.prefix_error(prefix)
            );
        }
    }

    #[test]
    fn generate_name_errors_carry_the_field_path() {
        let meta = ObjectMeta {
            name: "web-abcde".into(),
            generate_name: "a".repeat(300),
            ..ObjectMeta::default()
        };
        let mut errs = FieldErrors::default();
        validate_object_meta(&meta, NameRule::Dns1123Subdomain, &mut errs);
        let fields: Vec<String> = errs.iter().map(|e| e.field.clone()).collect();
        assert_eq!(fields, vec!["metadata.generateName".to_string()]);
    }

    #[test]
    fn negative_quantities_are_decided_on_the_text() {
        let cases = [
            ("-1", true),
            ("-0.0001", true),
            ("-100m", true),
            ("-0", false),
            ("-0.0", false),
            ("1", false),
            ("+1", false),
            ("0", false),
        ];
        for (s, want) in cases {
            assert_eq!(is_negative(&q(s)), want, "{s}");
        }
    }

    #[test]
    fn quantities_compare_across_units() {
        let cases = [
            ("500m", "1", Ordering::Less),
            ("1", "1000m", Ordering::Equal),
            ("1500m", "1", Ordering::Greater),
            ("64Mi", "1Gi", Ordering::Less),
            ("1Gi", "1G", Ordering::Greater),
            ("100m", "200m", Ordering::Less),
        ];
        for (a, b, want) in cases {
            let (pa, pb) = (q(a).parse(), q(b).parse());
            match (pa, pb) {
                (Ok(pa), Ok(pb)) => assert_eq!(compare_quantities(&pa, &pb), want, "{a} vs {b}"),
                other => panic!("{a} or {b} did not parse: {other:?}"),
            }
        }
    }
}
