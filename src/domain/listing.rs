//! What the lists search by: filters, sort keys and keyset cursors of the orders and the
//! transactions (the back office, the API and their exports share them).

use chrono::NaiveDateTime;

use super::ids::OrderId;
use super::order::{Channel, DeliveryStatus, Order, OrderStatus};
use super::transaction::TxStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Created,
    Expires,
    Amount,
}

impl SortKey {
    pub fn parse(raw: &str) -> Option<SortKey> {
        match raw {
            "created" => Some(SortKey::Created),
            "expires" => Some(SortKey::Expires),
            "amount" => Some(SortKey::Amount),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Created => "created",
            SortKey::Expires => "expires",
            SortKey::Amount => "amount",
        }
    }
}

/// Where the next page starts: the last row's sort value and id. Within one sort, the derived
/// order is the list's ascending order (value, then id), the SQL `ORDER BY` of the list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cursor {
    Created(i64),
    Expires(NaiveDateTime, i64),
    Amount(i64, i64),
}

impl Cursor {
    pub fn encode(&self) -> String {
        match self {
            Cursor::Created(id) => format!("c.{id}"),
            Cursor::Expires(t, id) => format!("e.{}.{id}", t.and_utc().timestamp()),
            Cursor::Amount(a, id) => format!("a.{a}.{id}"),
        }
    }

    pub fn decode(raw: &str) -> Option<Cursor> {
        let mut parts = raw.split('.');
        let kind = parts.next()?;
        let a: i64 = parts.next()?.parse().ok()?;
        let b: Option<i64> = parts.next().map(|p| p.parse().ok()).unwrap_or(None);
        match (kind, b) {
            ("c", None) => Some(Cursor::Created(a)),
            ("e", Some(id)) => Some(Cursor::Expires(chrono::DateTime::from_timestamp(a, 0)?.naive_utc(), id)),
            ("a", Some(id)) => Some(Cursor::Amount(a, id)),
            _ => None,
        }
    }

    /// Where the page after `order` starts.
    pub fn of(order: &Order, sort: SortKey) -> Cursor {
        match sort {
            SortKey::Created => Cursor::Created(order.id.0),
            SortKey::Expires => Cursor::Expires(order.expires_at, order.id.0),
            SortKey::Amount => Cursor::Amount(order.amount.minor, order.id.0),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub channel: Option<Channel>,
    pub status: Option<OrderStatus>,
    pub delivery_status: Option<DeliveryStatus>,
    pub created_from: Option<NaiveDateTime>,
    pub created_to: Option<NaiveDateTime>,
    pub expires_from: Option<NaiveDateTime>,
    pub expires_to: Option<NaiveDateTime>,
    pub amount_min: Option<i64>,
    pub amount_max: Option<i64>,
    /// Exact reference, or a prefix when it ends with `*`.
    pub reference: Option<String>,
}

/// Which transactions a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Authorised, waiting for capture or validation.
    InProgress,
    Captured,
    /// Refused, cancelled, expired.
    Others,
    All,
}

#[derive(Debug, Clone, Default)]
pub struct TxFilter {
    pub order_id: Option<OrderId>,
    pub status: Option<TxStatus>,
    pub created_from: Option<NaiveDateTime>,
    pub created_to: Option<NaiveDateTime>,
    pub card_last4: Option<String>,
    pub return_code: Option<String>,
    /// The order's reference: exact, or a prefix when it ends with `*`.
    pub reference: Option<String>,
}
