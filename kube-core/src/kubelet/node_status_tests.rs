use super::*;
use std::time::Duration;

fn t(secs: u64) -> Timestamp {
    Timestamp::from_unix(1_400_000_000, 0).saturating_add(Duration::from_secs(secs))
}

fn docker() -> Result<RuntimeVersion, String> {
    Ok(RuntimeVersion {
        name: "docker".into(),
        version: "20.10.24".into(),
        api_version: "1.41".into(),
    })
}

fn input() -> NodeStatusInput {
    NodeStatusInput {
        internal_ip: Some("10.0.0.7".parse().unwrap()),
        cpu_millis: 2000,
        memory_bytes: 8 << 30,
        kubelet_port: 10250,
        runtime: docker(),
        operating_system: "linux".into(),
        architecture: "amd64".into(),
        ..NodeStatusInput::new("n1")
    }
}

fn q(s: &str) -> Quantity {
    Quantity(s.into())
}

fn ready(node: &Node) -> &NodeCondition {
    node.status
        .conditions
        .iter()
        .find(|c| c.type_ == CONDITION_READY)
        .expect("a Ready condition")
}

#[test]
fn built_node_has_everything_the_kubelet_reports() {
    let node = build_node(&input(), t(0));
    assert_eq!(node.metadata.name, "n1");
    let labels: Vec<(&str, &str)> = node
        .metadata
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            (LABEL_ARCH, "amd64"),
            (LABEL_HOSTNAME, "n1"),
            (LABEL_OS, "linux"),
        ]
    );
    for list in [&node.status.capacity, &node.status.allocatable] {
        assert_eq!(list.get("cpu"), Some(&q("2")));
        assert_eq!(list.get("memory"), Some(&q("8Gi")));
        assert_eq!(list.get("pods"), Some(&q("110")));
        assert_eq!(list.len(), 3);
    }
    let addrs: Vec<(&str, &str)> = node
        .status
        .addresses
        .iter()
        .map(|a| (a.type_.as_str(), a.address.as_str()))
        .collect();
    assert_eq!(addrs, [("InternalIP", "10.0.0.7"), ("Hostname", "n1")]);
    assert_eq!(node.status.daemon_endpoints.kubelet_endpoint.port, 10250);
    assert_eq!(
        node.status.node_info,
        NodeSystemInfo {
            kubelet_version: KUBELET_VERSION.into(),
            container_runtime_version: "docker://20.10.24".into(),
            operating_system: "linux".into(),
            architecture: "amd64".into(),
            ..NodeSystemInfo::default()
        }
    );
    assert!(KUBELET_VERSION.starts_with('v'));
    assert_eq!(
        ready(&node),
        &NodeCondition {
            type_: "Ready".into(),
            status: "True".into(),
            reason: "KubeletReady".into(),
            message: "kubelet is posting ready status".into(),
            last_heartbeat_time: t(0).to_rfc3339(),
            last_transition_time: t(0).to_rfc3339(),
        }
    );
}

#[test]
fn ready_condition_over_heartbeats() {
    // (seconds, runtime answers?, status, heartbeat, transition)
    let steps: [(u64, bool, &str, u64, u64); 6] = [
        (0, true, "True", 0, 0),
        (10, true, "True", 10, 0),
        (20, false, "False", 20, 20),
        (30, false, "False", 30, 20),
        (40, true, "True", 40, 40),
        (50, true, "True", 50, 40),
    ];
    let mut node = build_node(&input(), t(0));
    for (secs, up, status, heartbeat, transition) in steps {
        let mut i = input();
        if !up {
            i.runtime = Err("Cannot connect to the Docker daemon".into());
        }
        node = update_node_status(&node, &i, t(secs));
        let c = ready(&node);
        assert_eq!(c.status, status, "at {secs}");
        assert_eq!(
            c.last_heartbeat_time,
            t(heartbeat).to_rfc3339(),
            "at {secs}"
        );
        assert_eq!(
            c.last_transition_time,
            t(transition).to_rfc3339(),
            "at {secs}"
        );
        if up {
            assert_eq!(
                (c.reason.as_str(), c.message.as_str()),
                (REASON_KUBELET_READY, MESSAGE_KUBELET_READY)
            );
        } else {
            assert_eq!(c.reason, REASON_KUBELET_NOT_READY);
            assert!(
                c.message.contains("Cannot connect to the Docker daemon"),
                "{}",
                c.message
            );
            // The last known runtime version stays.
            assert_eq!(
                node.status.node_info.container_runtime_version,
                "docker://20.10.24"
            );
        }
        assert_eq!(node.status.conditions.len(), 1);
    }
}

