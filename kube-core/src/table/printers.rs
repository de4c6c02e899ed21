//! The table rows of each kind, as Kubernetes' printers compute them (wide).

use super::{age, column, name_column, Printable, TableColumnDefinition, TableRow};
use super::{age_column, TableRowCondition};
use crate::lease::Lease;
use crate::meta::StringMap;
use crate::pod::{CONDITION_READY, CONDITION_TRUE, PHASE_FAILED, PHASE_SUCCEEDED};
use crate::time::Timestamp;
use crate::{Endpoints, Event, Node, Pod, ReplicationController, Service};
use serde_json::Value;
use std::collections::BTreeSet;

/// The pod reason the node lifecycle controller sets on pods of an unreachable node.
const REASON_NODE_LOST: &str = "NodeLost";

/// Label prefix naming a node role (`node-role.kubernetes.io/control-plane`).
const LABEL_NODE_ROLE_PREFIX: &str = "node-role.kubernetes.io/";

/// Label whose value names a node role.
const LABEL_NODE_ROLE: &str = "kubernetes.io/role";

/// Most endpoints shown before `+ N more...`.
const MAX_ENDPOINTS_SHOWN: usize = 3;

fn none_if_empty(s: &str) -> String {
    if s.is_empty() {
        "<none>".to_string()
    } else {
        s.to_string()
    }
}

/// `labels.FormatLabels`: `k=v,k2=v2` in key order, `<none>` when empty.
fn format_labels(labels: &StringMap) -> String {
    let s: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    none_if_empty(&s.join(","))
}

/// What kubectl shows of a pod: READY, STATUS, RESTARTS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodSummary {
    /// Containers ready and running.
    pub ready: usize,
    /// Containers in the spec.
    pub total: usize,
    /// The STATUS column: the phase, or the reason that best explains the pod's state
    /// (`ContainerCreating`, `CrashLoopBackOff`, `Completed`, `Error`, `Terminating`, ...).
    pub status: String,
    /// Restarts of every container.
    pub restarts: i64,
    /// When a container last stopped before a restart (its last state's `finishedAt`).
    pub last_restart: Option<Timestamp>,
}

/// kubectl's `printPod` for a pod's READY, STATUS and RESTARTS columns.
pub fn pod_summary(pod: &Pod) -> PodSummary {
    let st = &pod.status;
    let mut reason = if st.reason.is_empty() {
        st.phase.clone()
    } else {
        st.reason.clone()
    };
    if st
        .conditions
        .iter()
        .any(|c| c.type_ == crate::pod::CONDITION_POD_SCHEDULED && c.reason == "SchedulingGated")
    {
        reason = "SchedulingGated".to_string();
    }
    let (mut ready, mut restarts, mut last_restart) = (0, 0i64, None::<Timestamp>);
    let mut has_running = false;
    // Backwards, so that the first container's state has the last word.
    for c in st.container_statuses.iter().rev() {
        restarts += i64::from(c.restart_count);
        if let Some(t) = &c.last_state.terminated {
            if let Ok(finished) = Timestamp::parse(&t.finished_at) {
                last_restart = Some(last_restart.map_or(finished, |l| l.max(finished)));
            }
        }
        match (&c.state.waiting, &c.state.terminated) {
            (Some(w), _) if !w.reason.is_empty() => reason = w.reason.clone(),
            (_, Some(t)) if !t.reason.is_empty() => reason = t.reason.clone(),
            (_, Some(t)) if t.signal != 0 => reason = format!("Signal:{}", t.signal),
            (_, Some(t)) => reason = format!("ExitCode:{}", t.exit_code),
            _ if c.ready && c.state.running.is_some() => {
                has_running = true;
                ready += 1;
            }
            _ => {}
        }
    }
    // A pod whose other containers still run is not "Completed".
    if reason == "Completed" && has_running {
        let pod_ready = st
            .conditions
            .iter()
            .any(|c| c.type_ == CONDITION_READY && c.status == CONDITION_TRUE);
        reason = if pod_ready { "Running" } else { "NotReady" }.to_string();
    }
    let terminal = st.phase == PHASE_SUCCEEDED || st.phase == PHASE_FAILED;
    if !pod.metadata.deletion_timestamp.is_empty() {
        if st.reason == REASON_NODE_LOST {
            reason = "Unknown".to_string();
        } else if !terminal {
            reason = "Terminating".to_string();
        }
    }
    PodSummary {
        ready,
        total: pod.spec.containers.len(),
        status: reason,
        restarts,
        last_restart,
    }
}

