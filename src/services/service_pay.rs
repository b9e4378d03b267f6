//! Paying a link through a payment service: the buyer leaves for the service's hosted page
//! (PSP connectors) and comes back to `/t/{token}/return`; the service's notification, or
//! the status asked of it on return, decides. The return URL alone never marks an order
//! paid: only what the service says (a fetched payment, or a PayZen IPN whose `kr-hash`
//! verifies) does.
//!
//! Like the card flow, nothing is held across the network: the request is recorded first
//! (`service_requests`, CREATED), the service is called, then its id and page are written.
//! Its outcome is written once: the request's guarded update to a final status and the
//! transaction (with the order's payment lock, so a card attempt and a notification never
//! both pay the order) commit together; a duplicate notification, or a return racing one,
//! finds the request ended and writes nothing.

use chrono::Duration;

use super::checkout::{Link, Step, standing};
use super::payment_services::{ServiceView, account_of, of_mode};
use super::payments::{self, CardSummary, Finalised, Outcome};
use super::{Env, ServiceError, ServiceResult};
use crate::acquirer::Authorisation;
use crate::acquirer::psp::{CreateRequest, Fetched, Journal, Notified, PspError};
use crate::db::DbConn;
use crate::domain::actor::Actor;
use crate::domain::clock::Clock;
use crate::domain::ids::{OrderId, ShopId};
use crate::domain::order::OrderStatus;
use crate::domain::payment_service::{RequestStatus, Service};
use crate::domain::text::random_token;
use crate::domain::transaction::ThreeDsOutcome;
use crate::store::audit::{self, Entry};
use crate::store::orders as order_store;
use crate::store::payment_services::{self as store, NewRequest, RequestRow};

/// How long a request at a PSP may stay open on our side.
const REQUEST_HOURS: i64 = 24;

/// A service the pay page offers, with the name the buyer reads.
#[derive(Debug, Clone)]
pub struct Offer {
    pub service: Service,
    pub name: String,
    /// Where its button may send the buyer: the service's hosted pages, and the origin of
    /// the API root set up (a sandbox's pages live there).
    pub origins: Vec<String>,
}

/// What the pay page offers besides the card form: the order's chosen service when it has
/// one (then only it), else the shop's default connector of the order's mode (or its first)
/// and its app wallet.
pub async fn offers(env: &Env, link: &Link) -> ServiceResult<Vec<Offer>> {
    let services = of_mode(env, link.shop.id, link.order.mode).await?;
    let order = link.order.id;
    let chosen = env.db.read_short(move |conn| Ok::<_, ServiceError>(store::chosen_for_order(conn, order)?)).await?;
    Ok(pick(&services, chosen)
        .into_iter()
        .map(|v| {
            let mut origins: Vec<String> = v.service.checkout_origins().iter().map(|o| o.to_string()).collect();
            if v.service.is_connector()
                && let Ok(u) = url::Url::parse(&v.base_url)
            {
                origins.push(u.origin().ascii_serialization());
            }
            Offer { service: v.service, name: v.name().to_string(), origins }
        })
        .collect())
}

fn pick(services: &[ServiceView], chosen: Option<Service>) -> Vec<&ServiceView> {
    if let Some(c) = chosen {
        return services.iter().filter(|v| v.service == c).collect();
    }
    let connector = services.iter().filter(|v| v.service.is_connector()).max_by_key(|v| v.default);
    let wallet = services.iter().find(|v| v.service == Service::Wallet);
    connector.into_iter().chain(wallet).collect()
}

/// Whether the order is paid through a service only (it names one): the card form is not
/// shown then.
pub async fn chosen(env: &Env, link: &Link) -> ServiceResult<Option<Service>> {
    let order = link.order.id;
    env.db.read_short(move |conn| Ok::<_, ServiceError>(store::chosen_for_order(conn, order)?)).await
}

/// Where the buyer goes after choosing a connector.
#[derive(Debug)]
pub enum Started {
    /// The service's hosted page.
    Redirect(String),
    /// The link cannot be paid now, or the service could not be reached.
    Step(Step),
}

