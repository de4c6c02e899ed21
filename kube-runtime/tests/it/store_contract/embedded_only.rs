//! Embedded-store specifics: persistence across reopen.

use super::*;

#[tokio::test]
async fn data_survives_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let s = EmbeddedStore::open(dir.path()).await.unwrap();
    let a = s.create("/r/a", b"a1".to_vec()).await.unwrap();
    let a = s
        .update("/r/a", b"a2".to_vec(), a.mod_revision)
        .await
        .unwrap();
    let b = s.create("/r/b", b"b1".to_vec()).await.unwrap();
    let c = s.create("/r/c", b"c1".to_vec()).await.unwrap();
    let gone = s.delete("/r/b", Some(b.mod_revision)).await.unwrap();
    let rev = s.current_revision().await.unwrap();
    assert_eq!(rev, gone.mod_revision, "the delete is the last write");
    s.close().await;

    let s = EmbeddedStore::open(dir.path()).await.unwrap();
    assert_eq!(
        s.current_revision().await.unwrap(),
        rev,
        "deletes advance the stored revision"
    );
    assert_eq!(s.get("/r/a").await.unwrap(), Some(a.clone()));
    assert_eq!(s.get("/r/b").await.unwrap(), None);
    let list = s.list("/r/").await.unwrap();
    assert_eq!(list.items, vec![a.clone(), c]);
    assert_eq!(list.revision, rev);
    let next = s
        .update("/r/a", b"a3".to_vec(), a.mod_revision)
        .await
        .unwrap();
    assert_eq!(next.mod_revision, rev + 1);
    assert_eq!(next.create_revision, a.create_revision);
    // Dropping (rather than closing) also releases the file for an immediate reopen.
    drop(s);
    let s = EmbeddedStore::open(dir.path()).await.unwrap();
    assert_eq!(s.get("/r/a").await.unwrap(), Some(next));
}

#[tokio::test]
async fn reopened_store_answers_gone_before_open_revision() {
    let dir = tempfile::tempdir().unwrap();
    let s = EmbeddedStore::open(dir.path()).await.unwrap();
    for i in 0..5u8 {
        s.create(&format!("/g/{i}"), vec![i]).await.unwrap();
    }
    let rev = s.current_revision().await.unwrap();
    s.close().await;
    let s = EmbeddedStore::open(dir.path()).await.unwrap();
    match s.watch("/g/", rev - 1).await {
        Err(StoreError::Gone { requested, oldest }) => {
            assert_eq!((requested, oldest), (rev - 1, rev))
        }
        other => panic!("expected Gone, got {:?}", other.map(|_| ())),
    }
    let mut w = s.watch("/g/", rev).await.unwrap();
    let kv = s.create("/g/new", b"n".to_vec()).await.unwrap();
    assert_eq!(
        ev(&next_event(&mut w).await),
        ev_of(StoreEventKind::Created, &kv)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_batched_writes_are_all_durable() {
    let dir = tempfile::tempdir().unwrap();
    let s: Arc<EmbeddedStore> = Arc::new(EmbeddedStore::open(dir.path()).await.unwrap());
    let mut handles = Vec::new();
    for t in 0..16u32 {
        let s = Arc::clone(&s);
        handles.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..20u32 {
                // Every task also races on one shared key: exactly one create wins.
                if i == 0 {
                    let _ = s.create("/d/shared", t.to_be_bytes().to_vec()).await;
                }
                acked.push(
                    s.create(&format!("/d/{t:02}/{i:02}"), vec![1])
                        .await
                        .unwrap(),
                );
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for h in handles {
        acked.extend(h.await.unwrap());
    }
    let mut revs: Vec<Revision> = acked.iter().map(|kv| kv.mod_revision).collect();
    revs.sort_unstable();
    revs.dedup();
    assert_eq!(
        revs.len(),
        320,
        "every acknowledged write has its own revision"
    );
    let rev = s.current_revision().await.unwrap();
    assert_eq!(
        rev, 321,
        "320 creates plus one shared winner, no revision gaps"
    );
    let shared = s.get("/d/shared").await.unwrap();
    drop(s);
    let s = EmbeddedStore::open(dir.path()).await.unwrap();
    assert_eq!(s.current_revision().await.unwrap(), rev);
    assert_eq!(s.list("/d/").await.unwrap().items.len(), 321);
    assert_eq!(s.get("/d/shared").await.unwrap(), shared);
    for kv in acked {
        assert_eq!(s.get(&kv.key).await.unwrap(), Some(kv));
    }
}
