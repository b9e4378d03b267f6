//! The command line (DESIGN §4): `serve` (default), `migrate`, `create-merchant`,
//! `unlock-user`, `reset-password`, `rotate-vault-key`.

use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::config::{LogFormat, RawSettings};
use crate::domain::clock::{SharedClock, SystemClock};
use crate::services::{ServiceError, merchants, users, vault};
use crate::store::audit::Actor;

#[derive(Parser)]
#[command(name = "paylink", version, about = "Self-hosted payment links")]
pub struct Cli {
    #[command(flatten)]
    pub settings: RawSettings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a company, its first shop and admin user; prints one JSON object.
    CreateMerchant {
        #[arg(long)]
        company: String,
        #[arg(long)]
        shop: String,
        #[arg(long)]
        login: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        first_login_code: String,
    },
    /// Unlock a user locked after failed logins.
    UnlockUser { login: String },
    /// Give a user a new temporary password; the next login asks the first-login code again.
    ResetPassword { login: String },
    /// Re-encrypt the card vault and the SMS gateway passwords under PAYLINK_VAULT_KEY, the
    /// keys they were under being in PAYLINK_VAULT_PREVIOUS_KEYS; prints one JSON object.
    /// Safe to stop and run again: it resumes where it stopped.
    RotateVaultKey {
        /// Card records re-encrypted per transaction.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(i64).range(1..))]
        batch: i64,
        /// Stops after this many batches, as an interrupted run would (for tests).
        #[arg(long, hide = true)]
        max_batches: Option<usize>,
    },
}

pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("PAYLINK_LOG").unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn explain(err: ServiceError) -> anyhow::Error {
    match err {
        ServiceError::Invalid(fields) => {
            let list: Vec<String> =
                fields.iter().map(|f| format!("--{}: {}", f.field.replace('_', "-"), f.code)).collect();
            anyhow::anyhow!("refused: {}", list.join(", "))
        }
        ServiceError::NotFound => anyhow::anyhow!("no such user"),
        other => anyhow::anyhow!(other),
    }
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings.resolve()?;
    init_tracing(settings.log_format);
    let clock: SharedClock = Arc::new(SystemClock);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(crate::app::serve(settings, clock)),
        Command::Migrate => {
            let db = crate::app::open_db(&settings)?;
            drop(db);
            eprintln!("migrations are up to date");
            Ok(())
        }
        Command::CreateMerchant { company, shop, login, email, first_login_code } => {
            let db = crate::app::open_db(&settings)?;
            let new = merchants::NewMerchant::parse(&company, &shop, &login, &email, &first_login_code)
                .map_err(|e| explain(ServiceError::Invalid(e)))?;
            let created = db.write_blocking(|conn| merchants::create(conn, clock.as_ref(), &new)).map_err(explain)?;
            println!("{}", serde_json::to_string(&created)?);
            Ok(())
        }
        Command::UnlockUser { login } => {
            let db = crate::app::open_db(&settings)?;
            db.write_blocking(|conn| users::unlock(conn, clock.as_ref(), &Actor::cli(), &login)).map_err(explain)?;
            println!("{login} is unlocked");
            Ok(())
        }
        Command::ResetPassword { login } => {
            let db = crate::app::open_db(&settings)?;
            let temporary = db
                .write_blocking(|conn| users::reset_password(conn, clock.as_ref(), &Actor::cli(), &login))
                .map_err(explain)?;
            println!("temporary password for {login}: {temporary}\n(the next login asks for the first-login code)");
            Ok(())
        }
        Command::RotateVaultKey { batch, max_batches } => {
            let db = crate::app::open_db(&settings)?;
            let keys = Arc::new(settings.keyring());
            let rotation = actix_web::rt::System::new()
                .block_on(vault::rotate(&db, &clock, keys, batch, max_batches))
                .map_err(explain)?;
            println!("{}", serde_json::to_string(&rotation)?);
            if rotation.unreadable > 0 || rotation.sms_unreadable > 0 {
                anyhow::bail!(
                    "unreadable after the rotation: {} card records, {} SMS passwords; no key of \
                     PAYLINK_VAULT_KEY or PAYLINK_VAULT_PREVIOUS_KEYS opens them; they are kept as \
                     they were, so run again once their key is among the previous keys",
                    rotation.unreadable,
                    rotation.sms_unreadable
                );
            }
            Ok(())
        }
    }
}