impl Printable for Pod {
    fn column_definitions() -> Vec<TableColumnDefinition> {
        vec![
            name_column(),
            column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic.", 0),
            column("Status", "string", "The aggregate status of the containers in this pod.", 0),
            column("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0),
            age_column(),
            column("IP", "string", "IP address allocated to the pod.", 1),
            column("Node", "string", "The node the pod is bound to.", 1),
            column("Nominated Node", "string", "The node the scheduler nominated for preemption.", 1),
            column("Readiness Gates", "string", "Readiness gates of the pod that are true.", 1),
        ]
    }

    fn table_row(&self, now: Timestamp) -> TableRow {
        let s = pod_summary(self);
        let restarts = match s.last_restart {
            Some(t) if s.restarts != 0 => {
                format!("{} ({} ago)", s.restarts, super::elapsed(t, now))
            }
            _ => s.restarts.to_string(),
        };
        let conditions = match self.status.phase.as_str() {
            PHASE_SUCCEEDED => completed(PHASE_SUCCEEDED, "The pod has completed successfully."),
            PHASE_FAILED => completed(PHASE_FAILED, "The pod failed."),
            _ => Vec::new(),
        };
        TableRow {
            cells: vec![
                self.metadata.name.clone().into(),
                format!("{}/{}", s.ready, s.total).into(),
                s.status.into(),
                restarts.into(),
                age(&self.metadata.creation_timestamp, now).into(),
                none_if_empty(&self.status.pod_ip).into(),
                none_if_empty(&self.spec.node_name).into(),
                "<none>".into(),
                "<none>".into(),
            ],
            conditions,
            object: None,
        }
    }
}

fn completed(reason: &str, message: &str) -> Vec<TableRowCondition> {
    vec![TableRowCondition {
        type_: "Completed".to_string(),
        status: CONDITION_TRUE.to_string(),
        reason: reason.to_string(),
        message: message.to_string(),
    }]
}

/// The roles of a node, from its `node-role.kubernetes.io/<role>` and `kubernetes.io/role`
/// labels, sorted and without duplicates.
pub fn node_roles(node: &Node) -> Vec<String> {
    let mut roles = BTreeSet::new();
    for (k, v) in &node.metadata.labels {
        if let Some(role) = k.strip_prefix(LABEL_NODE_ROLE_PREFIX) {
            if !role.is_empty() {
                roles.insert(role.to_string());
            }
        } else if k == LABEL_NODE_ROLE && !v.is_empty() {
            roles.insert(v.clone());
        }
    }
    roles.into_iter().collect()
}

fn node_address(node: &Node, type_: &str) -> String {
    node.status
        .addresses
        .iter()
        .find(|a| a.type_ == type_)
        .map_or_else(|| "<none>".to_string(), |a| a.address.clone())
}

impl Printable for Node {
    fn column_definitions() -> Vec<TableColumnDefinition> {
        vec![
            name_column(),
            column("Status", "string", "The status of the node", 0),
            column("Roles", "string", "The roles of the node", 0),
            age_column(),
            column(
                "Version",
                "string",
                "Kubelet Version reported by the node.",
                0,
            ),
            column(
                "Internal-IP",
                "string",
                "List of internal IPs in the node.",
                1,
            ),
            column(
                "External-IP",
                "string",
                "List of external IPs in the node.",
                1,
            ),
            column("OS-Image", "string", "OS Image reported by the node.", 1),
            column(
                "Kernel-Version",
                "string",
                "Kernel Version reported by the node.",
                1,
            ),
            column(
                "Container-Runtime",
                "string",
                "Container Runtime Version reported by the node.",
                1,
            ),
        ]
    }

