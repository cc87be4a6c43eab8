//! Mentoring queries (server only): profiles, requests, mentorships, bookings and their holds,
//! feedback, questions, notification mail and calendar feeds. Checks that decide between two
//! writers run inside the transaction and refuse with `THROW 'pw:<problem>'`.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SerdeWrapper, SurrealValue};

use crate::{
    accounts::model::Skill,
    db::{Db, fail_on_errors, internal, new_key, transact_with_retry, write_with_retry},
    error::{AppError, Problem},
    mentoring::{
        matching::WeeklyWindow,
        model::{MentorSettings, NeedsForm, format_window},
    },
    notify::{
        model::{Notice, NoticeKind},
        repo::{bind_notice, notify_stmt},
    },
};

pub fn user_rec(id: &str) -> RecordId {
    RecordId::new("user", id)
}

fn profile_rec(user: &str) -> RecordId {
    RecordId::new("mentor_profile", user)
}

fn request_rec(id: &str) -> RecordId {
    RecordId::new("mentoring_request", id)
}

pub fn mentorship_key(mentor: &str, learner: &str) -> String {
    format!("{mentor}_{learner}")
}

fn mentorship_rec(key: &str) -> RecordId {
    RecordId::new("mentorship", key)
}

fn booking_rec(id: &str) -> RecordId {
    RecordId::new("booking", id)
}

fn windows_lines(ws: &[WeeklyWindow]) -> Vec<String> {
    ws.iter().map(format_window).collect()
}

// ---------------------------------------------------------------------------------------------
// Mentor profiles

#[derive(Clone, Debug, SurrealValue)]
pub struct SettingsRow {
    pub headline: String,
    pub capacity: i64,
    pub session_minutes: i64,
    pub windows: Vec<String>,
    pub paused: bool,
}

pub async fn mentor_settings(db: &Db, user: &str) -> Result<Option<SettingsRow>, AppError> {
    let mut res = db
        .query("SELECT headline, capacity, session_minutes, windows, paused FROM ONLY $p")
        .bind(("p", profile_rec(user)))
        .await
        .map_err(internal("mentor settings"))?;
    res.take(0).map_err(internal("mentor settings"))
}

/// Saves a mentor's settings. Pausing declines every open request in the same transaction,
/// with `notice` to each learner (a request cannot slip in between: sending one checks the
/// pause in its own transaction, and both write the profile).
pub async fn save_mentor_settings(
    db: &Db,
    user: &str,
    s: &MentorSettings,
    message: &str,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let query = format!(
        "BEGIN TRANSACTION;
         UPSERT $p SET user = $user, headline = $headline, capacity = $capacity,
            session_minutes = $minutes, windows = $windows, paused = $paused, updated_at = $now,
            writes = (writes ?? 0) + 1;
         IF $paused {{
            FOR $r IN (SELECT id, learner FROM mentoring_request
                       WHERE mentor = $user AND state IN ['sent', 'viewed']) {{
                UPDATE $r.id SET state = 'declined', message = $message, answered_at = $now,
                    paused_decline = true;
                {}
            }};
         }};
         COMMIT TRANSACTION;",
        notify_stmt(
            "$r.learner",
            NoticeKind::Request,
            "$notice",
            "'/mentors/find?again=' + record::id($r.id)"
        )
    );
    write_with_retry("save mentor settings", Problem::CapacityInvalid, || {
        db.query(query.as_str())
            .bind(("p", profile_rec(user)))
            .bind(("user", user_rec(user)))
            .bind(("headline", s.headline.clone()))
            .bind(("capacity", i64::from(s.capacity)))
            .bind(("minutes", i64::from(s.session_minutes)))
            .bind(("windows", windows_lines(&s.windows)))
            .bind(("paused", s.paused))
            .bind(("message", message.to_string()))
            .bind(("notice", bind_notice(notice)))
            .bind(("now", now))
            .into_future()
    })
    .await
}

/// A mentor with what ranking and the directory need.
#[derive(SurrealValue)]
pub struct MentorRow {
    pub id: String,
    pub name: String,
    pub bio: String,
    pub skills: SerdeWrapper<Vec<Skill>>,
    pub languages: Vec<String>,
    pub timezone: String,
    pub headline: String,
    pub capacity: i64,
    pub session_minutes: i64,
    pub windows: Vec<String>,
    pub paused: bool,
    pub active_mentees: i64,
    pub stars: Vec<i64>,
    pub response_secs: Vec<i64>,
}

