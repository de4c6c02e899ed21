//! The recording client over an in-process client on a memory store.

use super::*;
use crate::client::InProcessClient;
use crate::registry::Registry;
use crate::store::MemoryStore;
use kube_core::meta::ObjectReference;
use kube_core::pod::Container;
use kube_core::{Node, Pod};

fn client() -> RecordingClient<InProcessClient> {
    RecordingClient::new(InProcessClient::new(Registry::new(Arc::new(
        MemoryStore::new(),
    ))))
}

fn pod(name: &str) -> Pod {
    let mut p = Pod::default();
    p.set_type_meta();
    p.metadata.name = name.into();
    p.spec.containers.push(Container {
        name: "c".into(),
        image: "busybox".into(),
        ..Container::default()
    });
    p
}

fn conflict(name: &str) -> ApiError {
    ApiError::Conflict {
        resource: "pods".into(),
        name: name.into(),
        message: "injected".into(),
    }
}

#[tokio::test]
async fn every_call_is_recorded_in_order() {
    let c = client();
    let created = c.create("default", &pod("web")).await.unwrap();
    c.get::<Pod>("default", "web").await.unwrap();
    c.list::<Pod>(None, &ListParams::default()).await.unwrap();
    c.list::<Node>(None, &ListParams::default()).await.unwrap();
    let mut changed = created.clone();
    changed.metadata.labels.insert("app".into(), "web".into());
    c.update("default", &changed).await.unwrap();
    let binding = Binding {
        metadata: kube_core::ObjectMeta {
            name: "web".into(),
            ..Default::default()
        },
        target: ObjectReference {
            kind: "Node".into(),
            name: "n1".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    c.bind("default", &binding).await.unwrap();
    let _w = c
        .watch::<Pod>(Some("default"), &ListParams::default(), 0)
        .await
        .unwrap();
    c.delete::<Pod>("default", "web").await.unwrap();
    assert_eq!(
        c.summary(),
        [
            "create pods default/web",
            "get pods default/web",
            "list pods",
            "list nodes",
            "update pods default/web",
            "bind pods default/web",
            "watch pods default",
            "delete pods default/web",
        ]
    );
    assert_eq!(
        c.writes(),
        [
            "create pods default/web",
            "update pods default/web",
            "bind pods default/web",
            "delete pods default/web",
        ]
    );
    let calls = c.calls();
    // Writes carry the object sent; reads do not.
    assert_eq!(calls[0].object.as_ref().unwrap()["metadata"]["name"], "web");
    assert_eq!(
        calls[4].object.as_ref().unwrap()["metadata"]["labels"]["app"],
        "web"
    );
    assert_eq!(calls[5].object.as_ref().unwrap()["target"]["name"], "n1");
    assert!(calls[1].object.is_none());
    assert!(calls.iter().all(|c| c.error.is_none()));
    assert_eq!(c.count(Verb::List, ResourceKind::Pods), 1);
    assert_eq!(c.take_calls().len(), 8);
    assert!(c.calls().is_empty());
}

#[tokio::test]
async fn an_error_injected_once_fails_one_call_and_changes_nothing() {
    let c = client();
    c.fail_once(Verb::Create, ResourceKind::Pods, conflict("web"));
    // Another verb or resource is not affected.
    c.list::<Pod>(None, &ListParams::default()).await.unwrap();
    let err = c.create("default", &pod("web")).await.unwrap_err();
    assert_eq!(err, conflict("web"));
    // The failed create never reached the server.
    assert!(matches!(
        c.inner().get::<Pod>("default", "web").await,
        Err(ApiError::NotFound { .. })
    ));
    c.create("default", &pod("web")).await.unwrap();
    let errors: Vec<Option<ApiError>> = c.calls().into_iter().map(|c| c.error).collect();
    assert_eq!(errors, [None, Some(conflict("web")), None]);
}

#[tokio::test]
async fn errors_injected_always_or_per_name_until_cleared() {
    let c = client();
    c.create("default", &pod("a")).await.unwrap();
    c.create("default", &pod("b")).await.unwrap();
    let unavailable = ApiError::ServiceUnavailable("injected".into());
    c.fail_on(Verb::Get, ResourceKind::Pods, unavailable.clone());
    for _ in 0..3 {
        assert_eq!(c.get::<Pod>("default", "a").await, Err(unavailable.clone()));
    }
    c.clear_failures();
    c.get::<Pod>("default", "a").await.unwrap();
    // Per name, twice.
    c.react(
        Verb::Delete,
        ResourceKind::Pods,
        Some("b"),
        conflict("b"),
        Times::Next(2),
    );
    c.delete::<Pod>("default", "a").await.unwrap();
    assert_eq!(c.delete::<Pod>("default", "b").await, Err(conflict("b")));
    assert_eq!(c.delete::<Pod>("default", "b").await, Err(conflict("b")));
    c.delete::<Pod>("default", "b").await.unwrap();
}

#[tokio::test]
async fn errors_of_the_wrapped_client_are_recorded_too() {
    let c = client();
    let err = c.get::<Pod>("default", "missing").await.unwrap_err();
    assert!(matches!(err, ApiError::NotFound { .. }));
    let calls = c.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].error, Some(err));
}
