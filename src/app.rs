//! Starting the application: database, migrations, demo merchant, HTTP server, worker.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::ServerHandle;
use anyhow::Context;
use tokio::sync::watch;

use crate::acquirer::Acquirers;
use crate::config::Settings;
use crate::db::Db;
use crate::delivery::Worker;
use crate::domain::clock::SharedClock;
use crate::services::{Env, idempotency, merchants};
use crate::web;

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub db: Db,
    pub handle: ServerHandle,
    pub server: actix_web::rt::task::JoinHandle<std::io::Result<()>>,
    /// The worker of this server (running in the background only with `run_worker`).
    pub worker: Arc<Worker>,
    /// The background worker's task (with `run_worker`) and its stop signal.
    background: Option<(watch::Sender<bool>, actix_web::rt::task::JoinHandle<()>)>,
    /// This process's instance id, and the task that beats for it.
    pub instance: String,
    heart: actix_web::rt::task::JoinHandle<()>,
}

impl Running {
    /// Stops the background worker: it finishes the round under way, closes its mail
    /// transport, and its task is awaited. Then closes this server's own worker's transport.
    /// Await it inside the runtime, before the runtime goes away.
    pub async fn stop_worker(&mut self) {
        if let Some((stop, task)) = self.background.take() {
            let _ = stop.send(true);
            if let Err(error) = task.await {
                tracing::warn!(%error, "the worker task failed");
            }
        }
        self.worker.shutdown().await;
        self.heart.abort();
    }
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
    let acquirers = Arc::new(Acquirers::standard(settings.acquirer_timeout()));
    start_with_acquirers(settings, db, clock, listener, run_worker, acquirers)
}

/// [`start_with_db`] with these acquirers (tests install fake ones).
pub fn start_with_acquirers(
    settings: Settings,
    db: Db,
    clock: SharedClock,
    listener: TcpListener,
    run_worker: bool,
    acquirers: Arc<Acquirers>,
) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    let settings = Arc::new(settings);
    let env = Env {
        db: db.clone(),
        clock: clock.clone(),
        acquirers: acquirers.clone(),
        vault: Arc::new(settings.keyring()),
        public_url: settings.public_url.as_str().into(),
    };
    let worker = Arc::new(Worker::new(env.clone(), settings.clone())?);
    // This process's identity for its idempotency claims, alive while it beats.
    let instance = crate::domain::text::random_token(12);
    let (beat_name, now) = (instance.clone(), clock.now_naive());
    db.write_blocking(|conn| idempotency::beat(conn, &beat_name, now))?;
    let heart = actix_web::rt::spawn(idempotency::keep_alive(db.clone(), clock.clone(), instance.clone()));
    let state = web::AppState::new(settings, env.clone(), instance.clone());
    let server = web::server(state, listener)?;
    let handle = server.handle();
    let server = actix_web::rt::spawn(server);
    let background = if run_worker {
        let background = Worker::new(env, state_settings(&worker))?;
        let (stop, stopped) = watch::channel(false);
        Some((stop, actix_web::rt::spawn(background.run(stopped))))
    } else {
        None
    };
    Ok(Running { addr, db, handle, server, worker, background, instance, heart })
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
    let mut running = start_with_db(settings, db, clock, listener, true)?;
    tracing::info!(addr = %running.addr, backend, "paylink is listening");
    println!("paylink is running: open {public_url}/login");
    // Returns on SIGTERM / SIGINT once actix has stopped accepting and drained its requests
    // (graceful shutdown, `shutdown_timeout`); the worker is stopped after it, and everything
    // holding the SMTP pool is dropped here, inside the runtime.
    let served = (&mut running.server).await;
    tracing::info!("paylink is stopping");
    running.stop_worker().await;
    drop(running);
    tracing::info!("paylink stopped: requests drained, worker stopped, mail transport closed");
    served.context("server task failed")?.context("server failed")
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
