//! Plain types of the contract-review domain. No I/O, no clock, no database: values are parsed
//! here once at the boundary ("parse, don't validate") and trusted everywhere after. These are
//! also what the API and the pages show.

pub mod access;
pub mod agency;
pub mod attachment;
pub mod audit;
pub mod choice;
pub mod comment;
pub mod contract;
pub mod delegation;
pub mod draft;
pub mod email;
pub mod field;
pub mod finding;
pub mod judgment;
pub mod mail;
pub mod manifest;
pub mod money;
pub mod review;
pub mod role;
pub mod signatory;
pub mod supplement;
pub mod user;

pub use access::{Principal, Visibility};
pub use agency::Agency;
pub use attachment::{Attachment, DraftFile, FileContent, MaterialKind, StoredFile, Upload};
pub use comment::{ClauseComment, Resolution};
pub use contract::{Contract, ContractDetail, ContractState, ContractType, ContractVersion};
pub use delegation::Delegation;
pub use draft::{Body, ContractDraft, Facts, FactsDraft, NewContract, NewFacts};
pub use email::Email;
pub use field::{FieldError, FieldErrors};
pub use finding::{Finding, FindingSpan, Waiver};
pub use judgment::{Judgment, JudgmentKind, JudgmentPayment, JudgmentStatus, JudgmentSummary};
pub use mail::{Delivery, OutboxStatus, OutgoingMail, QueuedMail};
pub use manifest::{Manifest, ManifestItem};
pub use money::Money;
pub use review::{ContractTransition, Outcome, approval_conditions};
pub use role::{Role, Roles};
pub use signatory::{ExternalSignatory, Signers};
pub use supplement::{Answer, AnswerInput, AnswerKind, SupplementPoint};
pub use user::User;
