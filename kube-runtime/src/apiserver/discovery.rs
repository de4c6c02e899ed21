//! Discovery documents: `/api`, `/api/v1`, `/apis`, `/version`.

use kube_core::ResourceKind;
use serde_json::{json, Value};

/// Verbs served for every resource.
const VERBS: [&str; 7] = [
    "create", "delete", "get", "list", "patch", "update", "watch",
];

/// `/api`: the legacy core group's versions.
pub fn api_versions() -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
}

/// `/apis`: no named groups yet.
pub fn api_groups() -> Value {
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
}

/// `/api/v1` (or `/api/v1beta1`): the resources of the version.
pub fn api_resources(v1beta1: bool) -> Value {
    let resources: Vec<Value> = ResourceKind::ALL
        .iter()
        .map(|r| {
            let i = r.info();
            let name = if v1beta1 { i.v1beta1_name } else { i.plural };
            let mut v = json!({
                "name": name,
                "singularName": i.singular,
                "namespaced": i.namespaced,
                "kind": if v1beta1 { i.v1beta1_kind } else { i.kind },
                "verbs": VERBS,
            });
            let shorts: Vec<&str> = i
                .short_names
                .iter()
                .copied()
                .filter(|s| *s != "minions" && *s != "minion")
                .collect();
            if !shorts.is_empty() {
                v["shortNames"] = json!(shorts);
            }
            v
        })
        .collect();
    json!({
        "kind": "APIResourceList",
        "groupVersion": if v1beta1 { "v1beta1" } else { "v1" },
        "resources": resources,
    })
}

/// `/version`.
pub fn version() -> Value {
    json!({
        "major": "0",
        "minor": "1",
        "gitVersion": concat!("v", env!("CARGO_PKG_VERSION")),
        "platform": format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
        "compiler": "rustc",
    })
}
