//! The buyer's wallet: a magic link e-mailed on request, then a page to change a saved
//! card's expiry date and holder name, or delete it.
//!
//! - A request answers the same whether the e-mail is known or not; a known buyer (in each
//!   shop that keeps a card for them) is sent a link through the outbox, at most
//!   [`LINKS_PER_WINDOW`] per [`LINK_MINUTES`], so a stranger cannot flood a mailbox.
//! - The link lives [`LINK_MINUTES`] and opens once: opening it (a guarded UPDATE) trades it
//!   for a wallet session of the same length, held in a cookie. Only hashes are stored.
//! - A changed expiry date is checked by a zero-amount verification at the acquirer, called
//!   outside any transaction, never captured.
//! - A deleted card is deleted from the vault, not flagged. Every change is audited.

use chrono::{Duration, NaiveDateTime};

use super::{Env, ServiceError, ServiceResult};
use crate::acquirer::StoredCard;
use crate::db::DbError;
use crate::domain::FieldError;
use crate::domain::actor::Actor;
use crate::domain::api_key::hash_key;
use crate::domain::card::Expiry;
use crate::domain::ids::ShopId;
use crate::domain::saved_card::{SavedCard, normalise_email};
use crate::domain::text::{is_email, random_token};
use crate::i18n::{Lang, Tr};
use crate::store::audit::{self, Entry};
use crate::store::cards;
use crate::store::outbox::{self, Kind};
use crate::store::vault::RevealError;

pub const LINK_MINUTES: i64 = 15;
pub const LINKS_PER_WINDOW: i64 = 3;

/// Asks for wallet links for `email`. `Err` only for an address that is not one.
pub async fn request(env: &Env, raw_email: &str, lang: Lang, public_url: &str) -> ServiceResult<()> {
    let email = normalise_email(raw_email);
    if !is_email(&email) {
        return Err(ServiceError::field("email", "field.email.invalid"));
    }
    let (clock, public_url) = (env.clock.clone(), public_url.to_string());
    env.db
        .write(move |conn| {
            let now = clock.now_naive();
            for (buyer, shop) in cards::buyers_by_email(conn, &email)? {
                if cards::active_of(conn, buyer)?.is_empty()
                    || cards::links_since(conn, buyer, now - Duration::minutes(LINK_MINUTES))? >= LINKS_PER_WINDOW
                {
                    continue;
                }
                let Some(keys) = crate::store::shops::find_with_key_hashes(conn, shop)? else { continue };
                let token = random_token(24);
                cards::insert_link(conn, &hash_key(&token), buyer, now + Duration::minutes(LINK_MINUTES), now)?;
                let mail = link_email(
                    &keys.shop.settings.label,
                    &keys.shop.settings.contact_email,
                    &email,
                    &token,
                    lang,
                    &public_url,
                );
                let payload = serde_json::to_string(&mail).expect("json");
                outbox::enqueue(conn, shop, None, Kind::Email, &payload, now)?;
            }
            Ok::<_, DbError>(())
        })
        .await?;
    Ok(())
}

fn link_email(
    shop: &str,
    contact: &str,
    to: &str,
    token: &str,
    lang: Lang,
    public_url: &str,
) -> super::orders::EmailPayload {
    let t = Tr::new(lang);
    let url = format!("{}/wallet/{token}", public_url.trim_end_matches('/'));
    let lines = [
        t.args("wallet.mail.intro", &[("shop", shop.to_string().into())]),
        url.clone(),
        t.args("wallet.mail.expiry", &[("minutes", LINK_MINUTES.into())]),
        t.get("wallet.mail.ignore").to_string(),
    ];
    let html = lines
        .iter()
        .map(|l| match l == &url {
            true => format!("<p><a href=\"{0}\">{0}</a></p>", crate::domain::template::escape(l)),
            false => format!("<p>{}</p>", crate::domain::template::escape(l)),
        })
        .collect::<Vec<_>>()
        .join("\n");
    super::orders::EmailPayload {
        to: vec![to.to_string()],
        bcc: Vec::new(),
        reply_to: Some(contact.to_string()),
        from_name: shop.to_string(),
        subject: t.args("wallet.mail.subject", &[("shop", shop.to_string().into())]),
        html,
        text: lines.join("\n\n"),
    }
}

/// An opened wallet: the buyer, the shop and the cards.
pub struct Wallet {
    pub shop: String,
    pub email: String,
    pub cards: Vec<SavedCard>,
    /// The buyer's local date (the shop's zone): a card expired before it cannot be kept.
    pub today: chrono::NaiveDate,
}

/// The wallet session a link gives, and how long it lasts.
pub struct Opened {
    pub session: String,
    pub minutes: i64,
}

/// Who holds the wallet of `link`: the session, or the link itself opened now (once).
pub enum Access<'a> {
    Session(&'a str),
    Open,
}

/// The buyer behind `link` for `access`. `Ok(None)`: used, expired or unknown.
async fn buyer_of(env: &Env, link: &str, access: Access<'_>) -> ServiceResult<Option<(i64, Option<Opened>)>> {
    let (clock, hash) = (env.clock.clone(), hash_key(link));
    let session = match access {
        Access::Session(s) => Some(hash_key(s)),
        Access::Open => None,
    };
    Ok(env
        .db
        .write(move |conn| {
            let now = clock.now_naive();
            match session {
                Some(s) => Ok::<_, DbError>(cards::session(conn, &hash, &s, now)?.map(|b| (b, None))),
                None => {
                    let token = random_token(24);
                    let until = now + Duration::minutes(LINK_MINUTES);
                    let opened = cards::open_link(conn, &hash, &hash_key(&token), until, now)?;
                    Ok(opened.map(|b| (b, Some(Opened { session: token, minutes: LINK_MINUTES }))))
                }
            }
        })
        .await?)
}

