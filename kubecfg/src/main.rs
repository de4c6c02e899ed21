//! kubecfg: the seed's command-line client.
//!
//! `kubecfg [-h URL] [-c FILE] [-l SELECTOR] [-o FORMAT] get|list|create|update|delete RESOURCE[/NAME]`
//! `kubecfg [-h URL] [-n NAMESPACE] logs POD [CONTAINER] [-f] [--tail N] [--previous]`
//! `kubecfg [-h URL] resize|stop|rm|run|rollingupdate ...` (the controller verbs, see [`USAGE`])
//!
//! Thin by design: it parses arguments, calls the API server and prints the answer.

mod controller_cmd;
mod controller_specs;
mod controller_verbs;
mod printer;
mod progress;

use clap::{ArgAction, CommandFactory, Parser};
use hyper::Method;
use kube_core::error::ApiError;
use kube_core::v1beta1::V1Beta1;
use kube_core::{Endpoints, Event, Node, Pod, ReplicationController, ResourceKind, Service};
use kube_runtime::client::{encode_component, resource_path, ClientError, HttpClient};
use printer::Format;
use serde_json::Value;
use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

/// The usage lines, the seed's with `logs` added.
const USAGE: &str = "kubecfg [OPTIONS] get|list|create|delete|update <pods|replicationControllers|services|minions|events>[/<id>]
  kubecfg [OPTIONS] logs <pod> [<container>] [-f] [--tail N] [--previous]
  kubecfg [OPTIONS] stop|rm <controller>
  kubecfg [OPTIONS] [-u <time>] [-image <image> | -c <file>] rollingupdate <controller>
  kubecfg [OPTIONS] resize <controller> <replicas>
  kubecfg [OPTIONS] [-p <port spec>] [-s <service port>] run <image> <replicas> <controller>";

/// The seed's single-dash long flags of kubecfg, rewritten to `--flag` for clap.
const GO_STYLE_FLAGS: [&str; 2] = ["image", "timeout"];

/// Command-line arguments.
#[derive(Parser, Debug)]
#[command(
    name = "kubecfg",
    version,
    disable_help_flag = true,
    about = "Manage pods, replication controllers, services and minions through the API server",
    override_usage = USAGE,
    after_help = "Examples:\n  kubecfg -c examples/redis.json create /pods\n  kubecfg list /pods\n  kubecfg -l name=redis list pods\n  kubecfg get pods/redis\n  kubecfg delete pods/redis\n  kubecfg logs redis\n  kubecfg logs -f --tail 10 redis redis\n  kubecfg resize redisController 3\n  kubecfg stop redisController\n  kubecfg rm redisController\n  kubecfg -p 8080:80 -s 8000 run nginx 2 web\n  kubecfg -image nginx:1.1 -u 10s rollingupdate web\n  kubecfg list events"
)]
struct Args {
    /// API server URL (default: $KUBERNETES_MASTER, else http://localhost:8080).
    #[arg(
        short = 'h',
        long = "server",
        env = "KUBERNETES_MASTER",
        default_value = "http://localhost:8080"
    )]
    server: String,
    /// File (JSON or YAML, v1 or the seed's v1beta1) to create or update; `-` reads stdin.
    /// For rollingupdate: a controller whose pod template replaces the current one.
    #[arg(short = 'c', long = "config")]
    config: Option<String>,
    /// Label selector for list, e.g. `name=redis,tier in (a,b)`.
    #[arg(short = 'l', long = "selector")]
    selector: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    output: Format,
    /// Namespace (default: all namespaces for list, `default` otherwise).
    #[arg(short = 'n', long = "namespace")]
    namespace: Option<String>,
    /// Print help.
    #[arg(long = "help", action = ArgAction::Help)]
    help: Option<bool>,
    /// logs: keep streaming new output.
    #[arg(short = 'f', long = "follow")]
    follow: bool,
    /// logs: only the last N lines.
    #[arg(long = "tail", value_name = "N")]
    tail: Option<u64>,
    /// logs: the previous (terminated) instance of the container.
    #[arg(long = "previous")]
    previous: bool,
    /// run: ports of the container, `HOSTPORT:CONTAINERPORT` or `CONTAINERPORT`, comma-separated.
    #[arg(short = 'p', long = "ports", value_name = "PORTSPEC")]
    ports: Option<String>,
    /// run: also create a service on this port, selecting the controller's pods.
    #[arg(short = 's', long = "service-port", value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    service_port: Option<u16>,
    /// rollingupdate: pause after each replaced pod, e.g. `10s`, `1m`, `500ms` (default 1m).
    #[arg(short = 'u', long = "update-period", value_name = "PERIOD", value_parser = controller_specs::parse_duration)]
    update_period: Option<Duration>,
    /// rollingupdate: the new image of the first container (`-image` is accepted too).
    #[arg(long = "image", value_name = "IMAGE")]
    image: Option<String>,
    /// stop, rollingupdate: longest wait for the pods at each step (default 5m).
    #[arg(long = "timeout", value_name = "DURATION", value_parser = controller_specs::parse_duration)]
    timeout: Option<Duration>,
    /// get, list, create, update, delete, logs, resize, stop, rm, run or rollingupdate.
    verb: Verb,
    /// `pods`, `/pods`, `pods/NAME`, `replicationControllers`, `services`, `minions`, ...;
    /// for logs, the pod (`NAME` or `pods/NAME`); for resize, stop, rm and rollingupdate, the
    /// controller; for run, the image.
    resource: String,
    /// logs: the container (needed when the pod has several); resize and run: the replicas.
    container: Option<String>,
    /// run: the controller's name.
    #[arg(value_name = "NAME")]
    name: Option<String>,
}

