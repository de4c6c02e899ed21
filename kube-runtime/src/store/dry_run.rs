//! [`DryRunStore`]: a store view for `dryRun=All` requests. Reads go to the wrapped store;
//! writes check exactly the preconditions the real write would (the key exists or not, the
//! expected revision) and answer as if written, but change nothing, so a dry run goes through
//! the registry's whole path (defaulting, validation, compare-and-swap) and is never stored.

use async_trait::async_trait;
use kube_core::store::{
    BoxWatchStream, KeyValue, ListRequest, ListResult, Revision, Store, StoreError,
};
use std::sync::Arc;

/// A store that reads through to another and never writes to it.
pub struct DryRunStore {
    inner: Arc<dyn Store>,
}

impl DryRunStore {
    /// A dry-run view of `inner`.
    pub fn new(inner: Arc<dyn Store>) -> DryRunStore {
        DryRunStore { inner }
    }

    /// The current value of `key` if its revision is `expected` (when given).
    async fn current(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue, StoreError> {
        let kv = self
            .inner
            .get(key)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                key: key.to_string(),
            })?;
        match expected {
            Some(expected) if expected != kv.mod_revision => Err(StoreError::Conflict {
                key: key.to_string(),
                expected,
                actual: kv.mod_revision,
            }),
            _ => Ok(kv),
        }
    }
}

#[async_trait]
impl Store for DryRunStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        self.inner.get(key).await
    }

    async fn list_page(
        &self,
        prefix: &str,
        request: &ListRequest,
    ) -> Result<ListResult, StoreError> {
        self.inner.list_page(prefix, request).await
    }

    /// `AlreadyExists` when the key exists; otherwise the value, at revision 0 (never written).
    async fn create(&self, key: &str, value: Vec<u8>) -> Result<KeyValue, StoreError> {
        if self.inner.get(key).await?.is_some() {
            return Err(StoreError::AlreadyExists {
                key: key.to_string(),
            });
        }
        Ok(KeyValue {
            key: key.to_string(),
            value: value.into(),
            create_revision: 0,
            mod_revision: 0,
        })
    }

    /// `NotFound` or `Conflict` as the real update; otherwise the value at the current revision.
    async fn update(
        &self,
        key: &str,
        value: Vec<u8>,
        expected: Revision,
    ) -> Result<KeyValue, StoreError> {
        let kv = self.current(key, Some(expected)).await?;
        Ok(KeyValue {
            value: value.into(),
            ..kv
        })
    }

    /// `NotFound` or `Conflict` as the real delete; otherwise the current value, left in place.
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue, StoreError> {
        self.current(key, expected).await
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<BoxWatchStream, StoreError> {
        self.inner.watch(prefix, after).await
    }

    async fn current_revision(&self) -> Result<Revision, StoreError> {
        self.inner.current_revision().await
    }

    /// Compaction is a write too: nothing happens.
    async fn compact(&self, _revision: Revision) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[tokio::test]
    async fn writes_check_preconditions_and_change_nothing() {
        let real: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let a = real.create("/a", b"1".to_vec()).await.unwrap();
        let dry = DryRunStore::new(real.clone());
        let before = real.list("/").await.unwrap();
        // Created as if written; the real store does not have it.
        let kv = dry.create("/b", b"2".to_vec()).await.unwrap();
        assert_eq!((&*kv.value, kv.mod_revision), (&b"2"[..], 0));
        assert!(matches!(
            dry.create("/a", b"x".to_vec()).await,
            Err(StoreError::AlreadyExists { .. })
        ));
        let kv = dry
            .update("/a", b"3".to_vec(), a.mod_revision)
            .await
            .unwrap();
        assert_eq!((&*kv.value, kv.mod_revision), (&b"3"[..], a.mod_revision));
        let cases = [
            dry.update("/a", b"3".to_vec(), a.mod_revision + 1).await,
            dry.delete("/a", Some(a.mod_revision + 1)).await,
        ];
        for r in cases {
            assert!(matches!(r, Err(StoreError::Conflict { .. })), "{r:?}");
        }
        for r in [
            dry.update("/nope", b"3".to_vec(), 1).await,
            dry.delete("/nope", None).await,
        ] {
            assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");
        }
        assert_eq!(dry.delete("/a", Some(a.mod_revision)).await.unwrap(), a);
        dry.compact(a.mod_revision).await.unwrap();
        assert_eq!(
            real.list("/").await.unwrap(),
            before,
            "the real store changed"
        );
        assert_eq!(dry.get("/a").await.unwrap(), Some(a));
    }
}
