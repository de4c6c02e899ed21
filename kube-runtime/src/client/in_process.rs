//! [`InProcessClient`]: the API without HTTP, straight into the registry.

use super::{ApiClient, ClientWatch, ListParams};
use crate::registry::{ListOptions, Registry};
use kube_core::error::ApiError;
use kube_core::fields::FieldSelector;
use kube_core::labels::Selector;
use kube_core::list::List;
use kube_core::store::Revision;
use kube_core::strategy::Strategy;
use kube_core::Binding;

/// A client that calls the registry in the same process.
#[derive(Clone)]
pub struct InProcessClient {
    registry: Registry,
}

impl InProcessClient {
    /// A client over `registry`.
    pub fn new(registry: Registry) -> InProcessClient {
        InProcessClient { registry }
    }

    /// The registry behind the client.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

fn options(params: &ListParams) -> Result<ListOptions, ApiError> {
    let label_selector = Selector::parse(&params.label_selector).map_err(|e| {
        ApiError::BadRequest(format!(
            "invalid label selector {:?}: {e}",
            params.label_selector
        ))
    })?;
    let field_selector = FieldSelector::parse(&params.field_selector).map_err(|e| {
        ApiError::BadRequest(format!(
            "invalid field selector {:?}: {e}",
            params.field_selector
        ))
    })?;
    Ok(ListOptions {
        label_selector,
        field_selector,
    })
}

impl ApiClient for InProcessClient {
    async fn list<T: Strategy>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
    ) -> Result<List<T>, ApiError> {
        self.registry.list(namespace, &options(params)?).await
    }

    async fn get<T: Strategy>(&self, namespace: &str, name: &str) -> Result<T, ApiError> {
        self.registry.get(namespace, name).await
    }

    async fn create<T: Strategy>(&self, namespace: &str, obj: &T) -> Result<T, ApiError> {
        self.registry.create(namespace, obj.clone()).await
    }

    async fn update<T: Strategy>(&self, namespace: &str, obj: &T) -> Result<T, ApiError> {
        self.registry
            .update(namespace, &obj.meta().name, obj.clone())
            .await
    }

    async fn update_status<T: Strategy>(&self, namespace: &str, obj: &T) -> Result<T, ApiError> {
        self.registry
            .update_status(namespace, &obj.meta().name, obj.clone())
            .await
    }

    async fn delete<T: Strategy>(&self, namespace: &str, name: &str) -> Result<T, ApiError> {
        self.registry.delete(namespace, name).await
    }

    async fn watch<T: Strategy>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
        resource_version: Revision,
    ) -> Result<ClientWatch<T>, ApiError> {
        let w = self
            .registry
            .watch(namespace, options(params)?, Some(resource_version))
            .await?;
        Ok(ClientWatch::in_process(w))
    }

    async fn bind(&self, namespace: &str, binding: &Binding) -> Result<(), ApiError> {
        self.registry.bind(namespace, binding).await.map(|_| ())
    }
}
