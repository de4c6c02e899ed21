use super::*;
use crate::kubelet::config::{container_hash, infra_hash};
use crate::kubelet::containers::PodContainers;
use crate::kubelet::labels;
use crate::pod::Pod;
use crate::runtime::{ContainerInfo, ContainerRunState};
use crate::testing::PodBuilder;
use std::collections::BTreeMap;
use SyncAction::*;

const UID: &str = "uid-1";

pub(crate) fn t(secs: i64) -> Timestamp {
    Timestamp::from_unix(1_700_000_000 + secs, 0)
}

pub(crate) fn pod(policy: &str) -> Pod {
    PodBuilder::new("web")
        .uid(UID)
        .node("n1")
        .restart_policy(policy)
        .container("app", "busybox")
        .build()
}

/// A container of `pod` as the runtime would report it.
#[derive(Clone)]
pub(crate) struct C {
    pub info: ContainerInfo,
}

impl C {
    pub fn infra(pod: &Pod, attempt: i32, id: &str) -> C {
        C::new(
            labels::INFRA_CONTAINER_NAME,
            attempt,
            id,
            infra_hash(pod),
            &pod.metadata.uid,
        )
    }

    pub fn app(pod: &Pod, name: &str, rc: i32, id: &str) -> C {
        let c = pod
            .spec
            .containers
            .iter()
            .find(|c| c.name == name)
            .map(container_hash)
            .unwrap_or(7);
        C::new(name, rc, id, c, &pod.metadata.uid)
    }

