//! Shared-code queries (server only): the update log, the compacted snapshot, the language.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use crate::{
    db::{
        Db, LiveChanges, fail_on_errors, internal, live, room_record, transact_with_retry,
        user_record,
    },
    error::{AppError, Problem},
    ids::UserId,
    notify::{
        model::{Notice, NoticeKind},
        repo::{bind_notice, notify_stmt},
    },
    rooms::code::model::{CodeLanguage, MAX_REPLAY_STEPS, ReplayStep},
    rooms::repo::LogStep,
};

fn doc_record(room: &str) -> RecordId {
    RecordId::new("pair_doc", room)
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// What a server needs to bring a room's document into memory.
#[derive(Debug)]
pub struct Stored {
    pub language: CodeLanguage,
    pub exercise: Option<String>,
    pub seq: u64,
    pub snapshot_seq: u64,
    pub snapshot: Vec<u8>,
    /// Updates after the snapshot, in order.
    pub tail: Vec<(u64, Vec<u8>)>,
    /// The document as of update `base_seq`: where the kept log begins (older updates are
    /// folded into it, see [`fold`]).
    pub base_seq: u64,
}

#[derive(Debug, SurrealValue)]
struct DocRow {
    language: String,
    exercise: Option<String>,
    seq: i64,
    snapshot: String,
    snapshot_seq: i64,
    base_seq: i64,
}

#[derive(Debug, SurrealValue)]
struct UpdateRow {
    seq: i64,
    bytes: String,
}

fn seq_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn decode(b: &str) -> Result<Vec<u8>, AppError> {
    b64().decode(b).map_err(|e| {
        tracing::error!(error = %e, "a stored shared-code update is not base64");
        AppError::Internal
    })
}

/// The room's document as stored (made empty on first use): the snapshot and what came after.
pub async fn load(db: &Db, room: &str, now: DateTime<Utc>) -> Result<Stored, AppError> {
    let mut res = db
        .query(
            "IF !record::exists($doc) {
                CREATE $doc SET room = $room, language = 'javascript', updated_at = $now
             };
             SELECT language, exercise, seq, snapshot, snapshot_seq, base_seq ?? 0 AS base_seq
                FROM ONLY $doc;
             SELECT seq, bytes FROM pair_update
                WHERE room = $room AND seq > $doc.snapshot_seq ORDER BY seq;",
        )
        .bind(("doc", doc_record(room)))
        .bind(("room", room_record(room)))
        .bind(("now", now))
        .await
        .map_err(internal("load shared code"))?;
    let row: Option<DocRow> = res.take(1).map_err(internal("load shared code"))?;
    let tail: Vec<UpdateRow> = res.take(2).map_err(internal("load shared code"))?;
    let row = row.ok_or(AppError::Internal)?;
    Ok(Stored {
        language: CodeLanguage::parse(&row.language).unwrap_or_default(),
        exercise: row.exercise,
        seq: seq_of(row.seq),
        snapshot_seq: seq_of(row.snapshot_seq),
        snapshot: decode(&row.snapshot)?,
        base_seq: seq_of(row.base_seq),
        tail: tail
            .into_iter()
            .map(|u| Ok((seq_of(u.seq), decode(&u.bytes)?)))
            .collect::<Result<_, AppError>>()?,
    })
}

/// The log after `after`, in order (rebuilding a document whose snapshot does not load).
pub async fn updates_after(
    db: &Db,
    room: &str,
    after: u64,
) -> Result<Vec<(u64, Vec<u8>)>, AppError> {
    updates_between(db, room, after, u64::MAX).await
}

/// Appends one update to the log; returns its sequence number. The number comes from the
/// document row in the same transaction, so two servers writing one room cannot reuse one.
pub async fn append(
    db: &Db,
    room: &str,
    author: Option<&UserId>,
    update: &[u8],
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let bytes = b64().encode(update);
    // Two app servers appending to one room at once: one commits, the other retries with the
    // next number (its attempt wrote nothing).
    let mut res = transact_with_retry("append shared code", Problem::TryAgain, || {
        db.query(
            "BEGIN TRANSACTION;
             LET $seq = (UPDATE ONLY $doc SET seq += 1, updated_at = $now RETURN VALUE seq);
             CREATE pair_update SET room = $room, seq = $seq, author = $author,
                bytes = $bytes, at = $now RETURN seq;
             COMMIT TRANSACTION;",
        )
        .bind(("doc", doc_record(room)))
        .bind(("room", room_record(room)))
        .bind(("author", author.map(user_record)))
        .bind(("bytes", bytes.clone()))
        .bind(("now", now))
        .into_future()
    })
    .await?;
    // The CREATE's row (whether BEGIN/COMMIT count as statements differs between versions).
    let seq = (0..res.num_statements())
        .rev()
        .find_map(|i| res.take::<Option<i64>>((i, "seq")).ok().flatten());
    seq.map(seq_of).ok_or_else(|| {
        tracing::error!(
            room,
            "an appended shared-code update has no sequence number"
        );
        AppError::Internal
    })
}

