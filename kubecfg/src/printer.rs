//! Output: the seed's tables (Go tabwriter, min width 20, padding 3), wide tables, JSON and YAML.

use kube_core::labels::format_labels;
use kube_core::list::List;
use kube_core::{Endpoints, Event, Node, Pod, ReplicationController, ResourceKind, Service};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Output formats of `-o`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The seed's columns.
    Table,
    /// The seed's columns plus namespace, IP and creation time.
    Wide,
    /// The v1 object as JSON.
    Json,
    /// The v1 object as YAML.
    Yaml,
}

/// Minimum column width of the seed's tabwriter.
const MIN_WIDTH: usize = 20;
/// Padding after the widest cell of a column.
const PADDING: usize = 3;

/// Renders a table: header, a `----------` row, then the rows; every column but the last is padded.
pub fn render_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let dashes: Vec<String> = headers.iter().map(|_| "-".repeat(10)).collect();
    let header: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
    let all: Vec<&Vec<String>> = [&header, &dashes].into_iter().chain(rows.iter()).collect();
    let widths: Vec<usize> = (0..headers.len())
        .map(|c| {
            let widest = all
                .iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0);
            (widest + PADDING).max(MIN_WIDTH)
        })
        .collect();
    let mut out = String::new();
    for row in all {
        let last = headers.len().saturating_sub(1);
        for (c, cell) in row.iter().enumerate() {
            if c == last {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&" ".repeat(widths[c].saturating_sub(cell.chars().count())));
            }
        }
        out.push('\n');
    }
    out
}

/// Prints a v1 object or list in `format`.
pub fn print(resource: ResourceKind, value: &Value, format: Format) -> Result<String, String> {
    match format {
        Format::Json => serde_json::to_string_pretty(value)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string()),
        Format::Yaml => serde_yaml_ng::to_string(value).map_err(|e| e.to_string()),
        Format::Table | Format::Wide => table(resource, value, format == Format::Wide),
    }
}

/// For a single pod: one line per condition that is not `True`, e.g.
/// `PodScheduled=False Unschedulable: 0/1 nodes are available: ...`, after a blank line.
pub fn pod_conditions(value: &Value) -> String {
    let Ok(pod) = serde_json::from_value::<Pod>(value.clone()) else {
        return String::new();
    };
    let lines: Vec<String> = pod
        .status
        .conditions
        .iter()
        .filter(|c| c.status != "True")
        .map(|c| {
            let mut line = format!("{}={}", c.type_, c.status);
            if !c.reason.is_empty() {
                line.push(' ');
                line.push_str(&c.reason);
            }
            if !c.message.is_empty() {
                line.push_str(": ");
                line.push_str(&c.message);
            }
            line
        })
        .collect();
    if lines.is_empty() {
        String::new()
    } else {
        format!("\n{}\n", lines.join("\n"))
    }
}

/// Prints the seed's `Status` table for a delete.
pub fn status_table(status: &str) -> String {
    render_table(&["Status"], &[vec![status.to_string()]])
}

fn items<T: DeserializeOwned>(value: &Value) -> Result<Vec<T>, String> {
    let decode_err = |e: serde_json::Error| format!("unexpected object from the server: {e}");
    if value.get("items").is_some() {
        let list: List<T> = serde_json::from_value(value.clone()).map_err(decode_err)?;
        Ok(list.items)
    } else {
        Ok(vec![
            serde_json::from_value(value.clone()).map_err(decode_err)?
        ])
    }
}

