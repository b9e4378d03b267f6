//! Typed settings: every `PAYLINK_*` environment variable has a matching flag, and the
//! embedded (SQLite) mode works with none of them. Secrets missing in embedded mode are
//! generated once into a 0600 key file beside the database; PostgreSQL mode refuses to start
//! without them, because several instances must share the same keys.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use clap::Args;
use rand::RngCore;

use crate::db::Backend;
use crate::domain::vault::Keyring;

#[derive(Debug, Clone, Args)]
pub struct RawSettings {
    /// Address and port the HTTP server listens on.
    #[arg(long, env = "PAYLINK_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Base URL of every link paylink prints or sends (defaults to http://BIND).
    #[arg(long, env = "PAYLINK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// `paylink.db` (a SQLite file) or `postgres://user@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = "paylink.db")]
    pub database_url: String,
    /// Key for cookies and CSRF tokens (base64, 32+ bytes).
    #[arg(long, env = "PAYLINK_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Key of the card vault (base64, 32 bytes, AES-256-GCM).
    #[arg(long, env = "PAYLINK_VAULT_KEY", hide_env_values = true)]
    pub vault_key: Option<String>,
    /// Keys the card vault used before the current one (comma-separated base64): records
    /// not yet re-encrypted by `rotate-vault-key` still open with them.
    #[arg(long, env = "PAYLINK_VAULT_PREVIOUS_KEYS", hide_env_values = true)]
    pub vault_previous_keys: Option<String>,
    /// smtp://user:pass@host:port (unset: e-mails are written under outbox/).
    #[arg(long, env = "PAYLINK_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// URL of the HTTP SMS gateway (unset: SMS stay in the outbox).
    #[arg(long, env = "PAYLINK_SMS_GATEWAY_URL")]
    pub sms_gateway_url: Option<String>,
    /// Sender of every e-mail (the shop's name is shown, its contact address is Reply-To).
    #[arg(long, env = "PAYLINK_MAIL_FROM", default_value = "no-reply@paylink.localhost")]
    pub mail_from: String,
    /// Where `outbox/` (e-mails written as .eml files without SMTP) lives; default: beside
    /// the SQLite file, or the working directory with PostgreSQL.
    #[arg(long, env = "PAYLINK_DATA_DIR")]
    pub data_dir: Option<std::path::PathBuf>,
    /// `text` or `json`.
    #[arg(long, env = "PAYLINK_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
    /// Minutes of inactivity after which a back-office session ends.
    #[arg(long, env = "PAYLINK_SESSION_IDLE_MINUTES", default_value_t = 30)]
    pub session_idle_minutes: u32,
    /// Login attempts allowed per client IP per minute.
    #[arg(long, env = "PAYLINK_LOGIN_RATE_PER_IP", default_value_t = 20)]
    pub login_rate_per_ip: u32,
    /// Login attempts allowed per login name per minute.
    #[arg(long, env = "PAYLINK_LOGIN_RATE_PER_LOGIN", default_value_t = 10)]
    pub login_rate_per_login: u32,
    /// Card payment attempts allowed per client IP per minute on the pay pages.
    #[arg(long, env = "PAYLINK_PAY_RATE_PER_IP", default_value_t = 30)]
    pub pay_rate_per_ip: u32,
    /// Connections in the database pool.
    #[arg(long, env = "PAYLINK_DB_POOL_SIZE", default_value_t = 8)]
    pub db_pool_size: u32,
    /// Seconds a client has to send a request body once its headers arrived.
    #[arg(long, env = "PAYLINK_BODY_TIMEOUT_SECS", default_value_t = 10)]
    pub body_timeout_secs: u32,
    /// Milliseconds any call to the acquirer may take; past it the operation is left pending
    /// and the worker asks the acquirer what became of it.
    #[arg(long, env = "PAYLINK_ACQUIRER_TIMEOUT_MS", default_value_t = 10_000)]
    pub acquirer_timeout_ms: u64,
    /// Milliseconds between two rounds of the background worker.
    #[arg(long, env = "PAYLINK_WORKER_TICK_MS", default_value_t = 5_000)]
    pub worker_tick_ms: u64,
    /// Lets webhooks call private addresses (10/8, 172.16/12, 192.168/16, 100.64/10,
    /// fc00::/7), for a merchant's server on the operator's own network. Link-local
    /// addresses (169.254/16, fe80::/10) are refused whatever this says.
    #[arg(long, env = "PAYLINK_WEBHOOK_ALLOW_PRIVATE", default_value_t = false)]
    pub webhook_allow_private: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Settings once parsed and completed: every secret is present.
#[derive(Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub public_url: String,
    pub database_url: String,
    pub backend: Backend,
    pub secret_key: Secret,
    pub vault_key: Secret,
    pub vault_previous_keys: Vec<Secret>,
    pub smtp_url: Option<String>,
    pub sms_gateway_url: Option<String>,
    pub mail_from: String,
    pub log_format: LogFormat,
    pub session_idle_minutes: u32,
    pub login_rate_per_ip: u32,
    pub login_rate_per_login: u32,
    pub pay_rate_per_ip: u32,
    pub db_pool_size: u32,
    pub body_timeout_secs: u32,
    pub acquirer_timeout_ms: u64,
    pub worker_tick_ms: u64,
    pub webhook_allow_private: bool,
    /// Directory of the SQLite file (embedded mode) or the working directory: holds outbox/.
    pub data_dir: PathBuf,
}

