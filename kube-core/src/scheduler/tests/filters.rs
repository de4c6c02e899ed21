//! One table per default filter.

use super::builders::{node, pod, Info, NodeBuilder, PodBuilder};
use crate::scheduler::{
    default_filters, FilterPlugin, NodeInfo, NodePorts, NodeReady, NodeResourcesFit, NodeSelector,
    NodeUnschedulable, PodCount, PodInfo, REASON_INSUFFICIENT_CPU, REASON_INSUFFICIENT_MEMORY,
    REASON_NODE_PORTS, REASON_NODE_SELECTOR, REASON_NOT_READY, REASON_TOO_MANY_PODS,
    REASON_UNSCHEDULABLE,
};

/// A case: the pod, the node, the pods already on it, and the expected outcome (`None` = fits).
type Case = (
    PodBuilder,
    NodeBuilder,
    Vec<PodBuilder>,
    Option<&'static str>,
);

fn check(plugin: &dyn FilterPlugin, cases: Vec<Case>) {
    for (i, (p, n, existing, want)) in cases.into_iter().enumerate() {
        let p: PodInfo = p.info();
        let mut n: NodeInfo = n.info();
        for e in existing {
            n.add_pod(&e.info());
        }
        let got = plugin.filter(&p, &n).err();
        assert_eq!(got.as_deref(), want, "{} case {i}", plugin.name());
        // A filter that calls itself irrelevant must accept the node.
        if !plugin.is_relevant(&p) {
            assert!(
                got.is_none(),
                "{} case {i}: irrelevant but failed",
                plugin.name()
            );
        }
    }
}

#[test]
fn node_unschedulable() {
    check(
        &NodeUnschedulable,
        vec![
            (pod("p"), node("n"), vec![], None),
            (
                pod("p"),
                node("n").unschedulable(),
                vec![],
                Some(REASON_UNSCHEDULABLE),
            ),
        ],
    );
}

#[test]
fn node_ready() {
    check(
        &NodeReady,
        vec![
            (pod("p"), node("n"), vec![], None),
            (pod("p"), node("n").condition("Ready", "True"), vec![], None),
            (
                pod("p"),
                node("n").not_ready(),
                vec![],
                Some(REASON_NOT_READY),
            ),
            (
                pod("p"),
                node("n").condition("Ready", "Unknown"),
                vec![],
                Some(REASON_NOT_READY),
            ),
        ],
    );
}

#[test]
fn node_selector() {
    check(
        &NodeSelector,
        vec![
            (pod("p"), node("n"), vec![], None),
            (
                pod("p").node_selector("zone", "a"),
                node("n").label("zone", "a"),
                vec![],
                None,
            ),
            (
                pod("p")
                    .node_selector("zone", "a")
                    .node_selector("disk", "ssd"),
                node("n")
                    .label("zone", "a")
                    .label("disk", "ssd")
                    .label("x", "y"),
                vec![],
                None,
            ),
            (
                pod("p").node_selector("zone", "a"),
                node("n").label("zone", "b"),
                vec![],
                Some(REASON_NODE_SELECTOR),
            ),
            (
                pod("p").node_selector("zone", "a"),
                node("n"),
                vec![],
                Some(REASON_NODE_SELECTOR),
            ),
            (
                pod("p")
                    .node_selector("zone", "a")
                    .node_selector("disk", "ssd"),
                node("n").label("zone", "a"),
                vec![],
                Some(REASON_NODE_SELECTOR),
            ),
        ],
    );
}

