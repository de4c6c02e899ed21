//! What only the fake has: recorded calls, injected errors, unavailability, per-image
//! behaviour (start delay, crash loops, SIGTERM handling, pulls), exec and log controls,
//! loopback pod IPs, and a small memory footprint per container. The behaviour it shares
//! with Docker is checked by the contract suite (`runtime_contract`).

use crate::alloc_meter::peak_bytes;
use futures_util::StreamExt;
use kube_core::runtime::{
    ContainerConfig, ContainerRunState, ContainerRuntime, ListFilter, LogOptions, LogStream,
    NetworkMode, RuntimeError,
};
use kube_core::time::Timestamp;
use kube_runtime::clock::Clock;
use kube_runtime::runtime::fake::{FakeCall, FakeMethod, ImageBehaviour, MAX_RECORDED_CALLS};
use kube_runtime::runtime::FakeRuntime;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;
use tokio::time::Instant;

const IMAGE: &str = "app:1";
const SECOND: Duration = Duration::from_secs(1);

fn t0() -> Timestamp {
    Timestamp::from_unix(1_400_000_000, 0)
}

/// A fake on a virtual clock at `t0()` with `IMAGE` present and behaving as `behaviour`.
fn fake_with(behaviour: ImageBehaviour) -> FakeRuntime {
    let fake = FakeRuntime::new(Clock::virtual_at(t0()));
    fake.add_image(IMAGE);
    fake.set_image_behaviour(IMAGE, behaviour);
    fake
}

fn config(name: &str) -> ContainerConfig {
    ContainerConfig {
        name: name.to_string(),
        image: IMAGE.to_string(),
        ..ContainerConfig::default()
    }
}

/// Creates and starts a container of `IMAGE` named `name`.
async fn started(fake: &FakeRuntime, name: &str) -> String {
    let id = fake.create_container(&config(name)).await.expect("create");
    fake.start_container(&id).await.expect("start");
    id
}

async fn state(fake: &FakeRuntime, id: &str) -> ContainerRunState {
    fake.inspect_container(id).await.expect("inspect").state
}

fn at(secs: u64) -> Timestamp {
    t0().saturating_add(Duration::from_secs(secs))
}

