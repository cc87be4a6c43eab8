//! Notification queries (server only): the notifications themselves, e-mail choices, the
//! mailer's reads and claims, each reader's language, and the mail outbox. Features add a
//! notification inside their own transaction with [`notify_stmt`].

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use crate::{
    db::{Db, LiveChanges, fail_on_errors, internal, live, user_record, write_with_retry},
    error::{AppError, Problem},
    i18n::Locale,
    ids::UserId,
    notify::model::{Notice, NoticeKind},
};

/// A statement that notifies `who` (a SurrealQL expression for a user record) of `notice`
/// (an expression for the [`Notice`] object: a bound [`bind_notice`] or an object literal)
/// with `link`, for use inside the caller's transaction. The mailer reads `mailed = false`
/// later, so the e-mail choice never slows the write.
pub fn notify_stmt(who: &str, kind: NoticeKind, notice: &str, link: &str) -> String {
    format!(
        "CREATE notification SET user = {who}, kind = '{}', notice = {notice}, link = {link},
            read = false, mailed = false, created_at = $now;",
        kind.key()
    )
}

/// Whose notifications changed (a notification created, read, or removed).
#[derive(Clone, Debug, SurrealValue)]
pub struct NotificationChange {
    pub user: String,
}

/// Every change to anyone's notifications, on whichever app server it was made, as it happens:
/// each server wakes the sockets it holds for that user.
pub async fn watch_notifications(db: &Db) -> Result<LiveChanges<NotificationChange>, AppError> {
    // The mailer marking one mailed changes nothing a socket shows.
    live(
        db,
        "LIVE SELECT record::id(user) AS user FROM notification
         WHERE $event != 'UPDATE' OR $before.read != $after.read",
    )
    .await
    .map_err(internal("watching notifications"))
}

/// A notice as a bind value (stored as an object: its message key and parameters).
pub fn bind_notice(notice: &Notice) -> serde_json::Value {
    serde_json::to_value(notice).unwrap_or_default()
}

#[derive(Clone, Debug, SurrealValue)]
pub struct NotificationRow {
    pub id: String,
    pub notice: Option<serde_json::Value>,
    pub text: Option<String>,
    pub link: String,
    pub read: bool,
    pub created_at: DateTime<Utc>,
}

impl NotificationRow {
    pub fn notice(&self) -> Notice {
        Notice::from_stored(self.notice.clone(), self.text.as_deref())
    }
}

/// The user's 50 newest notifications, and the user's time zone (IANA name) to show their
/// times in.
pub async fn notifications(
    db: &Db,
    user: &UserId,
) -> Result<(Vec<NotificationRow>, String), AppError> {
    let mut res = db
        .query(
            "SELECT record::id(id) AS id, notice, text, link, read, created_at FROM notification
             WHERE user = $user ORDER BY created_at DESC LIMIT 50;
             SELECT VALUE timezone FROM ONLY $user;",
        )
        .bind(("user", user_record(user)))
        .await
        .map_err(internal("notifications"))?;
    let rows = res.take(0).map_err(internal("notifications"))?;
    let zone: Option<String> = res.take(1).map_err(internal("notifications"))?;
    Ok((rows, zone.unwrap_or_else(|| "UTC".into())))
}

pub async fn unread_count(db: &Db, user: &UserId) -> Result<i64, AppError> {
    let mut res = db
        .query(
            "SELECT VALUE count() FROM notification WHERE user = $user AND read = false GROUP ALL",
        )
        .bind(("user", user_record(user)))
        .await
        .map_err(internal("unread count"))?;
    let n: Option<i64> = res.take(0).map_err(internal("unread count"))?;
    Ok(n.unwrap_or(0))
}

/// Marks all of the user's notifications read.
pub async fn mark_all_read(db: &Db, user: &UserId) -> Result<(), AppError> {
    let res = db
        .query("UPDATE notification SET read = true WHERE user = $user AND read = false")
        .bind(("user", user_record(user)))
        .await
        .map_err(internal("mark read"))?;
    fail_on_errors(res, "mark read", Problem::TryAgain)
}

/// Marks one notification read, only if it is the user's (anyone else's id changes nothing).
pub async fn mark_read(db: &Db, user: &UserId, id: &str) -> Result<(), AppError> {
    let res = db
        .query("UPDATE $n SET read = true WHERE user = $u")
        .bind(("n", RecordId::new("notification", id)))
        .bind(("u", user_record(user)))
        .await
        .map_err(internal("mark read"))?;
    fail_on_errors(res, "mark read", Problem::TryAgain)
}

// ---- e-mail choices and each reader's language ---------------------------------------------

