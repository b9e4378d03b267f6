//! Who acts: a signed-in user, the command line, or an API key, and from where (the audit
//! log and the `created_by` of an order name it).

use super::ids::{CompanyId, UserId};

/// Who did something, from where.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Actor {
    pub company_id: Option<CompanyId>,
    pub user_id: Option<UserId>,
    /// A login, `cli`, or `api:<shop>`.
    pub name: String,
    pub ip: Option<String>,
}

impl Actor {
    pub fn cli() -> Self {
        Actor { company_id: None, user_id: None, name: "cli".into(), ip: None }
    }

    /// The worker, acting on dates and on what the acquirer answered.
    pub fn system() -> Self {
        Actor { company_id: None, user_id: None, name: "system".into(), ip: None }
    }
}