/// The buyer chose `service` on the pay page: a request is asked of it and the buyer is
/// sent to its page. Only a service the page offers.
pub async fn start(env: &Env, link: &Link, service: Service) -> ServiceResult<Started> {
    if let Some(step) = standing(env, link) {
        return Ok(Started::Step(step));
    }
    if !service.is_connector() || !offers(env, link).await?.iter().any(|o| o.service == service) {
        return Err(ServiceError::NotFound);
    }
    let (shop, mode) = (link.shop.id, link.order.mode);
    let row = env.db.read_short(move |conn| Ok::<_, ServiceError>(store::find(conn, shop, service, mode)?)).await?;
    let account = row
        .as_ref()
        .and_then(|r| account_of(&env.vault, r))
        .ok_or(ServiceError::Conflict("service.credentials.unreadable"))?;
    let public_id = format!("pr_{}", random_token(20));
    let id = record_intent(env, link, service, &public_id, None).await?;
    let public_url = env.public_url.to_string();
    let return_url = format!("{public_url}/t/{}/return", link.order.token);
    let notify_url = format!("{public_url}/notify/{service}/{}", shop.0);
    let description = link.order.reference.clone().or_else(|| link.order.description.clone());
    let description = description.unwrap_or_else(|| link.shop_label().to_string());
    let request = CreateRequest {
        key: &public_id,
        amount: link.order.amount,
        description: &description,
        buyer_email: link.order.buyer_email.as_deref(),
        language: &link.order.language,
        return_url: &return_url,
        notify_url: &notify_url,
    };
    let mut journal = Journal::default();
    let answer = env.acquirers.connector(account).create(&request, &mut journal).await;
    let clock = env.clock.clone();
    let outcome = match &answer {
        Ok(c) => Some((c.id.clone(), c.checkout_url.clone(), c.status)),
        Err(_) => None,
    };
    let unknown = matches!(answer, Err(PspError::Timeout(_)));
    env.db
        .write(move |conn| {
            let now = clock.now_naive();
            store::record_calls(conn, shop, Some(id), service, mode, &journal.calls, now)?;
            match &outcome {
                Some((payment_id, url, status)) => store::opened(conn, id, payment_id, url, *status, now)?,
                // No answer in time: the service may hold it; it stays CREATED (its
                // notification, if any, names it).
                None if unknown => 0,
                None => store::ended(conn, id, RequestStatus::Failed, "not created", None, None, now)?,
            };
            Ok::<_, ServiceError>(())
        })
        .await?;
    match answer {
        Ok(created) => Ok(Started::Redirect(created.checkout_url)),
        Err(e) => {
            tracing::warn!(order.id = link.order.id.0, service = %service, error = %e, "the service did not take the payment");
            Ok(Started::Step(Step::Unavailable))
        }
    }
}

/// Records a request before anything is asked of its service.
pub(crate) async fn record_intent(
    env: &Env,
    link: &Link,
    service: Service,
    public_id: &str,
    names: Option<(String, String)>,
) -> ServiceResult<i64> {
    let clock = env.clock.clone();
    let (shop, order, mode, amount) = (link.shop.id, link.order.id, link.order.mode, link.order.amount);
    let public_id = public_id.to_string();
    let minutes = if service == Service::Wallet {
        crate::domain::payment_service::wallet::SESSION_MINUTES
    } else {
        REQUEST_HOURS * 60
    };
    env.db
        .write(move |conn| {
            let now = clock.now_naive();
            let (first, last) =
                names.as_ref().map(|(f, l)| (Some(f.as_str()), Some(l.as_str()))).unwrap_or((None, None));
            let r = NewRequest {
                public_id: &public_id,
                shop,
                order,
                mode,
                service,
                amount: amount.minor,
                currency: amount.currency.code(),
                first_name: first,
                last_name: last,
                expires_at: now + Duration::minutes(minutes),
            };
            Ok::<_, ServiceError>(store::insert_request(conn, &r, now)?)
        })
        .await
}

/// What the return page shows.
#[derive(Debug, PartialEq, Eq)]
pub enum Returned {
    /// Written (or nothing to wait for): the link shows where the order stands.
    Settled,
    /// The service has not said yet: the page waits and asks again.
    Waiting { service: Service },
}

