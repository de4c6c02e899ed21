//! Discovery documents: `/api`, `/api/v1`, `/apis`, `/version`.

use super::verbs::{self, Endpoint, Scope, RESOURCE_ENDPOINTS};
use kube_core::scale::{SCALE_GROUP, SCALE_KIND};
use kube_core::ResourceKind;
use serde_json::{json, Value};

/// `/api`: the legacy core group's versions.
pub fn api_versions() -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
}

/// `/apis`: the named groups (each resource outside core/v1 names its `group/version`).
pub fn api_groups() -> Value {
    let mut versions: Vec<&str> = ResourceKind::ALL
        .iter()
        .map(|r| r.info().api_version)
        .filter(|av| av.contains('/'))
        .collect();
    versions.dedup();
    let groups: Vec<Value> = versions
        .iter()
        .filter_map(|av| av.split_once('/'))
        .map(|(group, version)| {
            let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
            json!({"name": group, "versions": [gv], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}/{version}`: the resources of a named group version.
pub fn group_resources(api_version: &str) -> Value {
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": api_version,
        "resources": resource_entries(ResourceKind::of_api_version(api_version), false),
    })
}

/// `/api/v1` (or `/api/v1beta1`): the resources of the version, with exactly the verbs served
/// (from the verbs table); v1 also lists the subresources (`pods/status`, `pods/binding`).
pub fn api_resources(v1beta1: bool) -> Value {
    let kinds = ResourceKind::of_api_version("v1").filter(|r| !v1beta1 || r.in_v1beta1());
    json!({
        "kind": "APIResourceList",
        "groupVersion": if v1beta1 { "v1beta1" } else { "v1" },
        "resources": resource_entries(kinds, v1beta1),
    })
}

/// The resources in the `all` category (`kubectl get all`), as in Kubernetes' core group.
const ALL_CATEGORY: [&str; 3] = ["pods", "replicationcontrollers", "services"];

/// Discovery entries of `kinds` and (outside v1beta1) their subresources.
fn resource_entries(kinds: impl Iterator<Item = ResourceKind>, v1beta1: bool) -> Vec<Value> {
    let mut resources: Vec<Value> = Vec::new();
    for r in kinds {
        let i = r.info();
        let name = if v1beta1 { i.v1beta1_name } else { i.plural };
        let mut v = json!({
            "name": name,
            "singularName": i.singular,
            "namespaced": i.namespaced,
            "kind": if v1beta1 { i.v1beta1_kind } else { i.kind },
            "verbs": verbs::verbs(Scope::of(r, v1beta1), RESOURCE_ENDPOINTS),
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
        if !v1beta1 && ALL_CATEGORY.contains(&i.plural) {
            v["categories"] = json!(["all"]);
        }
        resources.push(v);
        // Subresources are served on v1 and group paths only.
        if !v1beta1 {
            for (sub, endpoint) in verbs::subresources(r) {
                let mut v = json!({
                    "name": format!("{}/{sub}", i.plural),
                    "singularName": "",
                    "namespaced": i.namespaced,
                    "kind": match endpoint {
                        Endpoint::Binding => "Binding",
                        Endpoint::Scale => SCALE_KIND,
                        _ => i.kind,
                    },
                    "verbs": verbs::verbs(Scope::of(r, false), &[endpoint]),
                });
                // A subresource of another group's kind names its group and version, as
                // Kubernetes does for `autoscaling/v1` `Scale` (kubectl scale reads them).
                if endpoint == Endpoint::Scale {
                    v["group"] = json!(SCALE_GROUP);
                    v["version"] = json!("v1");
                }
                resources.push(v);
            }
        }
    }
    resources
}

/// `/version`: every field of Kubernetes' `version.Info` is present (empty when unknown), as
/// clients such as the Python `kubernetes` package require them all.
pub fn version() -> Value {
    json!({
        "major": "0",
        "minor": "1",
        "gitVersion": concat!("v", env!("CARGO_PKG_VERSION")),
        "gitCommit": "",
        "gitTreeState": "",
        "buildDate": "",
        "goVersion": "",
        "platform": format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
        "compiler": "rustc",
    })
}
