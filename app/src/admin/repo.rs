//! Admin queries (server only). Suspending an account, lifting it and ending a session each
//! change the account and write their audit entry in one transaction.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use crate::{
    accounts::repo::{AuditKind, audit_stmt},
    db::{Db, internal, transact_with_retry, user_record},
    error::{AppError, Problem},
    ids::UserId,
};

#[derive(Clone, Debug, SurrealValue)]
pub struct UserRow {
    pub id: String,
    pub display_name: String,
    pub email: String,
    pub roles: Vec<String>,
    pub suspended: bool,
    pub created_at: DateTime<Utc>,
}

/// People whose name or address contains `q` (lower case; empty: everyone), holding `role`
/// if given, newest first: `limit` of them from `start`. Erased accounts are not people.
pub async fn search_users(
    db: &Db,
    q: &str,
    role: Option<&str>,
    start: u32,
    limit: u32,
) -> Result<Vec<UserRow>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(id) AS id, display_name, email, roles,
                suspended_at != NONE AS suspended, created_at
             FROM user
             WHERE deleted_at = NONE
                AND ($q = '' OR string::contains(string::lowercase(display_name), $q)
                    OR string::contains(string::lowercase(email), $q))
                AND ($role = NONE OR $role IN roles)
             ORDER BY created_at DESC LIMIT $limit START $start",
        )
        .bind(("q", q.to_string()))
        .bind(("role", role.map(str::to_string)))
        .bind(("limit", i64::from(limit)))
        .bind(("start", i64::from(start)))
        .await
        .map_err(internal("admin user search"))?;
    res.take(0).map_err(internal("admin user search"))
}

#[derive(Clone, Debug, SurrealValue)]
pub struct AccountRow {
    pub id: String,
    pub display_name: String,
    pub email: String,
    pub email_verified: bool,
    pub roles: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub suspended_at: Option<DateTime<Utc>>,
    pub suspended_reason: Option<String>,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct SessionRow {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct AuditRow {
    pub id: String,
    pub kind: String,
    pub at: DateTime<Utc>,
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub email: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct CourseRow {
    pub slug: String,
    pub title: String,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct MentorshipRow {
    pub mentor_id: String,
    pub mentor: String,
    pub learner_id: String,
    pub learner: String,
    pub active: bool,
    pub started_at: DateTime<Utc>,
}

/// Everything the admin's page about one person reads.
pub struct AccountRows {
    pub account: AccountRow,
    pub sessions: Vec<SessionRow>,
    pub audit: Vec<AuditRow>,
    pub enrolled: Vec<CourseRow>,
    pub authored: Vec<CourseRow>,
    pub mentorships: Vec<MentorshipRow>,
}

const AUDIT_FIELDS: &str = "record::id(id) AS id, kind, at,
    (IF user != NONE THEN record::id(user) ELSE NONE END) AS user_id,
    user.display_name AS user_name,
    (IF actor != NONE THEN record::id(actor) ELSE NONE END) AS actor_id,
    actor.display_name AS actor_name, email, ip, detail";

/// How many of a person's latest audit entries their page shows.
const RECENT_AUDIT: i64 = 20;

/// One person's account and what hangs on it; `None` when there is no such account.
pub async fn account(db: &Db, user: &UserId) -> Result<Option<AccountRows>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT record::id(id) AS id, display_name, email, email_verified, roles, created_at,
                suspended_at, suspended_reason
             FROM ONLY $u;
             SELECT record::id(id) AS id, created_at, last_seen_at, ip, user_agent
             FROM session WHERE user = $u ORDER BY last_seen_at DESC LIMIT 50;
             SELECT {AUDIT_FIELDS} FROM audit WHERE user = $u ORDER BY at DESC LIMIT $recent;
             SELECT {AUDIT_FIELDS} FROM audit WHERE actor = $u ORDER BY at DESC LIMIT $recent;
             SELECT out.slug AS slug, out.title AS title FROM enrolled WHERE in = $u
                ORDER BY title LIMIT 100;
             SELECT slug, title FROM course WHERE $u IN authors ORDER BY title LIMIT 100;
             SELECT record::id(in) AS mentor_id, in.display_name AS mentor,
                record::id(out) AS learner_id, out.display_name AS learner, active, started_at
             FROM mentorship WHERE in = $u OR out = $u ORDER BY started_at DESC LIMIT 100;"
        ))
        .bind(("u", user_record(user)))
        .bind(("recent", RECENT_AUDIT))
        .await
        .map_err(internal("admin account"))?;
    let account: Option<AccountRow> = res.take(0).map_err(internal("admin account"))?;
    let Some(account) = account else {
        return Ok(None);
    };
    let mut audit: Vec<AuditRow> = res.take(2).map_err(internal("admin account audit"))?;
    let acted: Vec<AuditRow> = res.take(3).map_err(internal("admin account audit"))?;
    // Entries about the person and entries by them, one list: an admin acting on their own
    // account appears in both.
    audit.extend(acted);
    audit.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.id.cmp(&b.id)));
    audit.dedup_by(|a, b| a.id == b.id);
    audit.truncate(RECENT_AUDIT as usize);
    Ok(Some(AccountRows {
        account,
        sessions: res.take(1).map_err(internal("admin account sessions"))?,
        audit,
        enrolled: res.take(4).map_err(internal("admin account courses"))?,
        authored: res.take(5).map_err(internal("admin account courses"))?,
        mentorships: res.take(6).map_err(internal("admin account mentorships"))?,
    }))
}

