//! Query parameters of resource requests, parsed and validated once per request: a bad value
//! of any parameter the server knows answers 400 with a Status naming the parameter, whether
//! the request uses it or not. Unknown parameters are ignored, as in Kubernetes.

use super::decode::{bad_field, propagation_policy, FieldValidation};
use super::router::Version;
use crate::registry::ListOptions;
use kube_core::deletion::PropagationPolicy;
use kube_core::error::ApiError;
use kube_core::fields::FieldSelector;
use kube_core::labels::Selector;
use kube_core::paging::{PagingParams, ResourceVersionMatch};
use kube_core::store::Revision;
use kube_core::table::IncludeObject;
use std::collections::HashMap;
use std::time::Duration;

/// Boolean parameters (`true`/`false`/`1`/`0`, any case; empty means true, as in Kubernetes).
const BOOLEANS: [&str; 5] = [
    "watch",
    "pretty",
    "allowWatchBookmarks",
    "orphanDependents",
    "sendInitialEvents",
];

/// Non-negative integer parameters the server accepts.
const COUNTS: [&str; 3] = ["timeoutSeconds", "limit", "gracePeriodSeconds"];

/// Parameters with a fixed set of values.
const ENUMS: [(&str, &[&str]); 3] = [
    ("dryRun", &["All"]),
    ("includeObject", &IncludeObject::VALUES),
    ("propagationPolicy", &["Orphan", "Background", "Foreground"]),
];

/// The validated parameters of one resource request.
#[derive(Debug, Default)]
pub struct Params {
    /// `watch` (turns a list into a watch).
    pub watch: bool,
    /// `resourceVersion`: a store revision, or `None` when absent or empty.
    pub resource_version: Option<Revision>,
    /// `timeoutSeconds` (watch).
    pub timeout: Option<Duration>,
    /// `limit` (lists: at most this many items per page).
    pub limit: Option<u64>,
    /// `continue` (lists: the token of the next page), empty when absent.
    pub continue_token: String,
    /// `resourceVersionMatch` (lists; refused on watches).
    pub resource_version_match: Option<ResourceVersionMatch>,
    /// `gracePeriodSeconds` (deletes; a DELETE body's `DeleteOptions` takes precedence).
    pub grace_period_seconds: Option<u64>,
    /// `propagationPolicy`, or the deprecated `orphanDependents` as a policy (deletes; a
    /// DELETE body's `DeleteOptions` takes precedence).
    pub propagation_policy: Option<PropagationPolicy>,
    /// Label and field selectors (`labelSelector`/`fieldSelector`; v1beta1 `labels`/`fields`).
    pub list: ListOptions,
    /// v1beta1 `namespace`, when non-empty.
    pub namespace: Option<String>,
    /// `dryRun=All`: the write is decoded, defaulted, validated and answered, never stored.
    pub dry_run: bool,
    /// `fieldManager`, when non-empty (validated; recorded in `metadata.managedFields`).
    pub field_manager: Option<String>,
    /// `allowWatchBookmarks` (watch): send `BOOKMARK` events periodically.
    pub allow_watch_bookmarks: bool,
    /// `includeObject` (Table responses): what each row carries; `Metadata` by default.
    pub include_object: IncludeObject,
    /// `fieldValidation` (create, update, patch): when absent or empty, `Warn` on v1 (as in
    /// current Kubernetes) and `Ignore` on v1beta1 (as that API always behaved).
    pub field_validation: FieldValidation,
}

