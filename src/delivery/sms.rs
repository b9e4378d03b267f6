//! SMS through an HTTP gateway: `POST PAYLINK_SMS_GATEWAY_URL` with the shop's account
//! credentials in HTTP Basic and `{"sender": "...", "to": "+33...", "text": "..."}`; any 2xx is
//! a success. Without a gateway the message is held in the outbox, visible in the back
//! office, and goes out once a gateway is configured.

use super::Outcome;
use crate::config::Settings;
use crate::db::{Db, DbError};
use crate::domain::ids::ShopId;
use crate::domain::secret_box;
use crate::services::orders::SmsPayload;
use crate::store::outbox::Job;
use crate::store::sms as sms_store;

pub async fn send(http: &reqwest::Client, db: &Db, settings: &Settings, job: &Job) -> Outcome {
    let Some(url) = settings.sms_gateway_url.as_deref() else {
        return Outcome::Held("no SMS gateway configured (PAYLINK_SMS_GATEWAY_URL)".into());
    };
    let payload: SmsPayload = match serde_json::from_str(&job.payload) {
        Ok(p) => p,
        Err(e) => return Outcome::Failed(format!("bad payload: {e}")),
    };
    let shop = ShopId(job.shop_id);
    let loaded = db
        .read(move |conn| {
            let account = sms_store::get(conn, shop)?;
            let label: Option<String> = {
                use diesel::prelude::*;
                crate::db::schema::shops::table
                    .find(shop.0)
                    .select(crate::db::schema::shops::label)
                    .first(conn)
                    .optional()?
            };
            Ok::<_, DbError>((account, label))
        })
        .await;
    let (account, label) = match loaded {
        Ok((Some(a), label)) => (a, label.unwrap_or_default()),
        Ok((None, _)) => return Outcome::Failed("the shop has no SMS account".into()),
        Err(e) => return Outcome::Failed(format!("database: {e}")),
    };
    let Some(password) = secret_box::open(settings.vault_key.expose(), &account.password_enc) else {
        return Outcome::Failed("the SMS account password cannot be read with this vault key".into());
    };
    let body = serde_json::json!({ "sender": label, "to": payload.to, "text": payload.text });
    match http.post(url).basic_auth(&account.login, Some(password)).json(&body).send().await {
        Ok(r) if r.status().is_success() => Outcome::Sent,
        Ok(r) => {
            let status = r.status();
            let text: String = r.text().await.unwrap_or_default().chars().take(200).collect();
            Outcome::Failed(format!("gateway answered {status}: {text}"))
        }
        Err(e) => Outcome::Failed(format!("gateway unreachable: {e}")),
    }
}