const MENTOR_FIELDS: &str = "record::id(user) AS id, user.display_name AS name, user.bio AS bio,
    user.skills AS skills, user.languages AS languages, user.timezone AS timezone, headline,
    capacity, session_minutes, windows, paused,
    array::len((SELECT VALUE id FROM mentorship WHERE in = $parent.user AND active = true))
        AS active_mentees,
    (SELECT VALUE stars FROM feedback WHERE subject = $parent.user AND about = 'mentor') AS stars,
    (SELECT VALUE time::unix(answered_at) - time::unix(created_at) FROM mentoring_request
        WHERE mentor = $parent.user AND state IN ['accepted', 'declined'] AND answered_at != NONE
        AND paused_decline = false) AS response_secs";

pub async fn mentors(db: &Db) -> Result<Vec<MentorRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {MENTOR_FIELDS} FROM mentor_profile
             WHERE 'mentor' IN user.roles AND user.suspended_at = NONE"
        ))
        .await
        .map_err(internal("mentors"))?;
    res.take(0).map_err(internal("mentors"))
}

pub async fn mentor(db: &Db, user: &str) -> Result<Option<MentorRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {MENTOR_FIELDS} FROM ONLY $p
             WHERE 'mentor' IN user.roles AND user.suspended_at = NONE"
        ))
        .bind(("p", profile_rec(user)))
        .await
        .map_err(internal("mentor"))?;
    res.take(0).map_err(internal("mentor"))
}

// ---------------------------------------------------------------------------------------------
// Requests

