//! Service cluster IPs: every service created through the registry gets an address from the
//! configured range (`--portal-net`), recorded in one stored allocation map at
//! [`SERVICE_IP_RANGE_KEY`] (Kubernetes' `RangeAllocation`) that every change rewrites with a
//! compare-and-swap, so allocation is race-free between concurrent creates and between API
//! servers on one store, and survives restarts.
//!
//! On create: an empty `spec.clusterIP` gets the next free address; an explicit one is claimed
//! (422 on `spec.clusterIP` when taken or outside the range); `None` (headless) gets none. A
//! full range answers 500 `InternalError` "failed to allocate a serviceIP: range is full", as
//! Kubernetes does. The address is released when the create then fails and when the service is
//! removed. A dry run goes through a registry over a `DryRunStore`, whose writes are never
//! performed: it checks and answers like a real create but allocates nothing.
//!
//! The map is created on first use from the services already stored (their addresses inside the
//! range are marked). A map stored with another range (a restart with another `--portal-net`)
//! is carried over to the configured range, keeping the addresses still inside it (logged).

use super::{store_error, Registry};
use kube_core::error::ApiError;
use kube_core::ip_allocator::{AllocationError, AllocationMap, Ipv4Cidr, RangeAllocation};
use kube_core::store::KeyValue;
use kube_core::validation::FieldError;
use kube_core::{Object, ResourceKind, Service, StoreError};
use std::any::Any;
use std::net::Ipv4Addr;

/// Store key of the service IP allocation map (Kubernetes' key).
pub const SERVICE_IP_RANGE_KEY: &str = "/registry/ranges/serviceips";

/// `clusterIP` of a headless service: no address.
const CLUSTER_IP_NONE: &str = "None";

/// Compare-and-swap attempts on the map before answering 409. This process's own changes are
/// serialized, so conflicts only come from other API servers on the same store.
const MAX_ATTEMPTS: usize = 64;

/// Kubernetes' default service range, `10.0.0.0/24`.
pub fn default_service_ip_range() -> Ipv4Cidr {
    Ipv4Cidr::new(Ipv4Addr::new(10, 0, 0, 0), 24).unwrap_or_else(|_| unreachable!())
}

/// The service IP allocator of a registry (shared by its clones).
#[derive(Debug)]
pub(super) struct ServiceIps {
    /// The configured range.
    range: Ipv4Cidr,
    /// The last address this process allocated (the next scan starts after it, so a freed
    /// address is not reused at once). The lock also serializes this process's changes.
    last: tokio::sync::Mutex<Option<Ipv4Addr>>,
}

impl ServiceIps {
    /// An allocator over `range`.
    pub(super) fn new(range: Ipv4Cidr) -> ServiceIps {
        ServiceIps {
            range,
            last: tokio::sync::Mutex::new(None),
        }
    }
}

/// What a create asks for.
enum Request {
    /// The next free address.
    Next,
    /// This address.
    Specific(Ipv4Addr),
}

impl Registry {
    /// The range service cluster IPs are allocated from.
    pub fn service_ip_range(&self) -> Ipv4Cidr {
        self.service_ips.range
    }

    /// This registry, allocating service cluster IPs from `range` (default `10.0.0.0/24`).
    pub fn with_service_ip_range(mut self, range: Ipv4Cidr) -> Registry {
        self.service_ips = std::sync::Arc::new(ServiceIps::new(range));
        self
    }

    /// Gives a service about to be created its cluster IP (see the module documentation);
    /// other kinds are left alone. Returns the address to release if the create fails.
    pub(super) async fn claim_service_ip<T: Object>(
        &self,
        obj: &mut T,
    ) -> Result<Option<Ipv4Addr>, ApiError> {
        let Some(svc) = (obj as &mut dyn Any).downcast_mut::<Service>() else {
            return Ok(None);
        };
        let request = match svc.spec.cluster_ip.as_str() {
            CLUSTER_IP_NONE => return Ok(None),
            "" => Request::Next,
            text => match text.parse::<Ipv4Addr>() {
                Ok(ip) => Request::Specific(ip),
                // Validation accepted it as an IP: an IPv6 address, never in an IPv4 range.
                Err(_) => {
                    let err = AllocationError::NotInRange {
                        range: self.service_ips.range,
                    };
                    return Err(refused(svc, err));
                }
            },
        };
        match self.allocate(&request).await? {
            Ok(ip) => {
                svc.spec.cluster_ip = ip.to_string();
                Ok(Some(ip))
            }
            Err(AllocationError::Full) => Err(ApiError::Internal(format!(
                "failed to allocate a serviceIP: range is full (all {} addresses of {} are allocated)",
                self.service_ips.range.size(),
                self.service_ips.range
            ))),
            Err(e) => Err(refused(svc, e)),
        }
    }

    /// Frees the cluster IP of a removed object, if it is a service holding one.
    pub(super) async fn release_service_ip_of<T: Object>(&self, obj: &T) {
        let Some(svc) = (obj as &dyn Any).downcast_ref::<Service>() else {
            return;
        };
        if let Ok(ip) = svc.spec.cluster_ip.parse::<Ipv4Addr>() {
            self.release_service_ip(Some(ip)).await;
        }
    }

    /// Frees `ip` (nothing for `None`). A failure is logged: the address stays allocated.
    pub(super) async fn release_service_ip(&self, ip: Option<Ipv4Addr>) {
        let Some(ip) = ip else { return };
        if let Err(e) = self.change_map(|map| Ok(map.release(ip))).await {
            tracing::warn!("service IP {ip} could not be released and stays allocated: {e}");
        }
    }

