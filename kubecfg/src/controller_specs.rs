//! The pure parts of the controller verbs: `run`'s objects and port specs, Go-style durations,
//! and the template hash that tells a rolling update's old pods from its new ones.
//!
//! **Old and new pods.** `rollingupdate` writes the annotation [`TEMPLATE_HASH_ANNOTATION`]
//! into the controller's pod template, valued with a hash of the template without it. The
//! replication controller copies the template's annotations into every pod it creates, so a
//! pod is new exactly when it carries the current hash; pods made before the update (no
//! annotation, or an older hash) are old. Running the same update again finds nothing old, and
//! an interrupted update resumes where it stopped.

use kube_core::intstr::IntOrString;
use kube_core::meta::{ObjectMeta, StringMap};
use kube_core::pod::{Container, ContainerPort, Pod, PodSpec, PodTemplateSpec};
use kube_core::replication_controller::ReplicationControllerSpec;
use kube_core::service::{ServicePort, ServiceSpec};
use kube_core::{ReplicationController, Service};
use std::time::Duration;

/// The label `run` puts on its controller's pods and selects them by, as the seed's kubecfg.
pub const SIMPLE_SERVICE_LABEL: &str = "simpleService";

/// The pod-template annotation holding the hash of the template a pod was made from.
pub const TEMPLATE_HASH_ANNOTATION: &str = "kubecfg.kubernetes.io/template-hash";

/// Parses the seed's port spec: `HOSTPORT:CONTAINERPORT` or `CONTAINERPORT`, comma-separated.
pub fn parse_port_spec(spec: &str) -> Result<Vec<ContainerPort>, String> {
    if spec.is_empty() {
        return Ok(Vec::new());
    }
    let port = |s: &str, what: &str, min: u16| -> Result<i32, String> {
        match s.parse::<u16>() {
            Ok(p) if p >= min => Ok(i32::from(p)),
            _ => Err(format!(
                "bad port spec {spec:?}: {what} port {s:?} is not a number from {min} to 65535"
            )),
        }
    };
    spec.split(',')
        .map(|part| {
            let (host, container) = match part.split_once(':') {
                Some((h, c)) => (port(h, "host", 0)?, port(c, "container", 1)?),
                None => (0, port(part, "container", 1)?),
            };
            Ok(ContainerPort {
                container_port: container,
                host_port: host,
                ..ContainerPort::default()
            })
        })
        .collect()
}

fn simple_service_labels(name: &str) -> StringMap {
    StringMap::from([(SIMPLE_SERVICE_LABEL.to_string(), name.to_string())])
}

/// The controller of `kubecfg run IMAGE REPLICAS NAME`: selector and pod labels
/// `simpleService=NAME`, one container named NAME lower-cased.
pub fn run_controller(
    image: &str,
    replicas: i32,
    name: &str,
    ports: Vec<ContainerPort>,
) -> ReplicationController {
    ReplicationController {
        metadata: ObjectMeta {
            name: name.to_string(),
            ..ObjectMeta::default()
        },
        spec: ReplicationControllerSpec {
            replicas: Some(replicas),
            selector: simple_service_labels(name),
            template: Some(PodTemplateSpec {
                metadata: ObjectMeta {
                    labels: simple_service_labels(name),
                    ..ObjectMeta::default()
                },
                spec: PodSpec {
                    containers: vec![Container {
                        name: name.to_lowercase(),
                        image: image.to_string(),
                        ports,
                        ..Container::default()
                    }],
                    ..PodSpec::default()
                },
            }),
        },
        ..ReplicationController::default()
    }
}

/// The service of `kubecfg run ... -s PORT`: labels and selector `simpleService=NAME`, sending
/// to the first container port when there is one.
pub fn run_service(name: &str, port: u16, ports: &[ContainerPort]) -> Service {
    Service {
        metadata: ObjectMeta {
            name: name.to_string(),
            labels: simple_service_labels(name),
            ..ObjectMeta::default()
        },
        spec: ServiceSpec {
            ports: vec![ServicePort {
                port: i32::from(port),
                target_port: ports.first().map(|p| IntOrString::Int(p.container_port)),
                ..ServicePort::default()
            }],
            selector: simple_service_labels(name),
            ..ServiceSpec::default()
        },
        ..Service::default()
    }
}

/// Parses a Go-style duration: `0`, or numbers with units (`ns`, `us`, `µs`, `ms`, `s`, `m`,
/// `h`), possibly fractional and concatenated: `500ms`, `10s`, `1m30s`, `1.5h`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = |why: &str| format!("invalid duration {s:?}: {why} (examples: 500ms, 10s, 1m30s)");
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(bad("empty"));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_len);
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err(bad("expected a number"));
        }
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let unit_secs = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(bad("missing unit")),
            _ => return Err(bad(&format!("unknown unit {unit:?}"))),
        };
        let value: f64 = num.parse().map_err(|_| bad("expected a number"))?;
        total = Duration::try_from_secs_f64(value * unit_secs)
            .ok()
            .and_then(|d| total.checked_add(d))
            .ok_or_else(|| bad("too long"))?;
        rest = next;
    }
    Ok(total)
}