#[derive(SurrealValue)]
pub struct RequestRow {
    pub id: String,
    pub learner: String,
    pub learner_name: String,
    pub mentor: String,
    pub mentor_name: String,
    pub goals: String,
    pub skills: SerdeWrapper<Vec<Skill>>,
    pub languages: Vec<String>,
    pub windows: Vec<String>,
    pub timezone: String,
    pub reasons: String,
    pub state: String,
    pub message: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

const REQUEST_FIELDS: &str = "record::id(id) AS id, record::id(learner) AS learner,
    learner.display_name AS learner_name, record::id(mentor) AS mentor,
    mentor.display_name AS mentor_name, goals, skills, languages, windows, timezone, reasons,
    state, message, created_at, expires_at";

pub async fn request(db: &Db, id: &str) -> Result<Option<RequestRow>, AppError> {
    let mut res = db
        .query(format!("SELECT {REQUEST_FIELDS} FROM ONLY $r"))
        .bind(("r", request_rec(id)))
        .await
        .map_err(internal("request"))?;
    res.take(0).map_err(internal("request"))
}

/// Requests sent by and to `user`, newest first (open ones and those of the last 30 days).
pub async fn requests_of(
    db: &Db,
    user: &str,
    now: DateTime<Utc>,
) -> Result<(Vec<RequestRow>, Vec<RequestRow>), AppError> {
    let mut res = db
        .query(format!(
            "SELECT {REQUEST_FIELDS} FROM mentoring_request WHERE learner = $u
                AND (state IN ['sent', 'viewed'] OR created_at > $since) ORDER BY created_at DESC;
             SELECT {REQUEST_FIELDS} FROM mentoring_request WHERE mentor = $u
                AND (state IN ['sent', 'viewed'] OR created_at > $since) ORDER BY created_at DESC;"
        ))
        .bind(("u", user_rec(user)))
        .bind(("since", now - chrono::Duration::days(30)))
        .await
        .map_err(internal("requests"))?;
    Ok((
        res.take(0).map_err(internal("requests"))?,
        res.take(1).map_err(internal("requests"))?,
    ))
}

/// Sends a request: refused if the mentor is paused or gone, if the two already work
/// together, or if one from this learner to this mentor is still open.
#[allow(clippy::too_many_arguments)]
pub async fn create_request(
    db: &Db,
    learner: &str,
    mentor: &str,
    needs: &NeedsForm,
    reasons: &str,
    notice: &Notice,
    now: DateTime<Utc>,
    ttl: chrono::Duration,
) -> Result<String, AppError> {
    let id = new_key();
    let query = format!(
        "BEGIN TRANSACTION;
         LET $profile = (SELECT paused FROM ONLY $p);
         IF $profile = NONE OR $profile.paused OR !('mentor' IN $mentor.roles)
            OR $mentor.suspended_at != NONE {{
            THROW 'pw:mentor_unavailable';
         }};
         IF (SELECT VALUE active FROM ONLY $ms) = true {{ THROW 'pw:already_mentored'; }};
         IF array::len((SELECT VALUE id FROM mentoring_request WHERE learner = $learner
                AND mentor = $mentor AND state IN ['sent', 'viewed'])) > 0 {{
            THROW 'pw:request_open';
         }};
         UPDATE $p SET writes = (writes ?? 0) + 1;
         CREATE $r SET learner = $learner, mentor = $mentor, goals = $goals, skills = $skills,
            languages = $languages, windows = $windows, timezone = $tz, reasons = $reasons,
            state = 'sent', created_at = $now, expires_at = $expires;
         {}
         COMMIT TRANSACTION;",
        notify_stmt("$mentor", NoticeKind::Request, "$notice", "$link")
    );
    write_with_retry("create request", Problem::RequestOpen, || {
        db.query(query.as_str())
            .bind(("p", profile_rec(mentor)))
            .bind(("ms", mentorship_rec(&mentorship_key(mentor, learner))))
            .bind(("r", request_rec(&id)))
            .bind(("learner", user_rec(learner)))
            .bind(("mentor", user_rec(mentor)))
            .bind(("goals", needs.goals.clone()))
            .bind(("skills", SerdeWrapper(needs.skills.clone())))
            .bind(("languages", needs.languages.clone()))
            .bind(("windows", windows_lines(&needs.windows)))
            .bind(("tz", needs.timezone.name().to_string()))
            .bind(("reasons", reasons.to_string()))
            .bind(("notice", bind_notice(notice)))
            .bind(("link", format!("/requests/{id}")))
            .bind(("now", now))
            .bind(("expires", now + ttl))
            .into_future()
    })
    .await?;
    Ok(id)
}

/// The mentor opened the request: `sent` → `viewed`, and the learner is told (once).
pub async fn mark_viewed(
    db: &Db,
    id: &str,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let query = format!(
        "BEGIN TRANSACTION;
         LET $changed = (UPDATE $r SET state = 'viewed', viewed_at = $now WHERE state = 'sent'
            AND expires_at > $now RETURN AFTER);
         IF array::len($changed) > 0 {{ {} }};
         COMMIT TRANSACTION;",
        notify_stmt("$r.learner", NoticeKind::Request, "$notice", "'/mentoring'")
    );
    write_with_retry("view request", Problem::RequestClosed, || {
        db.query(query.as_str())
            .bind(("r", request_rec(id)))
            .bind(("notice", bind_notice(notice)))
            .bind(("now", now))
            .into_future()
    })
    .await
}

/// The mentor accepts (creating the mentorship, within capacity) or declines an open request.
pub async fn answer_request(
    db: &Db,
    id: &str,
    accept: bool,
    message: Option<&str>,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let query = format!(
        "BEGIN TRANSACTION;
         LET $req = (SELECT * FROM ONLY $r);
         IF $req.state NOT IN ['sent', 'viewed'] OR $req.expires_at <= $now {{
            THROW 'pw:request_closed';
         }};
         -- Writing the profile makes two accepts by one mentor conflict, so capacity holds.
         UPDATE $p SET writes = (writes ?? 0) + 1;
         IF $accept {{
            LET $active = array::len((SELECT VALUE id FROM mentorship
                WHERE in = $req.mentor AND active = true));
            IF $active >= (SELECT VALUE capacity FROM ONLY $p) {{ THROW 'pw:mentor_full'; }};
            IF record::exists($ms) {{
                UPDATE $ms SET active = true, ended_at = NONE, request = $r;
            }} ELSE {{
                INSERT RELATION INTO mentorship {{ id: $ms, in: $req.mentor, out: $req.learner,
                    request: $r, active: true, started_at: $now }};
            }};
         }};
         UPDATE $r SET state = IF $accept {{ 'accepted' }} ELSE {{ 'declined' }},
            answered_at = $now, message = $message;
         {}
         COMMIT TRANSACTION;",
        notify_stmt("$req.learner", NoticeKind::Request, "$notice", "$link")
    );
    let req = request(db, id).await?.ok_or(AppError::NotFound)?;
    let ms_key = mentorship_key(&req.mentor, &req.learner);
    let link = if accept {
        format!("/mentorships/{ms_key}")
    } else {
        format!("/mentors/find?again={id}")
    };
    write_with_retry("answer request", Problem::RequestClosed, || {
        db.query(query.as_str())
            .bind(("r", request_rec(id)))
            .bind(("p", profile_rec(&req.mentor)))
            .bind(("ms", mentorship_rec(&ms_key)))
            .bind(("accept", accept))
            .bind(("message", message.map(str::to_string)))
            .bind(("notice", bind_notice(notice)))
            .bind(("link", link.clone()))
            .bind(("now", now))
            .into_future()
    })
    .await
}

pub async fn withdraw_request(
    db: &Db,
    id: &str,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let query = format!(
        "BEGIN TRANSACTION;
         LET $changed = (UPDATE $r SET state = 'withdrawn', answered_at = $now
            WHERE state IN ['sent', 'viewed'] RETURN AFTER);
         IF array::len($changed) = 0 {{ THROW 'pw:request_closed'; }};
         {}
         COMMIT TRANSACTION;",
        notify_stmt("$r.mentor", NoticeKind::Request, "$notice", "'/mentoring'")
    );
    write_with_retry("withdraw request", Problem::RequestClosed, || {
        db.query(query.as_str())
            .bind(("r", request_rec(id)))
            .bind(("notice", bind_notice(notice)))
            .bind(("now", now))
            .into_future()
    })
    .await
}

/// Open requests past their expiry (the expiry job's work list).
pub async fn due_requests(db: &Db, now: DateTime<Utc>) -> Result<Vec<RequestRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {REQUEST_FIELDS} FROM mentoring_request
             WHERE state IN ['sent', 'viewed'] AND expires_at <= $now LIMIT 500"
        ))
        .bind(("now", now))
        .await
        .map_err(internal("due requests"))?;
    res.take(0).map_err(internal("due requests"))
}

