//! The use cases. Each loads what it needs from the store, asks the pure domain for a decision,
//! and commits the outcome in one store call. The JSON API, the CLI and the demo seeding all go
//! through here, so none of them repeats a rule.

pub mod audit;
pub mod auth;
pub mod comments;
pub mod contracts;
pub mod delegations;
pub mod demo;
pub mod directory;
pub mod documents;
pub mod history;
pub mod idempotency;
pub mod inbox;
pub mod judgments;
pub mod listing;
pub mod notifications;
pub mod opinion;
pub mod ops;
pub mod overview;
mod password;
pub mod reports;
pub mod screening;
pub mod signatories;
pub mod transitions;
pub mod views;
mod workflows;

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};

use crate::config::{AuthSettings, UploadLimits};
use crate::domain::Principal;
use crate::domain::audit::AuditMeta;
use crate::resources::Resources;
use crate::screening::RuleBook;
use crate::store::SharedStore;
use crate::templates::Templates;
use crate::workflow::WorkingCalendar;
use workflows::Workflows;

/// Who asks for a change: a signed-in user, or the operator at the command line.
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    User(&'a Principal),
    Operator,
}

impl Caller<'_> {
    fn audit(self) -> AuditMeta {
        AuditMeta {
            actor_id: match self {
                Caller::User(principal) => Some(principal.user_id),
                Caller::Operator => None,
            },
            at: now(),
        }
    }
}

/// The service handle: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Service {
    store: SharedStore,
    auth: Arc<AuthSettings>,
    workflows: Arc<Workflows>,
    calendar: Arc<WorkingCalendar>,
    templates: Arc<Templates>,
    rules: Arc<RuleBook>,
    /// Where the web pages are, for links in e-mails.
    public_url: Arc<str>,
    uploads: UploadLimits,
    /// A real Argon2 hash of nothing, verified when an e-mail is unknown so that a failed
    /// sign-in takes the same time whether or not the account exists.
    decoy_hash: Arc<str>,
}

impl Service {
    /// Validates and stores the workflow definition, then wires the services.
    ///
    /// # Errors
    /// An invalid workflow file, a workflow changed without a new version, a database failure.
    pub async fn new(
        store: SharedStore,
        auth: AuthSettings,
        public_url: &str,
        resources: Resources,
    ) -> anyhow::Result<Self> {
        let templates = resources.templates;
        for event in ["reminder", "escalation"] {
            if !templates.has_email(event) {
                anyhow::bail!("missing the e-mail template email/{event}.md (deadline mail)");
            }
        }
        let workflows = Workflows::load(&store, &resources.workflow, &templates).await?;
        let decoy_hash = password::hash(password::DECOY.to_owned()).await?;
        Ok(Self {
            store,
            auth: Arc::new(auth),
            workflows: Arc::new(workflows),
            calendar: Arc::new(resources.calendar),
            templates: Arc::new(templates),
            rules: Arc::new(resources.rules),
            public_url: public_url.into(),
            uploads: UploadLimits::default(),
            decoy_hash: decoy_hash.into(),
        })
    }

    /// The same service holding uploads to `limits`.
    #[must_use]
    pub fn with_upload_limits(mut self, limits: UploadLimits) -> Self {
        self.uploads = limits;
        self
    }

    pub fn upload_limits(&self) -> UploadLimits {
        self.uploads
    }

    /// The workflow new contracts start under.
    pub fn current_workflow(&self) -> &crate::workflow::Definition {
        self.workflows.current()
    }
}

/// The current time, to the microsecond both databases keep.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
