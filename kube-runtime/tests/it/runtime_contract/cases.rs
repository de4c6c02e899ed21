//! The contract cases: each takes a harness and asserts what every runtime must do.

use super::{expect_err, read_logs, run_labels, wait_for_state, Harness, RUN_LABEL};
use kube_core::runtime::{
    ContainerConfig, ContainerRunState, ContainerRuntime, ListFilter, LogOptions, NetworkMode,
    RuntimeError,
};
use std::time::Duration;

/// A stop grace long enough that only a program ignoring SIGTERM would use it up.
const GRACE: Duration = Duration::from_secs(10);
/// An exec timeout much shorter than the hanging command.
const EXEC_TIMEOUT: Duration = Duration::from_millis(500);

/// Creates and starts `config`, returning its ID.
async fn run(rt: &dyn ContainerRuntime, config: &kube_core::runtime::ContainerConfig) -> String {
    let id = rt.create_container(config).await.expect("create");
    rt.start_container(&id).await.expect("start");
    id
}

fn this_run(h: &impl Harness) -> ListFilter {
    ListFilter::label(RUN_LABEL, h.run_id())
}

pub async fn create_is_created_and_listed(h: &impl Harness) {
    let rt = h.runtime();
    let config = h.until_stopped("c");
    let id = rt.create_container(&config).await.expect("create");
    let info = rt.inspect_container(&id).await.expect("inspect");
    assert_eq!(info.id, id);
    assert_eq!(info.name, config.name);
    assert_eq!(info.image, config.image);
    // Docker adds the image's own labels to the container's: the config's are a subset.
    let has_config_labels = |labels: &std::collections::BTreeMap<String, String>| {
        config.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
    };
    assert!(has_config_labels(&info.labels), "{info:?}");
    assert_eq!(info.state, ContainerRunState::Created);
    assert!(info.created_at.is_some(), "{info:?}");
    assert_eq!(
        (info.started_at, info.finished_at),
        (None, None),
        "{info:?}"
    );
    assert_eq!(info.exit_code, None);
    assert!(!info.image_id.is_empty());
    // By name as well as by ID.
    assert_eq!(
        rt.inspect_container(&config.name)
            .await
            .expect("inspect by name")
            .id,
        id
    );
    let listed = rt.list_containers(&this_run(h)).await.expect("list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    let s = &listed[0];
    assert_eq!(
        (&s.id, &s.name, &s.image, s.state),
        (&id, &config.name, &config.image, ContainerRunState::Created)
    );
    assert!(has_config_labels(&s.labels), "{s:?}");
}

pub async fn start_is_running_with_started_at(h: &impl Harness) {
    let rt = h.runtime();
    let id = rt
        .create_container(&h.until_stopped("c"))
        .await
        .expect("create");
    let created = rt.inspect_container(&id).await.expect("inspect");
    rt.start_container(&id).await.expect("start");
    let info = wait_for_state(h, &id, ContainerRunState::Running).await;
    let started = info.started_at.expect("started_at while running");
    assert!(
        started >= created.created_at.expect("created_at"),
        "{info:?}"
    );
    assert_eq!(info.exit_code, None);
    // Starting a running container is a no-op.
    rt.start_container(&id).await.expect("start again");
    let again = rt.inspect_container(&id).await.expect("inspect");
    assert_eq!(
        (again.state, again.started_at),
        (ContainerRunState::Running, Some(started))
    );
}

pub async fn self_exit_reports_code_and_finish(h: &impl Harness) {
    let rt = h.runtime();
    let id = run(rt.as_ref(), &h.exits_with("c", 7)).await;
    let info = wait_for_state(h, &id, ContainerRunState::Exited).await;
    assert_eq!(info.exit_code, Some(7), "{info:?}");
    let started = info.started_at.expect("started_at");
    let finished = info.finished_at.expect("finished_at");
    assert!(finished >= started, "{info:?}");
    assert_eq!(info.ip_address, None, "no address once exited");
}

pub async fn restart_of_exited_runs_again(h: &impl Harness) {
    let rt = h.runtime();
    let id = run(rt.as_ref(), &h.until_stopped("c")).await;
    let first = wait_for_state(h, &id, ContainerRunState::Running).await;
    rt.stop_container(&id, GRACE).await.expect("stop");
    let stopped = wait_for_state(h, &id, ContainerRunState::Exited).await;
    // Let a coarse (or virtual) clock move on, so the restart is a later instant.
    tokio::time::sleep(Duration::from_millis(10)).await;
    rt.start_container(&id)
        .await
        .expect("start the exited container");
    let second = wait_for_state(h, &id, ContainerRunState::Running).await;
    assert!(
        second.started_at > first.started_at,
        "restart has a newer started_at: {first:?} then {second:?}"
    );
    assert!(
        second.started_at >= stopped.finished_at,
        "{stopped:?} {second:?}"
    );
    assert_eq!(
        second.exit_code, None,
        "a running container has no exit code"
    );
}

pub async fn stop_with_grace_exits_and_is_idempotent(h: &impl Harness) {
    let rt = h.runtime();
    let created = rt
        .create_container(&h.until_stopped("created"))
        .await
        .expect("create");
    rt.stop_container(&created, GRACE)
        .await
        .expect("stopping a created container is Ok");
    assert_eq!(
        rt.inspect_container(&created).await.expect("inspect").state,
        ContainerRunState::Created,
        "and leaves it created"
    );
    let id = run(rt.as_ref(), &h.until_stopped("c")).await;
    wait_for_state(h, &id, ContainerRunState::Running).await;
    let before = tokio::time::Instant::now();
    rt.stop_container(&id, GRACE).await.expect("stop");
    assert!(
        before.elapsed() < GRACE,
        "a program that exits on SIGTERM does not use up the grace period"
    );
    let info = wait_for_state(h, &id, ContainerRunState::Exited).await;
    assert_eq!(
        info.exit_code,
        Some(0),
        "pause exits 0 on SIGTERM: {info:?}"
    );
    assert!(info.finished_at >= info.started_at, "{info:?}");
    rt.stop_container(&id, GRACE)
        .await
        .expect("stopping a stopped container is Ok");
    let again = rt.inspect_container(&id).await.expect("inspect");
    assert_eq!(
        (again.state, again.exit_code, again.finished_at),
        (ContainerRunState::Exited, Some(0), info.finished_at)
    );
}

pub async fn remove_running_conflicts_then_remove_is_not_found(h: &impl Harness) {
    let rt = h.runtime();
    let id = run(rt.as_ref(), &h.until_stopped("c")).await;
    wait_for_state(h, &id, ContainerRunState::Running).await;
    let e = expect_err(rt.remove_container(&id).await);
    assert!(matches!(e, RuntimeError::Conflict(_)), "{e:?}");
    assert_eq!(
        rt.inspect_container(&id).await.expect("still there").state,
        ContainerRunState::Running
    );
    rt.stop_container(&id, GRACE).await.expect("stop");
    rt.remove_container(&id).await.expect("remove");
    let e = expect_err(rt.inspect_container(&id).await);
    assert!(matches!(e, RuntimeError::NotFound(_)), "{e:?}");
    let listed = rt.list_containers(&this_run(h)).await.expect("list");
    assert!(listed.is_empty(), "{listed:?}");
    // A created container (never started) can be removed too.
    let id = rt
        .create_container(&h.until_stopped("c2"))
        .await
        .expect("create");
    rt.remove_container(&id).await.expect("remove created");
    let e = expect_err(rt.remove_container(&id).await);
    assert!(matches!(e, RuntimeError::NotFound(_)), "{e:?}");
}

pub async fn missing_container_is_not_found(h: &impl Harness) {
    let rt = h.runtime();
    let missing = format!("{}-missing", h.run_id());
    let not_found = |what: &str, r: Result<(), RuntimeError>| {
        let e = expect_err(r);
        assert!(matches!(e, RuntimeError::NotFound(_)), "{what}: {e:?}");
    };
    not_found("inspect", rt.inspect_container(&missing).await.map(|_| ()));
    not_found("start", rt.start_container(&missing).await);
    not_found("stop", rt.stop_container(&missing, GRACE).await);
    not_found("remove", rt.remove_container(&missing).await);
    not_found(
        "logs",
        rt.logs(&missing, LogOptions::default()).await.map(|_| ()),
    );
    not_found(
        "exec",
        rt.exec(&missing, &["true".to_string()], EXEC_TIMEOUT)
            .await
            .map(|_| ()),
    );
}

pub async fn create_with_missing_image_is_not_found(h: &impl Harness) {
    let rt = h.runtime();
    let mut config = h.until_stopped("c");
    config.image = h.missing_image();
    let e = expect_err(rt.create_container(&config).await);
    assert!(matches!(e, RuntimeError::NotFound(_)), "{e:?}");
    let listed = rt.list_containers(&this_run(h)).await.expect("list");
    assert!(listed.is_empty(), "nothing created: {listed:?}");
}

pub async fn pull_of_unpullable_image_is_image_pull(h: &impl Harness) {
    let rt = h.runtime();
    let image = h.missing_image();
    let e = expect_err(rt.pull_image(&image).await);
    let RuntimeError::ImagePull(message) = &e else {
        panic!("expected ImagePull, got {e:?}");
    };
    // The daemon's message names the image's repository (it may leave out the tag).
    let repo = image.rsplit_once(':').map_or(image.as_str(), |(r, _)| r);
    assert!(message.contains(repo), "{message:?} names {repo}");
    assert_eq!(rt.image_status(&image).await.expect("image_status"), None);
}

pub async fn image_status_present_and_missing(h: &impl Harness) {
    let rt = h.runtime();
    let present = rt
        .image_status(&h.present_image())
        .await
        .expect("image_status")
        .expect("present image");
    assert!(!present.id.is_empty());
    // The ID a container reports is the image's.
    let id = rt
        .create_container(&h.until_stopped("c"))
        .await
        .expect("create");
    let info = rt.inspect_container(&id).await.expect("inspect");
    assert_eq!(info.image_id, present.id);
    assert_eq!(
        rt.image_status(&h.missing_image()).await.expect("status"),
        None
    );
}

pub async fn image_without_tag_is_latest(h: &impl Harness) {
    let rt = h.runtime();
    let tagged = h.present_image();
    let untagged = tagged
        .strip_suffix(":latest")
        .expect("the harness's present image is a :latest tag")
        .to_string();
    let want = rt.image_status(&tagged).await.expect("status");
    assert!(want.is_some(), "{tagged} present");
    assert_eq!(rt.image_status(&untagged).await.expect("status"), want);
    // A container made from the untagged reference reports it as given, with the image's ID.
    let config = ContainerConfig {
        image: untagged.clone(),
        ..h.until_stopped("c")
    };
    let id = rt.create_container(&config).await.expect("create");
    let info = rt.inspect_container(&id).await.expect("inspect");
    assert_eq!(info.image, untagged);
    assert_eq!(Some(info.image_id), want.map(|i| i.id));
}

pub async fn duplicate_name_conflicts(h: &impl Harness) {
    let rt = h.runtime();
    let config = h.until_stopped("c");
    let id = rt.create_container(&config).await.expect("create");
    let e = expect_err(rt.create_container(&config).await);
    assert!(matches!(e, RuntimeError::Conflict(_)), "{e:?}");
    let listed = rt.list_containers(&this_run(h)).await.expect("list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    // Once removed, the name is free again.
    rt.remove_container(&id).await.expect("remove");
    rt.create_container(&config).await.expect("create again");
}

pub async fn list_filters_by_label_and_state(h: &impl Harness) {
    let rt = h.runtime();
    let created = rt
        .create_container(&h.until_stopped("created"))
        .await
        .expect("create");
    let mut marked = h.until_stopped("running");
    marked
        .labels
        .insert("kube-test.role".into(), "marked".into());
    let running = run(rt.as_ref(), &marked).await;
    let exited = run(rt.as_ref(), &h.exits_with("exited", 0)).await;
    wait_for_state(h, &running, ContainerRunState::Running).await;
    wait_for_state(h, &exited, ContainerRunState::Exited).await;

    let ids = |filter: ListFilter| {
        let rt = rt.clone();
        async move {
            let mut got: Vec<(String, ContainerRunState)> = rt
                .list_containers(&filter)
                .await
                .expect("list")
                .into_iter()
                .map(|s| (s.id, s.state))
                .collect();
            got.sort_by(|a, b| a.0.cmp(&b.0));
            got
        }
    };
    let mut all = vec![
        (created.clone(), ContainerRunState::Created),
        (running.clone(), ContainerRunState::Running),
        (exited.clone(), ContainerRunState::Exited),
    ];
    all.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(ids(this_run(h)).await, all, "all states with all");
    let running_only = ListFilter {
        all: false,
        ..this_run(h)
    };
    assert_eq!(
        ids(running_only).await,
        vec![(running.clone(), ContainerRunState::Running)],
        "without all: running only"
    );
    let both_labels = ListFilter {
        labels: vec![
            (RUN_LABEL.into(), h.run_id().into()),
            ("kube-test.role".into(), "marked".into()),
        ],
        all: true,
    };
    assert_eq!(
        ids(both_labels).await,
        vec![(running, ContainerRunState::Running)],
        "every label must match"
    );
    let other_run = ListFilter::label(RUN_LABEL, format!("{}-other", h.run_id()));
    assert_eq!(
        ids(other_run).await,
        vec![],
        "another value matches nothing"
    );
    assert_eq!(run_labels(h.run_id()).len(), 1);
}

pub async fn joined_container_shares_infra_network(h: &impl Harness) {
    let rt = h.runtime();
    let infra = run(rt.as_ref(), &h.until_stopped("infra")).await;
    let infra_info = wait_for_state(h, &infra, ContainerRunState::Running).await;
    let mut app = h.until_stopped("app");
    app.network = NetworkMode::Container(infra.clone());
    let app = run(rt.as_ref(), &app).await;
    let app_info = wait_for_state(h, &app, ContainerRunState::Running).await;
    assert!(
        infra_info.ip_address.is_some(),
        "the infra container has an address: {infra_info:?}"
    );
    assert_eq!(
        app_info.ip_address, None,
        "a joined container has none of its own"
    );
    // Its namespace outlives a stop of the infra container; starting it again is a no-op.
    rt.stop_container(&infra, GRACE).await.expect("stop infra");
    rt.start_container(&app)
        .await
        .expect("start a running joined container");
    assert_eq!(
        rt.inspect_container(&app).await.expect("inspect").state,
        ContainerRunState::Running
    );
    // A new container cannot join a stopped infra container: Conflict, and it stays created
    // with the runtime's message.
    let mut late = h.until_stopped("late");
    late.network = NetworkMode::Container(infra.clone());
    let late = rt.create_container(&late).await.expect("create late");
    let e = expect_err(rt.start_container(&late).await);
    assert!(matches!(e, RuntimeError::Conflict(_)), "{e:?}");
    let late_info = rt.inspect_container(&late).await.expect("inspect late");
    assert_eq!(late_info.state, ContainerRunState::Created, "{late_info:?}");
    assert!(
        late_info.error.contains("non running container"),
        "{late_info:?}"
    );
    rt.remove_container(&late).await.expect("remove late");
    // Joined containers go first (GUIDE §5).
    rt.stop_container(&app, GRACE).await.expect("stop app");
    rt.remove_container(&app).await.expect("remove app");
    rt.remove_container(&infra).await.expect("remove infra");
}

pub async fn exec_returns_exit_code_and_output(h: &impl Harness) {
    let rt = h.runtime();
    let id = run(rt.as_ref(), &h.prints_lines("c")).await;
    wait_for_state(h, &id, ContainerRunState::Running).await;
    let argv = h.exec_hi_exit_3(&id);
    let r = rt.exec(&id, &argv, h.deadline()).await.expect("exec");
    assert_eq!(r.exit_code, 3);
    assert_eq!(String::from_utf8_lossy(&r.output), "hi\n");
}

pub async fn exec_timeout_is_timeout(h: &impl Harness) {
    let rt = h.runtime();
    let id = run(rt.as_ref(), &h.prints_lines("c")).await;
    wait_for_state(h, &id, ContainerRunState::Running).await;
    let argv = h.exec_hangs(&id);
    let before = tokio::time::Instant::now();
    let e = expect_err(rt.exec(&id, &argv, EXEC_TIMEOUT).await);
    assert!(matches!(e, RuntimeError::Timeout(_)), "{e:?}");
    let took = before.elapsed();
    assert!(
        took >= EXEC_TIMEOUT && took < EXEC_TIMEOUT * 4,
        "gave up after the timeout, not much later: {took:?}"
    );
    assert_eq!(
        rt.inspect_container(&id).await.expect("inspect").state,
        ContainerRunState::Running,
        "a timed-out exec leaves the container running"
    );
}

pub async fn exec_in_stopped_container_is_conflict(h: &impl Harness) {
    let rt = h.runtime();
    let id = run(rt.as_ref(), &h.exits_with("c", 0)).await;
    wait_for_state(h, &id, ContainerRunState::Exited).await;
    let e = expect_err(rt.exec(&id, &["true".to_string()], h.deadline()).await);
    assert!(matches!(e, RuntimeError::Conflict(_)), "{e:?}");
    // Same for a container that was never started.
    let created = rt
        .create_container(&h.until_stopped("created"))
        .await
        .expect("create");
    let e = expect_err(rt.exec(&created, &["true".to_string()], h.deadline()).await);
    assert!(matches!(e, RuntimeError::Conflict(_)), "{e:?}");
}

/// Starts a `prints_lines` container and waits until its three lines are in its log.
async fn printed(h: &impl Harness) -> String {
    let rt = h.runtime();
    let id = run(rt.as_ref(), &h.prints_lines("c")).await;
    wait_for_state(h, &id, ContainerRunState::Running).await;
    h.emit_lines(&id);
    let deadline = tokio::time::Instant::now() + h.deadline();
    loop {
        let all = read_logs(h, &id, None).await;
        if all == "one\ntwo\nthree\n" {
            return id;
        }
        assert!(
            tokio::time::Instant::now() < deadline && "one\ntwo\nthree\n".starts_with(&all),
            "log so far: {all:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn logs_with_and_without_tail(h: &impl Harness) {
    let id = printed(h).await;
    let cases = [
        (None, "one\ntwo\nthree\n"),
        (Some(2), "two\nthree\n"),
        (Some(1), "three\n"),
        (Some(10), "one\ntwo\nthree\n"),
        (Some(0), ""),
    ];
    for (tail, want) in cases {
        assert_eq!(read_logs(h, &id, tail).await, want, "tail {tail:?}");
    }
}

pub async fn logs_follow_streams_lines(h: &impl Harness) {
    use futures_util::StreamExt;
    let id = printed(h).await;
    let rt = h.runtime();
    let mut stream = rt
        .logs(
            &id,
            LogOptions {
                tail: Some(1),
                follow: true,
            },
        )
        .await
        .expect("logs");
    let mut got = Vec::new();
    let read = tokio::time::timeout(h.deadline(), async {
        while !got.ends_with(b"three\n") {
            match stream.next().await {
                Some(chunk) => got.extend(chunk.expect("chunk")),
                None => break,
            }
        }
    })
    .await;
    assert!(read.is_ok(), "followed log within the deadline: {got:?}");
    assert_eq!(String::from_utf8_lossy(&got), "three\n");
    // The container is still running: following waits for more rather than ending.
    let more = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
    assert!(
        more.is_err(),
        "a followed log of a running container stays open: {more:?}"
    );
}

pub async fn version_answers(h: &impl Harness) {
    let v = h.runtime().version().await.expect("version");
    assert!(!v.name.is_empty() && !v.version.is_empty(), "{v:?}");
    assert_eq!(v.api_version, "1.41", "{v:?}");
}
