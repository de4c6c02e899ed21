//! `meta.k8s.io` `Table`: the server-side printing kubectl asks for with
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, pure.
//!
//! Columns and cells follow Kubernetes' printers (`pkg/printers/internalversion`) as the API
//! server runs them: wide, so every column is sent and kubectl shows those of priority 0 by
//! default and the others with `-o wide`. Kinds without a printer get Kubernetes' default table
//! (NAME, AGE). Time is an argument: AGE is `now - creationTimestamp`, in kubectl's
//! [`human_duration`] form.

mod printers;

use crate::meta::{ListMeta, ObjectMeta};
use crate::object::Object;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

pub use printers::{format_endpoints, node_roles, pod_summary, PodSummary};

/// The API group of `Table` and `PartialObjectMetadata`.
pub const TABLE_GROUP: &str = "meta.k8s.io";

/// A version of `meta.k8s.io` a table may be asked for in (kubectl 1.20 also accepts v1beta1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableVersion {
    /// `meta.k8s.io/v1`.
    V1,
    /// `meta.k8s.io/v1beta1` (the same shape).
    V1Beta1,
}

impl TableVersion {
    /// The version named by the `v` parameter of a media type, if served.
    pub fn parse(v: &str) -> Option<TableVersion> {
        match v {
            "v1" => Some(TableVersion::V1),
            "v1beta1" => Some(TableVersion::V1Beta1),
            _ => None,
        }
    }

    /// `meta.k8s.io/v1` or `meta.k8s.io/v1beta1`.
    pub fn api_version(self) -> &'static str {
        match self {
            TableVersion::V1 => "meta.k8s.io/v1",
            TableVersion::V1Beta1 => "meta.k8s.io/v1beta1",
        }
    }
}

/// What each row carries besides its cells (`includeObject`; `Metadata` by default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IncludeObject {
    /// Nothing.
    None,
    /// The object's metadata, as a `PartialObjectMetadata`.
    #[default]
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// The values of the `includeObject` query parameter.
    pub const VALUES: [&'static str; 3] = ["None", "Metadata", "Object"];

    /// Parses an `includeObject` value (`None`, `Metadata`, `Object`).
    pub fn parse(s: &str) -> Option<IncludeObject> {
        match s {
            "None" => Some(IncludeObject::None),
            "Metadata" => Some(IncludeObject::Metadata),
            "Object" => Some(IncludeObject::Object),
            _ => None,
        }
    }
}

/// One column of a table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableColumnDefinition {
    /// Human-readable name, e.g. `Name`, `Restarts` (kubectl upper-cases it).
    pub name: String,
    /// OpenAPI type of the cells: `string`, `integer`, `number`, `boolean`, `date`.
    #[serde(rename = "type")]
    pub type_: String,
    /// OpenAPI format hint, e.g. `name` for the column that names the object; may be empty.
    pub format: String,
    /// What the column shows.
    pub description: String,
    /// 0 for columns shown by default; higher ones only in wide output.
    pub priority: i32,
}

/// A column definition (used by the printers).
fn column(name: &str, type_: &str, description: &str, priority: i32) -> TableColumnDefinition {
    TableColumnDefinition {
        name: name.to_string(),
        type_: type_.to_string(),
        format: if name == "Name" { "name" } else { "" }.to_string(),
        description: description.to_string(),
        priority,
    }
}

/// A condition of a row (Kubernetes marks finished pods `Completed`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRowCondition {
    /// Condition type, e.g. `Completed`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// Machine-readable reason, e.g. `Succeeded`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// One row: the cells, in column order, and optionally the object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    /// One value per column (strings and integers).
    pub cells: Vec<Value>,
    /// Conditions of the row, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<TableRowCondition>,
    /// The object (or its metadata) the row shows, per `includeObject`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Value>,
}

/// A `meta.k8s.io` `Table`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    /// `meta.k8s.io/v1` (or `v1beta1`).
    pub api_version: String,
    /// Always `Table`.
    pub kind: String,
    /// The revision the rows were read at.
    #[serde(default)]
    pub metadata: ListMeta,
    /// The columns, in cell order.
    pub column_definitions: Vec<TableColumnDefinition>,
    /// One row per object.
    pub rows: Vec<TableRow>,
}

