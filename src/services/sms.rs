//! A shop's SMS account (gateway credentials, default phone, credits). Credits are taken
//! when an SMS is queued (one per segment of its text) and given back if the worker gives
//! the SMS up.

use chrono::NaiveDate;

use super::ServiceResult;
use crate::db::DbConn;
use crate::domain::FieldError;
use crate::domain::clock::Clock;
use crate::domain::ids::ShopId;
use crate::domain::money::Money;
use crate::domain::order;
use crate::domain::secret_box;
use crate::domain::shop::Shop;
use crate::domain::sms::{self, Encoding, SmsPayload};
use crate::domain::template::{self, Variables};
use crate::i18n::Lang;
use crate::store::audit::{self, Actor, Entry};
use crate::store::sms as store;

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RawAccount {
    #[serde(default)]
    pub login: String,
    /// Empty keeps the stored password.
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub default_phone: String,
    #[serde(default)]
    pub credits: String,
    /// The balance the form showed. When given, the credits typed are applied as a change
    /// from it, so SMS queued or given back while the form was open are not overwritten.
    #[serde(default)]
    pub credits_seen: String,
}

/// Who may change the credits: they are bought from the SMS operator with the company's
/// money, so only an administrator (or the CLI) sets them; a manager keeps the balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditsRight {
    Set,
    Keep,
}

/// Saves the shop's SMS account; with [`CreditsRight::Keep`], credits typed other than the
/// balance shown are refused and the balance is left as it is.
pub fn save(
    conn: &mut DbConn,
    clock: &dyn Clock,
    actor: &Actor,
    shop: ShopId,
    raw: &RawAccount,
    vault_key: &[u8],
    right: CreditsRight,
) -> ServiceResult<Result<(), Vec<FieldError>>> {
    let mut errors = Vec::new();
    let login = raw.login.trim();
    if login.is_empty() || login.len() > 128 {
        errors.push(FieldError::new("login", "field.required"));
    }
    let phone = if raw.default_phone.trim().is_empty() {
        String::new()
    } else {
        crate::domain::sms::parse_phone(&raw.default_phone)
            .map_err(|e| errors.push(FieldError::new("default_phone", e.code)))
            .unwrap_or_default()
    };
    let credits = match raw.credits.trim().parse::<i32>() {
        Ok(c) if (0..=10_000_000).contains(&c) => c,
        _ => {
            errors.push(FieldError::new("credits", "sms.credits.invalid"));
            0
        }
    };
    let existing = store::get(conn, shop)?;
    let seen = raw.credits_seen.trim().parse::<i32>().ok();
    // The balance the form showed (SMS spent since do not make it a change).
    let shown = existing.as_ref().map_or(0, |a| seen.unwrap_or(a.credits));
    if right == CreditsRight::Keep && credits != shown {
        errors.push(FieldError::new("credits", "sms.credits.admin_only"));
    }
    let password_enc = match (raw.password.is_empty(), &existing) {
        (false, _) => secret_box::seal(vault_key, &raw.password),
        (true, Some(a)) => a.password_enc.clone(),
        (true, None) => {
            errors.push(FieldError::new("password", "field.required"));
            String::new()
        }
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let change = match (&existing, seen) {
        (Some(_), _) if right == CreditsRight::Keep => store::Credits::Add(0),
        (Some(_), Some(seen)) => store::Credits::Add(credits - seen),
        _ => store::Credits::Set(credits),
    };
    store::save(conn, shop, login, &password_enc, &phone, change, clock.now_naive())?;
    let balance = store::get(conn, shop)?.map_or(credits, |a| a.credits);
    audit::append(
        conn,
        actor,
        Entry {
            shop_id: Some(shop),
            action: "shop.sms_account_changed",
            target: &format!("shop:{shop}"),
            detail: &match change {
                store::Credits::Add(0) | store::Credits::Set(_) => format!("login {login}, {balance} credits"),
                store::Credits::Add(d) => format!("login {login}, {balance} credits ({d:+})"),
            },
        },
        clock.now_naive(),
    )?;
    Ok(Ok(()))
}

/// Credits an SMS text costs: one per segment, the number `services::orders` takes when it
/// queues the message.
pub fn credits_for(text: &str) -> i32 {
    i32::try_from(crate::domain::sms::cost(text).segments).unwrap_or(i32::MAX)
}

/// Gives the credits of a given-up SMS (its outbox payload) back to the shop's account, in
/// the caller's transaction: the one that marks the job given up, so it happens once.
/// Returns the credits given back: none when the payload cannot be read or the shop has no
/// account any more.
pub fn give_back_credits(conn: &mut DbConn, shop: ShopId, payload: &str) -> ServiceResult<i32> {
    let text = match serde_json::from_str::<SmsPayload>(payload) {
        Ok(p) => p.text,
        Err(error) => {
            tracing::warn!(shop.id = shop.0, %error, "a given-up SMS has an unreadable payload: no credits back");
            return Ok(0);
        }
    };
    let credits = credits_for(&text);
    if credits == 0 || store::give_back_credits(conn, shop, credits)? == 0 {
        return Ok(0);
    }
    Ok(credits)
}

/// An SMS order being written, as far as its text goes.
pub struct SmsDraft<'a> {
    /// The text typed; empty for the default one.
    pub message: &'a str,
    pub lang: Lang,
    pub amount: Money,
    /// The end date chosen, if any.
    pub end: Option<NaiveDate>,
    pub reference: &'a str,
}

