//! Paying an invoice by its reference (seed 001 §1.4): the buyer opens the shop's public
//! collection form `/collect/{slug}`, types the reference the merchant gave, sees the amount,
//! answers the fields the form asks, and goes on to the order's pay page.
//!
//! An unknown reference and another shop's reference get the same answer by the same path:
//! the look-up is always the one query of this shop's invoice orders of that reference.

use super::{Env, ServiceError, ServiceResult};
use crate::db::DbError;
use crate::domain::FieldError;
use crate::domain::api_key::Mode;
use crate::domain::collect::{BuyerData, CollectSettings, RawBuyer};
use crate::domain::ids::ShopId;
use crate::domain::logo::{Logo, LogoKind};
use crate::domain::money::Money;
use crate::domain::order::OrderStatus;
use crate::store::collect as store;
use crate::store::orders as order_store;

/// A shop's public form.
#[derive(Debug, Clone)]
pub struct Form {
    pub shop: ShopId,
    pub shop_label: String,
    pub shop_url: String,
    pub logo: Option<String>,
    pub settings: CollectSettings,
}

/// An invoice found by its reference, payable now.
#[derive(Debug, Clone)]
pub struct Invoice {
    pub reference: String,
    pub token: String,
    pub amount: Money,
    pub description: Option<String>,
    pub language: String,
    pub mode: Mode,
}

/// What the reference leads to.
#[derive(Debug, Clone)]
pub enum Found {
    Payable(Invoice),
    /// Unknown in this shop (or another shop's): one answer for both.
    NotFound,
    Expired,
    Cancelled,
    Paid,
}

/// The form of the shop `slug`; not found for an unknown slug or a form turned off.
pub async fn form(env: &Env, slug: String) -> ServiceResult<Form> {
    let found = env
        .db
        .read_short(move |conn| {
            let Some(shop) = store::shop_by_slug(conn, &slug)? else { return Ok(None) };
            form_of(conn, shop)
        })
        .await?;
    let form = found.ok_or(ServiceError::NotFound)?;
    if !form.settings.enabled {
        return Err(ServiceError::NotFound);
    }
    Ok(form)
}

/// The form of a shop, on or off.
fn form_of(conn: &mut crate::db::DbConn, shop: ShopId) -> Result<Option<Form>, DbError> {
    let settings = store::get(conn, shop)?;
    let Some((label, url)) = store::shop_label(conn, shop)? else { return Ok(None) };
    let logo = crate::store::logos::name_of(conn, shop)?
        .and_then(|(digest, kind)| LogoKind::from_content_type(&kind).map(|k| Logo::href(&digest, k)));
    Ok(Some(Form { shop, shop_label: label, shop_url: url, logo, settings }))
}

/// An order (not an invoice) whose link asks the collection form first: what the form shows.
#[derive(Debug, Clone)]
pub struct OrderAsk {
    pub form: Form,
    pub reference: Option<String>,
    pub amount: Money,
    pub description: Option<String>,
    /// What the order knows of the buyer, to pre-fill the form.
    pub known: RawBuyer,
}

/// The form the link `token` asks first: for a payable order with the collection-form flag
/// whose buyer has not answered yet, when the shop's form is on. Invoice orders are asked
/// on `/collect/{slug}`.
pub async fn asked_first(env: &Env, token: String) -> ServiceResult<Option<OrderAsk>> {
    let now = env.clock.now_naive();
    let found = env
        .db
        .read_short(move |conn| {
            let Some(o) = order_store::find_by_token(conn, &token)? else { return Ok(None) };
            let asks = o.use_collection_form
                && o.channel != crate::domain::order::Channel::Invoice
                && matches!(o.status_at(now), OrderStatus::Running | OrderStatus::Refused);
            if !asks || store::buyer_of(conn, o.id)?.is_some() {
                return Ok(None);
            }
            let Some(form) = form_of(conn, o.shop_id)?.filter(|f| f.settings.enabled) else { return Ok(None) };
            let mut known = RawBuyer::default();
            if let Some(email) = &o.buyer_email {
                known.values.push(("email".into(), email.clone()));
                known.values.push(("email_confirm".into(), email.clone()));
            }
            Ok::<_, DbError>(Some(OrderAsk {
                form,
                reference: o.reference.clone(),
                amount: o.amount,
                description: o.description.clone(),
                known,
            }))
        })
        .await?;
    Ok(found)
}

/// The buyer's answers for the link `token`, kept with its order; or the form again with
/// the refusals next to their fields, nothing written. `None`: the link asks nothing (any
/// more), go on to pay.
pub async fn answer_for_order(
    env: &Env,
    token: String,
    raw: &RawBuyer,
) -> ServiceResult<Option<(OrderAsk, Vec<FieldError>)>> {
    let Some(ask) = asked_first(env, token.clone()).await? else { return Ok(None) };
    let data = match BuyerData::parse(&ask.form.settings, raw) {
        Ok(data) => data,
        Err(errors) => return Ok(Some((ask, errors))),
    };
    let clock = env.clock.clone();
    env.db
        .write(move |conn| {
            let o = order_store::find_by_token(conn, &token)?.ok_or(ServiceError::NotFound)?;
            store::put_buyer(conn, o.id, &data, clock.now_naive())?;
            Ok::<_, ServiceError>(())
        })
        .await?;
    Ok(None)
}

