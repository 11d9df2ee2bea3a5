//! Every workflow definition the service has loaded, by `id@version`. The file's definition is
//! the current one, for new contracts; older versions stay, from the database, for the contracts
//! pinned to them.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use anyhow::{Context, anyhow, bail};
use sha2::{Digest, Sha256};

use super::now;
use crate::defaults::Source;
use crate::resources::check_workflow;
use crate::store::{SharedStore, WorkflowRecord};
use crate::templates::Templates;
use crate::workflow::{self, Definition};

pub struct Workflows {
    current: Arc<Definition>,
    known: RwLock<HashMap<(String, i64), Arc<Definition>>>,
}

/// Parses a definition stored earlier. Its e-mail templates may since have been renamed; that
/// is for the mail dispatcher to report, not a reason to strand the contracts pinned to it.
fn parse_stored(record: &WorkflowRecord) -> anyhow::Result<Definition> {
    let name = format!("stored workflow {}@{}", record.id, record.version);
    workflow::parse(&name, &record.source, &|_| true).map_err(|errors| anyhow!("{errors}"))
}

impl Workflows {
    /// Validates the file's definition, keeps it in the database and loads every stored one.
    ///
    /// # Errors
    /// An invalid file (every problem with its line), or a file that changed without a new
    /// `version` while contracts may be pinned to the old content.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn load(
        store: &SharedStore,
        source: &Source,
        templates: &Templates,
    ) -> anyhow::Result<Self> {
        let current = check_workflow(source, templates)?;
        let file = &source.origin;
        let record = WorkflowRecord {
            id: current.id.clone(),
            version: current.version,
            sha256: hex::encode(Sha256::digest(source.text.as_bytes())),
            source: source.text.clone(),
            loaded_at: now(),
        };
        let stored = store
            .save_workflow(&record)
            .await
            .context("storing the workflow definition")?;
        if stored.sha256 != record.sha256 {
            bail!(
                "{file}: workflow {} is already in use with different content; raise `version` to change the \
                 rules (contracts in flight keep the version they started under)",
                current.key()
            );
        }
        let current = Arc::new(current);
        let workflows = Self {
            current: Arc::clone(&current),
            known: RwLock::new(HashMap::from([(
                (current.id.clone(), current.version),
                current,
            )])),
        };
        workflows.refresh(store).await?;
        Ok(workflows)
    }

    /// The definition new contracts start under.
    pub fn current(&self) -> &Arc<Definition> {
        &self.current
    }

    /// The definition a contract is pinned to. Another instance may have loaded a newer file
    /// since this one started, so an unknown version is looked up in the database.
    ///
    /// # Errors
    /// When no such definition was ever stored.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get(
        &self,
        store: &SharedStore,
        id: &str,
        version: i64,
    ) -> anyhow::Result<Arc<Definition>> {
        if let Some(definition) = self.lookup(id, version) {
            return Ok(definition);
        }
        self.refresh(store).await?;
        self.lookup(id, version)
            .ok_or_else(|| anyhow!("workflow {id}@{version} is not stored in the database"))
    }

    fn lookup(&self, id: &str, version: i64) -> Option<Arc<Definition>> {
        let known = self
            .known
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        known.get(&(id.to_owned(), version)).cloned()
    }

    async fn refresh(&self, store: &SharedStore) -> anyhow::Result<()> {
        let records = store
            .workflows()
            .await
            .context("loading stored workflow definitions")?;
        let mut parsed = Vec::new();
        for record in &records {
            if self.lookup(&record.id, record.version).is_none() {
                parsed.push((
                    (record.id.clone(), record.version),
                    Arc::new(parse_stored(record)?),
                ));
            }
        }
        let mut known = self
            .known
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        known.extend(parsed);
        Ok(())
    }
}
