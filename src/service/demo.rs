//! `serve --demo`: a small city government to click through at once. Idempotent: what exists
//! already is left alone, so the demo can be seeded on every start.

use super::directory::UserInput;
use super::idempotency::Idempotent;
use super::transitions::TransitionRequest;
use super::{Caller, Service};
use crate::domain::{ContractDetail, ContractDraft, Upload};
use crate::domain::{Principal, Roles, Visibility};
use crate::error::{Error, Result};
use crate::store::ContractFilter;

/// Every demo account shares this password; it is printed at start-up.
pub const DEMO_PASSWORD: &str = "demo-pass-2026";

const CITY: &str = "示范市人民政府";
const EDUCATION: &str = "示范市教育局";
const HOUSING: &str = "示范市住房和城乡建设局";
/// The city's legal office numbers its review letters 示府法审〔2026〕N号.
const CITY_LETTER_PREFIX: &str = "示府法审";

/// A login the demo created, to print for the newcomer.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub email: &'static str,
    pub name: &'static str,
    pub role: &'static str,
    pub agency: &'static str,
}

const LOGINS: [DemoLogin; 6] = [
    DemoLogin {
        email: "admin@demo.gov.cn",
        name: "王建国",
        role: "admin",
        agency: CITY,
    },
    DemoLogin {
        email: "reviewer@demo.gov.cn",
        name: "李明",
        role: "reviewer",
        agency: CITY,
    },
    DemoLogin {
        email: "lead@demo.gov.cn",
        name: "张华",
        role: "lead_reviewer",
        agency: CITY,
    },
    DemoLogin {
        email: "auditor@demo.gov.cn",
        name: "赵敏",
        role: "auditor",
        agency: CITY,
    },
    DemoLogin {
        email: "clerk@edu.demo.gov.cn",
        name: "陈静",
        role: "submitter",
        agency: EDUCATION,
    },
    DemoLogin {
        email: "signer@edu.demo.gov.cn",
        name: "刘洋",
        role: "signatory",
        agency: EDUCATION,
    },
];

struct DemoDraft {
    title: &'static str,
    contract_type: &'static str,
    counterparty: &'static str,
    amount_fen: i64,
    funding_source: Option<&'static str>,
    body: &'static str,
    /// Put it in the reviewer's queue, so that the demo has something to review.
    submit: bool,
}

const DRAFTS: [DemoDraft; 3] = [
    DemoDraft {
        title: "2027年度办公用品采购合同",
        contract_type: "procurement",
        counterparty: "示范市文具用品有限公司",
        amount_fen: 18_600_000,
        funding_source: Some("2027年度部门预算（已批复）"),
        body: include_str!("demo/clean-procurement.md"),
        submit: true,
    },
    DemoDraft {
        title: "第三中学教学楼维修工程施工合同",
        contract_type: "construction",
        counterparty: "示范建工集团有限公司",
        amount_fen: 420_000_000,
        funding_source: Some("待上级补助资金到位后支付"),
        body: include_str!("demo/construction-advance.md"),
        submit: true,
    },
    DemoDraft {
        title: "校企合作共建实训基地协议",
        contract_type: "investment",
        counterparty: "示范职教科技有限公司",
        amount_fen: 150_000_000,
        funding_source: Some("2027年度部门预算"),
        body: include_str!("demo/joint-venture-guarantee.md"),
        submit: false,
    },
];