fn table(resource: ResourceKind, value: &Value, wide: bool) -> Result<String, String> {
    let (mut headers, mut rows): (Vec<&str>, Vec<Vec<String>>) = match resource {
        ResourceKind::Pods => (
            vec!["ID", "Image(s)", "Host", "Labels", "Status"],
            items::<Pod>(value)?
                .iter()
                .map(|p| pod_row(p, wide))
                .collect(),
        ),
        ResourceKind::ReplicationControllers => (
            vec!["ID", "Image(s)", "Selector", "Replicas"],
            items::<ReplicationController>(value)?
                .iter()
                .map(|r| rc_row(r, wide))
                .collect(),
        ),
        ResourceKind::Services => (
            vec!["ID", "Labels", "Selector", "IP", "Port"],
            items::<Service>(value)?
                .iter()
                .map(|s| service_row(s, wide))
                .collect(),
        ),
        ResourceKind::Nodes => (
            vec!["Minion identifier"],
            items::<Node>(value)?
                .iter()
                .map(|n| node_row(n, wide))
                .collect(),
        ),
        ResourceKind::Endpoints => (
            vec!["ID", "Endpoints"],
            items::<Endpoints>(value)?
                .iter()
                .map(|e| endpoints_row(e, wide))
                .collect(),
        ),
        ResourceKind::Events => (
            vec!["Name", "Kind", "Status", "Reason", "Message"],
            items::<Event>(value)?
                .iter()
                .map(|e| event_row(e, wide))
                .collect(),
        ),
        ResourceKind::Leases => (
            vec!["Name", "Holder"],
            items::<kube_core::Lease>(value)?
                .iter()
                .map(|l| {
                    let m = &l.metadata;
                    let mut row = vec![m.name.clone(), l.spec.holder_identity.clone()];
                    if wide {
                        row.extend([m.namespace.clone(), m.creation_timestamp.clone()]);
                    }
                    row
                })
                .collect(),
        ),
        ResourceKind::Namespaces => (
            vec!["Name", "Status"],
            items::<kube_core::Namespace>(value)?
                .iter()
                .map(|n| {
                    let m = &n.metadata;
                    let mut row = vec![m.name.clone(), n.status.phase.clone()];
                    if wide {
                        row.extend([String::new(), m.creation_timestamp.clone()]);
                    }
                    row
                })
                .collect(),
        ),
    };
    if wide {
        let extra: &[&str] = match resource {
            ResourceKind::Pods => &["Namespace", "IP", "Created"],
            ResourceKind::Nodes => &["Labels", "Created"],
            ResourceKind::Events => &["Namespace", "Last Seen"],
            _ => &["Namespace", "Created"],
        };
        headers.extend_from_slice(extra);
    }
    rows.iter_mut().for_each(|r| r.truncate(headers.len()));
    Ok(render_table(&headers, &rows))
}