/// The modes whose invoices the form pays: TEST always, PRODUCTION once the form is in
/// production (seed 001 §1.4).
fn modes(form: &Form) -> Vec<Mode> {
    if form.settings.production { vec![Mode::Production, Mode::Test] } else { vec![Mode::Test] }
}

/// The invoice of `reference` in the form's shop.
pub async fn look_up(env: &Env, form: &Form, reference: &str) -> ServiceResult<Found> {
    let reference = reference.trim().to_string();
    if reference.is_empty() || reference.chars().count() > 64 {
        return Ok(Found::NotFound);
    }
    let (shop, modes, now) = (form.shop, modes(form), env.clock.now_naive());
    let orders = env
        .db
        .read_short(move |conn| {
            let mut orders = Vec::new();
            for mode in modes {
                for (id, token) in store::invoices_of(conn, shop, mode, &reference)? {
                    if let Some(o) = order_store::find_by_token(conn, &token)? {
                        orders.push((id, o));
                    }
                }
            }
            Ok::<_, DbError>(orders)
        })
        .await?;
    // A payable one first, then a paid one; otherwise the newest says why.
    let status = |o: &crate::store::orders::Order| o.status_at(now);
    let payable = orders.iter().find(|(_, o)| matches!(status(o), OrderStatus::Running | OrderStatus::Refused));
    if let Some((_, o)) = payable {
        return Ok(Found::Payable(Invoice {
            reference: o.reference.clone().unwrap_or_default(),
            token: o.token.clone(),
            amount: o.amount,
            description: o.description.clone(),
            language: o.language.clone(),
            mode: o.mode,
        }));
    }
    if orders.iter().any(|(_, o)| status(o) == OrderStatus::Paid) {
        return Ok(Found::Paid);
    }
    Ok(match orders.first().map(|(_, o)| status(o)) {
        Some(OrderStatus::Expired) => Found::Expired,
        Some(OrderStatus::Cancelled) => Found::Cancelled,
        _ => Found::NotFound,
    })
}

/// The buyer's answers for the invoice `reference`: kept with its order, and the link of its
/// pay page to go on to; or the refusals next to their fields, nothing written.
pub async fn submit(
    env: &Env,
    form: &Form,
    reference: &str,
    raw: &RawBuyer,
) -> ServiceResult<Result<(Found, String), (Found, Vec<FieldError>)>> {
    let found = look_up(env, form, reference).await?;
    let Found::Payable(invoice) = &found else { return Ok(Err((found, Vec::new()))) };
    let data = match BuyerData::parse(&form.settings, raw) {
        Ok(data) => data,
        Err(errors) => return Ok(Err((found, errors))),
    };
    let (clock, token) = (env.clock.clone(), invoice.token.clone());
    env.db
        .write(move |conn| {
            let o = order_store::find_by_token(conn, &token)?.ok_or(ServiceError::NotFound)?;
            store::put_buyer(conn, o.id, &data, clock.now_naive())?;
            Ok::<_, ServiceError>(())
        })
        .await?;
    let token = invoice.token.clone();
    Ok(Ok((found, token)))
}

/// The shop's form as stored, for the settings screen.
pub async fn settings(env: &Env, shop: ShopId) -> ServiceResult<CollectSettings> {
    env.db.read(move |conn| Ok(store::get(conn, shop)?)).await
}

/// Saves the form typed, audited with what changed; the refusals next to their fields
/// otherwise, nothing written.
pub async fn save_settings(
    env: &Env,
    actor: &crate::domain::actor::Actor,
    shop: ShopId,
    raw: crate::domain::collect_form::RawCollectForm,
) -> ServiceResult<CollectSettings> {
    let new = raw.parse().map_err(ServiceError::Invalid)?;
    let (clock, actor) = (env.clock.clone(), actor.clone());
    env.db
        .write(move |conn| {
            let company = actor.company_id.ok_or(ServiceError::Forbidden)?;
            crate::store::shops::find(conn, company, shop)?.ok_or(ServiceError::NotFound)?;
            let before = store::get(conn, shop)?;
            let now = clock.now_naive();
            store::save(conn, shop, &new, now)?;
            let state = |s: &CollectSettings| {
                format!(
                    "{} {} fields={} customs={}",
                    if s.enabled { "on" } else { "off" },
                    if s.production { "PRODUCTION" } else { "TEST" },
                    s.fields_text(),
                    s.customs.iter().flatten().count()
                )
            };
            let detail = format!("{} -> {}", state(&before), state(&new));
            crate::store::audit::append(
                conn,
                &actor,
                crate::store::audit::Entry {
                    shop_id: Some(shop),
                    action: "shop.collect_form_changed",
                    target: &format!("shop:{shop}"),
                    detail: &detail,
                },
                now,
            )?;
            Ok(new)
        })
        .await
}

/// The shop's form as a buyer would see it (on or off), for the preview.
pub async fn preview(env: &Env, shop: ShopId) -> ServiceResult<Form> {
    env.db.read(move |conn| form_of(conn, shop)).await?.ok_or(ServiceError::NotFound)
}

/// The seed's rule: PRODUCTION invoice orders only once the collection form is in
/// production, so that a buyer can pay them.
pub fn production_ready(conn: &mut crate::db::DbConn, shop: ShopId, mode: Mode) -> ServiceResult<bool> {
    Ok(mode == Mode::Test || store::get(conn, shop)?.production)
}
