//! Starting the application: database, migrations, demo merchant, HTTP server, worker.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::ServerHandle;
use anyhow::Context;

use crate::config::Settings;
use crate::db::Db;
use crate::delivery::Worker;
use crate::domain::clock::SharedClock;
use crate::services::merchants;
use crate::web;

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub db: Db,
    pub handle: ServerHandle,
    pub server: actix_web::rt::task::JoinHandle<std::io::Result<()>>,
    /// The worker of this server (running in the background only with `run_worker`).
    pub worker: Arc<Worker>,
}

/// Opens the database and applies pending migrations.
pub fn open_db(settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::connect(&settings.database_url, settings.db_pool_size)
        .with_context(|| format!("cannot open the {} database", settings.backend.name()))?;
    let applied = db.migrate()?;
    for name in applied {
        tracing::info!(migration = %name, "migration applied");
    }
    Ok(db)
}

/// Starts the server on `listener` (port 0 in tests). With `run_worker`, the background
/// worker runs in the same process; tests leave it off and call `worker::run_once`.
pub fn start(
    settings: Settings,
    clock: SharedClock,
    listener: TcpListener,
    run_worker: bool,
) -> anyhow::Result<Running> {
    let db = open_db(&settings)?;
    start_with_db(settings, db, clock, listener, run_worker)
}

pub fn start_with_db(
    settings: Settings,
    db: Db,
    clock: SharedClock,
    listener: TcpListener,
    run_worker: bool,
) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    let settings = Arc::new(settings);
    let worker = Arc::new(Worker::new(db.clone(), clock.clone(), settings.clone())?);
    let state = web::AppState::new(settings, db.clone(), clock.clone());
    let server = web::server(state, listener)?;
    let handle = server.handle();
    let server = actix_web::rt::spawn(server);
    if run_worker {
        let background = Worker::new(db.clone(), clock, state_settings(&worker))?;
        actix_web::rt::spawn(background.run());
    }
    Ok(Running { addr, db, handle, server, worker })
}

/// `paylink serve`: what `cargo run --release` does.
pub async fn serve(settings: Settings, clock: SharedClock) -> anyhow::Result<()> {
    let db = open_db(&settings)?;
    if let Some(demo) = merchants::ensure_demo(&db, clock.as_ref())? {
        print_demo(&settings, &demo);
    }
    let listener = TcpListener::bind(settings.bind)
        .with_context(|| format!("cannot listen on {} (PAYLINK_BIND)", settings.bind))?;
    let public_url = settings.public_url.clone();
    let backend = settings.backend.name();
    let running = start_with_db(settings, db, clock, listener, true)?;
    tracing::info!(addr = %running.addr, backend, "paylink is listening");
    println!("paylink is running: open {public_url}/login");
    running.server.await.context("server task failed")?.context("server failed")
}

fn print_demo(settings: &Settings, demo: &merchants::CreatedMerchant) {
    println!(
        "\n  A demo merchant was created (first start on an empty database).\n\
         \n    Log in at            {}/login\
         \n    Login                {}\
         \n    Temporary password   {}\
         \n    First-login code     {}\
         \n\n  You will then choose your own password.\
         \n  Shop API keys (shown once): TEST {}  PRODUCTION {}\n",
        settings.public_url,
        demo.login,
        demo.temporary_password,
        merchants::DEMO_FIRST_LOGIN_CODE,
        demo.test_api_key,
        demo.production_api_key,
    );
}

fn state_settings(worker: &Worker) -> Arc<Settings> {
    worker.settings()
}
