//! Saved cards (issue 11): alias modes on the pay page, a second link paid with only the CVV,
//! expired cards, per-shop buyers, the wallet's magic link, the merchant's delete.

use chrono::{Datelike, Duration};
use diesel::prelude::*;
use paylink::db::DbError;
use paylink::db::schema::audit_log;
use paylink::domain::clock::Clock;
use paylink::domain::order::Channel;
use paylink::domain::order_form::RawOrder;
use paylink::services::merchants::CreatedMerchant;
use paylink::store::orders::Order;

use crate::delivery::create_orders;
use crate::helpers::{Client, Page, TestApp};
use crate::pay::{Buyer, order_with, outbox_files, raw, transactions};

const FRICTIONLESS: &str = "4970100000000006";
const MASTERCARD: &str = "5970100000000003";
const JANE: &str = "jane@example.com";

fn aliased(app: &TestApp, m: &CreatedMerchant, mode: &str, email: &str) -> Order {
    order_with(app, m, RawOrder { alias_mode: mode.into(), buyer_email: email.into(), ..raw("25,00", "en") })
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Rows in `table` (saved cards, or card numbers in the vault).
pub fn count(app: &TestApp, table: &'static str) -> i64 {
    app.db
        .read_blocking(move |conn| {
            let q = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"));
            Ok::<i64, DbError>(q.get_result::<Count>(conn)?.n)
        })
        .unwrap()
}

fn text(page: &Page, css: &str) -> String {
    page.texts(css).join(" ")
}

/// The merchant's admin, signed in.
async fn signed_in(app: &TestApp, m: &CreatedMerchant, code: &str) -> Client {
    let client = app.client();
    app.log_in_first_time(&client, m, code, crate::helpers::STRONG).await;
    client
}

/// Pays `o` with a new card, ticking "save" when asked, through the challenge that saving
/// forces (approved): the receipt.
async fn save_card(app: &TestApp, o: &Order, number: &str, month: &str, year: &str, tick: bool) -> Page {
    let buyer = Buyer::open(app, o).await;
    let session = buyer.session();
    let mut fields = vec![
        ("card_number", number),
        ("expiry_month", month),
        ("expiry_year", year),
        ("cvv", "123"),
        ("holder", "Jane Doe"),
        ("session", session.as_str()),
    ];
    if tick {
        fields.push(("save_card", "yes"));
    }
    let answer = buyer.client.post_form(&buyer.link, &fields).await;
    assert_eq!(answer.status, 303, "{}", answer.excerpt());
    let location = answer.location.clone().unwrap();
    assert!(location.contains("/3ds?c="), "saving a card forces the challenge: {location}");
    let c = location.split("?c=").nth(1).unwrap().to_string();
    buyer.answer_and_follow(&c, "approve").await
}

/// Posts the pay form with a saved card and `cvv` only.
async fn pay_saved(buyer: &Buyer, token: &str, cvv: &str) -> Page {
    let session = buyer.session();
    buyer.client.post_form(&buyer.link, &[("saved_card", token), ("cvv", cvv), ("session", &session)]).await
}

#[actix_web::test]
async fn a_saved_card_pays_the_next_link_with_only_its_cvv() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");

    // PROPOSE: the box is offered; AUTO: the page says the card will be kept.
    let first = aliased(&app, &m, "PROPOSE", JANE);
    let page = Buyer::open(&app, &first).await.page;
    assert!(page.count("input#save_card[name=save_card]") == 1, "{}", page.excerpt());
    let auto = aliased(&app, &m, "AUTO", "other@example.com");
    let page = Buyer::open(&app, &auto).await.page;
    assert_eq!(page.count("input[name=save_card]"), 0);
    assert!(text(&page, "#save-auto").contains("saved for your next payments at Acme Shop"), "{}", page.excerpt());
    let none = order_with(&app, &m, RawOrder { buyer_email: JANE.into(), ..raw("5", "en") });
    assert_eq!(Buyer::open(&app, &none).await.page.count("#save_card, #save-auto"), 0, "NONE never saves");

    // Saved with the first payment; the transaction carries the alias.
    let receipt = save_card(&app, &first, FRICTIONLESS, "12", "2030", true).await;
    assert!(receipt.body.contains("receipt"), "{}", receipt.excerpt());
    let t1 = transactions(&app, &first).remove(0);
    let alias = t1.saved_card.clone().expect("the alias is on the transaction");
    assert_eq!((count(&app, "saved_cards"), count(&app, "vault_records")), (1, 1));

    // The second link (any alias mode, the same buyer in other case) lists the card.
    let second = order_with(&app, &m, RawOrder { buyer_email: " Jane@Example.COM ".into(), ..raw("12,00", "en") });
    let buyer = Buyer::open(&app, &second).await;
    assert_eq!(
        buyer.page.attrs("input[name=saved_card]", "value"),
        [alias.clone(), String::new()],
        "the card, then 'new'"
    );
    assert_eq!(buyer.page.attr("input[name=saved_card][checked]", "value").as_deref(), Some(alias.as_str()));
    let label = text(&buyer.page, "#saved-cards");
    assert!(label.contains("•••• 0006") && label.contains("12/30") && label.contains("Jane Doe"), "{label}");
    assert!(!label.contains("497010"), "buyers see the last four digits only");

    // The CVV is asked again: missing, malformed, then 000 (the simulator's wrong CVV).
    let missing = pay_saved(&buyer, &alias, "").await;
    assert_eq!(missing.status, 422);
    assert!(text(&missing, "#cvv-error").contains("required"), "{}", missing.excerpt());
    assert_eq!(pay_saved(&buyer, &alias, "12").await.status, 422);
    assert!(transactions(&app, &second).is_empty(), "nothing reached the acquirer");
    let wrong = pay_saved(&buyer, &alias, "000").await;
    wrong.assert_redirect(&buyer.link);
    let refused = transactions(&app, &second);
    assert_eq!((refused.len(), refused[0].return_code.as_str()), (1, "01063"));
    let buyer = Buyer::open(&app, &second).await;
    let paid = pay_saved(&buyer, &alias, "321").await;
    paid.assert_redirect(&buyer.link);
    let receipt = buyer.client.follow(&paid).await;
    assert!(receipt.body.contains("•••• 0006"), "{}", receipt.excerpt());
    let t2 = transactions(&app, &second).into_iter().find(|t| t.status.accepted()).expect("accepted");
    assert_eq!((t2.card_masked.as_str(), t2.saved_card.as_deref()), ("497010******0006", Some(alias.as_str())));

    // The merchant sees the alias, on the screen and in the API.
    let alice = signed_in(&app, &m, "4821").await;
    let detail = alice.get(&format!("/transactions/{}", t2.id)).await;
    assert!(text(&detail, "#card").contains(&alias), "{}", detail.excerpt());
    let api = crate::acquirer::Api::new(&app, &m).get(&format!("/api/v1/transactions/{}", t2.id)).await;
    assert_eq!(api.body["alias"], alias.as_str());

    // Another buyer, another shop of the same e-mail, an invoice order: no card offered, and
    // a forged choice of Jane's card is refused.
    let stranger = aliased(&app, &m, "NONE", "someone@example.com");
    let buyer = Buyer::open(&app, &stranger).await;
    assert_eq!(buyer.page.count("input[name=saved_card]"), 0);
    let forged = pay_saved(&buyer, &alias, "123").await;
    assert_eq!(forged.status, 422);
    assert!(forged.body.contains("no longer saved"), "{}", forged.excerpt());
    let other = app.create_merchant("Globex", "Globex Shop", "bob", "1234");
    let elsewhere = order_with(&app, &other, RawOrder { buyer_email: JANE.into(), ..raw("5", "en") });
    let buyer = Buyer::open(&app, &elsewhere).await;
    assert_eq!(buyer.page.count("input[name=saved_card]"), 0, "buyers are per shop");
    assert_eq!(pay_saved(&buyer, &alias, "123").await.status, 422);
    let invoice = create_orders(
        &app,
        &m,
        Channel::Invoice,
        RawOrder { reference: "F-1".into(), buyer_email: JANE.into(), ..raw("5", "en") },
    )
    .remove(0);
    assert_eq!(Buyer::open(&app, &invoice).await.page.count("input[name=saved_card]"), 0, "never on invoices");

    // The merchant deletes the card from the transaction: gone from the vault, audited.
    let deleted = alice.post_form(&format!("/transactions/{}/saved-card/delete", t2.id), &[]).await;
    assert_eq!(deleted.status, 303, "{}", deleted.excerpt());
    assert_eq!((count(&app, "saved_cards"), count(&app, "vault_records")), (0, 0));
    assert_eq!(Buyer::open(&app, &auto).await.page.count("input[name=saved_card]"), 0);
    let audited: i64 = app
        .db
        .read_blocking(|conn| {
            audit_log::table
                .filter(audit_log::action.eq("card.deleted"))
                .count()
                .get_result(conn)
                .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(audited, 1);
    let bob = signed_in(&app, &other, "1234").await;
    let foreign = bob.post_form(&format!("/transactions/{}/saved-card/delete", t1.id), &[]).await;
    assert_eq!(foreign.status, 404, "another shop's transaction is not found");
}

#[actix_web::test]
async fn nothing_is_kept_without_the_box_or_when_the_payment_fails() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    // PROPOSE without the box: paid (through the challenge the alias mode forces), not kept.
    save_card(&app, &aliased(&app, &m, "PROPOSE", JANE), FRICTIONLESS, "12", "2030", false).await;
    assert_eq!(count(&app, "saved_cards"), 0);
    // AUTO, but the buyer fails the challenge, or abandons it: nothing kept.
    for action in ["fail", "abandon"] {
        let o = aliased(&app, &m, "AUTO", JANE);
        let buyer = Buyer::open(&app, &o).await;
        let (c, _) = buyer.to_challenge(MASTERCARD, "123").await;
        assert_eq!((count(&app, "saved_cards"), count(&app, "vault_records")), (1, 1), "pending during the challenge");
        buyer.answer_and_follow(&c, action).await;
        assert_eq!((count(&app, "saved_cards"), count(&app, "vault_records")), (0, 0), "{action}");
    }
    // Left at the issuer's page: the worker removes it once no attempt can end.
    let o = aliased(&app, &m, "AUTO", JANE);
    Buyer::open(&app, &o).await.to_challenge(MASTERCARD, "123").await;
    app.run_worker().await;
    assert_eq!(count(&app, "vault_records"), 1, "the buyer may still answer");
    app.clock.advance(Duration::minutes(40));
    assert_eq!(app.run_worker().await.cards_swept, 1);
    assert_eq!((count(&app, "saved_cards"), count(&app, "vault_records")), (0, 0));
    // The order form refuses an alias mode without a buyer to keep the card for.
    let alice = signed_in(&app, &m, "4821").await;
    alice.get("/orders/new?channel=url").await;
    let refused = alice
        .post_form("/orders", &[("channel", "url"), ("language", "en"), ("amount", "10"), ("alias_mode", "AUTO")])
        .await;
    assert_eq!(refused.status, 422, "{}", refused.excerpt());
    assert!(text(&refused, "#buyer_email-error").contains("e-mail"), "{}", refused.excerpt());
}

#[actix_web::test]
async fn an_expired_saved_card_is_shown_but_cannot_be_chosen() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let today = app.clock.now().date_naive();
    let (month, year) = (today.month().to_string(), today.year().to_string());
    save_card(&app, &aliased(&app, &m, "AUTO", JANE), MASTERCARD, &month, &year, false).await;
    let alias = {
        let o = order_with(&app, &m, RawOrder { buyer_email: JANE.into(), ..raw("5", "en") });
        let page = Buyer::open(&app, &o).await.page;
        assert_eq!(page.count("input[name=saved_card][disabled]"), 0, "valid through its month");
        page.attr("input[name=saved_card][checked]", "value").unwrap()
    };
    app.clock.advance(Duration::days(45));
    let o = order_with(&app, &m, RawOrder { buyer_email: JANE.into(), ..raw("5", "en") });
    let buyer = Buyer::open(&app, &o).await;
    assert_eq!(buyer.page.attr("input[name=saved_card][disabled]", "value").as_deref(), Some(alias.as_str()));
    assert!(text(&buyer.page, "#saved-cards").contains("expired"));
    assert_eq!(buyer.page.attr("input[name=saved_card][checked]", "value").as_deref(), Some(""), "a new card instead");
    let forced = pay_saved(&buyer, &alias, "123").await;
    assert_eq!(forced.status, 422);
    assert!(text(&forced, "#saved_card-error").contains("expired"), "{}", forced.excerpt());
    assert!(transactions(&app, &o).is_empty());
}

