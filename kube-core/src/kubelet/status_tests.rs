use super::*;
use crate::kubelet::containers::PodContainers;
use crate::kubelet::sync::tests::{pod, t, C};
use crate::kubelet::sync::{PodExtras, StartFailure};
use crate::pod::Pod;
use crate::runtime::ContainerInfo;

fn status(p: &Pod, cs: &[C], extras: &PodExtras<'_>, now: i64) -> PodStatus {
    let infos: Vec<&ContainerInfo> = cs.iter().map(|c| &c.info).collect();
    let group = PodContainers::group(&p.metadata.uid, &infos);
    pod_status(
        p,
        &group,
        extras,
        &StatusContext {
            host_ip: "127.0.0.1",
            runtime_name: "docker",
            now: t(now),
        },
    )
}

/// (phase, waiting reason, running?, terminated exit code, last-state exit code, restarts, ready)
type Summary = (String, String, bool, Option<i32>, Option<i32>, i32, bool);

fn summary(s: &PodStatus) -> Summary {
    let c = &s.container_statuses[0];
    (
        s.phase.clone(),
        c.state
            .waiting
            .as_ref()
            .map(|w| w.reason.clone())
            .unwrap_or_default(),
        c.state.running.is_some(),
        c.state.terminated.as_ref().map(|t| t.exit_code),
        c.last_state.terminated.as_ref().map(|t| t.exit_code),
        c.restart_count,
        c.ready,
    )
}

#[test]
fn status_table() {
    let always = pod("Always");
    let never = pod("Never");
    let on_failure = pod("OnFailure");
    let mut probed = always.clone();
    probed.spec.containers[0].readiness_probe = Some(crate::pod::Probe::default());
    let infra = |p: &Pod| C::infra(p, 0, "i0");
    let s = |x: &str| x.to_string();
    let none = PodExtras::default();
    let cases: Vec<(&str, &Pod, Vec<C>, i64, Summary)> = vec![
        (
            "nothing yet: Pending, ContainerCreating",
            &always,
            vec![],
            0,
            (
                s("Pending"),
                s("ContainerCreating"),
                false,
                None,
                None,
                0,
                false,
            ),
        ),
        (
            "running: Running and ready",
            &always,
            vec![infra(&always), C::app(&always, "app", 0, "a0")],
            1,
            (s("Running"), s(""), true, None, None, 0, true),
        ),
        (
            "running with a readiness probe not yet passed: not ready",
            &probed,
            vec![infra(&probed), C::app(&probed, "app", 0, "a0")],
            1,
            (s("Running"), s(""), true, None, None, 0, false),
        ),
        (
            "restarted: last state is the previous run",
            &always,
            vec![
                infra(&always),
                C::app(&always, "app", 1, "a1"),
                C::app(&always, "app", 0, "a0").exited(3, 0, 2),
            ],
            5,
            (s("Running"), s(""), true, None, Some(3), 1, true),
        ),
        (
            "crash loop: waiting CrashLoopBackOff, still Running phase",
            &always,
            vec![
                infra(&always),
                C::app(&always, "app", 1, "a1").exited(1, 2, 3),
            ],
            5,
            (
                s("Running"),
                s("CrashLoopBackOff"),
                false,
                None,
                Some(1),
                1,
                false,
            ),
        ),
        (
            "Never, exit 0: Succeeded",
            &never,
            vec![
                infra(&never),
                C::app(&never, "app", 0, "a0").exited(0, 0, 3),
            ],
            5,
            (s("Succeeded"), s(""), false, Some(0), None, 0, false),
        ),
        (
            "Never, exit 2: Failed",
            &never,
            vec![
                infra(&never),
                C::app(&never, "app", 0, "a0").exited(2, 0, 3),
            ],
            5,
            (s("Failed"), s(""), false, Some(2), None, 0, false),
        ),
        (
            "OnFailure, exit 0: Succeeded",
            &on_failure,
            vec![
                infra(&on_failure),
                C::app(&on_failure, "app", 0, "a0").exited(0, 0, 3),
            ],
            5,
            (s("Succeeded"), s(""), false, Some(0), None, 0, false),
        ),
        (
            "OnFailure, first failure about to restart: Running",
            &on_failure,
            vec![
                infra(&on_failure),
                C::app(&on_failure, "app", 0, "a0").exited(1, 0, 3),
            ],
            3,
            (s("Running"), s(""), false, Some(1), None, 0, false),
        ),
        (
            "created, not started: Pending",
            &always,
            vec![infra(&always), C::app(&always, "app", 0, "a0").created()],
            3,
            (
                s("Pending"),
                s("ContainerCreating"),
                false,
                None,
                None,
                0,
                false,
            ),
        ),
    ];
    for (name, p, cs, now, want) in cases {
        assert_eq!(summary(&status(p, &cs, &none, now)), want, "{name}");
    }
}

