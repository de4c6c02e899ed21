//! [`RecordingClient`]: any [`ApiClient`], with every call recorded and errors injectable.
//!
//! Modeled on client-go's fake clientset: the calls ("actions") are recorded in order with their
//! verb, resource, namespace, name and (for writes) the object sent, and "reactors" make chosen
//! calls fail — per verb and resource, optionally per name, once, `n` times or always. A failed
//! call never reaches the wrapped client, so an injected `Create` error creates nothing.

use crate::client::{ApiClient, ClientWatch, ListParams};
use crate::informer::reflector::key_of;
use kube_core::error::ApiError;
use kube_core::list::List;
use kube_core::store::Revision;
use kube_core::{Binding, DeleteOptions, Namespace, Object, ResourceKind, Scale};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

/// The operation of a call, as in client-go's actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `list`
    List,
    /// `get`
    Get,
    /// `create`
    Create,
    /// `update`
    Update,
    /// `update` of the `status` subresource
    UpdateStatus,
    /// `delete`
    Delete,
    /// `watch`
    Watch,
    /// `create` of a pod's `binding` subresource
    Bind,
    /// `get` of a replication controller's `scale` subresource
    GetScale,
    /// `update` of a replication controller's `scale` subresource
    UpdateScale,
    /// `update` of a namespace's `finalize` subresource
    Finalize,
}

impl Verb {
    /// Whether the verb changes something.
    pub fn is_write(self) -> bool {
        !matches!(self, Verb::List | Verb::Get | Verb::Watch | Verb::GetScale)
    }

    /// The lower-case name used in summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::List => "list",
            Verb::Get => "get",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::UpdateStatus => "update-status",
            Verb::Delete => "delete",
            Verb::Watch => "watch",
            Verb::Bind => "bind",
            Verb::GetScale => "get-scale",
            Verb::UpdateScale => "update-scale",
            Verb::Finalize => "finalize",
        }
    }
}

/// One recorded call.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The operation.
    pub verb: Verb,
    /// The resource addressed.
    pub resource: ResourceKind,
    /// The namespace (empty: all namespaces, or a cluster-scoped resource).
    pub namespace: String,
    /// The object's name (empty for list and watch).
    pub name: String,
    /// The object sent, for writes (create, update, update-status, bind); for deletes, the
    /// `DeleteOptions` (e.g. `{"gracePeriodSeconds":0}`).
    pub object: Option<serde_json::Value>,
    /// The error the call returned (injected or from the wrapped client), once it has returned.
    pub error: Option<ApiError>,
}

impl fmt::Display for Call {
    /// `verb plural [namespace/name]`, e.g. `update pods default/web`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.verb.as_str(), self.resource.info().plural)?;
        let target = if self.name.is_empty() {
            self.namespace.clone()
        } else {
            key_of(&self.namespace, &self.name)
        };
        if !target.is_empty() {
            write!(f, " {target}")?;
        }
        Ok(())
    }
}

/// How many times a reactor fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Times {
    /// Every matching call fails.
    Always,
    /// The next `n` matching calls fail.
    Next(u32),
}

struct Reactor {
    verb: Verb,
    resource: ResourceKind,
    name: Option<String>,
    error: ApiError,
    times: Times,
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    reactors: Vec<Reactor>,
}

/// A client that records every call and can be told to fail some of them; clones share both.
#[derive(Clone)]
pub struct RecordingClient<C> {
    inner: C,
    state: Arc<Mutex<State>>,
}

impl<C: ApiClient> RecordingClient<C> {
    /// Wraps `inner`.
    pub fn new(inner: C) -> RecordingClient<C> {
        RecordingClient {
            inner,
            state: Arc::default(),
        }
    }

    /// The wrapped client (calls through it are not recorded).
    pub fn inner(&self) -> &C {
        &self.inner
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a log and a rule list: always consistent, so poisoning is ignored.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes every `verb` call on `resource` fail with `error`.
    pub fn fail_on(&self, verb: Verb, resource: ResourceKind, error: ApiError) {
        self.react(verb, resource, None, error, Times::Always);
    }

    /// Makes the next `verb` call on `resource` fail with `error`.
    pub fn fail_once(&self, verb: Verb, resource: ResourceKind, error: ApiError) {
        self.react(verb, resource, None, error, Times::Next(1));
    }

    /// Makes `verb` calls on `resource` fail with `error`: only those on the object `name`
    /// when given, `times` times. Reactors are tried in the order they were added.
    pub fn react(
        &self,
        verb: Verb,
        resource: ResourceKind,
        name: Option<&str>,
        error: ApiError,
        times: Times,
    ) {
        self.lock().reactors.push(Reactor {
            verb,
            resource,
            name: name.map(str::to_string),
            error,
            times,
        });
    }

    /// Removes every reactor: calls go through again.
    pub fn clear_failures(&self) {
        self.lock().reactors.clear();
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Every call so far, as `verb plural [namespace/name]` lines (see [`Call`]'s `Display`).
    pub fn summary(&self) -> Vec<String> {
        self.lock().calls.iter().map(Call::to_string).collect()
    }

    /// The writes so far (create, update, update-status, delete, bind), summarised.
    pub fn writes(&self) -> Vec<String> {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.verb.is_write())
            .map(Call::to_string)
            .collect()
    }

    /// How many `verb` calls on `resource` were made.
    pub fn count(&self, verb: Verb, resource: ResourceKind) -> usize {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.verb == verb && c.resource == resource)
            .count()
    }

    /// Returns the calls so far and forgets them.
    pub fn take_calls(&self) -> Vec<Call> {
        std::mem::take(&mut self.lock().calls)
    }

    /// Records a call; returns its index and the error to inject, if a reactor fires.
    fn begin(
        &self,
        verb: Verb,
        resource: ResourceKind,
        namespace: &str,
        name: &str,
        object: Option<serde_json::Value>,
    ) -> (usize, Option<ApiError>) {
        let mut st = self.lock();
        let mut injected = None;
        let mut spent = None;
        for (i, r) in st.reactors.iter_mut().enumerate() {
            let matches = r.verb == verb
                && r.resource == resource
                && r.name.as_deref().is_none_or(|n| n == name);
            if !matches {
                continue;
            }
            injected = Some(r.error.clone());
            if let Times::Next(n) = &mut r.times {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    spent = Some(i);
                }
            }
            break;
        }
        if let Some(i) = spent {
            st.reactors.remove(i);
        }
        st.calls.push(Call {
            verb,
            resource,
            namespace: namespace.to_string(),
            name: name.to_string(),
            object,
            error: injected.clone(),
        });
        (st.calls.len() - 1, injected)
    }