/// A hash of `template` ignoring [`TEMPLATE_HASH_ANNOTATION`]: FNV-1a (64 bits) of its JSON,
/// in hex. Stable: the object model's maps are ordered.
pub fn template_hash(template: &PodTemplateSpec) -> String {
    let mut t = template.clone();
    t.metadata.annotations.remove(TEMPLATE_HASH_ANNOTATION);
    let json = serde_json::to_vec(&t).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in json {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// `template` with its hash annotation set; returns it and the hash.
pub fn with_template_hash(mut template: PodTemplateSpec) -> (PodTemplateSpec, String) {
    let hash = template_hash(&template);
    template
        .metadata
        .annotations
        .insert(TEMPLATE_HASH_ANNOTATION.to_string(), hash.clone());
    (template, hash)
}

/// Whether `pod` was made from the template whose hash is `hash`.
pub fn is_current(pod: &Pod, hash: &str) -> bool {
    pod.metadata
        .annotations
        .get(TEMPLATE_HASH_ANNOTATION)
        .is_some_and(|h| h == hash)
}

/// Whether `pod` is terminating (marked for graceful deletion).
pub fn is_terminating(pod: &Pod) -> bool {
    !pod.metadata.deletion_timestamp.is_empty()
}

/// Whether `pod` is up: phase `Running`, not terminating, and Ready when it reports readiness.
pub fn is_up(pod: &Pod) -> bool {
    pod.status.phase == "Running"
        && !is_terminating(pod)
        && pod
            .status
            .condition("Ready")
            .is_none_or(|c| c.status == "True")
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_core::pod::PodCondition;

    #[test]
    fn port_specs() {
        let ok = |c: i32, h: i32| ContainerPort {
            container_port: c,
            host_port: h,
            ..ContainerPort::default()
        };
        let cases: [(&str, Result<Vec<ContainerPort>, &str>); 8] = [
            ("", Ok(vec![])),
            ("80", Ok(vec![ok(80, 0)])),
            ("8080:80", Ok(vec![ok(80, 8080)])),
            ("8080:80,443", Ok(vec![ok(80, 8080), ok(443, 0)])),
            ("0", Err("container port \"0\"")),
            ("x:80", Err("host port \"x\"")),
            ("80:", Err("container port \"\"")),
            ("1:2:3", Err("container port \"2:3\"")),
        ];
        for (spec, want) in cases {
            match (parse_port_spec(spec), want) {
                (Ok(got), Ok(w)) => assert_eq!(got, w, "{spec}"),
                (Err(e), Err(w)) => assert!(e.contains(w), "{spec}: {e}"),
                (got, want) => panic!("{spec}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn durations() {
        let cases: [(&str, Option<Duration>); 12] = [
            ("0", Some(Duration::ZERO)),
            ("0s", Some(Duration::ZERO)),
            ("500ms", Some(Duration::from_millis(500))),
            ("10s", Some(Duration::from_secs(10))),
            ("1m", Some(Duration::from_secs(60))),
            ("1m30s", Some(Duration::from_secs(90))),
            ("1.5h", Some(Duration::from_secs(5400))),
            ("10", None),
            ("", None),
            ("5d", None),
            ("-1s", None),
            ("1..5s", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_duration(s).ok(), want, "{s}");
        }
    }

    #[test]
    fn run_builds_the_seeds_objects() {
        let ports = parse_port_spec("8080:80").unwrap();
        let rc = run_controller("nginx", 2, "myNginx", ports.clone());
        let json = serde_json::to_value(&rc).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "metadata": {"name": "myNginx"},
                "spec": {"replicas": 2, "selector": {"simpleService": "myNginx"},
                    "template": {"metadata": {"labels": {"simpleService": "myNginx"}},
                        "spec": {"containers": [{"name": "mynginx", "image": "nginx",
                            "ports": [{"containerPort": 80, "hostPort": 8080}]}]}}},
                "status": {"replicas": 0}
            })
        );
        let svc = serde_json::to_value(run_service("web", 8000, &ports)).unwrap();
        assert_eq!(svc["spec"]["ports"][0]["targetPort"], 80);
        assert_eq!(svc["spec"]["selector"]["simpleService"], "web");
        assert_eq!(svc["metadata"]["labels"]["simpleService"], "web");
        let bare = serde_json::to_value(run_service("web", 8000, &[])).unwrap();
        assert!(bare["spec"]["ports"][0].get("targetPort").is_none());
    }

    #[test]
    fn pods_are_old_or_new_by_template_hash() {
        let rc = run_controller("img:1", 1, "web", vec![]);
        let template = rc.spec.template.unwrap();
        let (tagged, hash) = with_template_hash(template.clone());
        // The hash ignores its own annotation, so tagging twice changes nothing.
        assert_eq!(with_template_hash(tagged.clone()).1, hash);
        let mut changed = template.clone();
        changed.spec.containers[0].image = "img:2".into();
        assert_ne!(template_hash(&changed), hash);

        let pod = |annotation: Option<&str>| {
            let mut p = Pod::default();
            if let Some(a) = annotation {
                p.metadata
                    .annotations
                    .insert(TEMPLATE_HASH_ANNOTATION.into(), a.into());
            }
            p
        };
        let cases = [
            (pod(None), false),
            (pod(Some("other")), false),
            (pod(Some(&hash)), true),
        ];
        for (p, want) in cases {
            assert_eq!(is_current(&p, &hash), want, "{:?}", p.metadata.annotations);
        }
    }

    #[test]
    fn pods_are_up_when_running_and_ready() {
        let pod = |phase: &str, ready: Option<&str>, terminating: bool| {
            let mut p = Pod::default();
            p.status.phase = phase.into();
            if let Some(r) = ready {
                p.status.conditions.push(PodCondition {
                    type_: "Ready".into(),
                    status: r.into(),
                    ..PodCondition::default()
                });
            }
            if terminating {
                p.metadata.deletion_timestamp = "2014-06-06T00:00:00Z".into();
            }
            p
        };
        let cases = [
            (pod("Running", None, false), true),
            (pod("Running", Some("True"), false), true),
            (pod("Running", Some("False"), false), false),
            (pod("Pending", None, false), false),
            (pod("Running", Some("True"), true), false),
        ];
        for (p, want) in cases {
            assert_eq!(is_up(&p), want, "{:?}", p.status);
        }
    }
}