#[test]
fn node_ports() {
    let on = |ip: &str, proto: &str, port: i32| pod("other").host_port_on(ip, proto, port);
    check(
        &NodePorts,
        vec![
            (pod("p"), node("n"), vec![pod("o").host_port(80)], None),
            (pod("p").host_port(80), node("n"), vec![], None),
            (
                pod("p").host_port(80),
                node("n"),
                vec![pod("o").host_port(81)],
                None,
            ),
            (
                pod("p").host_port(6379),
                node("n"),
                vec![pod("o").host_port(6379)],
                Some(REASON_NODE_PORTS),
            ),
            (
                pod("p").host_port_on("", "UDP", 53),
                node("n"),
                vec![on("", "TCP", 53)],
                None,
            ),
            (
                pod("p").host_port_on("", "UDP", 53),
                node("n"),
                vec![on("", "UDP", 53)],
                Some(REASON_NODE_PORTS),
            ),
            (
                pod("p").host_port_on("127.0.0.1", "", 80),
                node("n"),
                vec![on("127.0.0.2", "", 80)],
                None,
            ),
            (
                pod("p").host_port_on("127.0.0.1", "", 80),
                node("n"),
                vec![on("127.0.0.1", "TCP", 80)],
                Some(REASON_NODE_PORTS),
            ),
            (
                pod("p").host_port_on("127.0.0.1", "", 80),
                node("n"),
                vec![on("", "", 80)],
                Some(REASON_NODE_PORTS),
            ),
            (
                pod("p").host_port(80),
                node("n"),
                vec![on("10.0.0.1", "TCP", 80)],
                Some(REASON_NODE_PORTS),
            ),
            (
                pod("p").host_port(81).host_port(82),
                node("n"),
                vec![pod("o").host_port(80), pod("o2").host_port(82)],
                Some(REASON_NODE_PORTS),
            ),
        ],
    );
}

#[test]
fn node_resources_fit() {
    let big = || node("n").cpu("2").memory("4Gi");
    check(
        &NodeResourcesFit,
        vec![
            (pod("p"), big(), vec![], None),
            (
                pod("p").container_requesting("2", "4Gi"),
                big(),
                vec![],
                None,
            ),
            (
                pod("p").container_requesting("2001m", ""),
                big(),
                vec![],
                Some(REASON_INSUFFICIENT_CPU),
            ),
            (
                pod("p").container_requesting("", "5Gi"),
                big(),
                vec![],
                Some(REASON_INSUFFICIENT_MEMORY),
            ),
            // CPU is reported first when both are short.
            (
                pod("p").container_requesting("3", "5Gi"),
                big(),
                vec![],
                Some(REASON_INSUFFICIENT_CPU),
            ),
            (
                pod("p").container_requesting("1", "1Gi"),
                big(),
                vec![pod("o").container_requesting("1", "3Gi")],
                None,
            ),
            (
                pod("p").container_requesting("1", "1Gi"),
                big(),
                vec![pod("o").container_requesting("1500m", "")],
                Some(REASON_INSUFFICIENT_CPU),
            ),
            (
                pod("p").container_requesting("", "1Gi"),
                big(),
                vec![pod("o").container_requesting("", "3584Mi")],
                Some(REASON_INSUFFICIENT_MEMORY),
            ),
            // Limits stand in for missing requests.
            (
                pod("p").container_requesting("", "").limits("3", ""),
                big(),
                vec![],
                Some(REASON_INSUFFICIENT_CPU),
            ),
            // Unknown (zero) allocatable: fits only pods requesting none of it.
            (
                pod("p").container_requesting("", "").limits("", ""),
                node("n"),
                vec![],
                None,
            ),
            (
                pod("p").container_requesting("0", "0"),
                node("n"),
                vec![],
                None,
            ),
            (
                pod("p").container_requesting("1m", ""),
                node("n"),
                vec![],
                Some(REASON_INSUFFICIENT_CPU),
            ),
            (
                pod("p").container_requesting("", "1"),
                node("n").cpu("1"),
                vec![],
                Some(REASON_INSUFFICIENT_MEMORY),
            ),
            // A pod requesting nothing fits even an overcommitted node.
            (
                pod("p").container_requesting("0", ""),
                big(),
                vec![pod("o").container_requesting("3", "")],
                None,
            ),
        ],
    );
}

#[test]
fn pod_count() {
    check(
        &PodCount,
        vec![
            (pod("p"), node("n"), vec![pod("a"), pod("b")], None),
            (pod("p"), node("n").pods("2"), vec![pod("a")], None),
            (
                pod("p"),
                node("n").pods("2"),
                vec![pod("a"), pod("b")],
                Some(REASON_TOO_MANY_PODS),
            ),
            (
                pod("p"),
                node("n").pods("0"),
                vec![],
                Some(REASON_TOO_MANY_PODS),
            ),
        ],
    );
}

#[test]
fn default_filters_in_order() {
    let names: Vec<&str> = default_filters().iter().map(|f| f.name()).collect();
    assert_eq!(
        names,
        [
            "NodeUnschedulable",
            "NodeReady",
            "NodeSelector",
            "NodePorts",
            "NodeResourcesFit",
            "PodCount"
        ]
    );
}
