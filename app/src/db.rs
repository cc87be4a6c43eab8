//! The ground floor of every repo (server only): the database handle, record ids, and how a
//! failed or contended write becomes an [`AppError`]. Feature repos import this module and
//! their own model, never another feature's repo.

use chrono::{DateTime, Utc};
use surrealdb::{Surreal, engine::any::Any, types::RecordId};

use crate::{
    error::{AppError, Problem},
    ids::UserId,
};

/// The one database handle type: the same code runs embedded, in memory and against a server.
///
/// Shared, never cloned: cloning a `Surreal` handle opens a new database session (a random
/// UUID from the kernel, a message to the engine's task, a copy of the session's state there,
/// and the same again to drop it). Every request clones the application state, and a profile
/// of the home page under load found those sessions among its costs, so the one session made
/// at start-up is shared by reference count. Nothing in Pairwise changes session state (the
/// namespace, variables) after start-up, so sharing it changes nothing else.
#[derive(Clone, Debug)]
pub struct Db(std::sync::Arc<Surreal<Any>>);

impl Db {
    pub fn new(handle: Surreal<Any>) -> Self {
        Self(std::sync::Arc::new(handle))
    }
}

impl std::ops::Deref for Db {
    type Target = Surreal<Any>;

    fn deref(&self) -> &Surreal<Any> {
        &self.0
    }
}

pub fn user_record(id: &UserId) -> RecordId {
    RecordId::new("user", id.0.as_str())
}

pub fn course_record(id: &str) -> RecordId {
    RecordId::new("course", id)
}

pub fn lesson_record(id: &str) -> RecordId {
    RecordId::new("lesson", id)
}

pub fn room_record(id: &str) -> RecordId {
    RecordId::new("room", id)
}

/// The changes one `LIVE SELECT` statement reports, as they are written by this or any other
/// app server sharing the database. The stream ends when the connection to the database does
/// (a restart): the caller subscribes again.
pub type LiveChanges<T> = surrealdb::method::QueryStream<surrealdb::Notification<T>>;

