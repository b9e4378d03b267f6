//! The store's lists over several shops one user sees: each shop is read on its own and the
//! pages merge by the sort key, so the keyset pages must walk the merged list in order, with
//! no duplicate and no gap, whatever the sort.

use chrono::{Duration, NaiveDateTime};

use paylink::db::DbError;
use paylink::domain::api_key::Mode;
use paylink::domain::clock::Clock;
use paylink::domain::ids::{OrderId, ShopId};
use paylink::domain::money::{Currency, Money};
use paylink::domain::order::{AliasMode, Channel, DeliveryStatus};
use paylink::domain::shop::{ThreeDsPreference, ValidationMode};
use paylink::store::orders::{self, Cursor, NewOrder, OrderFilter, SortKey};
use paylink::store::transactions::{self, NewTransaction, Tab, TxFilter, TxStatus};

use crate::helpers::TestApp;

const ORDERS: i64 = 37;

/// One company, two shops (an admin sees both), and orders whose creation alternates
/// irregularly between them, with amounts and end dates that tie across the shops.
fn two_shops_with_interleaved_orders(app: &TestApp) -> (Vec<ShopId>, Vec<orders::Order>) {
    let m = app.create_merchant("Acme", "Acme Paris", "alice", "4821");
    crate::users::add_shop(app, m.company_id.0, "Acme Lyon");
    let start = app.clock.now_naive();
    app.db
        .write_blocking(|conn| {
            let shops: Vec<ShopId> =
                paylink::store::shops::list_for_company(conn, m.company_id)?.into_iter().map(|s| s.id).collect();
            let mut made = Vec::new();
            for i in 0..ORDERS {
                let shop = if i % 3 == 1 || i % 7 == 0 { shops[1] } else { shops[0] };
                let expires_at: NaiveDateTime = start + Duration::days(10 + i % 4);
                let token = format!("list{i:016}");
                let reference = format!("L-{i:02}");
                let new = NewOrder {
                    shop_id: shop,
                    mode: Mode::Test,
                    channel: Channel::Url,
                    token: &token,
                    reference: Some(&reference),
                    amount: Money { minor: 1000 + (i % 5) * 100, currency: Currency::EUR },
                    language: "en",
                    validation_mode: ValidationMode::Auto,
                    capture_delay_days: 0,
                    expires_on: expires_at.date(),
                    expires_at,
                    alias_mode: AliasMode::None,
                    three_ds: ThreeDsPreference::NoPreference,
                    buyer_email: None,
                    use_collection_form: false,
                    description: None,
                    recipient: None,
                    bcc: None,
                    subject: None,
                    message: None,
                    instalments_until: None,
                    delivery_status: DeliveryStatus::Manual,
                    created_by: "test",
                };
                made.push(orders::insert(conn, &new, start + Duration::minutes(i))?);
            }
            Ok::<_, DbError>((shops, made))
        })
        .unwrap()
}

/// Every page of the list over `shops`, `limit` rows at a time, following the cursors.
fn walk(
    app: &TestApp,
    shops: &[ShopId],
    f: &OrderFilter,
    sort: SortKey,
    descending: bool,
    limit: i64,
) -> Vec<Vec<OrderId>> {
    let now = app.clock.now_naive();
    let mut pages = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = app
            .db
            .read_blocking(|conn| {
                orders::list(conn, shops, Mode::Test, f, sort, descending, cursor.as_ref(), limit, now)
                    .map_err(DbError::from)
            })
            .unwrap();
        assert!(page.items.len() as i64 <= limit);
        pages.push(page.items.iter().map(|o| o.id).collect());
        match page.next {
            // The cursor travels as text, as between two requests.
            Some(next) => cursor = Some(Cursor::decode(&next.encode()).expect("cursor round trip")),
            None => break,
        }
        assert!(pages.len() <= 50, "the pages never end");
    }
    pages
}

