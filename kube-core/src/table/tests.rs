use super::*;
use crate::endpoints::{EndpointAddress, EndpointPort, EndpointSubset};
use crate::event::EventSource;
use crate::node::NodeAddress;
use crate::pod::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus,
};
use crate::testing::{NodeBuilder, PodBuilder, ReplicationControllerBuilder, ServiceBuilder};
use crate::{Endpoints, Event, Lease, Node, ObjectReference, Pod, ReplicationController, Service};
use serde_json::json;

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).expect("test time")
}

const NOW: &str = "2026-11-28T12:00:00Z";

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn human_duration_matches_apimachinery() {
    const M: u64 = 60;
    const H: u64 = 3600;
    const D: u64 = 24 * H;
    const Y: u64 = 365 * D;
    let cases = [
        (Duration::from_millis(300), "0s"),
        (secs(5), "5s"),
        (secs(119), "119s"),
        (secs(120), "2m"),
        (secs(2 * M + 5), "2m5s"),
        (secs(9 * M + 59), "9m59s"),
        (secs(10 * M + 30), "10m"),
        (secs(179 * M), "179m"),
        (secs(3 * H), "3h"),
        (secs(3 * H + 20 * M + 10), "3h20m"),
        (secs(7 * H + 59 * M), "7h59m"),
        (secs(8 * H + 30 * M), "8h"),
        (secs(47 * H), "47h"),
        (secs(2 * D), "2d"),
        (secs(3 * D + 4 * H), "3d4h"),
        (secs(7 * D + 23 * H), "7d23h"),
        (secs(8 * D + 5 * H), "8d"),
        (secs(300 * D), "300d"),
        (secs(2 * Y - H), "729d"),
        (secs(2 * Y), "2y"),
        (secs(2 * Y + 10 * D), "2y10d"),
        (secs(7 * Y + 364 * D), "7y364d"),
        (secs(8 * Y + 100 * D), "8y"),
        (secs(30 * Y), "30y"),
    ];
    for (d, want) in cases {
        assert_eq!(human_duration(d), want, "{d:?}");
    }
}

#[test]
fn age_is_measured_from_the_given_now() {
    let cases = [
        ("2026-11-28T11:59:55Z", "5s"),
        ("2026-11-28T11:57:00Z", "3m"),
        ("2026-11-26T12:00:00Z", "2d"),
        ("2026-11-28T12:00:00Z", "0s"),
        // A little clock skew reads as now; more is invalid.
        ("2026-11-28T12:00:01.5Z", "0s"),
        ("2026-11-28T12:00:02Z", "<invalid>"),
        ("", "<unknown>"),
        ("yesterday", "<unknown>"),
    ];
    for (created, want) in cases {
        assert_eq!(age(created, at(NOW)), want, "{created:?}");
    }
}

fn container(name: &str, state: ContainerState, ready: bool, restarts: i32) -> ContainerStatus {
    ContainerStatus {
        name: name.into(),
        state,
        ready,
        restart_count: restarts,
        ..ContainerStatus::default()
    }
}

fn waiting(reason: &str) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: reason.into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn running() -> ContainerState {
    ContainerState {
        running: Some(ContainerStateRunning {
            started_at: "2026-11-28T11:00:00Z".into(),
        }),
        ..Default::default()
    }
}