/// Subscribes to `live_select` (one `LIVE SELECT` statement).
pub async fn live<T>(db: &Db, live_select: &'static str) -> Result<LiveChanges<T>, surrealdb::Error>
where
    T: surrealdb::types::SurrealValue + Unpin,
{
    let mut res = db.query(live_select).await?;
    res.stream::<surrealdb::Notification<T>>(0)
}

/// A new random record key (known before the write, so one transaction can link records).
pub fn new_key() -> String {
    use rand::RngCore;
    let mut b = [0u8; 10];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Logs a database failure where it happened and gives the client only `Internal`.
pub fn internal(context: &'static str) -> impl Fn(surrealdb::Error) -> AppError {
    move |e| {
        tracing::error!(error = %e, "database: {context}");
        AppError::Internal
    }
}

/// Turns statement errors into an `AppError`: a unique-index violation anywhere in the
/// transaction is `on_unique` (the email, the slug... is taken); anything else is internal.
pub fn fail_on_errors(
    mut res: surrealdb::IndexedResults,
    context: &'static str,
    on_unique: Problem,
) -> Result<(), AppError> {
    errors_to_app(res.take_errors(), context, on_unique)
}

fn errors_to_app(
    errors: std::collections::HashMap<usize, surrealdb::Error>,
    context: &'static str,
    on_unique: Problem,
) -> Result<(), AppError> {
    if errors.is_empty() {
        return Ok(());
    }
    if let Some(problem) = errors.values().find_map(thrown_problem) {
        return Err(problem.into());
    }
    if errors.values().any(is_unique_violation) {
        return Err(on_unique.into());
    }
    for e in errors.values() {
        tracing::error!(error = %e, "database: {context}");
    }
    Err(AppError::Internal)
}

/// Runs a write transaction, and again when a concurrent one won: a write conflict, or a
/// unique index another writer just filled (the next attempt's own checks then see that row).
/// The losing attempt changed nothing, so retrying is safe and nothing the caller was told
/// succeeded is lost. Other errors, and the last attempt's, are mapped as `fail_on_errors` does.
pub async fn write_with_retry<F, Fut>(
    context: &'static str,
    on_unique: Problem,
    run: F,
) -> Result<(), AppError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<surrealdb::IndexedResults, surrealdb::Error>>,
{
    transact_with_retry(context, on_unique, run).await.map(drop)
}

/// [`write_with_retry`] that hands back the committed transaction's results, for a writer
/// that reads what it wrote in the same round trip.
pub async fn transact_with_retry<F, Fut>(
    context: &'static str,
    on_unique: Problem,
    mut run: F,
) -> Result<surrealdb::IndexedResults, AppError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<surrealdb::IndexedResults, surrealdb::Error>>,
{
    // Retries for a while rather than a number of times: on a database server several app
    // servers write the same rows (a busy room's sequence number) and a transaction there
    // takes milliseconds, so a writer can lose many rounds in a row without anything wrong.
    const PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);
    const MAX_WAIT_MS: u64 = 200;
    let started = std::time::Instant::now();
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        let mut res = run().await.map_err(internal(context))?;
        let errors = res.take_errors();
        if errors.is_empty() {
            return Ok(res);
        }
        let lost_a_race = !errors.values().any(|e| thrown_problem(e).is_some())
            && errors
                .values()
                .any(|e| e.message().contains("can be retried") || is_unique_violation(e));
        if !lost_a_race || started.elapsed() >= PATIENCE {
            return errors_to_app(errors, context, on_unique).map(|()| res);
        }
        // Spread the retries (a random part as long as the fixed one) so colliding writers
        // do not collide again.
        let wait = (5u64 << attempt.min(6)).min(MAX_WAIT_MS);
        let jitter = rand::random::<u64>() % wait;
        tokio::time::sleep(std::time::Duration::from_millis(wait + jitter)).await;
    }
}

/// A transaction's own refusal: `THROW 'pw:slot_taken'` names a [`Problem`] (by its serde
/// name), so a check made inside the transaction reaches the user in words.
pub fn thrown_problem(e: &surrealdb::Error) -> Option<Problem> {
    let msg = e.message();
    let key = msg.split("pw:").nth(1)?;
    let key: String = key
        .chars()
        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
        .collect();
    serde_json::from_value(serde_json::Value::String(key)).ok()
}

/// True when a write failed because a unique index already holds the value.
pub fn is_unique_violation(e: &surrealdb::Error) -> bool {
    e.message().contains("already contains")
}

// ---- people -------------------------------------------------------------------------------

/// A person's time zone (IANA name; UTC when unknown), for showing them times: every feature
/// that writes a date for someone reads it here.
pub async fn zone_of(db: &Db, user: &UserId) -> Result<String, AppError> {
    let mut res = db
        .query("SELECT VALUE timezone FROM ONLY $u")
        .bind(("u", user_record(user)))
        .await
        .map_err(internal("time zone"))?;
    let tz: Option<String> = res.take(0).map_err(internal("time zone"))?;
    Ok(tz.unwrap_or_else(|| "UTC".into()))
}

// ---- installation facts ------------------------------------------------------------------

/// Records a once-only fact; returns false if it was already recorded.
pub async fn claim_once(db: &Db, key: &str, now: DateTime<Utc>) -> Result<bool, AppError> {
    let mut res = db
        .query(
            "IF record::exists(type::record('meta', $key)) { false }
             ELSE { CREATE type::record('meta', $key) SET at = $now; true }",
        )
        .bind(("key", key.to_string()))
        .bind(("now", now))
        .await
        .map_err(internal("claim once"))?;
    Ok(res
        .take::<Option<bool>>(0)
        .map_err(internal("claim once"))?
        .unwrap_or(false))
}
