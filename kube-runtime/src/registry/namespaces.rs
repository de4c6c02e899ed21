//! Namespace lifecycle (Kubernetes' `NamespaceLifecycle` admission and its system namespaces).
//!
//! With the lifecycle on (the API server's registry, `ApiServerConfig::namespace_lifecycle`),
//! creating a namespaced object needs its namespace: a missing one answers 404 NotFound for the
//! namespace (`namespaces "foo" not found`), a terminating one 403 Forbidden with the cause
//! `NamespaceTerminating`. Updates and deletes are not checked, so the content of a terminating
//! namespace can still finish (kubelets write pod status, finalizers are removed). One store
//! read per create; on the embedded and memory stores that is an in-memory lookup.
//!
//! Deleting `default`, `kube-system` or `kube-public` answers 403 Forbidden ("this namespace
//! may not be deleted"), as Kubernetes' admission does.
//!
//! `ensure_namespaces` creates the system namespaces that are missing (idempotent), which the
//! API server does at start-up on any store, fresh or not; a create in a system namespace that
//! is still missing (the store was down at start-up) creates it first.

use super::{decode, store_error, FieldManager, Registry};
use kube_core::error::ApiError;
use kube_core::namespace::{Namespace, IMMORTAL_NAMESPACES, SYSTEM_NAMESPACES};
use kube_core::status::StatusCause;
use kube_core::strategy::prepare_for_finalize;
use kube_core::{Object, ResourceKind};

/// `StatusCause.reason` of a create refused in a terminating namespace (Kubernetes'
/// `NamespaceTerminatingCause`).
pub const CAUSE_NAMESPACE_TERMINATING: &str = "NamespaceTerminating";

impl Registry {
    /// The same registry with the namespace lifecycle checks on or off (off by default: a bare
    /// registry is storage; the API server turns them on).
    pub fn with_namespace_lifecycle(mut self, on: bool) -> Registry {
        self.namespace_lifecycle = on;
        self
    }

    /// Whether creates check their namespace (see the module documentation).
    pub fn namespace_lifecycle(&self) -> bool {
        self.namespace_lifecycle
    }

    /// Refuses the create of `obj` (named `name`, possibly empty) in `namespace` when the
    /// lifecycle is on and the namespace is missing (404) or terminating (403).
    pub(super) async fn admit_create<T: Object>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        if !self.namespace_lifecycle || !T::RESOURCE.info().namespaced {
            return Ok(());
        }
        let plural = ResourceKind::Namespaces.info().plural;
        let not_found = || ApiError::NotFound {
            resource: plural.into(),
            name: namespace.into(),
        };
        if namespace.is_empty() {
            return Err(not_found());
        }
        let key = ResourceKind::Namespaces.key("", namespace);
        let kv = match self.store.get(&key).await {
            Ok(Some(kv)) => kv,
            // A system namespace always exists: one the start-up could not create yet (the
            // store was down) is created on first use, so `default` never answers 404.
            Ok(None) if SYSTEM_NAMESPACES.contains(&namespace) => {
                self.ensure_namespace(namespace).await?;
                return Ok(());
            }
            Ok(None) => return Err(not_found()),
            Err(e) => return Err(store_error(e, plural, namespace)),
        };
        let ns: Namespace = decode(&kv)?;
        if ns.is_terminating() {
            return Err(ApiError::Forbidden {
                resource: T::RESOURCE.info().plural.into(),
                name: name.into(),
                message: format!(
                    "unable to create new content in namespace {namespace} because it is being terminated"
                ),
                causes: vec![StatusCause {
                    reason: CAUSE_NAMESPACE_TERMINATING.into(),
                    message: format!("namespace {namespace} is being terminated"),
                    field: "metadata.namespace".into(),
                }],
            });
        }
        Ok(())
    }

    /// Refuses the delete of an immortal namespace (403) when the lifecycle is on.
    pub(super) fn admit_delete<T: Object>(&self, name: &str) -> Result<(), ApiError> {
        if self.namespace_lifecycle
            && T::RESOURCE == ResourceKind::Namespaces
            && IMMORTAL_NAMESPACES.contains(&name)
        {
            return Err(ApiError::Forbidden {
                resource: ResourceKind::Namespaces.info().plural.into(),
                name: name.into(),
                message: "this namespace may not be deleted".into(),
                causes: Vec::new(),
            });
        }
        Ok(())
    }

    /// A namespace's `/finalize` subresource: an update whose `spec.finalizers` come from `ns`
    /// (a plain update keeps the stored ones), validated and compare-and-swapped like any
    /// update; a terminating namespace left without finalizers is removed at once.
    pub async fn finalize_namespace(
        &self,
        name: &str,
        ns: Namespace,
        manager: FieldManager<'_>,
    ) -> Result<Namespace, ApiError> {
        self.update_prepared("", name, ns, manager, prepare_for_finalize)
            .await
    }

    /// Creates the system namespaces (`default`, `kube-system`, `kube-public`,
    /// `kube-node-lease`) that do not exist; existing ones are left as they are.
    pub async fn ensure_namespaces(&self) -> Result<(), ApiError> {
        for name in SYSTEM_NAMESPACES {
            self.ensure_namespace(name).await?;
        }
        Ok(())
    }

    /// Creates namespace `name` unless it exists.
    async fn ensure_namespace(&self, name: &str) -> Result<(), ApiError> {
        // Boxed: `create` admits through `admit_create`, which may call this (never for a
        // namespace, which is cluster-scoped, but the compiler cannot know).
        match Box::pin(self.create("", Namespace::named(name))).await {
            Ok(_) => {
                tracing::info!("created namespace {name}");
                Ok(())
            }
            Err(e) if e.is_already_exists() => Ok(()),
            Err(e) => Err(e),
        }
    }
}
