//! The SurrealDB connection and the migrations applied at start-up.

use anyhow::{Context, bail};
use app::db::Db;
use surrealdb::{
    engine::any::connect,
    opt::{Config as DbOptions, auth::Root},
    types::SurrealValue,
};

use crate::config::DatabaseConfig;

/// Migrations, in order. Append-only: a shipped file never changes, the next one is added.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "accounts",
        include_str!("../migrations/0001_accounts.surql"),
    ),
    (
        2,
        "outbox_delivery",
        include_str!("../migrations/0002_outbox_delivery.surql"),
    ),
    (
        3,
        "courses",
        include_str!("../migrations/0003_courses.surql"),
    ),
    (
        4,
        "exercises",
        include_str!("../migrations/0004_exercises.surql"),
    ),
    (5, "rooms", include_str!("../migrations/0005_rooms.surql")),
    (
        6,
        "mentoring",
        include_str!("../migrations/0006_mentoring.surql"),
    ),
    (
        7,
        "pairing",
        include_str!("../migrations/0007_pairing.surql"),
    ),
    (
        8,
        "progress",
        include_str!("../migrations/0008_progress.surql"),
    ),
    (
        9,
        "progress_aggregates",
        include_str!("../migrations/0009_progress_aggregates.surql"),
    ),
    (
        10,
        "hardening",
        include_str!("../migrations/0010_hardening.surql"),
    ),
    (
        11,
        "verification",
        include_str!("../migrations/0011_verification.surql"),
    ),
    (
        12,
        "notify",
        include_str!("../migrations/0012_notify.surql"),
    ),
    (
        13,
        "password reset",
        include_str!("../migrations/0013_password_reset.surql"),
    ),
    (14, "forum", include_str!("../migrations/0014_forum.surql")),
    (
        15,
        "forum exercise",
        include_str!("../migrations/0015_forum_exercise.surql"),
    ),
    (
        16,
        "privacy",
        include_str!("../migrations/0016_privacy.surql"),
    ),
    (
        17,
        "email change",
        include_str!("../migrations/0017_email_change.surql"),
    ),
    (18, "admin", include_str!("../migrations/0018_admin.surql")),
    (
        19,
        "mentor applications",
        include_str!("../migrations/0019_mentor_applications.surql"),
    ),
    (
        20,
        "consent",
        include_str!("../migrations/0020_consent.surql"),
    ),
    (
        21,
        "python exercises",
        include_str!("../migrations/0021_python_exercises.surql"),
    ),
    (
        22,
        "room relay",
        include_str!("../migrations/0022_room_relay.surql"),
    ),
];

/// Opens the database named by the configuration: embedded SurrealKV (every commit synced to
/// disk before it is acknowledged), in-memory, or a SurrealDB server over WebSocket.
pub async fn connect_db(cfg: &DatabaseConfig) -> anyhow::Result<Db> {
    let url = durable_url(&cfg.url);
    if let Some(dir) = url
        .strip_prefix("surrealkv://")
        .map(|p| p.split('?').next().unwrap_or(p))
        && let Some(parent) = std::path::Path::new(dir).parent()
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating the data directory {}", parent.display()))?;
    }
    let db = connect((url.clone(), DbOptions::new()))
        .await
        .with_context(|| format!("connecting to the database at {}", redact(&url)))?;
    if url.starts_with("ws://") || url.starts_with("wss://") {
        let (Some(user), Some(password)) = (&cfg.user, &cfg.password) else {
            bail!("PAIRWISE_DATABASE_USER and PAIRWISE_DATABASE_PASSWORD are needed for {url}");
        };
        db.signin(Root {
            username: user.clone(),
            password: password.expose().to_string(),
        })
        .await
        .context("signing in to the database server")?;
    }
    db.use_ns(&cfg.namespace)
        .use_db(&cfg.name)
        .await
        .context("selecting the database namespace")?;
    Ok(Db::new(db))
}

/// SurrealKV syncs every commit by default; saying so in the URL keeps it that way even if a
/// future default changes. An explicit `sync=` from the operator wins.
fn durable_url(url: &str) -> String {
    if url.starts_with("surrealkv://") && !url.contains("sync=") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}sync=every")
    } else {
        url.to_string()
    }
}

fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((_, host)) => format!("…@{host}"),
        None => url.to_string(),
    }
}

#[derive(Debug, SurrealValue)]
struct Applied {
    version: i64,
}

/// The newest schema version this binary knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |(v, _, _)| *v)
}

/// A database that a newer Pairwise has already migrated holds tables and fields this binary
/// does not know; writing to it could lose their data, and migrations never run backwards. So
/// an older binary refuses to start on it instead of serving half of it.
fn check_not_newer(applied: &[Applied]) -> anyhow::Result<()> {
    let known = latest_version();
    if let Some(newest) = applied.iter().map(|a| a.version).max()
        && newest > known
    {
        bail!(
            "this database was written by a newer Pairwise (schema version {newest}; this program \
             knows versions up to {known}). Run the newer Pairwise again, or restore a backup made \
             by this version into an empty data directory. Nothing was changed."
        );
    }
    Ok(())
}

/// Applies every migration not yet recorded, each in one transaction with its record.
/// Returns how many were applied.
/// Connects and brings the schema up to date. App servers starting at once on a fresh
/// database server contend for the same first writes (the namespace, the migration table, each
/// migration); the losers' transactions wrote nothing and say they can be retried, so they are,
/// for up to half a minute, until every server finds the work done.
pub async fn open_and_migrate(cfg: &DatabaseConfig) -> anyhow::Result<(Db, usize)> {
    let started = std::time::Instant::now();
    let mut wait = std::time::Duration::from_millis(50);
    loop {
        let attempt = async {
            let db = connect_db(cfg).await?;
            let applied = migrate(&db).await?;
            anyhow::Ok((db, applied))
        }
        .await;
        match attempt {
            Err(e)
                if format!("{e:#}").contains("can be retried")
                    && started.elapsed() < std::time::Duration::from_secs(30) =>
            {
                tracing::info!(error = %format!("{e:#}"), "another server is setting up the database: trying again");
                // Jittered, so two servers that collided do not collide again in step.
                let jitter = rand::random_range(0..=wait.as_millis() as u64);
                tokio::time::sleep(wait + std::time::Duration::from_millis(jitter)).await;
                wait = (wait * 2).min(std::time::Duration::from_secs(1));
            }
            other => return other,
        }
    }
}

/// Whether migration `version` is recorded as applied (read again after ours failed).
async fn applied_by_another(db: &Db, version: i64) -> bool {
    let Ok(mut res) = db
        .query("SELECT version FROM migration WHERE version = $version")
        .bind(("version", version))
        .await
    else {
        return false;
    };
    res.take::<Vec<Applied>>(0)
        .is_ok_and(|rows| !rows.is_empty())
}

pub async fn migrate(db: &Db) -> anyhow::Result<usize> {
    db.query(
        "DEFINE TABLE IF NOT EXISTS migration SCHEMAFULL;
         DEFINE FIELD IF NOT EXISTS version ON migration TYPE int;
         DEFINE FIELD IF NOT EXISTS name ON migration TYPE string;
         DEFINE FIELD IF NOT EXISTS applied_at ON migration TYPE datetime;
         DEFINE INDEX IF NOT EXISTS migration_version ON migration FIELDS version UNIQUE;",
    )
    .await
    .and_then(|r| r.check())
    .context("creating the migration table")?;
    let mut res = db
        .query("SELECT version FROM migration ORDER BY version")
        .await
        .context("reading applied migrations")?;
    let applied: Vec<Applied> = res.take(0).context("reading applied migrations")?;
    check_not_newer(&applied)?;
    let mut count = 0;
    for (version, name, sql) in MIGRATIONS {
        if applied.iter().any(|a| a.version == *version) {
            continue;
        }
        let query = format!(
            "BEGIN TRANSACTION;\n{sql}\nCREATE migration CONTENT {{ version: $version, name: $name, applied_at: time::now() }};\nCOMMIT TRANSACTION;"
        );
        let outcome = db
            .query(query)
            .bind(("version", *version))
            .bind(("name", name.to_string()))
            .await
            .map_err(anyhow::Error::from)
            .and_then(|mut r| match first_cause(r.take_errors()) {
                Some(e) => Err(e),
                None => Ok(()),
            });
        if let Err(e) = outcome {
            // Several app servers starting at once on one database server race to apply the
            // same migration; the transaction of all but one fails (the version is unique) and
            // wrote nothing. The migration is then in place, applied by another server.
            if applied_by_another(db, *version).await {
                tracing::info!(version, name, "migration applied by another server");
                continue;
            }
            return Err(e.context(format!("applying migration {version:04}_{name}")));
        }
        tracing::info!(version, name, "migration applied");
        count += 1;
    }
    // A migration may mark courses whose progress aggregates must be counted from the records
    // (the mark is committed with the migration, so an interruption here is finished later
    // by the jobs).
    let started = std::time::Instant::now();
    let counted = app::courses::repo::recount_all(db, true)
        .await
        .map_err(|e| anyhow::anyhow!("counting progress aggregates: {e}"))?;
    if counted > 0 {
        tracing::info!(
            courses = counted,
            ms = started.elapsed().as_millis() as u64,
            "progress aggregates counted"
        );
    }
    Ok(count)
}