/// The wallet links e-mailed to `to` so far (in no particular order).
pub fn wallet_links(app: &TestApp, to: &str) -> Vec<String> {
    outbox_files(app)
        .into_iter()
        .filter(|(raw, _)| raw.contains(&format!("To: {to}")))
        .filter_map(|(_, text)| text.split_whitespace().find(|w| w.contains("/wallet/")).map(str::to_string))
        .map(|url| url[url.find("/wallet/").unwrap()..].to_string())
        .collect()
}

pub async fn ask(client: &Client, email: &str) -> Page {
    let form = client.get("/wallet").await;
    assert_eq!(form.status, 200);
    client.post_form("/wallet", &[("email", email)]).await
}

#[actix_web::test]
async fn the_wallet_link_works_once_for_15_minutes_and_answers_strangers_the_same() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    save_card(&app, &aliased(&app, &m, "AUTO", JANE), FRICTIONLESS, "12", "2030", false).await;
    app.run_worker().await;
    let before = outbox_files(&app).len();

    // The same answer for a known and an unknown address; a mail for the known one only.
    let known = ask(&app.client(), "Jane@Example.com").await;
    let unknown = ask(&app.client(), "nobody@example.com").await;
    assert_eq!((known.status, unknown.status), (200, 200));
    assert_eq!(text(&known, "main"), text(&unknown, "main"));
    assert_eq!(ask(&app.client(), "not-an-email").await.status, 422);
    app.run_worker().await;
    assert_eq!(outbox_files(&app).len(), before + 1, "one mail, to Jane");
    let links = wallet_links(&app, JANE);
    assert_eq!(links.len(), 1, "a wallet link e-mailed to Jane");
    let link = links[0].clone();

    // Opened once: the cards; another browser (or a forwarded mail) gets 410.
    let jane = app.client();
    let wallet = jane.get(&link).await;
    assert_eq!(wallet.status, 200, "{}", wallet.excerpt());
    assert!(text(&wallet, "main").contains("•••• 0006"), "{}", wallet.excerpt());
    assert_eq!(app.client().get(&link).await.status, 410, "single use");
    assert_eq!(jane.get(&link).await.status, 200, "the same browser keeps its wallet session");

    // Change the expiry (checked at the acquirer) and the holder; refusals come back.
    let card = wallet.attr("input[name=card]", "value").unwrap();
    let change = |month: &'static str, holder: &'static str| {
        let card = card.clone();
        let (jane, link) = (&jane, link.clone());
        async move {
            let f = [
                ("card", card.as_str()),
                ("action", "update"),
                ("expiry_month", month),
                ("expiry_year", "2031"),
                ("holder", holder),
            ];
            jane.post_form(&link, &f).await
        }
    };
    let bad = change("13", "Jane").await;
    assert_eq!(bad.status, 422, "{}", bad.excerpt());
    let done = change("11", "Jane Q. Doe").await;
    assert_eq!(done.status, 303, "{}", done.excerpt());
    let shown = jane.follow(&done).await;
    assert!(text(&shown, "main").contains("updated"), "{}", shown.excerpt());
    assert_eq!(shown.attr("input[name=expiry_month]", "value").as_deref(), Some("11"));
    assert_eq!(shown.attr("input[name=holder]", "value").as_deref(), Some("Jane Q. Doe"));
    let o = order_with(&app, &m, RawOrder { buyer_email: JANE.into(), ..raw("5", "en") });
    assert!(text(&Buyer::open(&app, &o).await.page, "#saved-cards").contains("11/31"));

    // Delete: out of the vault.
    let f = [("card", card.as_str()), ("action", "delete")];
    assert_eq!(jane.post_form(&link, &f).await.status, 303);
    assert_eq!((count(&app, "saved_cards"), count(&app, "vault_records")), (0, 0));

    // A second link, 16 minutes later: expired.
    save_card(&app, &aliased(&app, &m, "AUTO", JANE), FRICTIONLESS, "12", "2030", false).await;
    ask(&app.client(), JANE).await;
    app.run_worker().await;
    let late = wallet_links(&app, JANE).into_iter().find(|l| *l != link).expect("a second link");
    app.clock.advance(Duration::minutes(16));
    assert_eq!(app.client().get(&late).await.status, 410);
    assert_eq!(app.client().get("/wallet/not-a-token").await.status, 410);
}
