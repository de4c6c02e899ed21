//! Contract cases of `Store::list_page`: pages at a fixed revision despite concurrent writes,
//! limit boundaries, key ranges within a prefix only, past and compacted revisions.

use super::*;
use kube_core::store::{ListRequest, ListResult};

fn keys(res: &ListResult) -> Vec<&str> {
    res.items.iter().map(|kv| kv.key.as_str()).collect()
}

/// The key after `key` in a page walk (what a continue token encodes).
fn after(res: &ListResult) -> Option<String> {
    res.items.last().map(|kv| format!("{}\0", kv.key))
}

async fn page(s: &SharedStore, prefix: &str, req: ListRequest) -> ListResult {
    s.list_page(prefix, &req)
        .await
        .unwrap_or_else(|e| panic!("list_page {prefix} {req:?}: {e}"))
}

pub async fn paging_limit_boundaries(s: SharedStore) {
    for i in 0..7 {
        s.create(&format!("/p/k{i}"), vec![i]).await.unwrap();
    }
    s.create("/q/outside", b"x".to_vec()).await.unwrap();
    let cur = s.current_revision().await.unwrap();
    // (limit, keys of the first page, more, remaining)
    let cases: [(usize, usize, bool, u64); 6] = [
        (0, 7, false, 0),
        (1, 1, true, 6),
        (6, 6, true, 1),
        (7, 7, false, 0),
        (8, 7, false, 0),
        (100, 7, false, 0),
    ];
    for (limit, n, more, remaining) in cases {
        let res = page(&s, "/p/", ListRequest::page(None, None, limit)).await;
        assert_eq!(
            (res.items.len(), res.more, res.remaining, res.revision),
            (n, more, remaining, cur),
            "limit {limit}"
        );
    }
    // Walking pages of 3 visits every key once, in order.
    let mut seen = Vec::new();
    let mut start = None;
    let mut pages = 0;
    loop {
        let res = page(&s, "/p/", ListRequest::page(Some(cur), start.clone(), 3)).await;
        pages += 1;
        seen.extend(keys(&res).into_iter().map(str::to_owned));
        if !res.more {
            break;
        }
        start = after(&res);
    }
    assert_eq!(pages, 3);
    let want: Vec<String> = (0..7).map(|i| format!("/p/k{i}")).collect();
    assert_eq!(seen, want);
}

pub async fn paging_ranges_stay_within_the_prefix(s: SharedStore) {
    for key in ["/a/1", "/a/2", "/a/3", "/a0", "/b/1", "/", "/a"] {
        s.create(key, key.as_bytes().to_vec()).await.unwrap();
    }
    // (start, keys)
    let cases: [(Option<&str>, &[&str]); 6] = [
        (None, &["/a/1", "/a/2", "/a/3"]),
        (Some("/a/2"), &["/a/2", "/a/3"]),
        (Some("/a/2\0"), &["/a/3"]),
        (Some("/"), &["/a/1", "/a/2", "/a/3"]),
        (Some("/a/9"), &[]),
        (Some("/b/"), &[]),
    ];
    for (start, want) in cases {
        let res = page(
            &s,
            "/a/",
            ListRequest::page(None, start.map(str::to_owned), 0),
        )
        .await;
        assert_eq!(keys(&res), want, "start {start:?}");
        assert!(!res.more);
        let res = page(
            &s,
            "/a/",
            ListRequest::page(None, start.map(str::to_owned), 1),
        )
        .await;
        assert_eq!(
            keys(&res),
            want.get(..1).unwrap_or(want),
            "start {start:?}, limit 1"
        );
        assert_eq!(res.more, want.len() > 1, "start {start:?}");
        assert_eq!(res.remaining, want.len().saturating_sub(1) as u64);
    }
}

