//! Lists in pages, as Kubernetes serves them: the `continue` token, and the rules resolving
//! `resourceVersion`, `resourceVersionMatch`, `limit` and `continue` into one read of the store.
//!
//! The token is Kubernetes' own (apiserver `storage/continue.go`): unpadded URL-safe base64 of
//! `{"v":"meta.k8s.io/v1","rv":N,"start":"K"}`, where `K` is the key the next page starts at,
//! relative to the list's key prefix (the last key returned plus `\0`), and `rv` the revision
//! every page is read at (negative: the current one, the "inconsistent" token handed out when
//! the first page's revision is compacted).
//!
//! The rules are those of `ValidateListOptions` (apimachinery
//! `pkg/apis/meta/internalversion/validation`, answered 422 `ListOptions`) and of the storage
//! layer (`storage.ValidateListOptions`, etcd3 `GetList`, answered 400/410/504).

use crate::error::ApiError;
use crate::status::{Status, StatusCause, StatusDetails, REASON_EXPIRED, REASON_TIMEOUT};
use crate::store::Revision;
use crate::validation::FieldError;
use serde::{Deserialize, Serialize};

/// The `v` of every continue token.
pub const CONTINUE_TOKEN_VERSION: &str = "meta.k8s.io/v1";

/// Kubernetes' message for a list at a compacted `resourceVersion`.
pub const EXPIRED_MESSAGE: &str = "The resourceVersion for the provided list is too old.";

/// Kubernetes' message for a `continue` token whose revision is compacted (the answer carries
/// a new, inconsistent token).
pub const INCONSISTENT_CONTINUE_MESSAGE: &str = "The provided continue parameter is too old \
to display a consistent list result. You can start a new list without the continue parameter, \
or use the continue token in this response to retrieve the remainder of the results. \
Continuing with the provided token results in an inconsistent list - objects that were \
created, modified, or deleted between the time the first chunk was returned and now may show \
up in the list.";

/// The `StatusCause` reason of a read above the store's revision.
pub const CAUSE_RESOURCE_VERSION_TOO_LARGE: &str = "ResourceVersionTooLarge";

/// A decoded continue token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContinueToken {
    /// The revision every page is read at; `None`: the current one (an inconsistent token).
    pub revision: Option<Revision>,
    /// The key the next page starts at, relative to the list's key prefix.
    pub start: String,
}

/// The token's JSON form (field order and names are Kubernetes').
#[derive(Serialize, Deserialize, Default)]
struct TokenJson {
    #[serde(default)]
    v: String,
    #[serde(default)]
    rv: i64,
    #[serde(default)]
    start: String,
}

/// Why a continue token was refused (each message is Kubernetes').
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContinueError {
    /// Not base64, not JSON, or a start key that is not a clean path.
    #[error("continue key is not valid: {0}")]
    Invalid(String),
    /// `rv` is 0.
    #[error("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")]
    InvalidStartRevision,
    /// `start` is empty.
    #[error("continue key is not valid: encoded start key empty (version meta.k8s.io/v1)")]
    EmptyStartKey,
    /// `v` is not `meta.k8s.io/v1`.
    #[error("continue key is not valid: server does not recognize this encoded version {0}")]
    UnknownVersion(String),
}

impl ContinueToken {
    /// The token continuing a list under `prefix` after `last_key` (the last key the previous
    /// page examined), read at `revision` (`None`: inconsistent, at the current revision).
    /// `None` when `last_key` is not under `prefix`.
    pub fn after(last_key: &str, prefix: &str, revision: Option<Revision>) -> Option<Self> {
        let rest = last_key.strip_prefix(prefix)?;
        (!rest.is_empty()).then(|| ContinueToken {
            revision,
            start: format!("{rest}\0"),
        })
    }

    /// The encoded token.
    pub fn encode(&self) -> String {
        let rv = match self.revision {
            Some(r) => i64::try_from(r).unwrap_or(i64::MAX),
            None => -1,
        };
        let json = TokenJson {
            v: CONTINUE_TOKEN_VERSION.to_owned(),
            rv,
            start: self.start.clone(),
        };
        // Serializing a struct of strings and an integer cannot fail.
        let bytes = serde_json::to_vec(&json).unwrap_or_default();
        base64url_encode(&bytes)
    }