/// The buyer is back from the service: the order's latest request, if still open, is asked
/// of the service (the notification may not have come yet, or at all) and its answer
/// written like a notification's.
pub async fn returned(env: &Env, link: &Link) -> ServiceResult<Returned> {
    let order = link.order.id;
    let latest = env.db.read_short(move |conn| Ok::<_, ServiceError>(store::latest_of_order(conn, order)?)).await?;
    let Some(r) = latest else { return Ok(Returned::Settled) };
    let Some(service) = r.service() else { return Ok(Returned::Settled) };
    if r.status().is_final() || !service.is_connector() {
        return Ok(Returned::Settled);
    }
    let Some(payment_id) = r.service_payment_id.clone() else { return Ok(Returned::Waiting { service }) };
    let fetched = fetch(env, &r, service, &payment_id).await;
    match fetched {
        Ok((fetched, journal)) => {
            let ended = apply(env, r, fetched, journal).await?;
            Ok(if ended { Returned::Settled } else { Returned::Waiting { service } })
        }
        Err(e) => {
            tracing::warn!(order.id = link.order.id.0, error = %e, "the service's status could not be read on return");
            Ok(Returned::Waiting { service })
        }
    }
}

/// Asks the service about a request's payment; the call is journaled with it.
async fn fetch(env: &Env, r: &RequestRow, service: Service, payment_id: &str) -> ServiceResult<(Fetched, Journal)> {
    let (shop, mode) = (ShopId(r.shop_id), r.mode().ok_or(ServiceError::NotFound)?);
    let row = env.db.read_short(move |conn| Ok::<_, ServiceError>(store::find(conn, shop, service, mode)?)).await?;
    let account = row
        .as_ref()
        .and_then(|row| account_of(&env.vault, row))
        .ok_or(ServiceError::Conflict("service.credentials.unreadable"))?;
    let mut journal = Journal::default();
    let answer = env.acquirers.connector(account).fetch(payment_id, &mut journal).await;
    match answer {
        Ok(f) => Ok((f, journal)),
        Err(e) => {
            let (clock, id, calls) = (env.clock.clone(), r.id, journal.calls);
            env.db
                .write(move |conn| {
                    Ok::<_, ServiceError>(store::record_calls(
                        conn,
                        shop,
                        Some(id),
                        service,
                        mode,
                        &calls,
                        clock.now_naive(),
                    )?)
                })
                .await?;
            tracing::warn!(request = r.id, error = %e, "fetching a payment failed");
            Err(ServiceError::Conflict("acquirer.unreachable"))
        }
    }
}

/// Why a notification was not taken.
#[derive(Debug, PartialEq, Eq)]
pub enum NotifyRefusal {
    /// It does not verify, or is unreadable (400).
    Forged,
    /// It names no request of this shop and service (404).
    Unknown,
    /// It could not be written now; the service should send it again (503).
    Retry,
}

/// A service's notification to `/notify/{service}/{shop}`: verified per service (PayZen by
/// its `kr-hash` under the shop's password of either mode; Mollie and PayPlug send only an
/// id, and the payment is fetched from the service with the shop's key), then written.
pub async fn notified(
    env: &Env,
    service: Service,
    shop: i64,
    content_type: &str,
    body: &[u8],
) -> Result<(), NotifyRefusal> {
    if !service.is_connector() {
        return Err(NotifyRefusal::Unknown);
    }
    let shop = ShopId(shop);
    let rows = env
        .db
        .read_short(move |conn| {
            let all = store::list(conn, shop)?;
            Ok::<_, ServiceError>(all.into_iter().filter(|r| r.service() == Some(service)).collect::<Vec<_>>())
        })
        .await
        .map_err(|_| NotifyRefusal::Retry)?;
    let accounts: Vec<_> = rows.iter().filter_map(|r| account_of(&env.vault, r)).collect();
    if accounts.is_empty() {
        return Err(NotifyRefusal::Unknown);
    }
    let mut told = None;
    for account in accounts {
        if let Ok(n) = env.acquirers.connector(account).notification(content_type, body) {
            told = Some(n);
            break;
        }
    }
    let told = told.ok_or(NotifyRefusal::Forged)?;
    let (request, verified) = match told {
        Notified::Fetch(id) => {
            let payment_id = id.clone();
            let found = env
                .db
                .read_short(move |conn| {
                    Ok::<_, ServiceError>(store::request_by_payment(conn, shop, service, &payment_id)?)
                })
                .await
                .map_err(|_| NotifyRefusal::Retry)?;
            (found.ok_or(NotifyRefusal::Unknown)?, None)
        }
        Notified::Verified { key, fetched } => {
            let found = env
                .db
                .read_short(move |conn| Ok::<_, ServiceError>(store::request_by_public(conn, &key)?))
                .await
                .map_err(|_| NotifyRefusal::Retry)?;
            let found = found.filter(|r| r.shop_id == shop.0 && r.service() == Some(service));
            (found.ok_or(NotifyRefusal::Unknown)?, Some(fetched))
        }
    };
    let (fetched, journal) = match verified {
        Some(f) => (f, Journal::default()),
        None => {
            let payment_id = request.service_payment_id.clone().ok_or(NotifyRefusal::Unknown)?;
            fetch(env, &request, service, &payment_id).await.map_err(|_| NotifyRefusal::Retry)?
        }
    };
    match apply(env, request, fetched, journal).await {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, "a service's notification could not be written");
            Err(NotifyRefusal::Retry)
        }
    }
}