/// Key material. Debug never prints it.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Secret(bytes)
    }

    fn parse(name: &str, value: &str, min_len: usize) -> anyhow::Result<Self> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .with_context(|| format!("{name} must be base64"))?;
        if bytes.len() < min_len {
            bail!("{name} must decode to at least {min_len} bytes");
        }
        Ok(Secret(bytes))
    }

    fn encode(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.0)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl RawSettings {
    /// Completes the settings: secrets from the flags, else (embedded mode only) from the key
    /// file beside the database, generated on first start.
    pub fn resolve(self) -> anyhow::Result<Settings> {
        let backend = Backend::from_url(&self.database_url);
        let data_dir = self.data_dir.clone().unwrap_or_else(|| match backend {
            Backend::Sqlite => Path::new(&self.database_url)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
            Backend::Postgres => PathBuf::from("."),
        });
        if !crate::domain::user::is_email(self.mail_from.trim()) {
            bail!("PAYLINK_MAIL_FROM must be an e-mail address");
        }
        let given_secret =
            self.secret_key.as_deref().map(|v| Secret::parse("PAYLINK_SECRET_KEY", v, 32)).transpose()?;
        let given_vault = self.vault_key.as_deref().map(|v| Secret::parse("PAYLINK_VAULT_KEY", v, 32)).transpose()?;
        let vault_previous_keys = self
            .vault_previous_keys
            .iter()
            .flat_map(|list| list.split(','))
            .filter(|v| !v.trim().is_empty())
            .map(|v| Secret::parse("PAYLINK_VAULT_PREVIOUS_KEYS", v, 32))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let (secret_key, vault_key) = match (backend, given_secret, given_vault) {
            (_, Some(s), Some(v)) => (s, v),
            (Backend::Postgres, s, v) => {
                let missing: Vec<&str> =
                    [s.is_none().then_some("PAYLINK_SECRET_KEY"), v.is_none().then_some("PAYLINK_VAULT_KEY")]
                        .into_iter()
                        .flatten()
                        .collect();
                bail!(
                    "PostgreSQL mode needs {} (base64 of 32 random bytes, the same on every \
                     instance); generate one with: head -c 32 /dev/urandom | base64",
                    missing.join(" and ")
                );
            }
            (Backend::Sqlite, s, v) => {
                let file = KeyFile::load_or_create(&key_file_path(&self.database_url))?;
                (s.unwrap_or(file.secret_key), v.unwrap_or(file.vault_key))
            }
        };
        let public_url =
            self.public_url.unwrap_or_else(|| format!("http://{}", self.bind)).trim_end_matches('/').to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            bail!("PAYLINK_PUBLIC_URL must start with http:// or https://");
        }
        if self.session_idle_minutes == 0 {
            bail!("PAYLINK_SESSION_IDLE_MINUTES must be at least 1");
        }
        if self.login_rate_per_ip == 0 || self.login_rate_per_login == 0 {
            bail!("login rate limits must be at least 1 per minute");
        }
        Ok(Settings {
            bind: self.bind,
            public_url,
            backend,
            database_url: self.database_url,
            secret_key,
            vault_key,
            vault_previous_keys,
            smtp_url: self.smtp_url.filter(|s| !s.is_empty()),
            sms_gateway_url: self.sms_gateway_url.filter(|s| !s.is_empty()),
            mail_from: self.mail_from.trim().to_string(),
            log_format: self.log_format,
            session_idle_minutes: self.session_idle_minutes,
            login_rate_per_ip: self.login_rate_per_ip,
            login_rate_per_login: self.login_rate_per_login,
            pay_rate_per_ip: self.pay_rate_per_ip.max(1),
            db_pool_size: self.db_pool_size.max(2),
            body_timeout_secs: self.body_timeout_secs.max(1),
            acquirer_timeout_ms: self.acquirer_timeout_ms.max(1),
            worker_tick_ms: self.worker_tick_ms.max(10),
            webhook_allow_private: self.webhook_allow_private,
            data_dir,
        })
    }
}

