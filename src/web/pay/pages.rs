//! The pay pages: the link (form, refusal, receipt), the notices and the TEST issuer's
//! challenge, in the order's language.

use crate::domain::card::last_four;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Datelike, NaiveDate};

use super::form::CardForm;
use super::tokens::{self, ChallengeClaims};
use crate::acquirer::simulator::TEST_CARDS;
use crate::acquirer::{ThreeDsOutcome, codes};
use crate::domain::api_key::Mode;
use crate::domain::money::{Currency, Money};
use crate::domain::order::{self, AliasMode};
use crate::domain::payment_service::Service;
use crate::domain::saved_card::SavedCard;
use crate::services::checkout::{self, Attempted, Link, Shown, Step};
use crate::services::service_pay::Offer;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::forms;
use crate::web::i18n::{Lang, Tr};

pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

pub fn html(status: StatusCode, body: String) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// What every pay page shows around its content.
#[derive(Clone)]
pub(super) struct Frame {
    pub(super) shop: String,
    pub(super) shop_url: String,
    pub(super) is_test: bool,
    /// Served over HTTPS (the public URL says so): only then does the page speak of an
    /// encrypted connection.
    pub(super) https: bool,
    pub(super) csrf: String,
    pub(super) langs: Vec<super::lang::Choice>,
    /// Where the shop's logo is served, when it has one.
    pub(super) logo: Option<String>,
}

impl Frame {
    /// The frame of a buyer page that belongs to no link (the wallet): no TEST banner, no logo.
    pub(super) fn plain(req: &HttpRequest, state: &AppState, shop: String, here: &str, lang: Lang) -> Frame {
        Frame {
            shop,
            shop_url: String::new(),
            is_test: false,
            https: state.settings.cookies_secure(),
            csrf: forms::token(req),
            langs: super::lang::choices(here, lang),
            logo: None,
        }
    }
}

/// The order as the buyer sees it.
#[derive(Clone)]
struct Summary {
    reference: Option<String>,
    amount: String,
    /// The last day the link can be paid; `None` once it cannot be paid any more.
    valid_until: Option<String>,
    /// The same, to the second and with its zone, for the curious.
    valid_until_exact: String,
    description: Option<String>,
    /// The pay button: "Payer 42,50 €", "42,50 € bezahlen".
    pay_label: String,
}

/// Everything a page of one link needs, in the order's language.
pub struct View {
    t: Tr,
    pub link: String,
    frame: Frame,
    summary: Summary,
    mode: Mode,
    by_card: bool,
    tz: chrono_tz::Tz,
    today: NaiveDate,
    session: String,
    cancelled: bool,
    /// The buyer's saved cards offered on the form.
    cards: Vec<CardChoice>,
    saving: Saving,
    offer: Option<OfferView>,
    currency: Currency,
    /// The payment services offered besides (or instead of) the card form.
    services: Vec<ServiceButton>,
}

/// A payment service's button on the pay page: a form that sends the buyer to a PSP, or
/// the link to the app wallet's page.
pub struct ServiceButton {
    pub service: &'static str,
    pub label: String,
    pub action: String,
    pub wallet: bool,
}

/// Payment in instalments as the form offers it.
pub struct OfferView {
    count: u8,
    /// "Pay in 3 instalments".
    label: String,
    /// "Pay 300,00 € at once".
    once: String,
    /// The pay button once instalments are chosen: "Pay 100,00 € now".
    first: String,
    /// Date (in the shop's zone) and amount of each instalment.
    rows: Vec<(String, String)>,
}

/// A saved card as the pay page offers it: brand and last four only.
pub struct CardChoice {
    token: String,
    brand: String,
    last4: String,
    expiry: String,
    holder: Option<String>,
    /// Shown, but it cannot be chosen.
    expired: bool,
}

/// What the form says about keeping the card.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Saving {
    Never,
    /// A box to tick (PROPOSE).
    Offer,
    /// Kept without asking, and the page says so (AUTO).
    Always,
}

