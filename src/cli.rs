//! The command line (DESIGN §4): `serve` (default), `migrate`, `create-merchant`,
//! `unlock-user`, `reset-password`.

use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::config::{LogFormat, RawSettings};
use crate::domain::clock::{SharedClock, SystemClock};
use crate::services::{ServiceError, merchants, users};
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
    }
}