#[actix_web::test]
async fn order_pages_over_two_shops_merge_in_order_with_no_duplicate_and_no_gap() {
    let app = TestApp::spawn().await;
    let (shops, made) = two_shops_with_interleaved_orders(&app);
    let shop_of = |id: OrderId| made.iter().find(|o| o.id == id).unwrap().shop_id;
    let all = OrderFilter::default();
    let dearer = OrderFilter { amount_min: Some(1200), ..Default::default() };
    for (sort, descending, f) in [
        (SortKey::Created, true, &all),
        (SortKey::Created, false, &all),
        (SortKey::Amount, true, &all),
        (SortKey::Amount, false, &all),
        (SortKey::Expires, true, &all),
        (SortKey::Expires, false, &all),
        (SortKey::Amount, false, &dearer),
    ] {
        let what = format!("{sort:?} descending={descending} amount_min={:?}", f.amount_min);
        let pages = walk(&app, &shops, f, sort, descending, 5);
        // Pages 1 and 2 are full and each mixes both shops: the merge is exercised.
        for page in &pages[..2] {
            assert_eq!(page.len(), 5, "{what}");
            let from: std::collections::BTreeSet<ShopId> = page.iter().map(|id| shop_of(*id)).collect();
            assert_eq!(from.len(), 2, "{what}: {page:?}");
        }
        // The expected list: every matching order of both shops, by the key then the id.
        let mut expected: Vec<&orders::Order> =
            made.iter().filter(|o| f.amount_min.is_none_or(|min| o.amount.minor >= min)).collect();
        let epoch = chrono::NaiveDateTime::default();
        expected.sort_by_key(|o| match sort {
            SortKey::Created => (0, epoch, o.id.0),
            SortKey::Amount => (o.amount.minor, epoch, o.id.0),
            SortKey::Expires => (0, o.expires_at, o.id.0),
        });
        if descending {
            expected.reverse();
        }
        let expected: Vec<OrderId> = expected.into_iter().map(|o| o.id).collect();
        let walked: Vec<OrderId> = pages.concat();
        assert_eq!(walked, expected, "{what}");
        let mut distinct = walked.clone();
        distinct.sort_by_key(|id| id.0);
        distinct.dedup();
        assert_eq!(distinct.len(), walked.len(), "no duplicate: {what}");
    }
    // One shop alone still lists only its own orders, all of them.
    let paris = walk(&app, &shops[..1], &all, SortKey::Created, true, 50).concat();
    let expected: Vec<OrderId> = made.iter().rev().filter(|o| o.shop_id == shops[0]).map(|o| o.id).collect();
    assert_eq!(paris, expected);
    // A shop given twice counts once.
    let twice = walk(&app, &[shops[1], shops[0], shops[1]], &all, SortKey::Created, true, 50).concat();
    assert_eq!(twice.len() as i64, ORDERS);
}