pub async fn paging_reads_a_past_revision_despite_writes(s: SharedStore) {
    let mut kvs = Vec::new();
    for i in 0..6 {
        kvs.push(s.create(&format!("/r/k{i}"), vec![b'a', i]).await.unwrap());
    }
    let first = page(&s, "/r/", ListRequest::page(None, None, 2)).await;
    let at = first.revision;
    assert_eq!(keys(&first), ["/r/k0", "/r/k1"]);
    // Between pages: an update, a delete, a create in the next pages' range, a write to a
    // key already returned, and noise elsewhere.
    s.update("/r/k2", b"changed".to_vec(), kvs[2].mod_revision)
        .await
        .unwrap();
    s.delete("/r/k3", None).await.unwrap();
    s.create("/r/k2b", b"new".to_vec()).await.unwrap();
    s.update("/r/k0", b"again".to_vec(), kvs[0].mod_revision)
        .await
        .unwrap();
    s.create("/other", b"x".to_vec()).await.unwrap();
    let mut rest = Vec::new();
    let mut start = after(&first);
    loop {
        let res = page(&s, "/r/", ListRequest::page(Some(at), start.clone(), 2)).await;
        assert_eq!(res.revision, at);
        rest.extend(res.items.iter().cloned());
        if !res.more {
            break;
        }
        start = after(&res);
    }
    assert_eq!(
        rest,
        kvs[2..].to_vec(),
        "the pages after the first read at {at}"
    );
    // The whole list at the past revision, and at the current one.
    let past = page(&s, "/r/", ListRequest::page(Some(at), None, 0)).await;
    assert_eq!(past.items, kvs);
    let now = s.list("/r/").await.unwrap();
    assert_eq!(
        keys(&now),
        ["/r/k0", "/r/k1", "/r/k2", "/r/k2b", "/r/k4", "/r/k5"]
    );
    assert!(now.revision > at);
    // A revision not reached yet is refused.
    let future = now.revision + 100;
    match s
        .list_page("/r/", &ListRequest::page(Some(future), None, 0))
        .await
    {
        Err(StoreError::FutureRevision { requested, .. }) => assert_eq!(requested, future),
        other => panic!("expected FutureRevision, got {other:?}"),
    }
}

pub async fn paging_at_a_compacted_revision_is_gone(s: SharedStore) {
    let a = s.create("/g/a", b"1".to_vec()).await.unwrap();
    let b = s.create("/g/b", b"2".to_vec()).await.unwrap();
    s.update("/g/a", b"3".to_vec(), a.mod_revision)
        .await
        .unwrap();
    let c = s.create("/g/c", b"4".to_vec()).await.unwrap();
    // Before compaction the old revision is readable.
    let old = page(&s, "/g/", ListRequest::page(Some(b.mod_revision), None, 0)).await;
    assert_eq!(old.items, vec![a.clone(), b.clone()]);
    s.compact(c.mod_revision).await.unwrap();
    match s
        .list_page("/g/", &ListRequest::page(Some(b.mod_revision), None, 1))
        .await
    {
        Err(StoreError::Gone { requested, .. }) => assert_eq!(requested, b.mod_revision),
        other => panic!("expected Gone, got {other:?}"),
    }
    // The compaction revision itself, and the current one, still read.
    let at = page(&s, "/g/", ListRequest::page(Some(c.mod_revision), None, 1)).await;
    assert_eq!(keys(&at), ["/g/a"]);
    assert!(at.more);
    let now = page(&s, "/g/", ListRequest::page(None, None, 0)).await;
    assert_eq!(keys(&now), ["/g/a", "/g/b", "/g/c"]);
}

pub async fn paging_concurrent_writers_never_tear_a_page_walk(s: SharedStore) {
    for i in 0..40u32 {
        s.create(&format!("/w/{i:03}"), b"0".to_vec())
            .await
            .unwrap();
    }
    let first = page(&s, "/w/", ListRequest::page(None, None, 7)).await;
    let at = first.revision;
    let writer = {
        let s = s.clone();
        tokio::spawn(async move {
            for round in 0..3u32 {
                for i in 0..40u32 {
                    let key = format!("/w/{i:03}");
                    if let Some(kv) = s.get(&key).await.unwrap() {
                        let v = format!("{round}").into_bytes();
                        s.update(&key, v, kv.mod_revision).await.unwrap();
                    }
                }
                s.create(&format!("/w/new{round}"), b"n".to_vec())
                    .await
                    .unwrap();
            }
        })
    };
    let mut all = first.items.clone();
    let mut start = after(&first);
    loop {
        let res = page(&s, "/w/", ListRequest::page(Some(at), start.clone(), 7)).await;
        all.extend(res.items.iter().cloned());
        if !res.more {
            break;
        }
        start = after(&res);
    }
    writer.await.unwrap();
    assert_eq!(all.len(), 40);
    assert!(all
        .iter()
        .all(|kv| &*kv.value == b"0" && kv.mod_revision <= at));
}