/// The statement that failed a transaction: the others only report that they were not run
/// because of it, which tells an operator nothing.
fn first_cause(
    errors: std::collections::HashMap<usize, surrealdb::Error>,
) -> Option<anyhow::Error> {
    let mut errors: Vec<_> = errors.into_iter().collect();
    errors.sort_by_key(|(i, _)| *i);
    let cause = errors
        .iter()
        .position(|(_, e)| !e.message().contains("failed transaction"))
        .unwrap_or(0);
    (!errors.is_empty()).then(|| {
        let (i, e) = errors.swap_remove(cause);
        anyhow::anyhow!("statement {i}: {e}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_urls_ask_for_a_sync_on_every_commit() {
        assert_eq!(
            durable_url("surrealkv://data/db"),
            "surrealkv://data/db?sync=every"
        );
        assert_eq!(
            durable_url("surrealkv://d?sync=5s"),
            "surrealkv://d?sync=5s"
        );
        assert_eq!(durable_url("mem://"), "mem://");
    }

    #[tokio::test]
    async fn migrations_apply_once_and_enforce_the_schema() -> anyhow::Result<()> {
        let cfg = DatabaseConfig {
            url: "mem://".into(),
            user: None,
            password: None,
            namespace: "t".into(),
            name: "migrate".into(),
        };
        let db = connect_db(&cfg).await?;
        assert_eq!(migrate(&db).await?, MIGRATIONS.len());
        assert_eq!(migrate(&db).await?, 0);
        // A user whose email is not lower case, or without an Argon2id hash, is refused.
        let bad = db
            .query("CREATE user CONTENT { email: 'Ada@Example.org', display_name: 'Ada', password_hash: 'x', roles: ['learner'], created_at: time::now(), updated_at: time::now() }")
            .await?
            .check();
        assert!(bad.is_err());
        Ok(())
    }

    #[tokio::test]
    async fn a_database_from_a_newer_schema_is_refused_and_left_alone() -> anyhow::Result<()> {
        let cfg = DatabaseConfig {
            url: "mem://".into(),
            user: None,
            password: None,
            namespace: "t".into(),
            name: "newer".into(),
        };
        let db = connect_db(&cfg).await?;
        migrate(&db).await?;
        let future = latest_version() + 1;
        db.query("CREATE migration CONTENT { version: $v, name: 'from_the_future', applied_at: time::now() }")
            .bind(("v", future))
            .await?
            .check()?;
        let err = migrate(&db).await.expect_err("a newer schema is refused");
        let words = format!("{err:#}");
        assert!(
            words.contains(&format!("schema version {future}"))
                && words.contains(&format!("up to {}", latest_version())),
            "{words}"
        );
        let mut res = db
            .query("SELECT VALUE version FROM migration ORDER BY version")
            .await?;
        let versions: Vec<i64> = res.take(0)?;
        assert_eq!(
            versions.len(),
            MIGRATIONS.len() + 1,
            "nothing was applied or removed"
        );
        Ok(())
    }
}
