//! The privacy queries (server only): every row a person's data export holds, and erasing an
//! account in one transaction, both driven by [`RULES`].

use std::future::IntoFuture;

use chrono::{DateTime, Utc};

use crate::{
    accounts::repo::{AuditKind, audit_stmt},
    db::{Db, internal, transact_with_retry, user_record},
    error::{AppError, Problem},
    ids::UserId,
    notify::{model::NoticeKind, repo::notify_stmt},
    privacy::{
        retention::Retention,
        rules::{DELETED_NAME, Holds, OnDelete, RULES, Rule},
    },
};
use surrealdb::types::SurrealValue;

/// The condition that finds the person in a rule's field (`$me`: their record, `$email`:
/// their address).
fn matches(rule: &Rule) -> String {
    let field = rule.field;
    match rule.holds {
        Holds::Record => format!("{field} = $me"),
        Holds::List => format!("$me IN {field}"),
        Holds::Email => format!("{field} = $email"),
    }
}

/// One table's rows in an export.
pub struct ExportedTable {
    pub name: String,
    pub rows: Vec<serde_json::Value>,
}

/// The person's own record (without the password hash) and every row each rule finds, by
/// table (a table two rules name is read once, each row once). Record links are written as
/// `table:key` text.
pub async fn export(db: &Db, user: &UserId) -> Result<Vec<ExportedTable>, AppError> {
    let mut tables: Vec<(&str, Vec<String>)> = Vec::new();
    for rule in RULES {
        match tables.iter_mut().find(|(t, _)| *t == rule.table) {
            Some((_, conds)) => conds.push(matches(rule)),
            None => tables.push((rule.table, vec![matches(rule)])),
        }
    }
    let mut query = String::from(
        "LET $email = (SELECT VALUE email FROM ONLY $me);
         SELECT * OMIT password_hash FROM ONLY $me;",
    );
    for (table, conds) in &tables {
        query.push_str(&format!(
            "SELECT * FROM {table} WHERE {};",
            conds.join(" OR ")
        ));
    }
    // The rows go out as JSON, record links and datetimes as text.
    let mut res = db
        .query(query)
        .bind(("me", user_record(user)))
        .await
        .map_err(internal("export"))?;
    let me: Option<surrealdb::types::Value> = res.take(1).map_err(internal("export"))?;
    let mut out = vec![ExportedTable {
        name: "user".into(),
        rows: me.map(to_json).into_iter().collect(),
    }];
    for (i, (table, _)) in tables.iter().enumerate() {
        let rows: Vec<surrealdb::types::Value> = res.take(i + 2).map_err(internal("export"))?;
        out.push(ExportedTable {
            name: (*table).to_string(),
            rows: rows.into_iter().map(to_json).collect(),
        });
    }
    Ok(out)
}

fn to_json(v: surrealdb::types::Value) -> serde_json::Value {
    v.into_json_value()
}

/// Why an account is erased.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Erasure {
    /// Its owner asked (password checked by the caller).
    Requested,
    /// Its address was never confirmed within the grace period: the address is freed for
    /// whoever really owns it. Re-checked inside the transaction, so an account confirmed
    /// meanwhile (or given a role) is kept.
    NeverConfirmed,
}

impl Erasure {
    fn guard(self) -> &'static str {
        match self {
            Erasure::Requested => "",
            Erasure::NeverConfirmed => {
                "IF (SELECT VALUE email_verified FROM ONLY $me) != false
                    OR (SELECT VALUE roles FROM ONLY $me) != ['learner'] { THROW 'pw:try_again'; };"
            }
        }
    }

    fn audit(self) -> String {
        match self {
            // The entry names the emptied account only.
            Erasure::Requested => format!(
                "LET $audit_user = $me; LET $audit_actor = NONE; LET $audit_detail = NONE; {}",
                audit_stmt(AuditKind::AccountDeleted)
            ),
            // Which address was freed, for its real owner's sake (as before erasure existed).
            Erasure::NeverConfirmed => {
                "CREATE audit CONTENT { kind: 'unverified_purged', email: $email, at: $now };"
                    .to_string()
            }
        }
    }
}

