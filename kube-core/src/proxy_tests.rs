use super::*;
use crate::endpoints::{EndpointAddress, EndpointPort, EndpointSubset};
use crate::meta::ObjectMeta;
use crate::service::{ServicePort, ServiceSpec};

fn meta(ns: &str, name: &str) -> ObjectMeta {
    ObjectMeta {
        namespace: ns.into(),
        name: name.into(),
        ..ObjectMeta::default()
    }
}

/// A service with `ports` as (name, protocol, port).
fn svc(ns: &str, name: &str, ip: &str, ports: &[(&str, &str, i32)]) -> Service {
    Service {
        metadata: meta(ns, name),
        spec: ServiceSpec {
            cluster_ip: ip.into(),
            ports: ports
                .iter()
                .map(|(n, proto, port)| ServicePort {
                    name: (*n).into(),
                    protocol: (*proto).into(),
                    port: *port,
                    target_port: None,
                })
                .collect(),
            ..ServiceSpec::default()
        },
        ..Service::default()
    }
}

/// A subset: ready IPs, not-ready IPs, ports as (name, protocol, port).
fn subset(ready: &[&str], not_ready: &[&str], ports: &[(&str, &str, i32)]) -> EndpointSubset {
    let addr = |ip: &&str| EndpointAddress {
        ip: (*ip).into(),
        ..EndpointAddress::default()
    };
    EndpointSubset {
        addresses: ready.iter().map(addr).collect(),
        not_ready_addresses: not_ready.iter().map(addr).collect(),
        ports: ports
            .iter()
            .map(|(n, proto, port)| EndpointPort {
                name: (*n).into(),
                protocol: (*proto).into(),
                port: *port,
            })
            .collect(),
    }
}

fn eps(ns: &str, name: &str, subsets: Vec<EndpointSubset>) -> Endpoints {
    Endpoints {
        metadata: meta(ns, name),
        subsets,
        ..Endpoints::default()
    }
}

/// A listener summary: "ip:port/PROTO ns/name[:port] -> [endpoints]".
fn summary(ls: &[Listener]) -> Vec<String> {
    ls.iter()
        .map(|l| format!("{} {} -> {:?}", l.addr, l.service, l.endpoints))
        .collect()
}

/// A case: name, services, endpoints, expected listener summaries.
type Case = (
    &'static str,
    Vec<Service>,
    Vec<Endpoints>,
    Vec<&'static str>,
);