/// Stores the compacted document as of update `seq` (the log stays, for the replay, until
/// it is folded).
pub async fn save_snapshot(
    db: &Db,
    room: &str,
    snapshot: &[u8],
    seq: u64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let res = db
        .query(
            "UPDATE $doc SET snapshot = $snapshot, snapshot_seq = $seq, updated_at = $now
             WHERE snapshot_seq < $seq",
        )
        .bind(("doc", doc_record(room)))
        .bind(("snapshot", b64().encode(snapshot)))
        .bind(("seq", i64::try_from(seq).unwrap_or(i64::MAX)))
        .bind(("now", now))
        .await
        .map_err(internal("save shared-code snapshot"))?;
    fail_on_errors(res, "save shared-code snapshot", Problem::TitleEmpty)
}

#[derive(Debug, SurrealValue)]
struct BaseRow {
    base: String,
    base_seq: i64,
}

/// The folded start of the log: the document as of `base_seq` (empty bytes: nothing folded).
pub async fn base(db: &Db, room: &str) -> Result<(u64, Vec<u8>), AppError> {
    let mut res = db
        .query("SELECT base ?? '' AS base, base_seq ?? 0 AS base_seq FROM ONLY $doc")
        .bind(("doc", doc_record(room)))
        .await
        .map_err(internal("shared-code base"))?;
    let row: Option<BaseRow> = res.take(0).map_err(internal("shared-code base"))?;
    match row {
        Some(r) => Ok((seq_of(r.base_seq), decode(&r.base)?)),
        None => Ok((0, Vec::new())),
    }
}

/// The log between two points, in order: `(after, upto]`.
pub async fn updates_between(
    db: &Db,
    room: &str,
    after: u64,
    upto: u64,
) -> Result<Vec<(u64, Vec<u8>)>, AppError> {
    let mut res = db
        .query(
            "SELECT seq, bytes FROM pair_update
             WHERE room = $room AND seq > $after AND seq <= $upto ORDER BY seq",
        )
        .bind(("room", room_record(room)))
        .bind(("after", i64::try_from(after).unwrap_or(i64::MAX)))
        .bind(("upto", i64::try_from(upto).unwrap_or(i64::MAX)))
        .await
        .map_err(internal("shared-code log"))?;
    let rows: Vec<UpdateRow> = res.take(0).map_err(internal("shared-code log"))?;
    rows.into_iter()
        .map(|u| Ok((seq_of(u.seq), decode(&u.bytes)?)))
        .collect()
}

/// The size of each step of the log after `after` (base64 characters, as stored), newest
/// first: what a fold by weight is decided from.
pub async fn log_sizes(db: &Db, room: &str, after: u64) -> Result<Vec<(u64, u64)>, AppError> {
    let mut res = db
        .query(
            "SELECT seq, string::len(bytes) AS n FROM pair_update
             WHERE room = $room AND seq > $after ORDER BY seq DESC",
        )
        .bind(("room", room_record(room)))
        .bind(("after", i64::try_from(after).unwrap_or(i64::MAX)))
        .await
        .map_err(internal("shared-code log sizes"))?;
    let sizes: Vec<SizeRow> = res.take(0).map_err(internal("shared-code log sizes"))?;
    Ok(sizes
        .into_iter()
        .map(|r| (seq_of(r.seq), u64::try_from(r.n).unwrap_or(0)))
        .collect())
}

