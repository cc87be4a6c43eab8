//! Applications to mentor (server only). Applying, approving and declining each write the
//! application, the role (on approval), the notifications and the audit entry in one
//! transaction; checks that two admins (or two tabs) could race on run inside it.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use crate::{
    accounts::repo::{AuditKind, audit_stmt},
    db::{Db, internal, transact_with_retry, user_record},
    error::{AppError, Problem},
    ids::UserId,
    notify::{
        model::{Notice, NoticeKind},
        repo::{bind_notice, notify_stmt},
    },
};

/// One application per person: its key is theirs.
fn application_rec(user: &UserId) -> RecordId {
    RecordId::new("mentor_application", user.0.as_str())
}

#[derive(Clone, Debug, SurrealValue)]
pub struct ApplicationRow {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub headline: String,
    pub about: String,
    pub status: String,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

const FIELDS: &str = "record::id(user) AS user_id, user.display_name AS name, user.email AS email,
    headline, about, status, note, created_at";

/// The caller's application (if any), whether they mentor already, and whether their address
/// is confirmed.
pub async fn mine(
    db: &Db,
    user: &UserId,
) -> Result<(Option<ApplicationRow>, bool, bool), AppError> {
    let mut res = db
        .query(format!(
            "SELECT {FIELDS} FROM ONLY $a;
             RETURN ['mentor', 'admin'] ANYINSIDE $u.roles;
             RETURN $u.email_verified ?? false;"
        ))
        .bind(("a", application_rec(user)))
        .bind(("u", user_record(user)))
        .await
        .map_err(internal("my mentor application"))?;
    let row: Option<ApplicationRow> = res.take(0).map_err(internal("my mentor application"))?;
    let mentor: Option<bool> = res.take(1).map_err(internal("my mentor application"))?;
    let verified: Option<bool> = res.take(2).map_err(internal("my mentor application"))?;
    Ok((row, mentor.unwrap_or(false), verified.unwrap_or(false)))
}

/// Files (or, after a decline, replaces) `user`'s application and tells every admin (their
/// keys are the answer). Refused for a mentor, and while an earlier one waits.
pub async fn apply(
    db: &Db,
    user: &UserId,
    headline: &str,
    about: &str,
    applied: &Notice,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    let mut res = transact_with_retry("apply to mentor", Problem::ApplicationPending, || {
        db.query(format!(
            "BEGIN TRANSACTION;
             IF ['mentor', 'admin'] ANYINSIDE $audit_user.roles {{ THROW 'pw:already_mentor' }};
             IF $a.status = 'pending' {{ THROW 'pw:application_pending' }};
             UPSERT $a CONTENT {{
                user: $audit_user, headline: $headline, about: $about, status: 'pending',
                note: NONE, decided_by: NONE, decided_at: NONE, created_at: $now
             }};
             LET $admins = (SELECT id, record::id(id) AS key FROM user
                WHERE 'admin' IN roles AND deleted_at = NONE);
             FOR $admin IN $admins.id {{
                {}
             }};
             {}
             RETURN $admins.key;
             COMMIT TRANSACTION;",
            notify_stmt(
                "$admin",
                NoticeKind::Request,
                "$notice",
                "'/admin/mentor-applications'"
            ),
            audit_stmt(AuditKind::MentorApplied)
        ))
        .bind(("a", application_rec(user)))
        .bind(("audit_user", user_record(user)))
        .bind(("audit_actor", user_record(user)))
        .bind(("audit_detail", None::<String>))
        .bind(("headline", headline.to_string()))
        .bind(("about", about.to_string()))
        .bind(("notice", bind_notice(applied)))
        .bind(("now", now))
        .into_future()
    })
    .await?;
    let last = res.num_statements().saturating_sub(2);
    res.take(last).map_err(internal("apply to mentor"))
}

/// Applications waiting for an admin, the longest-waiting first.
pub async fn pending(db: &Db) -> Result<Vec<ApplicationRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {FIELDS} FROM mentor_application WHERE status = 'pending'
             ORDER BY created_at ASC LIMIT 200"
        ))
        .await
        .map_err(internal("pending mentor applications"))?;
    res.take(0).map_err(internal("pending mentor applications"))
}

/// Decides `user`'s waiting application (`NotFound` when none waits: a second admin's answer
/// to the same one changes nothing): approved grants the mentor role; the applicant is told.
pub async fn decide(
    db: &Db,
    user: &UserId,
    admin: &UserId,
    approve: bool,
    note: &str,
    told: &Notice,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let audit = if approve {
        audit_stmt(AuditKind::MentorApproved)
    } else {
        audit_stmt(AuditKind::MentorDeclined)
    };
    transact_with_retry("decide mentor application", Problem::TryAgain, || {
        db.query(format!(
            "BEGIN TRANSACTION;
             IF $a.status != 'pending' {{ THROW 'pw:not_found' }};
             UPDATE $a SET status = $status, note = $note, decided_by = $audit_actor,
                decided_at = $now;
             IF $approve {{
                UPDATE $audit_user SET roles = array::union(roles, ['mentor']), updated_at = $now;
             }};
             {}
             {audit}
             COMMIT TRANSACTION;",
            notify_stmt(
                "$audit_user",
                NoticeKind::Request,
                "$notice",
                "'/mentoring/apply'"
            ),
        ))
        .bind(("a", application_rec(user)))
        .bind(("audit_user", user_record(user)))
        .bind(("audit_actor", user_record(admin)))
        .bind(("audit_detail", (!note.is_empty()).then(|| note.to_string())))
        .bind((
            "status",
            if approve { "approved" } else { "declined" }.to_string(),
        ))
        .bind(("note", (!note.is_empty()).then(|| note.to_string())))
        .bind(("approve", approve))
        .bind(("notice", bind_notice(told)))
        .bind(("now", now))
        .into_future()
    })
    .await
    .map(drop)
}
