//! [`InProcessClient`]: the API without HTTP, straight into the registry.
//!
//! Clients are generic over [`Object`], the registry over the server-side [`Strategy`]; each call
//! dispatches on `T::RESOURCE` to the served kind and moves the value across with a downcast (free
//! when `T` is the served type, a JSON round trip for a user's own type of the same resource).

use super::watch::InProcessSource;
use super::{ApiClient, ClientWatch, ListParams};
use crate::registry::FieldManager;
use crate::registry::{ListOptions, Registry, RegistryWatch};
use kube_core::error::ApiError;
use kube_core::fields::FieldSelector;
use kube_core::labels::Selector;
use kube_core::list::List;
use kube_core::paging::PagingParams;
use kube_core::store::Revision;
use kube_core::strategy::Strategy;
use kube_core::watch::WatchEvent;
use kube_core::{with_resource_type, Binding, DeleteOptions, Namespace, Object, Scale};
use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

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

/// Moves a value of one object type into another of the same resource.
fn cast<A: Object, B: Object>(a: A) -> Result<B, ApiError> {
    let boxed: Box<dyn Any> = Box::new(a);
    match boxed.downcast::<B>() {
        Ok(b) => Ok(*b),
        Err(boxed) => {
            let a = boxed
                .downcast::<A>()
                .map_err(|_| ApiError::Internal("object cast lost its value".into()))?;
            serde_json::to_value(&*a)
                .and_then(serde_json::from_value)
                .map_err(|e| {
                    ApiError::Internal(format!(
                        "{} cannot be read as the served {}: {e}",
                        std::any::type_name::<A>(),
                        A::RESOURCE.info().kind
                    ))
                })
        }
    }
}

impl InProcessClient {
    async fn list_as<U: Strategy, T: Object>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
        paging: &PagingParams,
    ) -> Result<List<T>, ApiError> {
        let list: List<U> = self
            .registry
            .list_page(namespace, &options(params)?, paging)
            .await?;
        Ok(List {
            api_version: list.api_version,
            kind: list.kind,
            metadata: list.metadata,
            items: list.items.into_iter().map(cast).collect::<Result<_, _>>()?,
        })
    }

    async fn get_as<U: Strategy, T: Object>(&self, ns: &str, name: &str) -> Result<T, ApiError> {
        cast(self.registry.get::<U>(ns, name).await?)
    }

    async fn create_as<U: Strategy, T: Object>(&self, ns: &str, obj: &T) -> Result<T, ApiError> {
        let u: U = cast(obj.clone())?;
        cast(self.registry.create(ns, u).await?)
    }

    async fn update_as<U: Strategy, T: Object>(&self, ns: &str, obj: &T) -> Result<T, ApiError> {
        let u: U = cast(obj.clone())?;
        cast(self.registry.update(ns, &obj.meta().name, u).await?)
    }

    async fn update_status_as<U: Strategy, T: Object>(
        &self,
        ns: &str,
        obj: &T,
    ) -> Result<T, ApiError> {
        let u: U = cast(obj.clone())?;
        cast(self.registry.update_status(ns, &obj.meta().name, u).await?)
    }

    async fn delete_as<U: Strategy, T: Object>(
        &self,
        ns: &str,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<T, ApiError> {
        cast(self.registry.delete_with::<U>(ns, name, options).await?)
    }

    async fn watch_as<U: Strategy, T: Object>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
        resource_version: Revision,
    ) -> Result<ClientWatch<T>, ApiError> {
        let w: RegistryWatch<U> = self
            .registry
            .watch(namespace, options(params)?, Some(resource_version))
            .await?;
        Ok(ClientWatch::in_process(Box::new(Casting::<U, T> {
            watch: w,
            _to: PhantomData,
        })))
    }
}

/// A registry watch of the served type `U`, read as `T`.
struct Casting<U, T> {
    watch: RegistryWatch<U>,
    _to: PhantomData<fn() -> T>,
}

impl<U: Strategy, T: Object> InProcessSource<T> for Casting<U, T> {
    fn next(
        &mut self,
    ) -> Pin<Box<dyn Future<Output = Option<Result<WatchEvent<T>, ApiError>>> + Send + '_>> {
        Box::pin(async move {
            Some(match self.watch.next().await? {
                Ok(ev) => cast(ev.object).map(|object| WatchEvent {
                    type_: ev.type_,
                    object,
                }),
                Err(e) => Err(e),
            })
        })
    }
}

impl ApiClient for InProcessClient {
    async fn list<T: Object>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
    ) -> Result<List<T>, ApiError> {
        let paging = PagingParams::default();
        with_resource_type!(T::RESOURCE, U => self.list_as::<U, T>(namespace, params, &paging).await)
    }

    async fn list_page<T: Object>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
        limit: u64,
        continue_token: &str,
    ) -> Result<List<T>, ApiError> {
        let paging = PagingParams {
            limit,
            continue_token: continue_token.to_owned(),
            ..PagingParams::default()
        };
        with_resource_type!(T::RESOURCE, U => self.list_as::<U, T>(namespace, params, &paging).await)
    }

    async fn get<T: Object>(&self, namespace: &str, name: &str) -> Result<T, ApiError> {
        with_resource_type!(T::RESOURCE, U => self.get_as::<U, T>(namespace, name).await)
    }

    async fn create<T: Object>(&self, namespace: &str, obj: &T) -> Result<T, ApiError> {
        with_resource_type!(T::RESOURCE, U => self.create_as::<U, T>(namespace, obj).await)
    }

    async fn update<T: Object>(&self, namespace: &str, obj: &T) -> Result<T, ApiError> {
        with_resource_type!(T::RESOURCE, U => self.update_as::<U, T>(namespace, obj).await)
    }

    async fn update_status<T: Object>(&self, namespace: &str, obj: &T) -> Result<T, ApiError> {
        with_resource_type!(T::RESOURCE, U => self.update_status_as::<U, T>(namespace, obj).await)
    }

    async fn delete_with<T: Object>(
        &self,
        namespace: &str,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<T, ApiError> {
        with_resource_type!(T::RESOURCE, U => self.delete_as::<U, T>(namespace, name, options).await)
    }

    async fn watch<T: Object>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
        resource_version: Revision,
    ) -> Result<ClientWatch<T>, ApiError> {
        with_resource_type!(T::RESOURCE, U => self.watch_as::<U, T>(namespace, params, resource_version).await)
    }

    async fn bind(&self, namespace: &str, binding: &Binding) -> Result<(), ApiError> {
        self.registry.bind(namespace, binding).await.map(|_| ())
    }

    async fn get_scale(&self, namespace: &str, name: &str) -> Result<Scale, ApiError> {
        self.registry.get_scale(namespace, name).await
    }

    async fn update_scale(
        &self,
        namespace: &str,
        name: &str,
        scale: &Scale,
    ) -> Result<Scale, ApiError> {
        self.registry.update_scale(namespace, name, scale).await
    }

    async fn finalize_namespace(&self, ns: &Namespace) -> Result<Namespace, ApiError> {
        let name = ns.metadata.name.clone();
        self.registry
            .finalize_namespace(&name, ns.clone(), FieldManager::Unrecorded)
            .await
    }
}
