//! Validation of API objects.
//!
//! Every validator reports every problem of an object at once, each as a [`FieldError`]
//! carrying the full field path (`spec.containers[0].ports[1].hostPort`), a kind that maps
//! to the `StatusCause` reason of Kubernetes, the offending value and a detail message.
//! Messages follow Kubernetes' `field.Error` rendering, e.g.
//! `spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"`.
//!
//! Validation runs after defaulting on the server, but the validators are lenient about
//! fields that defaulting fills (an empty protocol, restart policy or pull policy is accepted).
//!
//! Layout: the rules shared by every kind live in `meta.rs`, name syntaxes in
//! `names.rs`, and one file per kind holds its `Validate` implementation and its table tests.

use std::fmt;

mod endpoints;
mod event;
mod lease;
mod meta;
mod names;
mod namespace;
mod node;
mod pod;
mod replication_controller;
mod scale;
mod service;

/// One invalid field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Kind of problem.
    pub kind: FieldErrorKind,
    /// Field path, e.g. `spec.containers[0].image`.
    pub field: String,
    /// The offending value, rendered as a string (empty for Required).
    pub value: String,
    /// Explanation.
    pub detail: String,
}

/// Kinds of field errors, mapped to the `StatusCause` reasons of Kubernetes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldErrorKind {
    /// `FieldValueRequired`
    Required,
    /// `FieldValueInvalid`
    Invalid,
    /// `FieldValueDuplicate`
    Duplicate,
    /// `FieldValueNotSupported`
    NotSupported,
    /// `FieldValueTooLong`
    TooLong,
    /// `FieldValueForbidden`
    Forbidden,
    /// `FieldValueNotFound`: the value refers to something that does not exist (e.g. a volume).
    NotFound,
}

/// All the field errors of one object.
pub type FieldErrors = Vec<FieldError>;

/// Validation of a kind, on create and on update.
pub trait Validate {
    /// Every problem of the object, all at once.
    fn validate(&self) -> FieldErrors;
    /// Every problem of an update from `old` to `self`.
    fn validate_update(&self, old: &Self) -> FieldErrors;
}

impl FieldErrorKind {
    /// The `StatusCause.reason` of this kind, e.g. `FieldValueRequired`.
    pub fn reason(self) -> &'static str {
        match self {
            FieldErrorKind::Required => "FieldValueRequired",
            FieldErrorKind::Invalid => "FieldValueInvalid",
            FieldErrorKind::Duplicate => "FieldValueDuplicate",
            FieldErrorKind::NotSupported => "FieldValueNotSupported",
            FieldErrorKind::TooLong => "FieldValueTooLong",
            FieldErrorKind::Forbidden => "FieldValueForbidden",
            FieldErrorKind::NotFound => "FieldValueNotFound",
        }
    }

    /// The human-readable name Kubernetes prints, e.g. `Required value`.
    pub fn description(self) -> &'static str {
        match self {
            FieldErrorKind::Required => "Required value",
            FieldErrorKind::Invalid => "Invalid value",
            FieldErrorKind::Duplicate => "Duplicate value",
            FieldErrorKind::NotSupported => "Unsupported value",
            FieldErrorKind::TooLong => "Too long",
            FieldErrorKind::Forbidden => "Forbidden",
            FieldErrorKind::NotFound => "Not found",
        }
    }

    /// Whether the message prints the value (not for Required, Forbidden, TooLong).
    fn shows_value(self) -> bool {
        !matches!(
            self,
            FieldErrorKind::Required | FieldErrorKind::Forbidden | FieldErrorKind::TooLong
        )
    }
}

impl FieldError {
    /// A field error of any kind.
    pub fn new(
        kind: FieldErrorKind,
        field: impl Into<String>,
        value: impl ToString,
        detail: impl Into<String>,
    ) -> FieldError {
        FieldError {
            kind,
            field: field.into(),
            value: value.to_string(),
            detail: detail.into(),
        }
    }

