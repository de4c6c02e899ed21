//! Tables of cases for the endpoints controller's plan.

use super::*;
use crate::pod::ContainerPort;
use crate::testing::{PodBuilder, ServiceBuilder};

/// A running, ready pod `name` at `ip` with label `app=web`, on node `n1`.
fn pod(name: &str, ip: &str) -> PodBuilder {
    PodBuilder::new(name)
        .uid(&format!("uid-{name}"))
        .label("app", "web")
        .node("n1")
        .phase("Running")
        .pod_ip(ip)
        .condition("Ready", "True")
}

/// A named container port (`protocol` empty: unset) on the pod's last container (`p` has one).
fn named(mut p: Pod, name: &str, port: i32, protocol: &str) -> Pod {
    let last = p.spec.containers.len().saturating_sub(1);
    p.spec.containers[last].ports.push(ContainerPort {
        name: name.into(),
        container_port: port,
        protocol: protocol.into(),
        ..ContainerPort::default()
    });
    p
}

/// A pod with one container `c` and named ports `(name, port)` (protocol unset).
fn pod_with_ports(name: &str, ip: &str, ports: &[(&str, i32)]) -> Pod {
    let mut p = pod(name, ip).container("c", "img").build();
    for (n, port) in ports {
        p = named(p, n, *port, "");
    }
    p
}

fn not_ready(p: PodBuilder) -> PodBuilder {
    p.condition("Ready", "False")
}

fn terminating(mut p: Pod) -> Pod {
    p.metadata.deletion_timestamp = "2026-01-01T00:00:00Z".into();
    p
}

/// Service `web` selecting `app=web`.
fn svc() -> ServiceBuilder {
    ServiceBuilder::new("web").selector("app", "web")
}

/// A service port `name` on `port` to `target`, protocol `protocol` (empty: unset).
fn port(name: &str, port: i32, target: Option<IntOrString>, protocol: &str) -> ServicePort {
    ServicePort {
        name: name.into(),
        port,
        target_port: target,
        protocol: protocol.into(),
    }
}

fn with_ports(b: ServiceBuilder, ports: Vec<ServicePort>) -> Service {
    let mut s = b.build();
    s.spec.ports = ports;
    s
}

fn by_name(n: &str) -> Option<IntOrString> {
    Some(IntOrString::String(n.into()))
}

/// One line per subset: `pod@ip` (ready), `!pod@ip` (not ready), then `| name:port/proto`.
fn render(subsets: &[EndpointSubset]) -> Vec<String> {
    let addr = |prefix: &str, a: &EndpointAddress| {
        let name = a.target_ref.as_ref().map_or("?", |r| r.name.as_str());
        format!("{prefix}{name}@{}", a.ip)
    };
    subsets
        .iter()
        .map(|s| {
            let mut parts: Vec<String> = s.addresses.iter().map(|a| addr("", a)).collect();
            parts.extend(s.not_ready_addresses.iter().map(|a| addr("!", a)));
            let ports: Vec<String> = s
                .ports
                .iter()
                .map(|p| format!("{}:{}/{}", p.name, p.port, p.protocol))
                .collect();
            format!("{} | {}", parts.join(" "), ports.join(" "))
        })
        .collect()
}

fn subsets_of(service: &Service, pods: &[Pod]) -> Vec<String> {
    let refs: Vec<&Pod> = pods.iter().collect();
    render(&desired_subsets(service, &refs))
}

