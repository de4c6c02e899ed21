//! Discovery documents: `/api`, `/api/v1`, `/apis`, `/version`.

use super::verbs::{self, RESOURCE_ENDPOINTS};
use kube_core::ResourceKind;
use serde_json::{json, Value};

/// `/api`: the legacy core group's versions.
pub fn api_versions() -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
}

/// `/apis`: no named groups yet.
pub fn api_groups() -> Value {
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
}

/// `/api/v1` (or `/api/v1beta1`): the resources of the version, with exactly the verbs served
/// (from the verbs table); v1 also lists the subresources (`pods/status`, `pods/binding`).
pub fn api_resources(v1beta1: bool) -> Value {
    let mut resources: Vec<Value> = Vec::new();
    for r in ResourceKind::ALL.iter() {
        let i = r.info();
        let name = if v1beta1 { i.v1beta1_name } else { i.plural };
        let mut v = json!({
            "name": name,
            "singularName": i.singular,
            "namespaced": i.namespaced,
            "kind": if v1beta1 { i.v1beta1_kind } else { i.kind },
            "verbs": verbs::verbs(RESOURCE_ENDPOINTS),
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
        resources.push(v);
        // Subresources are served on v1 paths only.
        if !v1beta1 {
            for (sub, endpoint) in verbs::subresources(*r) {
                resources.push(json!({
                    "name": format!("{}/{sub}", i.plural),
                    "singularName": "",
                    "namespaced": i.namespaced,
                    "kind": if sub == "binding" { "Binding" } else { i.kind },
                    "verbs": verbs::verbs(&[endpoint]),
                }));
            }
        }
    }
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