impl View {
    pub fn new(req: &HttpRequest, state: &AppState, link: &Link) -> View {
        let lang = super::lang::of_link(req, link);
        let tz = link.time_zone();
        let env = state.env();
        View {
            t: Tr::new(lang),
            link: format!("/t/{}", link.token()),
            frame: Frame {
                shop: link.shop_label().to_string(),
                shop_url: link.shop_url().to_string(),
                is_test: link.mode() == Mode::Test,
                https: state.settings.cookies_secure(),
                csrf: forms::token(req),
                langs: super::lang::choices(&format!("/t/{}", link.token()), lang),
                logo: link.logo().map(str::to_string),
            },
            summary: Summary {
                reference: link.reference().map(str::to_string),
                amount: link.amount().display(lang),
                valid_until: Some(order::format_date(link.expires_on(), lang)),
                valid_until_exact: format!("{} 23:59:59 ({})", order::format_date(link.expires_on(), lang), tz.name()),
                description: link.description().map(str::to_string),
                pay_label: Tr::new(lang).args("pay.submit", &[("amount", link.amount().display(lang).into())]),
            },
            mode: link.mode(),
            by_card: checkout::by_card(&env, link.mode()),
            tz,
            today: checkout::today(&env, link),
            session: tokens::session_token(state, link.token(), state.env.clock.now_naive()),
            cancelled: link.cancelled(),
            cards: Vec::new(),
            saving: Saving::Never,
            offer: None,
            currency: link.amount().currency,
            services: Vec::new(),
        }
    }

    /// The payment services the page offers; `only`: the order names its service, so the
    /// card form is not offered.
    pub fn with_services(mut self, offers: Vec<Offer>, only: bool) -> View {
        let t = self.t;
        self.by_card = self.by_card && !only;
        self.services = offers
            .into_iter()
            .map(|o| {
                let wallet = o.service == Service::Wallet;
                ServiceButton {
                    service: o.service.as_str(),
                    label: t.args(
                        "pay.services.pay_with",
                        &[("amount", self.summary.amount.clone().into()), ("service", o.name.into())],
                    ),
                    action: if wallet { format!("{}/app", self.link) } else { format!("{}/service", self.link) },
                    wallet,
                }
            })
            .collect();
        self
    }

    /// The buyer is back from a service that has not said yet: a page that asks again by
    /// itself every few seconds (no JavaScript needed), and says so.
    pub fn waiting(&self, service: &str, again: &str) -> Result<HttpResponse, AppError> {
        let page = WaitingPage {
            t: self.t,
            frame: self.frame.clone(),
            summary: self.summary.clone(),
            text: self.t.args("pay.services.waiting", &[("service", service.to_string().into())]),
            again: again.to_string(),
            back: self.link.clone(),
        };
        html(StatusCode::OK, page.render().map_err(AppError::internal)?)
    }

    /// The payment in instalments the form offers, if any.
    pub fn with_offer(mut self, offer: Option<checkout::Offer>) -> View {
        let (t, currency) = (self.t, self.currency);
        self.offer = offer.map(|o| OfferView {
            count: o.count,
            label: t.args("pay.instalments.in", &[("count", i64::from(o.count).into())]),
            once: t.args("pay.instalments.once", &[("amount", self.summary.amount.clone().into())]),
            first: t.args(
                "pay.instalments.first",
                &[(
                    "amount",
                    Money { minor: o.schedule.first().map_or(0, |p| p.amount), currency }.display(t.lang).into(),
                )],
            ),
            rows: o
                .schedule
                .iter()
                .map(|p| (order::format_date(p.due_on, t.lang), Money { minor: p.amount, currency }.display(t.lang)))
                .collect(),
        });
        self
    }

    /// The buyer's saved cards on the form, and whether the card typed is kept.
    pub fn with_cards(mut self, cards: Vec<SavedCard>, link: &Link) -> View {
        self.cards = cards
            .into_iter()
            .map(|c| CardChoice {
                expired: c.expired(self.today),
                last4: c.last_four(),
                expiry: c.expiry.display(),
                token: c.token,
                brand: c.brand,
                holder: c.holder,
            })
            .collect();
        self.saving = match (link.alias_mode(), link.buyer().is_some()) {
            (AliasMode::Propose, true) => Saving::Offer,
            (AliasMode::Auto, true) => Saving::Always,
            _ => Saving::Never,
        };
        self
    }

    /// The page of what `GET /t/{token}` found.
    pub fn shown(&self, shown: Shown) -> Result<HttpResponse, AppError> {
        match shown {
            Shown::Closed => self.closed(),
            Shown::Receipt(t) => self.receipt(&t),
            Shown::Payable { refusal, .. } => self.pay_page(StatusCode::OK, refusal.as_ref(), self.fresh_form()),
        }
    }