#[test]
fn desired_subsets_table() {
    let http = || port("", 80, Some(IntOrString::Int(8080)), "");
    let cases: Vec<(&str, Service, Vec<Pod>, Vec<&str>)> = vec![
        (
            "numeric target port, ready pods sorted by IP numerically",
            with_ports(svc(), vec![http()]),
            vec![
                pod("b", "10.0.0.10").build(),
                pod("a", "10.0.0.9").build(),
                pod("c", "9.1.1.1").build(),
            ],
            vec!["c@9.1.1.1 a@10.0.0.9 b@10.0.0.10 | :8080/TCP"],
        ),
        (
            "not-ready pods under notReadyAddresses, in the same subset",
            with_ports(svc(), vec![http()]),
            vec![
                not_ready(pod("b", "10.0.0.2")).build(),
                pod("a", "10.0.0.3").build(),
                pod("c", "10.0.0.1").build(),
            ],
            vec!["c@10.0.0.1 a@10.0.0.3 !b@10.0.0.2 | :8080/TCP"],
        ),
        (
            "a pod without a Ready condition is not ready",
            with_ports(svc(), vec![http()]),
            vec![PodBuilder::new("p")
                .label("app", "web")
                .phase("Pending")
                .pod_ip("10.0.0.1")
                .build()],
            vec!["!p@10.0.0.1 | :8080/TCP"],
        ),
        (
            "terminating, Succeeded, Failed and IP-less pods are left out",
            with_ports(svc(), vec![http()]),
            vec![
                terminating(pod("term", "10.0.0.1").build()),
                pod("done", "10.0.0.2").phase("Succeeded").build(),
                pod("failed", "10.0.0.3").phase("Failed").build(),
                pod("noip", "").build(),
                pod("ok", "10.0.0.5").build(),
            ],
            vec!["ok@10.0.0.5 | :8080/TCP"],
        ),
        (
            "pods not selected or in another namespace are left out",
            with_ports(svc(), vec![http()]),
            vec![
                pod("other", "10.0.0.1").label("app", "db").build(),
                pod("elsewhere", "10.0.0.2").namespace("ns2").build(),
                PodBuilder::new("unlabelled")
                    .pod_ip("10.0.0.3")
                    .condition("Ready", "True")
                    .build(),
                pod("ok", "10.0.0.4").build(),
            ],
            vec!["ok@10.0.0.4 | :8080/TCP"],
        ),
        (
            "no pods: no subsets",
            with_ports(svc(), vec![http()]),
            vec![],
            vec![],
        ),
        (
            "a service without a selector has no desired subsets",
            with_ports(ServiceBuilder::new("web"), vec![http()]),
            vec![pod("a", "10.0.0.1").build()],
            vec![],
        ),
        (
            "an unset or zero target port is the service port",
            with_ports(
                svc(),
                vec![
                    port("a", 81, None, ""),
                    port("b", 82, Some(IntOrString::Int(0)), "UDP"),
                ],
            ),
            vec![pod("p", "10.0.0.1").build()],
            vec!["p@10.0.0.1 | a:81/TCP b:82/UDP"],
        ),
        (
            "named target port resolved per pod; pods with different numbers get their own subset",
            with_ports(svc(), vec![port("web", 80, by_name("http"), "TCP")]),
            vec![
                pod_with_ports("a", "10.0.0.1", &[("http", 8080)]),
                pod_with_ports("b", "10.0.0.2", &[("http", 9090)]),
                pod_with_ports("c", "10.0.0.3", &[("http", 8080), ("admin", 9000)]),
            ],
            vec![
                "a@10.0.0.1 c@10.0.0.3 | web:8080/TCP",
                "b@10.0.0.2 | web:9090/TCP",
            ],
        ),
        (
            "a pod lacking the named port is left out",
            with_ports(svc(), vec![port("web", 80, by_name("http"), "")]),
            vec![
                pod_with_ports("a", "10.0.0.1", &[("admin", 8080)]),
                pod_with_ports("b", "10.0.0.2", &[("http", 8080)]),
            ],
            vec!["b@10.0.0.2 | web:8080/TCP"],
        ),
        (
            "a named port of another protocol does not match",
            with_ports(svc(), vec![port("dns", 53, by_name("dns"), "UDP")]),
            vec![
                pod_with_ports("tcp", "10.0.0.1", &[("dns", 5353)]),
                named(
                    pod("udp", "10.0.0.2").container("c", "img").build(),
                    "dns",
                    5353,
                    "UDP",
                ),
            ],
            vec!["udp@10.0.0.2 | dns:5353/UDP"],
        ),
        (
            "several ports, all resolved: one subset, ports sorted by name",
            with_ports(
                svc(),
                vec![
                    port("web", 80, by_name("http"), ""),
                    port("metrics", 9100, Some(IntOrString::Int(9100)), ""),
                ],
            ),
            vec![
                pod_with_ports("a", "10.0.0.2", &[("http", 8080)]),
                not_ready(pod("b", "10.0.0.1"))
                    .container("c", "img")
                    .build()
                    .pipe(|p| named(p, "http", 8080, "")),
            ],
            vec!["a@10.0.0.2 !b@10.0.0.1 | metrics:9100/TCP web:8080/TCP"],
        ),
        (
            "several ports, one missing on a pod: subsets by resolved port set",
            with_ports(
                svc(),
                vec![
                    port("web", 80, by_name("http"), ""),
                    port("admin", 81, by_name("admin"), ""),
                ],
            ),
            vec![
                pod_with_ports("both", "10.0.0.3", &[("http", 8080), ("admin", 9000)]),
                pod_with_ports("web-only", "10.0.0.1", &[("http", 8080)]),
                pod_with_ports("admin-only", "10.0.0.2", &[("admin", 9000)]),
                pod_with_ports("neither", "10.0.0.4", &[]),
            ],
            vec![
                "admin-only@10.0.0.2 | admin:9000/TCP",
                "both@10.0.0.3 | admin:9000/TCP web:8080/TCP",
                "web-only@10.0.0.1 | web:8080/TCP",
            ],
        ),
        (
            "a service with ports no pod serves: no subsets",
            with_ports(svc(), vec![port("web", 80, by_name("http"), "")]),
            vec![pod("a", "10.0.0.1").build()],
            vec![],
        ),
        (
            "a headless service without ports lists its pods without ports",
            {
                let mut s = with_ports(svc(), vec![]);
                s.spec.cluster_ip = CLUSTER_IP_NONE.into();
                s
            },
            vec![pod("a", "10.0.0.1").build()],
            vec!["a@10.0.0.1 | "],
        ),
        (
            "a service without ports that is not headless has no subsets",
            with_ports(svc(), vec![]),
            vec![pod("a", "10.0.0.1").build()],
            vec![],
        ),
        (
            "the same IP twice (host network) is ordered by pod name",
            with_ports(svc(), vec![http()]),
            vec![pod("z", "10.0.0.1").build(), pod("m", "10.0.0.1").build()],
            vec!["m@10.0.0.1 z@10.0.0.1 | :8080/TCP"],
        ),
    ];
    for (desc, service, pods, want) in cases {
        assert_eq!(subsets_of(&service, &pods), want, "{desc}");
    }
}