    /// A missing required value; `detail` may be empty.
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError::new(FieldErrorKind::Required, field, "", detail)
    }

    /// A value with the wrong syntax or out of range.
    pub fn invalid(
        field: impl Into<String>,
        value: impl ToString,
        detail: impl Into<String>,
    ) -> FieldError {
        FieldError::new(FieldErrorKind::Invalid, field, value, detail)
    }

    /// A value that must be unique but was already used.
    pub fn duplicate(field: impl Into<String>, value: impl ToString) -> FieldError {
        FieldError::new(FieldErrorKind::Duplicate, field, value, "")
    }

    /// A value outside a fixed set; the detail lists the supported values.
    pub fn not_supported(
        field: impl Into<String>,
        value: impl ToString,
        supported: &[&str],
    ) -> FieldError {
        let quoted: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        let detail = if quoted.is_empty() {
            String::new()
        } else {
            format!("supported values: {}", quoted.join(", "))
        };
        FieldError::new(FieldErrorKind::NotSupported, field, value, detail)
    }

    /// A value that may not be set or changed here.
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError::new(FieldErrorKind::Forbidden, field, "", detail)
    }

    /// A value longer than `max_len` bytes.
    pub fn too_long(field: impl Into<String>, value: impl ToString, max_len: usize) -> FieldError {
        FieldError::new(
            FieldErrorKind::TooLong,
            field,
            value,
            format!("must have at most {max_len} bytes"),
        )
    }

    /// A reference to something that does not exist.
    pub fn not_found(field: impl Into<String>, value: impl ToString) -> FieldError {
        FieldError::new(FieldErrorKind::NotFound, field, value, "")
    }

    /// The Kubernetes rendering: `field: Kind[: "value"][: detail]`.
    ///
    /// Values are always printed quoted, since they are stored as strings.
    pub fn message(&self) -> String {
        let mut s = format!("{}: {}", self.field, self.kind.description());
        if self.kind.shows_value() {
            s.push_str(&format!(": {:?}", self.value));
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for FieldError {}

/// A field path under construction: `FieldPath::new("spec").child("containers").index(0)`
/// renders as `spec.containers[0]`; `.key("cpu")` appends `[cpu]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(String);

impl FieldPath {
    /// The empty path, for top-level fields.
    pub fn root() -> FieldPath {
        FieldPath(String::new())
    }

    /// A path with one top-level field.
    pub fn new(name: &str) -> FieldPath {
        FieldPath(name.to_string())
    }

    /// The path of a named child field (`.name`).
    pub fn child(&self, name: &str) -> FieldPath {
        if self.0.is_empty() {
            FieldPath(name.to_string())
        } else {
            FieldPath(format!("{}.{name}", self.0))
        }
    }

    /// The path of a list element (`[i]`).
    pub fn index(&self, i: usize) -> FieldPath {
        FieldPath(format!("{}[{i}]", self.0))
    }

    /// The path of a map entry (`[key]`).
    pub fn key(&self, key: &str) -> FieldPath {
        FieldPath(format!("{}[{key}]", self.0))
    }

    /// The rendered path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<FieldPath> for String {
    fn from(p: FieldPath) -> String {
        p.0
    }
}

impl From<&FieldPath> for String {
    fn from(p: &FieldPath) -> String {
        p.0.clone()
    }
}

/// Table-test helpers shared by the per-kind test modules.
#[cfg(test)]
pub(crate) mod testutil {
    use super::{FieldErrors, Validate};

    /// `(description, mutation of the valid base object, expected (field, reason) pairs)`.
    pub(crate) type Case<T> = (
        &'static str,
        fn(&mut T),
        &'static [(&'static str, &'static str)],
    );

    /// The sorted `(field, reason)` pairs of some errors.
    pub(crate) fn pairs(errs: &FieldErrors) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = errs
            .iter()
            .map(|e| (e.field.clone(), e.kind.reason().to_string()))
            .collect();
        v.sort();
        v
    }

    fn want(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = expected
            .iter()
            .map(|(f, r)| (f.to_string(), r.to_string()))
            .collect();
        v.sort();
        v
    }

    /// Checks that `base` is valid and that each mutation yields exactly the expected errors.
    pub(crate) fn check_create<T: Validate + Clone>(base: &T, cases: &[Case<T>]) {
        let base_errs = base.validate();
        assert!(
            base_errs.is_empty(),
            "base object is invalid: {base_errs:#?}"
        );
        for (desc, mutate, expected) in cases {
            let mut obj = base.clone();
            mutate(&mut obj);
            let errs = obj.validate();
            assert_eq!(pairs(&errs), want(expected), "case {desc:?}: {errs:#?}");
        }
    }

    /// Checks that each mutation, applied as an update of `base`, yields exactly the expected errors.
    pub(crate) fn check_update<T: Validate + Clone>(base: &T, cases: &[Case<T>]) {
        let base_errs = base.validate_update(base);
        assert!(
            base_errs.is_empty(),
            "identity update is invalid: {base_errs:#?}"
        );
        for (desc, mutate, expected) in cases {
            let mut obj = base.clone();
            mutate(&mut obj);
            let errs = obj.validate_update(base);
            assert_eq!(pairs(&errs), want(expected), "case {desc:?}: {errs:#?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_render_like_kubernetes() {
        let cases = [
            (
                FieldError::required("spec.containers[0].image", ""),
                "spec.containers[0].image: Required value",
            ),
            (
                FieldError::required("metadata.name", "name or generateName is required"),
                "metadata.name: Required value: name or generateName is required",
            ),
            (
                FieldError::invalid("metadata.name", "Foo_bar", "bad name"),
                "metadata.name: Invalid value: \"Foo_bar\": bad name",
            ),
            (
                FieldError::duplicate("spec.containers[1].name", "redis"),
                "spec.containers[1].name: Duplicate value: \"redis\"",
            ),
            (
                FieldError::not_supported(
                    "spec.restartPolicy",
                    "Sometimes",
                    &["Always", "OnFailure", "Never"],
                ),
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
            ),
            (
                FieldError::forbidden("spec", "may not change"),
                "spec: Forbidden: may not change",
            ),
            (
                FieldError::too_long("reason", "x".repeat(200), 128),
                "reason: Too long: must have at most 128 bytes",
            ),
            (
                FieldError::not_found("spec.containers[0].volumeMounts[0].name", "data"),
                "spec.containers[0].volumeMounts[0].name: Not found: \"data\"",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.message(), want);
            assert_eq!(err.to_string(), want);
        }
    }

    #[test]
    fn reasons_match_status_causes() {
        let cases = [
            (FieldErrorKind::Required, "FieldValueRequired"),
            (FieldErrorKind::Invalid, "FieldValueInvalid"),
            (FieldErrorKind::Duplicate, "FieldValueDuplicate"),
            (FieldErrorKind::NotSupported, "FieldValueNotSupported"),
            (FieldErrorKind::TooLong, "FieldValueTooLong"),
            (FieldErrorKind::Forbidden, "FieldValueForbidden"),
            (FieldErrorKind::NotFound, "FieldValueNotFound"),
        ];
        for (kind, want) in cases {
            assert_eq!(kind.reason(), want);
        }
    }

    #[test]
    fn field_paths_render() {
        let spec = FieldPath::new("spec");
        let c0 = spec.child("containers").index(0);
        assert_eq!(c0.as_str(), "spec.containers[0]");
        assert_eq!(
            c0.child("resources")
                .child("requests")
                .key("cpu")
                .to_string(),
            "spec.containers[0].resources.requests[cpu]"
        );
        assert_eq!(FieldPath::root().child("reason").as_str(), "reason");
        assert_eq!(
            FieldPath::root().child("subsets").index(2).as_str(),
            "subsets[2]"
        );
        let s: String = (&c0).into();
        assert_eq!(s, "spec.containers[0]");
    }
}

/// The seed's walkthrough documents, converted from v1beta1 and defaulted, must be valid.
#[cfg(test)]
mod seed_tests {
    use super::Validate;
    use crate::defaults::Defaults;
    use crate::v1beta1::V1Beta1;
    use crate::{Pod, ReplicationController};

    fn convert<T: V1Beta1>(json: &str) -> T {
        let value: serde_json::Value = match serde_json::from_str(json) {
            Ok(v) => v,
            Err(e) => panic!("seed document is not JSON: {e}"),
        };
        match T::from_v1beta1(value) {
            Ok(obj) => obj,
            Err(e) => panic!("seed document does not convert: {e}"),
        }
    }

    #[test]
    fn seed_documents_are_valid() {
        let mut pod: Pod = convert(include_str!("../../../examples/redis.json"));
        pod.apply_defaults();
        assert_eq!(pod.validate(), vec![]);

        let mut rc: ReplicationController =
            convert(include_str!("../../../examples/redisController.json"));
        rc.apply_defaults();
        assert_eq!(rc.metadata.name, "redisController");
        assert_eq!(rc.validate(), vec![]);
    }
}