/// The verbs of the seed's kubecfg.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Verb {
    Get,
    List,
    Create,
    Update,
    Delete,
    Logs,
    Resize,
    Stop,
    Rm,
    Run,
    Rollingupdate,
}

impl Verb {
    /// The verb as typed.
    fn name(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Delete => "delete",
            Verb::Logs => "logs",
            Verb::Resize => "resize",
            Verb::Stop => "stop",
            Verb::Rm => "rm",
            Verb::Run => "run",
            Verb::Rollingupdate => "rollingupdate",
        }
    }

    /// The usage line of the verb.
    fn usage(self) -> &'static str {
        match self {
            Verb::Get | Verb::List | Verb::Create | Verb::Update | Verb::Delete => {
                "kubecfg [OPTIONS] get|list|create|delete|update <resource>[/<id>]"
            }
            Verb::Logs => "kubecfg logs POD [CONTAINER] [-f] [--tail N] [--previous]",
            Verb::Stop | Verb::Rm => "kubecfg [OPTIONS] stop|rm <controller>",
            Verb::Rollingupdate => {
                "kubecfg [OPTIONS] [-u <time>] [-image <image> | -c <file>] rollingupdate <controller>"
            }
            Verb::Resize => "kubecfg [OPTIONS] resize <controller> <replicas>",
            Verb::Run => {
                "kubecfg [OPTIONS] [-p <port spec>] [-s <service port>] run <image> <replicas> <controller>"
            }
        }
    }

    /// Whether the verb is one of the seed's controller verbs.
    fn is_controller_verb(self) -> bool {
        matches!(
            self,
            Verb::Resize | Verb::Stop | Verb::Rm | Verb::Run | Verb::Rollingupdate
        )
    }
}