/// `x.pipe(f)` = `f(x)`, to keep builder chains readable in tables.
trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}

impl<T> Pipe for T {}

#[test]
fn addresses_carry_node_and_target_ref() {
    let service = with_ports(svc(), vec![port("", 80, None, "")]);
    let p = pod("a", "10.0.0.1").build();
    let subsets = desired_subsets(&service, &[&p]);
    assert_eq!(
        subsets,
        vec![EndpointSubset {
            addresses: vec![EndpointAddress {
                ip: "10.0.0.1".into(),
                node_name: "n1".into(),
                target_ref: Some(ObjectReference {
                    kind: "Pod".into(),
                    namespace: "default".into(),
                    name: "a".into(),
                    uid: "uid-a".into(),
                    ..ObjectReference::default()
                }),
            }],
            not_ready_addresses: vec![],
            ports: vec![EndpointPort {
                name: String::new(),
                port: 80,
                protocol: "TCP".into(),
            }],
        }]
    );
}

#[test]
fn subsets_do_not_depend_on_pod_order() {
    let service = with_ports(
        svc(),
        vec![
            port("web", 80, by_name("http"), ""),
            port("admin", 81, by_name("admin"), ""),
        ],
    );
    let pods = [
        pod_with_ports("a", "10.0.0.7", &[("http", 8080), ("admin", 9000)]),
        pod_with_ports("b", "10.0.0.3", &[("http", 8080)]),
        pod_with_ports("c", "10.0.0.12", &[("http", 8081)]),
        not_ready(pod("d", "10.0.0.1"))
            .container("c", "img")
            .build()
            .pipe(|p| named(p, "http", 8080, "")),
        pod_with_ports("e", "10.0.0.5", &[("admin", 9000), ("http", 8080)]),
    ];
    let refs: Vec<&Pod> = pods.iter().collect();
    let want = desired_subsets(&service, &refs);
    assert_eq!(want.len(), 3, "{:?}", render(&want));
    // Every rotation and the reverse of every rotation give the same subsets.
    for shift in 0..refs.len() {
        let mut order = refs.clone();
        order.rotate_left(shift);
        assert_eq!(
            desired_subsets(&service, &order),
            want,
            "rotated by {shift}"
        );
        order.reverse();
        assert_eq!(desired_subsets(&service, &order), want, "reversed, {shift}");
    }
}

/// Endpoints as stored: the desired ones with a resourceVersion and a uid.
fn stored(service: &Service, pods: &[&Pod]) -> Endpoints {
    let mut e = desired_endpoints(service, pods);
    e.api_version = "v1".into();
    e.kind = "Endpoints".into();
    e.metadata.resource_version = "42".into();
    e.metadata.uid = "ep-uid".into();
    e
}

