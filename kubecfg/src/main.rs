//! kubecfg: the seed's command-line client.
//!
//! `kubecfg [-h URL] [-c FILE] [-l SELECTOR] [-o FORMAT] get|list|create|update|delete RESOURCE[/NAME]`
//!
//! Thin by design: it parses arguments, calls the API server and prints the answer.

mod printer;

use clap::{ArgAction, Parser};
use hyper::Method;
use kube_core::v1beta1::V1Beta1;
use kube_core::{Endpoints, Event, Node, Pod, ReplicationController, ResourceKind, Service};
use kube_runtime::client::{encode_component, resource_path, ClientError, HttpClient};
use printer::Format;
use serde_json::Value;
use std::io::Read;
use std::process::ExitCode;

/// Command-line arguments.
#[derive(Parser, Debug)]
#[command(
    name = "kubecfg",
    version,
    disable_help_flag = true,
    about = "Manage pods, replication controllers, services and minions through the API server",
    after_help = "Examples:\n  kubecfg -c examples/redis.json create /pods\n  kubecfg list /pods\n  kubecfg -l name=redis list pods\n  kubecfg get pods/redis\n  kubecfg delete pods/redis"
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
    /// get, list, create, update or delete.
    verb: Verb,
    /// `pods`, `/pods`, `pods/NAME`, `replicationControllers`, `services`, `minions`, ...
    resource: String,
}

/// The verbs of the seed's kubecfg.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Verb {
    Get,
    List,
    Create,
    Update,
    Delete,
}

/// A failure to report on stderr.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Client(#[from] ClientError),
    #[error("{0}")]
    Output(String),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
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
        // Leases are never served in v1beta1; the server answers in coordination.k8s.io/v1.
        ResourceKind::Leases => Ok(v),
    }
}

async fn run(args: Args) -> Result<String, CliError> {
    let (kind, name) = parse_resource(&args.resource)?;
    let client = HttpClient::new(&args.server)?;
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
