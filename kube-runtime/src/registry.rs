//! The registry: typed create/get/list/update/delete/watch over a [`Store`].
//!
//! This is the only code that reads or writes the store on behalf of API clients.
//! The HTTP server and the in-process client both go through it, so they share
//! defaulting, validation, compare-and-swap and watch semantics.

mod namespaces;
mod scale;
mod service_ip;

pub use namespaces::CAUSE_NAMESPACE_TERMINATING;
pub use service_ip::{default_service_ip_range, SERVICE_IP_RANGE_KEY};

use crate::clock::Clock;
use bytes::Bytes;
use kube_core::deletion::{plan_delete, Deletion};
use kube_core::error::ApiError;
use kube_core::fields::FieldSelector;
use kube_core::labels::Selector;
use kube_core::list::List;
use kube_core::managed_fields::{self, Scope, UpdateOperation};
use kube_core::meta::{is_reset_managed_fields, ListMeta, ManagedFieldsEntry};
use kube_core::paging::{self, ContinueToken, PagePlan, PagingParams, ReadAt};
use kube_core::store::{
    BoxWatchStream, KeyValue, ListRequest, Revision, StoreEvent, StoreEventKind,
};
use kube_core::strategic_merge::schema_for_kind;
use kube_core::strategy::{
    apply_binding, prepare_for_create, prepare_for_update, CreateContext, Strategy,
};
use kube_core::validation::{FieldError, FieldErrorKind};
use kube_core::{Binding, DeleteOptions, Object, Pod, Store, StoreError};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Namespace used when a request names none.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Attempts of a read-modify-write before giving up with 409.
const MAX_UPDATE_ATTEMPTS: usize = 16;

/// Characters of generated name suffixes (no vowels, as in Kubernetes).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Filters of list and watch calls.
#[derive(Clone, Debug, Default)]
pub struct ListOptions {
    /// Label selector; empty matches everything.
    pub label_selector: Selector,
    /// Field selector; empty matches everything.
    pub field_selector: FieldSelector,
}

impl ListOptions {
    /// Whether `obj` passes both selectors.
    pub fn matches<T: Strategy>(&self, obj: &T) -> bool {
        self.label_selector.matches(&obj.meta().labels)
            && self.field_selector.matches(&|f: &str| obj.field_value(f))
    }

    /// Rejects field selectors on fields the kind does not support, with a 400.
    pub fn check_fields<T: Strategy>(&self) -> Result<(), ApiError> {
        let probe = T::default();
        for f in self.field_selector.fields() {
            if probe.field_value(&f).is_none() {
                return Err(ApiError::BadRequest(format!(
                    "field label not supported: {f} (resource {})",
                    T::RESOURCE.info().plural
                )));
            }
        }
        Ok(())
    }
}

pub use kube_core::watch::{WatchEvent, WatchEventType};

/// A typed, filtered watch over one resource.
pub struct RegistryWatch<T> {
    initial: VecDeque<WatchEvent<T>>,
    stream: BoxWatchStream,
    opts: ListOptions,
    /// The revision of the last store event taken from the stream (matching the selectors or
    /// not), or the revision the watch started after.
    progress: Revision,
}

impl<T: Strategy> RegistryWatch<T> {
    /// A revision a client that received every event returned so far may resume from (watch
    /// bookmarks): every change up to it has been returned or did not match; `None` while the
    /// initial events of a list-then-watch are still being returned.
    pub fn progress(&self) -> Option<Revision> {
        self.initial.is_empty().then_some(self.progress)
    }

