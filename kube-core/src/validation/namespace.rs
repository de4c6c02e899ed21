//! Namespace validation.

use super::meta::{validate_object_meta, validate_object_meta_update, NameRule};
use super::{FieldError, FieldErrors, Validate};
use crate::labels::validate_label_key;
use crate::namespace::{Namespace, FINALIZER_KUBERNETES};

impl Validate for Namespace {
    /// Besides metadata (the name is a DNS-1123 label, as Kubernetes' `ValidateNamespaceName`):
    /// every `spec.finalizers` entry is a qualified name, and one without a `/` prefix is a
    /// standard finalizer (`kubernetes`).
    fn validate(&self) -> FieldErrors {
        let mut errs = Vec::new();
        validate_object_meta(&self.metadata, NameRule::Dns1123Label, &mut errs);
        for (i, f) in self.spec.finalizers.iter().enumerate() {
            let field = format!("spec.finalizers[{i}]");
            if let Err(msg) = validate_label_key(f) {
                errs.push(FieldError::invalid(field, f, msg));
            } else if !f.contains('/') && f != FINALIZER_KUBERNETES {
                errs.push(FieldError::invalid(
                    field,
                    f,
                    "name is neither a standard finalizer name nor is it fully qualified",
                ));
            }
        }
        errs
    }

    fn validate_update(&self, old: &Self) -> FieldErrors {
        let mut errs = self.validate();
        validate_object_meta_update(&self.metadata, &old.metadata, &mut errs);
        if old.metadata.is_deleting() {
            let added: Vec<&str> = (self.spec.finalizers.iter())
                .filter(|f| !old.spec.finalizers.contains(f))
                .map(String::as_str)
                .collect();
            if !added.is_empty() {
                errs.push(FieldError::forbidden(
                    "spec.finalizers",
                    format!(
                        "no new finalizers can be added if the namespace is being deleted, found new finalizers {added:?}"
                    ),
                ));
            }
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{check_create, check_update, Case};
    use super::*;
    use crate::meta::ObjectMeta;

    const INV: &str = "FieldValueInvalid";
    const REQ: &str = "FieldValueRequired";

    fn valid_namespace() -> Namespace {
        let mut ns = Namespace::named("team-a");
        ns.metadata.uid = "uid-1".into();
        ns.spec.finalizers = vec![FINALIZER_KUBERNETES.into()];
        ns.status.phase = "Active".into();
        ns
    }

    #[test]
    fn namespace_create_cases() {
        let cases: &[Case<Namespace>] = &[
            ("no finalizers", |n| n.spec.finalizers.clear(), &[]),
            (
                "a qualified finalizer",
                |n| n.spec.finalizers.push("example.com/cleanup".into()),
                &[],
            ),
            ("63 characters", |n| n.metadata.name = "a".repeat(63), &[]),
            (
                "no name",
                |n| n.metadata.name.clear(),
                &[("metadata.name", REQ)],
            ),
            (
                "64 characters",
                |n| n.metadata.name = "a".repeat(64),
                &[("metadata.name", INV)],
            ),
            (
                "a dot (subdomain, not a label)",
                |n| n.metadata.name = "team.a".into(),
                &[("metadata.name", INV)],
            ),
            (
                "upper case",
                |n| n.metadata.name = "Team".into(),
                &[("metadata.name", INV)],
            ),
            (
                "leading dash",
                |n| n.metadata.name = "-a".into(),
                &[("metadata.name", INV)],
            ),
            (
                "unqualified non-standard finalizer",
                |n| n.spec.finalizers.push("cleanup".into()),
                &[("spec.finalizers[1]", INV)],
            ),
            (
                "malformed finalizer",
                |n| n.spec.finalizers = vec!["a b/c".into()],
                &[("spec.finalizers[0]", INV)],
            ),
            (
                "generateName ending in a dash",
                |n| {
                    n.metadata.name.clear();
                    n.metadata.generate_name = "tmp-".into();
                },
                &[("metadata.name", REQ)],
            ),
        ];
        check_create(&valid_namespace(), cases);
    }

    #[test]
    fn namespace_update_cases() {
        let cases: &[Case<Namespace>] = &[
            ("finalizer removed", |n| n.spec.finalizers.clear(), &[]),
            (
                "labels added",
                |n| {
                    n.metadata.labels.insert("team".into(), "a".into());
                },
                &[],
            ),
            (
                "renamed",
                |n| n.metadata.name = "team-b".into(),
                &[("metadata.name", INV)],
            ),
            (
                "uid changed",
                |n| {
                    n.metadata = ObjectMeta {
                        uid: "uid-2".into(),
                        ..n.metadata.clone()
                    }
                },
                &[("metadata.uid", INV)],
            ),
        ];
        check_update(&valid_namespace(), cases);
    }

    #[test]
    fn no_finalizer_is_added_while_terminating() {
        let mut base = valid_namespace();
        base.metadata.deletion_timestamp = "2026-11-28T00:00:00Z".into();
        let cases: &[Case<Namespace>] = &[
            ("finalizer removed", |n| n.spec.finalizers.clear(), &[]),
            (
                "finalizer added",
                |n| n.spec.finalizers.push("example.com/x".into()),
                &[("spec.finalizers", "FieldValueForbidden")],
            ),
        ];
        check_update(&base, cases);
    }
}
