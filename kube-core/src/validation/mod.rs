//! Validation of API objects. STUB: implementation in progress.

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
