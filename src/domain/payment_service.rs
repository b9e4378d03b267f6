//! Payment services a shop takes payments through besides the TEST card simulator: the PSP
//! connectors (PayZen, Mollie, PayPlug: the buyer pays on the service's hosted page) and the
//! app wallet (seed 004: Payconiq, now Bancontact, through Monext). Their credentials, how a
//! service's statuses read as ours, and the wallet's return codes.

use std::fmt;

use super::FieldError;
use super::api_key::Mode;

/// A service a shop can set up (`service` field of `/settings/payment-services`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    PayZen,
    Mollie,
    PayPlug,
    Wallet,
}

super::shop::text_enum!(Service { PayZen = "payzen", Mollie = "mollie", PayPlug = "payplug", Wallet = "wallet" });

impl Service {
    /// The name a merchant and a buyer read.
    pub fn label(self) -> &'static str {
        match self {
            Service::PayZen => "PayZen",
            Service::Mollie => "Mollie",
            Service::PayPlug => "PayPlug",
            Service::Wallet => "Bancontact",
        }
    }

    /// A PSP connector (the buyer goes to the service's page), not the wallet.
    pub fn is_connector(self) -> bool {
        self != Service::Wallet
    }

    /// Whether a payment request not yet paid can be cancelled at the service. PayZen's
    /// payment orders cannot (the seed 000 says so).
    pub fn cancels_requests(self) -> bool {
        matches!(self, Service::Mollie | Service::PayPlug | Service::Wallet)
    }

    /// The API root used when the setting is empty.
    pub fn public_base_url(self) -> &'static str {
        match self {
            Service::PayZen => "https://api.payzen.eu/api-payment/",
            Service::Mollie => "https://api.mollie.com/",
            Service::PayPlug => "https://api.payplug.com/",
            Service::Wallet => "https://services.payline.com/",
        }
    }

    /// Where the service's hosted payment pages live (the buyer's form is sent there).
    pub fn checkout_origins(self) -> &'static [&'static str] {
        match self {
            Service::PayZen => &["https://secure.payzen.eu"],
            Service::Mollie => &["https://www.mollie.com"],
            Service::PayPlug => &["https://secure.payplug.com"],
            Service::Wallet => &[],
        }
    }

    /// What the credentials field expects, for the form's hint and its errors.
    pub fn credentials_shape(self) -> CredentialsShape {
        match self {
            Service::PayZen | Service::Wallet => CredentialsShape::UserPassword,
            Service::Mollie | Service::PayPlug => CredentialsShape::Key,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialsShape {
    Key,
    UserPassword,
}

/// A service's credentials: a single key (Mollie, PayPlug) or `user:password` (PayZen, the
/// wallet), sent as HTTP Basic with the base64 of `user:password`. Never printed: `Debug`
/// and `masked` show the first and last characters only.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Key(String),
    UserPassword { user: String, password: String },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({})", self.masked())
    }
}

