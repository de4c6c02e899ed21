//! The `/scale` subresource of replication controllers: read as an `autoscaling/v1` `Scale`,
//! written by changing only the controller's `spec.replicas` through the registry's
//! compare-and-swap update (defaulting, validation and generation included).

use super::{conflict, FieldManager, Registry, MAX_UPDATE_ATTEMPTS};
use kube_core::error::ApiError;
use kube_core::scale::{Scale, SCALE_KIND};
use kube_core::validation::Validate;
use kube_core::ReplicationController;

impl Registry {
    /// The scale of the replication controller `namespace/name` (404 when it does not exist).
    pub async fn get_scale(&self, namespace: &str, name: &str) -> Result<Scale, ApiError> {
        let rc: ReplicationController = self.get(namespace, name).await?;
        Ok(Scale::of_replication_controller(&rc))
    }

    /// Sets the replicas of the replication controller `namespace/name` to
    /// `scale.spec.replicas` and returns its new scale. A non-empty `resourceVersion` in
    /// `scale` must be the controller's current one (else 409); without one the change applies
    /// to the current object, retried when other writes race it. A negative count answers 422
    /// (kind `Scale`, cause `spec.replicas`); a name or namespace other than the URL's 400.
    pub async fn update_scale(
        &self,
        namespace: &str,
        name: &str,
        scale: &Scale,
    ) -> Result<Scale, ApiError> {
        self.update_scale_as(namespace, name, scale, FieldManager::Unrecorded)
            .await
    }

    /// [`Registry::update_scale`] recording `manager` as the writer of `spec.replicas` in the
    /// controller's `metadata.managedFields` (so a later apply of another count conflicts).
    pub async fn update_scale_as(
        &self,
        namespace: &str,
        name: &str,
        scale: &Scale,
        manager: FieldManager<'_>,
    ) -> Result<Scale, ApiError> {
        let meta = &scale.metadata;
        if !meta.name.is_empty() && meta.name != name {
            return Err(ApiError::BadRequest(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                meta.name
            )));
        }
        if !meta.namespace.is_empty() && meta.namespace != namespace {
            return Err(ApiError::BadRequest(format!(
                "the namespace of the provided object ({}) does not match the namespace sent on the request ({namespace})",
                meta.namespace
            )));
        }
        let pinned = !meta.resource_version.is_empty();
        for _ in 0..MAX_UPDATE_ATTEMPTS {
            // Read first: a missing controller is 404 whatever the scale says, as in Kubernetes.
            let mut rc: ReplicationController = self.get(namespace, name).await?;
            let errors = scale.validate();
            if !errors.is_empty() {
                return Err(ApiError::Invalid {
                    kind: SCALE_KIND.into(),
                    name: name.into(),
                    errors,
                });
            }
            if pinned {
                rc.metadata.resource_version = meta.resource_version.clone();
            }
            scale.apply_to(&mut rc);
            match self.update_as(namespace, name, rc, manager).await {
                Ok(updated) => return Ok(Scale::of_replication_controller(&updated)),
                Err(e) if e.is_conflict() && !pinned => continue,
                Err(e) => return Err(e),
            }
        }
        Err(conflict("replicationcontrollers", name))
    }
}
