//! The seed's controller verbs over any [`ApiClient`]: `resize`, `stop`, `rm`, `run` and
//! `rollingupdate`. The decisions (objects, hashes, which pod is up) are in `controller_specs`.

use crate::controller_specs::{
    is_current, is_terminating, is_up, parse_port_spec, run_controller, run_service,
    with_template_hash,
};
use crate::progress::Progress;
use crate::CliError;
use kube_core::backoff::Backoff;
use kube_core::labels::{format_labels, is_dns1035_label};
use kube_core::pod::PodTemplateSpec;
use kube_core::rand::SplitMix64;
use kube_core::{Pod, ReplicationController, Service};
use kube_runtime::client::{ApiClient, ListParams};
use std::collections::BTreeSet;
use std::io::Write;
use std::time::Duration;
use tokio::time::Instant;

/// Reads of a compare-and-swap update tried before a conflict is reported.
const UPDATE_ATTEMPTS: usize = 10;

/// The pause before reading again after a conflict: 10 ms doubling to 1 s, jittered, so a
/// busy controller writing the same object (its status) is not met at the same instant again.
fn conflict_backoff() -> Backoff {
    Backoff::new(Duration::from_millis(10), Duration::from_secs(1)).with_jitter(0.5)
}

/// A seed for the jitter: this process and the time.
fn jitter_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ u64::from(std::process::id())
}

/// How often and how long to wait for pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waits {
    /// Time between two looks at the pods.
    pub poll: Duration,
    /// Longest wait for one step (all pods gone, one replacement up); the seed's was 300 s.
    pub timeout: Duration,
}

impl Default for Waits {
    fn default() -> Waits {
        Waits {
            poll: Duration::from_millis(100),
            timeout: Duration::from_secs(300),
        }
    }
}

