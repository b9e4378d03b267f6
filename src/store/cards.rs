//! Buyers (per shop, by e-mail), their saved cards and the magic links to their wallet. The
//! card numbers are not here: they are in the vault (`store::vault`) under the card's token,
//! and deleting a card deletes its vault record in the same transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::{buyers as b, saved_cards as sc, wallet_links as wl};
use crate::domain::api_key::Mode;
use crate::domain::card::Expiry;
use crate::domain::ids::ShopId;
use crate::domain::saved_card::{CardStatus, SavedCard};

#[derive(Queryable, Selectable)]
#[diesel(table_name = sc)]
struct Row {
    token: String,
    shop_id: i64,
    mode: String,
    buyer_id: i64,
    status: String,
    brand: String,
    masked: String,
    expiry_month: i32,
    expiry_year: i32,
    holder: Option<String>,
}

impl From<Row> for SavedCard {
    fn from(r: Row) -> SavedCard {
        SavedCard {
            token: r.token,
            shop_id: ShopId(r.shop_id),
            mode: Mode::parse(&r.mode).unwrap_or(Mode::Test),
            buyer_id: r.buyer_id,
            status: CardStatus::parse(&r.status).unwrap_or(CardStatus::Pending),
            brand: r.brand,
            masked: r.masked,
            expiry: Expiry { month: r.expiry_month as u32, year: r.expiry_year },
            holder: r.holder,
        }
    }
}

/// The buyer of `email` (normalised) in `shop`, created if new.
pub fn buyer(conn: &mut DbConn, shop: ShopId, email: &str, now: NaiveDateTime) -> QueryResult<i64> {
    if let Some(id) = find_buyer(conn, shop, email)? {
        return Ok(id);
    }
    // Two first payments of one buyer at once both find nobody: the second insert does nothing.
    crate::db::on_backend!(conn, |c| {
        diesel::insert_into(b::table)
            .values((b::shop_id.eq(shop.0), b::email.eq(email), b::created_at.eq(now)))
            .on_conflict_do_nothing()
            .execute(c)
    })?;
    find_buyer(conn, shop, email)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find_buyer(conn: &mut DbConn, shop: ShopId, email: &str) -> QueryResult<Option<i64>> {
    b::table.filter(b::shop_id.eq(shop.0).and(b::email.eq(email))).select(b::id).first(conn).optional()
}

/// Every shop's buyer of `email`: a wallet request names no shop.
pub fn buyers_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Vec<(i64, ShopId)>> {
    let rows: Vec<(i64, i64)> = b::table.filter(b::email.eq(email)).select((b::id, b::shop_id)).load(conn)?;
    Ok(rows.into_iter().map(|(id, shop)| (id, ShopId(shop))).collect())
}

pub fn buyer_email(conn: &mut DbConn, buyer: i64) -> QueryResult<Option<(String, ShopId)>> {
    let row: Option<(String, i64)> = b::table.find(buyer).select((b::email, b::shop_id)).first(conn).optional()?;
    Ok(row.map(|(e, s)| (e, ShopId(s))))
}

/// The buyer's active cards, oldest first.
pub fn active_of(conn: &mut DbConn, buyer: i64) -> QueryResult<Vec<SavedCard>> {
    let rows: Vec<Row> = sc::table
        .filter(sc::buyer_id.eq(buyer).and(sc::status.eq(CardStatus::Active.as_str())))
        .order(sc::created_at.asc())
        .then_order_by(sc::token.asc())
        .select(Row::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(SavedCard::from).collect())
}

/// The active cards of `email` in `shop` for orders of `mode` (none for an unknown buyer).
pub fn active_for(conn: &mut DbConn, shop: ShopId, mode: Mode, email: &str) -> QueryResult<Vec<SavedCard>> {
    match find_buyer(conn, shop, email)? {
        Some(buyer) => Ok(active_of(conn, buyer)?.into_iter().filter(|c| c.mode == mode).collect()),
        None => Ok(Vec::new()),
    }
}

pub fn get(conn: &mut DbConn, token: &str) -> QueryResult<Option<SavedCard>> {
    Ok(sc::table.find(token).select(Row::as_select()).first::<Row>(conn).optional()?.map(SavedCard::from))
}

/// A card being saved by the payment attempt `attempt`, shown nowhere until it is accepted.
pub struct NewCard<'a> {
    pub token: &'a str,
    pub shop: ShopId,
    pub mode: Mode,
    pub buyer: i64,
    pub attempt: &'a str,
    pub brand: &'a str,
    pub masked: &'a str,
    pub expiry: Expiry,
    pub holder: Option<&'a str>,
}