    /// Records the outcome of call `index` (unless the log was taken meanwhile).
    fn finish<T>(&self, index: usize, res: &Result<T, ApiError>) {
        if let Err(e) = res {
            if let Some(call) = self.lock().calls.get_mut(index) {
                call.error = Some(e.clone());
            }
        }
    }

    async fn call<T, F>(
        &self,
        verb: Verb,
        resource: ResourceKind,
        namespace: &str,
        name: &str,
        object: Option<serde_json::Value>,
        fut: F,
    ) -> Result<T, ApiError>
    where
        F: std::future::Future<Output = Result<T, ApiError>>,
    {
        let (index, injected) = self.begin(verb, resource, namespace, name, object);
        if let Some(e) = injected {
            return Err(e);
        }
        let res = fut.await;
        self.finish(index, &res);
        res
    }
}

fn json<T: Object>(obj: &T) -> Option<serde_json::Value> {
    serde_json::to_value(obj).ok()
}

impl<C: ApiClient> ApiClient for RecordingClient<C> {
    async fn list<T: Object>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
    ) -> Result<List<T>, ApiError> {
        let ns = namespace.unwrap_or_default();
        let fut = self.inner.list::<T>(namespace, params);
        self.call(Verb::List, T::RESOURCE, ns, "", None, fut).await
    }

    async fn get<T: Object>(&self, namespace: &str, name: &str) -> Result<T, ApiError> {
        let fut = self.inner.get::<T>(namespace, name);
        self.call(Verb::Get, T::RESOURCE, namespace, name, None, fut)
            .await
    }

    async fn create<T: Object>(&self, namespace: &str, obj: &T) -> Result<T, ApiError> {
        let name = obj.meta().name.clone();
        let fut = self.inner.create(namespace, obj);
        self.call(Verb::Create, T::RESOURCE, namespace, &name, json(obj), fut)
            .await
    }

    async fn update<T: Object>(&self, namespace: &str, obj: &T) -> Result<T, ApiError> {
        let name = obj.meta().name.clone();
        let fut = self.inner.update(namespace, obj);
        self.call(Verb::Update, T::RESOURCE, namespace, &name, json(obj), fut)
            .await
    }

    async fn update_status<T: Object>(&self, namespace: &str, obj: &T) -> Result<T, ApiError> {
        let name = obj.meta().name.clone();
        let fut = self.inner.update_status(namespace, obj);
        let verb = Verb::UpdateStatus;
        self.call(verb, T::RESOURCE, namespace, &name, json(obj), fut)
            .await
    }

    async fn delete_with<T: Object>(
        &self,
        namespace: &str,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<T, ApiError> {
        let fut = self.inner.delete_with::<T>(namespace, name, options);
        let sent = serde_json::to_value(options).ok();
        self.call(Verb::Delete, T::RESOURCE, namespace, name, sent, fut)
            .await
    }

    async fn watch<T: Object>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
        resource_version: Revision,
    ) -> Result<ClientWatch<T>, ApiError> {
        let ns = namespace.unwrap_or_default();
        let fut = self.inner.watch::<T>(namespace, params, resource_version);
        self.call(Verb::Watch, T::RESOURCE, ns, "", None, fut).await
    }

    async fn bind(&self, namespace: &str, binding: &Binding) -> Result<(), ApiError> {
        let name = binding.metadata.name.clone();
        let object = serde_json::to_value(binding).ok();
        let fut = self.inner.bind(namespace, binding);
        self.call(
            Verb::Bind,
            ResourceKind::Pods,
            namespace,
            &name,
            object,
            fut,
        )
        .await
    }

    async fn get_scale(&self, namespace: &str, name: &str) -> Result<Scale, ApiError> {
        let fut = self.inner.get_scale(namespace, name);
        let rcs = ResourceKind::ReplicationControllers;
        self.call(Verb::GetScale, rcs, namespace, name, None, fut)
            .await
    }

    async fn update_scale(
        &self,
        namespace: &str,
        name: &str,
        scale: &Scale,
    ) -> Result<Scale, ApiError> {
        let object = serde_json::to_value(scale).ok();
        let fut = self.inner.update_scale(namespace, name, scale);
        let rcs = ResourceKind::ReplicationControllers;
        self.call(Verb::UpdateScale, rcs, namespace, name, object, fut)
            .await
    }

    async fn finalize_namespace(&self, ns: &Namespace) -> Result<Namespace, ApiError> {
        let object = serde_json::to_value(ns).ok();
        let fut = self.inner.finalize_namespace(ns);
        let name = ns.metadata.name.as_str();
        self.call(
            Verb::Finalize,
            ResourceKind::Namespaces,
            "",
            name,
            object,
            fut,
        )
        .await
    }
}

#[cfg(test)]
#[path = "recording_tests.rs"]
mod tests;
