//! API clients: one [`ApiClient`] trait, two implementations.
//!
//! [`InProcessClient`] calls the registry directly (embedding, tests, all-in-one);
//! [`HttpClient`] speaks to an API server over HTTP/1.1 (separate processes). Components
//! are generic over the trait, so both deployments run the same code paths.

mod http;
mod in_process;
pub(crate) mod watch;

pub use self::http::{encode_component, resource_path, ClientError, HttpClient, HttpClientConfig};
pub use self::in_process::InProcessClient;
pub use self::watch::{
    decode_line, decode_watch_line, ClientWatch, WatchLine, MAX_WATCH_LINE_BYTES,
};

use kube_core::error::ApiError;
use kube_core::list::List;
use kube_core::store::Revision;
use kube_core::Binding;
use kube_core::DeleteOptions;
use kube_core::Object;
use kube_core::{Namespace, ReplicationController, Scale};
use std::future::Future;

/// Selectors of list and watch calls, as strings (`labelSelector`, `fieldSelector`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ListParams {
    /// Label selector, e.g. `app=web`.
    pub label_selector: String,
    /// Field selector, e.g. `spec.nodeName=`.
    pub field_selector: String,
}

impl ListParams {
    /// Parameters with a field selector.
    pub fn fields(selector: impl Into<String>) -> ListParams {
        ListParams {
            field_selector: selector.into(),
            ..ListParams::default()
        }
    }

    /// Parameters with a label selector.
    pub fn labels(selector: impl Into<String>) -> ListParams {
        ListParams {
            label_selector: selector.into(),
            ..ListParams::default()
        }
    }
}

/// Typed access to the API, the same for every transport.
pub trait ApiClient: Clone + Send + Sync + 'static {
    /// Lists objects in `namespace` (all namespaces when `None`).
    fn list<T: Object>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
    ) -> impl Future<Output = Result<List<T>, ApiError>> + Send;
    /// One page of a list: at most `limit` objects (0: all), continuing after the page whose
    /// `metadata.continue` is `continue_token` (empty: the first page). Every page of one walk
    /// is read at the first page's revision; an expired token answers 410 `Expired`. The
    /// default, for clients that cannot page, answers the whole list as one page.
    fn list_page<T: Object>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
        limit: u64,
        continue_token: &str,
    ) -> impl Future<Output = Result<List<T>, ApiError>> + Send {
        let _ = limit;
        async move {
            if !continue_token.is_empty() {
                return Err(ApiError::BadRequest(
                    "this client does not page lists: no continue token is valid".into(),
                ));
            }
            self.list(namespace, params).await
        }
    }
    /// The whole list, read in pages of `limit` (client-go's pager): one consistent list at
    /// the first page's revision; when a later page's token has expired, one full list
    /// instead (client-go's `FullListIfExpired`).
    fn list_paged<T: Object>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
        limit: u64,
    ) -> impl Future<Output = Result<List<T>, ApiError>> + Send {
        async move {
            let mut list: List<T> = self.list_page(namespace, params, limit, "").await?;
            while !list.metadata.continue_.is_empty() {
                let token = std::mem::take(&mut list.metadata.continue_);
                match self.list_page::<T>(namespace, params, limit, &token).await {
                    Ok(page) => {
                        list.items.extend(page.items);
                        list.metadata.continue_ = page.metadata.continue_;
                    }
                    Err(e) if e.is_gone() => return self.list(namespace, params).await,
                    Err(e) => return Err(e),
                }
            }
            list.metadata.remaining_item_count = None;
            Ok(list)
        }
    }
    /// Reads one object.
    fn get<T: Object>(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<T, ApiError>> + Send;
    /// Creates an object.
    fn create<T: Object>(
        &self,
        namespace: &str,
        obj: &T,
    ) -> impl Future<Output = Result<T, ApiError>> + Send;
    /// Replaces an object (compare-and-swap on its `resourceVersion` when set).
    fn update<T: Object>(
        &self,
        namespace: &str,
        obj: &T,
    ) -> impl Future<Output = Result<T, ApiError>> + Send;
    /// Replaces the status of an object.
    fn update_status<T: Object>(
        &self,
        namespace: &str,
        obj: &T,
    ) -> impl Future<Output = Result<T, ApiError>> + Send;
    /// Deletes an object with default options: a bound pod is only marked for graceful
    /// deletion (and returned marked); other objects are removed (and returned as they were).
    fn delete<T: Object>(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<T, ApiError>> + Send {
        async move {
            self.delete_with(namespace, name, &DeleteOptions::default())
                .await
        }
    }
    /// Deletes an object with `options` (`DeleteOptions::immediate()` removes a pod at once).
    fn delete_with<T: Object>(
        &self,
        namespace: &str,
        name: &str,
        options: &DeleteOptions,
    ) -> impl Future<Output = Result<T, ApiError>> + Send;
    /// Watches changes after `resource_version` (0: current objects first, as ADDED).
    fn watch<T: Object>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
        resource_version: Revision,
    ) -> impl Future<Output = Result<ClientWatch<T>, ApiError>> + Send;
    /// Binds a pod to a node.
    fn bind(
        &self,
        namespace: &str,
        binding: &Binding,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// The scale (`autoscaling/v1` `Scale`) of the replication controller `namespace/name`.
    /// The default reads the controller; the server's clients read its `/scale` subresource.
    fn get_scale(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<Scale, ApiError>> + Send {
        async move {
            let rc: ReplicationController = self.get(namespace, name).await?;
            Ok(Scale::of_replication_controller(&rc))
        }
    }
    /// Sets the replicas of the replication controller `namespace/name` to
    /// `scale.spec.replicas` (compare-and-swap on the scale's `resourceVersion` when set) and
    /// returns the new scale. The default is an update of the controller read at once (a race
    /// answers 409); the server's clients write the `/scale` subresource, which retries
    /// unpinned writes on conflict.
    fn update_scale(
        &self,
        namespace: &str,
        name: &str,
        scale: &Scale,
    ) -> impl Future<Output = Result<Scale, ApiError>> + Send {
        async move {
            let mut rc: ReplicationController = self.get(namespace, name).await?;
            if !scale.metadata.resource_version.is_empty() {
                rc.metadata.resource_version = scale.metadata.resource_version.clone();
            }
            scale.apply_to(&mut rc);
            let rc = self.update(namespace, &rc).await?;
            Ok(Scale::of_replication_controller(&rc))
        }
    }
    /// Writes the `spec.finalizers` of namespace `ns` (its `/finalize` subresource; a plain
    /// update keeps them). The default is a plain update, for clients without the subresource.
    fn finalize_namespace(
        &self,
        ns: &Namespace,
    ) -> impl Future<Output = Result<Namespace, ApiError>> + Send {
        self.update("", ns)
    }
}