    /// Allocates what `request` asks for.
    async fn allocate(
        &self,
        request: &Request,
    ) -> Result<Result<Ipv4Addr, AllocationError>, ApiError> {
        let mut last = self.service_ips.last.lock().await;
        let cursor = *last;
        let result = self
            .change_map_locked(|map| match request {
                Request::Next => map.allocate_next(cursor),
                Request::Specific(ip) => map.allocate(*ip).map(|()| *ip),
            })
            .await?;
        if let (Request::Next, Ok(ip)) = (request, &result) {
            *last = Some(*ip);
        }
        Ok(result)
    }

    /// Applies `change` to the stored map under this process's lock (see `change_map_locked`).
    async fn change_map<R>(
        &self,
        change: impl FnMut(&mut AllocationMap) -> Result<R, AllocationError>,
    ) -> Result<Result<R, AllocationError>, ApiError> {
        let _lock = self.service_ips.last.lock().await;
        self.change_map_locked(change).await
    }

    /// Reads the stored map, applies `change` and writes the map back with a compare-and-swap,
    /// retried on conflict. Nothing is written when `change` fails or changes nothing.
    async fn change_map_locked<R>(
        &self,
        mut change: impl FnMut(&mut AllocationMap) -> Result<R, AllocationError>,
    ) -> Result<Result<R, AllocationError>, ApiError> {
        let stored_error = |e| store_error(e, "rangeallocations", "serviceips");
        for _ in 0..MAX_ATTEMPTS {
            let current = self.store.get(SERVICE_IP_RANGE_KEY).await;
            let current = current.map_err(stored_error)?;
            let (mut map, mut dirty) = match &current {
                Some(kv) => self.read_map(kv)?,
                None => (self.seed_map().await?, true),
            };
            let used = map.used();
            let out = match change(&mut map) {
                Ok(out) => out,
                Err(e) => return Ok(Err(e)),
            };
            dirty |= map.used() != used;
            if !dirty {
                return Ok(Ok(out));
            }
            let value = serde_json::to_vec(&map.to_range_allocation())
                .map_err(|e| ApiError::Internal(format!("encoding the service IP map: {e}")))?;
            let written = match &current {
                Some(kv) => {
                    self.store
                        .update(SERVICE_IP_RANGE_KEY, value, kv.mod_revision)
                        .await
                }
                None => self.store.create(SERVICE_IP_RANGE_KEY, value).await,
            };
            match written {
                Ok(_) => return Ok(Ok(out)),
                Err(StoreError::Conflict { .. } | StoreError::AlreadyExists { .. }) => continue,
                Err(e) => return Err(stored_error(e)),
            }
        }
        Err(ApiError::Conflict {
            resource: "rangeallocations".into(),
            name: "serviceips".into(),
            message: "the service IP map kept changing; please try again".into(),
        })
    }

    /// The stored map over the configured range, and whether it must be written back (it was
    /// stored with another range).
    fn read_map(&self, kv: &KeyValue) -> Result<(AllocationMap, bool), ApiError> {
        let corrupt = |e: String| {
            ApiError::Internal(format!(
                "stored service IP map at {} is corrupt: {e}",
                kv.key
            ))
        };
        let stored: RangeAllocation =
            serde_json::from_slice(&kv.value).map_err(|e| corrupt(e.to_string()))?;
        let map =
            AllocationMap::from_range_allocation(&stored).map_err(|e| corrupt(e.to_string()))?;
        let range = self.service_ips.range;
        if map.range() == range {
            return Ok((map, false));
        }
        let (map, dropped) = map.resized(range);
        tracing::warn!(
            "the service IP range changed from {} to {range}: {} allocated addresses kept, {} outside the new range dropped from the map{}",
            stored.range,
            map.used(),
            dropped.len(),
            if dropped.is_empty() {
                String::new()
            } else {
                format!(
                    " ({}; their services keep them)",
                    dropped.iter().map(|ip| ip.to_string()).collect::<Vec<_>>().join(", ")
                )
            }
        );
        Ok((map, true))
    }

    /// A new map marking the addresses of the services already stored (a store written before
    /// the map existed).
    async fn seed_map(&self) -> Result<AllocationMap, ApiError> {
        let mut map = AllocationMap::new(self.service_ips.range);
        let prefix = ResourceKind::Services.key_prefix();
        let services = self
            .store
            .list(&prefix)
            .await
            .map_err(|e| store_error(e, "services", ""))?;
        for kv in &services.items {
            let Ok(svc) = serde_json::from_slice::<Service>(&kv.value) else {
                continue;
            };
            let Ok(ip) = svc.spec.cluster_ip.parse::<Ipv4Addr>() else {
                continue;
            };
            if let Err(e) = map.allocate(ip) {
                tracing::warn!(
                    "service {}/{} keeps cluster IP {ip}, not allocatable in {}: {e}",
                    svc.metadata.namespace,
                    svc.metadata.name,
                    map.range()
                );
            }
        }
        Ok(map)
    }
}

/// The 422 of a refused explicit `spec.clusterIP`.
fn refused(svc: &Service, err: AllocationError) -> ApiError {
    ApiError::Invalid {
        kind: "Service".into(),
        name: svc.metadata.name.clone(),
        errors: vec![FieldError::invalid(
            "spec.clusterIP",
            &svc.spec.cluster_ip,
            err.to_string(),
        )],
    }
}