/// A failure to report on stderr.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Client(#[from] ClientError),
    #[error("{0}")]
    Api(#[from] ApiError),
    #[error("{0}")]
    Controller(String),
    #[error("{0}")]
    Output(String),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match Args::try_parse_from(go_style_flags(std::env::args())) {
        Ok(args) => args,
        // --help and --version.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            eprintln!("{}", with_usage(&e));
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kubecfg: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Rewrites the seed's `-image X` and `-image=X` (and `-timeout`) to `--image`.
fn go_style_flags(args: impl Iterator<Item = String>) -> Vec<String> {
    args.map(|a| {
        let long = a.strip_prefix('-').filter(|rest| {
            GO_STYLE_FLAGS.iter().any(|f| {
                rest.strip_prefix(f)
                    .is_some_and(|t| t.is_empty() || t.starts_with('='))
            })
        });
        match long {
            Some(_) => format!("-{a}"),
            None => a,
        }
    })
    .collect()
}

/// A refusal of the arguments, always with a usage line (clap omits it for bad values).
fn with_usage(e: &clap::Error) -> String {
    let text = e.render().to_string();
    if text.contains("Usage:") {
        return text.trim_end().to_string();
    }
    let usage = Args::command().render_usage().to_string();
    format!("{}\n{usage}", text.trim_end())
}

/// Splits `RESOURCE[/NAME]` (leading slash optional).
fn parse_resource(s: &str) -> Result<(ResourceKind, Option<String>), CliError> {
    let s = s.trim_start_matches('/');
    let (res, name) = match s.split_once('/') {
        Some((r, n)) if !n.is_empty() => (r, Some(n.to_string())),
        Some((r, _)) => (r, None),
        None => (s, None),
    };
    let kind = ResourceKind::from_name(res).ok_or_else(|| {
        CliError::Usage(format!(
            "unknown resource {res:?}; expected one of pods, replicationControllers, services, minions, endpoints, events"
        ))
    })?;
    Ok((kind, name))
}

/// Reads a JSON or YAML document from a path or stdin (`-`).
fn read_document(path: &str) -> Result<Value, CliError> {
    let mut text = String::new();
    if path == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::Usage(format!("reading stdin: {e}")))?;
    } else {
        text = std::fs::read_to_string(path)
            .map_err(|e| CliError::Usage(format!("reading {path}: {e}")))?;
    }
    let trimmed = text.trim_start();
    let value: Value = if trimmed.starts_with('{') {
        serde_json::from_str(trimmed)
            .map_err(|e| CliError::Usage(format!("{path} is not valid JSON: {e}")))?
    } else {
        serde_yaml_ng::from_str(&text)
            .map_err(|e| CliError::Usage(format!("{path} is not valid YAML: {e}")))?
    };
    if !value.is_object() {
        return Err(CliError::Usage(format!("{path} must hold one object")));
    }
    Ok(value)
}

/// Whether a document is in the seed's v1beta1 shape rather than core/v1.
fn is_v1beta1(doc: &Value) -> bool {
    match doc.get("apiVersion").and_then(Value::as_str) {
        Some(v) => v == "v1beta1",
        None => {
            doc.get("metadata").is_none()
                && (doc.get("id").is_some() || doc.get("desiredState").is_some())
        }
    }
}

fn v1beta1_path(kind: ResourceKind, name: Option<&str>, namespace: Option<&str>) -> String {
    let mut p = format!("/api/v1beta1/{}", kind.info().v1beta1_name);
    if let Some(n) = name {
        p.push('/');
        p.push_str(&encode_component(n));
    }
    if let Some(ns) = namespace {
        p.push_str(&format!("?namespace={}", encode_component(ns)));
    }
    p
}

/// Converts a v1beta1 object returned by the server to v1 for printing.
fn v1beta1_to_v1(kind: ResourceKind, v: Value) -> Result<Value, CliError> {
    fn conv<T: V1Beta1 + serde::Serialize>(v: Value) -> Result<Value, CliError> {
        let obj = T::from_v1beta1(v)
            .map_err(|e| CliError::Output(format!("unexpected object from the server: {e}")))?;
        serde_json::to_value(obj).map_err(|e| CliError::Output(e.to_string()))
    }
    match kind {
        ResourceKind::Pods => conv::<Pod>(v),
        ResourceKind::ReplicationControllers => conv::<ReplicationController>(v),
        ResourceKind::Services => conv::<Service>(v),
        ResourceKind::Endpoints => conv::<Endpoints>(v),
        ResourceKind::Nodes => conv::<Node>(v),
        ResourceKind::Events => conv::<Event>(v),
        // Leases and namespaces are never served in v1beta1; the server answers in v1.
        ResourceKind::Leases | ResourceKind::Namespaces => Ok(v),
    }
}