/// Writes what the service says of a request: progress, or its outcome once. True when the
/// request has ended (now or before).
async fn apply(env: &Env, r: RequestRow, fetched: Fetched, journal: Journal) -> ServiceResult<bool> {
    let (clock, public_url) = (env.clock.clone(), env.public_url.to_string());
    env.db
        .write(move |conn| {
            let now = clock.now_naive();
            let service = r.service().ok_or(ServiceError::NotFound)?;
            let mode = r.mode().ok_or(ServiceError::NotFound)?;
            store::record_calls(conn, ShopId(r.shop_id), Some(r.id), service, mode, &journal.calls, now)?;
            if !fetched.status.is_final() {
                store::progressed(conn, r.id, fetched.status, &fetched.raw_status, now)?;
                return Ok(false);
            }
            let payment_id = if fetched.id.is_empty() {
                r.service_payment_id.clone().unwrap_or_default()
            } else {
                fetched.id.clone()
            };
            let ending =
                Ending { status: fetched.status, code: fetched.status.return_code(), raw: &fetched.raw_status };
            end(conn, clock.as_ref(), &r, service, &payment_id, &fetched, ending, &public_url)?;
            Ok(true)
        })
        .await
}

/// How a request ends.
pub(crate) struct Ending<'a> {
    pub status: RequestStatus,
    pub code: &'static str,
    pub raw: &'a str,
}

/// In the caller's transaction: ends the request once and, when the order can still take
/// it, writes its transaction (the order's lock taken for it). An order paid meanwhile by
/// another way, or closed, gets no transaction: the request keeps what the service said and
/// the shop's audit log says a payment needs the merchant (a refund at the service).
#[allow(clippy::too_many_arguments)]
pub(crate) fn end(
    conn: &mut DbConn,
    clock: &dyn Clock,
    r: &RequestRow,
    service: Service,
    payment_id: &str,
    fetched: &Fetched,
    ending: Ending<'_>,
    public_url: &str,
) -> ServiceResult<()> {
    let now = clock.now_naive();
    let refund_ref = fetched.refund_ref.as_deref();
    if store::ended(conn, r.id, ending.status, ending.raw, refund_ref, None, now)? == 0 {
        return Ok(()); // told before: a duplicate, or the return and the notification racing
    }
    let (order, shop) = order_store::find_with_shop(conn, OrderId(r.order_id))?.ok_or(ServiceError::NotFound)?;
    let holder = format!("svc-{}", r.public_id);
    if !payments::begin(conn, clock, order.id, &holder)? {
        let current = order.status_at(now);
        if matches!(current, OrderStatus::Running | OrderStatus::Refused) && order.expires_at >= now {
            // A card attempt holds the order: the service will tell again.
            return Err(ServiceError::Conflict("payment.in_progress"));
        }
        if ending.status == RequestStatus::Paid {
            tracing::warn!(
                order.id = order.id.0,
                request = r.id,
                "paid at the service, but the order was no longer payable"
            );
            let entry = Entry {
                shop_id: Some(shop.id),
                action: "payment_request.paid_unrecorded",
                target: &format!("payment_request:{}", r.id),
                detail: &format!("{service} {payment_id}: order {current}"),
            };
            audit::append(conn, &Actor::system(), entry, now)?;
        }
        return Ok(());
    }
    let last4 = fetched.card.last4.clone().unwrap_or_default();
    let card = CardSummary {
        brand: fetched.card.brand.clone().unwrap_or_else(|| service.label().to_string()),
        masked: if last4.is_empty() { String::new() } else { format!("************{last4}") },
        expiry: String::new(),
        holder: match (&r.first_name, &r.last_name) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            _ => None,
        },
        alias: None,
    };
    let accepted = ending.status == RequestStatus::Paid;
    let out = Outcome {
        holder: &holder,
        card: &card,
        three_ds: ThreeDsOutcome::AtService,
        authorisation: Authorisation { approved: accepted, code: ending.code },
        cancelled_by_buyer: ending.status == RequestStatus::Cancelled,
        acquirer_ref: &format!("{service}:{payment_id}"),
        service: Some((service.as_str(), payment_id)),
    };
    let (t, result) = payments::finalise(conn, clock, &shop, &order, &out, public_url)?;
    store::link_transaction(conn, r.id, t.id)?;
    tracing::info!(order.id = order.id.0, service = %service, outcome = ?result, return_code = ending.code, "payment through a service");
    debug_assert!(accepted == (result == Finalised::Accepted));
    Ok(())
}

