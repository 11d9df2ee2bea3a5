//! `Idempotency-Key` handling for state-changing use cases: a retried request gets the response
//! saved with the first one instead of acting twice. The response is saved in the same
//! transaction as the change, so a crash can never leave one without the other.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::store::{SavedResponse, SharedStore, StoreError, StoreResult};

/// The result of a request that may be a retry under an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotent<T> {
    /// Done now.
    Fresh(T),
    /// Done before: the value answered then, unchanged.
    Replayed(T),
}

impl<T> Idempotent<T> {
    pub fn value(&self) -> &T {
        match self {
            Idempotent::Fresh(value) | Idempotent::Replayed(value) => value,
        }
    }

    /// The value, whether fresh or replayed.
    pub fn into_inner(self) -> T {
        match self {
            Idempotent::Fresh(value) | Idempotent::Replayed(value) => value,
        }
    }
}

/// One request's identity for retries: who sent it, under which key, with what content.
pub(super) struct Retry {
    user_id: Uuid,
    key: Option<String>,
    request_hash: String,
}

impl Retry {
    /// # Errors
    /// Only if `request` cannot be serialised.
    pub fn new(user_id: Uuid, key: Option<String>, request: &impl Serialize) -> Result<Self> {
        let json = serde_json::to_vec(request).map_err(anyhow::Error::from)?;
        Ok(Self {
            user_id,
            key,
            request_hash: hex::encode(Sha256::digest(&json)),
        })
    }

    /// The answer given to this request before, if it was made before.
    ///
    /// # Errors
    /// 422 when the key was used for a different request.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn earlier<T: DeserializeOwned>(
        &self,
        store: &SharedStore,
    ) -> Result<Option<Idempotent<T>>> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        match store.saved_response(self.user_id, key).await? {
            Some(saved) => self.replay(saved).map(Some),
            None => Ok(None),
        }
    }

    /// The response to save beside the change, when the client sent a key.
    ///
    /// # Errors
    /// Only if `response` cannot be serialised.
    pub fn save(
        &self,
        response: &impl Serialize,
        at: DateTime<Utc>,
    ) -> Result<Option<SavedResponse>> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        Ok(Some(SavedResponse {
            user_id: self.user_id,
            key: key.clone(),
            request_hash: self.request_hash.clone(),
            response: serde_json::to_string(response).map_err(anyhow::Error::from)?,
            created_at: at,
        }))
    }

    /// Turns the store's answer into the outcome. If a concurrent retry with the same key
    /// committed first, the change was refused as a duplicate: answer as the first one did.
    ///
    /// # Errors
    /// The store's error, or 422 for a key reused with other content.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn settle<T: DeserializeOwned>(
        &self,
        store: &SharedStore,
        committed: StoreResult<()>,
        fresh: T,
    ) -> Result<Idempotent<T>> {
        match (committed, &self.key) {
            (Ok(()), _) => Ok(Idempotent::Fresh(fresh)),
            (Err(StoreError::Duplicate(_)), Some(key)) => {
                let first = store.saved_response(self.user_id, key).await?;
                let first = first
                    .ok_or_else(|| anyhow::anyhow!("idempotency key vanished after a conflict"))?;
                self.replay(first)
            }
            (Err(other), _) => Err(other.into()),
        }
    }

    /// A request refused after its first attempt had already succeeded (the contract moved on
    /// under it) gets the first attempt's answer; any other refusal stands.
    ///
    /// # Errors
    /// `refused`, unless an answer was saved under the key meanwhile.
    pub async fn after_refusal<T: DeserializeOwned>(
        &self,
        store: &SharedStore,
        refused: Error,
    ) -> Result<Idempotent<T>> {
        match self.earlier(store).await? {
            Some(first) => Ok(first),
            None => Err(refused),
        }
    }

    fn replay<T: DeserializeOwned>(&self, saved: SavedResponse) -> Result<Idempotent<T>> {
        if saved.request_hash != self.request_hash {
            return Err(Error::invalid(
                "Idempotency-Key",
                "该幂等键已用于另一个请求 / this Idempotency-Key was already used for a different request",
            ));
        }
        let value = serde_json::from_str(&saved.response)
            .map_err(|e| anyhow::anyhow!("a saved idempotent response does not read back: {e}"))?;
        Ok(Idempotent::Replayed(value))
    }
}