    /// The next event, `None` when the stream ended, or an error (410 when the client must relist).
    pub async fn next(&mut self) -> Option<Result<WatchEvent<T>, ApiError>> {
        if let Some(ev) = self.initial.pop_front() {
            return Some(Ok(ev));
        }
        loop {
            let ev = match self.stream.next().await? {
                Ok(ev) => ev,
                Err(e) => return Some(Err(store_error(e, T::RESOURCE.info().plural, ""))),
            };
            self.progress = self.progress.max(ev.kv.mod_revision);
            match self.convert(ev) {
                Ok(Some(ev)) => return Some(Ok(ev)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// Maps a store event to a typed event, turning selector transitions into ADDED/DELETED.
    fn convert(&self, ev: StoreEvent) -> Result<Option<WatchEvent<T>>, ApiError> {
        let new: T = decode(&ev.kv)?;
        let old_matches = match &ev.prev {
            Some(prev) if ev.kind == StoreEventKind::Updated => {
                let old: T = decode(prev)?;
                self.opts.matches(&old)
            }
            _ => false,
        };
        let new_matches = self.opts.matches(&new);
        let type_ = match ev.kind {
            StoreEventKind::Created if new_matches => WatchEventType::Added,
            StoreEventKind::Deleted if new_matches => WatchEventType::Deleted,
            StoreEventKind::Updated => match (old_matches, new_matches) {
                (true, true) => WatchEventType::Modified,
                (false, true) => WatchEventType::Added,
                (true, false) => WatchEventType::Deleted,
                (false, false) => return Ok(None),
            },
            _ => return Ok(None),
        };
        Ok(Some(WatchEvent { type_, object: new }))
    }
}

/// How a write records `metadata.managedFields` (see `kube_core::managed_fields`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldManager<'a> {
    /// Not recorded (the in-process client's writes): entries the object carries are kept as
    /// sent, and an object sent without any keeps the stored ones.
    #[default]
    Unrecorded,
    /// An `Update` by this manager (a create, update or non-apply patch over HTTP), which
    /// comes to own the fields it changes.
    Update(&'a str),
    /// Computed by the caller (server-side apply) and stored as the object carries them.
    Precomputed,
}

/// Typed access to the store with the API's semantics.
#[derive(Clone)]
pub struct Registry {
    store: Arc<dyn Store>,
    clock: Clock,
    service_ips: Arc<service_ip::ServiceIps>,
    /// Whether creates check their namespace (`registry/namespaces.rs`).
    namespace_lifecycle: bool,
}

impl Registry {
    /// A registry over `store`.
    pub fn new(store: Arc<dyn Store>) -> Registry {
        Registry::with_clock(store, Clock::real())
    }

    /// A registry over `store` whose timestamps (creation, binding) come from `clock`.
    pub fn with_clock(store: Arc<dyn Store>, clock: Clock) -> Registry {
        Registry {
            store,
            clock,
            service_ips: Arc::new(service_ip::ServiceIps::new(default_service_ip_range())),
            namespace_lifecycle: false,
        }
    }

    /// The same registry (clock, service IP range) over another store, e.g. a dry-run view.
    pub fn with_store(&self, store: Arc<dyn Store>) -> Registry {
        Registry {
            store,
            ..self.clone()
        }
    }

    /// The clock the registry stamps objects with.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The underlying store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Creates `obj` in `namespace` (ignored for cluster-scoped kinds).
    pub async fn create<T: Strategy>(&self, namespace: &str, obj: T) -> Result<T, ApiError> {
        self.create_as(namespace, obj, FieldManager::Unrecorded)
            .await
    }

    /// Creates `obj`, recording its managed fields as `manager` says.
    pub async fn create_as<T: Strategy>(
        &self,
        namespace: &str,
        obj: T,
        manager: FieldManager<'_>,
    ) -> Result<T, ApiError> {
        Ok(self.create_stored(namespace, obj, manager).await?.object)
    }

    /// [`Registry::create_as`], also answering the JSON the object was stored as, so that a
    /// response need not encode it again ([`Created::to_json`]).
    pub async fn create_stored<T: Strategy>(
        &self,
        namespace: &str,
        obj: T,
        manager: FieldManager<'_>,
    ) -> Result<Created<T>, ApiError> {
        let info = T::RESOURCE.info();
        check_namespace(info.namespaced, namespace, &obj.meta().namespace)?;
        self.admit_create::<T>(namespace, &obj.meta().name).await?;
        let generated = obj.meta().name.is_empty() && !obj.meta().generate_name.is_empty();
        // A generated name may collide; Kubernetes retries such creates a few times.
        let attempts = if generated { 5 } else { 1 };
        let mut last = None;
        let mut obj = Some(obj);
        for attempt in 1..=attempts {
            // The last attempt takes the object itself (the only one, for a given name).
            let Some(mut o) = (if attempt == attempts {
                obj.take()
            } else {
                obj.clone()
            }) else {
                break;
            };
            prepare_for_create(
                &mut o,
                namespace,
                &new_create_context(self.clock.now().unix_secs()),
            );
            if o.meta().name.is_empty() {
                return Err(invalid(
                    &o,
                    vec![FieldError {
                        kind: FieldErrorKind::Required,
                        field: "metadata.name".into(),
                        value: String::new(),
                        detail: "name or generateName is required".into(),
                    }],
                ));
            }
            match manager {
                FieldManager::Update(m) => self.record_create(&mut o, m)?,
                FieldManager::Unrecorded if is_reset_managed_fields(&o.meta().managed_fields) => {
                    o.meta_mut().managed_fields.clear();
                }
                _ => {}
            }
            let errors = o.validate();
            if !errors.is_empty() {
                return Err(invalid(&o, errors));
            }
            let key = T::RESOURCE.key(&o.meta().namespace, &o.meta().name);
            // A service's cluster IP, released again if the object is not stored.
            let claimed = self.claim_service_ip(&mut o).await?;
            let value = match encode(&o) {
                Ok(value) => value,
                Err(e) => {
                    self.release_service_ip(claimed).await;
                    return Err(e);
                }
            };
            let written = self.store.create(&key, value.clone()).await;
            if written.is_err() {
                self.release_service_ip(claimed).await;
            }
            match written {
                Ok(kv) => {
                    o.meta_mut().resource_version = kv.mod_revision.to_string();
                    return Ok(Created {
                        object: o,
                        stored: value,
                        revision: kv.mod_revision,
                    });
                }
                Err(StoreError::AlreadyExists { .. }) if generated => {
                    last = Some(ApiError::AlreadyExists {
                        resource: info.plural.into(),
                        name: o.meta().name.clone(),
                    });
                }
                Err(e) => return Err(store_error(e, info.plural, &o.meta().name)),
            }
        }
        Err(last.unwrap_or_else(|| ApiError::Internal("name generation failed".into())))
    }

    /// Reads one object.
    pub async fn get<T: Strategy>(&self, namespace: &str, name: &str) -> Result<T, ApiError> {
        decode(
            &self
                .get_kv::<T>(&T::RESOURCE.key(namespace, name), name)
                .await?,
        )
    }

    /// Reads the stored key-value of an object, or 404.
    async fn get_kv<T: Strategy>(&self, key: &str, name: &str) -> Result<KeyValue, ApiError> {
        let plural = T::RESOURCE.info().plural;
        match self.store.get(key).await {
            Ok(Some(kv)) => Ok(kv),
            Ok(None) => Err(ApiError::NotFound {
                resource: plural.into(),
                name: name.into(),
            }),
            Err(e) => Err(store_error(e, plural, name)),
        }
    }

    /// Lists objects in `namespace` (all namespaces when `None`) that pass the selectors.
    pub async fn list<T: Strategy>(
        &self,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<List<T>, ApiError> {
        self.list_page(namespace, opts, &PagingParams::default())
            .await
    }

    /// One page of a list (`limit`, `continue`, `resourceVersion`, `resourceVersionMatch`;
    /// see [`kube_core::paging`]): at most `limit` objects passing the selectors, every page
    /// read at the first page's revision, `metadata.continue` set when more keys follow.
    pub async fn list_page<T: Strategy>(
        &self,
        namespace: Option<&str>,
        opts: &ListOptions,
        paging: &PagingParams,
    ) -> Result<List<T>, ApiError> {
        let (items, metadata) = self.list_raw::<T>(namespace, opts, paging).await?;
        Ok(List {
            api_version: T::RESOURCE.info().api_version.into(),
            kind: format!("{}List", T::RESOURCE.info().kind),
            metadata,
            items,
        })
    }

    /// Encodes a page of a v1 list of every object in `namespace` (all when `None`) straight
    /// from the stored bytes, without decoding them: the stored JSON is already the v1 shape
    /// and only lacks `resourceVersion`, which is spliced in. Objects not in the expected
    /// stored layout go through a decode and re-encode instead.
    pub async fn list_encoded<T: Strategy>(
        &self,
        namespace: Option<&str>,
        paging: &PagingParams,
    ) -> Result<Vec<Bytes>, ApiError> {
        /// Size of the parts a list body is written in (no one buffer holds a large list).
        const PART: usize = 256 * 1024;
        let prefix = prefix_for::<T>(namespace);
        let plural = T::RESOURCE.info().plural;
        let (items, meta) = self
            .read_pages(&prefix, plural, paging, true, |kv| Ok(Some(kv)))
            .await?;
        let meta = serde_json::to_string(&meta)
            .map_err(|e| ApiError::Internal(format!("encoding list metadata: {e}")))?;
        let mut parts = Vec::new();
        let mut out = Vec::with_capacity(PART + 1024);
        out.extend_from_slice(
            format!(
                "{{\"apiVersion\":\"{}\",\"kind\":\"{}List\",\"metadata\":{meta},\"items\":[",
                T::RESOURCE.info().api_version,
                T::RESOURCE.info().kind,
            )
            .as_bytes(),
        );
        for (i, kv) in items.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            if !splice_resource_version(&kv.value, kv.mod_revision, &mut out) {
                let obj: T = decode(&kv)?;
                out.extend_from_slice(&encode(&obj)?);
            }
            if out.len() >= PART {
                parts.push(Bytes::from(std::mem::replace(
                    &mut out,
                    Vec::with_capacity(PART + 1024),
                )));
            }
        }
        out.extend_from_slice(b"]}");
        parts.push(Bytes::from(out));
        Ok(parts)
    }

    /// Lists a page of objects and its list metadata.
    async fn list_raw<T: Strategy>(
        &self,
        namespace: Option<&str>,
        opts: &ListOptions,
        paging: &PagingParams,
    ) -> Result<(Vec<T>, ListMeta), ApiError> {
        opts.check_fields::<T>()?;
        let prefix = prefix_for::<T>(namespace);
        let plural = T::RESOURCE.info().plural;
        let unfiltered = opts.label_selector.is_empty() && opts.field_selector.is_empty();
        self.read_pages(&prefix, plural, paging, unfiltered, |kv| {
            let obj: T = decode(&kv)?;
            Ok(opts.matches(&obj).then_some(obj))
        })
        .await
    }

    /// Reads one page of a list under `prefix`: store pages at one revision (the plan's, or
    /// the first read's) until `limit` items are taken (`take` decides which keys count) or
    /// the keys end. With selectors (`unfiltered` false) the store pages grow from `limit` up
    /// to 10 000 keys, as Kubernetes' etcd store does, and `remainingItemCount` is not given.
    async fn read_pages<I>(
        &self,
        prefix: &str,
        plural: &str,
        paging: &PagingParams,
        unfiltered: bool,
        mut take: impl FnMut(KeyValue) -> Result<Option<I>, ApiError>,
    ) -> Result<(Vec<I>, ListMeta), ApiError> {
        /// Largest store page read for a filtered list.
        const MAX_BATCH: usize = 10_000;
        let plan = paging.plan(prefix)?;
        let limit = usize::try_from(plan.limit).unwrap_or(usize::MAX);
        let (mut at, minimum) = match plan.at {
            ReadAt::Current => (None, None),
            ReadAt::NotOlderThan(rv) => (None, Some(rv)),
            ReadAt::Exact(rv) => (Some(rv), None),
        };
        let mut from = plan.start.clone();
        let mut batch = limit;
        let mut out = Vec::new();
        let mut last_key: Option<String> = None;
        let remaining = loop {
            let want = if unfiltered {
                limit - out.len().min(limit)
            } else {
                batch
            };
            let request = ListRequest::page(at, from.clone(), want);
            let res = self
                .store
                .list_page(prefix, &request)
                .await
                .map_err(|e| list_store_error(e, &plan, prefix, plural))?;
            if let Some(min) = minimum.filter(|m| at.is_none() && res.revision < *m) {
                return Err(paging::too_large_resource_version(min, res.revision));
            }
            at = Some(res.revision);
            let n = res.items.len();
            let mut stopped = None;
            for (i, kv) in res.items.into_iter().enumerate() {
                last_key = Some(kv.key.clone());
                if let Some(item) = take(kv)? {
                    out.push(item);
                }
                if limit > 0 && out.len() >= limit {
                    stopped = Some(i);
                    break;
                }
            }
            match stopped {
                Some(i) => break (n - i - 1) as u64 + res.remaining,
                None if !res.more || n == 0 || limit == 0 => break res.remaining,
                None => {}
            }
            from = last_key.as_ref().map(|k| format!("{k}\0"));
            batch = (batch * 2).min(MAX_BATCH);
        };
        let revision = at.unwrap_or_default();
        let mut meta = ListMeta {
            resource_version: revision.to_string(),
            ..ListMeta::default()
        };
        if remaining > 0 {
            if let Some(token) = last_key
                .as_deref()
                .and_then(|k| ContinueToken::after(k, prefix, Some(revision)))
            {
                meta.continue_ = token.encode();
                if unfiltered {
                    meta.remaining_item_count = i64::try_from(remaining).ok();
                }
            }
        }
        Ok((out, meta))
    }

    /// Replaces an object. A non-empty `metadata.resourceVersion` must equal the stored one (else 409).
    /// An update that leaves a deleting object without finalizers (its graceful deletion done)
    /// removes it instead, and returns it as written.
    pub async fn update<T: Strategy>(
        &self,
        namespace: &str,
        name: &str,
        obj: T,
    ) -> Result<T, ApiError> {
        self.update_as(namespace, name, obj, FieldManager::Unrecorded)
            .await
    }

    /// [`Registry::update`], recording managed fields as `manager` says.
    pub async fn update_as<T: Strategy>(
        &self,
        namespace: &str,
        name: &str,
        obj: T,
        manager: FieldManager<'_>,
    ) -> Result<T, ApiError> {
        self.update_prepared(namespace, name, obj, manager, prepare_for_update)
            .await
    }

    /// [`Registry::update_as`] with `prepare` in place of `prepare_for_update` (a namespace's
    /// `/finalize` takes `spec.finalizers` from the request).
    async fn update_prepared<T: Strategy>(
        &self,
        namespace: &str,
        name: &str,
        mut obj: T,
        manager: FieldManager<'_>,
        prepare: fn(&mut T, &T),
    ) -> Result<T, ApiError> {
        let info = T::RESOURCE.info();
        check_namespace(info.namespaced, namespace, &obj.meta().namespace)?;
        if obj.meta().name.is_empty() {
            obj.meta_mut().name = name.to_string();
        } else if obj.meta().name != name {
            return Err(ApiError::BadRequest(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                obj.meta().name
            )));
        }
        let key = T::RESOURCE.key(namespace, name);
        let current = self.get_kv::<T>(&key, name).await?;
        let expected = match obj.meta().resource_version.as_str() {
            "" => current.mod_revision,
            rv => rv.parse::<Revision>().map_err(|_| {
                ApiError::BadRequest(format!(
                    "invalid resourceVersion {rv:?}: must be a decimal revision"
                ))
            })?,
        };
        if expected != current.mod_revision {
            return Err(conflict(info.plural, name));
        }
        let old: T = decode(&current)?;
        if info.namespaced {
            obj.meta_mut().namespace = namespace.to_string();
        }
        prepare(&mut obj, &old);
        match manager {
            FieldManager::Update(m) => {
                let old_value = to_value(&old)?;
                self.record(
                    &old.meta().managed_fields,
                    old_value,
                    &mut obj,
                    m,
                    Scope::Main,
                )?;
            }
            FieldManager::Unrecorded if obj.meta().managed_fields.is_empty() => {
                obj.meta_mut()
                    .managed_fields
                    .clone_from(&old.meta().managed_fields);
            }
            FieldManager::Unrecorded if is_reset_managed_fields(&obj.meta().managed_fields) => {
                obj.meta_mut().managed_fields.clear();
            }
            _ => {}
        }
        let errors = obj.validate_update(&old);
        if !errors.is_empty() {
            return Err(invalid(&obj, errors));
        }
        obj.meta_mut().resource_version.clear();
        // Removing the last finalizer of an object whose deletion is otherwise done removes it
        // (a compare-and-swap delete; watchers see DELETED).
        let removed = obj.finalized();
        let kv = if removed {
            self.store.delete(&key, Some(expected)).await
        } else {
            self.store.update(&key, encode(&obj)?, expected).await
        }
        .map_err(|e| store_error(e, info.plural, name))?;
        if removed {
            self.release_service_ip_of(&old).await;
        }
        obj.meta_mut().resource_version = kv.mod_revision.to_string();
        Ok(obj)
    }

    /// Replaces only the status of an object (the `/status` subresource). A non-empty
    /// `metadata.resourceVersion` must equal the stored one.
    pub async fn update_status<T: Strategy>(
        &self,
        namespace: &str,
        name: &str,
        obj: T,
    ) -> Result<T, ApiError> {
        self.update_status_as(namespace, name, obj, FieldManager::Unrecorded)
            .await
    }

    /// [`Registry::update_status`], recording managed fields as `manager` says (an update
    /// owns `status` fields only; a precomputed set of entries is taken from `obj`).
    pub async fn update_status_as<T: Strategy>(
        &self,
        namespace: &str,
        name: &str,
        obj: T,
        manager: FieldManager<'_>,
    ) -> Result<T, ApiError> {
        let precondition = parse_revision(&obj.meta().resource_version)?;
        self.guaranteed_update(namespace, name, precondition, |current: &mut T| {
            match manager {
                FieldManager::Update(m) => {
                    let old_value = to_value(current)?;
                    let stored = current.meta().managed_fields.clone();
                    current.copy_status_from(&obj);
                    self.record(&stored, old_value, current, m, Scope::Status)?;
                }
                FieldManager::Precomputed => {
                    current.copy_status_from(&obj);
                    current
                        .meta_mut()
                        .managed_fields
                        .clone_from(&obj.meta().managed_fields);
                }
                FieldManager::Unrecorded => current.copy_status_from(&obj),
            }
            Ok(())
        })
        .await
    }

    /// Records an `Update` by `manager` of `new` (whose entries are the ones sent) over an
    /// object whose JSON was `old_value` and entries `stored` (an update of an untracked
    /// object leaves it untracked; creates are [`Registry::record_create`]'s).
    fn record<T: Strategy>(
        &self,
        stored: &[ManagedFieldsEntry],
        old_value: serde_json::Value,
        new: &mut T,
        manager: &str,
        scope: Scope,
    ) -> Result<(), ApiError> {
        let sent = std::mem::take(&mut new.meta_mut().managed_fields);
        let time = self.clock.now().to_rfc3339();
        let info = T::RESOURCE.info();
        let schema = schema_for_kind(info.kind);
        let op = UpdateOperation {
            manager,
            api_version: info.api_version,
            scope,
            time: &time,
            creating: false,
        };
        let new_value = to_value(new)?;
        new.meta_mut().managed_fields =
            managed_fields::record_update(stored, &sent, old_value, new_value, schema, &op);
        Ok(())
    }

    /// Records the `Update` by `manager` that creates `new` (whose entries are the ones
    /// sent): its fields are taken as the object serializes, against the kind's empty object.
    fn record_create<T: Strategy>(&self, new: &mut T, manager: &str) -> Result<(), ApiError> {
        let sent = std::mem::take(&mut new.meta_mut().managed_fields);
        let time = self.clock.now().to_rfc3339();
        let info = T::RESOURCE.info();
        let op = UpdateOperation {
            manager,
            api_version: info.api_version,
            scope: Scope::Main,
            time: &time,
            creating: true,
        };
        let zero = zero_value::<T>()?;
        new.meta_mut().managed_fields =
            managed_fields::record_create(&sent, &zero, &*new, schema_for_kind(info.kind), &op)
                .map_err(|e| ApiError::Internal(format!("encoding {}: {e}", info.kind)))?;
        Ok(())
    }

    /// Binds a pod to a node: a compare-and-swap that succeeds only while the pod is unbound,
    /// so a pod is never bound twice (409 Conflict for the second binder).
    pub async fn bind(&self, namespace: &str, binding: &Binding) -> Result<Pod, ApiError> {
        let name = binding.metadata.name.as_str();
        let node = binding.target.name.as_str();
        let mut errors = Vec::new();
        if name.is_empty() {
            errors.push(FieldError::required("metadata.name", "the pod to bind"));
        }
        if node.is_empty() {
            errors.push(FieldError::required("target.name", "the node to bind to"));
        }
        if !errors.is_empty() {
            return Err(ApiError::Invalid {
                kind: "Binding".into(),
                name: name.into(),
                errors,
            });
        }
        let now = self.clock.now().to_rfc3339();
        self.guaranteed_update(namespace, name, None, |pod: &mut Pod| {
            apply_binding(pod, node, &now).map_err(|bound| ApiError::Conflict {
                resource: "pods/binding".into(),
                name: name.into(),
                message: format!("pod {name} is already assigned to node {bound:?}"),
            })
        })
        .await
    }

    /// Reads an object, applies `mutate` and writes it back with compare-and-swap, retrying on
    /// conflicts (unless a `precondition` revision was given, which must match).
    async fn guaranteed_update<T: Strategy>(
        &self,
        namespace: &str,
        name: &str,
        precondition: Option<Revision>,
        mut mutate: impl FnMut(&mut T) -> Result<(), ApiError>,
    ) -> Result<T, ApiError> {
        let plural = T::RESOURCE.info().plural;
        let key = T::RESOURCE.key(namespace, name);
        for _ in 0..MAX_UPDATE_ATTEMPTS {
            let current = self.get_kv::<T>(&key, name).await?;
            if precondition.is_some_and(|rv| rv != current.mod_revision) {
                return Err(conflict(plural, name));
            }
            let mut obj: T = decode(&current)?;
            mutate(&mut obj)?;
            obj.meta_mut().resource_version.clear();
            match self
                .store
                .update(&key, encode(&obj)?, current.mod_revision)
                .await
            {
                Ok(kv) => {
                    obj.meta_mut().resource_version = kv.mod_revision.to_string();
                    return Ok(obj);
                }
                Err(StoreError::Conflict { .. }) if precondition.is_none() => continue,
                Err(e) => return Err(store_error(e, plural, name)),
            }
        }
        Err(conflict(plural, name))
    }

    /// Deletes an object with default options (see [`Registry::delete_with`]).
    pub async fn delete<T: Strategy>(&self, namespace: &str, name: &str) -> Result<T, ApiError> {
        self.delete_with(namespace, name, &DeleteOptions::default())
            .await
    }

    /// Deletes an object and returns its last state, or marks it and returns it marked: kinds
    /// with graceful deletion (pods) and objects with finalizers get `deletionTimestamp` (a
    /// compare-and-swap update, seen by watchers as MODIFIED) instead of being removed; see
    /// `kube_core::deletion::plan_delete`. Failed `preconditions` answer 409 and change nothing.
    pub async fn delete_with<T: Strategy>(
        &self,
        namespace: &str,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<T, ApiError> {
        self.admit_delete::<T>(name)?;
        let plural = T::RESOURCE.info().plural;
        let key = T::RESOURCE.key(namespace, name);
        for _ in 0..MAX_UPDATE_ATTEMPTS {
            let current = self.get_kv::<T>(&key, name).await?;
            let mut obj: T = decode(&current)?;
            let written = match plan_delete(&mut obj, options, self.clock.now())? {
                Deletion::Pending => return Ok(obj),
                Deletion::Immediate => {
                    match self.store.delete(&key, Some(current.mod_revision)).await {
                        Ok(kv) => {
                            let removed: T = decode(&kv)?;
                            self.release_service_ip_of(&removed).await;
                            return Ok(removed);
                        }
                        Err(e) => e,
                    }
                }
                Deletion::Graceful => {
                    obj.meta_mut().resource_version.clear();
                    match self
                        .store
                        .update(&key, encode(&obj)?, current.mod_revision)
                        .await
                    {
                        Ok(kv) => {
                            obj.meta_mut().resource_version = kv.mod_revision.to_string();
                            return Ok(obj);
                        }
                        Err(e) => e,
                    }
                }
            };
            match written {
                StoreError::Conflict { .. } => continue,
                e => return Err(store_error(e, plural, name)),
            }
        }
        Err(conflict(plural, name))
    }

    /// Watches objects in `namespace` (all when `None`).
    ///
    /// With `resource_version` `None` or 0, the current objects come first as ADDED events,
    /// then every change after the revision they were read at; otherwise every change after
    /// `resource_version`. A revision older than the store's history answers 410.
    pub async fn watch<T: Strategy>(
        &self,
        namespace: Option<&str>,
        opts: ListOptions,
        resource_version: Option<Revision>,
    ) -> Result<RegistryWatch<T>, ApiError> {
        opts.check_fields::<T>()?;
        let prefix = prefix_for::<T>(namespace);
        let plural = T::RESOURCE.info().plural;
        let (initial, from) = match resource_version {
            None | Some(0) => {
                let (items, meta) = self
                    .list_raw::<T>(namespace, &opts, &PagingParams::default())
                    .await?;
                let rev = meta.resource_version.parse().unwrap_or_default();
                let initial = items
                    .into_iter()
                    .map(|object| WatchEvent {
                        type_: WatchEventType::Added,
                        object,
                    })
                    .collect();
                (initial, rev)
            }
            Some(rv) => (VecDeque::new(), rv),
        };
        let stream = self
            .store
            .watch(&prefix, from)
            .await
            .map_err(|e| store_error(e, plural, ""))?;
        Ok(RegistryWatch {
            initial,
            stream,
            opts,
            progress: from,
        })
    }
}

/// Parses a `resourceVersion` precondition; empty means none.
fn parse_revision(rv: &str) -> Result<Option<Revision>, ApiError> {
    match rv {
        "" => Ok(None),
        rv => rv.parse::<Revision>().map(Some).map_err(|_| {
            ApiError::BadRequest(format!(
                "invalid resourceVersion {rv:?}: must be a decimal revision"
            ))
        }),
    }
}

fn prefix_for<T: Strategy>(namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => T::RESOURCE.namespace_prefix(ns),
        None => T::RESOURCE.key_prefix(),
    }
}

fn check_namespace(namespaced: bool, url_ns: &str, body_ns: &str) -> Result<(), ApiError> {
    if namespaced && !body_ns.is_empty() && body_ns != url_ns {
        return Err(ApiError::BadRequest(format!(
            "the namespace of the provided object ({body_ns}) does not match the namespace sent on the request ({url_ns})"
        )));
    }
    Ok(())
}

fn invalid<T: Object>(obj: &T, errors: Vec<FieldError>) -> ApiError {
    ApiError::Invalid {
        kind: T::RESOURCE.info().kind.into(),
        name: obj.meta().name.clone(),
        errors,
    }
}

fn conflict(plural: &str, name: &str) -> ApiError {
    ApiError::Conflict {
        resource: plural.into(),
        name: name.into(),
        message: "the object has been modified; please apply your changes to the latest version and try again"
            .into(),
    }
}

/// Maps a store error to the API error a client sees.
pub fn store_error(e: StoreError, plural: &str, name: &str) -> ApiError {
    match e {
        StoreError::AlreadyExists { .. } => ApiError::AlreadyExists {
            resource: plural.into(),
            name: name.into(),
        },
        StoreError::NotFound { .. } => ApiError::NotFound {
            resource: plural.into(),
            name: name.into(),
        },
        StoreError::Conflict { .. } => conflict(plural, name),
        StoreError::Gone { requested, oldest } => ApiError::Gone(format!(
            "too old resource version: {requested} (oldest available: {oldest})"
        )),
        StoreError::FutureRevision { requested, current } => {
            paging::too_large_resource_version(requested, current)
        }
        StoreError::Unavailable(m) => {
            ApiError::ServiceUnavailable(format!("storage is unavailable: {m}"))
        }
        StoreError::Internal(m) => ApiError::Internal(format!("storage error: {m}")),
    }
}

/// The answer to a store failure of a list: a compacted revision is 410 `Expired` (with a
/// fresh, inconsistent continue token when the list was continuing), a future one 504.
fn list_store_error(e: StoreError, plan: &PagePlan, prefix: &str, plural: &str) -> ApiError {
    match e {
        StoreError::Gone { .. } => match (&plan.start, plan.continuing) {
            (Some(start), true) => paging::expired_continue(start, prefix),
            _ => paging::expired(),
        },
        StoreError::FutureRevision { requested, current } => {
            paging::too_large_resource_version(requested, current)
        }
        e => store_error(e, plural, ""),
    }
}

/// An object just created, with the JSON it was stored as.
#[derive(Clone, Debug)]
pub struct Created<T> {
    /// The object, its resourceVersion set.
    pub object: T,
    /// Its stored JSON (without resourceVersion: the revision is).
    pub stored: Vec<u8>,
    /// The revision it was stored at.
    pub revision: Revision,
}

impl<T: Object> Created<T> {
    /// The object's JSON with its resourceVersion: the stored bytes with the revision spliced
    /// in (encoded again only for a layout the splice does not know).
    pub fn to_json(&self) -> Result<Vec<u8>, ApiError> {
        let mut out = Vec::with_capacity(self.stored.len() + 32);
        if splice_resource_version(&self.stored, self.revision, &mut out) {
            Ok(out)
        } else {
            encode(&self.object)
        }
    }
}

/// Appends `stored` with `"resourceVersion":"<rev>",` inserted at the start of its metadata.
/// Returns false (appending nothing) unless `stored` starts
/// `{"apiVersion":"…","kind":"…","metadata":{"`, the layout `encode` writes for every kind
/// (`v1` and grouped versions such as `coordination.k8s.io/v1` alike).
fn splice_resource_version(stored: &[u8], rev: Revision, out: &mut Vec<u8>) -> bool {
    const HEAD: &[u8] = b"{\"apiVersion\":\"";
    const KIND: &[u8] = b"\",\"kind\":\"";
    const META: &[u8] = b"\",\"metadata\":{\"";
    /// Length of the quoted text at the start of `b` followed by `next`.
    fn quoted(b: &[u8], next: &[u8]) -> Option<usize> {
        let len = b.iter().position(|c| *c == b'"')?;
        b[len..].starts_with(next).then_some(len + next.len())
    }
    let Some(rest) = stored.strip_prefix(HEAD) else {
        return false;
    };
    let Some(version_len) = quoted(rest, KIND) else {
        return false;
    };
    let Some(kind_len) = quoted(&rest[version_len..], META) else {
        return false;
    };
    // Up to and including `"metadata":{`; the next byte opens the first metadata key.
    let at = HEAD.len() + version_len + kind_len - 1;
    out.extend_from_slice(&stored[..at]);
    out.extend_from_slice(format!("\"resourceVersion\":\"{rev}\",").as_bytes());
    out.extend_from_slice(&stored[at..]);
    true
}

/// An object's JSON, for field-set comparisons.
fn to_value<T: Object>(obj: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(obj)
        .map_err(|e| ApiError::Internal(format!("encoding {}: {e}", T::RESOURCE.info().kind)))
}

/// The JSON of an empty object of the kind: what a create is compared against.
fn zero_value<T: Strategy>() -> Result<Arc<serde_json::Value>, ApiError> {
    /// Each kind's, made once.
    static ZEROS: OnceLock<Mutex<HashMap<&'static str, Arc<serde_json::Value>>>> = OnceLock::new();
    let kind = T::RESOURCE.info().kind;
    let zeros = ZEROS.get_or_init(Default::default);
    let cached = zeros
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(kind)
        .cloned();
    if let Some(zero) = cached {
        return Ok(zero);
    }
    let mut zero = T::default();
    zero.set_type_meta();
    let zero = Arc::new(to_value(&zero)?);
    zeros
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(kind, zero.clone());
    Ok(zero)
}

/// Serializes an object for storage (resourceVersion is never stored: the revision is).
fn encode<T: Object>(obj: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(obj)
        .map_err(|e| ApiError::Internal(format!("encoding {}: {e}", T::RESOURCE.info().kind)))
}

/// Decodes a stored object and sets its resourceVersion from the store revision.
fn decode<T: Object>(kv: &KeyValue) -> Result<T, ApiError> {
    let mut obj: T = serde_json::from_slice(&kv.value)
        .map_err(|e| ApiError::Internal(format!("stored object at {} is corrupt: {e}", kv.key)))?;
    obj.meta_mut().resource_version = kv.mod_revision.to_string();
    Ok(obj)
}

fn new_create_context(now: i64) -> CreateContext {
    // The suffix comes from its own random draw so it says nothing about the uid.
    let random = uuid::Uuid::new_v4();
    let name_suffix = random.as_bytes()[..5]
        .iter()
        .map(|b| NAME_ALPHABET[*b as usize % NAME_ALPHABET.len()] as char)
        .collect();
    let uid = uuid::Uuid::new_v4().to_string();
    CreateContext {
        uid,
        now: kube_core::time::format_rfc3339(now),
        name_suffix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_version_is_spliced_into_stored_layout() {
        let cases: [(&str, Option<&str>); 7] = [
            (
                r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{}}"#,
                Some(
                    r#"{"apiVersion":"v1","kind":"Pod","metadata":{"resourceVersion":"7","name":"a"},"spec":{}}"#,
                ),
            ),
            (
                r#"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"l"}}"#,
                Some(
                    r#"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"resourceVersion":"7","name":"l"}}"#,
                ),
            ),
            (r#"{"kind":"Pod","metadata":{"name":"a"}}"#, None),
            (r#"{"apiVersion":"v1","metadata":{"name":"a"}}"#, None),
            (r#"{"apiVersion":"v1"#, None),
            (r#"{"apiVersion":"v1","kind":"Pod","metadata":{}}"#, None),
            (r#"{"apiVersion":"v1","kind":"Pod","spec":{}}"#, None),
        ];
        for (stored, want) in cases {
            let mut out = Vec::new();
            let ok = splice_resource_version(stored.as_bytes(), 7, &mut out);
            assert_eq!(ok, want.is_some(), "{stored}");
            if let Some(w) = want {
                assert_eq!(String::from_utf8(out).unwrap(), w);
            } else {
                assert!(out.is_empty());
            }
        }
    }

    /// A create's JSON from the stored bytes is the created object's, resourceVersion included.
    #[tokio::test]
    async fn a_created_objects_json_is_its_stored_bytes_with_the_revision() {
        let registry = Registry::new(Arc::new(crate::store::MemoryStore::new()));
        let mut pod = Pod::default();
        pod.metadata.name = "p".into();
        pod.metadata.labels.insert("app".into(), "web".into());
        pod.spec.containers.push(kube_core::pod::Container {
            name: "c".into(),
            image: "i".into(),
            ..Default::default()
        });
        let created = registry
            .create_stored("default", pod, FieldManager::Update("m"))
            .await
            .unwrap();
        assert!(!created.object.metadata.managed_fields.is_empty());
        let json: serde_json::Value = serde_json::from_slice(&created.to_json().unwrap()).unwrap();
        assert_eq!(json, serde_json::to_value(&created.object).unwrap());
        assert_eq!(
            json["metadata"]["resourceVersion"],
            created.revision.to_string()
        );
        let got: Pod = registry.get("default", "p").await.unwrap();
        assert_eq!(got, created.object);
    }

    /// The stored encoding of every kind starts with the layout the splice expects.
    #[test]
    fn encode_writes_the_spliceable_layout() {
        let mut pod = Pod::default();
        pod.set_type_meta();
        pod.metadata.name = "p".into();
        let mut node = kube_core::Node::default();
        node.set_type_meta();
        node.metadata.name = "n".into();
        let mut lease = kube_core::Lease::default();
        lease.set_type_meta();
        lease.metadata.name = "l".into();
        let encoded = [
            encode(&pod).unwrap(),
            encode(&node).unwrap(),
            encode(&lease).unwrap(),
        ];
        for bytes in encoded {
            let mut out = Vec::new();
            assert!(
                splice_resource_version(&bytes, 3, &mut out),
                "{}",
                String::from_utf8_lossy(&bytes)
            );
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(v["metadata"]["resourceVersion"], "3");
        }
    }
}