#[test]
fn terminal_phase_is_sticky() {
    let mut p = pod("Never");
    p.status.phase = "Succeeded".into();
    let st = status(&p, &[], &PodExtras::default(), 9);
    assert_eq!(st.phase, "Succeeded");
}

#[test]
fn image_pull_failure_then_backoff() {
    let p = pod("Always");
    let f = StartFailure {
        reason: "ErrImagePull".into(),
        message: "pull access denied for busybox".into(),
        attempts: 1,
        at: t(100),
    };
    let extras = PodExtras {
        start_failures: [("app", &f)].into_iter().collect(),
        ..PodExtras::default()
    };
    let cs = vec![C::infra(&p, 0, "i0")];
    let cases = [
        (100, "ErrImagePull", "pull access denied for busybox"),
        (
            101,
            "ImagePullBackOff",
            "Back-off pulling image \"busybox\": pull access denied for busybox",
        ),
        (110, "ErrImagePull", "pull access denied for busybox"),
    ];
    for (now, reason, message) in cases {
        let st = status(&p, &cs, &extras, now);
        let w = st.container_statuses[0].state.waiting.clone().unwrap();
        assert_eq!(
            (w.reason.as_str(), w.message.as_str()),
            (reason, message),
            "{now}"
        );
        assert_eq!(st.phase, "Pending", "{now}");
    }
}

#[test]
fn ids_ips_times_and_conditions() {
    let p = pod("Always");
    let cs = vec![C::infra(&p, 0, "i0"), C::app(&p, "app", 0, "a0")];
    let st = status(&p, &cs, &PodExtras::default(), 7);
    assert_eq!(st.pod_ip, "127.1.0.1");
    assert_eq!(st.host_ip, "127.0.0.1");
    assert_eq!(st.start_time, t(7).to_rfc3339());
    let c = &st.container_statuses[0];
    assert_eq!(c.container_id, "docker://a0");
    assert_eq!(c.image_id, "sha256:1");
    assert_eq!(c.image, "busybox");
    for type_ in ["Initialized", "Ready", "ContainersReady"] {
        let cond = st.condition(type_).unwrap();
        assert_eq!(cond.status, "True", "{type_}");
        assert_eq!(cond.last_transition_time, t(7).to_rfc3339(), "{type_}");
    }

    // Recomputed later with nothing changed: identical, so nothing is written.
    let mut again = p.clone();
    again.status = st.clone();
    assert_eq!(status(&again, &cs, &PodExtras::default(), 50), st);

    // The container dies: Ready flips, with a new transition time and a reason.
    let dead = vec![
        C::infra(&p, 0, "i0"),
        C::app(&p, "app", 0, "a0").exited(1, 0, 60),
    ];
    let later = status(&again, &dead, &PodExtras::default(), 60);
    let ready = later.condition("Ready").unwrap();
    assert_eq!(
        (
            ready.status.as_str(),
            ready.reason.as_str(),
            ready.message.as_str()
        ),
        (
            "False",
            "ContainersNotReady",
            "containers with unready status: [app]"
        )
    );
    assert_eq!(ready.last_transition_time, t(60).to_rfc3339());
    assert_eq!(later.start_time, t(7).to_rfc3339());
}
