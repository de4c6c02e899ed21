//! `kubecfg list services` through the real binaries: the apiserver started with the seed's
//! `-portal_net` flag gives each service a cluster IP from that range, kept across a restart,
//! and the table shows it in v0.5's IP column.

mod common;

use common::*;

fn service_file(dir: &std::path::Path, id: &str, port: u16) -> String {
    let path = dir.join(format!("{id}.json"));
    let body = format!(
        r#"{{"id": "{id}", "kind": "Service", "apiVersion": "v1beta1", "port": {port}, "selector": {{"name": "{id}"}}}}"#
    );
    std::fs::write(&path, body).expect("write service file");
    path.display().to_string()
}

#[test]
fn list_services_shows_the_cluster_ip_from_portal_net() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let flags = [
        "--data-dir".to_string(),
        dir.path().join("data").display().to_string(),
        "-portal_net=172.0.0.0/16".to_string(),
    ];
    let server = apiserver(port, &flags);
    let url = format!("http://127.0.0.1:{port}");
    let redis = service_file(dir.path(), "redismaster", 10000);
    ok(&url, &["-c", &redis, "create", "services"]);
    let table = ok(&url, &["list", "services"]);
    let mut lines = table.lines();
    assert_eq!(
        lines
            .next()
            .map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["ID", "Labels", "Selector", "IP", "Port"]),
        "{table}"
    );
    let row: Vec<&str> = table
        .lines()
        .find(|l| l.starts_with("redismaster"))
        .unwrap_or_else(|| panic!("{table}"))
        .split_whitespace()
        .collect();
    assert_eq!(
        row,
        ["redismaster", "name=redismaster", "172.0.0.1", "10000"]
    );
    // After a restart on the same store, the next service gets the next address.
    drop(server);
    let _server = apiserver(port, &flags);
    let web = service_file(dir.path(), "web", 80);
    ok(&url, &["-c", &web, "create", "services"]);
    let table = ok(&url, &["list", "services"]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("web") && l.contains("172.0.0.2")),
        "{table}"
    );
}