pub async fn email_prefs(db: &Db, user: &UserId) -> Result<Vec<String>, AppError> {
    let mut res = db
        .query("SELECT email_prefs FROM ONLY $u")
        .bind(("u", user_record(user)))
        .await
        .map_err(internal("email prefs"))?;
    // Taken by field: an array taken as `Option<_>` reads as several rows, and any choice
    // saved (a list of more than one) failed that way.
    let prefs: Option<Vec<String>> = res
        .take((0, "email_prefs"))
        .map_err(internal("email prefs"))?;
    Ok(prefs.unwrap_or_default())
}

pub async fn save_email_prefs(db: &Db, user: &UserId, prefs: Vec<String>) -> Result<(), AppError> {
    let res = db
        .query("UPDATE $u SET email_prefs = $prefs")
        .bind(("u", user_record(user)))
        .bind(("prefs", prefs))
        .await
        .map_err(internal("save email prefs"))?;
    fail_on_errors(res, "save email prefs", Problem::TryAgain)
}

/// Remembers the language the user reads Pairwise in, for what reaches them outside a page
/// (e-mail, the live badge). Written only when it changes.
pub async fn set_locale(db: &Db, user: &UserId, locale: Locale) -> Result<(), AppError> {
    let res = db
        .query("UPDATE $u SET locale = $l WHERE locale != $l")
        .bind(("u", user_record(user)))
        .bind(("l", locale.tag()))
        .await
        .map_err(internal("set locale"))?;
    fail_on_errors(res, "set locale", Problem::TryAgain)
}

pub async fn locale_of(db: &Db, user: &UserId) -> Result<Locale, AppError> {
    let mut res = db
        .query("SELECT VALUE locale FROM ONLY $u")
        .bind(("u", user_record(user)))
        .await
        .map_err(internal("locale"))?;
    let tag: Option<String> = res.take(0).map_err(internal("locale"))?;
    Ok(tag
        .as_deref()
        .and_then(Locale::from_tag)
        .unwrap_or_default())
}

// ---- the notification mailer ---------------------------------------------------------------

#[derive(Clone, Debug, SurrealValue)]
pub struct UnmailedRow {
    pub id: String,
    pub user: String,
    pub email: String,
    pub locale: Option<String>,
    pub prefs: Vec<String>,
    pub last_digest_at: Option<DateTime<Utc>>,
    pub kind: String,
    pub notice: Option<serde_json::Value>,
    pub text: Option<String>,
    pub link: String,
    pub created_at: DateTime<Utc>,
}

impl UnmailedRow {
    pub fn notice(&self) -> Notice {
        Notice::from_stored(self.notice.clone(), self.text.as_deref())
    }

    pub fn locale(&self) -> Locale {
        self.locale
            .as_deref()
            .and_then(Locale::from_tag)
            .unwrap_or_default()
    }
}

pub async fn unmailed(
    db: &Db,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<Vec<UnmailedRow>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(id) AS id, record::id(user) AS user, user.email AS email,
                user.locale AS locale, user.email_prefs ?? [] AS prefs,
                user.last_digest_at AS last_digest_at, kind, notice, text, link, created_at
             FROM notification WHERE mailed = false AND (mail_after = NONE OR mail_after <= $now)
             ORDER BY created_at LIMIT $limit",
        )
        .bind(("limit", i64::from(limit)))
        .bind(("now", now))
        .await
        .map_err(internal("unmailed"))?;
    res.take(0).map_err(internal("unmailed"))
}

/// A message for the outbox.
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Marks notifications mailed and queues `mail` (if any) in the outbox, in one transaction:
/// a crash between the two can neither lose the mail nor send it twice. The claim is
/// conditional (only rows still unmailed, and for a digest only if none went out in the last
/// 24 hours), so two app servers running the job at once send it once.
pub async fn mail_notifications(
    db: &Db,
    ids: &[String],
    mail: Option<&OutgoingMail>,
    digest_user: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let records: Vec<RecordId> = ids
        .iter()
        .map(|i| RecordId::new("notification", i.as_str()))
        .collect();
    let (to, subject, body) = mail.map_or(("", "", ""), |m| {
        (m.to.as_str(), m.subject.as_str(), m.body.as_str())
    });
    write_with_retry("mail notifications", Problem::TryAgain, || {
        db.query(
            "BEGIN TRANSACTION;
             LET $due = $digest = NONE OR ($digest.last_digest_at ?? d'1970-01-01T00:00:00Z') <= $cutoff;
             IF $due {
                LET $got = (UPDATE $ids SET mailed = true WHERE mailed = false RETURN AFTER);
                IF array::len($got) = array::len($ids) {
                    IF $send { CREATE outbox SET to = $to, subject = $subject, body = $body,
                        created_at = $now, attempts = 0; };
                    IF $digest != NONE { UPDATE $digest SET last_digest_at = $now; };
                };
             };
             COMMIT TRANSACTION;",
        )
        .bind(("ids", records.clone()))
        .bind(("send", mail.is_some()))
        .bind(("to", to.to_string()))
        .bind(("subject", subject.to_string()))
        .bind(("body", body.to_string()))
        .bind(("digest", digest_user.map(|u| RecordId::new("user", u))))
        .bind(("cutoff", now - chrono::Duration::hours(24)))
        .bind(("now", now))
        .into_future()
    })
    .await
}