    fn table_row(&self, now: Timestamp) -> TableRow {
        let mut status: Vec<String> = self
            .status
            .conditions
            .iter()
            .filter(|c| c.type_ == CONDITION_READY)
            .take(1)
            .map(|c| {
                if c.status == CONDITION_TRUE {
                    c.type_.clone()
                } else {
                    format!("Not{}", c.type_)
                }
            })
            .collect();
        if status.is_empty() {
            status.push("Unknown".to_string());
        }
        if self.spec.unschedulable {
            status.push("SchedulingDisabled".to_string());
        }
        let runtime = &self.status.node_info.container_runtime_version;
        TableRow {
            cells: vec![
                self.metadata.name.clone().into(),
                status.join(",").into(),
                none_if_empty(&node_roles(self).join(",")).into(),
                age(&self.metadata.creation_timestamp, now).into(),
                self.status.node_info.kubelet_version.clone().into(),
                node_address(self, "InternalIP").into(),
                node_address(self, "ExternalIP").into(),
                "<unknown>".into(),
                "<unknown>".into(),
                if runtime.is_empty() {
                    "<unknown>"
                } else {
                    runtime
                }
                .into(),
            ],
            ..TableRow::default()
        }
    }
}

impl Printable for Service {
    fn column_definitions() -> Vec<TableColumnDefinition> {
        vec![
            name_column(),
            column("Type", "string", "How the service is exposed.", 0),
            column(
                "Cluster-IP",
                "string",
                "The IP address of the service inside the cluster.",
                0,
            ),
            column(
                "External-IP",
                "string",
                "The IP addresses the service is reachable at from outside the cluster.",
                0,
            ),
            column("Port(s)", "string", "The ports the service exposes.", 0),
            age_column(),
            column(
                "Selector",
                "string",
                "The labels of the pods the service routes to.",
                1,
            ),
        ]
    }

    fn table_row(&self, now: Timestamp) -> TableRow {
        let spec = &self.spec;
        let external = match spec.type_.as_str() {
            "ClusterIP" | "NodePort" => "<none>",
            "LoadBalancer" => "<pending>",
            "ExternalName" => "",
            _ => "<unknown>",
        };
        let ports: Vec<String> = spec
            .ports
            .iter()
            .map(|p| format!("{}/{}", p.port, p.protocol))
            .collect();
        TableRow {
            cells: vec![
                self.metadata.name.clone().into(),
                spec.type_.clone().into(),
                none_if_empty(&spec.cluster_ip).into(),
                external.into(),
                none_if_empty(&ports.join(",")).into(),
                age(&self.metadata.creation_timestamp, now).into(),
                format_labels(&spec.selector).into(),
            ],
            ..TableRow::default()
        }
    }
}

impl Printable for ReplicationController {
    fn column_definitions() -> Vec<TableColumnDefinition> {
        vec![
            name_column(),
            column("Desired", "integer", "The number of replicas wanted.", 0),
            column("Current", "integer", "The number of replicas observed.", 0),
            column("Ready", "integer", "The number of ready replicas.", 0),
            age_column(),
            column(
                "Containers",
                "string",
                "Names of each container in the template.",
                1,
            ),
            column(
                "Images",
                "string",
                "Images referenced by each container in the template.",
                1,
            ),
            column(
                "Selector",
                "string",
                "The labels of the pods the controller manages.",
                1,
            ),
        ]
    }

    fn table_row(&self, now: Timestamp) -> TableRow {
        let containers = self
            .spec
            .template
            .as_ref()
            .map(|t| t.spec.containers.as_slice())
            .unwrap_or_default();
        let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
        let images: Vec<&str> = containers.iter().map(|c| c.image.as_str()).collect();
        TableRow {
            cells: vec![
                self.metadata.name.clone().into(),
                // Kubernetes defaults an unset `replicas` to 1.
                self.spec.replicas.unwrap_or(1).into(),
                self.status.replicas.into(),
                self.status.ready_replicas.into(),
                age(&self.metadata.creation_timestamp, now).into(),
                names.join(",").into(),
                images.join(",").into(),
                format_labels(&self.spec.selector).into(),
            ],
            ..TableRow::default()
        }
    }
}

/// kubectl's ENDPOINTS column: `ip:port` for every ready address and port, the first three,
/// then `+ N more...`; `<none>` when there are none.
pub fn format_endpoints(ep: &Endpoints) -> String {
    let (mut list, mut count, mut more) = (Vec::new(), 0, false);
    let mut add = |entry: String, list: &mut Vec<String>| {
        if list.len() == MAX_ENDPOINTS_SHOWN {
            more = true;
        } else {
            list.push(entry);
        }
    };
    for ss in &ep.subsets {
        if ss.ports.is_empty() {
            // Headless services may have no ports.
            count += ss.addresses.len();
            for a in &ss.addresses {
                add(a.ip.clone(), &mut list);
            }
            continue;
        }
        for p in &ss.ports {
            count += ss.addresses.len();
            for a in &ss.addresses {
                let host = if a.ip.contains(':') {
                    format!("[{}]", a.ip)
                } else {
                    a.ip.clone()
                };
                add(format!("{host}:{}", p.port), &mut list);
            }
        }
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", count - MAX_ENDPOINTS_SHOWN)
    } else {
        none_if_empty(&joined)
    }
}

impl Printable for Endpoints {
    fn column_definitions() -> Vec<TableColumnDefinition> {
        vec![
            name_column(),
            column(
                "Endpoints",
                "string",
                "The addresses and ports of the endpoints.",
                0,
            ),
            age_column(),
        ]
    }