/// Moves the start of the kept log from `from` to `to`: `base` (the document as of `to`)
/// replaces the old base and the updates up to `to` are deleted, in one transaction. Does
/// nothing if another server folded first (the base is no longer at `from`).
pub async fn fold(db: &Db, room: &str, from: u64, to: u64, base: &[u8]) -> Result<(), AppError> {
    let res = db
        .query(
            "BEGIN TRANSACTION;
             IF ((SELECT VALUE base_seq ?? 0 FROM ONLY $doc) = $from) {
                UPDATE $doc SET base = $base, base_seq = $to;
                DELETE pair_update WHERE room = $room AND seq <= $to;
             };
             COMMIT TRANSACTION;",
        )
        .bind(("doc", doc_record(room)))
        .bind(("room", room_record(room)))
        .bind(("base", b64().encode(base)))
        .bind(("from", i64::try_from(from).unwrap_or(i64::MAX)))
        .bind(("to", i64::try_from(to).unwrap_or(i64::MAX)))
        .await
        .map_err(internal("fold shared-code log"))?;
    fail_on_errors(res, "fold shared-code log", Problem::TitleEmpty)
}

pub async fn set_language(
    db: &Db,
    room: &str,
    language: CodeLanguage,
    exercise: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let res = db
        .query(
            "UPDATE $doc SET language = $language, updated_at = $now,
                exercise = IF $set_exercise { $exercise } ELSE { exercise }",
        )
        .bind(("doc", doc_record(room)))
        .bind(("language", language.key()))
        .bind(("set_exercise", exercise.is_some()))
        .bind(("exercise", exercise.map(str::to_string)))
        .bind(("now", now))
        .await
        .map_err(internal("shared-code language"))?;
    fail_on_errors(res, "shared-code language", Problem::TitleEmpty)
}

#[derive(Debug, SurrealValue)]
struct StepRow {
    seq: i64,
    at: DateTime<Utc>,
    author_id: Option<String>,
    author_name: Option<String>,
    bytes: String,
}

/// The most base64 the replay sends (about 12 MiB of updates: hours of typing).
pub const MAX_REPLAY_BYTES: i64 = 16 * 1024 * 1024;

#[derive(Debug, SurrealValue)]
struct SizeRow {
    seq: i64,
    n: i64,
}

/// The update log for the replay, oldest first: the latest changes up to
/// [`MAX_REPLAY_STEPS`] and [`MAX_REPLAY_BYTES`]. With the state before the first of them
/// when older changes are left out (base64 of a whole-document update), built from the log.
pub async fn replay(db: &Db, room: &str) -> Result<(Vec<ReplayStep>, Option<String>), AppError> {
    // Sizes first (small rows), so the cut is made before any update is read.
    let mut res = db
        .query(
            "SELECT seq, string::len(bytes) AS n FROM pair_update WHERE room = $room
             ORDER BY seq DESC LIMIT $limit",
        )
        .bind(("room", room_record(room)))
        .bind(("limit", MAX_REPLAY_STEPS as i64))
        .await
        .map_err(internal("shared-code replay"))?;
    let sizes: Vec<SizeRow> = res.take(0).map_err(internal("shared-code replay"))?;
    let mut total = 0i64;
    let mut first = sizes.last().map_or(1, |r| r.seq);
    for row in &sizes {
        if total + row.n > MAX_REPLAY_BYTES {
            break;
        }
        total += row.n;
        first = row.seq;
    }
    let mut res = db
        .query(
            // Server edits (the code an exercise opened the session with) have no author.
            "SELECT seq, at, IF author != NONE THEN record::id(author) END AS author_id,
                author.display_name AS author_name, bytes
             FROM pair_update WHERE room = $room AND seq >= $first ORDER BY seq",
        )
        .bind(("room", room_record(room)))
        .bind(("first", first))
        .await
        .map_err(internal("shared-code replay"))?;
    let rows: Vec<StepRow> = res.take(0).map_err(internal("shared-code replay"))?;
    let steps = rows
        .into_iter()
        .map(|r| ReplayStep {
            seq: seq_of(r.seq),
            at: r.at.to_rfc3339(),
            author_name: r.author_name.unwrap_or_default(),
            author_id: r.author_id,
            update: r.bytes,
        })
        .collect();
    let (base_seq, base_bytes) = base(db, room).await?;
    let first = seq_of(first);
    let base = if first > base_seq + 1 {
        Some(b64().encode(state_before(db, room, base_seq, &base_bytes, first).await?))
    } else if base_seq > 0 {
        // The replay starts where the kept log does: from the folded base.
        Some(b64().encode(&base_bytes))
    } else {
        None
    };
    Ok((steps, base))
}

