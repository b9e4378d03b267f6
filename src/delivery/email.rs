//! E-mail through lettre: SMTP when `PAYLINK_SMTP_URL` is set, otherwise `.eml` files under
//! `outbox/` (shown in the back office). Every message is multipart: HTML and plain text.

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Outcome;
use crate::config::Settings;
use crate::services::orders::EmailPayload;
use crate::store::outbox::Job;

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Written under the settings' `eml_dir`.
    Files,
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        match &settings.smtp_url {
            Some(url) => AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map(|b| Mailer::Smtp(b.timeout(Some(std::time::Duration::from_secs(15))).build()))
                .map_err(|e| anyhow::anyhow!("PAYLINK_SMTP_URL is not a usable SMTP URL: {e}")),
            None => Ok(Mailer::Files),
        }
    }

    /// Closes the pooled SMTP connections; to be awaited inside the Tokio runtime.
    pub async fn shutdown(&self) {
        if let Mailer::Smtp(transport) = self {
            transport.shutdown().await;
        }
    }

    pub async fn send(&self, job: &Job, settings: &Settings) -> Outcome {
        let message = match build(job, settings) {
            Ok(m) => m,
            Err(e) => return Outcome::Failed(e),
        };
        match self {
            Mailer::Smtp(transport) => match transport.send(message).await {
                Ok(_) => Outcome::Sent,
                Err(e) => Outcome::Failed(format!("SMTP: {e}")),
            },
            Mailer::Files => {
                let path = settings.eml_path(job.id);
                let bytes = message.formatted();
                let written = std::fs::create_dir_all(settings.eml_dir()).and_then(|_| std::fs::write(&path, bytes));
                match written {
                    Ok(()) => Outcome::Written,
                    Err(e) => Outcome::Failed(format!("cannot write {}: {e}", path.display())),
                }
            }
        }
    }
}

/// `outbox/` under the data directory.
fn build(job: &Job, settings: &Settings) -> Result<Message, String> {
    let p: EmailPayload = serde_json::from_str(&job.payload).map_err(|e| format!("bad payload: {e}"))?;
    let from_address = settings.mail_from.parse().map_err(|e| format!("PAYLINK_MAIL_FROM: {e}"))?;
    let mut builder =
        Message::builder().from(Mailbox::new(Some(p.from_name.clone()), from_address)).subject(p.subject.clone());
    if let Some(reply_to) = p.reply_to.as_deref().and_then(|r| r.parse::<Mailbox>().ok()) {
        builder = builder.reply_to(reply_to);
    }
    for to in &p.to {
        builder = builder.to(to.parse::<Mailbox>().map_err(|e| format!("recipient {to}: {e}"))?);
    }
    for bcc in &p.bcc {
        builder = builder.bcc(bcc.parse::<Mailbox>().map_err(|e| format!("bcc {bcc}: {e}"))?);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(p.text.clone(), p.html.clone()))
        .map_err(|e| format!("cannot build the message: {e}"))
}