/// `sk_test_abcdef123` → `sk_test_…f123`: the prefix that tells the mode, and four characters.
fn mask(secret: &str) -> String {
    let prefix_end = secret.rfind('_').map_or(0, |i| i + 1).min(secret.len().saturating_sub(4));
    let chars: Vec<char> = secret.chars().collect();
    let prefix: String = secret[..prefix_end].to_string();
    if chars.len() <= 8 {
        return format!("{prefix}…");
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{prefix}…{tail}")
}

impl Credentials {
    /// Parses what the merchant typed for `service` in `mode`: the shape the service expects
    /// and, where the key says its mode (`sk_test_`/`sk_live_`, `test_`/`live_`,
    /// `testpassword_`/`prodpassword_`), the mode of the pair it is typed in.
    pub fn parse(service: Service, mode: Mode, typed: &str) -> Result<Credentials, FieldError> {
        let typed = typed.trim();
        let err = |code| Err(FieldError::new("credentials", code));
        if typed.is_empty() {
            return err("field.required");
        }
        if typed.len() > 500 || typed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return err("service.credentials.invalid");
        }
        let credentials = match service.credentials_shape() {
            CredentialsShape::Key => {
                if typed.contains(':') {
                    return err("service.credentials.key_expected");
                }
                Credentials::Key(typed.to_string())
            }
            CredentialsShape::UserPassword => match typed.split_once(':') {
                Some((user, password)) if !user.is_empty() && !password.is_empty() => {
                    Credentials::UserPassword { user: user.to_string(), password: password.to_string() }
                }
                _ => return err("service.credentials.user_password_expected"),
            },
        };
        match credentials.mode_named(service) {
            Some(named) if named != mode => err(match mode {
                Mode::Test => "service.credentials.production_key_in_test",
                Mode::Production => "service.credentials.test_key_in_production",
            }),
            None if service != Service::Wallet => err("service.credentials.prefix_unknown"),
            _ => Ok(credentials),
        }
    }

    /// The mode the credentials name by their prefix (the wallet's do not).
    pub fn mode_named(&self, service: Service) -> Option<Mode> {
        let secret = self.secret();
        let (test, live) = match service {
            Service::PayPlug => ("sk_test_", "sk_live_"),
            Service::Mollie => ("test_", "live_"),
            Service::PayZen => ("testpassword_", "prodpassword_"),
            Service::Wallet => return None,
        };
        if secret.starts_with(test) {
            Some(Mode::Test)
        } else if secret.starts_with(live) {
            Some(Mode::Production)
        } else {
            None
        }
    }

    /// The secret part: the key, or the password.
    pub fn secret(&self) -> &str {
        match self {
            Credentials::Key(key) => key,
            Credentials::UserPassword { password, .. } => password,
        }
    }

    /// As typed, to seal.
    pub fn expose(&self) -> String {
        match self {
            Credentials::Key(key) => key.clone(),
            Credentials::UserPassword { user, password } => format!("{user}:{password}"),
        }
    }

    /// Read back from its sealed form (shape known from the service).
    pub fn reopen(service: Service, plain: &str) -> Option<Credentials> {
        match service.credentials_shape() {
            CredentialsShape::Key => Some(Credentials::Key(plain.to_string())),
            CredentialsShape::UserPassword => plain
                .split_once(':')
                .map(|(u, p)| Credentials::UserPassword { user: u.to_string(), password: p.to_string() }),
        }
    }

    /// What screens show: the user in clear, the secret masked.
    pub fn masked(&self) -> String {
        match self {
            Credentials::Key(key) => mask(key),
            Credentials::UserPassword { user, password } => format!("{user}:{}", mask(password)),
        }
    }

    /// The `Authorization` header value: `Bearer <key>`, or `Basic base64(user:password)`.
    pub fn authorization(&self) -> String {
        use base64::Engine;
        match self {
            Credentials::Key(key) => format!("Bearer {key}"),
            Credentials::UserPassword { user, password } => {
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
            }
        }
    }
}

/// Parses the `base_url` field: empty means the service's public default; otherwise an
/// absolute http(s) URL, kept with a trailing slash so that paths join under it.
pub fn parse_base_url(service: Service, typed: &str) -> Result<String, FieldError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(service.public_base_url().to_string());
    }
    match url::Url::parse(typed) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.query().is_none() => {
            let mut s = u.to_string();
            if !s.ends_with('/') {
                s.push('/');
            }
            Ok(s)
        }
        _ => Err(FieldError::new("base_url", "service.base_url.invalid")),
    }
}

/// A payment request's state at its service, in our words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    /// Asked for, no answer yet (or no answer at all: the call failed).
    Created,
    /// The buyer may pay on the service's page.
    Open,
    /// The buyer paid; the money is on its way (a bank transfer, a pending authorisation).
    Pending,
    Paid,
    Failed,
    Cancelled,
    Expired,
}

super::shop::text_enum!(RequestStatus {
    Created = "CREATED",
    Open = "OPEN",
    Pending = "PENDING",
    Paid = "PAID",
    Failed = "FAILED",
    Cancelled = "CANCELLED",
    Expired = "EXPIRED",
});

impl RequestStatus {
    /// Whether the request has ended (its outcome is written once, then never again).
    pub fn is_final(self) -> bool {
        matches!(self, RequestStatus::Paid | RequestStatus::Failed | RequestStatus::Cancelled | RequestStatus::Expired)
    }