    /// Decodes a token, checking it as Kubernetes' `DecodeContinue` does.
    pub fn decode(token: &str) -> Result<Self, ContinueError> {
        let bytes = base64url_decode(token).map_err(ContinueError::Invalid)?;
        let json: TokenJson =
            serde_json::from_slice(&bytes).map_err(|e| ContinueError::Invalid(e.to_string()))?;
        if json.v != CONTINUE_TOKEN_VERSION {
            return Err(ContinueError::UnknownVersion(json.v));
        }
        if json.rv == 0 {
            return Err(ContinueError::InvalidStartRevision);
        }
        if json.start.is_empty() {
            return Err(ContinueError::EmptyStartKey);
        }
        // Against path traversal: the start key, rooted, must be a clean path, so prefixing
        // it never reaches above the list's prefix.
        let rooted = if json.start.starts_with('/') {
            json.start.clone()
        } else {
            format!("/{}", json.start)
        };
        if !is_clean_path(&rooted) {
            return Err(ContinueError::Invalid(json.start));
        }
        Ok(ContinueToken {
            revision: u64::try_from(json.rv).ok(),
            start: rooted[1..].to_owned(),
        })
    }

    /// The absolute store key the next page starts at, for a list under `prefix`.
    pub fn start_key(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.start)
    }
}