/// The wallet of `link` for `access`, and the session when it was opened now.
pub async fn open(env: &Env, link: &str, access: Access<'_>) -> ServiceResult<Option<(Wallet, Option<Opened>)>> {
    let Some((buyer, opened)) = buyer_of(env, link, access).await? else { return Ok(None) };
    let clock = env.clock.clone();
    let wallet = env
        .db
        .read(move |conn| {
            let Some((email, shop)) = cards::buyer_email(conn, buyer)? else { return Ok(None) };
            let Some(keys) = crate::store::shops::find_with_key_hashes(conn, shop)? else { return Ok(None) };
            let today = crate::domain::order::local_today(clock.now(), keys.shop.settings.time_zone);
            let cards = cards::active_of(conn, buyer)?;
            Ok::<_, DbError>(Some(Wallet { shop: keys.shop.settings.label, email, cards, today }))
        })
        .await?;
    Ok(wallet.map(|w| (w, opened)))
}

/// A card of the wallet behind `session`, with its shop and mode.
async fn card_of(env: &Env, link: &str, session: &str, token: String) -> ServiceResult<(SavedCard, ShopId)> {
    let Some((buyer, _)) = buyer_of(env, link, Access::Session(session)).await? else {
        return Err(ServiceError::Forbidden);
    };
    let card = env.db.read(move |conn| cards::get(conn, &token).map_err(DbError::from)).await?;
    match card {
        Some(c) if c.buyer_id == buyer => {
            let shop = c.shop_id;
            Ok((c, shop))
        }
        _ => Err(ServiceError::NotFound),
    }
}

/// What the buyer typed for one card.
pub struct Change<'a> {
    pub expiry_month: &'a str,
    pub expiry_year: &'a str,
    pub holder: &'a str,
}

/// Changes a card's expiry date and holder name. A new expiry date is verified at the
/// acquirer first (zero amount, never captured): refused, nothing changes.
pub async fn update(env: &Env, link: &str, session: &str, token: String, change: Change<'_>) -> ServiceResult<()> {
    let (card, shop) = card_of(env, link, session, token.clone()).await?;
    let today = env.clock.now().date_naive();
    let mut errors = Vec::new();
    let expiry = Expiry::parse(change.expiry_month, change.expiry_year, today).map_err(|e| errors.push(e)).ok();
    let holder = crate::domain::card::parse_holder(change.holder).map_err(|e| errors.push(e)).ok();
    let (Some(expiry), Some(holder)) = (expiry, holder) else { return Err(ServiceError::Invalid(errors)) };
    if expiry != card.expiry {
        verify(env, &card, expiry).await?;
    }
    let (clock, t) = (env.clock.clone(), token.clone());
    let detail = format!("{} {} expiry {}", card.brand, card.last_four(), expiry.display());
    env.db
        .write(move |conn| {
            let now = clock.now_naive();
            cards::update(conn, &t, expiry, holder.as_deref(), now)?;
            buyer_audit(conn, shop, "card.updated", &t, &detail, now)
        })
        .await
}

/// Deletes a card from the wallet, and its number from the vault.
pub async fn delete(env: &Env, link: &str, session: &str, token: String) -> ServiceResult<()> {
    let (card, shop) = card_of(env, link, session, token.clone()).await?;
    let clock = env.clock.clone();
    let detail = format!("{} {}", card.brand, card.last_four());
    env.db
        .write(move |conn| {
            let now = clock.now_naive();
            cards::delete(conn, &token)?;
            buyer_audit(conn, shop, "card.deleted", &token, &detail, now)
        })
        .await
}

/// The zero-amount check of a card with its new expiry date.
async fn verify(env: &Env, card: &SavedCard, expiry: Expiry) -> ServiceResult<()> {
    let (keys, t) = (env.vault.clone(), card.token.clone());
    let number = env
        .db
        .read(move |conn| match crate::store::vault::reveal(conn, &keys, &t) {
            Ok(number) => Ok(number),
            Err(RevealError::Query(e)) => Err(DbError::from(e)),
            Err(RevealError::Vault(e)) => {
                tracing::error!(error = %e, "a saved card's number does not open");
                Ok(None)
            }
        })
        .await?;
    let number = number.ok_or(ServiceError::Conflict("wallet.verify_unavailable"))?;
    let gate = env.acquirers.for_mode(card.mode).ok_or(ServiceError::Conflict("wallet.verify_unavailable"))?;
    let key = format!("verify:{}", random_token(12));
    match gate.verify(&key, StoredCard { number: &number, expiry }).await {
        Ok(a) if a.approved => Ok(()),
        Ok(_) => Err(ServiceError::Invalid(vec![FieldError::new("expiry_year", "wallet.verify_refused")])),
        Err(e) => {
            tracing::warn!(error = %e, "card verification failed at the acquirer");
            Err(ServiceError::Conflict("wallet.verify_unavailable"))
        }
    }
}

fn buyer_audit(
    conn: &mut crate::db::DbConn,
    shop: ShopId,
    action: &str,
    target: &str,
    detail: &str,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    let company = crate::store::shops::find_with_key_hashes(conn, shop)?.map(|k| k.shop.company_id);
    let actor = Actor { company_id: company, user_id: None, name: "buyer".into(), ip: None };
    audit::append(conn, &actor, Entry { shop_id: Some(shop), action, target, detail }, now)?;
    Ok(())
}