/// Expires one request and tells both sides, unless it was answered meanwhile.
pub async fn expire_request(
    db: &Db,
    id: &str,
    to_learner: &Notice,
    to_mentor: &Notice,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let query = format!(
        "BEGIN TRANSACTION;
         LET $changed = (UPDATE $r SET state = 'expired'
            WHERE state IN ['sent', 'viewed'] AND expires_at <= $now RETURN AFTER);
         IF array::len($changed) > 0 {{ {} {} }};
         COMMIT TRANSACTION;",
        notify_stmt(
            "$r.learner",
            NoticeKind::Request,
            "$to_learner",
            "'/mentors/find?again=' + record::id($r)"
        ),
        notify_stmt(
            "$r.mentor",
            NoticeKind::Request,
            "$to_mentor",
            "'/mentoring'"
        )
    );
    write_with_retry("expire request", Problem::RequestClosed, || {
        db.query(query.as_str())
            .bind(("r", request_rec(id)))
            .bind(("to_learner", bind_notice(to_learner)))
            .bind(("to_mentor", bind_notice(to_mentor)))
            .bind(("now", now))
            .into_future()
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Mentorships

#[derive(Clone, Debug, SurrealValue)]
pub struct MentorshipRow {
    pub id: String,
    pub mentor: String,
    pub mentor_name: String,
    pub learner: String,
    pub learner_name: String,
    pub active: bool,
}

const MENTORSHIP_FIELDS: &str = "record::id(id) AS id, record::id(in) AS mentor,
    in.display_name AS mentor_name, record::id(out) AS learner,
    out.display_name AS learner_name, active";

pub async fn mentorship(db: &Db, key: &str) -> Result<Option<MentorshipRow>, AppError> {
    let mut res = db
        .query(format!("SELECT {MENTORSHIP_FIELDS} FROM ONLY $m"))
        .bind(("m", mentorship_rec(key)))
        .await
        .map_err(internal("mentorship"))?;
    res.take(0).map_err(internal("mentorship"))
}

pub async fn mentorships_of(db: &Db, user: &str) -> Result<Vec<MentorshipRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {MENTORSHIP_FIELDS} FROM mentorship WHERE (in = $u OR out = $u)
             AND active = true ORDER BY started_at DESC"
        ))
        .bind(("u", user_rec(user)))
        .await
        .map_err(internal("mentorships"))?;
    res.take(0).map_err(internal("mentorships"))
}

/// Ends an active mentorship (either side may): it no longer counts against the mentor's
/// capacity, the mentor's access to the learner's work ends with it (every check reads
/// `active`), and sessions still ahead are cancelled with their holds freed and rooms closed;
/// the other side is told. One transaction. Returns the rooms of the cancelled sessions (their
/// live sockets are closed by the caller); `MentorshipEnded` when it had already ended.
pub async fn end_mentorship(
    db: &Db,
    key: &str,
    by: &str,
    other: &str,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    let query = format!(
        "BEGIN TRANSACTION;
         LET $changed = (UPDATE $m SET active = false, ended_at = $now WHERE active = true
            RETURN AFTER);
         IF array::len($changed) = 0 {{ THROW 'pw:mentorship_ended'; }};
         LET $ahead = (UPDATE booking SET state = 'cancelled', cancelled_at = $now,
            cancelled_by = $by WHERE mentorship = $m AND state = 'booked' AND starts_at > $now
            RETURN AFTER);
         DELETE slot_hold WHERE booking IN $ahead.id;
         FOR $b IN $ahead {{ UPDATE $b.room SET state = 'closed', closed_at = $now; }};
         {}
         SELECT VALUE record::id(room) FROM $ahead;
         COMMIT TRANSACTION;",
        notify_stmt("$other", NoticeKind::Request, "$notice", "$link")
    );
    let mut res = transact_with_retry("end mentorship", Problem::MentorshipEnded, || {
        db.query(query.as_str())
            .bind(("m", mentorship_rec(key)))
            .bind(("by", user_rec(by)))
            .bind(("other", user_rec(other)))
            .bind(("notice", bind_notice(notice)))
            .bind(("link", format!("/mentorships/{key}")))
            .bind(("now", now))
            .into_future()
    })
    .await?;
    // BEGIN and COMMIT count as statements: the SELECT is the one before COMMIT.
    let select = res.num_statements().saturating_sub(2);
    res.take(select).map_err(internal("end mentorship"))
}