    /// The answer to a step of the flow that did not end on a page of its own.
    pub fn step(
        &self,
        step: Step,
        state: &AppState,
        three_ds: crate::domain::shop::ThreeDsPreference,
    ) -> Result<HttpResponse, AppError> {
        match step {
            Step::Done | Step::Moved => Ok(see_other(&self.link)),
            Step::Closed => self.closed(),
            Step::NoCardPayment => self.pay_page(StatusCode::FORBIDDEN, None, None),
            Step::Busy => self.notice(StatusCode::CONFLICT, "pay.in_progress.title", "payment.in_progress"),
            Step::Unavailable => {
                self.notice(StatusCode::SERVICE_UNAVAILABLE, "pay.unavailable.title", "pay.unavailable.text")
            }
            Step::Challenge(parked) => {
                let c = ChallengeClaims::new(parked, three_ds).seal(state, self.link.trim_start_matches("/t/"));
                Ok(see_other(&format!("{}/3ds?c={c}", self.link)))
            }
        }
    }

    /// The form again, 422, with the refusals next to their fields.
    pub fn refused_form(&self, form: CardForm) -> Result<HttpResponse, AppError> {
        self.pay_page(StatusCode::UNPROCESSABLE_ENTITY, None, Some(form))
    }

    pub fn too_many(&self) -> Result<HttpResponse, AppError> {
        self.notice(StatusCode::TOO_MANY_REQUESTS, "pay.rate.title", "pay.rate.text")
    }

    /// The TEST issuer's page.
    pub fn challenge(&self, c: String, claims: &ChallengeClaims) -> Result<HttpResponse, AppError> {
        let page = ChallengePage {
            t: self.t,
            csrf: self.frame.csrf.clone(),
            action: format!("{}/3ds", self.link),
            c,
            shop: self.frame.shop.clone(),
            amount: self.summary.amount.clone(),
            brand: claims.card().brand.clone(),
            masked: last_four(&claims.card().masked),
        };
        html(StatusCode::OK, page.render().map_err(AppError::internal)?)
    }

    /// An empty form with a new pay session, or none when the order cannot be paid by card.
    fn fresh_form(&self) -> Option<CardForm> {
        self.by_card.then(|| {
            let mut form = CardForm::fresh(self.session.clone());
            // The first card that can still pay is chosen; the buyer may take another.
            form.saved_card = self.cards.iter().find(|c| !c.expired).map(|c| c.token.clone()).unwrap_or_default();
            form
        })
    }

    fn pay_page(
        &self,
        status: StatusCode,
        last: Option<&Attempted>,
        form: Option<CardForm>,
    ) -> Result<HttpResponse, AppError> {
        let t = self.t;
        let refusal = last.filter(|tx| !tx.accepted).map(|tx| Refusal {
            title: t.get(if tx.cancelled { "pay.cancelled.title" } else { "pay.refused.title" }),
            message: said(t, tx),
        });
        let test_cards = if self.mode == Mode::Test && form.is_some() {
            TEST_CARDS
                .iter()
                .map(|c| TestCardView { number: c.number, spaced: spaced(c.number), label: t.get(c.label_key) })
                .collect()
        } else {
            Vec::new()
        };
        let has_form = form.is_some();
        let page = PayPage {
            t,
            frame: self.frame.clone(),
            summary: self.summary.clone(),
            action: self.link.clone(),
            refusal,
            form,
            test_cards,
            cards: if has_form { &self.cards } else { &[] },
            services: &self.services,
            saving: if has_form { self.saving } else { Saving::Never },
            offer: if has_form { self.offer.as_ref() } else { None },
            save_auto: t.args("pay.save.auto", &[("shop", self.frame.shop.clone().into())]),
            fill_month: "12".to_string(),
            fill_year: format!("{:02}", (self.today.year() + 3) % 100),
        };
        html(status, page.render().map_err(AppError::internal)?)
    }