#[test]
fn update_keeps_what_others_own() {
    let mut existing = Node::default();
    existing.metadata.name = "n1".into();
    existing.metadata.labels.insert("zone".into(), "a".into());
    existing.spec.unschedulable = true;
    existing
        .status
        .capacity
        .insert("example.com/gpu".into(), q("2"));
    existing.status.capacity.insert("cpu".into(), q("64"));
    existing.status.conditions.push(NodeCondition {
        type_: "DiskPressure".into(),
        status: "False".into(),
        ..NodeCondition::default()
    });
    existing.status.conditions.push(NodeCondition {
        type_: "Ready".into(),
        status: "Unknown".into(),
        last_transition_time: "old".into(),
        ..NodeCondition::default()
    });
    let node = update_node_status(&existing, &input(), t(5));
    assert_eq!(node.metadata, existing.metadata);
    assert_eq!(node.spec, existing.spec);
    assert_eq!(node.status.capacity.get("example.com/gpu"), Some(&q("2")));
    assert_eq!(node.status.capacity.get("cpu"), Some(&q("2")));
    let types: Vec<&str> = node
        .status
        .conditions
        .iter()
        .map(|c| c.type_.as_str())
        .collect();
    assert_eq!(types, ["DiskPressure", "Ready"]);
    assert_eq!(ready(&node).last_transition_time, t(5).to_rfc3339());
}

#[test]
fn labels_merge() {
    let node = |pairs: &[(&str, &str)]| {
        let mut n = Node::default();
        n.metadata.name = "n1".into();
        n.metadata.labels = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        n
    };
    let mut i = input();
    i.labels.insert("tier".into(), "edge".into());
    let own = [
        (LABEL_ARCH, "amd64"),
        (LABEL_HOSTNAME, "n1"),
        (LABEL_OS, "linux"),
        ("tier", "edge"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v: Vec<(&str, &str)> = own.to_vec();
        v.extend_from_slice(extra);
        v
    };
    type Labels<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(&str, Node, Option<Labels>)> = vec![
        ("none yet", node(&[]), Some(with(&[]))),
        ("all there", node(&own), None),
        (
            "others kept",
            node(&[("zone", "a")]),
            Some(with(&[("zone", "a")])),
        ),
        (
            "wrong value fixed",
            node(&[("tier", "core")]),
            Some(with(&[])),
        ),
        ("all there plus others", node(&with(&[("zone", "a")])), None),
    ];
    for (name, existing, want) in cases {
        let got = merge_node_labels(&existing, &i).map(|n| n.metadata.labels);
        let want = want.map(|pairs| {
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<StringMap>()
        });
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn quantities_and_names() {
    let cases = [
        (0, "0"),
        (-5, "0"),
        (1000, "1000"),
        (1024, "1Ki"),
        (8 << 30, "8Gi"),
        (8_198_066_176, "8005924Ki"),
        (3 << 20, "3Mi"),
    ];
    for (bytes, want) in cases {
        assert_eq!(memory_quantity(bytes), q(want), "{bytes}");
        assert!(memory_quantity(bytes).parse().is_ok());
        assert_eq!(memory_quantity(bytes).value().unwrap(), bytes.max(0));
    }
    for (rust, go) in [
        ("x86_64", "amd64"),
        ("aarch64", "arm64"),
        ("x86", "386"),
        ("arm", "arm"),
        ("riscv64", "riscv64"),
    ] {
        assert_eq!(go_arch(rust), go);
    }
}

#[test]
fn hostname_and_address_defaults() {
    let mut i = input();
    i.internal_ip = None;
    i.hostname = "box.example".into();
    i.max_pods = 7;
    i.cpu_millis = 1500;
    let node = build_node(&i, t(0));
    let addrs: Vec<(&str, &str)> = node
        .status
        .addresses
        .iter()
        .map(|a| (a.type_.as_str(), a.address.as_str()))
        .collect();
    assert_eq!(addrs, [("Hostname", "box.example")]);
    assert_eq!(node.status.capacity.get("pods"), Some(&q("7")));
    assert_eq!(node.status.capacity.get("cpu"), Some(&q("1500m")));
    // A runtime never seen: not ready, no runtime version.
    let fresh = build_node(&NodeStatusInput::new("n2"), t(0));
    assert_eq!(ready(&fresh).status, "False");
    assert_eq!(fresh.status.node_info.container_runtime_version, "");
    assert_eq!(
        fresh.status.node_info.operating_system,
        std::env::consts::OS
    );
}