/// Whether `mentor` mentors `learner` now (such a mentor may review their submissions).
pub async fn is_mentor_of(db: &Db, mentor: &str, learner: &str) -> Result<bool, AppError> {
    let mut res = db
        .query("SELECT VALUE active FROM ONLY $m")
        .bind(("m", mentorship_rec(&mentorship_key(mentor, learner))))
        .await
        .map_err(internal("is mentor of"))?;
    let active: Option<bool> = res.take(0).map_err(internal("is mentor of"))?;
    Ok(active == Some(true))
}

// ---------------------------------------------------------------------------------------------
// Bookings

#[derive(Clone, Debug, SurrealValue)]
pub struct BookingRow {
    pub id: String,
    pub mentorship: String,
    pub mentor: String,
    pub mentor_name: String,
    pub learner: String,
    pub learner_name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub state: String,
    pub room: String,
    pub reminded: Vec<String>,
    pub joined: Vec<String>,
}

const BOOKING_FIELDS: &str = "record::id(id) AS id, record::id(mentorship) AS mentorship,
    record::id(mentor) AS mentor, mentor.display_name AS mentor_name,
    record::id(learner) AS learner, learner.display_name AS learner_name, starts_at, ends_at,
    state, record::id(room) AS room, reminded, joined.map(|$u| record::id($u)) AS joined";

pub async fn booking(db: &Db, id: &str) -> Result<Option<BookingRow>, AppError> {
    let mut res = db
        .query(format!("SELECT {BOOKING_FIELDS} FROM ONLY $b"))
        .bind(("b", booking_rec(id)))
        .await
        .map_err(internal("booking"))?;
    res.take(0).map_err(internal("booking"))
}

/// Sessions `user` takes part in (either side) ending after `from`, soonest first.
pub async fn bookings_of(
    db: &Db,
    user: &str,
    from: DateTime<Utc>,
    include_cancelled: bool,
) -> Result<Vec<BookingRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {BOOKING_FIELDS} FROM booking WHERE (mentor = $u OR learner = $u)
             AND ends_at > $from AND ($all OR state = 'booked') ORDER BY starts_at LIMIT 500"
        ))
        .bind(("u", user_rec(user)))
        .bind(("from", from))
        .bind(("all", include_cancelled))
        .await
        .map_err(internal("bookings"))?;
    res.take(0).map_err(internal("bookings"))
}

pub async fn bookings_of_mentorship(db: &Db, key: &str) -> Result<Vec<BookingRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {BOOKING_FIELDS} FROM booking WHERE mentorship = $m ORDER BY starts_at DESC
             LIMIT 100"
        ))
        .bind(("m", mentorship_rec(key)))
        .await
        .map_err(internal("bookings of mentorship"))?;
    res.take(0).map_err(internal("bookings of mentorship"))
}

/// What a new booking writes.
pub struct NewBooking<'a> {
    pub mentorship: &'a str,
    pub mentor: &'a str,
    pub learner: &'a str,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub holds: Vec<String>,
    pub room_title: String,
    pub notice: Notice,
}