/// Daily-summary notifications wait until their owner's next summary is due, so the mailer
/// does not read them again every round (and cannot be held up by them).
pub async fn defer_mail(db: &Db, ids: &[String], until: DateTime<Utc>) -> Result<(), AppError> {
    let records: Vec<RecordId> = ids
        .iter()
        .map(|i| RecordId::new("notification", i.as_str()))
        .collect();
    let res = db
        .query("UPDATE $ids SET mail_after = $until WHERE mailed = false")
        .bind(("ids", records))
        .bind(("until", until))
        .await
        .map_err(internal("defer mail"))?;
    fail_on_errors(res, "defer mail", Problem::TryAgain)
}

// ---- the outbox ------------------------------------------------------------------------------

#[derive(Debug, SurrealValue)]
pub struct OutboxMail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The newest queued messages for an address (tests and the demo read verification links here).
pub async fn outbox_for(db: &Db, to: &str) -> Result<Vec<OutboxMail>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(id) AS id, to, subject, body, created_at FROM outbox
             WHERE to = $to ORDER BY created_at DESC LIMIT 20",
        )
        .bind(("to", to.to_string()))
        .await
        .map_err(internal("outbox"))?;
    res.take(0).map_err(internal("outbox"))
}

/// Gives up on a message after this many failed deliveries (it stays in the table).
pub const MAIL_MAX_ATTEMPTS: i64 = 10;

/// Claims up to `limit` messages due for delivery until `lease_until`, so that another app
/// server (or the next tick, if this one dies mid-send) does not send them at the same time.
pub async fn claim_due_mail(
    db: &Db,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<OutboxMail>, AppError> {
    let mut res = db
        .query(
            "LET $due = (SELECT id, created_at FROM outbox
                WHERE sent_at = NONE AND attempts < $max
                  AND (next_attempt_at = NONE OR next_attempt_at <= $now)
                  AND (claimed_until = NONE OR claimed_until <= $now)
                ORDER BY created_at LIMIT $limit).id;
             UPDATE $due SET claimed_until = $lease
                WHERE sent_at = NONE AND (claimed_until = NONE OR claimed_until <= $now)
                RETURN record::id(id) AS id, to, subject, body;",
        )
        .bind(("max", MAIL_MAX_ATTEMPTS))
        .bind(("now", now))
        .bind(("lease", lease_until))
        .bind(("limit", limit))
        .await
        .map_err(internal("claim mail"))?;
    res.take(1).map_err(internal("claim mail"))
}

pub async fn mark_mail_sent(db: &Db, id: &str, now: DateTime<Utc>) -> Result<(), AppError> {
    db.query("UPDATE $id SET sent_at = $now, claimed_until = NONE, last_error = NONE")
        .bind(("id", RecordId::new("outbox", id)))
        .bind(("now", now))
        .await
        .and_then(|r| r.check())
        .map_err(internal("mark mail sent"))?;
    Ok(())
}

/// Records a failed delivery; the message is tried again from `retry_at`.
pub async fn mark_mail_failed(
    db: &Db,
    id: &str,
    error: &str,
    retry_at: DateTime<Utc>,
) -> Result<(), AppError> {
    db.query(
        "UPDATE $id SET attempts += 1, last_error = $error, next_attempt_at = $retry,
            claimed_until = NONE",
    )
    .bind(("id", RecordId::new("outbox", id)))
    .bind(("error", error.chars().take(500).collect::<String>()))
    .bind(("retry", retry_at))
    .await
    .and_then(|r| r.check())
    .map_err(internal("mark mail failed"))?;
    Ok(())
}

/// How a message stands: sent, and how many deliveries failed (tests and operators).
#[derive(Debug, SurrealValue)]
pub struct MailStatus {
    pub sent: bool,
    pub attempts: i64,
    pub last_error: Option<String>,
}

pub async fn mail_status(db: &Db, id: &str) -> Result<Option<MailStatus>, AppError> {
    let mut res = db
        .query("SELECT sent_at != NONE AS sent, attempts, last_error FROM ONLY $id")
        .bind(("id", RecordId::new("outbox", id)))
        .await
        .map_err(internal("mail status"))?;
    res.take(0).map_err(internal("mail status"))
}
