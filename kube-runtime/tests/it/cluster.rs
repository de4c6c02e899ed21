//! The shared harness itself: both clients over one store, the clock, a server restart.

use kube_core::testing::PodBuilder;
use kube_core::{Pod, Timestamp};
use kube_runtime::client::{ApiClient, ListParams};
use kube_runtime::clock::Clock;
use kube_runtime::testing::TestCluster;
use std::time::Duration;

#[tokio::test]
async fn both_clients_see_one_store() {
    let c = TestCluster::start().await.expect("cluster");
    let pod = PodBuilder::new("web").container("c", "busybox").build();
    c.http()
        .create("default", &pod)
        .await
        .expect("create over HTTP");
    let got: Pod = c
        .in_process()
        .get("default", "web")
        .await
        .expect("get in process");
    assert_eq!(got.metadata.name, "web");
    let in_store = c.store().list("/registry/pods/").await.expect("list");
    assert_eq!(in_store.items.len(), 1);
    assert!(c.addr().is_some_and(|a| a.ip().is_loopback()));
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn the_in_process_client_stamps_with_the_cluster_clock() {
    let start = Timestamp::from_unix(1_795_842_000, 0);
    let c = TestCluster::builder()
        .clock(Clock::virtual_at(start))
        .start()
        .await
        .expect("cluster");
    tokio::time::sleep(Duration::from_secs(3600)).await;
    let pod = PodBuilder::new("p").container("c", "busybox").build();
    let created = c
        .in_process()
        .create("default", &pod)
        .await
        .expect("create");
    assert_eq!(
        created.metadata.creation_timestamp,
        start.saturating_add(Duration::from_secs(3600)).to_rfc3339()
    );
}

#[tokio::test]
async fn the_api_server_stamps_with_the_cluster_clock_too() {
    // Not paused (real HTTP): the virtual clock starts in 2014 and runs with real time.
    let start = Timestamp::parse("2014-10-30T15:57:02Z").expect("time");
    let c = TestCluster::builder()
        .clock(Clock::virtual_at(start))
        .start()
        .await
        .expect("cluster");
    let pod = PodBuilder::new("p").container("c", "busybox").build();
    let created = c.http().create("default", &pod).await.expect("create");
    let stamped = Timestamp::parse(&created.metadata.creation_timestamp).expect("stamped");
    assert!(
        stamped >= start && stamped < start.saturating_add(Duration::from_secs(60)),
        "{stamped} must come from the cluster clock"
    );
}

#[tokio::test]
async fn a_restarted_server_serves_the_same_store_at_the_same_address() {
    let mut c = TestCluster::start().await.expect("cluster");
    let url = c.url().to_string();
    let pod = PodBuilder::new("web").container("c", "busybox").build();
    c.http().create("default", &pod).await.expect("create");
    c.stop_server().await.expect("stop");
    c.http()
        .list::<Pod>(None, &ListParams::default())
        .await
        .expect_err("no server while stopped");
    c.restart_server().await.expect("restart");
    assert_eq!(c.url(), url);
    let pods = c
        .http()
        .list::<Pod>(None, &ListParams::default())
        .await
        .expect("list after restart");
    assert_eq!(pods.items.len(), 1);
}