/// Checks the flags and operands against the verb: options of other verbs and wrong operand
/// counts are refused with the verb's usage line.
fn check_arguments(args: &Args) -> Result<(), CliError> {
    use Verb::*;
    let flags: [(&str, bool, &[Verb]); 8] = [
        ("-f", args.follow, &[Logs]),
        ("--tail", args.tail.is_some(), &[Logs]),
        ("--previous", args.previous, &[Logs]),
        ("-p", args.ports.is_some(), &[Run]),
        ("-s", args.service_port.is_some(), &[Run]),
        ("-u", args.update_period.is_some(), &[Rollingupdate]),
        ("-image", args.image.is_some(), &[Rollingupdate]),
        ("--timeout", args.timeout.is_some(), &[Stop, Rollingupdate]),
    ];
    for (flag, given, verbs) in flags {
        if given && !verbs.contains(&args.verb) {
            let names: Vec<&str> = verbs.iter().map(|v| v.name()).collect();
            return Err(CliError::Usage(format!(
                "{flag} is only valid with {}\nUsage: {}",
                names.join(" or "),
                verbs[0].usage()
            )));
        }
    }
    if args.verb == Rollingupdate && args.image.is_some() && args.config.is_some() {
        return Err(CliError::Usage(format!(
            "-image and -c cannot be used together\nUsage: {}",
            Rollingupdate.usage()
        )));
    }
    let operands = 1 + usize::from(args.container.is_some()) + usize::from(args.name.is_some());
    let (min, max, what) = match args.verb {
        Get | List | Create | Update | Delete => {
            if operands > 1 {
                return Err(CliError::Usage(format!(
                    "CONTAINER is only valid with logs\nUsage: {}",
                    Logs.usage()
                )));
            }
            (1, 1, "a resource")
        }
        Logs => (1, 2, "a pod and at most one container"),
        Stop | Rm | Rollingupdate => (1, 1, "one controller"),
        Resize => (2, 2, "a controller and a number of replicas"),
        Run => (3, 3, "an image, a number of replicas and a controller name"),
    };
    if operands < min || operands > max {
        return Err(CliError::Usage(format!(
            "{} takes {what}\nUsage: {}",
            args.verb.name(),
            args.verb.usage()
        )));
    }
    Ok(())
}

/// The pod of `kubecfg logs POD`: `NAME`, `pods/NAME` or `/pods/NAME`.
fn log_pod(arg: &str) -> Result<String, CliError> {
    let trimmed = arg.trim_start_matches('/');
    let name = match trimmed.split_once('/') {
        None => trimmed,
        Some((res, name)) if ResourceKind::from_name(res) == Some(ResourceKind::Pods) => name,
        Some(_) => "",
    };
    if name.is_empty() || name.contains('/') {
        return Err(CliError::Usage(format!(
            "logs needs a pod, not {arg:?}\nUsage: kubecfg logs POD [CONTAINER] [-f] [--tail N] [--previous]"
        )));
    }
    Ok(name.to_string())
}

/// The path of a pod's log with the options of `args`.
fn log_path(args: &Args, pod: &str) -> String {
    let ns = args.namespace.as_deref().unwrap_or("default");
    let mut path = resource_path(ResourceKind::Pods, Some(ns), Some(pod)) + "/log";
    let mut query = Vec::new();
    if let Some(c) = &args.container {
        query.push(format!("container={}", encode_component(c)));
    }
    if args.follow {
        query.push("follow=true".to_string());
    }
    if let Some(n) = args.tail {
        query.push(format!("tailLines={n}"));
    }
    if args.previous {
        query.push("previous=true".to_string());
    }
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query.join("&"));
    }
    path
}

/// `kubecfg logs`: writes the log to stdout as its bytes arrive.
async fn logs(args: &Args) -> Result<(), CliError> {
    use http_body_util::BodyExt;
    use std::io::Write;
    let path = log_path(args, &log_pod(&args.resource)?);
    let client = HttpClient::new(&args.server)?;
    let mut body = client.request_streaming(Method::GET, &path).await?;
    let mut out = std::io::stdout();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| CliError::Output(format!("reading the log: {e}")))?;
        if let Ok(data) = frame.into_data() {
            out.write_all(&data)
                .and_then(|()| out.flush())
                .map_err(|e| CliError::Output(format!("writing the log: {e}")))?;
        }
    }
    Ok(())
}

