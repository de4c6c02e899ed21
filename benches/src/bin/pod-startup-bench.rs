//! pod-startup-bench: how long a pod takes to start, raw and through the whole system, on the
//! same Docker daemon in one run.
//!
//! (a) raw: bollard creates and starts an infra container, then an app container joined to its
//! network namespace (what the kubelet does for a one-container pod), N times in a row.
//! (b) end to end: an in-process API server, the `kubelet` binary as its own process on
//! Docker, and pods created through the API (bound to the kubelet's node) and watched until
//! Running: N one after another, then M at once. The kubelet's resident memory is read with
//! N pods running. Prints one JSON line last:
//! `{"raw_p50_ms":…, "raw_p99_ms":…, "e2e_p50_ms":…, "e2e_p99_ms":…, "overhead_ratio_p50":…,
//! "kubelet_rss_mb":…, …}`.

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{CreateContainerOptions, RemoveContainerOptions};
use clap::Parser;
use kube_benches::{loadavg, percentile_ms, round};
use kube_core::pod::Pod;
use kube_core::testing::PodBuilder;
use kube_runtime::apiserver::{ApiServer, ApiServerConfig};
use kube_runtime::client::{ApiClient, HttpClient, ListParams};
use kube_runtime::runtime::DockerRuntime;
use kube_runtime::store::MemoryStore;
use serde_json::json;
use std::collections::HashMap;
use std::error::Error;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

type BoxError = Box<dyn Error + Send + Sync>;

/// Command-line flags.
#[derive(Parser, Debug, Clone)]
#[command(name = "pod-startup-bench")]
struct Flags {
    /// Image of the app container.
    #[arg(long, default_value = "kube-test/busybox:latest")]
    image: String,
    /// Image of the infra container.
    #[arg(
        long = "pod-infra-container-image",
        default_value = "kube-test/pause:latest"
    )]
    pod_infra_container_image: String,
    /// Pods started one after another (raw and end to end).
    #[arg(long, default_value_t = 50)]
    sequential: usize,
    /// Pods started at once (end to end).
    #[arg(long, default_value_t = 20)]
    concurrent: usize,
    /// Docker's API endpoint.
    #[arg(
        long = "docker-endpoint",
        default_value = "unix:///var/run/docker.sock"
    )]
    docker_endpoint: String,
}

/// A child process killed and reaped on drop.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `kubelet` binary next to this one.
fn kubelet_bin() -> Result<PathBuf, BoxError> {
    let exe = std::env::current_exe()?;
    let bin = exe
        .parent()
        .map(|d| d.join("kubelet"))
        .ok_or("no directory of the bench binary")?;
    if !bin.exists() {
        return Err(format!(
            "{} is missing: cargo build --release --bin kubelet",
            bin.display()
        )
        .into());
    }
    Ok(bin)
}

/// Resident memory of a process in MB.
fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Removes every container labelled with this run.
async fn cleanup(docker: &bollard::Docker, run: &str) {
    let mut filters = HashMap::new();
    filters.insert("label".to_string(), vec![format!("kube-test.run={run}")]);
    let listed = docker
        .list_containers(Some(bollard::query_parameters::ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        }))
        .await
        .unwrap_or_default();
    for c in listed {
        if let Some(id) = c.id {
            let _ = docker
                .remove_container(
                    &id,
                    Some(RemoveContainerOptions {
                        force: true,
                        ..Default::default()
                    }),
                )
                .await;
        }
    }
}