impl Settings {
    /// The card vault's keys: the current one, then the previous ones.
    pub fn keyring(&self) -> Keyring {
        let previous: Vec<Vec<u8>> = self.vault_previous_keys.iter().map(|k| k.expose().to_vec()).collect();
        Keyring::new(self.vault_key.expose(), &previous)
    }

    /// E-mails are written as `.eml` files under [`Settings::eml_dir`] instead of sent: no
    /// SMTP server is configured.
    pub fn emails_to_files(&self) -> bool {
        self.smtp_url.is_none()
    }

    pub fn eml_dir(&self) -> std::path::PathBuf {
        self.data_dir.join("outbox")
    }

    /// The file the e-mail job `id` is written to.
    pub fn eml_path(&self, id: i64) -> std::path::PathBuf {
        self.eml_dir().join(format!("email-{id}.eml"))
    }

    /// Whether cookies may omit `Secure` (plain HTTP on a loopback address only).
    pub fn cookies_secure(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    pub fn body_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.body_timeout_secs))
    }

    pub fn acquirer_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.acquirer_timeout_ms)
    }

    /// Time between two rounds of the background worker.
    pub fn worker_tick(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.worker_tick_ms)
    }
}

/// `paylink.db` → `paylink.keys` beside it.
pub fn key_file_path(database_url: &str) -> PathBuf {
    let db = Path::new(database_url.trim_start_matches("sqlite://"));
    db.with_extension("keys")
}

struct KeyFile {
    secret_key: Secret,
    vault_key: Secret,
}

impl KeyFile {
    fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        if path.exists() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the key file {}", path.display()))?;
            let mut secret = None;
            let mut vault = None;
            for line in text.lines() {
                match line.split_once('=') {
                    Some(("PAYLINK_SECRET_KEY", v)) => secret = Some(Secret::parse("PAYLINK_SECRET_KEY", v, 32)?),
                    Some(("PAYLINK_VAULT_KEY", v)) => vault = Some(Secret::parse("PAYLINK_VAULT_KEY", v, 32)?),
                    _ => {}
                }
            }
            return match (secret, vault) {
                (Some(secret_key), Some(vault_key)) => Ok(KeyFile { secret_key, vault_key }),
                _ => bail!("the key file {} is incomplete", path.display()),
            };
        }
        let file = KeyFile { secret_key: Secret::generate(), vault_key: Secret::generate() };
        let body = format!(
            "# paylink keys, generated at first start. Keep this file: without it, sessions\n\
             # end and saved cards cannot be read.\nPAYLINK_SECRET_KEY={}\nPAYLINK_VAULT_KEY={}\n",
            file.secret_key.encode(),
            file.vault_key.encode()
        );
        write_private(path, body.as_bytes())
            .with_context(|| format!("cannot write the key file {}", path.display()))?;
        Ok(file)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, body: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(body)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, body: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, body)
}

