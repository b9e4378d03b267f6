//! A buyer's saved card (an alias) as the rest of the system sees it: a token, the brand,
//! the masked number, the expiry and the holder's name. The number itself is in the vault
//! under the same token and leaves it only for a call to the acquirer.

use chrono::{Datelike, NaiveDate};

use super::api_key::Mode;
use super::card::{Expiry, last_four};
use super::ids::ShopId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardStatus {
    /// Its first payment is under way: shown nowhere, deleted if that payment fails.
    Pending,
    Active,
}

impl CardStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CardStatus::Pending => "PENDING",
            CardStatus::Active => "ACTIVE",
        }
    }

    pub fn parse(raw: &str) -> Option<CardStatus> {
        match raw {
            "PENDING" => Some(CardStatus::Pending),
            "ACTIVE" => Some(CardStatus::Active),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SavedCard {
    pub token: String,
    pub shop_id: ShopId,
    /// The mode of the order that saved it: it pays only orders of that mode.
    pub mode: Mode,
    pub buyer_id: i64,
    pub status: CardStatus,
    pub brand: String,
    /// BIN and last four (`497010******0006`): merchants may see it, buyers see the last four.
    pub masked: String,
    pub expiry: Expiry,
    pub holder: Option<String>,
}

impl SavedCard {
    /// Usable through the last day of its expiry month.
    pub fn expired(&self, today: NaiveDate) -> bool {
        (self.expiry.year, self.expiry.month) < (today.year(), today.month())
    }

    /// `•••• 0006`.
    pub fn last_four(&self) -> String {
        last_four(&self.masked)
    }
}

/// A buyer is known by e-mail, compared without case and surrounding spaces.
pub fn normalise_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_is_usable_through_its_expiry_month() {
        let card = |month, year| SavedCard {
            token: "t".into(),
            shop_id: ShopId(1),
            mode: Mode::Test,
            buyer_id: 1,
            status: CardStatus::Active,
            brand: "VISA".into(),
            masked: "497010******0006".into(),
            expiry: Expiry { month, year },
            holder: None,
        };
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(!card(2, 2027).expired(day(2027, 2, 28)));
        assert!(card(2, 2027).expired(day(2027, 3, 1)));
        assert!(card(12, 2026).expired(day(2027, 1, 1)));
        assert_eq!(card(1, 2030).last_four(), "•••• 0006");
        assert_eq!(normalise_email("  Jane@Example.COM "), "jane@example.com");
    }
}