#[test]
fn plan_table() {
    let service = with_ports(svc().label("tier", "fe"), vec![port("", 80, None, "")]);
    let a = pod("a", "10.0.0.1").build();
    let b = pod("b", "10.0.0.2").build();
    let b_not_ready = not_ready(pod("b", "10.0.0.2")).build();
    let current = stored(&service, &[&a, &b]);
    let relabelled = {
        let mut s = service.clone();
        s.metadata.labels.insert("tier".into(), "be".into());
        s
    };
    let selectorless = with_ports(ServiceBuilder::new("web"), vec![port("", 80, None, "")]);

    // (description, service, current endpoints, pods, expected plan)
    type Case<'a> = (
        &'a str,
        Option<&'a Service>,
        Option<&'a Endpoints>,
        Vec<&'a Pod>,
        Plan,
    );
    let cases: Vec<Case> = vec![
        (
            "missing endpoints are created with the service's labels",
            Some(&service),
            None,
            vec![&a, &b],
            Plan::Create(desired_endpoints(&service, &[&a, &b])),
        ),
        (
            "missing endpoints of a service without pods are created empty",
            Some(&service),
            None,
            vec![],
            Plan::Create(Endpoints {
                metadata: ObjectMeta {
                    name: "web".into(),
                    namespace: "default".into(),
                    labels: service.metadata.labels.clone(),
                    ..ObjectMeta::default()
                },
                ..Endpoints::default()
            }),
        ),
        (
            "unchanged: no write",
            Some(&service),
            Some(&current),
            vec![&b, &a],
            Plan::Nothing,
        ),
        (
            "a pod turning not ready: update, keeping the resourceVersion",
            Some(&service),
            Some(&current),
            vec![&a, &b_not_ready],
            Plan::Update(Endpoints {
                subsets: desired_subsets(&service, &[&a, &b_not_ready]),
                ..current.clone()
            }),
        ),
        (
            "a pod gone: update",
            Some(&service),
            Some(&current),
            vec![&a],
            Plan::Update(Endpoints {
                subsets: desired_subsets(&service, &[&a]),
                ..current.clone()
            }),
        ),
        (
            "service labels changed: update",
            Some(&relabelled),
            Some(&current),
            vec![&a, &b],
            Plan::Update({
                let mut e = current.clone();
                e.metadata.labels = relabelled.metadata.labels.clone();
                e
            }),
        ),
        (
            "a service without a selector: its endpoints are left alone",
            Some(&selectorless),
            Some(&current),
            vec![&a],
            Plan::Nothing,
        ),
        (
            "a service without a selector and no endpoints: nothing created",
            Some(&selectorless),
            None,
            vec![&a],
            Plan::Nothing,
        ),
        (
            "service gone: its endpoints are deleted",
            None,
            Some(&current),
            vec![&a],
            Plan::Delete,
        ),
        (
            "service and endpoints gone: nothing",
            None,
            None,
            vec![&a],
            Plan::Nothing,
        ),
    ];
    for (desc, service, current, pods, want) in cases {
        assert_eq!(plan(service, current, &pods), want, "{desc}");
    }
}

#[test]
fn find_port_table() {
    let p = named(
        named(
            PodBuilder::new("p").container("c", "img").build(),
            "http",
            8080,
            "",
        ),
        "dns",
        53,
        "UDP",
    );
    let cases: Vec<(&str, ServicePort, Option<i32>)> = vec![
        ("unset target", port("", 80, None, ""), Some(80)),
        (
            "number",
            port("", 80, Some(IntOrString::Int(81)), ""),
            Some(81),
        ),
        (
            "zero",
            port("", 80, Some(IntOrString::Int(0)), ""),
            Some(80),
        ),
        ("empty name", port("", 80, by_name(""), ""), Some(80)),
        ("name", port("", 80, by_name("http"), ""), Some(8080)),
        (
            "name, TCP spelled out",
            port("", 80, by_name("http"), "TCP"),
            Some(8080),
        ),
        (
            "name, other protocol",
            port("", 80, by_name("http"), "UDP"),
            None,
        ),
        ("UDP name", port("", 53, by_name("dns"), "UDP"), Some(53)),
        ("unknown name", port("", 80, by_name("grpc"), ""), None),
    ];
    for (desc, sp, want) in cases {
        assert_eq!(find_port(&p, &sp), want, "{desc}");
    }
}
