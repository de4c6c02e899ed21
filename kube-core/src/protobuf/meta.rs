//! Schema tables of apimachinery's `meta/v1` messages (field numbers from
//! `k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto`).

use super::schema::{many, one, Kind, Message};

/// `ObjectMeta`.
pub static OBJECT_META: Message = Message {
    name: "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    fields: &[
        one(1, "name", Kind::String),
        one(2, "generateName", Kind::String),
        one(3, "namespace", Kind::String),
        one(4, "selfLink", Kind::String),
        one(5, "uid", Kind::String),
        one(6, "resourceVersion", Kind::String),
        one(7, "generation", Kind::Int64),
        one(8, "creationTimestamp", Kind::Time),
        one(9, "deletionTimestamp", Kind::Time),
        one(10, "deletionGracePeriodSeconds", Kind::Int64),
        one(11, "labels", Kind::StringMap),
        one(12, "annotations", Kind::StringMap),
        many(13, "ownerReferences", Kind::Message(&OWNER_REFERENCE)),
        many(14, "finalizers", Kind::String),
        many(17, "managedFields", Kind::Message(&MANAGED_FIELDS_ENTRY)),
    ],
};

/// `OwnerReference`.
pub static OWNER_REFERENCE: Message = Message {
    name: "k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference",
    fields: &[
        one(5, "apiVersion", Kind::String),
        one(1, "kind", Kind::String),
        one(3, "name", Kind::String),
        one(4, "uid", Kind::String),
        one(6, "controller", Kind::Bool),
        one(7, "blockOwnerDeletion", Kind::Bool),
    ],
};

/// `ManagedFieldsEntry` (its `fieldsV1` is JSON inside bytes).
pub static MANAGED_FIELDS_ENTRY: Message = Message {
    name: "k8s.io.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
    fields: &[
        one(1, "manager", Kind::String),
        one(2, "operation", Kind::String),
        one(3, "apiVersion", Kind::String),
        one(4, "time", Kind::Time),
        one(6, "fieldsType", Kind::String),
        one(7, "fieldsV1", Kind::RawJson),
        one(8, "subresource", Kind::String),
    ],
};

/// `DeleteOptions` (`orphanDependents` and `dryRun` are mapped so the JSON path judges them).
pub static DELETE_OPTIONS: Message = Message {
    name: "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    fields: &[
        one(1, "gracePeriodSeconds", Kind::Int64),
        one(2, "preconditions", Kind::Message(&PRECONDITIONS)),
        one(3, "orphanDependents", Kind::Bool),
        one(4, "propagationPolicy", Kind::String),
        many(5, "dryRun", Kind::String),
    ],
};

/// `Preconditions`.
pub static PRECONDITIONS: Message = Message {
    name: "k8s.io.apimachinery.pkg.apis.meta.v1.Preconditions",
    fields: &[
        one(1, "uid", Kind::String),
        one(2, "resourceVersion", Kind::String),
    ],
};