/// The document as it was before update `seq`, rebuilt from the folded base (the document as
/// of `base_seq`) and the kept log a page at a time: at most the kept log's length of steps.
async fn state_before(
    db: &Db,
    room: &str,
    base_seq: u64,
    base: &[u8],
    seq: u64,
) -> Result<Vec<u8>, AppError> {
    const PAGE: i64 = 500;
    let mut doc = if base.is_empty() {
        crate::rooms::code::doc::SharedDoc::default()
    } else {
        crate::rooms::code::doc::SharedDoc::from_snapshot(base).map_err(|r| {
            tracing::error!(
                room,
                reason = r.0,
                "the folded base of the log does not load"
            );
            AppError::Internal
        })?
    };
    let mut after = i64::try_from(base_seq).unwrap_or(i64::MAX);
    loop {
        let mut res = db
            .query(
                "SELECT seq, bytes FROM pair_update
                 WHERE room = $room AND seq > $after AND seq < $before ORDER BY seq LIMIT $page",
            )
            .bind(("room", room_record(room)))
            .bind(("after", after))
            .bind(("before", i64::try_from(seq).unwrap_or(i64::MAX)))
            .bind(("page", PAGE))
            .await
            .map_err(internal("shared-code replay base"))?;
        let rows: Vec<UpdateRow> = res.take(0).map_err(internal("shared-code replay base"))?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for row in &rows {
            if let Err(r) = doc.apply(&decode(&row.bytes)?) {
                tracing::error!(
                    room,
                    seq = row.seq,
                    reason = r.0,
                    "a stored update does not apply"
                );
            }
        }
    }
    Ok(doc.snapshot())
}

/// The newest open room `learner` shares with one of `mentors` (the mentor as its host).
pub async fn shared_open_room(
    db: &Db,
    learner: &UserId,
    mentors: &[&str],
) -> Result<Option<String>, AppError> {
    let mentors: Vec<RecordId> = mentors
        .iter()
        .map(|m| user_record(&UserId((*m).to_string())))
        .collect();
    let mut res = db
        .query(
            "SELECT VALUE record::id(id) FROM (
                SELECT id, created_at FROM room
                WHERE state = 'open' AND owner IN $mentors
                    AND id IN (SELECT VALUE room FROM room_member WHERE user = $learner)
                ORDER BY created_at DESC LIMIT 1
             )",
        )
        .bind(("mentors", mentors))
        .bind(("learner", user_record(learner)))
        .await
        .map_err(internal("shared room"))?;
    let rooms: Vec<String> = res.take(0).map_err(internal("shared room"))?;
    Ok(rooms.into_iter().next())
}

/// A room hosted by `mentor` with `learner` in it, and a notice to the mentor: one
/// transaction, so a room never exists without both people.
pub async fn create_pair_room(
    db: &Db,
    mentor: &UserId,
    learner: &UserId,
    title: &str,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let id = crate::db::new_key();
    let title: String = title
        .chars()
        .take(crate::rooms::model::MAX_TITLE_CHARS)
        .collect();
    let query = format!(
        "BEGIN TRANSACTION;
         CREATE $room SET owner = $mentor, title = $title, state = 'open', chat_seq = 0,
            created_at = $now;
         CREATE type::record('room_member', $mkey) SET room = $room, user = $mentor,
            host = true, added_at = $now;
         CREATE type::record('room_member', $lkey) SET room = $room, user = $learner,
            host = false, added_at = $now;
         {}
         COMMIT TRANSACTION;",
        notify_stmt("$mentor", NoticeKind::Room, "$notice", "$link")
    );
    let res = db
        .query(query.as_str())
        .bind(("room", room_record(&id)))
        .bind(("mkey", format!("{id}_{}", mentor.0)))
        .bind(("lkey", format!("{id}_{}", learner.0)))
        .bind(("mentor", user_record(mentor)))
        .bind(("learner", user_record(learner)))
        .bind(("title", title))
        .bind(("notice", bind_notice(notice)))
        .bind(("link", format!("/rooms/{id}")))
        .bind(("now", now))
        .await
        .map_err(internal("create pair room"))?;
    fail_on_errors(res, "create pair room", Problem::TitleEmpty)?;
    Ok(id)
}

/// Every shared-code step stored, on whichever app server, as it happens: each server with
/// the room's document loaded applies the log in order and relays it to its editors.
pub async fn watch_code(db: &Db) -> Result<LiveChanges<LogStep>, AppError> {
    live(
        db,
        "LIVE SELECT record::id(room) AS room, seq FROM pair_update WHERE $event = 'CREATE'",
    )
    .await
    .map_err(internal("watching shared code"))
}