async fn run(args: Args) -> Result<String, CliError> {
    check_arguments(&args)?;
    // `logs` names a pod, not a resource; the controller verbs a controller.
    let (kind, name) = match args.verb {
        Verb::Logs => (ResourceKind::Pods, None),
        v if v.is_controller_verb() => (ResourceKind::ReplicationControllers, None),
        _ => parse_resource(&args.resource)?,
    };
    // The server's warnings (e.g. unknown fields) go to stderr, as kubectl prints them.
    let client = HttpClient::new(&args.server)?.with_warning_handler(|w| eprintln!("Warning: {w}"));
    let ns = args.namespace.as_deref();
    let item_ns = Some(ns.unwrap_or("default"));
    let print = |v: &Value| printer::print(kind, v, args.output).map_err(CliError::Output);
    match args.verb {
        Verb::List | Verb::Get if name.is_none() => {
            let mut path = resource_path(kind, ns, None);
            if let Some(sel) = &args.selector {
                path.push_str(&format!("?labelSelector={}", encode_component(sel)));
            }
            print(&client.request_json(Method::GET, &path, None).await?)
        }
        Verb::List | Verb::Get => {
            let v = client
                .request_json(
                    Method::GET,
                    &resource_path(kind, item_ns, name.as_deref()),
                    None,
                )
                .await?;
            let mut out = print(&v)?;
            if kind == ResourceKind::Pods && matches!(args.output, Format::Table | Format::Wide) {
                out.push_str(&printer::pod_conditions(&v));
            }
            Ok(out)
        }
        Verb::Create => {
            let doc = read_document(&require_config(&args)?)?;
            if is_v1beta1(&doc) {
                let created = client
                    .request_json(Method::POST, &v1beta1_path(kind, None, ns), Some(&doc))
                    .await?;
                print(&v1beta1_to_v1(kind, created)?)
            } else {
                let doc_ns = doc
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let target_ns = ns
                    .map(str::to_string)
                    .or(doc_ns)
                    .unwrap_or_else(|| "default".into());
                let created = client
                    .request_json(
                        Method::POST,
                        &resource_path(kind, Some(&target_ns), None),
                        Some(&doc),
                    )
                    .await?;
                print(&created)
            }
        }
        Verb::Update => {
            let mut doc = read_document(&require_config(&args)?)?;
            let beta = is_v1beta1(&doc);
            let doc_name = if beta {
                doc.get("id").and_then(Value::as_str)
            } else {
                doc.pointer("/metadata/name").and_then(Value::as_str)
            }
            .map(str::to_string);
            let name = name.or(doc_name).ok_or_else(|| {
                CliError::Usage("update needs RESOURCE/NAME or a name in the file".into())
            })?;
            // As the seed's kubecfg did: read the current resourceVersion, then PUT with it.
            if beta {
                let path = v1beta1_path(kind, Some(&name), ns);
                let current = client.request_json(Method::GET, &path, None).await?;
                doc["resourceVersion"] = current
                    .get("resourceVersion")
                    .cloned()
                    .unwrap_or(Value::Null);
                let updated = client.request_json(Method::PUT, &path, Some(&doc)).await?;
                print(&v1beta1_to_v1(kind, updated)?)
            } else {
                let doc_ns = doc
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let target_ns = ns
                    .map(str::to_string)
                    .or(doc_ns)
                    .unwrap_or_else(|| "default".into());
                let path = resource_path(kind, Some(&target_ns), Some(&name));
                let current = client.request_json(Method::GET, &path, None).await?;
                let rv = current
                    .pointer("/metadata/resourceVersion")
                    .cloned()
                    .unwrap_or(Value::Null);
                if let Some(meta) = doc.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.insert("resourceVersion".into(), rv);
                }
                print(&client.request_json(Method::PUT, &path, Some(&doc)).await?)
            }
        }
        Verb::Logs => {
            logs(&args).await?;
            Ok(String::new())
        }
        Verb::Resize | Verb::Stop | Verb::Rm | Verb::Run | Verb::Rollingupdate => {
            controller_cmd::run(&args).await
        }
        Verb::Delete => {
            let name = name.ok_or_else(|| CliError::Usage("delete needs RESOURCE/NAME".into()))?;
            let deleted = client
                .request_json(
                    Method::DELETE,
                    &resource_path(kind, item_ns, Some(&name)),
                    None,
                )
                .await?;
            match args.output {
                Format::Table | Format::Wide => Ok(printer::status_table("Success")),
                _ => print(&deleted),
            }
        }
    }
}