/// Parses settings from flags as the binary would (environment included), for tests and tools.
pub fn parse_args<I, T>(args: I) -> Result<RawSettings, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::Parser;
    #[derive(Parser)]
    struct Only {
        #[command(flatten)]
        settings: RawSettings,
    }
    Only::try_parse_from(std::iter::once(std::ffi::OsString::from("paylink")).chain(args.into_iter().map(Into::into)))
        .map(|o| o.settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        settings: RawSettings,
    }

    fn parse(args: &[&str]) -> RawSettings {
        let mut all = vec!["paylink"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap().settings
    }

    #[test]
    fn embedded_defaults_generate_a_private_key_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("paylink.db");
        let db = db.to_str().unwrap();
        let first = parse(&["--database-url", db]).resolve().unwrap();
        let second = parse(&["--database-url", db]).resolve().unwrap();
        assert_eq!(first.secret_key.expose(), second.secret_key.expose());
        assert_ne!(first.secret_key.expose(), first.vault_key.expose());
        let meta = std::fs::metadata(dir.path().join("paylink.keys")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(first.public_url, "http://127.0.0.1:8080");
        assert_eq!(first.backend, Backend::Sqlite);
        assert_eq!(first.worker_tick(), std::time::Duration::from_secs(5), "the worker's default round");
    }

    #[test]
    fn postgres_mode_refuses_missing_secrets_by_name() {
        let err = parse(&["--database-url", "postgres://localhost/paylink"]).resolve().err().unwrap();
        let msg = err.to_string();
        assert!(msg.contains("PAYLINK_SECRET_KEY") && msg.contains("PAYLINK_VAULT_KEY"), "{msg}");
        let key = "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=";
        let err = parse(&["--database-url", "postgres://x/y", "--secret-key", key]).resolve().err().unwrap();
        assert!(!err.to_string().contains("PAYLINK_SECRET_KEY and"), "{err}");
        let ok =
            parse(&["--database-url", "postgres://x/y", "--secret-key", key, "--vault-key", key]).resolve().unwrap();
        assert_eq!(ok.backend, Backend::Postgres);
    }

    #[test]
    fn bad_values_are_refused_with_the_setting_name() {
        let err = parse(&["--secret-key", "not base64!!"]).resolve().err().unwrap();
        assert!(err.to_string().contains("PAYLINK_SECRET_KEY"));
        let err = parse(&["--secret-key", "c2hvcnQ="]).resolve().err().unwrap();
        assert!(err.to_string().contains("32 bytes"));
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("p.db");
        let err = parse(&["--database-url", db.to_str().unwrap(), "--public-url", "ftp://x"]).resolve().err().unwrap();
        assert!(err.to_string().contains("PAYLINK_PUBLIC_URL"));
        assert!(Cli::try_parse_from(["paylink", "--bind", "nowhere"]).is_err());
        assert!(Cli::try_parse_from(["paylink", "--log-format", "xml"]).is_err());
    }

    #[test]
    fn previous_vault_keys_still_open_what_they_sealed() {
        let (old, new) =
            ("MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=");
        let pg = ["--database-url", "postgres://x/y", "--secret-key", old, "--vault-key", new];
        let sealed = parse(&[&pg[..4], &["--vault-key", old]].concat()).resolve().unwrap().keyring().seal("vt_1", b"4");
        let listed = format!("{old}, ");
        let keys = parse(&[&pg[..], &["--vault-previous-keys", &listed]].concat()).resolve().unwrap().keyring();
        assert_ne!(keys.current_id(), sealed.key_id);
        assert_eq!(keys.open("vt_1", &sealed).unwrap(), b"4");
        let err = parse(&[&pg[..], &["--vault-previous-keys", &format!("{old},c2hvcnQ=")]].concat()).resolve();
        assert!(err.err().unwrap().to_string().contains("PAYLINK_VAULT_PREVIOUS_KEYS"));
    }

    #[test]
    fn key_file_sits_beside_the_database() {
        assert_eq!(key_file_path("data/paylink.db"), PathBuf::from("data/paylink.keys"));
        assert_eq!(key_file_path("paylink.db"), PathBuf::from("paylink.keys"));
    }
}