#[actix_web::test]
async fn transaction_pages_over_two_shops_merge_newest_first_with_no_duplicate_and_no_gap() {
    let app = TestApp::spawn().await;
    let (shops, made) = two_shops_with_interleaved_orders(&app);
    let now = app.clock.now_naive();
    let txs: Vec<transactions::Transaction> = app
        .db
        .write_blocking(|conn| {
            made.iter()
                .map(|o| {
                    let t = NewTransaction {
                        shop_id: o.shop_id,
                        mode: Mode::Test,
                        order_id: o.id,
                        status: TxStatus::Captured,
                        amount: o.amount,
                        card_brand: "VISA",
                        card_masked: "497010XXXXXX0006",
                        card_expiry: "12/30",
                        holder: None,
                        three_ds: paylink::acquirer::ThreeDsOutcome::Frictionless,
                        return_code: "00",
                        acquirer_ref: "ref",
                        source: paylink::domain::order::Channel::Url,
                        buyer_email: None,
                        validation_mode: paylink::domain::shop::ValidationMode::Auto,
                        capture_date: None,
                        validate_by: None,
                        captured_at: Some(now),
                        saved_card: None,
                        instalment: None,
                    };
                    transactions::insert(conn, &t, now).map_err(DbError::from)
                })
                .collect::<Result<Vec<_>, DbError>>()
        })
        .unwrap();
    let page = |before: Option<i64>, f: &TxFilter, limit: i64| {
        app.db
            .read_blocking(|conn| {
                transactions::list(conn, &shops, Mode::Test, Tab::All, f, before, limit).map_err(DbError::from)
            })
            .unwrap()
    };
    let mut walked = Vec::new();
    let mut before = None;
    let mut pages = 0;
    loop {
        let (rows, next) = page(before, &TxFilter::default(), 4);
        assert!(rows.len() <= 4);
        if pages < 2 {
            let from: std::collections::BTreeSet<ShopId> = rows.iter().map(|t| t.shop_id).collect();
            assert_eq!((rows.len(), from.len()), (4, 2), "pages 1 and 2 are full and mix both shops");
        }
        walked.extend(rows.iter().map(|t| t.id));
        pages += 1;
        match next {
            Some(id) => before = Some(id),
            None => break,
        }
    }
    let expected: Vec<i64> = txs.iter().rev().map(|t| t.id).collect();
    assert_eq!(walked, expected, "newest first over both shops, each once");
    assert_eq!(pages, (ORDERS + 3) / 4);
    // The reference filter finds the order in whichever shop holds it.
    for o in [&made[0], &made[1]] {
        let f = TxFilter { reference: o.reference.clone(), ..Default::default() };
        let (rows, next) = page(None, &f, 4);
        assert_eq!((rows.iter().map(|t| t.order_id).collect::<Vec<_>>(), next), (vec![o.id], None));
    }
    let f = TxFilter { reference: Some("L-1*".into()), ..Default::default() };
    let (rows, _) = page(None, &f, 50);
    assert_eq!(rows.len(), 10, "L-10 to L-19, from both shops");
}

#[actix_web::test]
async fn audit_pages_of_a_company_skip_another_company_s_interleaved_entries() {
    use paylink::domain::ids::AuditId;
    use paylink::store::audit::{self, Actor, AuditFilter, Entry};
    let app = TestApp::spawn().await;
    let acme = app.create_merchant("Acme", "Acme Paris", "alice", "4821").company_id;
    let other = app.create_merchant("Other", "Other Shop", "bruno", "4821").company_id;
    let now = app.clock.now_naive();
    app.db
        .write_blocking(|conn| {
            for i in 0..40 {
                let company = if i % 3 == 0 { acme } else { other };
                let actor = Actor { company_id: Some(company), user_id: None, name: "test".into(), ip: None };
                let action = if i % 2 == 0 { "order.created" } else { "user.updated" };
                let entry = Entry { shop_id: None, action, target: "t", detail: "" };
                audit::append(conn, &actor, entry, now + Duration::seconds(i))?;
            }
            Ok::<_, DbError>(())
        })
        .unwrap();
    let walk = |action_prefix: Option<&str>| {
        let mut ids = Vec::new();
        let mut before = None;
        loop {
            let f = AuditFilter { action_prefix: action_prefix.map(str::to_string), actor: None, before };
            let rows = app.db.read_blocking(|conn| audit::page(conn, acme, &f, 5).map_err(DbError::from)).unwrap();
            ids.extend(rows.iter().map(|r| r.id));
            match rows.last() {
                Some(last) if rows.len() == 5 => before = Some(AuditId(last.id)),
                _ => break,
            }
        }
        ids
    };
    let all: Vec<(i64, String)> = app
        .db
        .read_blocking(|conn| {
            use diesel::prelude::*;
            use paylink::db::schema::audit_log as a;
            a::table
                .filter(a::company_id.eq(acme.0))
                .order(a::id.desc())
                .select((a::id, a::action))
                .load(conn)
                .map_err(DbError::from)
        })
        .unwrap();
    assert!(all.len() > 14, "the merchant's own entries and the 14 added");
    assert_eq!(walk(None), all.iter().map(|e| e.0).collect::<Vec<_>>(), "newest first, each once");
    let created: Vec<i64> = all.iter().filter(|e| e.1.starts_with("order.")).map(|e| e.0).collect();
    assert_eq!(walk(Some("order.")), created);
}
