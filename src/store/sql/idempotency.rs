//! Responses saved under a client's `Idempotency-Key`, in the transaction of the change they
//! answer, so that a crash never leaves one without the other.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Conn, SqlStore, unique_as_duplicate};
use crate::store::{IdempotencyStore, SavedResponse, StoreResult};

/// Saves the response; a concurrent retry that saved first makes this a `Duplicate`.
pub(super) async fn save(conn: &mut Conn, saved: &SavedResponse) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, response, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(saved.user_id)
    .bind(&saved.key)
    .bind(&saved.request_hash)
    .bind(&saved.response)
    .bind(saved.created_at)
    .execute(&mut *conn)
    .await
    .map_err(unique_as_duplicate("idempotency key"))?;
    Ok(())
}

#[async_trait]
impl IdempotencyStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all, fields(target_user = %user_id))]
    async fn saved_response(&self, user_id: Uuid, key: &str) -> StoreResult<Option<SavedResponse>> {
        let row: Option<(Uuid, String, String, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT user_id, key, request_hash, response, created_at
             FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        )
        .bind(user_id)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(user_id, key, request_hash, response, created_at)| SavedResponse {
                user_id,
                key,
                request_hash,
                response,
                created_at,
            },
        ))
    }
}