/// One raw pod: infra create+start, app create+start joined to it.
async fn raw_pod(
    docker: &bollard::Docker,
    flags: &Flags,
    run: &str,
    i: usize,
) -> Result<Duration, BoxError> {
    let labels = HashMap::from([("kube-test.run".to_string(), run.to_string())]);
    let started = Instant::now();
    let infra = docker
        .create_container(
            Some(CreateContainerOptions {
                name: Some(format!("raw-infra-{run}-{i}")),
                ..Default::default()
            }),
            ContainerCreateBody {
                image: Some(flags.pod_infra_container_image.clone()),
                labels: Some(labels.clone()),
                ..Default::default()
            },
        )
        .await?;
    docker.start_container(&infra.id, None).await?;
    let app = docker
        .create_container(
            Some(CreateContainerOptions {
                name: Some(format!("raw-app-{run}-{i}")),
                ..Default::default()
            }),
            ContainerCreateBody {
                image: Some(flags.image.clone()),
                cmd: Some(vec!["sleep".into(), "3600".into()]),
                labels: Some(labels),
                host_config: Some(HostConfig {
                    network_mode: Some(format!("container:{}", infra.id)),
                    init: Some(true),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await?;
    docker.start_container(&app.id, None).await?;
    Ok(started.elapsed())
}

fn bench_pod(name: &str, flags: &Flags) -> Pod {
    let mut p = PodBuilder::new(name)
        .node("bench-node")
        .container("app", &flags.image)
        .build();
    let c = &mut p.spec.containers[0];
    c.command = vec!["sleep".into(), "3600".into()];
    c.image_pull_policy = "IfNotPresent".into();
    p.spec.termination_grace_period_seconds = Some(1);
    p
}

/// Creates the pods at once and returns each one's time from create to Running (seen by watch).
async fn e2e_batch(
    client: &HttpClient,
    flags: &Flags,
    names: &[String],
) -> Result<Vec<Duration>, BoxError> {
    let list = client
        .list::<Pod>(Some("default"), &ListParams::default())
        .await?;
    let mut watch = client
        .watch::<Pod>(
            Some("default"),
            &ListParams::default(),
            list.metadata.resource_version.parse().unwrap_or(0),
        )
        .await?;
    let mut started: HashMap<String, Instant> = HashMap::new();
    let mut creates = tokio::task::JoinSet::new();
    for name in names {
        let (client, pod) = (client.clone(), bench_pod(name, flags));
        started.insert(name.clone(), Instant::now());
        creates.spawn(async move { client.create("default", &pod).await });
    }
    while let Some(r) = creates.join_next().await {
        r??;
    }
    let mut took = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !started.is_empty() {
        if Instant::now() > deadline {
            return Err(format!("pods never Running: {:?}", started.keys()).into());
        }
        let Some(ev) = tokio::time::timeout(Duration::from_secs(30), watch.next()).await? else {
            return Err("watch ended".into());
        };
        let pod = ev?.object;
        if pod.status.phase == "Running" {
            if let Some(t0) = started.remove(&pod.metadata.name) {
                took.push(t0.elapsed());
            }
        }
    }
    Ok(took)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let flags = Flags::parse();
    let run = format!("bench-{}", std::process::id());
    let runtime = DockerRuntime::connect(&flags.docker_endpoint).await?;
    let docker = runtime.client().clone();
    eprintln!("load before: {}", loadavg());

    // (a) raw.
    let mut raw = Vec::with_capacity(flags.sequential);
    for i in 0..flags.sequential {
        raw.push(raw_pod(&docker, &flags, &run, i).await?);
    }
    cleanup(&docker, &run).await;
    // The same, M at once: the baseline of the concurrent end-to-end batch.
    let mut batch = tokio::task::JoinSet::new();
    for i in 0..flags.concurrent {
        let (docker, flags2, run2) = (docker.clone(), flags.clone(), run.clone());
        batch.spawn(async move { raw_pod(&docker, &flags2, &run2, 1000 + i).await });
    }
    let mut raw_par = Vec::with_capacity(flags.concurrent);
    while let Some(r) = batch.join_next().await {
        raw_par.push(r??);
    }
    cleanup(&docker, &run).await;

    // (b) end to end.
    let server = ApiServer::new(
        Arc::new(MemoryStore::new()),
        ApiServerConfig {
            port: 0,
            ..ApiServerConfig::default()
        },
    )
    .start()
    .await?;
    let url = server.url();
    let client = HttpClient::new(&url)?;
    let kubelet_port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let kubelet = KillOnDrop(
        Command::new(kubelet_bin()?)
            .args(["--master", &url, "--hostname-override", "bench-node"])
            .args(["--port", &kubelet_port.to_string(), "--runtime", "docker"])
            .args(["--docker-endpoint", &flags.docker_endpoint])
            .args([
                "--pod-infra-container-image",
                &flags.pod_infra_container_image,
            ])
            .args(["--container-label", &format!("kube-test.run={run}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let ready = Instant::now();
    loop {
        if client
            .get::<kube_core::Node>("", "bench-node")
            .await
            .is_ok()
        {
            break;
        }
        if ready.elapsed() > Duration::from_secs(30) {
            return Err("the kubelet did not register its node".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut seq = Vec::with_capacity(flags.sequential);
    for i in 0..flags.sequential {
        seq.extend(e2e_batch(&client, &flags, &[format!("seq-{i}")]).await?);
    }
    let kubelet_rss = rss_mb(kubelet.0.id());
    let names: Vec<String> = (0..flags.concurrent).map(|i| format!("par-{i}")).collect();
    let par = e2e_batch(&client, &flags, &names).await?;

    // Tear down through the API, so the kubelet's own cleanup runs, then make sure.
    let all = client
        .list::<Pod>(Some("default"), &ListParams::default())
        .await?;
    for p in all.items {
        let _ = client
            .delete_with::<Pod>(
                "default",
                &p.metadata.name,
                &kube_core::DeleteOptions::grace(1),
            )
            .await;
    }
    let teardown = Instant::now();
    while teardown.elapsed() < Duration::from_secs(60) {
        let left = client
            .list::<Pod>(Some("default"), &ListParams::default())
            .await?;
        if left.items.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(kubelet);
    cleanup(&docker, &run).await;

    let sorted = |mut v: Vec<Duration>| {
        v.sort();
        v
    };
    let (raw, seq, par, raw_par) = (sorted(raw), sorted(seq), sorted(par), sorted(raw_par));
    let raw_p50 = percentile_ms(&raw, 0.50);
    let e2e_p50 = percentile_ms(&seq, 0.50);
    eprintln!("load after: {}", loadavg());
    println!(
        "{}",
        json!({
            "raw_p50_ms": round(raw_p50, 1),
            "raw_p99_ms": round(percentile_ms(&raw, 0.99), 1),
            "e2e_p50_ms": round(e2e_p50, 1),
            "e2e_p99_ms": round(percentile_ms(&seq, 0.99), 1),
            "raw_concurrent_p50_ms": round(percentile_ms(&raw_par, 0.50), 1),
            "raw_concurrent_p99_ms": round(percentile_ms(&raw_par, 0.99), 1),
            "e2e_concurrent_p50_ms": round(percentile_ms(&par, 0.50), 1),
            "e2e_concurrent_p99_ms": round(percentile_ms(&par, 0.99), 1),
            "overhead_ratio_p50": round(e2e_p50 / raw_p50.max(f64::MIN_POSITIVE), 3),
            "kubelet_rss_mb": round(kubelet_rss, 1),
            "sequential": flags.sequential,
            "concurrent": flags.concurrent,
        })
    );
    Ok(())
}