/// `PartialObjectMetadata`: an object reduced to its type and metadata.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartialObjectMetadata {
    /// `meta.k8s.io/v1` (or `v1beta1`).
    pub api_version: String,
    /// Always `PartialObjectMetadata`.
    pub kind: String,
    /// The object's metadata.
    pub metadata: ObjectMeta,
}

/// A kind the server can print as table rows (Kubernetes' `TableConvertor`).
pub trait Printable: Object {
    /// The columns, in cell order (default: NAME and AGE).
    fn column_definitions() -> Vec<TableColumnDefinition> {
        default_columns()
    }
    /// The row of this object at time `now` (cells and conditions; no object).
    fn table_row(&self, now: Timestamp) -> TableRow {
        TableRow {
            cells: vec![
                self.meta().name.clone().into(),
                age(&self.meta().creation_timestamp, now).into(),
            ],
            ..TableRow::default()
        }
    }
}

/// The default table's columns: NAME, AGE.
pub fn default_columns() -> Vec<TableColumnDefinition> {
    vec![name_column(), age_column()]
}

fn name_column() -> TableColumnDefinition {
    column(
        "Name",
        "string",
        "Name must be unique within a namespace.",
        0,
    )
}

fn age_column() -> TableColumnDefinition {
    column(
        "Age",
        "string",
        "Time since the object was created (creationTimestamp).",
        0,
    )
}

/// The table of `items` read at `resource_version`, at time `now`.
pub fn to_table<T: Printable>(
    items: &[T],
    resource_version: &str,
    version: TableVersion,
    include: IncludeObject,
    now: Timestamp,
) -> Table {
    Table {
        api_version: version.api_version().to_string(),
        kind: "Table".to_string(),
        metadata: ListMeta {
            resource_version: resource_version.to_string(),
            ..ListMeta::default()
        },
        column_definitions: T::column_definitions(),
        rows: items
            .iter()
            .map(|item| {
                let mut row = item.table_row(now);
                row.object = row_object(item, version, include);
                row
            })
            .collect(),
    }
}

fn row_object<T: Object>(item: &T, version: TableVersion, include: IncludeObject) -> Option<Value> {
    match include {
        IncludeObject::None => None,
        IncludeObject::Object => serde_json::to_value(item).ok(),
        IncludeObject::Metadata => serde_json::to_value(PartialObjectMetadata {
            api_version: version.api_version().to_string(),
            kind: "PartialObjectMetadata".to_string(),
            metadata: item.meta().clone(),
        })
        .ok(),
    }
}

/// kubectl's `translateTimestampSince`: how long before `now` the RFC 3339 time `since` is,
/// as [`human_duration`]; `<unknown>` when unset or unreadable, `<invalid>` when it is two
/// seconds or more in the future (a little clock skew reads as `0s`).
pub fn age(since: &str, now: Timestamp) -> String {
    match Timestamp::parse(since) {
        Ok(t) => elapsed(t, now),
        Err(_) => "<unknown>".to_string(),
    }
}

/// [`age`] for a parsed time.
pub fn elapsed(since: Timestamp, now: Timestamp) -> String {
    if since <= now {
        human_duration(now.saturating_duration_since(since))
    } else if since.saturating_duration_since(now) >= Duration::from_secs(2) {
        "<invalid>".to_string()
    } else {
        "0s".to_string()
    }
}

/// apimachinery's `HumanDuration`: a short approximation that keeps two units while the
/// first is small (`5s`, `119s`, `2m5s`, `15m`, `3h20m`, `20h`, `3d4h`, `300d`, `2y10d`, `9y`).
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        return match secs % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = secs / 3600;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = hours / 24;
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{days}d"),
            h => format!("{days}d{h}h"),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{days}d");
    }
    let years = days / 365;
    if hours < 24 * 365 * 8 {
        return match days % 365 {
            0 => format!("{years}y"),
            dy => format!("{years}y{dy}d"),
        };
    }
    format!("{years}y")
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
