//! Plain types of the contract-review domain. No I/O, no clock, no database: values are parsed
//! here once at the boundary ("parse, don't validate") and trusted everywhere after.

pub mod access;
pub mod audit;
pub mod choice;
pub mod contract;
pub mod email;
pub mod field;
pub mod money;
pub mod role;

pub use access::{Principal, Visibility};
pub use contract::{ContractState, ContractType, NewContract};
pub use email::Email;
pub use field::{FieldError, FieldErrors};
pub use money::Money;
pub use role::{Role, Roles};
