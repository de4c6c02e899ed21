//! Recording events: fire-and-forget creation of `Event` objects about other objects.

use crate::client::ApiClient;
use crate::clock::Clock;
use kube_core::meta::ObjectReference;
use kube_core::{Event, Object};

/// Event type `Normal`.
pub const NORMAL: &str = "Normal";
/// Event type `Warning`.
pub const WARNING: &str = "Warning";

/// Creates events in the background on behalf of one component.
#[derive(Clone)]
pub struct EventRecorder<C> {
    client: C,
    component: String,
    clock: Clock,
}

impl<C: ApiClient> EventRecorder<C> {
    /// A recorder reporting as `component` (e.g. `scheduler`).
    pub fn new(client: C, component: impl Into<String>) -> EventRecorder<C> {
        EventRecorder::with_clock(client, component, Clock::real())
    }

    /// A recorder whose timestamps come from `clock`.
    pub fn with_clock(client: C, component: impl Into<String>, clock: Clock) -> EventRecorder<C> {
        EventRecorder {
            client,
            component: component.into(),
            clock,
        }
    }

    /// Builds the event without sending it.
    pub fn event_for<T: Object>(&self, obj: &T, type_: &str, reason: &str, message: &str) -> Event {
        let m = obj.meta();
        let now = self.clock.now().to_rfc3339();
        let mut ev = Event {
            involved_object: ObjectReference {
                kind: T::RESOURCE.info().kind.to_string(),
                namespace: m.namespace.clone(),
                name: m.name.clone(),
                uid: m.uid.clone(),
                api_version: T::RESOURCE.info().api_version.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::InProcessClient;
    use crate::registry::Registry;
    use crate::store::MemoryStore;
    use kube_core::time::Timestamp;
    use kube_core::{Lease, Pod};
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn events_are_stamped_by_the_injected_clock_and_name_their_object() {
        let start = Timestamp::parse("2014-10-30T15:57:02Z").unwrap();
        let clock = Clock::virtual_at(start);
        let client = InProcessClient::new(Registry::new(Arc::new(MemoryStore::new())));
        let rec = EventRecorder::with_clock(client, "test", clock.clone());
        tokio::time::advance(Duration::from_secs(90)).await;

        let mut pod = Pod::default();
        pod.metadata.name = "Web".into();
        pod.metadata.namespace = "ns".into();
        let ev = rec.event_for(&pod, WARNING, "Failed", "boom");
        assert_eq!(ev.first_timestamp, "2014-10-30T15:58:32Z");
        assert_eq!(ev.last_timestamp, ev.first_timestamp);
        assert_eq!(ev.involved_object.kind, "Pod");
        assert_eq!(ev.involved_object.api_version, "v1");
        assert_eq!(ev.metadata.generate_name, "web.");
        assert_eq!(ev.source.component, "test");

        let lease = Lease::default();
        let ev = rec.event_for(&lease, NORMAL, "Acquired", "");
        assert_eq!(ev.involved_object.api_version, "coordination.k8s.io/v1");
    }
}