/// Reads controller `name`, applies `change` and, when it changed something (it says so),
/// writes it back (compare-and-swap on the version read), starting again from a fresh read
/// after a pause on 409 Conflict.
pub async fn update_controller<C: ApiClient>(
    client: &C,
    ns: &str,
    name: &str,
    mut change: impl FnMut(&mut ReplicationController) -> Result<bool, CliError>,
) -> Result<ReplicationController, CliError> {
    let mut backoff = conflict_backoff();
    let mut rng = SplitMix64::new(jitter_seed());
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut rc: ReplicationController = client.get(ns, name).await?;
        if !change(&mut rc)? {
            return Ok(rc);
        }
        match client.update(ns, &rc).await {
            Ok(updated) => return Ok(updated),
            // Over HTTP the error is the server's `Status`: ask it, do not match variants.
            Err(e) if e.is_conflict() && attempt < UPDATE_ATTEMPTS => {
                tokio::time::sleep(backoff.next_delay(&mut rng)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// `kubecfg resize NAME N`: sets the controller's replicas.
pub async fn resize<C: ApiClient>(
    client: &C,
    ns: &str,
    name: &str,
    replicas: i32,
) -> Result<ReplicationController, CliError> {
    update_controller(client, ns, name, |rc| {
        let changed = rc.spec.replicas != Some(replicas);
        rc.spec.replicas = Some(replicas);
        Ok(changed)
    })
    .await
}

/// The pods `rc` selects, terminating ones included, by name.
async fn selected_pods<C: ApiClient>(
    client: &C,
    ns: &str,
    rc: &ReplicationController,
) -> Result<Vec<Pod>, CliError> {
    if rc.spec.selector.is_empty() {
        return Err(CliError::Controller(format!(
            "controller {} has no selector",
            rc.metadata.name
        )));
    }
    let params = ListParams::labels(format_labels(&rc.spec.selector));
    let mut pods = client.list::<Pod>(Some(ns), &params).await?.items;
    pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    Ok(pods)
}

/// `kubecfg stop NAME`: resizes to 0, then waits until no pod of the controller remains.
pub async fn stop<C: ApiClient>(
    client: &C,
    ns: &str,
    name: &str,
    waits: Waits,
) -> Result<ReplicationController, CliError> {
    let rc = resize(client, ns, name, 0).await?;
    let deadline = Instant::now() + waits.timeout;
    loop {
        let pods = selected_pods(client, ns, &rc).await?;
        if pods.is_empty() {
            return Ok(rc);
        }
        if Instant::now() >= deadline {
            return Err(CliError::Controller(format!(
                "timed out after {:?} waiting for the pods of controller {name} to stop; still there: {}",
                waits.timeout,
                pod_names(&pods)
            )));
        }
        tokio::time::sleep(waits.poll).await;
    }
}

fn pod_names(pods: &[Pod]) -> String {
    pods.iter()
        .map(|p| format!("{} ({})", p.metadata.name, p.status.phase))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `kubecfg rm NAME`: deletes a stopped controller; refused while it has replicas.
pub async fn rm<C: ApiClient>(client: &C, ns: &str, name: &str) -> Result<(), CliError> {
    let rc: ReplicationController = client.get(ns, name).await?;
    let replicas = rc.spec.replicas.unwrap_or(1);
    if replicas != 0 {
        return Err(CliError::Controller(format!(
            "controller has non-zero replicas ({replicas}), please stop it first"
        )));
    }
    client.delete::<ReplicationController>(ns, name).await?;
    Ok(())
}

/// What `kubecfg run` is asked to start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRequest {
    /// Image of the one container.
    pub image: String,
    /// Replicas of the controller.
    pub replicas: i32,
    /// Name of the controller (and of the service).
    pub name: String,
    /// The seed's port spec, `HOSTPORT:CONTAINERPORT,...`.
    pub ports: String,
    /// Port of a service to create too.
    pub service_port: Option<u16>,
}

/// `kubecfg run`: creates the controller, then the service when asked.
pub async fn run<C: ApiClient>(
    client: &C,
    ns: &str,
    req: &RunRequest,
) -> Result<(ReplicationController, Option<Service>), CliError> {
    let name = req.name.as_str();
    if req.service_port.is_some() && !is_dns1035_label(name) {
        return Err(CliError::Controller(format!(
            "service creation requested, but an invalid name for a service was provided ({name}). Service names must be valid DNS labels."
        )));
    }
    let ports = parse_port_spec(&req.ports).map_err(CliError::Usage)?;
    let rc = run_controller(&req.image, req.replicas, name, ports.clone());
    let rc = client.create(ns, &rc).await?;
    let service = match req.service_port {
        Some(port) => Some(client.create(ns, &run_service(name, port, &ports)).await?),
        None => None,
    };
    Ok((rc, service))
}

/// What a rolling update changes in the controller's pod template.
#[derive(Clone, Debug, PartialEq)]
pub enum TemplateChange {
    /// Nothing: every pod is replaced by one from the same template (the seed's behaviour).
    Keep,
    /// The image of the first container (`-image`).
    Image(String),
    /// The whole template (`-c FILE`, a controller).
    Template(Box<PodTemplateSpec>),
}

/// Settings of a rolling update.
#[derive(Clone, Copy, Debug)]
pub struct Rolling {
    /// Pause after each replacement but the last (`-u`).
    pub period: Duration,
    /// Polling and deadline of each replacement.
    pub waits: Waits,
    /// How progress is shown.
    pub progress: Progress,
}

/// `kubecfg rollingupdate NAME`: writes the new template (with its hash), then replaces the
/// old pods one at a time: delete one, wait until a new pod of the controller is up (Running,
/// and Ready when it reports readiness), pause, next. Returns (old pods deleted, pods up to
/// date).
pub async fn rolling_update<C: ApiClient>(
    client: &C,
    ns: &str,
    name: &str,
    change: &TemplateChange,
    settings: Rolling,
    out: &mut dyn Write,
) -> Result<(usize, usize), CliError> {
    let mut hash = String::new();
    let rc = update_controller(client, ns, name, |rc| {
        let no_template = || CliError::Controller(format!("controller {name} has no pod template"));
        let template = match change {
            TemplateChange::Keep => rc.spec.template.clone().ok_or_else(no_template)?,
            TemplateChange::Image(image) => {
                let mut t = rc.spec.template.clone().ok_or_else(no_template)?;
                let first = t.spec.containers.first_mut().ok_or_else(|| {
                    CliError::Controller(format!(
                        "the pod template of controller {name} has no container"
                    ))
                })?;
                first.image = image.clone();
                t
            }
            TemplateChange::Template(t) => (**t).clone(),
        };
        let (template, h) = with_template_hash(template);
        hash = h;
        let changed = rc.spec.template.as_ref() != Some(&template);
        rc.spec.template = Some(template);
        Ok(changed)
    })
    .await?;

    let live: Vec<Pod> = selected_pods(client, ns, &rc)
        .await?
        .into_iter()
        .filter(|p| !is_terminating(p))
        .collect();
    let (current, old): (Vec<Pod>, Vec<Pod>) = live.into_iter().partition(|p| is_current(p, &hash));
    let mut known: BTreeSet<String> = current.into_iter().map(|p| p.metadata.name).collect();
    let total = old.len();
    // The controller only makes the pods it lacks: old pods beyond those (a controller scaled
    // down, or stopped) are deleted first, without waiting for a replacement.
    let replicas = usize::try_from(rc.spec.replicas.unwrap_or(1)).unwrap_or(0);
    let surplus = total.saturating_sub(replicas.saturating_sub(known.len()));
    let io = |e: std::io::Error| CliError::Output(format!("writing progress: {e}"));
    settings.progress.start(out, total).map_err(io)?;
    for (i, pod) in old.iter().enumerate() {
        let old_name = &pod.metadata.name;
        match client.delete::<Pod>(ns, old_name).await {
            Err(e) if !e.is_not_found() => return Err(e.into()),
            _ => {}
        }
        let new = if i < surplus {
            None
        } else {
            let waits = settings.waits;
            Some(wait_for_replacement(client, ns, &rc, &hash, &known, old_name, waits).await?)
        };
        settings
            .progress
            .replaced(out, name, old_name, new.as_deref(), i + 1, total)
            .map_err(io)?;
        known.extend(new);
        if i + 1 < total && i >= surplus {
            tokio::time::sleep(settings.period).await;
        }
    }
    settings.progress.finish(out).map_err(io)?;
    Ok((total, known.len()))
}

/// Waits until a pod of `rc` made from the template `hash`, not in `known`, is up.
async fn wait_for_replacement<C: ApiClient>(
    client: &C,
    ns: &str,
    rc: &ReplicationController,
    hash: &str,
    known: &BTreeSet<String>,
    old: &str,
    waits: Waits,
) -> Result<String, CliError> {
    let deadline = Instant::now() + waits.timeout;
    loop {
        let pods = selected_pods(client, ns, rc).await?;
        if let Some(p) = pods
            .iter()
            .find(|p| is_current(p, hash) && is_up(p) && !known.contains(&p.metadata.name))
        {
            return Ok(p.metadata.name.clone());
        }
        if Instant::now() >= deadline {
            return Err(CliError::Controller(format!(
                "timed out after {:?} waiting for a new pod of controller {} to replace {old}; pods: {}",
                waits.timeout,
                rc.metadata.name,
                pod_names(&pods)
            )));
        }
        tokio::time::sleep(waits.poll).await;
    }
}

#[cfg(test)]
#[path = "controller_verbs_tests.rs"]
mod tests;