/// Erases an account in one transaction: what [`RULES`] say for each field; courses' counts
/// put right; reviews of the person's own code go with it; their future sessions cancelled
/// and their mentorships ended, the other side told; the account itself left as a nameless
/// shell ("deleted user", an address nobody has, a password nothing matches) so that what
/// others rely on still points somewhere; the name taken out of what others were told; and
/// one audit entry with nothing personal in it.
pub async fn erase(
    db: &Db,
    user: &UserId,
    erasure: Erasure,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut rules = String::new();
    // Rows kept for others that still name the account: with none, the shell goes too.
    let mut kept = Vec::new();
    for rule in RULES {
        let cond = matches(rule);
        let table = rule.table;
        match rule.on_delete {
            OnDelete::Erase => rules.push_str(&format!("DELETE {table} WHERE {cond};\n")),
            OnDelete::Keep => kept.push(format!(
                "count(SELECT id FROM {table} WHERE {cond} LIMIT 1)"
            )),
            OnDelete::Scrub(fields) => {
                let set: Vec<String> = fields.iter().map(|f| format!("{f} = NONE")).collect();
                rules.push_str(&format!(
                    "UPDATE {table} SET {} WHERE {cond};\n",
                    set.join(", ")
                ));
            }
        }
    }
    let query = format!(
        "BEGIN TRANSACTION;
         LET $email = (SELECT VALUE email FROM ONLY $me);
         LET $name = (SELECT VALUE display_name FROM ONLY $me);
         IF $email = NONE OR (SELECT VALUE deleted_at FROM ONLY $me) != NONE {{ THROW 'pw:try_again'; }};
         {guard}
         FOR $e IN (SELECT * FROM enrolled WHERE in = $me) {{
            UPDATE $e.out SET enrolled_count = math::max([enrolled_count - 1, 0]);
         }};
         FOR $r IN (SELECT * FROM rated WHERE in = $me) {{
            UPDATE $r.out SET rating_sum -= $r.stars, rating_count = math::max([rating_count - 1, 0]);
         }};
         DELETE review_comment WHERE submission IN (SELECT VALUE id FROM submission WHERE learner = $me);
         FOR $b IN (UPDATE booking SET state = 'cancelled', cancelled_at = $now, cancelled_by = $me
                WHERE (mentor = $me OR learner = $me) AND state = 'booked' AND starts_at > $now
                RETURN AFTER) {{
            DELETE slot_hold WHERE booking = $b.id;
            UPDATE $b.room SET state = 'closed', closed_at = $now;
            LET $other = IF $b.mentor = $me THEN $b.learner ELSE $b.mentor END;
            LET $session = {{ msg: 'session_partner_left', at: <string> $b.starts_at, zone: $other.timezone ?? 'UTC' }};
            LET $session_link = '/bookings/' + record::id($b.id);
            {}
         }};
         FOR $m IN (UPDATE mentorship SET active = false, ended_at = $now
                WHERE (in = $me OR out = $me) AND active = true RETURN AFTER) {{
            LET $other = IF $m.in = $me THEN $m.out ELSE $m.in END;
            LET $ended_link = '/mentorships/' + record::id($m.id);
            {}
         }};
         {rules}
         -- Notices and mail to others name the person: the name becomes deleted user
         -- (a notice's parameters exactly; older sentence-notices and mail as text, for
         -- names long enough not to be part of ordinary words).
         UPDATE notification SET notice = object::from_entries(array::map(object::entries(notice),
                |$e| IF $e[1] = $name THEN [$e[0], $deleted_name] ELSE $e END))
            WHERE notice != NONE AND $name IN object::values(notice);
         IF string::len($name) >= 4 {{
            UPDATE notification SET text = string::replace(text, $name, $deleted_name)
                WHERE text != NONE AND string::contains(text, $name);
            UPDATE outbox SET subject = string::replace(subject, $name, $deleted_name),
                body = string::replace(body, $name, $deleted_name)
                WHERE string::contains(body, $name) OR string::contains(subject, $name);
         }};
         IF {kept} = 0 {{
            DELETE $me;
         }} ELSE {{
            UPDATE $me SET email = $shell_email, display_name = $deleted_name,
                password_hash = $no_password, bio = '', skills = [], languages = [],
                timezone = 'UTC', email_prefs = [], email_verified = false, roles = ['learner'],
                leaderboard_opt_out = true, last_digest_at = NONE, locale = 'en',
                suspended_at = NONE, suspended_reason = NONE,
                deleted_at = $now, updated_at = $now;
         }};
         {audit}
         COMMIT TRANSACTION;",
        notify_stmt("$other", NoticeKind::Booking, "$session", "$session_link"),
        notify_stmt(
            "$other",
            NoticeKind::Request,
            "{ msg: 'partner_left' }",
            "$ended_link"
        ),
        guard = erasure.guard(),
        kept = kept.join(" + "),
        audit = erasure.audit(),
    );
    transact_with_retry("erase account", Problem::TryAgain, || {
        db.query(query.as_str())
            .bind(("me", user_record(user)))
            // `.invalid` is a name no mail can reach (RFC 2606); the key keeps it unique.
            .bind(("shell_email", format!("erased-{}@deleted.invalid", user.0)))
            .bind(("deleted_name", DELETED_NAME))
            .bind(("no_password", crate::accounts::password::DUMMY_HASH))
            .bind(("now", now))
            .into_future()
    })
    .await
    .map(drop)
}