/// The account with this address, if any.
pub async fn user_by_email(db: &Db, email: &str) -> Result<Option<UserId>, AppError> {
    let mut res = db
        .query("SELECT VALUE record::id(id) FROM user WHERE email = $email LIMIT 1")
        .bind(("email", email.to_string()))
        .await
        .map_err(internal("user by email"))?;
    let id: Option<String> = res.take(0).map_err(internal("user by email"))?;
    Ok(id.map(UserId))
}

/// A page of the audit log, newest first: of `kind` if given, about or by `person` if given.
pub async fn audit_log(
    db: &Db,
    kind: Option<&str>,
    person: Option<&UserId>,
    start: u32,
    limit: u32,
) -> Result<Vec<AuditRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {AUDIT_FIELDS} FROM audit
             WHERE ($kind = NONE OR kind = $kind)
                AND ($person = NONE OR user = $person OR actor = $person)
             ORDER BY at DESC LIMIT $limit START $start"
        ))
        .bind(("kind", kind.map(str::to_string)))
        .bind(("person", person.map(user_record)))
        .bind(("limit", i64::from(limit)))
        .bind(("start", i64::from(start)))
        .await
        .map_err(internal("audit log"))?;
    res.take(0).map_err(internal("audit log"))
}

/// Suspends `user` (refused for `actor` themself, and `NotFound` for no such live
/// account): marked with the reason, every session deleted, audited. Answers the ended
/// sessions' token hashes.
pub async fn suspend(
    db: &Db,
    user: &UserId,
    actor: &UserId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    if user == actor {
        return Err(Problem::SuspendSelf.into());
    }
    let mut res = transact_with_retry("suspend", Problem::TryAgain, || {
        db.query(format!(
            "BEGIN TRANSACTION;
             IF !record::exists($audit_user) OR $audit_user.deleted_at != NONE {{
                THROW 'pw:not_found'
             }};
             UPDATE $audit_user SET suspended_at = $now, suspended_reason = $audit_detail;
             LET $ended = (DELETE session WHERE user = $audit_user RETURN BEFORE);
             {}
             RETURN $ended.token_hash;
             COMMIT TRANSACTION;",
            audit_stmt(AuditKind::UserSuspended)
        ))
        .bind(("audit_user", user_record(user)))
        .bind(("audit_actor", user_record(actor)))
        .bind(("audit_detail", reason.to_string()))
        .bind(("now", now))
        .into_future()
    })
    .await?;
    let last = res.num_statements().saturating_sub(2);
    res.take(last).map_err(internal("suspend"))
}

/// Lifts a suspension (`NotFound` when the account is not suspended), audited.
pub async fn unsuspend(
    db: &Db,
    user: &UserId,
    actor: &UserId,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    transact_with_retry("unsuspend", Problem::TryAgain, || {
        db.query(format!(
            "BEGIN TRANSACTION;
             IF $audit_user.suspended_at = NONE {{ THROW 'pw:not_found' }};
             UPDATE $audit_user SET suspended_at = NONE, suspended_reason = NONE;
             {}
             COMMIT TRANSACTION;",
            audit_stmt(AuditKind::UserUnsuspended)
        ))
        .bind(("audit_user", user_record(user)))
        .bind(("audit_actor", user_record(actor)))
        .bind(("audit_detail", None::<String>))
        .bind(("now", now))
        .into_future()
    })
    .await
    .map(drop)
}

/// Ends session `session` of `user` (`NotFound` when it is not one of theirs), audited.
/// Answers the ended session's token hash.
pub async fn end_session(
    db: &Db,
    user: &UserId,
    session: &str,
    actor: &UserId,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let mut res = transact_with_retry("end session", Problem::TryAgain, || {
        db.query(format!(
            "BEGIN TRANSACTION;
             LET $ended = (DELETE $signed_in WHERE user = $audit_user RETURN BEFORE);
             IF array::len($ended) = 0 {{ THROW 'pw:not_found' }};
             {}
             RETURN $ended[0].token_hash;
             COMMIT TRANSACTION;",
            audit_stmt(AuditKind::SessionEnded)
        ))
        .bind(("signed_in", RecordId::new("session", session)))
        .bind(("audit_user", user_record(user)))
        .bind(("audit_actor", user_record(actor)))
        .bind(("audit_detail", None::<String>))
        .bind(("now", now))
        .into_future()
    })
    .await?;
    let last = res.num_statements().saturating_sub(2);
    let hash: Option<String> = res.take(last).map_err(internal("end session"))?;
    hash.ok_or(AppError::NotFound)
}
