//! The database: one code base over SQLite (embedded) and PostgreSQL (production) through a
//! diesel `MultiConnection`, picked from the URL scheme rather than by trial.
//!
//! SQLite runs with WAL, `synchronous=FULL` (it holds money), foreign keys and a busy timeout.
//! All writes go through a one-connection pool so that a deferred transaction can never fail
//! to upgrade its lock; reads use a wider pool. PostgreSQL uses one pool for both.
//! Every call runs on actix's blocking thread pool, never on an async worker, but for
//! `read_short`: a lookup by key on SQLite (the pay page, the session and signed-in user of
//! every back-office page, the API key), cheaper done in place than handed over.

pub mod schema;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs `$body` on the connection's own backend, `$c` naming the inner connection. Through
/// the `MultiConnection`, a query is turned into SQL text twice at every execution, even when
/// its statement is cached: that was half the cost of a lookup by key. On the inner
/// connection the statement cache skips it. For the hottest lookups only (the body is
/// compiled once per backend).
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_backend;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("the blocking thread pool is gone")]
    Blocking,
}

struct Manager {
    url: String,
    backend: Backend,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match self.backend {
            Backend::Postgres => {
                diesel::PgConnection::establish(&self.url).map(DbConn::Postgres).map_err(r2d2::Error::ConnectionError)
            }
            Backend::Sqlite => {
                let path = self.url.trim_start_matches("sqlite://");
                let mut conn = diesel::SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000;
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = FULL;
                     PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

type DbPool = Pool<Manager>;

#[derive(Clone)]
pub struct Db {
    read: DbPool,
    write: DbPool,
    backend: Backend,
}

impl Db {
    pub fn connect(url: &str, pool_size: u32) -> Result<Self, DbError> {
        let backend = Backend::from_url(url);
        let build = |size: u32| {
            // No `SELECT 1` at each checkout: it doubled the cost of a small read, and a
            // broken connection shows itself on its first real query anyway.
            Pool::builder()
                .max_size(size)
                .test_on_check_out(false)
                .connection_timeout(std::time::Duration::from_secs(10))
                .build(Manager { url: url.to_string(), backend })
        };
        let (read, write) = match backend {
            Backend::Postgres => {
                let pool = build(pool_size)?;
                (pool.clone(), pool)
            }
            // The write pool opens the file first, so WAL is on before the readers connect.
            Backend::Sqlite => {
                let write = build(1)?;
                (build(pool_size)?, write)
            }
        };
        Ok(Db { read, write, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs a read on the blocking pool.
    pub async fn read<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.read.clone();
        run_blocking(move || f(&mut *pool.get().map_err(DbError::from)?)).await
    }

    /// Runs a short read (a lookup by key) on the calling thread when that is cheaper: on
    /// SQLite, with a read connection idle. In WAL mode such a read never waits for a writer
    /// and takes a few microseconds, less than the hand-off to the blocking pool and back,
    /// which cost the pay page two thirds of its throughput. PostgreSQL (a network round
    /// trip) and a busy pool go through `read`. Never for scans or list pages.
    pub async fn read_short<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        if self.backend == Backend::Sqlite
            && let Some(mut conn) = self.read.try_get()
        {
            return f(&mut conn);
        }
        self.read(f).await
    }

    /// Runs `f` inside one write transaction on the blocking pool.
    pub async fn write<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    {
        let pool = self.write.clone();
        run_blocking(move || {
            let mut pooled = pool.get().map_err(DbError::from)?;
            let conn: &mut DbConn = &mut pooled;
            conn.transaction(f)
        })
        .await
    }

    /// Blocking variants for the CLI and tests, outside the async runtime.
    pub fn write_blocking<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DbError> + From<diesel::result::Error>,
    {
        let mut pooled = self.write.get().map_err(DbError::from)?;
        let conn: &mut DbConn = &mut pooled;
        conn.transaction(f)
    }

    pub fn read_blocking<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DbError>,
    {
        let mut conn = self.read.get().map_err(DbError::from)?;
        f(&mut conn)
    }

    /// Applies pending migrations; returns the names applied. Several PostgreSQL instances
    /// starting together serialise on an advisory lock.
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self.write.get()?;
        let applied = match &mut *conn {
            DbConn::Sqlite(c) => c
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
                .iter()
                .map(ToString::to_string)
                .collect(),
            DbConn::Postgres(c) => {
                c.batch_execute("SELECT pg_advisory_lock(7274651)")?;
                let result = c
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>())
                    .map_err(|e| anyhow::anyhow!("migration failed: {e}"));
                c.batch_execute("SELECT pg_advisory_unlock(7274651)")?;
                result?
            }
        };
        Ok(applied)
    }

    pub async fn ping(&self) -> bool {
        self.read(|c| c.batch_execute("SELECT 1").map_err(DbError::from)).await.is_ok()
    }
}

async fn run_blocking<T, E>(f: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    match actix_web::rt::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(_) => Err(DbError::Blocking.into()),
    }
}

/// True when a diesel error is a unique-constraint violation on either backend.
pub fn is_unique_violation(err: &diesel::result::Error) -> bool {
    matches!(err, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = Text)]
        compile_options: String,
    }

    /// The options `.cargo/config.toml` gives the bundled SQLite. Without QPSG every query
    /// with a bound LIMIT is compiled again at each execution.
    #[test]
    fn bundled_sqlite_is_built_with_the_options_of_cargo_config() {
        let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        for wanted in ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0"] {
            assert!(options.iter().any(|o| o == wanted), "SQLite lacks {wanted}: {options:?}");
        }
    }
}