    fn table_row(&self, now: Timestamp) -> TableRow {
        TableRow {
            cells: vec![
                self.metadata.name.clone().into(),
                format_endpoints(self).into(),
                age(&self.metadata.creation_timestamp, now).into(),
            ],
            ..TableRow::default()
        }
    }
}

impl Printable for Event {
    fn column_definitions() -> Vec<TableColumnDefinition> {
        let mut name = name_column();
        name.priority = 1;
        vec![
            column("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded.", 0),
            column("Type", "string", "Type of this event (Normal, Warning).", 0),
            column("Reason", "string", "Short, machine understandable string that gives the reason for the transition into the object's current status.", 0),
            column("Object", "string", "The object that this event is about.", 0),
            column("Subobject", "string", "The part of the object the event is about (fieldPath).", 1),
            column("Source", "string", "The component reporting this event.", 1),
            column("Message", "string", "A human-readable description of the status of this operation.", 0),
            column("First Seen", "string", "The time at which the event was first recorded.", 1),
            column("Count", "integer", "The number of times this event has occurred.", 1),
            name,
        ]
    }

    fn table_row(&self, now: Timestamp) -> TableRow {
        let first = age(&self.first_timestamp, now);
        let last = if self.last_timestamp.is_empty() {
            first.clone()
        } else {
            age(&self.last_timestamp, now)
        };
        let io = &self.involved_object;
        let target = if io.name.is_empty() {
            io.kind.to_lowercase()
        } else {
            format!("{}/{}", io.kind.to_lowercase(), io.name)
        };
        let source = match (&self.source.component, &self.source.host) {
            (c, h) if h.is_empty() => c.clone(),
            (c, h) => format!("{c}, {h}"),
        };
        TableRow {
            cells: vec![
                last.into(),
                self.type_.clone().into(),
                self.reason.clone().into(),
                target.into(),
                io.field_path.clone().into(),
                source.into(),
                self.message.trim().to_string().into(),
                first.into(),
                // Singleton events may have no count.
                Value::from(self.count.max(1)),
                self.metadata.name.clone().into(),
            ],
            ..TableRow::default()
        }
    }
}

impl Printable for Lease {
    fn column_definitions() -> Vec<TableColumnDefinition> {
        vec![
            name_column(),
            column("Holder", "string", "The holder of the lease.", 0),
            age_column(),
        ]
    }

    fn table_row(&self, now: Timestamp) -> TableRow {
        TableRow {
            cells: vec![
                self.metadata.name.clone().into(),
                self.spec.holder_identity.clone().into(),
                age(&self.metadata.creation_timestamp, now).into(),
            ],
            ..TableRow::default()
        }
    }
}

impl Printable for crate::namespace::Namespace {
    fn column_definitions() -> Vec<TableColumnDefinition> {
        vec![
            name_column(),
            column("Status", "string", "The status of the namespace", 0),
            age_column(),
        ]
    }

    fn table_row(&self, now: Timestamp) -> TableRow {
        TableRow {
            cells: vec![
                self.metadata.name.clone().into(),
                self.status.phase.clone().into(),
                age(&self.metadata.creation_timestamp, now).into(),
            ],
            ..TableRow::default()
        }
    }
}