    fn new(name: &str, rc: i32, id: &str, hash: u64, uid: &str) -> C {
        let labels: BTreeMap<String, String> = [
            (labels::POD_UID, uid.to_string()),
            (labels::CONTAINER_NAME, name.to_string()),
            (labels::RESTART_COUNT, rc.to_string()),
            (labels::CONTAINER_HASH, format!("{hash:x}")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        C {
            info: ContainerInfo {
                id: id.into(),
                name: format!("k8s_{name}_{rc}"),
                image: "busybox".into(),
                image_id: "sha256:1".into(),
                labels,
                state: ContainerRunState::Running,
                exit_code: None,
                oom_killed: false,
                error: String::new(),
                created_at: Some(t(0)),
                started_at: Some(t(0)),
                finished_at: None,
                ip_address: Some("127.1.0.1".parse().unwrap()),
            },
        }
    }

    pub fn exited(mut self, code: i64, started: i64, finished: i64) -> C {
        self.info.state = ContainerRunState::Exited;
        self.info.exit_code = Some(code);
        self.info.started_at = Some(t(started));
        self.info.finished_at = Some(t(finished));
        self
    }

    pub fn created(mut self) -> C {
        self.info.state = ContainerRunState::Created;
        self.info.started_at = None;
        self
    }

    pub fn hash(mut self, h: &str) -> C {
        self.info
            .labels
            .insert(labels::CONTAINER_HASH.into(), h.into());
        self
    }
}

pub(crate) fn plan(pod: &Pod, cs: &[C], extras: &PodExtras<'_>, now: i64) -> SyncPlan {
    let infos: Vec<&ContainerInfo> = cs.iter().map(|c| &c.info).collect();
    let group = PodContainers::group(&pod.metadata.uid, &infos);
    plan_pod(pod, &group, extras, t(now))
}

fn kill(id: &str, grace: u64, reason: KillReason) -> SyncAction {
    KillContainer {
        id: id.into(),
        grace: Duration::from_secs(grace),
        reason,
    }
}

fn start(rc: i32) -> SyncAction {
    StartContainer {
        name: "app".into(),
        restart_count: rc,
    }
}

fn rm(id: &str) -> SyncAction {
    RemoveContainer { id: id.into() }
}

#[test]
fn plan_table() {
    let always = pod("Always");
    let never = pod("Never");
    let on_failure = pod("OnFailure");
    let mut changed = always.clone();
    changed.spec.containers[0].image = "busybox:2".into();
    let mut ports_changed = always.clone();
    ports_changed.spec.containers[0]
        .ports
        .push(crate::pod::ContainerPort {
            container_port: 80,
            host_port: 8080,
            ..Default::default()
        });
    let infra = |p: &Pod| C::infra(p, 0, "i0");
    let none = PodExtras::default();

    // (name, pod, containers, now, actions, resync_at)
    type Case<'a> = (&'a str, &'a Pod, Vec<C>, i64, Vec<SyncAction>, Option<i64>);
    let cases: Vec<Case<'_>> = vec![
        (
            "new pod: infra first",
            &always,
            vec![],
            0,
            vec![StartInfra { attempt: 0 }],
            None,
        ),
        (
            "infra up: start the app",
            &always,
            vec![infra(&always)],
            0,
            vec![start(0)],
            None,
        ),
        (
            "running and unchanged: nothing",
            &always,
            vec![infra(&always), C::app(&always, "app", 0, "a0")],
            5,
            vec![],
            None,
        ),
        (
            "first exit restarts at once (Always)",
            &always,
            vec![
                infra(&always),
                C::app(&always, "app", 0, "a0").exited(1, 0, 3),
            ],
            3,
            vec![start(1)],
            None,
        ),
        (
            "second exit waits 10 s",
            &always,
            vec![
                infra(&always),
                C::app(&always, "app", 1, "a1").exited(1, 4, 5),
                C::app(&always, "app", 0, "a0").exited(1, 0, 3),
            ],
            9,
            vec![],
            Some(15),
        ),
        (
            "second exit restarts once 10 s passed",
            &always,
            vec![
                infra(&always),
                C::app(&always, "app", 1, "a1").exited(1, 4, 5),
                C::app(&always, "app", 0, "a0").exited(1, 0, 3),
            ],
            15,
            vec![start(2)],
            None,
        ),
        (
            "back-off doubles: third exit waits 20 s",
            &always,
            vec![
                infra(&always),
                C::app(&always, "app", 2, "a2").exited(1, 20, 21),
                C::app(&always, "app", 1, "a1").exited(1, 4, 5),
            ],
            30,
            vec![],
            Some(41),
        ),
        (
            "back-off caps at 5 min",
            &always,
            vec![
                infra(&always),
                C::app(&always, "app", 20, "a20").exited(1, 0, 100),
            ],
            200,
            vec![],
            Some(400),
        ),
        (
            "a 10 min run resets the back-off",
            &always,
            vec![
                infra(&always),
                C::app(&always, "app", 5, "a5").exited(1, 0, 600),
            ],
            600,
            vec![start(6)],
            None,
        ),
        (
            "Always restarts a clean exit too",
            &always,
            vec![
                infra(&always),
                C::app(&always, "app", 0, "a0").exited(0, 0, 3),
            ],
            3,
            vec![start(1)],
            None,
        ),
        (
            "OnFailure restarts a failure",
            &on_failure,
            vec![
                infra(&on_failure),
                C::app(&on_failure, "app", 0, "a0").exited(2, 0, 3),
            ],
            3,
            vec![start(1)],
            None,
        ),
        (
            "OnFailure leaves a success; the finished pod's infra stops",
            &on_failure,
            vec![
                infra(&on_failure),
                C::app(&on_failure, "app", 0, "a0").exited(0, 0, 3),
            ],
            3,
            vec![kill("i0", 30, KillReason::PodFinished)],
            None,
        ),
        (
            "Never leaves a failure; infra stops",
            &never,
            vec![
                infra(&never),
                C::app(&never, "app", 0, "a0").exited(1, 0, 3),
            ],
            3,
            vec![kill("i0", 30, KillReason::PodFinished)],
            None,
        ),
        (
            "finished pod with its infra stopped: no new sandbox, the old one goes",
            &never,
            vec![
                infra(&never).exited(0, 0, 4),
                C::app(&never, "app", 0, "a0").exited(1, 0, 3),
            ],
            9,
            vec![rm("i0")],
            None,
        ),
        (
            "changed spec: running container is killed",
            &changed,
            vec![infra(&changed), C::app(&always, "app", 0, "a0")],
            5,
            vec![kill("a0", 30, KillReason::SpecChanged)],
            None,
        ),
        (
            "changed spec: the exited old one is replaced at once, no back-off",
            &changed,
            vec![
                infra(&changed),
                C::app(&always, "app", 3, "a3").exited(137, 0, 5),
            ],
            5,
            vec![start(4)],
            None,
        ),
        (
            "dead infra: apps stop, a new sandbox is made",
            &always,
            vec![
                infra(&always).exited(137, 0, 4),
                C::app(&always, "app", 0, "a0"),
            ],
            5,
            vec![
                kill("a0", 30, KillReason::SandboxDead),
                rm("i0"),
                StartInfra { attempt: 1 },
            ],
            None,
        ),
        (
            "new host ports: the sandbox is recreated",
            &ports_changed,
            vec![infra(&always), C::app(&ports_changed, "app", 0, "a0")],
            5,
            vec![
                kill("a0", 30, KillReason::SandboxDead),
                kill("i0", 30, KillReason::SpecChanged),
                StartInfra { attempt: 1 },
            ],
            None,
        ),
        (
            "two running infra containers: the older one stops",
            &always,
            vec![
                C::infra(&always, 1, "i1"),
                infra(&always),
                C::app(&always, "app", 0, "a0"),
            ],
            5,
            vec![kill("i0", 2, KillReason::Duplicate)],
            None,
        ),
        (
            "created but never started: removed and made again",
            &always,
            vec![infra(&always), C::app(&always, "app", 0, "a0").created()],
            5,
            vec![rm("a0"), start(0)],
            None,
        ),
        (
            "old runs beyond the newest two are removed",
            &always,
            vec![
                infra(&always),
                C::app(&always, "app", 3, "a3"),
                C::app(&always, "app", 2, "a2").exited(1, 0, 1),
                C::app(&always, "app", 1, "a1").exited(1, 0, 1),
                C::app(&always, "app", 0, "a0").exited(1, 0, 1),
            ],
            5,
            vec![rm("a1"), rm("a0")],
            None,
        ),
        (
            "a container no longer in the spec is stopped and removed",
            &always,
            vec![
                infra(&always),
                C::app(&always, "app", 0, "a0"),
                C::app(&always, "old", 0, "o0"),
                C::app(&always, "old2", 0, "o1").exited(0, 0, 1),
            ],
            5,
            vec![kill("o0", 30, KillReason::NotInSpec), rm("o1")],
            None,
        ),
        (
            "a bad hash label is a changed spec",
            &always,
            vec![infra(&always), C::app(&always, "app", 0, "a0").hash("zz")],
            5,
            vec![kill("a0", 30, KillReason::SpecChanged)],
            None,
        ),
    ];
    for (name, pod, cs, now, want, resync) in cases {
        let got = plan(pod, &cs, &none, now);
        assert_eq!(got.actions, want, "{name}");
        assert_eq!(got.resync_at, resync.map(t), "{name}: resync");
    }
}

#[test]
fn unhealthy_container_is_killed_then_backs_off() {
    let p = pod("Always");
    let running = vec![C::infra(&p, 0, "i0"), C::app(&p, "app", 2, "a2")];
    let extras = PodExtras {
        unhealthy: vec!["a2"],
        ..PodExtras::default()
    };
    assert_eq!(
        plan(&p, &running, &extras, 50).actions,
        vec![kill("a2", 30, KillReason::Unhealthy)]
    );
    // Once it exited, the usual back-off applies (restart 2 → 3 waits 20 s).
    let exited = vec![
        C::infra(&p, 0, "i0"),
        C::app(&p, "app", 2, "a2").exited(137, 10, 50),
    ];
    let got = plan(&p, &exited, &PodExtras::default(), 51);
    assert_eq!((got.actions, got.resync_at), (vec![], Some(t(70))));
}

#[test]
fn start_failures_back_off() {
    let p = pod("Always");
    let cs = vec![C::infra(&p, 0, "i0")];
    let failure = |attempts, at| StartFailure {
        reason: "ErrImagePull".into(),
        message: "pull access denied".into(),
        attempts,
        at: t(at),
    };
    // (attempts, failed at, now, actions, resync)
    let cases = [
        (1, 100, 100, vec![], Some(101)),
        (1, 100, 105, vec![], Some(110)),
        (1, 100, 110, vec![start(0)], None),
        (2, 100, 115, vec![], Some(120)),
        (3, 100, 139, vec![], Some(140)),
        (3, 100, 140, vec![start(0)], None),
        (30, 100, 399, vec![], Some(400)),
    ];
    for (attempts, at, now, want, resync) in cases {
        let f = failure(attempts, at);
        let extras = PodExtras {
            start_failures: [("app", &f)].into_iter().collect(),
            ..PodExtras::default()
        };
        let got = plan(&p, &cs, &extras, now);
        assert_eq!(got.actions, want, "attempts {attempts} now {now}");
        assert_eq!(
            got.resync_at,
            resync.map(t),
            "attempts {attempts} now {now}"
        );
    }
}

#[test]
fn sandbox_failures_back_off() {
    let p = pod("Always");
    let f = StartFailure {
        reason: "FailedCreatePodSandBox".into(),
        message: "port is already allocated".into(),
        attempts: 2,
        at: t(100),
    };
    let extras = PodExtras {
        start_failures: [(labels::INFRA_CONTAINER_NAME, &f)].into_iter().collect(),
        ..PodExtras::default()
    };
    let got = plan(&p, &[], &extras, 105);
    assert_eq!((got.actions, got.resync_at), (vec![], Some(t(120))));
    let got = plan(&p, &[], &extras, 120);
    assert_eq!(got.actions, vec![StartInfra { attempt: 0 }]);
}

#[test]
fn terminating_pod_is_torn_down_then_deleted() {
    let mut p = pod("Always");
    p.metadata.deletion_timestamp = t(30).to_rfc3339();
    let cases = [
        (
            "running: apps then infra stop within what is left of the grace",
            vec![C::infra(&p, 0, "i0"), C::app(&p, "app", 0, "a0")],
            10,
            vec![
                kill("a0", 20, KillReason::PodDeleted),
                kill("i0", 20, KillReason::PodDeleted),
                rm("i0"),
                rm("a0"),
                DeletePod,
            ],
        ),
        (
            "past the deadline: no grace left",
            vec![C::infra(&p, 0, "i0"), C::app(&p, "app", 0, "a0")],
            40,
            vec![
                kill("a0", 0, KillReason::PodDeleted),
                kill("i0", 0, KillReason::PodDeleted),
                rm("i0"),
                rm("a0"),
                DeletePod,
            ],
        ),
        (
            "already stopped: removed, then the pod is deleted",
            vec![
                C::infra(&p, 0, "i0").exited(0, 0, 5),
                C::app(&p, "app", 0, "a0").exited(143, 0, 5),
            ],
            10,
            vec![rm("i0"), rm("a0"), DeletePod],
        ),
        ("no containers: just delete", vec![], 10, vec![DeletePod]),
    ];
    for (name, cs, now, want) in cases {
        assert_eq!(
            plan(&p, &cs, &PodExtras::default(), now).actions,
            want,
            "{name}"
        );
    }
}

#[test]
fn orphans_are_stopped_and_removed() {
    let p = pod("Always");
    let cs = [
        C::infra(&p, 0, "i0"),
        C::app(&p, "app", 1, "a1"),
        C::app(&p, "app", 0, "a0").exited(1, 0, 1),
    ];
    let infos: Vec<&ContainerInfo> = cs.iter().map(|c| &c.info).collect();
    let group = PodContainers::group(UID, &infos);
    assert_eq!(
        plan_orphan(&group).actions,
        vec![
            kill("a1", 2, KillReason::Orphan),
            kill("i0", 2, KillReason::Orphan),
            rm("i0"),
            rm("a1"),
            rm("a0"),
        ]
    );
}

#[test]
fn other_pods_and_foreign_containers_are_ignored() {
    let p = pod("Always");
    let other = PodBuilder::new("x")
        .uid("uid-2")
        .container("app", "busybox")
        .build();
    let mut foreign = C::app(&p, "app", 0, "f0");
    foreign.info.labels.clear();
    let cs = vec![C::app(&other, "app", 0, "o0"), foreign];
    assert_eq!(
        plan(&p, &cs, &PodExtras::default(), 0).actions,
        vec![StartInfra { attempt: 0 }]
    );
}

#[test]
fn should_restart_table() {
    let cases = [
        ("Always", Some(0), true),
        ("Always", Some(1), true),
        ("", Some(0), true),
        ("OnFailure", Some(0), false),
        ("OnFailure", Some(137), true),
        ("OnFailure", None, true),
        ("Never", Some(1), false),
        ("Never", Some(0), false),
    ];
    for (policy, code, want) in cases {
        assert_eq!(should_restart(policy, code), want, "{policy} {code:?}");
    }
}