impl Params {
    /// Parses and validates every known parameter of `query` for a request in `version`.
    pub fn parse(query: &HashMap<String, String>, version: Version) -> Result<Params, ApiError> {
        for name in BOOLEANS {
            if let Some(v) = query.get(name) {
                parse_bool(name, v)?;
            }
        }
        for (name, allowed) in ENUMS {
            if let Some(v) = query.get(name) {
                if !allowed.contains(&v.as_str()) {
                    return Err(bad_field(
                        name,
                        format!("invalid value {v:?}: must be one of {}", allowed.join(", ")),
                    ));
                }
            }
        }
        let count = |name: &str| query.get(name).map(|v| parse_count(name, v)).transpose();
        let watch = match query.get("watch") {
            Some(v) => parse_bool("watch", v)?,
            None => false,
        };
        let timeout = count(COUNTS[0])?.map(Duration::from_secs);
        let limit = count(COUNTS[1])?;
        let grace_period_seconds = count(COUNTS[2])?;
        let orphan = match query.get("orphanDependents") {
            Some(v) => Some(parse_bool("orphanDependents", v)?),
            None => None,
        };
        let policy = query
            .get("propagationPolicy")
            .and_then(|p| PropagationPolicy::parse(p));
        let propagation_policy = propagation_policy(policy, orphan)?;
        let resource_version = match query.get("resourceVersion") {
            Some(v) => parse_resource_version(v)?,
            None => None,
        };
        let namespace = match (version, query.get("namespace")) {
            (Version::V1Beta1, Some(ns)) if !ns.is_empty() => Some(ns.clone()),
            _ => None,
        };
        let field_manager = match query.get("fieldManager") {
            Some(m) => Some(m.clone()).filter(|m| !m.is_empty()),
            None => None,
        };
        if let Some(m) = &field_manager {
            check_field_manager(m)?;
        }
        let allow_watch_bookmarks = match query.get("allowWatchBookmarks") {
            Some(v) => parse_bool("allowWatchBookmarks", v)?,
            None => false,
        };
        let field_validation = match query.get("fieldValidation") {
            None => FieldValidation::default_for(version),
            Some(v) if v.is_empty() => FieldValidation::default_for(version),
            Some(v) => FieldValidation::parse(v).ok_or_else(|| {
                bad_field(
                    "fieldValidation",
                    format!(
                        "invalid value {v:?}: must be one of {}",
                        FieldValidation::VALUES.join(", ")
                    ),
                )
            })?,
        };
        Ok(Params {
            field_validation,
            allow_watch_bookmarks,
            include_object: query
                .get("includeObject")
                .and_then(|v| IncludeObject::parse(v))
                .unwrap_or_default(),
            dry_run: query.get("dryRun").is_some_and(|v| v == "All"),
            field_manager,
            watch,
            resource_version,
            timeout,
            limit,
            continue_token: query.get("continue").cloned().unwrap_or_default(),
            resource_version_match: query
                .get("resourceVersionMatch")
                .and_then(|v| ResourceVersionMatch::parse(v)),
            grace_period_seconds,
            propagation_policy,
            list: list_options(query, version)?,
            namespace,
        })
    }
}

impl Params {
    /// The paging and revision parameters of a list.
    pub fn paging(&self) -> PagingParams {
        PagingParams {
            resource_version: self.resource_version,
            resource_version_match: self.resource_version_match.clone(),
            limit: self.limit.unwrap_or(0),
            continue_token: self.continue_token.clone(),
        }
    }
}

/// Longest `fieldManager` accepted (Kubernetes' limit, in bytes).
pub const MAX_FIELD_MANAGER_BYTES: usize = 128;

/// `fieldManager`, as Kubernetes validates it: at most 128 bytes, printable characters only
/// (no control characters and no whitespace other than the space).
pub fn check_field_manager(m: &str) -> Result<(), ApiError> {
    if m.len() > MAX_FIELD_MANAGER_BYTES {
        return Err(bad_field(
            "fieldManager",
            format!("Too long: must have at most {MAX_FIELD_MANAGER_BYTES} bytes"),
        ));
    }
    if m.chars()
        .any(|c| c.is_control() || (c.is_whitespace() && c != ' '))
    {
        return Err(bad_field(
            "fieldManager",
            format!("invalid value {m:?}: must only contain printable characters"),
        ));
    }
    Ok(())
}

/// A boolean parameter: `true`, `false`, `1`, `0` in any case, or empty (true).
pub fn parse_bool(name: &str, v: &str) -> Result<bool, ApiError> {
    match v.to_ascii_lowercase().as_str() {
        "" | "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(bad_field(
            name,
            format!("invalid value {v:?}: must be true or false"),
        )),
    }
}

/// A non-negative decimal integer parameter.
pub fn parse_count(name: &str, v: &str) -> Result<u64, ApiError> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_field(
            name,
            format!("invalid value {v:?}: must be a non-negative integer"),
        ));
    }
    v.parse::<u64>()
        .map_err(|_| bad_field(name, format!("invalid value {v:?}: out of range")))
}

/// `resourceVersion`: empty means unset; otherwise a decimal store revision.
pub fn parse_resource_version(v: &str) -> Result<Option<Revision>, ApiError> {
    if v.is_empty() {
        return Ok(None);
    }
    let bad = || {
        bad_field(
            "resourceVersion",
            format!("invalid value {v:?}: must be a decimal revision"),
        )
    };
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    v.parse::<Revision>().map(Some).map_err(|_| bad())
}