    fn receipt(&self, tx: &Attempted) -> Result<HttpResponse, AppError> {
        let t = self.t;
        let when = tx.created_at.and_utc().with_timezone(&self.tz);
        let date =
            format!("{} {} ({})", order::format_date(when.date_naive(), t.lang), when.format("%H:%M"), self.tz.name());
        let page = ReceiptPage {
            t,
            frame: self.frame.clone(),
            summary: self.summary.clone(),
            amount: tx.amount.display(t.lang),
            date,
            brand: tx.card_brand.clone(),
            masked: last_four(&tx.card_masked),
            holder: tx.holder.clone(),
            three_ds: t.get(three_ds_key(tx.three_ds)),
            code_message: said(t, tx),
            paid_with: if tx.by_service { t.get("pay.receipt.paid_with") } else { t.get("pay.receipt.card") },
            answer_label: if tx.by_service { t.get("pay.receipt.service_code") } else { t.get("pay.receipt.code") },
            receipt_no: tx.receipt_no.clone(),
        };
        html(StatusCode::OK, page.render().map_err(AppError::internal)?)
    }

    /// Expired or cancelled: no form, ever, and no date it would still be valid until.
    fn closed(&self) -> Result<HttpResponse, AppError> {
        let (title, text) = if self.cancelled {
            ("pay.cancelled_link.title", "pay.cancelled_link.text")
        } else {
            ("pay.expired.title", "pay.expired.text")
        };
        let mut page = self.notice_page_of(title, text, false);
        if self.cancelled {
            page.summary.valid_until = None;
        }
        html(StatusCode::GONE, page.render().map_err(AppError::internal)?)
    }

    fn notice(&self, status: StatusCode, title: &str, text: &str) -> Result<HttpResponse, AppError> {
        self.notice_page(status, title, text, true)
    }

    fn notice_page(&self, status: StatusCode, title: &str, text: &str, retry: bool) -> Result<HttpResponse, AppError> {
        html(status, self.notice_page_of(title, text, retry).render().map_err(AppError::internal)?)
    }

    fn notice_page_of(&self, title: &str, text: &str, retry: bool) -> NoticePage {
        NoticePage {
            t: self.t,
            frame: self.frame.clone(),
            summary: self.summary.clone(),
            title: self.t.get(title),
            text: self.t.get(text),
            retry: retry.then(|| self.link.clone()),
        }
    }
}

struct Refusal {
    title: &'static str,
    message: String,
}

struct TestCardView {
    number: &'static str,
    spaced: String,
    label: &'static str,
}

/// `4970 1000 0000 0006`.
fn spaced(number: &str) -> String {
    let mut out = String::with_capacity(number.len() + number.len() / 4);
    for (i, c) in number.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The buyer's message for a return code (seed 004 families: 01xxx bank, 04xxx fraud).
/// What the buyer reads of a transaction's return code; a payment service's shows the code
/// itself too (the service's words are its codes, seed 004).
fn said(t: Tr, tx: &Attempted) -> String {
    if tx.by_service {
        format!("{} ({})", t.get(service_code_key(&tx.return_code)), tx.return_code)
    } else {
        t.get(code_key(&tx.return_code)).to_string()
    }
}

/// The buyer's message for a payment service's return code (the app wallet's, seed 004).
fn service_code_key(code: &str) -> &'static str {
    use crate::domain::payment_service::wallet;
    match code {
        wallet::ACCEPTED => "pay.rc.accepted",
        wallet::CANCELLED => "pay.rc.service_cancelled",
        wallet::SESSION_EXPIRED => "pay.rc.service_expired",
        wallet::REFUSED_BY_PARTNER => "pay.rc.service_refused",
        _ => "pay.rc.service_error",
    }
}

fn code_key(code: &str) -> &'static str {
    match code {
        codes::ACCEPTED => "pay.rc.accepted",
        codes::WRONG_CVV => "pay.rc.wrong_cvv",
        codes::AUTHENTICATION_FAILED => "pay.rc.authentication_failed",
        codes::UNKNOWN_TEST_CARD => "pay.rc.unknown_test_card",
        codes::MIT_NOT_ALLOWED => "pay.rc.bank",
        codes::CANCELLED_BY_BUYER => "pay.rc.cancelled_by_buyer",
        codes::SESSION_EXPIRED => "pay.rc.session_expired",
        c if c.starts_with("04") => "pay.rc.fraud",
        c if c.starts_with("01") => "pay.rc.bank",
        _ => "pay.rc.other",
    }
}

