//! Memory-store specifics: bounded history and slow watchers.

use super::*;

#[tokio::test]
async fn history_overflow_raises_the_floor() {
    let s = MemoryStore::with_history_capacity(10);
    let mut revs = Vec::new();
    for i in 0..25u8 {
        revs.push(
            s.create(&format!("/h/{i:02}"), vec![i])
                .await
                .unwrap()
                .mod_revision,
        );
    }
    // Events 16..=25 are kept; the floor is revision 15.
    match s.watch("/h/", 0).await {
        Err(StoreError::Gone {
            requested: 0,
            oldest,
        }) => assert_eq!(oldest, revs[14]),
        other => panic!("expected Gone, got {:?}", other.map(|_| ())),
    }
    let mut w = s.watch("/h/", revs[14]).await.unwrap();
    let got: Vec<Revision> = take(&mut w, 10).await.into_iter().map(|e| e.2).collect();
    assert_eq!(got, revs[15..]);
}

#[tokio::test]
async fn slow_watcher_is_terminated_with_gone_without_blocking_writers() {
    let s = MemoryStore::new();
    let mut w = s.watch("/s/", 0).await.unwrap();
    // Far more events than a watcher may have queued; writers must not block.
    let n = 10_050u32;
    for i in 0..n {
        s.create(&format!("/s/{i}"), Vec::new()).await.unwrap();
    }
    let mut delivered = 0u32;
    loop {
        match tokio::time::timeout(EVENT_TIMEOUT, w.next())
            .await
            .expect("watch answers")
        {
            Some(Ok(e)) => {
                delivered += 1;
                assert_eq!(e.revision(), u64::from(delivered));
            }
            Some(Err(StoreError::Gone { .. })) => break,
            Some(Err(e)) => panic!("unexpected error {e}"),
            None => panic!("watch ended without Gone"),
        }
    }
    assert!(delivered < n, "watcher was cut off before the end");
    assert!(w.next().await.is_none(), "stream ends after Gone");
    // The store keeps working, and a fresh watch resumes where the client left off.
    let mut w = s.watch("/s/", u64::from(delivered)).await.unwrap();
    assert_eq!(
        next_event(&mut w).await.revision(),
        u64::from(delivered) + 1
    );
}