/// Requests the worker looks at in one round.
const STALE_BATCH: i64 = 50;
/// How long the worker waits before asking again about a request its service still holds
/// open past our window.
const ASK_AGAIN_HOURS: i64 = 6;

/// The worker's round over requests whose time is up, so that none stays open for ever: a
/// PSP's payment is asked of the service and its answer written (a notification lost, a
/// buyer who never came back); a request the service never confirmed (no answer in time)
/// ends FAILED; an app-wallet session ends EXPIRED with 02324. How many ended.
pub async fn reconcile_due(env: &Env) -> ServiceResult<usize> {
    let clock = env.clock.clone();
    let stale =
        env.db.read(move |conn| Ok::<_, ServiceError>(store::stale(conn, clock.now_naive(), STALE_BATCH)?)).await?;
    let mut ended = 0;
    for r in stale {
        let Some(service) = r.service() else { continue };
        let (clock, public_url) = (env.clock.clone(), env.public_url.to_string());
        match (service.is_connector(), r.service_payment_id.clone()) {
            (true, Some(payment_id)) => match fetch(env, &r, service, &payment_id).await {
                Ok((fetched, journal)) => {
                    let id = r.id;
                    if apply(env, r, fetched, journal).await? {
                        ended += 1;
                    } else {
                        let until = env.clock.now_naive() + Duration::hours(ASK_AGAIN_HOURS);
                        env.db.write(move |conn| Ok::<_, ServiceError>(store::postpone(conn, id, until)?)).await?;
                    }
                }
                Err(e) => {
                    tracing::warn!(request = r.id, error = %e, "a stale request could not be asked about");
                    let (id, until) = (r.id, env.clock.now_naive() + Duration::hours(1));
                    env.db.write(move |conn| Ok::<_, ServiceError>(store::postpone(conn, id, until)?)).await?;
                }
            },
            (true, None) => {
                let id = r.id;
                env.db
                    .write(move |conn| {
                        let now = clock.now_naive();
                        Ok::<_, ServiceError>(store::ended(
                            conn,
                            id,
                            RequestStatus::Failed,
                            "never confirmed",
                            None,
                            None,
                            now,
                        )?)
                    })
                    .await?;
                ended += 1;
            }
            (false, _) => {
                let payment_id = r.service_payment_id.clone().unwrap_or_else(|| r.public_id.clone());
                let fetched = Fetched {
                    id: payment_id.clone(),
                    status: RequestStatus::Expired,
                    raw_status: "session expired".into(),
                    card: Default::default(),
                    refund_ref: None,
                };
                env.db
                    .write(move |conn| {
                        let ending = Ending {
                            status: RequestStatus::Expired,
                            code: crate::domain::payment_service::wallet::SESSION_EXPIRED,
                            raw: "REFUSED 02324",
                        };
                        end(conn, clock.as_ref(), &r, service, &payment_id, &fetched, ending, &public_url)
                    })
                    .await?;
                ended += 1;
            }
        }
    }
    Ok(ended)
}
