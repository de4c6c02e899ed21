//! One pod's sync: plan with kube-core's pure `plan_pod`, apply the steps through the
//! runtime, then report the status kube-core's `pod_status` computes, when it changed.

use super::state::{KubeletState, SyncError};
use crate::client::ApiClient;
use kube_core::kubelet::config::{app_config, infra_config, service_env, NodeContext};
use kube_core::kubelet::containers::PodContainers;
use kube_core::kubelet::labels;
use kube_core::kubelet::status::{pod_status, StatusContext, REASON_ERR_IMAGE_PULL};
use kube_core::kubelet::sync::{plan_orphan, plan_pod, KillReason, PodExtras, SyncAction};
use kube_core::pod::{Pod, PULL_ALWAYS, PULL_NEVER};
use kube_core::runtime::{ContainerInfo, RuntimeError};
use kube_core::service::Service;
use kube_core::time::Timestamp;
use kube_core::DeleteOptions;
use std::sync::Arc;
use std::time::Duration;

/// Rounds of plan-and-apply per sync (a new sandbox is followed by its containers at once).
const MAX_ROUNDS: usize = 4;

impl<C: ApiClient> KubeletState<C> {
    /// Syncs the pod with `uid` (or its leftover containers when the pod is gone) and returns
    /// when it should be synced again even if nothing changes.
    pub(crate) async fn sync_pod(&self, uid: &str) -> Result<Option<Timestamp>, SyncError> {
        let mut resync = None;
        for _ in 0..MAX_ROUNDS {
            let pod = self.pod_by_uid(uid);
            let infos = self.runtime_cache.pod_containers(uid);
            let refs: Vec<&ContainerInfo> = infos.iter().map(Arc::as_ref).collect();
            let group = PodContainers::group(uid, &refs);
            let now = self.clock.now();
            let failures = self.failures_of(uid);
            let (unhealthy, ready) = self.probes.results(uid);
            let extras = PodExtras {
                start_failures: failures.iter().map(|(k, v)| (k.as_str(), v)).collect(),
                unhealthy: unhealthy.iter().map(String::as_str).collect(),
                ready: ready.iter().map(String::as_str).collect(),
            };
            let plan = match &pod {
                Some(p) => plan_pod(p, &group, &extras, now),
                None => plan_orphan(&group),
            };
            resync = plan.resync_at;
            if let Some(p) = &pod {
                self.probes.sync_pod(p, &group);
            }
            if plan.actions.is_empty() {
                if let Some(p) = pod {
                    let status = pod_status(
                        &p,
                        &group,
                        &extras,
                        &StatusContext {
                            host_ip: &self.host_ip,
                            runtime_name: &self.runtime_name,
                            now,
                        },
                    );
                    self.write_status(&p, status).await?;
                }
                return Ok(resync);
            }
            let deleted = self.apply(pod.as_deref(), plan.actions).await;
            // Whatever happened, look again at what the runtime has for this pod.
            self.runtime_cache
                .relist(self.runtime.as_ref(), &self.node_filter, Some(uid))
                .await?;
            match deleted {
                Ok(true) => {
                    self.forget_pod(uid);
                    return Ok(None);
                }
                Ok(false) => {}
                // Recorded: the next round plans the back-off and reports the failure.
                Err(SyncError::Start(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(resync.or_else(|| Some(self.clock.now())))
    }

    /// Applies the steps in order, stopping at the first failure; consecutive kills run at
    /// once. Returns whether the pod object was deleted.
    async fn apply(&self, pod: Option<&Pod>, actions: Vec<SyncAction>) -> Result<bool, SyncError> {
        let mut i = 0;
        while i < actions.len() {
            if let SyncAction::KillContainer { .. } = actions[i] {
                let end = actions[i..]
                    .iter()
                    .position(|a| !matches!(a, SyncAction::KillContainer { .. }))
                    .map_or(actions.len(), |n| i + n);
                let kills = actions[i..end].iter().map(|a| self.kill(pod, a));
                for r in futures_util::future::join_all(kills).await {
                    r?;
                }
                i = end;
                continue;
            }
            match &actions[i] {
                SyncAction::StartInfra { attempt } => {
                    let pod = pod.ok_or(SyncError::NoPod)?;
                    self.start_infra(pod, *attempt).await?;
                }
                SyncAction::StartContainer {
                    name,
                    restart_count,
                } => {
                    let pod = pod.ok_or(SyncError::NoPod)?;
                    self.start_container(pod, name, *restart_count).await?;
                }
                SyncAction::RemoveContainer { id } => match self.runtime.remove_container(id).await
                {
                    Ok(()) | Err(RuntimeError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                },
                SyncAction::DeletePod => {
                    let pod = pod.ok_or(SyncError::NoPod)?;
                    self.delete_pod_object(pod).await?;
                    return Ok(true);
                }
                SyncAction::KillContainer { .. } => {}
            }
            i += 1;
        }
        Ok(false)
    }

    async fn kill(&self, pod: Option<&Pod>, action: &SyncAction) -> Result<(), SyncError> {
        let SyncAction::KillContainer { id, grace, reason } = action else {
            return Ok(());
        };
        if let (Some(pod), KillReason::Unhealthy) = (pod, reason) {
            let name = self
                .runtime_cache
                .get(id)
                .and_then(|c| c.labels.get(labels::CONTAINER_NAME).cloned())
                .unwrap_or_default();
            self.events.record(
                pod,
                "Normal",
                "Killing",
                &format!("Container {name} failed liveness probe, will be restarted"),
            );
        }
        tracing::debug!(container = %id, ?reason, ?grace, "stopping container");
        match self.runtime.stop_container(id, *grace).await {
            Ok(()) | Err(RuntimeError::NotFound(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn node_context(&self) -> NodeContext<'_> {
        NodeContext {
            node_name: &self.config.node_name,
            infra_image: &self.config.pod_infra_image,
            default_host_ip: self.config.address,
            volume_root: &self.config.volume_root,
            extra_labels: &self.config.extra_container_labels,
        }
    }

    async fn start_infra(&self, pod: &Pod, attempt: i32) -> Result<(), SyncError> {
        let uid = pod.metadata.uid.as_str();
        let result = async {
            let config = infra_config(pod, &self.node_context(), attempt)
                .map_err(|e| ("FailedCreatePodSandBox", e.to_string()))?;
            self.ensure_image(&config.image, "IfNotPresent")
                .await
                .map_err(|(_, m)| ("FailedCreatePodSandBox", m))?;
            self.create_and_start(&config)
                .await
                .map_err(|(_, m)| ("FailedCreatePodSandBox", m))
        }
        .await;
        match result {
            Ok(_) => {
                self.clear_failure(uid, labels::INFRA_CONTAINER_NAME);
                Ok(())
            }
            Err((reason, message)) => {
                self.events.record(
                    pod,
                    "Warning",
                    reason,
                    &format!("Failed to create pod sandbox: {message}"),
                );
                self.record_failure(uid, labels::INFRA_CONTAINER_NAME, reason, &message);
                Err(SyncError::Start(message))
            }
        }
    }

    async fn start_container(
        &self,
        pod: &Pod,
        name: &str,
        restart_count: i32,
    ) -> Result<(), SyncError> {
        let uid = pod.metadata.uid.as_str();
        let container = pod
            .spec
            .containers
            .iter()
            .find(|c| c.name == name)
            .ok_or(SyncError::NoPod)?;
        let infra_id = self
            .runtime_cache
            .pod_containers(uid)
            .iter()
            .find(|c| {
                c.labels.get(labels::CONTAINER_NAME).map(String::as_str)
                    == Some(labels::INFRA_CONTAINER_NAME)
                    && c.state == kube_core::runtime::ContainerRunState::Running
            })
            .map(|c| c.id.clone())
            .unwrap_or_default();
        let result = async {
            if let Err((reason, message)) = self
                .ensure_image(&container.image, &container.image_pull_policy)
                .await
            {
                self.events
                    .record(pod, "Warning", "Failed", &message.to_string());
                return Err((reason, message));
            }
            let services: Vec<Arc<Service>> = self.services.list_namespace(&pod.metadata.namespace);
            let svc_refs: Vec<&Service> = services.iter().map(Arc::as_ref).collect();
            let env = service_env(&svc_refs);
            let config = app_config(
                pod,
                container,
                &self.node_context(),
                &infra_id,
                restart_count,
                &env,
            )
            .map_err(|e| ("CreateContainerConfigError", e.to_string()))?;
            self.create_and_start(&config).await
        }
        .await;
        match result {
            Ok(_) => {
                self.clear_failure(uid, name);
                Ok(())
            }
            Err((reason, message)) => {
                self.record_failure(uid, name, reason, &message);
                Err(SyncError::Start(message))
            }
        }
    }

    /// Makes sure the image is present as the pull policy says. On machines without a
    /// registry an `Always` pull fails; when a local copy exists it is used (with a warning
    /// event), so locally built images run. `Err` carries (waiting reason, message).
    async fn ensure_image(&self, image: &str, policy: &str) -> Result<(), (&'static str, String)> {
        let present = self
            .runtime
            .image_status(image)
            .await
            .map_err(|e| (REASON_ERR_IMAGE_PULL, e.to_string()))?
            .is_some();
        match policy {
            PULL_NEVER if !present => Err((
                "ErrImageNeverPull",
                format!("Container image {image:?} is not present with pull policy of Never"),
            )),
            PULL_NEVER => Ok(()),
            PULL_ALWAYS => match self.runtime.pull_image(image).await {
                Ok(_) => Ok(()),
                Err(e) if present => {
                    tracing::warn!(%image, error = %e, "pull failed; using the local copy");
                    Ok(())
                }
                Err(e) => Err((REASON_ERR_IMAGE_PULL, pull_message(e))),
            },
            _ if present => Ok(()),
            _ => self
                .runtime
                .pull_image(image)
                .await
                .map(|_| ())
                .map_err(|e| (REASON_ERR_IMAGE_PULL, pull_message(e))),
        }
    }

    async fn create_and_start(
        &self,
        config: &kube_core::runtime::ContainerConfig,
    ) -> Result<String, (&'static str, String)> {
        let id = self
            .runtime
            .create_container(config)
            .await
            .map_err(|e| ("CreateContainerError", e.to_string()))?;
        self.runtime
            .start_container(&id)
            .await
            .map_err(|e| ("RunContainerError", e.to_string()))?;
        Ok(id)
    }

    /// Writes `status` through `/status` when it differs from what the cache holds.
    async fn write_status(
        &self,
        pod: &Pod,
        status: kube_core::pod::PodStatus,
    ) -> Result<(), SyncError> {
        if status == pod.status {
            return Ok(());
        }
        let mut updated = pod.clone();
        updated.status = status;
        match self
            .client
            .update_status(&pod.metadata.namespace, &updated)
            .await
        {
            Ok(_) => Ok(()),
            // Gone meanwhile: the next sync tears down.
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(SyncError::Api(e.to_string())),
        }
    }

    async fn delete_pod_object(&self, pod: &Pod) -> Result<(), SyncError> {
        match self
            .client
            .delete_with::<Pod>(
                &pod.metadata.namespace,
                &pod.metadata.name,
                &DeleteOptions::immediate(),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(SyncError::Api(e.to_string())),
        }
    }
}

/// The daemon's message of a failed pull.
fn pull_message(e: RuntimeError) -> String {
    match e {
        RuntimeError::ImagePull(m) | RuntimeError::NotFound(m) => m,
        other => other.to_string(),
    }
}

/// How long to wait before retrying a pod whose sync failed.
pub(crate) const SYNC_RETRY: Duration = Duration::from_secs(1);