fn three_ds_key(outcome: ThreeDsOutcome) -> &'static str {
    match outcome {
        ThreeDsOutcome::Frictionless => "pay.3ds.frictionless",
        ThreeDsOutcome::ChallengePassed => "pay.3ds.challenge_passed",
        ThreeDsOutcome::ChallengeFailed => "pay.3ds.challenge_failed",
        ThreeDsOutcome::Failed => "pay.3ds.failed",
        ThreeDsOutcome::NotPerformed => "pay.3ds.not_performed",
        ThreeDsOutcome::AtService => "pay.3ds.at_service",
    }
}

#[derive(Template)]
#[template(path = "pay/link.html")]
struct PayPage<'a> {
    t: Tr,
    services: &'a [ServiceButton],
    cards: &'a [CardChoice],
    offer: Option<&'a OfferView>,
    saving: Saving,
    save_auto: String,
    frame: Frame,
    summary: Summary,
    action: String,
    refusal: Option<Refusal>,
    /// None: card payment is not available for this order (PRODUCTION, no acquirer yet).
    form: Option<CardForm>,
    test_cards: Vec<TestCardView>,
    /// What a click on a test card puts in the expiry fields (a date in the future).
    fill_month: String,
    fill_year: String,
}

impl PayPage<'_> {
    fn error(&self, field: &str) -> Option<&'static str> {
        let form = self.form.as_ref()?;
        form.errors.iter().find(|(f, _)| *f == field).map(|(_, code)| self.t.get(code))
    }

    /// The first field in error, which gets the focus.
    fn first_error(&self) -> &'static str {
        let order = ["saved_card", "card_number", "expiry_month", "expiry_year", "cvv", "holder", "instalments"];
        let form = self.form.as_ref();
        order.into_iter().find(|f| form.is_some_and(|x| x.errors.iter().any(|(e, _)| e == f))).unwrap_or("")
    }
}

#[derive(Template)]
#[template(path = "pay/receipt.html")]
struct ReceiptPage {
    t: Tr,
    frame: Frame,
    summary: Summary,
    amount: String,
    date: String,
    brand: String,
    masked: String,
    holder: Option<String>,
    three_ds: &'static str,
    /// What the acquirer's answer means, in words (its raw code is for the merchant).
    code_message: String,
    /// "Card", or "Paid with" for a payment service (which may name no card).
    paid_with: &'static str,
    /// "Bank's answer", or the service's.
    answer_label: &'static str,
    receipt_no: String,
}

#[derive(Template)]
#[template(path = "pay/waiting.html")]
struct WaitingPage {
    t: Tr,
    frame: Frame,
    summary: Summary,
    text: String,
    /// Where the page goes again by itself (the return URL: it asks the service).
    again: String,
    back: String,
}

#[derive(Template)]
#[template(path = "pay/notice.html")]
struct NoticePage {
    t: Tr,
    frame: Frame,
    summary: Summary,
    title: &'static str,
    text: &'static str,
    /// Where to go back and try again (not for a closed link).
    retry: Option<String>,
}

#[derive(Template)]
#[template(path = "pay/challenge.html")]
struct ChallengePage {
    t: Tr,
    csrf: String,
    action: String,
    c: String,
    shop: String,
    amount: String,
    brand: String,
    masked: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_test_card_return_code_and_3ds_outcome_has_its_text() {
        for lang in crate::web::i18n::Lang::ALL {
            let t = Tr::new(lang);
            for card in &TEST_CARDS {
                assert!(t.has(card.label_key), "{} {}", card.label_key, t.code());
            }
            for code in [
                codes::ACCEPTED,
                codes::BANK_REFUSAL,
                codes::UNKNOWN_TEST_CARD,
                codes::MIT_NOT_ALLOWED,
                codes::WRONG_CVV,
                codes::AUTHENTICATION_FAILED,
                codes::CANCELLED_BY_BUYER,
                codes::SESSION_EXPIRED,
                codes::SUSPECTED_FRAUD,
                "01999",
                "04001",
                "99999",
            ] {
                assert!(t.has(code_key(code)), "{code} {}", t.code());
            }
            for outcome in ThreeDsOutcome::ALL {
                assert!(t.has(three_ds_key(*outcome)), "{outcome} {}", t.code());
            }
        }
        assert_eq!(code_key("04059"), "pay.rc.fraud");
        assert_eq!(code_key("01005"), "pay.rc.bank");
    }

    #[test]
    fn test_cards_are_spaced_by_four() {
        assert_eq!(spaced("4970100000000006"), "4970 1000 0000 0006");
    }
}