fn require_config(args: &Args) -> Result<String, CliError> {
    args.config.clone().ok_or_else(|| {
        CliError::Usage(
            format!("{:?} needs a file: -c FILE (or -c - for stdin)", args.verb).to_lowercase(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resources_parse_with_or_without_slash() {
        let cases = [
            ("/pods", Some((ResourceKind::Pods, None))),
            ("pods", Some((ResourceKind::Pods, None))),
            ("pods/redis", Some((ResourceKind::Pods, Some("redis")))),
            (
                "/replicationControllers",
                Some((ResourceKind::ReplicationControllers, None)),
            ),
            (
                "minions/127.0.0.1",
                Some((ResourceKind::Nodes, Some("127.0.0.1"))),
            ),
            ("pods/", Some((ResourceKind::Pods, None))),
            ("widgets", None),
        ];
        for (input, want) in cases {
            let got = parse_resource(input).ok();
            let want = want.map(|(k, n)| (k, n.map(String::from)));
            assert_eq!(got, want, "{input}");
        }
    }

    #[test]
    fn logs_arguments() {
        // (argv after `kubecfg`, the log path, or the start of the usage error)
        let cases: [(&[&str], Result<&str, &str>); 11] = [
            (
                &["logs", "redis"],
                Ok("/api/v1/namespaces/default/pods/redis/log"),
            ),
            (
                &["logs", "-f", "--tail", "10", "/pods/redis", "c 1", "--previous"],
                Ok("/api/v1/namespaces/default/pods/redis/log?container=c%201&follow=true&tailLines=10&previous=true"),
            ),
            (
                &["-n", "ns", "logs", "pods/web", "--follow"],
                Ok("/api/v1/namespaces/ns/pods/web/log?follow=true"),
            ),
            (&["logs", "services/x"], Err("logs needs a pod")),
            (&["logs", "pods/a/b"], Err("logs needs a pod")),
            (&["logs", "pods/"], Err("logs needs a pod")),
            (&["get", "pods/redis", "extra"], Err("CONTAINER is only valid with logs")),
            (&["list", "pods", "-f"], Err("-f is only valid with logs")),
            (&["get", "pods/x", "--tail", "3"], Err("--tail is only valid with logs")),
            (&["delete", "pods/x", "--previous"], Err("--previous is only valid with logs")),
            (&["logs", "redis", "c", "extra"], Err("logs takes a pod and at most one container")),
        ];
        for (argv, want) in cases {
            let args = Args::try_parse_from(std::iter::once("kubecfg").chain(argv.iter().copied()))
                .expect("parses");
            let got = check_arguments(&args)
                .and_then(|()| log_pod(&args.resource))
                .map(|pod| log_path(&args, &pod))
                .map_err(|e| e.to_string());
            match (got, want) {
                (Ok(path), Ok(w)) => assert_eq!(path, w, "{argv:?}"),
                (Err(e), Err(w)) => assert!(e.starts_with(w), "{argv:?}: {e}"),
                (got, want) => panic!("{argv:?}: got {got:?}, want {want:?}"),
            }
        }
        // Arguments clap refuses (with a usage line).
        for argv in [
            &["logs", "redis", "--tail", "-1"][..],
            &["logs", "redis", "--tail", "ten"],
            &["logs"],
            &["logs", "redis", "c", "extra", "more"],
        ] {
            let err = Args::try_parse_from(std::iter::once("kubecfg").chain(argv.iter().copied()))
                .expect_err("refused");
            let msg = with_usage(&err);
            assert!(msg.contains("Usage: kubecfg"), "{argv:?}: {msg}");
        }
    }

    #[test]
    fn detects_the_seed_format() {
        let cases = [
            (json!({"id": "redis", "desiredState": {}}), true),
            (
                json!({"apiVersion": "v1beta1", "kind": "ReplicationController"}),
                true,
            ),
            (
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}),
                false,
            ),
            (json!({"metadata": {"name": "x"}, "spec": {}}), false),
        ];
        for (doc, want) in cases {
            assert_eq!(is_v1beta1(&doc), want, "{doc}");
        }
    }
}
