//! A merchant's refund of a transaction made through a payment service goes to that
//! service, with the shop's credentials of the transaction's mode; the call is journaled
//! with the request it paid. Transactions made through a service are captured with the
//! payment, so a refund is the only money operation they take. The app wallet's TEST
//! simulator refunds at once.

use super::Env;
use super::payment_services::account_of;
use crate::acquirer::AcquirerError;
use crate::acquirer::psp::{Journal, PspError};
use crate::domain::ids::ShopId;
use crate::domain::payment_service::Service;
use crate::store::operations::{OpKind, Operation};
use crate::store::payment_services as store;

/// The service and payment id an acquirer reference names (`mollie:tr_…`), if it is one.
pub fn service_of(reference: &str) -> Option<(Service, &str)> {
    let (service, id) = reference.split_once(':')?;
    Some((Service::parse(service)?, id))
}

/// The call of `op` when its transaction was made through a service; None otherwise (the
/// acquirer of its mode takes it).
pub async fn call(env: &Env, op: &Operation) -> Option<Result<(), AcquirerError>> {
    let (service, payment_id) = service_of(&op.reference)?;
    if op.kind != OpKind::Refund {
        return Some(Err(AcquirerError::Refused(format!("{service} payments are captured with the payment"))));
    }
    Some(refund(env, op, service, payment_id).await)
}

async fn refund(env: &Env, op: &Operation, service: Service, payment_id: &str) -> Result<(), AcquirerError> {
    let unavailable = |e: super::ServiceError| AcquirerError::Unavailable(e.to_string());
    let (shop, mode, pid) = (op.shop_id, op.mode, payment_id.to_string());
    let (row, request) = env
        .db
        .read(move |conn| {
            let row = store::find(conn, shop, service, mode)?;
            let request = store::request_by_payment(conn, shop, service, &pid)?;
            Ok::<_, super::ServiceError>((row, request))
        })
        .await
        .map_err(unavailable)?;
    if service == Service::Wallet && mode == crate::domain::api_key::Mode::Test {
        return Ok(());
    }
    let account = row
        .as_ref()
        .and_then(|r| account_of(&env.vault, r))
        .ok_or_else(|| AcquirerError::Unavailable(format!("no {service} account for {mode}")))?;
    let refund_ref = request.as_ref().and_then(|r| r.refund_ref.clone());
    let mut journal = Journal::default();
    let answer =
        env.acquirers.connector(account).refund(payment_id, refund_ref.as_deref(), op.amount, &mut journal).await;
    let (clock, request_id) = (env.clock.clone(), request.map(|r| r.id));
    let calls = journal.calls;
    let recorded = env
        .db
        .write(move |conn| {
            Ok::<_, super::ServiceError>(store::record_calls(
                conn,
                ShopId(shop.0),
                request_id,
                service,
                mode,
                &calls,
                clock.now_naive(),
            )?)
        })
        .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "a refund call's journal was not written");
    }
    answer.map_err(|e| match e {
        PspError::Refused(m) => AcquirerError::Refused(m),
        PspError::Timeout(d) => AcquirerError::Timeout(d),
        PspError::NotSupported(m) => AcquirerError::Refused(m.to_string()),
        PspError::Unavailable(m) => AcquirerError::Unavailable(m),
        PspError::Forged(m) => AcquirerError::Unavailable(m.to_string()),
    })
}
