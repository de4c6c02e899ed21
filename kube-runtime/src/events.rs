//! Recording events: fire-and-forget creation of `Event` objects about other objects.

use crate::client::ApiClient;
use kube_core::meta::ObjectReference;
use kube_core::{Event, Object};
use std::time::{SystemTime, UNIX_EPOCH};

/// Event type `Normal`.
pub const NORMAL: &str = "Normal";
/// Event type `Warning`.
pub const WARNING: &str = "Warning";

/// Creates events in the background on behalf of one component.
#[derive(Clone)]
pub struct EventRecorder<C> {
    client: C,
    component: String,
}

impl<C: ApiClient> EventRecorder<C> {
    /// A recorder reporting as `component` (e.g. `scheduler`).
    pub fn new(client: C, component: impl Into<String>) -> EventRecorder<C> {
        EventRecorder {
            client,
            component: component.into(),
        }
    }

    /// Builds the event without sending it.
    pub fn event_for<T: Object>(&self, obj: &T, type_: &str, reason: &str, message: &str) -> Event {
        let m = obj.meta();
        let now = kube_core::time::format_rfc3339(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        );
        let mut ev = Event {
            involved_object: ObjectReference {
                kind: T::RESOURCE.info().kind.to_string(),
                namespace: m.namespace.clone(),
                name: m.name.clone(),
                uid: m.uid.clone(),
                api_version: "v1".to_string(),
                resource_version: m.resource_version.clone(),
                field_path: String::new(),
            },
            reason: reason.to_string(),
            message: message.to_string(),
            first_timestamp: now.clone(),
            last_timestamp: now,
            count: 1,
            type_: type_.to_string(),
            ..Event::default()
        };
        ev.source.component = self.component.clone();
        // Names must be DNS subdomains; object names may carry upper case (v1beta1 ids).
        ev.metadata.generate_name = format!("{}.", m.name.to_ascii_lowercase());
        ev.metadata.namespace = m.namespace.clone();
        ev
    }

    /// Records an event about `obj` in the background; failures are logged, never fatal.
    pub fn record<T: Object>(&self, obj: &T, type_: &str, reason: &str, message: &str) {
        let ev = self.event_for(obj, type_, reason, message);
        let client = self.client.clone();
        tokio::spawn(async move {
            let ns = if ev.metadata.namespace.is_empty() {
                "default".to_string()
            } else {
                ev.metadata.namespace.clone()
            };
            if let Err(e) = client.create(&ns, &ev).await {
                tracing::debug!("recording event {}: {e}", ev.reason);
            }
        });
    }
}