/// Books a session in one transaction: the booking, its quarter-hour holds (a unique index:
/// an overlapping booking, committed first by anyone, makes this one fail), its room with
/// both people in it, and the mentor's notification. Returns the booking id.
pub async fn create_booking(
    db: &Db,
    b: &NewBooking<'_>,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let (id, room) = (new_key(), new_key());
    let query = format!(
        "BEGIN TRANSACTION;
         IF (SELECT VALUE active FROM ONLY $ms) != true {{ THROW 'pw:not_mentored'; }};
         -- A suspended mentor cannot be booked (they cannot sign in to come).
         IF $mentor.suspended_at != NONE {{ THROW 'pw:mentor_unavailable'; }};
         IF array::len((SELECT VALUE id FROM slot_hold WHERE key IN $holds)) > 0 {{
            THROW 'pw:slot_taken';
         }};
         CREATE $room SET owner = $mentor, title = $title, state = 'open', chat_seq = 0,
            booking = $key, created_at = $now;
         CREATE $host SET room = $room, user = $mentor, host = true, added_at = $now;
         CREATE $guest SET room = $room, user = $learner, host = false, added_at = $now;
         CREATE $b SET mentorship = $ms, mentor = $mentor, learner = $learner, starts_at = $start,
            ends_at = $end, state = 'booked', room = $room, reminded = [], created_at = $now;
         FOR $k IN $holds {{ CREATE slot_hold SET key = $k, booking = $b; }};
         {}
         COMMIT TRANSACTION;",
        notify_stmt("$mentor", NoticeKind::Booking, "$notice", "$link")
    );
    let member = |user: &str| RecordId::new("room_member", format!("{room}_{user}"));
    write_with_retry("create booking", Problem::SlotTaken, || {
        db.query(query.as_str())
            .bind(("ms", mentorship_rec(b.mentorship)))
            .bind(("holds", b.holds.clone()))
            .bind(("room", RecordId::new("room", room.as_str())))
            .bind(("host", member(b.mentor)))
            .bind(("guest", member(b.learner)))
            .bind(("mentor", user_rec(b.mentor)))
            .bind(("learner", user_rec(b.learner)))
            .bind(("title", b.room_title.clone()))
            .bind(("key", id.clone()))
            .bind(("b", booking_rec(&id)))
            .bind(("start", b.start))
            .bind(("end", b.end))
            .bind(("notice", bind_notice(&b.notice)))
            .bind(("link", format!("/bookings/{id}")))
            .bind(("now", now))
            .into_future()
    })
    .await?;
    Ok(id)
}

/// Cancels a booked session: frees its holds, closes its room and tells `other`.
pub async fn cancel_booking(
    db: &Db,
    id: &str,
    by: &str,
    other: &str,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let query = format!(
        "BEGIN TRANSACTION;
         LET $changed = (UPDATE $b SET state = 'cancelled', cancelled_at = $now, cancelled_by = $by
            WHERE state = 'booked' RETURN AFTER);
         IF array::len($changed) = 0 {{ THROW 'pw:booking_cancelled'; }};
         DELETE slot_hold WHERE booking = $b;
         LET $room = (SELECT VALUE room FROM ONLY $b);
         UPDATE $room SET state = 'closed', closed_at = $now;
         {}
         COMMIT TRANSACTION;",
        notify_stmt("$other", NoticeKind::Booking, "$notice", "$link")
    );
    write_with_retry("cancel booking", Problem::BookingCancelled, || {
        db.query(query.as_str())
            .bind(("b", booking_rec(id)))
            .bind(("by", user_rec(by)))
            .bind(("other", user_rec(other)))
            .bind(("notice", bind_notice(notice)))
            .bind(("link", format!("/bookings/{id}")))
            .bind(("now", now))
            .into_future()
    })
    .await
}

/// Moves a booked session to a new time: the old holds go and the new ones are taken in the
/// same transaction, so the session is never double-booked nor lost half-way.
#[allow(clippy::too_many_arguments)] // one transaction's inputs, all needed
pub async fn reschedule_booking(
    db: &Db,
    id: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    holds: &[String],
    other: &str,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let query = format!(
        "BEGIN TRANSACTION;
         IF (SELECT VALUE state FROM ONLY $b) != 'booked' {{ THROW 'pw:booking_cancelled'; }};
         DELETE slot_hold WHERE booking = $b;
         IF array::len((SELECT VALUE id FROM slot_hold WHERE key IN $holds)) > 0 {{
            THROW 'pw:slot_taken';
         }};
         UPDATE $b SET starts_at = $start, ends_at = $end, reminded = [], joined = [];
         FOR $k IN $holds {{ CREATE slot_hold SET key = $k, booking = $b; }};
         {}
         COMMIT TRANSACTION;",
        notify_stmt("$other", NoticeKind::Booking, "$notice", "$link")
    );
    write_with_retry("reschedule booking", Problem::SlotTaken, || {
        db.query(query.as_str())
            .bind(("b", booking_rec(id)))
            .bind(("holds", holds.to_vec()))
            .bind(("start", start))
            .bind(("end", end))
            .bind(("other", user_rec(other)))
            .bind(("notice", bind_notice(notice)))
            .bind(("link", format!("/bookings/{id}")))
            .bind(("now", now))
            .into_future()
    })
    .await
}