/// The files the person uploaded: the stored videos and captions of the courses they write.
pub async fn uploads(db: &Db, user: &UserId) -> Result<Vec<String>, AppError> {
    let mut res = db
        .query("SELECT VALUE [video_src, captions_src] FROM lesson WHERE $me IN course.authors")
        .bind(("me", user_record(user)))
        .await
        .map_err(internal("uploads"))?;
    let pairs: Vec<Vec<Option<String>>> = res.take(0).map_err(internal("uploads"))?;
    let mut names: Vec<String> = pairs
        .into_iter()
        .flatten()
        .flatten()
        // Stored files have server-made names; a link elsewhere is not an upload.
        .filter(|n| {
            !n.is_empty()
                && !n.starts_with('.')
                && !n.contains("..")
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        })
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// What one retention pass removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, SurrealValue)]
pub struct Purged {
    /// Security-log entries whose addresses were emptied.
    pub addresses: i64,
    pub mails: i64,
    pub chat_lines: i64,
    pub code_steps: i64,
    pub links: i64,
}

/// Removes what [`Retention`] says is kept no longer, counting what went. Each statement
/// stands alone: a pass cut short leaves the rest for the next one.
pub async fn purge_expired(
    db: &Db,
    retention: Retention,
    now: DateTime<Utc>,
) -> Result<Purged, AppError> {
    let before = |days: u32| now - chrono::Duration::days(i64::from(days));
    let mut res = db
        .query(
            "LET $rooms = (SELECT VALUE id FROM room WHERE state = 'closed' AND closed_at < $rooms_before);
             -- Row by row per room (each an index lookup on the room).
             LET $chat = array::flatten(array::map($rooms,
                |$r| (SELECT VALUE id FROM chat_message WHERE room = $r)));
             LET $code = array::flatten(array::map($rooms,
                |$r| (SELECT VALUE id FROM pair_update WHERE room = $r)));
             IF array::len($chat) > 0 { DELETE $chat; };
             IF array::len($code) > 0 { DELETE $code; };
             RETURN {
                addresses: array::len((UPDATE audit SET ip = NONE, email = NONE
                    WHERE at < $addresses_before AND (ip != NONE OR email != NONE) RETURN id)),
                mails: array::len((DELETE outbox WHERE sent_at != NONE AND sent_at < $mail_before
                    RETURN BEFORE)),
                chat_lines: array::len($chat),
                code_steps: array::len($code),
                links: array::len((DELETE email_token
                    WHERE expires_at < $tokens_before OR (used_at != NONE AND used_at < $tokens_before)
                    RETURN BEFORE)),
             };",
        )
        .bind(("addresses_before", before(retention.addresses_days)))
        .bind(("mail_before", before(retention.mail_days)))
        .bind(("rooms_before", before(retention.rooms_days)))
        .bind(("tokens_before", before(retention.tokens_days)))
        .await
        .map_err(internal("retention"))?;
    let purged: Option<Purged> = res.take(5).map_err(internal("retention"))?;
    Ok(purged.unwrap_or_default())
}

// ---- the terms of use and the privacy notice -------------------------------------------

#[derive(Clone, Debug, SurrealValue)]
pub struct LegalRow {
    pub version: i64,
    pub body: String,
    pub body_zh: Option<String>,
    pub published_at: DateTime<Utc>,
}

/// The newest version of `kind` (`terms` or `privacy`).
pub async fn latest_legal(db: &Db, kind: &str) -> Result<Option<LegalRow>, AppError> {
    let mut res = db
        .query(
            "SELECT version, body, body_zh, published_at FROM legal_text WHERE kind = $kind
             ORDER BY version DESC LIMIT 1",
        )
        .bind(("kind", kind.to_string()))
        .await
        .map_err(internal("legal text"))?;
    res.take(0).map_err(internal("legal text"))
}

/// Publishes `body` (English) and `body_zh` (Simplified Chinese, if any) as the next version
/// of `kind`, audited; answers the version. Two admins publishing at once get two versions
/// (the unique index makes the later one retry).
pub async fn publish_legal(
    db: &Db,
    kind: &str,
    body: &str,
    body_zh: Option<&str>,
    by: &UserId,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let mut res = transact_with_retry("publish legal text", Problem::TryAgain, || {
        db.query(format!(
            "BEGIN TRANSACTION;
             LET $version = ((SELECT VALUE version FROM legal_text WHERE kind = $kind
                ORDER BY version DESC LIMIT 1)[0] ?? 0) + 1;
             CREATE legal_text CONTENT {{
                kind: $kind, version: $version, body: $body, body_zh: $body_zh,
                published_at: $now, published_by: $audit_actor
             }};
             LET $audit_detail = $kind + ' ' + <string> $version;
             {}
             RETURN $version;
             COMMIT TRANSACTION;",
            audit_stmt(AuditKind::LegalPublished)
        ))
        .bind(("kind", kind.to_string()))
        .bind(("body", body.to_string()))
        .bind(("body_zh", body_zh.map(str::to_string)))
        .bind(("audit_user", None::<surrealdb::types::RecordId>))
        .bind(("audit_actor", user_record(by)))
        .bind(("now", now))
        .into_future()
    })
    .await?;
    let last = res.num_statements().saturating_sub(2);
    let version: Option<i64> = res.take(last).map_err(internal("publish legal text"))?;
    version.ok_or(AppError::Internal)
}
