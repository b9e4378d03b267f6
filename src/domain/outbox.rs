//! What the outbox carries: the kinds of messages and the statuses of their delivery.

use super::shop::text_enum;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Email,
    Sms,
    /// A signed call to a notification rule's URL.
    Webhook,
}

text_enum!(Kind { Email = "EMAIL", Sms = "SMS", Webhook = "WEBHOOK" });

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Not tried yet, or waiting for its next try after a failure.
    Pending,
    Sent,
    /// The last try failed; `next_attempt_at` says when the next one is (none: given up).
    Failed,
    /// Waits for a sender to be configured (SMS without a gateway).
    Held,
    /// An e-mail written to a file instead of sent (no mail server configured).
    Written,
}

text_enum!(JobStatus { Pending = "PENDING", Sent = "SENT", Failed = "FAILED", Held = "HELD", Written = "WRITTEN" });

/// An e-mail as queued: rendered, ready to send.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct EmailPayload {
    pub to: Vec<String>,
    pub bcc: Vec<String>,
    pub reply_to: Option<String>,
    pub from_name: String,
    pub subject: String,
    pub html: String,
    pub text: String,
}
