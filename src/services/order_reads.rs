//! What the order screens of the back office read: the list and its search, the detail with
//! the messages sent, the data of the order form, and the CSV export page by page. Each
//! function opens its own read transaction; everything is scoped to the scope's shop and
//! mode, so another shop's order is not found.

use chrono::NaiveDateTime;
use futures_util::Stream;

use super::export::{self, EXPORT_PAGE};
use super::templates::MailTemplate;
use super::{Scope, ServiceError, ServiceResult};
use crate::db::{Db, DbConn, DbError};
use crate::domain::ids::{OrderId, UserId};
use crate::domain::listing::{Cursor, OrderFilter, SortKey};
use crate::domain::order::{Channel, Order};
use crate::domain::outbox::{JobStatus, Kind};
use crate::domain::shop::Shop;
use crate::store::orders as store;
use crate::store::outbox::{self, Job};
use crate::store::{sms, templates, users};

/// A search of the list, parsed.
#[derive(Debug, Clone)]
pub struct OrderSearch {
    pub filter: OrderFilter,
    pub sort: SortKey,
    pub descending: bool,
    /// Where the page starts (after this row), or the first page.
    pub after: Option<Cursor>,
}

/// A page of the list, with the columns its user chose.
pub struct OrderList {
    /// The stored choice of columns (`None`: never chosen).
    pub columns: Option<String>,
    pub orders: Vec<Order>,
    pub next: Option<Cursor>,
}

/// One page of the scope's orders, and the user's columns. No search (it was refused): no
/// rows, the columns still.
pub async fn list(
    db: &Db,
    scope: &Scope,
    user: UserId,
    search: Option<OrderSearch>,
    limit: i64,
    now: NaiveDateTime,
) -> ServiceResult<OrderList> {
    let (shop, mode) = (scope.shop.id, scope.mode);
    db.read(move |conn| {
        let columns = users::orders_columns(conn, user)?;
        let (orders, next) = match search {
            Some(s) => {
                let page =
                    store::list(conn, &[shop], mode, &s.filter, s.sort, s.descending, s.after.as_ref(), limit, now)?;
                (page.items, page.next)
            }
            None => (Vec::new(), None),
        };
        Ok(OrderList { columns, orders, next })
    })
    .await
}

/// Remembers the columns a user chose for the list (a display preference of their own).
pub async fn save_columns(db: &Db, user: UserId, columns: String) -> ServiceResult<()> {
    db.write(move |conn| users::set_orders_columns(conn, user, &columns).map(|_| ()).map_err(ServiceError::from)).await
}

/// The pages of the export of a search, from its first row (the search's cursor is not
/// used), read [`EXPORT_PAGE`] rows at a time.
pub async fn export(
    db: &Db,
    scope: &Scope,
    search: OrderSearch,
    now: NaiveDateTime,
) -> ServiceResult<impl Stream<Item = ServiceResult<Vec<Order>>> + 'static> {
    let read = {
        let (db, shop, mode) = (db.clone(), scope.shop.id, scope.mode);
        move |after: Option<Cursor>| {
            let (db, s) = (db.clone(), search.clone());
            async move {
                db.read(move |conn| {
                    let page = store::list(
                        conn,
                        &[shop],
                        mode,
                        &s.filter,
                        s.sort,
                        s.descending,
                        after.as_ref(),
                        EXPORT_PAGE,
                        now,
                    )?;
                    Ok::<_, ServiceError>((page.items, page.next))
                })
                .await
            }
        }
    };
    let first = read(None).await?;
    Ok(export::pages(first, move |after| read(Some(after))))
}