/// Booked sessions starting within `within` from now that have not had reminder `tag` yet.
pub async fn due_reminders(
    db: &Db,
    now: DateTime<Utc>,
    within: chrono::Duration,
    tag: &str,
) -> Result<Vec<BookingRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {BOOKING_FIELDS} FROM booking WHERE state = 'booked' AND starts_at > $now
             AND starts_at <= $until AND $tag NOT IN reminded LIMIT 500"
        ))
        .bind(("now", now))
        .bind(("until", now + within))
        .bind(("tag", tag.to_string()))
        .await
        .map_err(internal("due reminders"))?;
    res.take(0).map_err(internal("due reminders"))
}

/// Records reminder `tag` for a booking and notifies both people, once.
pub async fn remind(
    db: &Db,
    b: &BookingRow,
    tag: &str,
    to_mentor: &Notice,
    to_learner: &Notice,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let query = format!(
        "BEGIN TRANSACTION;
         LET $changed = (UPDATE $b SET reminded += $tag WHERE state = 'booked'
            AND $tag NOT IN reminded RETURN AFTER);
         IF array::len($changed) > 0 {{ {} {} }};
         COMMIT TRANSACTION;",
        notify_stmt("$mentor", NoticeKind::Reminder, "$to_mentor", "$link"),
        notify_stmt("$learner", NoticeKind::Reminder, "$to_learner", "$link")
    );
    write_with_retry("reminder", Problem::BookingCancelled, || {
        db.query(query.as_str())
            .bind(("b", booking_rec(&b.id)))
            .bind(("tag", tag.to_string()))
            .bind(("mentor", user_rec(&b.mentor)))
            .bind(("learner", user_rec(&b.learner)))
            .bind(("to_mentor", bind_notice(to_mentor)))
            .bind(("to_learner", bind_notice(to_learner)))
            .bind(("link", format!("/bookings/{}", b.id)))
            .bind(("now", now))
            .into_future()
    })
    .await
}

/// Someone entered a booked session's room while it is on (from 15 minutes before its start
/// to its end): they attended, and rating opens for them. Entering days early counts nothing.
pub async fn note_joined(
    db: &Db,
    room: &str,
    user: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let res = db
        .query(
            "UPDATE booking SET joined = array::union(joined, [$u])
             WHERE room = $room AND state = 'booked' AND $u NOT IN joined
                AND starts_at <= $early AND ends_at > $now",
        )
        .bind(("room", RecordId::new("room", room)))
        .bind(("u", user_rec(user)))
        .bind((
            "early",
            now + chrono::Duration::minutes(crate::mentoring::model::JOIN_EARLY_MINUTES),
        ))
        .bind(("now", now))
        .await
        .map_err(internal("note joined"))?;
    fail_on_errors(res, "note joined", Problem::TitleEmpty)
}

// ---------------------------------------------------------------------------------------------
// Feedback and questions

#[derive(Clone, Debug, SurrealValue)]
pub struct FeedbackRow {
    pub author: String,
    pub author_name: String,
    pub stars: i64,
    pub comment: String,
}

pub async fn feedback_of(db: &Db, booking: &str) -> Result<Vec<FeedbackRow>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(author) AS author, author.display_name AS author_name, stars,
                comment FROM feedback WHERE booking = $b",
        )
        .bind(("b", booking_rec(booking)))
        .await
        .map_err(internal("feedback"))?;
    res.take(0).map_err(internal("feedback"))
}

#[allow(clippy::too_many_arguments)]
pub async fn rate(
    db: &Db,
    booking: &str,
    author: &str,
    subject: &str,
    about_mentor: bool,
    stars: u8,
    comment: &str,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let query = format!(
        "BEGIN TRANSACTION;
         IF record::exists($f) {{ THROW 'pw:already_rated'; }};
         CREATE $f SET booking = $b, author = $author, subject = $subject, about = $about,
            stars = $stars, comment = $comment, created_at = $now;
         -- s and S of the learner's evaluation score, kept with the feedback.
         IF $about = 'learner' {{
            UPDATE $subject SET feedback_stars = (feedback_stars ?? 0) + $stars,
                feedback_count = (feedback_count ?? 0) + 1;
         }};
         {}
         COMMIT TRANSACTION;",
        notify_stmt("$subject", NoticeKind::Feedback, "$notice", "$link")
    );
    write_with_retry("rate session", Problem::AlreadyRated, || {
        db.query(query.as_str())
            .bind((
                "f",
                RecordId::new("feedback", format!("{booking}_{author}")),
            ))
            .bind(("b", booking_rec(booking)))
            .bind(("author", user_rec(author)))
            .bind(("subject", user_rec(subject)))
            .bind(("about", if about_mentor { "mentor" } else { "learner" }))
            .bind(("stars", i64::from(stars)))
            .bind(("comment", comment.to_string()))
            .bind(("notice", bind_notice(notice)))
            .bind(("link", format!("/bookings/{booking}")))
            .bind(("now", now))
            .into_future()
    })
    .await
}

