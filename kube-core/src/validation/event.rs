//! Event validation.

use super::meta::{validate_object_meta, validate_object_meta_update, NameRule};
use super::{FieldError, FieldErrors, Validate};
use crate::event::Event;

/// Longest event reason.
const MAX_REASON_LEN: usize = 128;
/// Event types.
const EVENT_TYPES: &[&str] = &["Normal", "Warning"];

impl Validate for Event {
    /// Besides metadata: `involvedObject.namespace`, when set, must equal the event's
    /// namespace; the reason is at most 128 bytes; the type is `Normal` or `Warning` if set.
    fn validate(&self) -> FieldErrors {
        let mut errs = Vec::new();
        validate_object_meta(&self.metadata, NameRule::Dns1123Subdomain, &mut errs);
        let involved_ns = &self.involved_object.namespace;
        if !involved_ns.is_empty() && *involved_ns != self.metadata.namespace {
            errs.push(FieldError::invalid(
                "involvedObject.namespace",
                involved_ns,
                "does not match event.namespace",
            ));
        }
        if self.reason.len() > MAX_REASON_LEN {
            errs.push(FieldError::too_long("reason", &self.reason, MAX_REASON_LEN));
        }
        if !self.type_.is_empty() && !EVENT_TYPES.contains(&self.type_.as_str()) {
            errs.push(FieldError::not_supported("type", &self.type_, EVENT_TYPES));
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
    use super::super::testutil::{check_create, check_update, Case};
    use super::*;
    use crate::meta::{ObjectMeta, ObjectReference};

    const REQ: &str = "FieldValueRequired";
    const INV: &str = "FieldValueInvalid";
    const UNS: &str = "FieldValueNotSupported";
    const LONG: &str = "FieldValueTooLong";

    fn valid_event() -> Event {
        Event {
            metadata: ObjectMeta {
                name: "redis.17a2b3c4d5e6f708".into(),
                namespace: "default".into(),
                uid: "uid-1".into(),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                kind: "Pod".into(),
                namespace: "default".into(),
                name: "redis".into(),
                ..ObjectReference::default()
            },
            reason: "Scheduled".into(),
            message: "Successfully assigned default/redis to node-1".into(),
            count: 1,
            type_: "Normal".into(),
            ..Event::default()
        }
    }

    #[test]
    fn event_create_cases() {
        let cases: &[Case<Event>] = &[
            (
                "about a cluster-scoped object",
                |e| {
                    e.involved_object.kind = "Node".into();
                    e.involved_object.namespace.clear();
                },
                &[],
            ),
            (
                "no reason, message or type",
                |e| {
                    e.reason.clear();
                    e.message.clear();
                    e.type_.clear();
                },
                &[],
            ),
            (
                "no name",
                |e| e.metadata.name.clear(),
                &[("metadata.name", REQ)],
            ),
            (
                "bad name",
                |e| e.metadata.name = "Redis Event".into(),
                &[("metadata.name", INV)],
            ),
            (
                "namespace mismatch",
                |e| e.involved_object.namespace = "other".into(),
                &[("involvedObject.namespace", INV)],
            ),
            (
                "reason too long",
                |e| e.reason = "R".repeat(129),
                &[("reason", LONG)],
            ),
            ("reason of 128 bytes", |e| e.reason = "R".repeat(128), &[]),
            (
                "unsupported type",
                |e| e.type_ = "Error".into(),
                &[("type", UNS)],
            ),
            (
                "many errors at once",
                |e| {
                    e.metadata.namespace = "Bad_NS".into();
                    e.reason = "x".repeat(500);
                    e.type_ = "Fatal".into();
                },
                &[
                    ("metadata.namespace", INV),
                    ("involvedObject.namespace", INV),
                    ("reason", LONG),
                    ("type", UNS),
                ],
            ),
        ];
        check_create(&valid_event(), cases);
    }

    #[test]
    fn event_update_cases() {
        let cases: &[Case<Event>] = &[
            ("bump count", |e| e.count = 2, &[]),
            (
                "rename",
                |e| e.metadata.name = "other".into(),
                &[("metadata.name", INV)],
            ),
        ];
        check_update(&valid_event(), cases);
    }
}