#[tokio::test(start_paused = true)]
async fn every_call_is_recorded_in_order_and_cleared() {
    let fake = fake_with(ImageBehaviour::default());
    fake.version().await.expect("version");
    let id = started(&fake, "a").await;
    fake.inspect_container(&id).await.expect("inspect");
    fake.stop_container(&id, SECOND).await.expect("stop");
    fake.remove_container(&id).await.expect("remove");
    let _ = fake.pull_image("nowhere:1").await;
    let _ = fake.image_status(IMAGE).await;
    fake.list_containers(&ListFilter::default())
        .await
        .expect("list");
    assert_eq!(
        fake.calls(),
        vec![
            FakeCall::Version,
            FakeCall::Create {
                name: "a".into(),
                image: IMAGE.into()
            },
            FakeCall::Start(id.clone()),
            FakeCall::Inspect(id.clone()),
            FakeCall::Stop {
                id: id.clone(),
                grace: SECOND
            },
            FakeCall::Remove(id.clone()),
            FakeCall::Pull("nowhere:1".into()),
            FakeCall::ImageStatus(IMAGE.into()),
            FakeCall::List,
        ]
    );
    fake.clear_calls();
    assert!(fake.calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn recorded_calls_keep_only_the_newest() {
    let fake = fake_with(ImageBehaviour::default());
    for _ in 0..MAX_RECORDED_CALLS {
        fake.version().await.expect("version");
    }
    let _ = fake.inspect_container("x").await;
    let calls = fake.calls();
    assert_eq!(calls.len(), MAX_RECORDED_CALLS);
    assert_eq!(calls.last(), Some(&FakeCall::Inspect("x".into())));
}

#[tokio::test(start_paused = true)]
async fn injected_error_fails_that_method_n_times_then_clears() {
    let fake = fake_with(ImageBehaviour::default());
    let id = fake.create_container(&config("a")).await.expect("create");
    let boom = RuntimeError::Failed("boom".into());
    fake.inject_error(FakeMethod::Start, boom.clone(), 2);
    // Other methods are untouched.
    fake.version().await.expect("version");
    assert_eq!(fake.start_container(&id).await, Err(boom.clone()));
    assert_eq!(state(&fake, &id).await, ContainerRunState::Created);
    assert_eq!(fake.start_container(&id).await, Err(boom));
    fake.start_container(&id).await.expect("third start");
    assert_eq!(state(&fake, &id).await, ContainerRunState::Running);
    // Failed calls are recorded too.
    let starts = fake
        .calls()
        .iter()
        .filter(|c| matches!(c, FakeCall::Start(_)))
        .count();
    assert_eq!(starts, 3);
}

#[tokio::test(start_paused = true)]
async fn unavailable_fails_every_call_until_cleared() {
    let fake = fake_with(ImageBehaviour::default());
    let id = started(&fake, "a").await;
    fake.set_unavailable(true);
    let unavailable = |r: Result<(), RuntimeError>| matches!(r, Err(RuntimeError::Unavailable(_)));
    assert!(unavailable(fake.version().await.map(drop)));
    assert!(unavailable(
        fake.list_containers(&ListFilter::default()).await.map(drop)
    ));
    assert!(unavailable(fake.inspect_container(&id).await.map(drop)));
    assert!(unavailable(fake.stop_container(&id, SECOND).await));
    assert!(unavailable(
        fake.create_container(&config("b")).await.map(drop)
    ));
    assert!(unavailable(fake.pull_image(IMAGE).await.map(drop)));
    // Nothing changed behind the outage.
    fake.set_unavailable(false);
    assert_eq!(state(&fake, &id).await, ContainerRunState::Running);
    assert_eq!(
        fake.inspect_container("b").await.map(drop),
        Err(RuntimeError::NotFound("No such container: b".into()))
    );
}

#[tokio::test(start_paused = true)]
async fn run_for_exits_at_its_time_and_again_after_each_restart() {
    let fake = fake_with(ImageBehaviour {
        run_for: Some(Duration::from_secs(10)),
        exit_code: 1,
        ..ImageBehaviour::default()
    });
    let id = started(&fake, "crasher").await;
    tokio::time::advance(Duration::from_secs(9)).await;
    assert_eq!(state(&fake, &id).await, ContainerRunState::Running);
    tokio::time::advance(Duration::from_secs(5)).await;
    let info = fake.inspect_container(&id).await.expect("inspect");
    assert_eq!(info.state, ContainerRunState::Exited);
    assert_eq!(info.exit_code, Some(1));
    assert_eq!(info.started_at, Some(at(0)));
    // Finished when the run ended, not when it was observed.
    assert_eq!(info.finished_at, Some(at(10)));
    // Running-only lists leave it out.
    let running = fake
        .list_containers(&ListFilter::default())
        .await
        .expect("list");
    assert!(running.is_empty(), "{running:?}");

    fake.start_container(&id).await.expect("restart");
    let info = fake.inspect_container(&id).await.expect("inspect");
    assert_eq!(info.state, ContainerRunState::Running);
    assert_eq!(info.started_at, Some(at(14)));
    assert_eq!(info.exit_code, None);
    tokio::time::advance(Duration::from_secs(10)).await;
    let info = fake.inspect_container(&id).await.expect("inspect");
    assert_eq!(
        (info.state, info.exit_code, info.finished_at),
        (ContainerRunState::Exited, Some(1), Some(at(24)))
    );
}

#[tokio::test(start_paused = true)]
async fn start_delay_keeps_the_container_created_until_start_returns() {
    let fake = fake_with(ImageBehaviour {
        start_delay: Duration::from_secs(2),
        ..ImageBehaviour::default()
    });
    let id = fake
        .create_container(&config("slow"))
        .await
        .expect("create");
    let starting = tokio::spawn({
        let (fake, id) = (fake.clone(), id.clone());
        async move { fake.start_container(&id).await }
    });
    tokio::time::sleep(SECOND).await;
    assert_eq!(state(&fake, &id).await, ContainerRunState::Created);
    starting.await.expect("join").expect("start");
    let info = fake.inspect_container(&id).await.expect("inspect");
    assert_eq!(info.state, ContainerRunState::Running);
    assert_eq!(info.started_at, Some(at(2)));
}

#[tokio::test(start_paused = true)]
async fn stop_of_a_process_ignoring_sigterm_waits_the_grace_then_kills() {
    let fake = fake_with(ImageBehaviour {
        ignores_sigterm: true,
        ..ImageBehaviour::default()
    });
    let id = started(&fake, "stubborn").await;
    let begin = Instant::now();
    let stopping = tokio::spawn({
        let (fake, id) = (fake.clone(), id.clone());
        async move { fake.stop_container(&id, Duration::from_secs(30)).await }
    });
    tokio::time::sleep(Duration::from_secs(29)).await;
    assert_eq!(
        state(&fake, &id).await,
        ContainerRunState::Running,
        "still running within the grace period"
    );
    stopping.await.expect("join").expect("stop");
    assert_eq!(begin.elapsed(), Duration::from_secs(30));
    let info = fake.inspect_container(&id).await.expect("inspect");
    assert_eq!(
        (info.state, info.exit_code, info.finished_at),
        (ContainerRunState::Exited, Some(137), Some(at(30)))
    );
}

#[tokio::test(start_paused = true)]
async fn a_process_ending_by_itself_within_the_grace_keeps_its_exit_code() {
    let fake = fake_with(ImageBehaviour {
        ignores_sigterm: true,
        run_for: Some(Duration::from_secs(5)),
        exit_code: 4,
        ..ImageBehaviour::default()
    });
    let id = started(&fake, "finishing").await;
    let begin = Instant::now();
    fake.stop_container(&id, Duration::from_secs(30))
        .await
        .expect("stop");
    assert_eq!(begin.elapsed(), Duration::from_secs(5));
    let info = fake.inspect_container(&id).await.expect("inspect");
    assert_eq!((info.exit_code, info.finished_at), (Some(4), Some(at(5))));
}

#[tokio::test(start_paused = true)]
async fn sigterm_exit_code_is_the_images() {
    let cases = [
        (ImageBehaviour::default(), 143),
        (
            ImageBehaviour {
                sigterm_exit_code: 0,
                ..ImageBehaviour::default()
            },
            0,
        ),
    ];
    for (behaviour, want) in cases {
        let fake = fake_with(behaviour);
        let id = started(&fake, "a").await;
        let begin = Instant::now();
        fake.stop_container(&id, Duration::from_secs(30))
            .await
            .expect("stop");
        assert_eq!(begin.elapsed(), Duration::ZERO, "stops at once");
        let info = fake.inspect_container(&id).await.expect("inspect");
        assert_eq!(info.exit_code, Some(want));
    }
}

#[tokio::test(start_paused = true)]
async fn exit_container_ends_the_run_now_with_the_code() {
    let fake = fake_with(ImageBehaviour::default());
    let id = started(&fake, "a").await;
    tokio::time::advance(Duration::from_secs(3)).await;
    assert!(fake.exit_container(&id, 2));
    let info = fake.inspect_container(&id).await.expect("inspect");
    assert_eq!(
        (info.state, info.exit_code, info.finished_at),
        (ContainerRunState::Exited, Some(2), Some(at(3)))
    );
    assert!(!fake.exit_container(&id, 3), "not running any more");
    assert!(!fake.exit_container("missing", 3));
    assert_eq!(
        fake.inspect_container(&id)
            .await
            .expect("inspect")
            .exit_code,
        Some(2)
    );
}

#[tokio::test(start_paused = true)]
async fn exec_answers_as_told_and_a_hung_exec_times_out() {
    let fake = fake_with(ImageBehaviour::default());
    let id = started(&fake, "a").await;
    let argv = vec!["cat".to_string(), "/tmp/healthy".to_string()];
    let got = fake.exec(&id, &argv, SECOND).await.expect("exec");
    assert_eq!((got.exit_code, got.output), (0, Vec::new()), "default");
    fake.set_exec_result(&id, 1, b"no such file\n".to_vec());
    let got = fake.exec(&id, &argv, SECOND).await.expect("exec");
    assert_eq!((got.exit_code, got.output), (1, b"no such file\n".to_vec()));
    fake.hang_exec(&id);
    let begin = Instant::now();
    let err = fake.exec(&id, &argv, Duration::from_millis(500)).await;
    assert!(matches!(err, Err(RuntimeError::Timeout(_))), "{err:?}");
    assert_eq!(begin.elapsed(), Duration::from_millis(500));
    // A result set later replaces the hang.
    fake.set_exec_result(&id, 0, b"ok".to_vec());
    assert_eq!(
        fake.exec(&id, &argv, SECOND).await.expect("exec").exit_code,
        0
    );
}

#[tokio::test(start_paused = true)]
async fn followed_logs_stream_appended_output_until_the_container_exits() {
    let fake = fake_with(ImageBehaviour {
        run_for: Some(Duration::from_secs(60)),
        ..ImageBehaviour::default()
    });
    let id = started(&fake, "talker").await;
    let begin = Instant::now();
    fake.append_log(&id, b"one\ntwo\n");
    let follow = LogOptions {
        tail: Some(1),
        follow: true,
    };
    let mut stream = fake.logs(&id, follow).await.expect("logs");
    assert_eq!(next(&mut stream).await, Some(Ok(b"two\n".to_vec())));
    fake.append_log(&id, b"three\n");
    assert_eq!(next(&mut stream).await, Some(Ok(b"three\n".to_vec())));
    // The run ends by itself at 60 s: the stream ends with it, after the last output.
    fake.append_log(&id, b"bye\n");
    assert_eq!(next(&mut stream).await, Some(Ok(b"bye\n".to_vec())));
    let ended = tokio::time::timeout(Duration::from_secs(120), stream.next()).await;
    assert_eq!(ended, Ok(None));
    let after = begin.elapsed();
    assert!(
        after >= Duration::from_secs(60) && after <= Duration::from_secs(61),
        "ended {after:?} after the start, the run lasts 60 s"
    );

    // A second container's follower ends when it is killed; dropping a follower is fine.
    let id = started(&fake, "killed").await;
    let mut stream = fake.logs(&id, follow).await.expect("logs");
    let dropped = fake.logs(&id, follow).await.expect("logs");
    drop(dropped);
    assert!(fake.exit_container(&id, 137));
    assert_eq!(next(&mut stream).await, None);
}

/// The next item of a log stream, failing the test when none comes within 5 s.
async fn next(s: &mut LogStream) -> Option<Result<Vec<u8>, RuntimeError>> {
    tokio::time::timeout(Duration::from_secs(5), s.next())
        .await
        .expect("a chunk or the end within 5 s")
}

#[tokio::test(start_paused = true)]
async fn pulls_follow_the_images_behaviour() {
    let fake = FakeRuntime::new(Clock::virtual_at(t0()));
    fake.set_image_behaviour(
        "ok:1",
        ImageBehaviour {
            pullable: true,
            ..ImageBehaviour::default()
        },
    );
    fake.set_image_behaviour(
        "broken:1",
        ImageBehaviour {
            pullable: true,
            pull_error: Some("manifest unknown".into()),
            ..ImageBehaviour::default()
        },
    );
    assert_eq!(fake.image_status("ok:1").await, Ok(None));
    let pulled = fake.pull_image("ok:1").await.expect("pull");
    assert_eq!(
        fake.image_status("ok:1").await,
        Ok(Some(pulled)),
        "present once pulled"
    );
    assert_eq!(
        fake.pull_image("broken:1").await,
        Err(RuntimeError::ImagePull("manifest unknown".into()))
    );
    match fake.pull_image("team/never:2").await {
        Err(RuntimeError::ImagePull(m)) => assert!(
            m.starts_with("pull access denied for team/never,"),
            "Docker's message: {m}"
        ),
        other => panic!("expected ImagePull, got {other:?}"),
    }
    assert_eq!(fake.image_status("broken:1").await, Ok(None));
}

#[tokio::test(start_paused = true)]
async fn pod_ips_are_loopback_unique_and_only_for_running_own_namespaces() {
    let node_a = fake_with(ImageBehaviour::default());
    let node_b = fake_with(ImageBehaviour::default());
    let infra_a = started(&node_a, "infra").await;
    let infra_b = started(&node_b, "infra").await;
    let ip = |fake: FakeRuntime, id: String| async move {
        fake.inspect_container(&id)
            .await
            .expect("inspect")
            .ip_address
    };
    let (a, b) = (
        ip(node_a.clone(), infra_a.clone()).await,
        ip(node_b.clone(), infra_b.clone()).await,
    );
    for addr in [a, b] {
        match addr {
            Some(IpAddr::V4(v4)) => {
                assert!(v4.is_loopback() && v4.octets()[1] >= 1, "{v4}");
                assert!(!matches!(v4.octets()[3], 0 | 255), "{v4}");
            }
            other => panic!("expected a loopback IPv4, got {other:?}"),
        }
    }
    assert_ne!(
        a, b,
        "two simulated nodes in one process never share a pod IP"
    );

    let joined = ContainerConfig {
        network: NetworkMode::Container(infra_a.clone()),
        ..config("app")
    };
    let app = node_a.create_container(&joined).await.expect("create");
    node_a.start_container(&app).await.expect("start");
    assert_eq!(
        ip(node_a.clone(), app).await,
        None,
        "joined: the infra's IP"
    );
    for mode in [NetworkMode::Host, NetworkMode::None] {
        let c = ContainerConfig {
            network: mode.clone(),
            ..config(&format!("{mode:?}"))
        };
        let id = node_a.create_container(&c).await.expect("create");
        node_a.start_container(&id).await.expect("start");
        assert_eq!(ip(node_a.clone(), id).await, None, "{mode:?}");
    }
    node_a.stop_container(&infra_a, SECOND).await.expect("stop");
    assert_eq!(ip(node_a, infra_a).await, None, "no IP once exited");
}

#[tokio::test(start_paused = true)]
async fn containers_are_found_by_name_and_snapshot_with_their_config() {
    let fake = fake_with(ImageBehaviour::default());
    let labelled = ContainerConfig {
        labels: BTreeMap::from([("k".to_string(), "v".to_string())]),
        env: vec![("A".into(), "1".into())],
        ..config("named")
    };
    let id = fake.create_container(&labelled).await.expect("create");
    assert_eq!(
        fake.inspect_container("named").await.expect("by name").id,
        id
    );
    assert_eq!(fake.container_config(&id), Some(labelled));
    let all = fake.containers();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].labels.get("k").map(String::as_str), Some("v"));
    fake.remove_container("named")
        .await
        .expect("remove by name");
    assert!(fake.containers().is_empty());
    // The name is free again.
    fake.create_container(&config("named"))
        .await
        .expect("create again");
}