fn images(spec: &kube_core::pod::PodSpec) -> String {
    spec.containers
        .iter()
        .map(|c| c.image.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn pod_row(p: &Pod, wide: bool) -> Vec<String> {
    let host = if p.spec.node_name.is_empty() && p.status.host_ip.is_empty() {
        "<unassigned>".to_string()
    } else {
        format!("{}/{}", p.spec.node_name, p.status.host_ip)
    };
    let mut row = vec![
        p.metadata.name.clone(),
        images(&p.spec),
        host,
        format_labels(&p.metadata.labels),
        p.status.phase.clone(),
    ];
    if wide {
        row.extend([
            p.metadata.namespace.clone(),
            p.status.pod_ip.clone(),
            p.metadata.creation_timestamp.clone(),
        ]);
    }
    row
}

fn rc_row(r: &ReplicationController, wide: bool) -> Vec<String> {
    let imgs = r
        .spec
        .template
        .as_ref()
        .map(|t| images(&t.spec))
        .unwrap_or_default();
    let mut row = vec![
        r.metadata.name.clone(),
        imgs,
        format_labels(&r.spec.selector),
        r.spec.replicas.unwrap_or(1).to_string(),
    ];
    if wide {
        row.extend([
            r.metadata.namespace.clone(),
            r.metadata.creation_timestamp.clone(),
        ]);
    }
    row
}

fn service_row(s: &Service, wide: bool) -> Vec<String> {
    let port = s
        .spec
        .ports
        .first()
        .map(|p| p.port.to_string())
        .unwrap_or_default();
    let mut row = vec![
        s.metadata.name.clone(),
        format_labels(&s.metadata.labels),
        format_labels(&s.spec.selector),
        s.spec.cluster_ip.clone(),
        port,
    ];
    if wide {
        row.extend([
            s.metadata.namespace.clone(),
            s.metadata.creation_timestamp.clone(),
        ]);
    }
    row
}

fn node_row(n: &Node, wide: bool) -> Vec<String> {
    let mut row = vec![n.metadata.name.clone()];
    if wide {
        row.extend([
            format_labels(&n.metadata.labels),
            n.metadata.creation_timestamp.clone(),
        ]);
    }
    row
}

fn endpoints_row(e: &Endpoints, wide: bool) -> Vec<String> {
    let eps: Vec<String> = e
        .subsets
        .iter()
        .flat_map(|s| {
            s.addresses
                .iter()
                .flat_map(move |a| s.ports.iter().map(move |p| format!("{}:{}", a.ip, p.port)))
        })
        .collect();
    let mut row = vec![e.metadata.name.clone(), eps.join(",")];
    if wide {
        row.extend([
            e.metadata.namespace.clone(),
            e.metadata.creation_timestamp.clone(),
        ]);
    }
    row
}

fn event_row(e: &Event, wide: bool) -> Vec<String> {
    let mut row = vec![
        e.involved_object.name.clone(),
        e.involved_object.kind.clone(),
        e.type_.clone(),
        e.reason.clone(),
        e.message.clone(),
    ];
    if wide {
        row.extend([e.metadata.namespace.clone(), e.last_timestamp.clone()]);
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_match_the_seed() {
        let pod = json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": [{
            "metadata": {"name": "redis", "labels": {"name": "redis"}},
            "spec": {"nodeName": "127.0.0.1", "containers": [{"name": "redis", "image": "dockerfile/redis"}]},
            "status": {"phase": "Running"}}]});
        let rc = json!({"metadata": {"name": "redisController"}, "spec": {"replicas": 1, "selector": {"name": "redis"},
            "template": {"metadata": {"labels": {"name": "redis"}}, "spec": {"containers": [{"name": "redis", "image": "dockerfile/redis"}]}}}});
        let unscheduled = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]},
            "status": {"phase": "Pending"}});
        let cases = [
            (
                ResourceKind::Pods,
                pod,
                "ID                  Image(s)            Host                Labels              Status\n\
                 ----------          ----------          ----------          ----------          ----------\n\
                 redis               dockerfile/redis    127.0.0.1/          name=redis          Running\n",
            ),
            (
                ResourceKind::ReplicationControllers,
                rc,
                "ID                  Image(s)            Selector            Replicas\n\
                 ----------          ----------          ----------          ----------\n\
                 redisController     dockerfile/redis    name=redis          1\n",
            ),
            (
                ResourceKind::Pods,
                unscheduled,
                "ID                  Image(s)            Host                Labels              Status\n\
                 ----------          ----------          ----------          ----------          ----------\n\
                 p                   x,y                 <unassigned>                            Pending\n",
            ),
            // v0.5's IP column (the portal IP) between Selector and Port.
            (
                ResourceKind::Services,
                json!({"items": [{"metadata": {"name": "redismaster", "labels": {"name": "redis"}},
                    "spec": {"selector": {"name": "redis-master"}, "clusterIP": "172.0.0.1",
                        "ports": [{"port": 10000}]}}]}),
                "ID                  Labels              Selector            IP                  Port\n\
                 ----------          ----------          ----------          ----------          ----------\n\
                 redismaster         name=redis          name=redis-master   172.0.0.1           10000\n",
            ),
            (
                ResourceKind::Nodes,
                json!({"items": [{"metadata": {"name": "127.0.0.1"}}]}),
                "Minion identifier\n----------\n127.0.0.1\n",
            ),
            // v0.5's events: the involved object's name and kind, the status (v1's type),
            // the reason and the message.
            (
                ResourceKind::Events,
                json!({"items": [{"metadata": {"name": "redis.1"}, "type": "Warning",
                    "involvedObject": {"kind": "Pod", "name": "redis"},
                    "reason": "FailedScheduling", "message": "0/1 nodes are available"}]}),
                "Name                Kind                Status              Reason              Message\n\
                 ----------          ----------          ----------          ----------          ----------\n\
                 redis               Pod                 Warning             FailedScheduling    0/1 nodes are available\n",
            ),
        ];
        for (res, value, want) in cases {
            assert_eq!(print(res, &value, Format::Table).unwrap(), want, "{res:?}");
        }
    }

    #[test]
    fn failing_pod_conditions_are_listed() {
        let cases = [
            (json!({"metadata": {"name": "p"}, "status": {"conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/1 nodes are available: 1 Insufficient cpu."}]}}),
                "\nPodScheduled=False Unschedulable: 0/1 nodes are available: 1 Insufficient cpu.\n"),
            (json!({"metadata": {"name": "p"}, "status": {"conditions": [{"type": "PodScheduled", "status": "True"}]}}), ""),
            (json!({"metadata": {"name": "p"}}), ""),
        ];
        for (pod, want) in cases {
            assert_eq!(pod_conditions(&pod), want, "{pod}");
        }
    }

    #[test]
    fn wide_columns_grow_past_the_minimum() {
        let t = render_table(
            &["A", "B"],
            &[vec!["a-very-long-cell-value-here".into(), "x".into()]],
        );
        let first = t.lines().next().unwrap();
        assert_eq!(
            first,
            format!(
                "A{}B",
                " ".repeat("a-very-long-cell-value-here".len() + 3 - 1)
            )
        );
    }
}
