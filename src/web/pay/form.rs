//! The pay forms as posted, parsed at the edge: the card (into `checkout::Card`, which lives
//! for one request) and the issuer's answer.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::acquirer::simulator;
use crate::domain::FieldError;
use crate::domain::api_key::Mode;
use crate::domain::card::{Brand, CardNumber, Cvv, Expiry, parse_holder};
use crate::services::checkout::{Card, IssuerAnswer};

/// The card form as posted. Every field defaults to empty, so a missing one is reported next
/// to its input rather than as a bad request.
#[derive(Deserialize)]
pub struct PayForm {
    #[serde(default)]
    pub card_number: String,
    #[serde(default)]
    pub expiry_month: String,
    #[serde(default)]
    pub expiry_year: String,
    #[serde(default)]
    pub cvv: String,
    #[serde(default)]
    pub holder: String,
    #[serde(default)]
    pub session: String,
    /// A saved card's token (a radio among the buyer's cards); empty: a new card.
    #[serde(default)]
    pub saved_card: String,
    /// The "save this card" box (PROPOSE).
    #[serde(default)]
    pub save_card: String,
    /// `1` (or nothing) to pay at once, or the number of instalments offered.
    #[serde(default)]
    pub instalments: String,
}

impl PayForm {
    /// The card, or every refusal next to its field.
    pub fn card(&self, today: NaiveDate, mode: Mode) -> Result<Card, Vec<FieldError>> {
        let mut errors = Vec::new();
        let number = self.number(mode).map_err(|e| errors.push(e)).ok();
        let expiry = self.expiry(today).map_err(|e| errors.push(e)).ok();
        let cvv = self.cvv(number.as_ref()).map_err(|e| errors.push(e)).ok();
        let holder = parse_holder(&self.holder).map_err(|e| errors.push(e)).ok().flatten();
        match (number, expiry, cvv) {
            (Some(number), Some(expiry), Some(cvv)) if errors.is_empty() => {
                Ok(Card { number, expiry, cvv, holder, alias: None })
            }
            _ => Err(errors),
        }
    }

    /// The saved card chosen, if any.
    pub fn saved(&self) -> Option<&str> {
        Some(self.saved_card.trim()).filter(|t| !t.is_empty())
    }

    pub fn saves(&self) -> bool {
        !self.save_card.is_empty()
    }

    /// The number of instalments chosen: 1 when none is; 0 (never offered) for anything
    /// that is not a number.
    pub fn instalments(&self) -> u8 {
        match self.instalments.trim() {
            "" => 1,
            n => n.parse().unwrap_or(0),
        }
    }

    fn number(&self, mode: Mode) -> Result<CardNumber, FieldError> {
        let n = CardNumber::parse(&self.card_number)?;
        // The simulator's cards are public: a real payment never accepts them.
        if mode == Mode::Production && simulator::is_test_card(n.digits()) {
            return Err(FieldError::new("card_number", "pay.card.test_only"));
        }
        Ok(n)
    }

    fn expiry(&self, today: NaiveDate) -> Result<Expiry, FieldError> {
        let (month, year) = (self.expiry_month.trim(), self.expiry_year.trim());
        if month.is_empty() {
            return Err(FieldError::new("expiry_month", "field.required"));
        }
        if year.is_empty() {
            return Err(FieldError::new("expiry_year", "field.required"));
        }
        Expiry::parse(month, year, today)
    }

    fn cvv(&self, number: Option<&CardNumber>) -> Result<Cvv, FieldError> {
        if self.cvv.trim().is_empty() {
            return Err(FieldError::new("cvv", "field.required"));
        }
        // Without a valid number, any well-formed code (3 or 4 digits) passes here.
        match number.map(CardNumber::brand) {
            Some(b) => Cvv::parse(&self.cvv, b),
            None => Cvv::parse(&self.cvv, Brand::Visa).or_else(|_| Cvv::parse(&self.cvv, Brand::Amex)),
        }
    }
}

/// The form's state: kept values (never the number nor the CVV) and the refusals.
pub struct CardForm {
    pub session: String,
    pub expiry_month: String,
    pub expiry_year: String,
    pub holder: String,
    /// The saved card chosen (its token), kept for a re-render.
    pub saved_card: String,
    pub save_card: bool,
    /// The instalments chosen (1: at once).
    pub instalments: u8,
    pub errors: Vec<(&'static str, &'static str)>,
}

impl CardForm {
    pub fn fresh(session: String) -> CardForm {
        CardForm {
            session,
            expiry_month: String::new(),
            expiry_year: String::new(),
            holder: String::new(),
            saved_card: String::new(),
            save_card: false,
            instalments: 1,
            errors: Vec::new(),
        }
    }

    /// What was typed, kept for a re-render: the expiry and the holder only — and not even
    /// those when they could hold card digits (a card number pasted in the wrong field).
    pub fn kept(form: &PayForm, errors: Vec<FieldError>) -> CardForm {
        let short = |s: &str| if s.trim().chars().count() <= 4 { s.trim().to_string() } else { String::new() };
        let holder_ok = errors.iter().all(|e| e.field != "holder");
        CardForm {
            session: form.session.clone(),
            expiry_month: short(&form.expiry_month),
            expiry_year: short(&form.expiry_year),
            holder: if holder_ok { form.holder.trim().to_string() } else { String::new() },
            saved_card: form.saved().unwrap_or_default().to_string(),
            save_card: form.saves(),
            instalments: form.instalments(),
            errors: errors.into_iter().map(|e| (e.field, e.code)).collect(),
        }
    }
}

#[derive(Deserialize)]
pub struct ChallengeQuery {
    pub c: String,
}

#[derive(Deserialize)]
pub struct ChallengeForm {
    #[serde(default)]
    pub c: String,
    #[serde(default)]
    pub action: String,
}

impl ChallengeForm {
    pub fn answer(&self) -> Option<IssuerAnswer> {
        match self.action.as_str() {
            "approve" => Some(IssuerAnswer::Approve),
            "fail" => Some(IssuerAnswer::Fail),
            "abandon" => Some(IssuerAnswer::Abandon),
            _ => None,
        }
    }
}