    /// The return code the transaction of an ended request carries (seed 004 style).
    pub fn return_code(self) -> &'static str {
        match self {
            RequestStatus::Paid => "00000",
            RequestStatus::Cancelled => wallet::CANCELLED,
            RequestStatus::Expired => wallet::SESSION_EXPIRED,
            RequestStatus::Failed => wallet::REFUSED_BY_PARTNER,
            RequestStatus::Created | RequestStatus::Open | RequestStatus::Pending => "",
        }
    }

    /// Mollie's payment statuses.
    pub fn of_mollie(status: &str) -> Option<RequestStatus> {
        Some(match status {
            "open" => RequestStatus::Open,
            "pending" | "authorized" => RequestStatus::Pending,
            "paid" => RequestStatus::Paid,
            "canceled" => RequestStatus::Cancelled,
            "expired" => RequestStatus::Expired,
            "failed" => RequestStatus::Failed,
            _ => return None,
        })
    }

    /// PayZen's payment order statuses (`paymentOrderStatus`) and order statuses of an IPN
    /// (`orderStatus`).
    pub fn of_payzen(status: &str) -> Option<RequestStatus> {
        Some(match status {
            "RUNNING" => RequestStatus::Open,
            "PAID" => RequestStatus::Paid,
            "UNPAID" | "REFUSED" => RequestStatus::Failed,
            "ABANDONED" | "CANCELLED" => RequestStatus::Cancelled,
            "EXPIRED" => RequestStatus::Expired,
            _ => return None,
        })
    }

    /// A PayPlug payment: paid, failed (its `failure.code`: `aborted`, `timeout`, or a
    /// refusal), or open.
    pub fn of_payplug(is_paid: bool, failure_code: Option<&str>) -> RequestStatus {
        match (is_paid, failure_code) {
            (true, _) => RequestStatus::Paid,
            (false, Some("aborted")) => RequestStatus::Cancelled,
            (false, Some("timeout")) => RequestStatus::Expired,
            (false, Some(_)) => RequestStatus::Failed,
            (false, None) => RequestStatus::Open,
        }
    }
}

/// The app wallet's return codes (seed 004, "Les codes du moyen de paiement").
pub mod wallet {
    pub const ACCEPTED: &str = "00000";
    pub const UNMATCHED_PARTNER_CODE: &str = "02012";
    pub const INVALID_VALUE: &str = "02308";
    pub const CANCELLED: &str = "02008";
    pub const SESSION_EXPIRED: &str = "02324";
    pub const REFUSED_BY_PARTNER: &str = "02020";
    pub const PARTNER_ERROR: &str = "02106";

    /// `(code, ShortMessage, LongMessage)` as the seed lists them.
    pub const CODES: [(&str, &str, &str); 7] = [
        (ACCEPTED, "ACCEPTED", "Transaction approved"),
        (UNMATCHED_PARTNER_CODE, "ERROR", "Unmatched partner return code"),
        (INVALID_VALUE, "ERROR", "Invalid value for"),
        (CANCELLED, "CANCELLED", "Transaction canceled by user"),
        (SESSION_EXPIRED, "REFUSED", "The session expired before the consumer has finished the transaction"),
        (REFUSED_BY_PARTNER, "REFUSED", "Transaction refused by partner"),
        (PARTNER_ERROR, "ERROR", "Payment partner error"),
    ];

    /// The short and long messages of `code`; an unknown code reads as `02012`'s.
    pub fn messages(code: &str) -> (&'static str, &'static str) {
        let (_, short, long) = CODES.iter().find(|(c, _, _)| *c == code).copied().unwrap_or(CODES[1]);
        (short, long)
    }