/// Whether a rooted path equals its `path.Clean` form: no empty, `.` or `..` element and no
/// trailing `/` (except the root itself).
fn is_clean_path(p: &str) -> bool {
    if p == "/" {
        return true;
    }
    p.strip_prefix('/').is_some_and(|rest| {
        rest.split('/')
            .all(|e| !e.is_empty() && e != "." && e != "..")
    })
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded URL-safe base64 (Go's `base64.RawURLEncoding`).
fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(BASE64URL[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Decodes unpadded URL-safe base64 (no padding, no other characters; unused trailing bits
/// are ignored, as Go's non-strict decoder does).
fn base64url_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for (i, c) in text.bytes().enumerate() {
        let v = BASE64URL
            .iter()
            .position(|&a| a == c)
            .ok_or_else(|| format!("illegal base64 data at input byte {i}"))?;
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 {
        return Err(format!("illegal base64 data at input byte {}", text.len()));
    }
    Ok(out)
}

/// `resourceVersionMatch`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceVersionMatch {
    /// `NotOlderThan`: any revision at least `resourceVersion` (we serve the current one).
    NotOlderThan,
    /// `Exact`: exactly `resourceVersion`.
    Exact,
    /// Any other value, kept so validation answers 422 NotSupported as Kubernetes does.
    Unsupported(String),
}

impl ResourceVersionMatch {
    /// The values Kubernetes accepts.
    pub const VALUES: [&'static str; 2] = ["NotOlderThan", "Exact"];

    /// Parses a value; `None` for the empty string (unset), `Unsupported` for any other.
    pub fn parse(v: &str) -> Option<Self> {
        match v {
            "" => None,
            "NotOlderThan" => Some(ResourceVersionMatch::NotOlderThan),
            "Exact" => Some(ResourceVersionMatch::Exact),
            other => Some(ResourceVersionMatch::Unsupported(other.to_string())),
        }
    }

    /// The 422 cause for an unsupported value, if this is one.
    fn unsupported(&self) -> Option<FieldError> {
        match self {
            ResourceVersionMatch::Unsupported(v) => Some(FieldError::not_supported(
                "resourceVersionMatch",
                v,
                &["Exact", "NotOlderThan", ""],
            )),
            _ => None,
        }
    }
}

/// The paging and revision parameters of a list call, as given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PagingParams {
    /// `resourceVersion`: `None` when absent or empty; `Some(0)` for `"0"`.
    pub resource_version: Option<Revision>,
    /// `resourceVersionMatch`, when given.
    pub resource_version_match: Option<ResourceVersionMatch>,
    /// `limit`; 0 or absent: no limit.
    pub limit: u64,
    /// `continue`; empty: the first page.
    pub continue_token: String,
}

/// The revision a list reads at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadAt {
    /// The current revision (unset `resourceVersion`, or `"0"`: any).
    Current,
    /// The current revision, which must be at least this one (else 504).
    NotOlderThan(Revision),
    /// Exactly this revision (410 once compacted).
    Exact(Revision),
}

/// How one list call reads the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PagePlan {
    /// The revision.
    pub at: ReadAt,
    /// The key to start at (absolute), `None`: the prefix's first key.
    pub start: Option<String>,
    /// At most this many items; 0: all.
    pub limit: u64,
    /// The call continues an earlier one: a compacted revision answers 410 with a fresh
    /// inconsistent token instead of a plain 410.
    pub continuing: bool,
}

impl PagingParams {
    /// Resolves the parameters of a list under the key prefix `prefix` into a plan, or the
    /// refusal Kubernetes answers: 422 `ListOptions` for the combinations its validation
    /// forbids, 400 for a bad token or a `resourceVersion` next to a token.
    pub fn plan(&self, prefix: &str) -> Result<PagePlan, ApiError> {
        let mut errors = Vec::new();
        if let Some(rvm) = &self.resource_version_match {
            if self.resource_version.is_none() {
                errors.push(FieldError::forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                ));
            }
            if !self.continue_token.is_empty() {
                errors.push(FieldError::forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden when continue is provided",
                ));
            }
            errors.extend(rvm.unsupported());
            if *rvm == ResourceVersionMatch::Exact && self.resource_version == Some(0) {
                errors.push(FieldError::forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(list_options_invalid(errors));
        }
        if !self.continue_token.is_empty() {
            let token = ContinueToken::decode(&self.continue_token)
                .map_err(|e| ApiError::BadRequest(format!("invalid continue token: {e}")))?;
            if self.resource_version.is_some_and(|rv| rv != 0) {
                return Err(ApiError::BadRequest(
                    "specifying resource version is not allowed when using continue".into(),
                ));
            }
            return Ok(PagePlan {
                at: token.revision.map_or(ReadAt::Current, ReadAt::Exact),
                start: Some(token.start_key(prefix)),
                limit: self.limit,
                continuing: true,
            });
        }
        let at = match (self.resource_version, &self.resource_version_match) {
            (None | Some(0), _) => ReadAt::Current,
            (Some(rv), Some(ResourceVersionMatch::Exact)) => ReadAt::Exact(rv),
            (Some(rv), Some(ResourceVersionMatch::NotOlderThan)) => ReadAt::NotOlderThan(rv),
            // Kubernetes' legacy rule: a resourceVersion with a limit is an exact read.
            (Some(rv), None) if self.limit > 0 => ReadAt::Exact(rv),
            (Some(rv), None | Some(ResourceVersionMatch::Unsupported(_))) => {
                ReadAt::NotOlderThan(rv)
            }
        };
        Ok(PagePlan {
            at,
            start: None,
            limit: self.limit,
            continuing: false,
        })
    }
}

/// Checks a watch's `resourceVersionMatch` and `sendInitialEvents` as Kubernetes'
/// `ValidateListOptions` does (422 `ListOptions`): a match is forbidden unless
/// `sendInitialEvents` is given, which requires `resourceVersionMatch=NotOlderThan` and
/// `allowWatchBookmarks=true` (client-go's watch-list).
pub fn check_watch(
    resource_version_match: Option<&ResourceVersionMatch>,
    send_initial_events: Option<bool>,
    allow_watch_bookmarks: bool,
) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    match send_initial_events {
        None => {
            if resource_version_match.is_some() {
                errors.push(FieldError::forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                ));
            }
        }
        Some(_) => {
            if resource_version_match != Some(&ResourceVersionMatch::NotOlderThan) {
                errors.push(FieldError::forbidden(
                    "resourceVersionMatch",
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                ));
            }
            if !allow_watch_bookmarks {
                errors.push(FieldError::forbidden(
                    "allowWatchBookmarks",
                    "sendInitialEvents requires setting allowWatchBookmarks to true",
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(list_options_invalid(errors))
    }
}

fn list_options_invalid(errors: Vec<FieldError>) -> ApiError {
    ApiError::Invalid {
        kind: "ListOptions".into(),
        name: String::new(),
        errors,
    }
}

/// 410 `Expired` for a list at a compacted revision (not a continuation).
pub fn expired() -> ApiError {
    ApiError::Gone(EXPIRED_MESSAGE.into())
}

/// 410 `Expired` for a continuation whose revision is compacted, carrying in
/// `metadata.continue` a token that continues from the same key at the current revision.
pub fn expired_continue(start_key: &str, prefix: &str) -> ApiError {
    let mut status = Status::failure(410, REASON_EXPIRED, INCONSISTENT_CONTINUE_MESSAGE);
    if let Some(rest) = start_key.strip_prefix(prefix).filter(|r| !r.is_empty()) {
        status.metadata.continue_ = ContinueToken {
            revision: None,
            start: rest.to_owned(),
        }
        .encode();
    }
    ApiError::from_status(status)
}

/// 504 `Timeout` for a read at a revision the store has not reached (Kubernetes'
/// `NewTooLargeResourceVersionError`).
pub fn too_large_resource_version(requested: Revision, current: Revision) -> ApiError {
    let mut status = Status::failure(
        504,
        REASON_TIMEOUT,
        format!("Timeout: Too large resource version: {requested}, current: {current}"),
    );
    status.details = Some(StatusDetails {
        causes: vec![StatusCause {
            reason: CAUSE_RESOURCE_VERSION_TOO_LARGE.into(),
            message: "Too large resource version".into(),
            field: String::new(),
        }],
        retry_after_seconds: Some(1),
        ..StatusDetails::default()
    });
    ApiError::from_status(status)
}

#[cfg(test)]
#[path = "paging_tests.rs"]
mod tests;
