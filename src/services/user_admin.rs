//! The users screens of the back office (admins only), each in a transaction of its own: the
//! company's users with their shops, one user with their shops, and the admin's changes. The
//! rules are in [`super::users`], which the command line shares.

use super::{ServiceError, ServiceResult, users as rules};
use crate::db::Db;
use crate::domain::actor::Actor;
use crate::domain::clock::SharedClock;
use crate::domain::ids::{CompanyId, ShopId, UserId};
use crate::domain::shop::Shop;
use crate::domain::user::{NewUser, Role, User};
use crate::store::{shops, users};

/// A user of the list and the labels of their shops (`None`: an admin, who sees them all).
pub struct UserSummary {
    pub user: User,
    pub shops: Option<Vec<String>>,
}

pub async fn list(db: &Db, company: CompanyId) -> ServiceResult<Vec<UserSummary>> {
    db.read(move |conn| {
        let all_shops = shops::list_for_company(conn, company)?;
        let mut lines = Vec::new();
        for user in users::list_for_company(conn, company)? {
            let shops = if user.role == Role::Admin {
                None
            } else {
                let ids = users::shop_ids(conn, user.id)?;
                Some(all_shops.iter().filter(|s| ids.contains(&s.id)).map(|s| s.settings.label.clone()).collect())
            };
            lines.push(UserSummary { user, shops });
        }
        Ok::<_, ServiceError>(lines)
    })
    .await
}

/// The company's shops, for the form's checkboxes.
pub async fn company_shops(db: &Db, company: CompanyId) -> ServiceResult<Vec<Shop>> {
    db.read(move |conn| Ok(shops::list_for_company(conn, company)?)).await
}

/// A user of the company, with the shops granted, and the company's shops; or not found.
pub async fn find(db: &Db, company: CompanyId, id: UserId) -> ServiceResult<(User, Vec<ShopId>, Vec<Shop>)> {
    db.read(move |conn| {
        let user = users::find_in_company(conn, company, id)?.ok_or(ServiceError::NotFound)?;
        let ids = users::shop_ids(conn, user.id)?;
        Ok((user, ids, shops::list_for_company(conn, company)?))
    })
    .await
}

/// Creates a user with a temporary password (returned, shown once).
pub async fn create(
    db: &Db,
    clock: &SharedClock,
    actor: &Actor,
    new: NewUser,
    shops: Vec<ShopId>,
) -> ServiceResult<(UserId, String)> {
    let (clock, actor) = (clock.clone(), actor.clone());
    db.write(move |conn| rules::create(conn, clock.as_ref(), &actor, &new, &shops)).await
}

/// What an admin does to a user of their company.
pub enum Change {
    Rights(rules::RightsChange),
    /// A new temporary password (returned by [`change`], shown once).
    ResetPassword,
    Unlock,
}

/// Applies `change` to a user of the actor's company (not found otherwise). Returns the new
/// temporary password of a reset.
pub async fn change(
    db: &Db,
    clock: &SharedClock,
    actor: &Actor,
    id: UserId,
    change: Change,
) -> ServiceResult<Option<String>> {
    let (clock, actor) = (clock.clone(), actor.clone());
    db.write(move |conn| {
        let company = actor.company_id.ok_or(ServiceError::Forbidden)?;
        let user = users::find_in_company(conn, company, id)?.ok_or(ServiceError::NotFound)?;
        match &change {
            Change::Rights(rights) => rules::update(conn, clock.as_ref(), &actor, id, rights).map(|()| None),
            Change::ResetPassword => rules::reset_password(conn, clock.as_ref(), &actor, &user.login).map(Some),
            Change::Unlock => rules::unlock(conn, clock.as_ref(), &actor, &user.login).map(|()| None),
        }
    })
    .await
}