/// The SMS cost as the server estimates it (the page's script keeps it up to date).
#[derive(Debug)]
pub struct SmsEstimate {
    pub segments: usize,
    pub chars: usize,
    pub encoding: &'static str,
    pub credits: Option<i32>,
    /// More segments than credits left.
    pub short: bool,
    /// The values the variables will take (the link with a token of the real length).
    pub url: String,
    pub shop_name: String,
    pub shop_contact: String,
    pub shop_url: String,
    pub start_date: String,
    /// The default text of each buyer language, by its code.
    pub defaults: Vec<(&'static str, &'static str)>,
}

/// The SMS as it will be sent (variables replaced, the link with a token of the real length)
/// and its cost against the shop's credits; `static/orders.js` computes the same thing as the
/// merchant types.
pub fn estimate(
    draft: &SmsDraft,
    shop: &Shop,
    public_url: &str,
    today: NaiveDate,
    credits: Option<i32>,
) -> SmsEstimate {
    let lang = draft.lang;
    let text = if draft.message.is_empty() {
        template::default_sms(lang).to_string()
    } else {
        template::with_url(draft.message)
    };
    let end = draft.end.unwrap_or_else(|| order::default_end_date(today, shop.settings.defaults.validity_days));
    let url = format!("{public_url}/t/{}", "x".repeat(order::TOKEN_CHARS));
    let vars = Variables {
        reference: draft.reference.to_string(),
        amount: draft.amount.display(lang),
        start_date: order::format_date(today, lang),
        end_date: order::format_date(end, lang),
        shop_name: shop.settings.label.clone(),
        shop_contact: shop.settings.contact_email.clone(),
        shop_url: shop.settings.url.clone(),
        url: url.clone(),
        button: String::new(),
    };
    let cost = sms::cost(&sms::plain_spaces(&vars.render_text(&text)));
    SmsEstimate {
        segments: cost.segments,
        chars: cost.chars,
        encoding: match cost.encoding {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        },
        credits,
        short: credits.is_some_and(|credits| i64::from(credits) < cost.segments as i64),
        url,
        shop_name: vars.shop_name,
        shop_contact: vars.shop_contact,
        shop_url: vars.shop_url,
        start_date: today.format("%Y-%m-%d").to_string(),
        defaults: Lang::ALL.iter().map(|l| (l.code(), template::default_sms(*l))).collect(),
    }
}