#[test]
fn desired_listeners_table() {
    let cases: Vec<Case> = vec![
        (
            "one port, ready endpoints only",
            vec![svc("ns", "web", "127.77.0.1", &[("", "", 80)])],
            vec![eps(
                "ns",
                "web",
                vec![subset(
                    &["10.0.0.2", "10.0.0.1"],
                    &["10.0.0.9"],
                    &[("", "TCP", 8080)],
                )],
            )],
            vec![r#"127.77.0.1:80/TCP ns/web -> ["10.0.0.2:8080", "10.0.0.1:8080"]"#],
        ),
        (
            "no endpoints object: a listener without endpoints",
            vec![svc("ns", "web", "127.77.0.1", &[("", "TCP", 80)])],
            vec![],
            vec![r#"127.77.0.1:80/TCP ns/web -> []"#],
        ),
        (
            "headless, unallocated and invalid IPs are skipped",
            vec![
                svc("ns", "a", "None", &[("", "", 80)]),
                svc("ns", "b", "", &[("", "", 80)]),
                svc("ns", "c", "not-an-ip", &[("", "", 80)]),
            ],
            vec![],
            vec![],
        ),
        (
            "bad ports and protocols are skipped",
            vec![svc(
                "ns",
                "a",
                "127.77.0.1",
                &[
                    ("z", "", 0),
                    ("big", "", 70000),
                    ("s", "SCTP", 81),
                    ("ok", "UDP", 53),
                ],
            )],
            vec![],
            vec![r#"127.77.0.1:53/UDP ns/a:ok -> []"#],
        ),
        (
            "two services on the same port with different IPs",
            vec![
                svc("ns", "b", "127.77.0.2", &[("", "", 80)]),
                svc("ns", "a", "127.77.0.1", &[("", "", 80)]),
            ],
            vec![
                eps("ns", "a", vec![subset(&["10.0.0.1"], &[], &[("", "", 1)])]),
                eps("ns", "b", vec![subset(&["10.0.0.2"], &[], &[("", "", 2)])]),
            ],
            vec![
                r#"127.77.0.1:80/TCP ns/a -> ["10.0.0.1:1"]"#,
                r#"127.77.0.2:80/TCP ns/b -> ["10.0.0.2:2"]"#,
            ],
        ),
        (
            "named ports match endpoint ports by name and protocol, across subsets",
            vec![svc(
                "ns",
                "web",
                "127.77.0.1",
                &[("http", "TCP", 80), ("dns", "UDP", 53)],
            )],
            vec![eps(
                "ns",
                "web",
                vec![
                    subset(
                        &["10.0.0.1"],
                        &[],
                        &[("http", "TCP", 8080), ("dns", "UDP", 5353)],
                    ),
                    subset(&["10.0.0.2"], &[], &[("http", "TCP", 9090)]),
                    subset(&["10.0.0.3"], &[], &[("dns", "TCP", 53)]),
                ],
            )],
            vec![
                r#"127.77.0.1:53/UDP ns/web:dns -> ["10.0.0.1:5353"]"#,
                r#"127.77.0.1:80/TCP ns/web:http -> ["10.0.0.1:8080", "10.0.0.2:9090"]"#,
            ],
        ),
        (
            "TCP and UDP on one port are two listeners",
            vec![svc(
                "ns",
                "d",
                "127.77.0.1",
                &[("t", "TCP", 53), ("u", "UDP", 53)],
            )],
            vec![],
            vec![
                r#"127.77.0.1:53/TCP ns/d:t -> []"#,
                r#"127.77.0.1:53/UDP ns/d:u -> []"#,
            ],
        ),
        (
            "endpoints of another namespace are not used",
            vec![svc("ns", "web", "127.77.0.1", &[("", "", 80)])],
            vec![eps(
                "other",
                "web",
                vec![subset(&["10.0.0.1"], &[], &[("", "", 1)])],
            )],
            vec![r#"127.77.0.1:80/TCP ns/web -> []"#],
        ),
        (
            "same address claimed twice: the first by name keeps it",
            vec![
                svc("ns", "b", "127.77.0.1", &[("", "", 80)]),
                svc("ns", "a", "127.77.0.1", &[("", "", 80)]),
            ],
            vec![],
            vec![r#"127.77.0.1:80/TCP ns/a -> []"#],
        ),
        (
            "duplicate and invalid endpoint addresses are dropped; IPv6 is bracketed",
            vec![svc("ns", "web", "127.77.0.1", &[("", "", 80)])],
            vec![eps(
                "ns",
                "web",
                vec![
                    subset(&["10.0.0.1", "bogus", "fd00::1"], &[], &[("", "", 1)]),
                    subset(&["10.0.0.1"], &[], &[("", "", 1)]),
                    subset(&["10.0.0.5"], &[], &[("", "", 0)]),
                ],
            )],
            vec![r#"127.77.0.1:80/TCP ns/web -> ["10.0.0.1:1", "[fd00::1]:1"]"#],
        ),
    ];
    for (name, services, endpoints, want) in cases {
        let s: Vec<&Service> = services.iter().collect();
        let e: Vec<&Endpoints> = endpoints.iter().collect();
        assert_eq!(summary(&desired_listeners(&s, &e)), want, "{name}");
    }
}

fn spn(name: &str) -> ServicePortName {
    ServicePortName {
        namespace: "ns".into(),
        name: name.into(),
        port: String::new(),
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Steps for the balancer: update the endpoints or ask for the next one.
enum Step<'a> {
    Update(&'a [&'a str]),
    Next(Result<&'a str, BalancerError>),
    Remove,
}

#[test]
fn round_robin_table() {
    let s = spn("web");
    let cases: Vec<(&str, Vec<Step>)> = vec![
        (
            "unknown service",
            vec![Step::Next(Err(BalancerError::MissingService(spn("web"))))],
        ),
        (
            "no endpoints",
            vec![
                Step::Update(&[]),
                Step::Next(Err(BalancerError::NoEndpoints(spn("web")))),
            ],
        ),
        (
            "cycles in order",
            vec![
                Step::Update(&["a:1", "b:1", "c:1"]),
                Step::Next(Ok("a:1")),
                Step::Next(Ok("b:1")),
                Step::Next(Ok("c:1")),
                Step::Next(Ok("a:1")),
            ],
        ),
        (
            "an unchanged update keeps the index",
            vec![
                Step::Update(&["a:1", "b:1"]),
                Step::Next(Ok("a:1")),
                Step::Update(&["a:1", "b:1"]),
                Step::Next(Ok("b:1")),
            ],
        ),
        (
            "a changed list restarts at the first endpoint",
            vec![
                Step::Update(&["a:1", "b:1"]),
                Step::Next(Ok("a:1")),
                Step::Update(&["b:1", "c:1"]),
                Step::Next(Ok("b:1")),
                Step::Next(Ok("c:1")),
            ],
        ),
        (
            "a shrunk list never indexes past its end",
            vec![
                Step::Update(&["a:1", "b:1", "c:1"]),
                Step::Next(Ok("a:1")),
                Step::Next(Ok("b:1")),
                Step::Update(&["a:1"]),
                Step::Next(Ok("a:1")),
                Step::Next(Ok("a:1")),
            ],
        ),
        (
            "removed then unknown",
            vec![
                Step::Update(&["a:1"]),
                Step::Remove,
                Step::Next(Err(BalancerError::MissingService(spn("web")))),
            ],
        ),
    ];
    for (name, steps) in cases {
        let mut lb = LoadBalancerRR::new();
        for (i, step) in steps.into_iter().enumerate() {
            match step {
                Step::Update(eps) => lb.update(&s, &strings(eps)),
                Step::Remove => lb.remove(&s),
                Step::Next(want) => assert_eq!(
                    lb.next_endpoint(&s),
                    want.map(|w| w.to_string()),
                    "{name}: step {i}"
                ),
            }
        }
    }
}

#[test]
fn on_update_drops_vanished_service_ports_and_keeps_others_cycling() {
    let listener = |name: &str, eps: &[&str]| Listener {
        service: spn(name),
        addr: ListenAddr {
            ip: IpAddr::from([127, 77, 0, 1]),
            port: 80,
            protocol: Protocol::Tcp,
        },
        endpoints: strings(eps),
    };
    let mut lb = LoadBalancerRR::new();
    lb.on_update(&[listener("a", &["x:1", "y:1"]), listener("b", &["z:1"])]);
    assert_eq!(lb.next_endpoint(&spn("a")), Ok("x:1".into()));
    lb.on_update(&[listener("a", &["x:1", "y:1"])]);
    assert_eq!(lb.next_endpoint(&spn("a")), Ok("y:1".into()));
    assert_eq!(
        lb.next_endpoint(&spn("b")),
        Err(BalancerError::MissingService(spn("b")))
    );
    assert_eq!(lb.endpoints(&spn("a")), Some(&strings(&["x:1", "y:1"])[..]));
}

#[test]
fn names_and_addresses_print_as_in_logs() {
    let mut n = spn("web");
    assert_eq!(n.to_string(), "ns/web");
    n.port = "http".into();
    assert_eq!(n.to_string(), "ns/web:http");
    let a = ListenAddr {
        ip: "fd00::1".parse().unwrap(),
        port: 53,
        protocol: Protocol::Udp,
    };
    assert_eq!(a.to_string(), "[fd00::1]:53/UDP");
}