#[derive(Clone, Debug, SurrealValue)]
pub struct PostRow {
    pub id: String,
    pub parent: Option<String>,
    pub author: String,
    pub helpful: bool,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

pub async fn posts(db: &Db, mentorship: &str) -> Result<Vec<PostRow>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(id) AS id, IF parent != NONE { record::id(parent) } AS parent,
                record::id(author) AS author, helpful ?? false AS helpful,
                author.display_name AS author_name, body, created_at
             FROM mentorship_post WHERE mentorship = $m ORDER BY created_at LIMIT 500",
        )
        .bind(("m", mentorship_rec(mentorship)))
        .await
        .map_err(internal("posts"))?;
    res.take(0).map_err(internal("posts"))
}

/// Adds a question (or a reply to one, which must be in the same mentorship).
#[allow(clippy::too_many_arguments)] // one transaction's inputs, all needed
pub async fn add_post(
    db: &Db,
    mentorship: &str,
    author: &str,
    other: &str,
    parent: Option<&str>,
    body: &str,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let query = format!(
        "BEGIN TRANSACTION;
         -- A reply answers a question of this mentorship (threads are one level deep).
         IF $parent != NONE AND ((SELECT VALUE mentorship FROM ONLY $parent) != $m
                OR (SELECT VALUE parent FROM ONLY $parent) != NONE) {{
            THROW 'pw:post_empty';
         }};
         CREATE mentorship_post SET mentorship = $m, author = $author, parent = $parent,
            body = $body, created_at = $now;
         {}
         COMMIT TRANSACTION;",
        notify_stmt("$other", NoticeKind::Question, "$notice", "$link")
    );
    let res = db
        .query(query)
        .bind(("m", mentorship_rec(mentorship)))
        .bind(("author", user_rec(author)))
        .bind(("other", user_rec(other)))
        .bind((
            "parent",
            parent.map(|p| RecordId::new("mentorship_post", p)),
        ))
        .bind(("body", body.to_string()))
        .bind(("notice", bind_notice(notice)))
        .bind(("link", format!("/mentorships/{mentorship}#questions")))
        .bind(("now", now))
        .await
        .map_err(internal("add post"))?;
    fail_on_errors(res, "add post", Problem::PostEmpty)
}

// ---------------------------------------------------------------------------------------------
// Calendar feeds and zones

pub async fn has_feed(db: &Db, user: &str) -> Result<bool, AppError> {
    let mut res = db
        .query(
            "RETURN array::len((SELECT VALUE id FROM calendar_feed WHERE user = $u LIMIT 1)) > 0",
        )
        .bind(("u", user_rec(user)))
        .await
        .map_err(internal("feed token"))?;
    let has: Option<bool> = res.take(0).map_err(internal("feed token"))?;
    Ok(has.unwrap_or(false))
}

/// A feed address's record: keyed by the SHA-256 of its secret, so the database (or a backup
/// of it) holds no working address; the secret is shown once, when it is made.
fn feed_rec(token: &str) -> RecordId {
    RecordId::new("calendar_feed", crate::accounts::session::hash_token(token))
}

/// Replaces the user's feed address with a new secret (the old one stops working at once).
pub async fn rotate_feed(
    db: &Db,
    user: &str,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    write_with_retry("rotate feed", Problem::TitleEmpty, || {
        db.query(
            "BEGIN TRANSACTION;
             DELETE calendar_feed WHERE user = $u;
             CREATE $f SET user = $u, created_at = $now;
             COMMIT TRANSACTION;",
        )
        .bind(("u", user_rec(user)))
        .bind(("f", feed_rec(token)))
        .bind(("now", now))
        .into_future()
    })
    .await
}

pub async fn feed_owner(db: &Db, token: &str) -> Result<Option<String>, AppError> {
    let mut res = db
        .query("SELECT VALUE record::id(user) FROM ONLY $f")
        .bind(("f", feed_rec(token)))
        .await
        .map_err(internal("feed owner"))?;
    res.take(0).map_err(internal("feed owner"))
}

/// The user's time zone (IANA name), for showing times.
pub async fn zone_of(db: &Db, user: &str) -> Result<String, AppError> {
    crate::db::zone_of(db, &crate::ids::UserId(user.to_string())).await
}