/// Simulated nodes run thousands of containers in one process: each must stay small (no task,
/// no timer, no buffer beyond its config and log).
#[test]
fn a_container_costs_little_memory() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let fake = FakeRuntime::new(Clock::real());
    fake.add_image(IMAGE);
    fake.set_call_recording(false);
    let n = 1000;
    // Labels as the kubelet sets them.
    let labels: BTreeMap<String, String> = [
        ("io.kubernetes.pod.namespace", "default"),
        ("io.kubernetes.pod.name", "frontend-3f9a2"),
        (
            "io.kubernetes.pod.uid",
            "6f1e1c1a-3b1d-4b5e-9a3c-0d2f4e6a8b1c",
        ),
        ("io.kubernetes.container.name", "php-redis"),
        ("io.kubernetes.container.hash", "9f3c2a1b"),
        ("io.kubernetes.node.name", "hollow-node-0042"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let ((), bytes) = peak_bytes(|| {
        rt.block_on(async {
            for i in 0..n {
                let c = ContainerConfig {
                    name: format!("k8s_php-redis_frontend-3f9a2_default_{i:08}_0"),
                    image: IMAGE.to_string(),
                    labels: labels.clone(),
                    ..ContainerConfig::default()
                };
                let id = fake.create_container(&c).await.expect("create");
                fake.start_container(&id).await.expect("start");
            }
        })
    });
    let per_container = bytes / n;
    assert!(
        per_container < 3 * 1024,
        "{per_container} bytes per running container"
    );
    assert!(fake.calls().is_empty(), "recording was off");
}
