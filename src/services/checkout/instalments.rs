//! Payment in instalments on the pay flow: what the link offers, the buyer's choice checked
//! against the offer and the card, and the PENDING schedule written with the lock.

use chrono::NaiveDateTime;

use super::{Card, Link};
use crate::db::DbError;
use crate::domain::FieldError;
use crate::domain::card::CardNumber;
use crate::domain::instalments::{self, Planned};
use crate::domain::order::Channel;
use crate::services::payments::CardSummary;
use crate::services::{Env, ServiceResult};
use crate::store::instalments as instalment_store;
use crate::store::orders::Order;
use crate::store::schedules as schedule_store;

/// Payment in instalments as the pay page offers it: how many, and the schedule if the
/// first is paid today (dates in the shop's zone, amounts summing to the total).
#[derive(Debug, Clone)]
pub struct Offer {
    pub count: u8,
    pub schedule: Vec<Planned>,
}

/// What the link offers in instalments, if anything: never for an invoice order, below the
/// shop's minimum, or when the last date would fall after the order's "instalments until".
/// The card's expiry is checked when the buyer chooses ([`pay`]).
pub async fn instalment_offer(env: &Env, link: &Link) -> ServiceResult<Option<Offer>> {
    if link.order.channel == Channel::Invoice {
        return Ok(None);
    }
    let shop = link.shop.id;
    let settings = env.db.read_short(move |conn| instalment_store::get(conn, shop).map_err(DbError::from)).await?;
    let today = super::today(env, link);
    let total = link.order.amount.minor;
    Ok(instalments::offer(&settings, total, today, link.order.instalments_until, None).map(|count| Offer {
        count,
        schedule: instalments::schedule(total, count, settings.first_share_percent, settings.interval, today),
    }))
}

/// The buyer's choice of `count` instalments checked against the offer and the card: the
/// schedule, or the refusal next to the `instalments` field.
pub(super) async fn choose_instalments(
    env: &Env,
    link: &Link,
    card: &Card,
    count: u8,
) -> ServiceResult<Result<Vec<Planned>, FieldError>> {
    let unavailable = Err(FieldError::new("instalments", "pay.instalments.unavailable"));
    let Some(offer) = instalment_offer(env, link).await? else { return Ok(unavailable) };
    if offer.count != count {
        return Ok(unavailable);
    }
    let last = offer.schedule.last().map(|p| p.due_on);
    if last.is_some_and(|last| last > card.expiry.last_day()) {
        return Ok(Err(FieldError::new("instalments", "pay.instalments.card_expires")));
    }
    Ok(Ok(offer.schedule))
}

/// A schedule set up by the attempt: its card goes to the vault (the plan's own copy) and the
/// instalments are written with the lock, PENDING until the first is paid.
pub(super) struct Planning {
    pub(super) number: CardNumber,
    pub(super) summary: CardSummary,
    pub(super) schedule: Vec<Planned>,
    pub(super) tz: chrono_tz::Tz,
}

/// Writes the schedule being set up, PENDING, with its own copy of the card in the vault.
pub(super) fn plan_pending(
    conn: &mut crate::db::DbConn,
    keys: &crate::domain::vault::Keyring,
    order: &Order,
    holder: &str,
    p: &Planning,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    let token = crate::store::vault::put(conn, keys, &p.number, now)?;
    let plan = schedule_store::NewPlan {
        order: order.id,
        shop: order.shop_id,
        attempt: holder,
        card_token: &token,
        card_brand: &p.summary.brand,
        card_masked: &p.summary.masked,
        card_expiry: &p.summary.expiry,
        holder: p.summary.holder.as_deref(),
        instalments: p
            .schedule
            .iter()
            .map(|i| (i.index, i.due_on, i.amount, crate::domain::schedule::due_at(i.due_on, p.tz).naive_utc()))
            .collect(),
    };
    schedule_store::insert_pending(conn, &plan, now)?;
    Ok(())
}