impl Service {
    /// Creates whatever part of the demo is missing and returns the logins.
    ///
    /// # Errors
    /// Only on database failures.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn seed_demo(&self) -> Result<Vec<DemoLogin>> {
        let city = self.ensure_agency(CITY, None).await?;
        self.ensure_agency(EDUCATION, Some(city)).await?;
        self.ensure_agency(HOUSING, Some(city)).await?;
        for login in &LOGINS {
            self.ensure_user(login).await?;
        }
        let clerk = self.demo_principal("clerk@edu.demo.gov.cn").await?;
        for draft in &DRAFTS {
            self.ensure_draft(&clerk, draft).await?;
        }
        Ok(LOGINS.to_vec())
    }

    async fn ensure_agency(&self, name: &str, parent: Option<uuid::Uuid>) -> Result<uuid::Uuid> {
        match self.agency_named(name).await {
            Ok(agency) => Ok(agency.id),
            Err(Error::NotFound(_)) => {
                let prefix = parent.is_none().then_some(CITY_LETTER_PREFIX);
                Ok(self
                    .create_agency(Caller::Operator, name, parent, prefix)
                    .await?
                    .id)
            }
            Err(other) => Err(other),
        }
    }

    async fn ensure_user(&self, login: &DemoLogin) -> Result<()> {
        if self.store.credentials(login.email).await?.is_some() {
            return Ok(());
        }
        let agency = self.agency_named(login.agency).await?;
        let input = UserInput {
            email: login.email.to_owned(),
            name: login.name.to_owned(),
            agency_id: agency.id,
            roles: vec![login.role.to_owned()],
            password: DEMO_PASSWORD.to_owned(),
        };
        self.create_user(Caller::Operator, input).await?;
        Ok(())
    }

    async fn demo_principal(&self, email: &str) -> Result<Principal> {
        let credentials = self.store.credentials(email).await?;
        let user_id = credentials
            .map(|c| c.user_id)
            .ok_or_else(|| Error::not_found(email))?;
        let user = self
            .store
            .user(user_id)
            .await?
            .ok_or_else(|| Error::not_found(email))?;
        let roles = Roles::new(user.roles).map_err(|e| anyhow::anyhow!(e))?;
        Ok(Principal {
            user_id: user.id,
            agency_id: user.agency_id,
            email: user.email,
            name: user.name,
            roles,
        })
    }

    /// A short text file for each material the contract's type requires, so that the demo's
    /// drafts can be submitted at once.
    async fn attach_demo_materials(
        &self,
        clerk: &Principal,
        created: &ContractDetail,
    ) -> Result<()> {
        let contract = &created.contract;
        let required = self
            .current_workflow()
            .required_materials(contract.contract_type)
            .to_vec();
        for kind in required {
            let text = format!(
                "演示材料：{}\n合同：{}\nDemo material for the contract above.\n",
                kind.label(),
                contract.title
            );
            let upload = Upload {
                file_name: format!(
                    "{}（演示）.txt",
                    kind.label()
                        .split(' ')
                        .next()
                        .unwrap_or("材料")
                        .replace('/', "、")
                ),
                bytes: text.into_bytes(),
            };
            self.attach(clerk, contract.id, kind.as_str(), upload)
                .await?;
        }
        Ok(())
    }

    async fn ensure_draft(&self, clerk: &Principal, draft: &DemoDraft) -> Result<()> {
        let filter = ContractFilter {
            text: Some(draft.title.to_owned()),
            limit: 1,
            ..ContractFilter::default()
        };
        let existing = self
            .store
            .list_contracts(Visibility::Agency(clerk.agency_id), &filter)
            .await?;
        if !existing.is_empty() {
            return Ok(());
        }
        let contract = ContractDraft {
            title: draft.title.to_owned(),
            contract_type: draft.contract_type.to_owned(),
            counterparty: draft.counterparty.to_owned(),
            amount_fen: draft.amount_fen,
            funding_source: draft.funding_source.map(str::to_owned),
            agency_party: "甲方".to_owned(),
            signatories: vec!["signer@edu.demo.gov.cn".to_owned()],
            body_markdown: draft.body.to_owned(),
        };
        let created = match self.create_contract(clerk, contract, None).await? {
            Idempotent::Fresh(created) => created,
            Idempotent::Replayed(_) => return Ok(()),
        };
        self.attach_demo_materials(clerk, &created).await?;
        if draft.submit {
            let submit = TransitionRequest {
                expected_version: created.contract.version,
                ..TransitionRequest::default()
            };
            self.fire_transition(clerk, created.contract.id, "submit", submit, None)
                .await?;
        }
        Ok(())
    }
}