/// A message of an order, as its detail lists it.
#[derive(Debug, Clone)]
pub struct OrderMessage {
    pub id: i64,
    pub kind: Option<Kind>,
    pub status: JobStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

impl From<Job> for OrderMessage {
    fn from(j: Job) -> Self {
        OrderMessage {
            id: j.id,
            kind: j.kind(),
            status: j.status(),
            attempts: j.attempts,
            last_error: j.last_error,
            created_at: j.created_at,
            sent_at: j.sent_at,
        }
    }
}

/// An order and its messages, newest first.
pub struct OrderDetail {
    pub order: Order,
    pub messages: Vec<OrderMessage>,
    /// Its schedule of instalments, once the buyer chose one.
    pub schedule: Option<super::schedules::Schedule>,
}

pub async fn detail(db: &Db, scope: &Scope, id: OrderId) -> ServiceResult<OrderDetail> {
    let scope = scope.clone();
    db.read(move |conn| {
        let order = super::orders::load(conn, &scope.orders(), id)?;
        let messages = outbox::for_order(conn, order.id)?.into_iter().map(OrderMessage::from).collect();
        let schedule = super::schedules::of_order(conn, &order)?;
        Ok(OrderDetail { order, messages, schedule })
    })
    .await
}

/// An order of the scope, or not found.
pub async fn find(db: &Db, scope: &Scope, id: OrderId) -> ServiceResult<Order> {
    let scope = scope.clone();
    db.read(move |conn| super::orders::load(conn, &scope.orders(), id)).await
}

/// The id of a message of the order written as an e-mail, if `message` is one.
pub async fn email_of(db: &Db, scope: &Scope, id: OrderId, message: i64) -> ServiceResult<Option<i64>> {
    let scope = scope.clone();
    db.read(move |conn| {
        let order = super::orders::load(conn, &scope.orders(), id)?;
        let job = outbox::get(conn, message)?;
        Ok(job.filter(|j| j.order_id == Some(order.id.0) && j.kind() == Some(Kind::Email)).map(|j| j.id))
    })
    .await
}

/// What the order form needs besides the order: the shop's e-mail templates (e-mail orders)
/// and the SMS credits left (SMS orders).
#[derive(Debug, Clone, Default)]
pub struct FormData {
    pub templates: Vec<MailTemplate>,
    /// The shop's SMS account's credits; `None`: no account.
    pub sms_credits: Option<i32>,
    /// The default template of the language asked for, for a new e-mail order.
    pub default_template: Option<MailTemplate>,
    /// The shop's payment services, by mode, with the name the buyer reads (the order form's
    /// `payment_service` choice).
    pub payment_services: Vec<(crate::domain::payment_service::Service, crate::domain::api_key::Mode, String)>,
}

fn form_data_in(conn: &mut DbConn, shop: &Shop, channel: Channel, lang: Option<&str>) -> Result<FormData, DbError> {
    let email = channel == Channel::Email;
    Ok(FormData {
        templates: if email {
            templates::list(conn, shop.id)?.into_iter().map(MailTemplate::from).collect()
        } else {
            Vec::new()
        },
        sms_credits: if channel == Channel::Sms { sms::get(conn, shop.id)?.map(|a| a.credits) } else { None },
        default_template: match lang {
            Some(lang) if email => templates::default_for(conn, shop.id, lang)?.map(MailTemplate::from),
            _ => None,
        },
        payment_services: crate::store::payment_services::list(conn, shop.id)?
            .iter()
            .filter_map(|r| {
                let name =
                    if r.display_name.is_empty() { r.service()?.label().to_string() } else { r.display_name.clone() };
                Some((r.service()?, r.mode()?, name))
            })
            .collect(),
    })
}

/// The form data of a new order of `channel`, with the default template of `lang`.
pub async fn form_data(db: &Db, shop: &Shop, channel: Channel, lang: &'static str) -> ServiceResult<FormData> {
    let shop = shop.clone();
    Ok(db.read(move |conn| form_data_in(conn, &shop, channel, Some(lang))).await?)
}

/// An order of the scope and the form data of its channel (modify, duplicate).
pub async fn with_form_data(db: &Db, scope: &Scope, id: OrderId) -> ServiceResult<(Order, FormData)> {
    let scope = scope.clone();
    db.read(move |conn| {
        let order = super::orders::load(conn, &scope.orders(), id)?;
        let data = form_data_in(conn, &scope.shop, order.channel, None)?;
        Ok((order, data))
    })
    .await
}