pub fn insert_pending(conn: &mut DbConn, c: &NewCard<'_>, now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(sc::table)
        .values((
            sc::token.eq(c.token),
            sc::shop_id.eq(c.shop.0),
            sc::mode.eq(c.mode.as_str()),
            sc::buyer_id.eq(c.buyer),
            sc::status.eq(CardStatus::Pending.as_str()),
            sc::attempt.eq(Some(c.attempt)),
            sc::brand.eq(c.brand),
            sc::masked.eq(c.masked),
            sc::expiry_month.eq(c.expiry.month as i32),
            sc::expiry_year.eq(c.expiry.year),
            sc::holder.eq(c.holder),
            sc::created_at.eq(now),
            sc::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// The card the attempt `attempt` was saving: made active when its payment was accepted
/// (its token returned), deleted with its vault record otherwise.
pub fn settle_pending(
    conn: &mut DbConn,
    attempt: &str,
    accepted: bool,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let tokens: Vec<String> = sc::table
        .filter(sc::attempt.eq(attempt).and(sc::status.eq(CardStatus::Pending.as_str())))
        .select(sc::token)
        .load(conn)?;
    let Some(token) = tokens.first().cloned() else { return Ok(None) };
    if accepted {
        diesel::update(sc::table.find(&token))
            .set((sc::status.eq(CardStatus::Active.as_str()), sc::attempt.eq(None::<String>), sc::updated_at.eq(now)))
            .execute(conn)?;
        return Ok(Some(token));
    }
    for t in &tokens {
        delete(conn, t)?;
    }
    Ok(None)
}

/// Pending cards whose attempt began before `before` (the buyer never came back from the
/// issuer): deleted with their vault records.
pub fn sweep_pending(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    let tokens: Vec<String> = sc::table
        .filter(sc::status.eq(CardStatus::Pending.as_str()).and(sc::created_at.lt(before)))
        .select(sc::token)
        .load(conn)?;
    for t in &tokens {
        delete(conn, t)?;
    }
    Ok(tokens.len())
}

/// Deletes the card and its number from the vault. `false`: no such card.
pub fn delete(conn: &mut DbConn, token: &str) -> QueryResult<bool> {
    super::vault::delete(conn, token)?;
    Ok(diesel::delete(sc::table.find(token)).execute(conn)? == 1)
}

pub fn update(
    conn: &mut DbConn,
    token: &str,
    expiry: Expiry,
    holder: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(sc::table.find(token))
        .set((
            sc::expiry_month.eq(expiry.month as i32),
            sc::expiry_year.eq(expiry.year),
            sc::holder.eq(holder),
            sc::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

// ---- Wallet links ----------------------------------------------------------------------

pub fn insert_link(
    conn: &mut DbConn,
    hash: &str,
    buyer: i64,
    expires: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(wl::table)
        .values((wl::token_hash.eq(hash), wl::buyer_id.eq(buyer), wl::expires_at.eq(expires), wl::created_at.eq(now)))
        .execute(conn)
        .map(drop)
}

/// Links sent to `buyer` since `since` (a bound on how many a stranger can have sent).
pub fn links_since(conn: &mut DbConn, buyer: i64, since: NaiveDateTime) -> QueryResult<i64> {
    wl::table.filter(wl::buyer_id.eq(buyer).and(wl::created_at.ge(since))).count().get_result(conn)
}

/// Opens the link `hash` once: a guarded UPDATE, so of two clicks one wins. Gives the buyer.
pub fn open_link(
    conn: &mut DbConn,
    hash: &str,
    session_hash: &str,
    session_until: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<Option<i64>> {
    let n = diesel::update(
        wl::table.filter(wl::token_hash.eq(hash).and(wl::used_at.is_null()).and(wl::expires_at.gt(now))),
    )
    .set((
        wl::used_at.eq(Some(now)),
        wl::session_hash.eq(Some(session_hash)),
        wl::session_until.eq(Some(session_until)),
    ))
    .execute(conn)?;
    if n != 1 {
        return Ok(None);
    }
    wl::table.find(hash).select(wl::buyer_id).first(conn).optional()
}

/// The buyer of an opened link whose session `session_hash` still runs.
pub fn session(conn: &mut DbConn, hash: &str, session_hash: &str, now: NaiveDateTime) -> QueryResult<Option<i64>> {
    wl::table
        .filter(wl::token_hash.eq(hash).and(wl::session_hash.eq(session_hash)).and(wl::session_until.gt(now)))
        .select(wl::buyer_id)
        .first(conn)
        .optional()
}