    /// How long a wallet session lasts before `02324`.
    pub const SESSION_MINUTES: i64 = 15;
    /// Refunds are allowed this long after the capture.
    pub const REFUND_DAYS: i64 = 365;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_tell_their_mode_and_a_key_of_the_other_mode_is_refused() {
        assert!(Credentials::parse(Service::PayPlug, Mode::Test, "sk_test_abc123").is_ok());
        let e = Credentials::parse(Service::PayPlug, Mode::Test, "sk_live_abc123").unwrap_err();
        assert_eq!(e.code, "service.credentials.production_key_in_test");
        let e = Credentials::parse(Service::Mollie, Mode::Production, "test_abc").unwrap_err();
        assert_eq!(e.code, "service.credentials.test_key_in_production");
        assert!(Credentials::parse(Service::Mollie, Mode::Production, "live_abc").is_ok());
        let e = Credentials::parse(Service::Mollie, Mode::Test, "abc").unwrap_err();
        assert_eq!(e.code, "service.credentials.prefix_unknown");
        let e = Credentials::parse(Service::PayZen, Mode::Test, "testpassword_x").unwrap_err();
        assert_eq!(e.code, "service.credentials.user_password_expected");
        let e = Credentials::parse(Service::Mollie, Mode::Test, "a:test_b").unwrap_err();
        assert_eq!(e.code, "service.credentials.key_expected");
        assert_eq!(Credentials::parse(Service::Mollie, Mode::Test, " ").unwrap_err().code, "field.required");
        assert!(Credentials::parse(Service::Wallet, Mode::Production, "merchant:access").is_ok());
    }

    #[test]
    fn user_password_is_sent_as_the_base64_of_user_colon_password() {
        let c =
            Credentials::parse(Service::PayZen, Mode::Test, "69876357:testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M")
                .unwrap();
        assert_eq!(c.authorization(), "Basic Njk4NzYzNTc6dGVzdHBhc3N3b3JkX0RFTU9QUklWQVRFS0VZMjNHNDQ3NXpYWlEyVUE1eDdN");
        assert_eq!(Credentials::Key("test_x".into()).authorization(), "Bearer test_x");
    }

    #[test]
    fn masked_credentials_keep_the_prefix_and_four_characters() {
        let c = Credentials::Key("sk_test_9f8e7d6c5b4a".into());
        assert_eq!(c.masked(), "sk_test_…5b4a");
        assert!(!format!("{c:?}").contains("9f8e7d"));
        let p = Credentials::UserPassword { user: "69876357".into(), password: "testpassword_SECRETSECRET".into() };
        assert_eq!(p.masked(), "69876357:testpassword_…CRET");
        assert_eq!(Credentials::reopen(Service::PayZen, &p.expose()), Some(p));
    }

    #[test]
    fn base_urls_default_to_the_public_api_and_end_with_a_slash() {
        assert_eq!(parse_base_url(Service::Mollie, "").unwrap(), "https://api.mollie.com/");
        assert_eq!(parse_base_url(Service::Mollie, "http://127.0.0.1:9000/m").unwrap(), "http://127.0.0.1:9000/m/");
        assert!(parse_base_url(Service::Mollie, "ftp://x").is_err());
        assert!(parse_base_url(Service::Mollie, "not a url").is_err());
    }

    #[test]
    fn statuses_map_as_each_service_names_them() {
        assert_eq!(RequestStatus::of_mollie("paid"), Some(RequestStatus::Paid));
        assert_eq!(RequestStatus::of_mollie("authorized"), Some(RequestStatus::Pending));
        assert_eq!(RequestStatus::of_mollie("canceled"), Some(RequestStatus::Cancelled));
        assert_eq!(RequestStatus::of_mollie("bogus"), None);
        assert_eq!(RequestStatus::of_payzen("UNPAID"), Some(RequestStatus::Failed));
        assert_eq!(RequestStatus::of_payzen("RUNNING"), Some(RequestStatus::Open));
        assert_eq!(RequestStatus::of_payplug(false, Some("aborted")), RequestStatus::Cancelled);
        assert_eq!(RequestStatus::of_payplug(false, Some("card_declined")), RequestStatus::Failed);
        assert_eq!(RequestStatus::of_payplug(true, None), RequestStatus::Paid);
        assert!(RequestStatus::Expired.is_final() && !RequestStatus::Open.is_final());
    }

    #[test]
    fn wallet_codes_carry_the_seed_messages() {
        assert_eq!(wallet::messages("02324").1, "The session expired before the consumer has finished the transaction");
        assert_eq!(wallet::messages("02008"), ("CANCELLED", "Transaction canceled by user"));
        assert_eq!(wallet::messages("99999"), ("ERROR", "Unmatched partner return code"));
    }
}