fn terminated(exit_code: i32, signal: i32, reason: &str) -> ContainerState {
    ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code,
            signal,
            reason: reason.into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A pod with two containers, in `phase`, with the given container statuses.
fn pod(phase: &str, statuses: Vec<ContainerStatus>) -> Pod {
    let mut p = PodBuilder::new("web")
        .container("a", "img-a")
        .container("b", "img-b")
        .phase(phase)
        .build();
    p.status.container_statuses = statuses;
    p
}

#[test]
fn pod_status_ready_and_restarts_like_kubectl() {
    let deleting = |mut p: Pod| {
        p.metadata.deletion_timestamp = "2026-11-28T12:00:30Z".into();
        p
    };
    let with_reason = |mut p: Pod, r: &str| {
        p.status.reason = r.into();
        p
    };
    let ready_cond = |p: Pod| {
        let mut p = p;
        p.status.conditions.push(crate::pod::PodCondition {
            type_: "Ready".into(),
            status: "True".into(),
            ..Default::default()
        });
        p
    };
    // (case, pod, STATUS, ready, restarts)
    let cases: Vec<(&str, Pod, &str, usize, i64)> = vec![
        ("unscheduled", pod("Pending", vec![]), "Pending", 0, 0),
        (
            "creating",
            pod(
                "Pending",
                vec![
                    container("a", waiting("ContainerCreating"), false, 0),
                    container("b", waiting("ContainerCreating"), false, 0),
                ],
            ),
            "ContainerCreating",
            0,
            0,
        ),
        (
            "running, one ready",
            pod(
                "Running",
                vec![
                    container("a", running(), true, 0),
                    container("b", running(), false, 0),
                ],
            ),
            "Running",
            1,
            0,
        ),
        (
            "crash loop wins over running, restarts summed",
            pod(
                "Running",
                vec![
                    container("a", running(), true, 1),
                    container("b", waiting("CrashLoopBackOff"), false, 4),
                ],
            ),
            "CrashLoopBackOff",
            1,
            5,
        ),
        (
            "the first container's reason has the last word",
            pod(
                "Pending",
                vec![
                    container("a", waiting("ErrImagePull"), false, 0),
                    container("b", waiting("ContainerCreating"), false, 0),
                ],
            ),
            "ErrImagePull",
            0,
            0,
        ),
        (
            "completed",
            pod(
                "Succeeded",
                vec![
                    container("a", terminated(0, 0, "Completed"), false, 0),
                    container("b", terminated(0, 0, "Completed"), false, 0),
                ],
            ),
            "Completed",
            0,
            0,
        ),
        (
            "completed but another container still runs, pod not ready",
            pod(
                "Running",
                vec![
                    container("a", terminated(0, 0, "Completed"), false, 0),
                    container("b", running(), true, 0),
                ],
            ),
            "NotReady",
            1,
            0,
        ),
        (
            "completed but another container still runs, pod ready",
            ready_cond(pod(
                "Running",
                vec![
                    container("a", terminated(0, 0, "Completed"), false, 0),
                    container("b", running(), true, 0),
                ],
            )),
            "Running",
            1,
            0,
        ),
        (
            "error",
            pod(
                "Failed",
                vec![container("a", terminated(1, 0, "Error"), false, 0)],
            ),
            "Error",
            0,
            0,
        ),
        (
            "exit code without reason",
            pod(
                "Failed",
                vec![container("a", terminated(3, 0, ""), false, 0)],
            ),
            "ExitCode:3",
            0,
            0,
        ),
        (
            "signal without reason",
            pod(
                "Failed",
                vec![container("a", terminated(137, 9, ""), false, 0)],
            ),
            "Signal:9",
            0,
            0,
        ),
        (
            "terminating",
            deleting(pod("Running", vec![container("a", running(), true, 0)])),
            "Terminating",
            1,
            0,
        ),
        (
            "a finished pod being deleted keeps its status",
            deleting(pod(
                "Succeeded",
                vec![container("a", terminated(0, 0, "Completed"), false, 0)],
            )),
            "Completed",
            0,
            0,
        ),
        (
            "lost node",
            with_reason(
                deleting(pod("Running", vec![container("a", running(), true, 0)])),
                "NodeLost",
            ),
            "Unknown",
            1,
            0,
        ),
        (
            "pod reason shown when containers say nothing",
            with_reason(pod("Failed", vec![]), "Evicted"),
            "Evicted",
            0,
            0,
        ),
    ];
    for (name, p, status, ready, restarts) in cases {
        let s = pod_summary(&p);
        assert_eq!(
            (s.status.as_str(), s.ready, s.total, s.restarts),
            (status, ready, 2, restarts),
            "{name}"
        );
    }
}

#[test]
fn pod_row_has_kubectls_cells() {
    let mut p = pod(
        "Running",
        vec![
            container("a", running(), true, 2),
            container("b", running(), true, 0),
        ],
    );
    p.metadata.creation_timestamp = "2026-11-28T11:57:00Z".into();
    p.status.container_statuses[0].last_state = terminated(1, 0, "Error");
    if let Some(t) = &mut p.status.container_statuses[0].last_state.terminated {
        t.finished_at = "2026-11-28T11:59:00Z".into();
    }
    let row = p.table_row(at(NOW));
    assert_eq!(
        row.cells,
        vec![
            json!("web"),
            json!("2/2"),
            json!("Running"),
            json!("2 (60s ago)"),
            json!("3m"),
            json!("<none>"),
            json!("<none>"),
            json!("<none>"),
            json!("<none>"),
        ]
    );
    assert!(row.conditions.is_empty());
    let done = PodBuilder::new("job")
        .node("n1")
        .pod_ip("10.0.0.5")
        .phase("Succeeded")
        .build();
    let row = done.table_row(at(NOW));
    assert_eq!(
        (&row.cells[3], &row.cells[4], &row.cells[5], &row.cells[6]),
        (
            &json!("0"),
            &json!("<unknown>"),
            &json!("10.0.0.5"),
            &json!("n1")
        )
    );
    assert_eq!(row.conditions[0].type_, "Completed");
    assert_eq!(row.conditions[0].reason, "Succeeded");
    assert_eq!(Pod::column_definitions().len(), row.cells.len());
}

#[test]
fn node_rows() {
    let created = |mut n: Node| {
        n.metadata.creation_timestamp = "2026-11-21T12:00:00Z".into();
        n.status.node_info.kubelet_version = "v1.0.0".into();
        n
    };
    // (node, STATUS, ROLES)
    let cases = [
        (NodeBuilder::new("n1").ready().build(), "Ready", "<none>"),
        (
            NodeBuilder::new("n1").not_ready().build(),
            "NotReady",
            "<none>",
        ),
        (NodeBuilder::new("n1").build(), "Unknown", "<none>"),
        (
            NodeBuilder::new("n1").ready().unschedulable().build(),
            "Ready,SchedulingDisabled",
            "<none>",
        ),
        (
            NodeBuilder::new("n1")
                .ready()
                .label("node-role.kubernetes.io/worker", "")
                .label("node-role.kubernetes.io/control-plane", "")
                .label("kubernetes.io/role", "worker")
                .build(),
            "Ready",
            "control-plane,worker",
        ),
    ];
    for (node, status, roles) in cases {
        let row = created(node).table_row(at(NOW));
        assert_eq!(
            row.cells[..5],
            [
                json!("n1"),
                json!(status),
                json!(roles),
                json!("7d"),
                json!("v1.0.0")
            ],
            "{status} {roles}"
        );
        assert_eq!(row.cells.len(), Node::column_definitions().len());
    }
    let mut n = NodeBuilder::new("n1").ready().build();
    n.status.addresses.push(NodeAddress {
        type_: "InternalIP".into(),
        address: "10.1.0.1".into(),
    });
    let row = n.table_row(at(NOW));
    assert_eq!(row.cells[5..7], [json!("10.1.0.1"), json!("<none>")]);
}

#[test]
fn service_rows() {
    let mut svc = ServiceBuilder::new("web")
        .selector("app", "web")
        .selector("tier", "fe")
        .port(80, 8080)
        .cluster_ip("10.0.0.10")
        .build();
    svc.spec.type_ = "ClusterIP".into();
    svc.spec.ports[0].protocol = "TCP".into();
    svc.metadata.creation_timestamp = "2026-11-28T11:59:00Z".into();
    let row = svc.table_row(at(NOW));
    assert_eq!(
        row.cells,
        vec![
            json!("web"),
            json!("ClusterIP"),
            json!("10.0.0.10"),
            json!("<none>"),
            json!("80/TCP"),
            json!("60s"),
            json!("app=web,tier=fe"),
        ]
    );
    /// (type, ports, cluster IP, EXTERNAL-IP, PORT(S))
    type Case = (
        &'static str,
        Vec<(i32, &'static str)>,
        &'static str,
        &'static str,
        &'static str,
    );
    let cases: [Case; 3] = [
        (
            "NodePort",
            vec![(80, "TCP"), (53, "UDP")],
            "",
            "<none>",
            "80/TCP,53/UDP",
        ),
        ("LoadBalancer", vec![], "10.0.0.1", "<pending>", "<none>"),
        ("ExternalName", vec![], "", "", "<none>"),
    ];
    for (type_, ports, ip, external, ports_cell) in cases {
        let mut svc = Service::default();
        svc.spec.type_ = type_.into();
        svc.spec.cluster_ip = ip.into();
        for (port, protocol) in ports {
            svc.spec.ports.push(crate::service::ServicePort {
                port,
                protocol: protocol.into(),
                ..Default::default()
            });
        }
        let row = svc.table_row(at(NOW));
        let want_ip = if ip.is_empty() { "<none>" } else { ip };
        assert_eq!(
            row.cells[2..5],
            [json!(want_ip), json!(external), json!(ports_cell)],
            "{type_}"
        );
        assert_eq!(row.cells[6], json!("<none>"));
    }
}

#[test]
fn replication_controller_rows() {
    let rc = ReplicationControllerBuilder::new("web")
        .replicas(3)
        .selector("app", "web")
        .template(
            PodBuilder::new("")
                .container("nginx", "nginx:1")
                .container("log", "fluent"),
        )
        .status_replicas(2)
        .build();
    let mut rc2 = rc.clone();
    rc2.status.ready_replicas = 1;
    let row = rc2.table_row(at(NOW));
    assert_eq!(
        row.cells,
        vec![
            json!("web"),
            json!(3),
            json!(2),
            json!(1),
            json!("<unknown>"),
            json!("nginx,log"),
            json!("nginx:1,fluent"),
            json!("app=web"),
        ]
    );
    let bare = ReplicationController::default().table_row(at(NOW));
    assert_eq!(bare.cells[1..4], [json!(1), json!(0), json!(0)]);
    assert_eq!(bare.cells[5..8], [json!(""), json!(""), json!("<none>")]);
}

fn subset(ips: &[&str], ports: &[i32]) -> EndpointSubset {
    EndpointSubset {
        addresses: ips
            .iter()
            .map(|ip| EndpointAddress {
                ip: ip.to_string(),
                ..Default::default()
            })
            .collect(),
        not_ready_addresses: vec![EndpointAddress {
            ip: "10.9.9.9".into(),
            ..Default::default()
        }],
        ports: ports
            .iter()
            .map(|p| EndpointPort {
                port: *p,
                ..Default::default()
            })
            .collect(),
    }
}

#[test]
fn endpoints_column_like_kubectl() {
    let cases = [
        (vec![], "<none>"),
        (vec![subset(&[], &[80])], "<none>"),
        (vec![subset(&["10.0.0.1"], &[80])], "10.0.0.1:80"),
        (
            vec![subset(&["10.0.0.1", "10.0.0.2"], &[80, 443])],
            "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...",
        ),
        (
            vec![subset(&["10.0.0.1"], &[80]), subset(&["10.0.0.2"], &[8080])],
            "10.0.0.1:80,10.0.0.2:8080",
        ),
        (
            vec![subset(&["10.0.0.1", "10.0.0.2"], &[])],
            "10.0.0.1,10.0.0.2",
        ),
        (vec![subset(&["fd00::1"], &[80])], "[fd00::1]:80"),
        (
            vec![subset(&["a", "b", "c", "d", "e"], &[1])],
            "a:1,b:1,c:1 + 2 more...",
        ),
    ];
    for (subsets, want) in cases {
        let ep = Endpoints {
            subsets,
            ..Endpoints::default()
        };
        assert_eq!(format_endpoints(&ep), want);
        let row = ep.table_row(at(NOW));
        assert_eq!(row.cells[1], json!(want));
    }
}

#[test]
fn event_rows() {
    let ev = |first: &str, last: &str, count: i32, name: &str, host: &str| Event {
        metadata: crate::ObjectMeta {
            name: "web.1".into(),
            ..Default::default()
        },
        involved_object: ObjectReference {
            kind: "Pod".into(),
            name: name.into(),
            field_path: "spec.containers{a}".into(),
            ..Default::default()
        },
        reason: "Started".into(),
        message: " Started container a\n".into(),
        source: EventSource {
            component: "kubelet".into(),
            host: host.into(),
        },
        first_timestamp: first.into(),
        last_timestamp: last.into(),
        count,
        type_: "Normal".into(),
        ..Event::default()
    };
    let row = ev(
        "2026-11-28T11:50:00Z",
        "2026-11-28T11:59:30Z",
        3,
        "web",
        "n1",
    )
    .table_row(at(NOW));
    assert_eq!(
        row.cells,
        vec![
            json!("30s"),
            json!("Normal"),
            json!("Started"),
            json!("pod/web"),
            json!("spec.containers{a}"),
            json!("kubelet, n1"),
            json!("Started container a"),
            json!("10m"),
            json!(3),
            json!("web.1"),
        ]
    );
    // No last time: the first; no count: 1; no name: the kind alone; no host: the component.
    let row = ev("2026-11-28T11:50:00Z", "", 0, "", "").table_row(at(NOW));
    assert_eq!(row.cells[0], json!("10m"));
    assert_eq!(row.cells[3], json!("pod"));
    assert_eq!(row.cells[5], json!("kubelet"));
    assert_eq!(row.cells[8], json!(1));
    let defs = Event::column_definitions();
    let shown: Vec<&str> = defs
        .iter()
        .filter(|c| c.priority == 0)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(shown, ["Last Seen", "Type", "Reason", "Object", "Message"]);
}

#[test]
fn default_priority_columns_are_what_kubectl_shows() {
    fn shown<T: Printable>() -> Vec<String> {
        T::column_definitions()
            .into_iter()
            .filter(|c| c.priority == 0)
            .map(|c| c.name.to_uppercase())
            .collect()
    }
    assert_eq!(
        shown::<Pod>(),
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    assert_eq!(
        shown::<Node>(),
        ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    );
    assert_eq!(
        shown::<Service>(),
        [
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE"
        ]
    );
    assert_eq!(
        shown::<ReplicationController>(),
        ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    );
    assert_eq!(shown::<Endpoints>(), ["NAME", "ENDPOINTS", "AGE"]);
    assert_eq!(
        shown::<Event>(),
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    );
    assert_eq!(shown::<Lease>(), ["NAME", "HOLDER", "AGE"]);
    assert_eq!(shown::<crate::Namespace>(), ["NAME", "STATUS", "AGE"]);
    let wide: Vec<String> = Pod::column_definitions()
        .into_iter()
        .filter(|c| c.priority == 1)
        .map(|c| c.name.to_uppercase())
        .collect();
    assert_eq!(wide, ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]);
    // Exactly one column is the name column.
    for defs in [Pod::column_definitions(), Event::column_definitions()] {
        assert_eq!(defs.iter().filter(|c| c.format == "name").count(), 1);
    }
}

#[test]
fn table_wire_form_and_include_object() {
    let mut p = PodBuilder::new("web").container("a", "img").build();
    p.set_type_meta();
    p.metadata.resource_version = "7".into();
    p.metadata.creation_timestamp = "2026-11-28T11:59:55Z".into();
    let t = to_table(
        std::slice::from_ref(&p),
        "9",
        TableVersion::V1,
        IncludeObject::Metadata,
        at(NOW),
    );
    let v = serde_json::to_value(&t).expect("json");
    assert_eq!(v["kind"], "Table");
    assert_eq!(v["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(v["metadata"], json!({"resourceVersion": "9"}));
    assert_eq!(
        v["columnDefinitions"][0],
        json!({"name": "Name", "type": "string", "format": "name",
               "description": "Name must be unique within a namespace.", "priority": 0})
    );
    assert_eq!(v["columnDefinitions"][5]["priority"], 1);
    assert_eq!(v["rows"][0]["cells"][0], "web");
    assert_eq!(v["rows"][0]["cells"][4], "5s");
    assert_eq!(
        v["rows"][0]["object"],
        json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
               "metadata": serde_json::to_value(&p.metadata).expect("meta")})
    );
    assert!(v["rows"][0].get("conditions").is_none());
    // (include, version, the row's object)
    let cases = [
        (IncludeObject::None, TableVersion::V1, None),
        (
            IncludeObject::Object,
            TableVersion::V1,
            Some(serde_json::to_value(&p).expect("pod")),
        ),
        (
            IncludeObject::Metadata,
            TableVersion::V1Beta1,
            Some(
                json!({"apiVersion": "meta.k8s.io/v1beta1", "kind": "PartialObjectMetadata",
                        "metadata": serde_json::to_value(&p.metadata).expect("meta")}),
            ),
        ),
    ];
    for (include, version, want) in cases {
        let t = to_table(std::slice::from_ref(&p), "9", version, include, at(NOW));
        assert_eq!(t.api_version, version.api_version());
        assert_eq!(t.rows[0].object, want, "{include:?}");
        let v = serde_json::to_value(&t).expect("json");
        assert_eq!(v["rows"][0].get("object").is_some(), want.is_some());
    }
    // Lease, and parse helpers.
    let mut lease = Lease::default();
    lease.metadata.name = "kube-scheduler".into();
    lease.spec.holder_identity = "host-1".into();
    let t = to_table(
        &[lease],
        "1",
        TableVersion::V1,
        IncludeObject::None,
        at(NOW),
    );
    assert_eq!(
        t.rows[0].cells,
        vec![json!("kube-scheduler"), json!("host-1"), json!("<unknown>")]
    );
    // Namespaces: NAME STATUS AGE, as kubectl shows them.
    let mut ns = crate::Namespace::named("team-a");
    ns.status.phase = "Terminating".into();
    ns.metadata.creation_timestamp = "2026-11-28T11:00:00Z".into();
    let t = to_table(&[ns], "1", TableVersion::V1, IncludeObject::None, at(NOW));
    assert_eq!(
        t.rows[0].cells[..2],
        [json!("team-a"), json!("Terminating")]
    );
    assert_ne!(t.rows[0].cells[2], json!("<unknown>"));
    assert_eq!(TableVersion::parse("v1beta1"), Some(TableVersion::V1Beta1));
    assert_eq!(TableVersion::parse("v2"), None);
    for v in IncludeObject::VALUES {
        assert!(IncludeObject::parse(v).is_some(), "{v}");
    }
    assert_eq!(IncludeObject::parse("object"), None);
}
