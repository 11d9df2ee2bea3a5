//! What the management reports are computed from, within one reader's view.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{SqlStore, scope_cte, scope_params};
use crate::domain::{ContractState, Visibility};
use crate::store::{ReportData, ReportStore, StageChange, StoreResult};

#[derive(sqlx::FromRow)]
struct StateCount {
    #[sqlx(try_from = "String")]
    state: ContractState,
    count: i64,
}

#[derive(sqlx::FromRow)]
struct StageRow {
    contract_id: Uuid,
    #[sqlx(try_from = "String")]
    to_state: ContractState,
    at: DateTime<Utc>,
}

#[async_trait]
impl ReportStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn report_data(&self, visibility: Visibility) -> StoreResult<ReportData> {
        let (root, descend) = scope_params(visibility);
        let by_state: Vec<StateCount> = sqlx::query_as(concat!(
            scope_cte!(),
            "SELECT c.state, COUNT(*) AS count FROM contracts c
             WHERE c.agency_id IN (SELECT id FROM scope)
             GROUP BY c.state ORDER BY COUNT(*) DESC, c.state"
        ))
        .bind(root)
        .bind(descend)
        .fetch_all(&self.pool)
        .await?;
        let by_category = sqlx::query_as(concat!(
            scope_cte!(),
            "SELECT f.category, COUNT(*) FROM findings f
             JOIN contracts c ON c.id = f.contract_id AND c.body_version = f.body_version
             WHERE c.agency_id IN (SELECT id FROM scope)
             GROUP BY f.category ORDER BY COUNT(*) DESC, f.category"
        ))
        .bind(root)
        .bind(descend)
        .fetch_all(&self.pool)
        .await?;
        let stage_changes: Vec<StageRow> = sqlx::query_as(concat!(
            scope_cte!(),
            "SELECT t.contract_id, t.to_state, t.at FROM contract_transitions t
             JOIN contracts c ON c.id = t.contract_id
             WHERE c.agency_id IN (SELECT id FROM scope)
             ORDER BY t.contract_id, t.at"
        ))
        .bind(root)
        .bind(descend)
        .fetch_all(&self.pool)
        .await?;
        Ok(ReportData {
            by_state: by_state.into_iter().map(|r| (r.state, r.count)).collect(),
            by_category,
            stage_changes: stage_changes
                .into_iter()
                .map(|r| StageChange {
                    contract_id: r.contract_id,
                    to_state: r.to_state,
                    at: r.at,
                })
                .collect(),
        })
    }
}