fn list_options(
    query: &HashMap<String, String>,
    version: Version,
) -> Result<ListOptions, ApiError> {
    let (labels_key, fields_key) = match version {
        Version::V1 => ("labelSelector", "fieldSelector"),
        Version::V1Beta1 => ("labels", "fields"),
    };
    let label_selector = match query.get(labels_key) {
        Some(s) => Selector::parse(s)
            .map_err(|e| bad_field(labels_key, format!("invalid value {s:?}: {e}")))?,
        None => Selector::everything(),
    };
    let field_selector = match query.get(fields_key) {
        Some(s) => {
            let s = match version {
                Version::V1 => s.clone(),
                Version::V1Beta1 => v1beta1_field_names(s),
            };
            FieldSelector::parse(&s)
                .map_err(|e| bad_field(fields_key, format!("invalid value {s:?}: {e}")))?
        }
        None => FieldSelector::default(),
    };
    Ok(ListOptions {
        label_selector,
        field_selector,
    })
}

/// Maps the seed's field names (`ID`, `DesiredState.Host`) to v1 field paths.
fn v1beta1_field_names(s: &str) -> String {
    s.replace("DesiredState.Host", "spec.nodeName")
        .split(',')
        .map(|term| match term.strip_prefix("ID") {
            Some(rest) if rest.starts_with(['=', '!']) => format!("metadata.name{rest}"),
            _ => term.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The parameter a refusal names.
    fn named(e: &ApiError) -> String {
        let st = e.to_status();
        assert_eq!((st.code, st.reason.as_str()), (400, "BadRequest"));
        st.details
            .and_then(|d| d.causes.first().map(|c| c.field.clone()))
            .unwrap_or_default()
    }

    #[test]
    fn bad_values_are_refused_naming_the_parameter() {
        let cases = [
            ("resourceVersion", "abc"),
            ("resourceVersion", "-1"),
            ("resourceVersion", "1.5"),
            ("resourceVersion", "+1"),
            ("resourceVersion", " 1"),
            ("resourceVersion", "99999999999999999999999"),
            ("resourceVersion", "1\0"),
            ("timeoutSeconds", "-5"),
            ("timeoutSeconds", "1s"),
            ("timeoutSeconds", ""),
            ("limit", "ten"),
            ("limit", "18446744073709551616"),
            ("gracePeriodSeconds", "-1"),
            ("watch", "yes"),
            ("watch", "2"),
            ("pretty", "maybe"),
            ("allowWatchBookmarks", "on"),
            ("dryRun", "Some"),
            ("propagationPolicy", "Now"),
            ("includeObject", "object"),
            ("labelSelector", "a in ("),
            ("fieldSelector", "=="),
            ("dryRun", "all"),
            ("dryRun", ""),
            ("fieldManager", "tab\there"),
            ("fieldManager", "nul\0"),
            ("fieldManager", "nbsp\u{a0}"),
            ("fieldManager", &"m".repeat(129)),
            ("fieldValidation", "strict"),
            ("fieldValidation", "Error"),
        ];
        for (name, value) in cases {
            let err = Params::parse(&query(&[(name, value)]), Version::V1)
                .expect_err(&format!("{name}={value:?}"));
            assert_eq!(named(&err), name, "{name}={value:?}");
        }
        let err = Params::parse(&query(&[("labels", "a in (")]), Version::V1Beta1)
            .expect_err("v1beta1 labels");
        assert_eq!(named(&err), "labels");
    }

    #[test]
    fn good_values_parse() {
        let p = Params::parse(
            &query(&[
                ("watch", "1"),
                ("resourceVersion", "42"),
                ("timeoutSeconds", "30"),
                ("limit", "500"),
                ("gracePeriodSeconds", "0"),
                ("pretty", "TRUE"),
                ("dryRun", "All"),
                ("includeObject", "None"),
                ("labelSelector", "app=web"),
                ("unknown", "anything"),
            ]),
            Version::V1,
        )
        .expect("valid");
        assert!(p.watch && p.dry_run);
        assert_eq!(p.include_object, IncludeObject::None);
        assert!(!p.allow_watch_bookmarks);
        let b =
            Params::parse(&query(&[("allowWatchBookmarks", "true")]), Version::V1).expect("valid");
        assert!(b.allow_watch_bookmarks);
        assert_eq!(p.field_manager, None);
        assert_eq!(p.resource_version, Some(42));
        assert_eq!(p.timeout, Some(Duration::from_secs(30)));
        assert_eq!((p.limit, p.grace_period_seconds), (Some(500), Some(0)));
        assert!(!p.list.label_selector.is_empty());
        let p = Params::parse(
            &query(&[("resourceVersion", ""), ("watch", "false")]),
            Version::V1,
        )
        .expect("valid");
        assert_eq!((p.watch, p.resource_version), (false, None));
        assert!(!p.dry_run);
        for m in [
            "kubectl-client-side-apply",
            "my manager/1.0 ✓",
            &"m".repeat(128),
            "",
        ] {
            let p = Params::parse(&query(&[("fieldManager", m)]), Version::V1).expect(m);
            assert_eq!(
                p.field_manager.as_deref(),
                Some(m).filter(|m| !m.is_empty())
            );
        }
        let p = Params::parse(&query(&[("namespace", "ns1")]), Version::V1Beta1).expect("valid");
        assert_eq!(p.namespace.as_deref(), Some("ns1"));
    }

    #[test]
    fn list_paging_parameters_parse() {
        let p = Params::parse(
            &query(&[
                ("limit", "500"),
                ("continue", "abc"),
                ("resourceVersion", "7"),
                ("resourceVersionMatch", "Exact"),
            ]),
            Version::V1,
        )
        .expect("valid");
        let want = PagingParams {
            resource_version: Some(7),
            resource_version_match: Some(ResourceVersionMatch::Exact),
            limit: 500,
            continue_token: "abc".into(),
        };
        assert_eq!(p.paging(), want);
        let p = Params::parse(&query(&[]), Version::V1).expect("valid");
        assert_eq!(p.paging(), PagingParams::default());
    }

    #[test]
    fn field_validation_defaults_to_warn_on_v1_and_ignore_on_v1beta1() {
        use FieldValidation::*;
        let cases = [
            (None, Version::V1, Warn),
            (Some(""), Version::V1, Warn),
            (Some("Warn"), Version::V1, Warn),
            (Some("Strict"), Version::V1, Strict),
            (Some("Ignore"), Version::V1, Ignore),
            (None, Version::V1Beta1, Ignore),
            (Some(""), Version::V1Beta1, Ignore),
            (Some("Warn"), Version::V1Beta1, Warn),
            (Some("Strict"), Version::V1Beta1, Strict),
            (Some("Ignore"), Version::V1Beta1, Ignore),
        ];
        for (v, version, want) in cases {
            let q = v
                .map(|v| ("fieldValidation", v))
                .into_iter()
                .collect::<Vec<_>>();
            let p = Params::parse(&query(&q), version).expect("valid");
            assert_eq!(p.field_validation, want, "{v:?} {version:?}");
        }
    }

    #[test]
    fn propagation_comes_from_the_policy_or_orphan_dependents() {
        use PropagationPolicy::*;
        /// (query, policy, or the status code of the refusal)
        type Case = (
            &'static [(&'static str, &'static str)],
            Result<Option<PropagationPolicy>, u16>,
        );
        let cases: [Case; 9] = [
            (&[], Ok(None)),
            (&[("propagationPolicy", "Orphan")], Ok(Some(Orphan))),
            (&[("propagationPolicy", "Background")], Ok(Some(Background))),
            (&[("propagationPolicy", "Foreground")], Ok(Some(Foreground))),
            (&[("propagationPolicy", "orphan")], Err(400)),
            (&[("orphanDependents", "true")], Ok(Some(Orphan))),
            (&[("orphanDependents", "false")], Ok(Some(Background))),
            (
                &[
                    ("orphanDependents", "true"),
                    ("propagationPolicy", "Orphan"),
                ],
                Err(422),
            ),
            (&[("orphanDependents", "maybe")], Err(400)),
        ];
        for (q, want) in cases {
            let got = Params::parse(&query(q), Version::V1)
                .map(|p| p.propagation_policy)
                .map_err(|e| e.to_status().code);
            assert_eq!(got, want, "{q:?}");
        }
    }

    #[test]
    fn seed_field_names_map_to_v1() {
        let cases = [
            ("DesiredState.Host=", "spec.nodeName="),
            ("DesiredState.Host!=", "spec.nodeName!="),
            ("ID=redis", "metadata.name=redis"),
            (
                "ID=a,DesiredState.Host=n1",
                "metadata.name=a,spec.nodeName=n1",
            ),
            ("IDX=1", "IDX=1"),
            ("metadata.name=x", "metadata.name=x"),
        ];
        for (input, want) in cases {
            assert_eq!(v1beta1_field_names(input), want, "{input}");
        }
    }
}
