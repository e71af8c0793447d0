use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

use crate::StoreError;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static MYSQL_MIGRATIONS: Migrator = sqlx::migrate!("migrations/mysql");

/// The SQL dialect behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Embedded SQLite (`sqlite://PATH`).
    Sqlite,
    /// MySQL 8, MariaDB 10.6+, RDS and Aurora MySQL (`mysql://…`).
    Mysql,
}

impl Dialect {
    pub fn from_url(url: &str) -> Option<Dialect> {
        if url.starts_with("sqlite:") {
            Some(Dialect::Sqlite)
        } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            Some(Dialect::Mysql)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone)]
pub struct DbOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// How long to keep retrying the first connection (a database that is
    /// still starting, or an RDS failover in progress).
    pub connect_retry_for: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            connect_retry_for: Duration::from_secs(30),
        }
    }
}

/// Whether the schema matches this binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationStatus {
    pub applied: Option<i64>,
    pub expected: i64,
}

impl MigrationStatus {
    pub fn up_to_date(&self) -> bool {
        self.applied == Some(self.expected)
    }
}

/// A pooled database handle. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    dialect: Dialect,
}

impl Db {
    /// Connect to `url`: `sqlite://PATH` (the file and its directory are
    /// created; WAL mode) or `mysql://user:pass@host:3306/db` (TLS with
    /// `?ssl-mode=VERIFY_IDENTITY&ssl-ca=/path/to/rds-bundle.pem`).
    /// Transient failures on the first connection are retried for
    /// `connect_retry_for`.
    pub async fn connect(url: &str, opts: &DbOptions) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let Some(dialect) = Dialect::from_url(url) else {
            return Err(StoreError::Database(sqlx::Error::Configuration(
                format!("unsupported database URL scheme in {}", redact_url(url)).into(),
            )));
        };
        let url = match dialect {
            Dialect::Sqlite => prepare_sqlite_url(url)?,
            Dialect::Mysql => url.replacen("mariadb://", "mysql://", 1),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let deadline = std::time::Instant::now() + opts.connect_retry_for;
        let mut delay = Duration::from_millis(200);
        loop {
            let attempt = AnyPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(opts.acquire_timeout)
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        match dialect {
                            Dialect::Sqlite => {
                                conn.execute(
                                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                                )
                                .await?;
                            }
                            Dialect::Mysql => {
                                // Wait briefly for row locks, then fail and
                                // let the caller retry, rather than piling up.
                                conn.execute("SET SESSION innodb_lock_wait_timeout = 10")
                                    .await?;
                            }
                        }
                        Ok(())
                    })
                })
                .connect_with(options.clone())
                .await;
            match attempt {
                Ok(pool) => return Ok(Db { pool, dialect }),
                Err(e) if is_transient(&e) && std::time::Instant::now() < deadline => {
                    tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "database not reachable yet; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn migrator(&self) -> &'static Migrator {
        match self.dialect {
            Dialect::Sqlite => &SQLITE_MIGRATIONS,
            Dialect::Mysql => &MYSQL_MIGRATIONS,
        }
    }

    /// Apply pending migrations. Safe with many replicas starting at once:
    /// on MySQL one instance holds a named lock (`GET_LOCK`, per database)
    /// while it migrates and the others wait for it, then find nothing to do.
    /// (sqlx's own migration lock uses `GET_LOCK(name, -1)`, which MariaDB
    /// answers at once with NULL instead of waiting, so runway takes its own.)
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.dialect {
            Dialect::Sqlite => self.migrator().run(&self.pool).await?,
            Dialect::Mysql => {
                let mut lock_conn = self.pool.acquire().await?;
                let got: Option<i64> = sqlx::query_scalar(
                    "SELECT GET_LOCK(CONCAT('runway_migrate:', DATABASE()), 600)",
                )
                .fetch_one(&mut *lock_conn)
                .await?;
                if got != Some(1) {
                    return Err(StoreError::Database(sqlx::Error::Configuration(
                        "timed out waiting for another instance's migrations".into(),
                    )));
                }
                // On the same connection: a pool of one must still work.
                let result = self.migrator().run_direct(&mut *lock_conn).await;
                let _ = sqlx::query("SELECT RELEASE_LOCK(CONCAT('runway_migrate:', DATABASE()))")
                    .execute(&mut *lock_conn)
                    .await;
                result?;
            }
        }
        Ok(())
    }

    /// The applied and expected schema versions (for readiness).
    pub async fn migration_status(&self) -> Result<MigrationStatus, StoreError> {
        let expected = self
            .migrator()
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or_default();
        let applied: Option<i64> = match sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1",
        )
        .fetch_one(&self.pool)
        .await
        {
            Ok(v) => v,
            // No migrations table yet: nothing applied.
            Err(sqlx::Error::Database(e)) if e.message().contains("_sqlx_migrations") => None,
            Err(e) => return Err(e.into()),
        };
        Ok(MigrationStatus { applied, expected })
    }

    /// A round trip to the database.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn prepare_sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:"
        && let Some(parent) = Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            StoreError::Database(sqlx::Error::Configuration(
                format!("cannot create {}: {e}", parent.display()).into(),
            ))
        })?;
    }
    let query = if query.is_empty() {
        "mode=rwc".to_string()
    } else if query.contains("mode=") {
        query.to_string()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// Errors worth retrying: the server is unreachable or restarting, or a
/// lock conflict (deadlock, lock wait timeout) that a second try resolves.
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        sqlx::Error::Tls(_) => false,
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
            .is_some_and(|m| {
                // deadlock, lock wait timeout, read-only (failover in
                // progress), too many connections, server shutting down.
                matches!(m.number(), 1213 | 1205 | 1290 | 1040 | 1053)
            }),
        _ => false,
    }
}

/// A lock conflict that retrying the whole transaction resolves (MySQL
/// deadlock or lock-wait timeout; SQLite busy).
pub fn is_conflict(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .is_some_and(|m| matches!(m.number(), 1213 | 1205))
                || db.code().as_deref() == Some("5")
        }
        _ => false,
    }
}

/// Run a transaction body again when it lost a lock conflict (up to 5 tries).
pub(crate) async fn retry_conflicts<T, F, Fut>(mut op: F) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let mut attempt = 0u32;
    loop {
        match op().await {
            Err(e) if attempt < 4 && is_conflict(&e) => {
                attempt += 1;
                tracing::debug!(error = %e, attempt, "transaction conflict; retrying");
                tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
            }
            other => return other,
        }
    }
}

/// A URL with its password removed, for messages.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://[redacted]@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn migrates_and_reports_status() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/runway.db", dir.path().display());
        let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
        let before = db.migration_status().await.unwrap();
        assert!(!before.up_to_date());
        db.migrate().await.unwrap();
        let after = db.migration_status().await.unwrap();
        assert!(after.up_to_date(), "{after:?}");
        // Idempotent.
        db.migrate().await.unwrap();
        db.ping().await.unwrap();
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("mysql://root:pw@db:3306/x"),
            "mysql://[redacted]@db:3306/x"
        );
        assert_eq!(redact_url("sqlite://./data/x.db"), "sqlite://./data/x.db");
    }
}
