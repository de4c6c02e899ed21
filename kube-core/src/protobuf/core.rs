//! Schema tables of `core/v1` messages (field numbers from
//! `k8s.io/api/core/v1/generated.proto`), limited to the fields our types have.

use super::meta::OBJECT_META;
use super::schema::{many, one, Kind, Message};

/// `Namespace`.
pub static NAMESPACE: Message = Message {
    name: "k8s.io.api.core.v1.Namespace",
    fields: &[
        one(1, "metadata", Kind::Message(&OBJECT_META)),
        one(2, "spec", Kind::Message(&NAMESPACE_SPEC)),
        one(3, "status", Kind::Message(&NAMESPACE_STATUS)),
    ],
};

/// `NamespaceSpec`.
pub static NAMESPACE_SPEC: Message = Message {
    name: "k8s.io.api.core.v1.NamespaceSpec",
    fields: &[many(1, "finalizers", Kind::String)],
};

/// `NamespaceStatus`.
pub static NAMESPACE_STATUS: Message = Message {
    name: "k8s.io.api.core.v1.NamespaceStatus",
    fields: &[
        one(1, "phase", Kind::String),
        many(2, "conditions", Kind::Message(&NAMESPACE_CONDITION)),
    ],
};

/// `NamespaceCondition`.
pub static NAMESPACE_CONDITION: Message = Message {
    name: "k8s.io.api.core.v1.NamespaceCondition",
    fields: &[
        one(1, "type", Kind::String),
        one(2, "status", Kind::String),
        one(4, "lastTransitionTime", Kind::Time),
        one(5, "reason", Kind::String),
        one(6, "message", Kind::String),
    ],
};

/// `Service`.
pub static SERVICE: Message = Message {
    name: "k8s.io.api.core.v1.Service",
    fields: &[
        one(1, "metadata", Kind::Message(&OBJECT_META)),
        one(2, "spec", Kind::Message(&SERVICE_SPEC)),
        one(3, "status", Kind::Message(&SERVICE_STATUS)),
    ],
};

/// `ServiceSpec`.
pub static SERVICE_SPEC: Message = Message {
    name: "k8s.io.api.core.v1.ServiceSpec",
    fields: &[
        many(1, "ports", Kind::Message(&SERVICE_PORT)),
        one(2, "selector", Kind::StringMap),
        one(3, "clusterIP", Kind::String),
        one(4, "type", Kind::String),
        one(7, "sessionAffinity", Kind::String),
    ],
};

/// `ServicePort`.
pub static SERVICE_PORT: Message = Message {
    name: "k8s.io.api.core.v1.ServicePort",
    fields: &[
        one(1, "name", Kind::String),
        one(2, "protocol", Kind::String),
        one(3, "port", Kind::Int32),
        one(4, "targetPort", Kind::IntOrString),
    ],
};

/// `ServiceStatus` (our type has no fields yet: load balancer status is skipped).
pub static SERVICE_STATUS: Message = Message {
    name: "k8s.io.api.core.v1.ServiceStatus",
    fields: &[],
};
