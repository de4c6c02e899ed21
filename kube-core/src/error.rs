//! `ApiError`: the typed errors of API operations and their `Status` form.

use crate::status::{self, Status, StatusCause, StatusDetails};
use crate::validation::FieldErrors;

/// An API failure; every variant maps to a `Status` with a code and reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 404: the object does not exist.
    #[error("{resource} {name:?} not found")]
    NotFound {
        /// Resource (plural), e.g. `pods`.
        resource: String,
        /// Object name.
        name: String,
    },
    /// 409: create of an existing name.
    #[error("{resource} {name:?} already exists")]
    AlreadyExists {
        /// Resource (plural).
        resource: String,
        /// Object name.
        name: String,
    },
    /// 409: a stale resourceVersion or a failed precondition.
    #[error("Operation cannot be fulfilled on {resource} {name:?}: {message}")]
    Conflict {
        /// Resource (plural).
        resource: String,
        /// Object name.
        name: String,
        /// Why.
        message: String,
    },
    /// 422: the object failed validation; one cause per field error.
    #[error("{kind} {name:?} is invalid: {}", render_field_errors(.errors))]
    Invalid {
        /// Kind, e.g. `Pod`.
        kind: String,
        /// Object name.
        name: String,
        /// Every field error.
        errors: FieldErrors,
    },
    /// 403: the request is refused, e.g. new content in a terminating namespace.
    #[error("{}", forbidden_message(.resource, .name, .message))]
    Forbidden {
        /// Resource (plural).
        resource: String,
        /// Object name (may be empty, e.g. for a generated name).
        name: String,
        /// Why.
        message: String,
        /// Machine-readable causes, e.g. `NamespaceTerminating` on `metadata.namespace`.
        causes: Vec<StatusCause>,
    },
    /// 400: malformed request.
    #[error("{0}")]
    BadRequest(String),
    /// 410: the requested resourceVersion is too old.
    #[error("{0}")]
    Gone(String),
    /// 413: the body is too large.
    #[error("{0}")]
    RequestEntityTooLarge(String),
    /// 405: the method is not supported on the path.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 415: the body's media type is not supported.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 503: the store (or another dependency) is unavailable.
    #[error("{0}")]
    ServiceUnavailable(String),
    /// 504: the operation timed out.
    #[error("{0}")]
    Timeout(String),
    /// The server could not be reached or the connection broke (a client-side failure, reported
    /// as 503 but distinct from a server's own 503 `Status`).
    #[error("{0}")]
    Transport(String),
    /// 500: anything else.
    #[error("{0}")]
    Internal(String),
    /// Any other status returned by a server (decoded by clients).
    #[error("{}", .0.message)]
    Other(Box<Status>),
}

/// apimachinery's `NewForbidden` message: `pods "x" is forbidden: why`.
fn forbidden_message(resource: &str, name: &str, message: &str) -> String {
    if name.is_empty() {
        format!("{resource} is forbidden: {message}")
    } else {
        format!("{resource} {name:?} is forbidden: {message}")
    }
}

fn render_field_errors(errors: &FieldErrors) -> String {
    let msgs: Vec<String> = errors.iter().map(|e| e.message()).collect();
    if msgs.len() == 1 {
        msgs[0].clone()
    } else {
        format!("[{}]", msgs.join(", "))
    }
}

impl ApiError {
    /// HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            ApiError::NotFound { .. } => 404,
            ApiError::AlreadyExists { .. } | ApiError::Conflict { .. } => 409,
            ApiError::Invalid { .. } => 422,
            ApiError::Forbidden { .. } => 403,
            ApiError::BadRequest(_) => 400,
            ApiError::Gone(_) => 410,
            ApiError::RequestEntityTooLarge(_) => 413,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::ServiceUnavailable(_) | ApiError::Transport(_) => 503,
            ApiError::Timeout(_) => 504,
            ApiError::Internal(_) => 500,
            ApiError::Other(s) => s.code,
        }
    }

    /// `Status.reason`.
    pub fn reason(&self) -> &str {
        match self {
            ApiError::NotFound { .. } => status::REASON_NOT_FOUND,
            ApiError::AlreadyExists { .. } => status::REASON_ALREADY_EXISTS,
            ApiError::Conflict { .. } => status::REASON_CONFLICT,
            ApiError::Invalid { .. } => status::REASON_INVALID,
            ApiError::Forbidden { .. } => status::REASON_FORBIDDEN,
            ApiError::BadRequest(_) => status::REASON_BAD_REQUEST,
            ApiError::Gone(_) => status::REASON_EXPIRED,
            ApiError::RequestEntityTooLarge(_) => status::REASON_TOO_LARGE,
            ApiError::MethodNotAllowed(_) => status::REASON_METHOD_NOT_ALLOWED,
            ApiError::UnsupportedMediaType(_) => status::REASON_UNSUPPORTED_MEDIA_TYPE,
            ApiError::ServiceUnavailable(_) | ApiError::Transport(_) => {
                status::REASON_SERVICE_UNAVAILABLE
            }
            ApiError::Timeout(_) => status::REASON_TIMEOUT,
            ApiError::Internal(_) => status::REASON_INTERNAL_ERROR,
            ApiError::Other(s) => &s.reason,
        }
    }

    /// The `Status` object sent to clients.
    pub fn to_status(&self) -> Status {
        if let ApiError::Other(s) = self {
            return (**s).clone();
        }
        let mut st = Status::failure(self.code(), self.reason(), self.to_string());
        match self {
            ApiError::NotFound { resource, name }
            | ApiError::AlreadyExists { resource, name }
            | ApiError::Conflict { resource, name, .. } => {
                st = st.with_details(resource, name);
            }
            ApiError::Forbidden {
                resource,
                name,
                causes,
                ..
            } => {
                st = st.with_details(resource, name);
                if let Some(d) = st.details.as_mut() {
                    d.causes = causes.clone();
                }
            }
            ApiError::Invalid { kind, name, errors } => {
                st.details = Some(StatusDetails {
                    name: name.clone(),
                    kind: kind.clone(),
                    causes: errors
                        .iter()
                        .map(|e| StatusCause {
                            reason: e.kind.reason().to_string(),
                            message: e.message(),
                            field: e.field.clone(),
                        })
                        .collect(),
                    ..StatusDetails::default()
                });
            }
            _ => {}
        }
        st
    }

    /// Rebuilds a typed error from a `Status` received from a server.
    pub fn from_status(status: Status) -> ApiError {
        ApiError::Other(Box::new(status))
    }

    /// True for 404.
    pub fn is_not_found(&self) -> bool {
        self.code() == 404 && self.reason() == status::REASON_NOT_FOUND
    }

    /// True for a 409 Conflict (stale resourceVersion).
    pub fn is_conflict(&self) -> bool {
        self.code() == 409 && self.reason() == status::REASON_CONFLICT
    }

    /// True for a 409 AlreadyExists.
    pub fn is_already_exists(&self) -> bool {
        self.code() == 409 && self.reason() == status::REASON_ALREADY_EXISTS
    }

    /// True for a transport failure (connection refused, reset, timed out), as opposed to an
    /// error `Status` answered by a server.
    pub fn is_transport(&self) -> bool {
        matches!(self, ApiError::Transport(_))
    }

    /// True for a 410 (the client must relist).
    pub fn is_gone(&self) -> bool {
        self.code() == 410
    }
}
