//! Room queries (server only): rooms, their participants, and the chat log.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use crate::{
    db::{
        Db, LiveChanges, fail_on_errors, internal, live, new_key, room_record, transact_with_retry,
        user_record, write_with_retry,
    },
    error::{AppError, Problem},
    ids::UserId,
    notify::{
        model::{Notice, NoticeKind},
        repo::{bind_notice, notify_stmt},
    },
    rooms::model::{ChatMessage, RoomState},
};

/// Both keys are alphanumeric (`ids::is_record_key`), so `_` cannot occur in either.
fn member_record(room: &str, user: &UserId) -> RecordId {
    RecordId::new("room_member", format!("{room}_{}", user.0))
}

#[derive(Clone, Debug, SurrealValue)]
pub struct RoomRow {
    pub id: String,
    pub title: String,
    pub state: String,
    pub owner: String,
    pub chat_seq: i64,
    pub created_at: DateTime<Utc>,
}

impl RoomRow {
    pub fn state(&self) -> RoomState {
        RoomState::parse(&self.state).unwrap_or(RoomState::Closed)
    }
}

#[derive(Clone, Debug, SurrealValue)]
pub struct MemberRow {
    pub user_id: String,
    pub name: String,
    pub host: bool,
    /// The address the host invited them at (none for guests added before invitations were
    /// by address).
    pub invited_as: Option<String>,
    /// Whether they have entered the room since they were invited.
    pub joined: bool,
    pub added_at: DateTime<Utc>,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct InviteRow {
    pub email: String,
    pub invited_at: DateTime<Utc>,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct RoomListRow {
    pub id: String,
    pub title: String,
    pub state: String,
    pub host: bool,
    pub host_name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, SurrealValue)]
struct ChatRow {
    seq: i64,
    author_id: String,
    author_name: String,
    body: String,
    created_at: DateTime<Utc>,
}

impl ChatRow {
    fn view(self) -> ChatMessage {
        ChatMessage {
            seq: u64::try_from(self.seq).unwrap_or(0),
            author_id: self.author_id,
            author_name: self.author_name,
            body: self.body,
            at: self.created_at.to_rfc3339(),
        }
    }
}

/// Creates a room with its owner as host, in one transaction.
pub async fn create_room(
    db: &Db,
    owner: &UserId,
    title: &str,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let id = new_key();
    let res = db
        .query(
            "BEGIN TRANSACTION;
             CREATE $room SET owner = $owner, title = $title, state = 'open', chat_seq = 0,
                created_at = $now;
             CREATE $member SET room = $room, user = $owner, host = true, added_at = $now;
             COMMIT TRANSACTION;",
        )
        .bind(("room", room_record(&id)))
        .bind(("member", member_record(&id, owner)))
        .bind(("owner", user_record(owner)))
        .bind(("title", title.to_string()))
        .bind(("now", now))
        .await
        .map_err(internal("create room"))?;
    fail_on_errors(res, "create room", Problem::TitleEmpty)?;
    Ok(id)
}

pub async fn room(db: &Db, id: &str) -> Result<Option<RoomRow>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(id) AS id, title, state, record::id(owner) AS owner, chat_seq,
                created_at FROM ONLY $room",
        )
        .bind(("room", room_record(id)))
        .await
        .map_err(internal("room"))?;
    res.take(0).map_err(internal("room"))
}

/// Whether `user` is a participant, and whether they host: one record read, made for every
/// message a room socket carries.
pub async fn membership(db: &Db, room: &str, user: &UserId) -> Result<Option<bool>, AppError> {
    let mut res = db
        .query("SELECT VALUE host FROM ONLY $member")
        .bind(("member", member_record(room, user)))
        .await
        .map_err(internal("membership"))?;
    res.take(0).map_err(internal("membership"))
}

/// The room's state (`None` if it is gone) and its participants' ids, in one round trip.
pub async fn state_and_members(
    db: &Db,
    room: &str,
) -> Result<(Option<String>, Vec<String>), AppError> {
    let mut res = db
        .query(
            "SELECT VALUE state FROM ONLY $room;
             SELECT VALUE record::id(user) FROM room_member WHERE room = $room;",
        )
        .bind(("room", room_record(room)))
        .await
        .map_err(internal("room state and members"))?;
    let state: Option<String> = res.take(0).map_err(internal("room state"))?;
    let members: Vec<String> = res.take(1).map_err(internal("room members"))?;
    Ok((state, members))
}

pub async fn members(db: &Db, room: &str) -> Result<Vec<MemberRow>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(user) AS user_id, user.display_name AS name, host, added_at,
                invited_as, joined ?? true AS joined
             FROM room_member WHERE room = $room ORDER BY added_at",
        )
        .bind(("room", room_record(room)))
        .await
        .map_err(internal("room members"))?;
    res.take(0).map_err(internal("room members"))
}

/// Adds `user` (who confirmed `address`) as a guest and tells them, in one transaction;
/// adding someone already in changes nothing.
pub async fn add_member(
    db: &Db,
    room: &str,
    user: &UserId,
    address: &str,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let member = member_record(room, user);
    let query = format!(
        "BEGIN TRANSACTION;
         IF !record::exists($member) {{
            CREATE $member SET room = $room, user = $user, host = false, added_at = $now,
                invited_as = $address, joined = false;
            {}
         }};
         COMMIT TRANSACTION;",
        notify_stmt("$user", NoticeKind::Room, "$notice", "$link")
    );
    write_with_retry("add room member", Problem::TitleEmpty, || {
        db.query(query.as_str())
            .bind(("member", member.clone()))
            .bind(("room", room_record(room)))
            .bind(("user", user_record(user)))
            .bind(("address", address.to_string()))
            .bind(("notice", bind_notice(notice)))
            .bind(("link", format!("/rooms/{room}")))
            .bind(("now", now))
            .into_future()
    })
    .await
}

/// Keeps an invitation for an address without a confirmed account; it becomes a membership
/// when an account confirms the address (`accounts::repo::mark_email_verified`). Inviting the
/// same address again changes nothing.
pub async fn invite_address(
    db: &Db,
    room: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    db.query(
        "IF !(SELECT VALUE id FROM room_invite WHERE room = $room AND email = $email) {
            CREATE room_invite SET room = $room, email = $email, invited_at = $now;
         };",
    )
    .bind(("room", room_record(room)))
    .bind(("email", address.to_string()))
    .bind(("now", now))
    .await
    .and_then(|r| r.check())
    .map_err(internal("invite address"))?;
    Ok(())
}

/// The addresses invited to a room that no confirmed account holds yet.
pub async fn pending_invites(db: &Db, room: &str) -> Result<Vec<InviteRow>, AppError> {
    let mut res = db
        .query("SELECT email, invited_at FROM room_invite WHERE room = $room ORDER BY invited_at")
        .bind(("room", room_record(room)))
        .await
        .map_err(internal("pending invites"))?;
    res.take(0).map_err(internal("pending invites"))
}

/// Withdraws an invitation by the address it went to: whether it waits for an account or
/// was taken by one that has not entered yet. Returns the guest it removed, if any.
pub async fn withdraw_invite(
    db: &Db,
    room: &str,
    address: &str,
) -> Result<Option<String>, AppError> {
    let mut res = db
        .query(
            "BEGIN TRANSACTION;
             DELETE room_invite WHERE room = $room AND email = $email;
             LET $gone = (DELETE room_member
                 WHERE room = $room AND invited_as = $email AND joined = false AND host = false
                 RETURN BEFORE);
             RETURN $gone.map(|$m| record::id($m.user))[0];
             COMMIT TRANSACTION;",
        )
        .bind(("room", room_record(room)))
        .bind(("email", address.to_string()))
        .await
        .map_err(internal("withdraw invite"))?;
    let last = res.num_statements().saturating_sub(1);
    res.take(last).map_err(internal("withdraw invite"))
}

/// Records that a guest has entered the room (their first connection since the invitation).
pub async fn mark_joined(db: &Db, room: &str, user: &UserId) -> Result<(), AppError> {
    // One person's sockets joining at once (tabs, a reconnect storm) write the same member
    // row: the loser of that race retries, and then finds it already marked.
    write_with_retry("mark joined", Problem::TryAgain, || {
        db.query("UPDATE $member SET joined = true WHERE joined = false")
            .bind(("member", member_record(room, user)))
            .into_future()
    })
    .await
}

/// Removes a guest (a host cannot be removed: the room would have nobody to run it).
/// Returns whether someone was removed.
pub async fn remove_guest(db: &Db, room: &str, user: &UserId) -> Result<bool, AppError> {
    if membership(db, room, user).await? != Some(false) {
        return Ok(false);
    }
    let res = db
        .query("DELETE $member")
        .bind(("member", member_record(room, user)))
        .await
        .map_err(internal("remove room member"))?;
    fail_on_errors(res, "remove room member", Problem::TitleEmpty)?;
    Ok(true)
}

pub async fn set_state(
    db: &Db,
    room: &str,
    state: RoomState,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let res = db
        .query("UPDATE $room SET state = $state, closed_at = IF $state = 'closed' { $now } ELSE { NONE }")
        .bind(("room", room_record(room)))
        .bind(("state", state.key()))
        .bind(("now", now))
        .await
        .map_err(internal("room state"))?;
    fail_on_errors(res, "room state", Problem::TitleEmpty)
}

/// The rooms `user` takes part in, newest first.
pub async fn rooms_of(db: &Db, user: &UserId) -> Result<Vec<RoomListRow>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(room) AS id, room.title AS title, room.state AS state, host,
                room.owner.display_name AS host_name, room.created_at AS created_at
             FROM room_member WHERE user = $user ORDER BY created_at DESC LIMIT 200",
        )
        .bind(("user", user_record(user)))
        .await
        .map_err(internal("rooms of user"))?;
    res.take(0).map_err(internal("rooms of user"))
}

/// Messages a room keeps (the newest); older ones are deleted as new ones arrive, so a room's
/// chat cannot grow the database without end. Hours of lively conversation.
pub const MAX_CHAT_KEPT: i64 = 5_000;

/// Stores a chat message with the room's next sequence number, unless this author already
/// sent one with `key` (a resend after a reconnect): either way the stored message comes
/// back, with whether this call stored it, so the sender is acked with the sequence number
/// that was committed. One round trip: the room must be open (`pw:room_closed` otherwise), the
/// author still in it (`Forbidden` otherwise: removed by the host, perhaps through another app
/// server), and the key check, the sequence number and the message are one transaction (two
/// app servers receiving the same resend race there; one commits, the other retries and finds
/// it). The membership check is in here rather than before it because every message needs it,
/// and a separate read was a second round trip per message.
pub async fn append_chat(
    db: &Db,
    room: &str,
    author: &UserId,
    key: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(ChatMessage, bool), AppError> {
    let query = format!(
        "BEGIN TRANSACTION;
         IF (SELECT VALUE state FROM ONLY $room) != 'open' {{ THROW 'pw:room_closed'; }};
         LET $in_room = (SELECT VALUE host FROM ONLY $member) != NONE;
         LET $old = IF $in_room {{ (SELECT VALUE id FROM chat_message
                WHERE room = $room AND author = $author AND client_key = $key LIMIT 1)[0] }};
         IF $in_room AND $old = NONE {{
            LET $seq = (UPDATE ONLY $room SET chat_seq += 1 RETURN VALUE chat_seq);
            CREATE $id SET room = $room, seq = $seq, author = $author,
                client_key = $key, body = $body, created_at = $now;
            -- A room keeps its newest messages only: the one falling off goes with this one.
            DELETE chat_message WHERE room = $room AND seq <= $seq - {MAX_CHAT_KEPT};
         }};
         IF $in_room {{ SELECT {CHAT_FIELDS}, $old = NONE AS new FROM ONLY ($old ?? $id) }};
         COMMIT TRANSACTION;"
    );
    // The new message's key is chosen here so the transaction can read it back by key.
    let id = RecordId::new("chat_message", new_key());
    let mut res = transact_with_retry("append chat", Problem::RoomClosed, || {
        db.query(query.as_str())
            .bind(("room", room_record(room)))
            .bind(("author", user_record(author)))
            .bind(("key", key.to_string()))
            .bind(("body", body.to_string()))
            .bind(("now", now))
            .bind(("id", id.clone()))
            .bind(("member", member_record(room, author)))
            .into_future()
    })
    .await?;
    // BEGIN and COMMIT count as statements: the read back is the one before COMMIT. It is NONE
    // when the author is not (or no longer) in the room, and then nothing was written.
    let select = res.num_statements().saturating_sub(2);
    let row: Option<StoredChatRow> = res.take(select).map_err(internal("append chat"))?;
    let Some(row) = row else {
        return Err(AppError::Forbidden);
    };
    let new = row.new;
    Ok((row.into_chat().view(), new))
}

#[derive(Debug, SurrealValue)]
struct StoredChatRow {
    seq: i64,
    author_id: String,
    author_name: String,
    body: String,
    created_at: DateTime<Utc>,
    new: bool,
}

impl StoredChatRow {
    fn into_chat(self) -> ChatRow {
        ChatRow {
            seq: self.seq,
            author_id: self.author_id,
            author_name: self.author_name,
            body: self.body,
            created_at: self.created_at,
        }
    }
}

const CHAT_FIELDS: &str = "seq, record::id(author) AS author_id,
    author.display_name AS author_name, body, created_at";

/// Up to `limit` messages after `since` and up to `upto`, oldest first. The bound matters with
/// several app servers: what another server stores after a reader's point arrives live, not
/// in the same read as well.
pub async fn chat_since(
    db: &Db,
    room: &str,
    since: u64,
    upto: u64,
    limit: usize,
) -> Result<Vec<ChatMessage>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {CHAT_FIELDS} FROM chat_message
             WHERE room = $room AND seq > $since AND seq <= $upto
             ORDER BY seq LIMIT $limit"
        ))
        .bind(("room", room_record(room)))
        .bind(("since", i64::try_from(since).unwrap_or(i64::MAX)))
        .bind(("upto", i64::try_from(upto).unwrap_or(i64::MAX)))
        .bind(("limit", limit as i64))
        .await
        .map_err(internal("chat since"))?;
    let rows: Vec<ChatRow> = res.take(0).map_err(internal("chat since"))?;
    Ok(rows.into_iter().map(ChatRow::view).collect())
}

/// Up to `limit` messages before `before`, oldest first.
pub async fn chat_before(
    db: &Db,
    room: &str,
    before: u64,
    limit: usize,
) -> Result<Vec<ChatMessage>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {CHAT_FIELDS} FROM chat_message WHERE room = $room AND seq < $before
             ORDER BY seq DESC LIMIT $limit"
        ))
        .bind(("room", room_record(room)))
        .bind(("before", i64::try_from(before).unwrap_or(i64::MAX)))
        .bind(("limit", limit as i64))
        .await
        .map_err(internal("chat before"))?;
    let rows: Vec<ChatRow> = res.take(0).map_err(internal("chat before"))?;
    let mut out: Vec<ChatMessage> = rows.into_iter().map(ChatRow::view).collect();
    out.reverse();
    Ok(out)
}

/// A step stored in a room's ordered log (a chat message, a shared-code update), as another
/// app server hears of it.
#[derive(Clone, Debug, SurrealValue)]
pub struct LogStep {
    pub room: String,
    pub seq: i64,
}

/// Every chat message stored, on whichever app server, as it happens: each server delivers
/// the room's log to the members it holds.
pub async fn watch_chat(db: &Db) -> Result<LiveChanges<LogStep>, AppError> {
    live(
        db,
        "LIVE SELECT record::id(room) AS room, seq FROM chat_message WHERE $event = 'CREATE'",
    )
    .await
    .map_err(internal("watching chat"))
}

/// A note one app server left the others about a room's live side (see
/// `rooms::hub::RoomLive::relayed`).
#[derive(Clone, Debug, SurrealValue)]
pub struct RelayRow {
    pub room: String,
    pub origin: String,
    pub to_peer: Option<String>,
    pub to_server: Option<String>,
    pub kind: String,
    pub body: String,
}

/// Leaves `notes` (JSON objects: room, kind, body, perhaps to_peer / to_server) for the other
/// app servers, in order, in one round trip.
pub async fn publish_relay(
    db: &Db,
    origin: &str,
    notes: Vec<serde_json::Value>,
) -> Result<(), AppError> {
    let mut res = db
        .query(
            "FOR $n IN $notes {
                CREATE room_relay SET room = $n.room, origin = $origin, to_peer = $n.to_peer,
                    to_server = $n.to_server, kind = $n.kind, body = $n.body, at = time::now();
             };",
        )
        .bind(("origin", origin.to_string()))
        .bind(("notes", notes))
        .await
        .map_err(internal("relay"))?;
    let errors = res.take_errors();
    if let Some(e) = errors.values().next() {
        tracing::error!(error = %e, "database: relay");
        return Err(AppError::Internal);
    }
    Ok(())
}

/// Every note any app server leaves, as it is left.
pub async fn watch_relay(db: &Db) -> Result<LiveChanges<RelayRow>, AppError> {
    live(
        db,
        "LIVE SELECT room, origin, to_peer, to_server, kind, body FROM room_relay
         WHERE $event = 'CREATE'",
    )
    .await
    .map_err(internal("watching the room relay"))
}

/// Notes older than a minute have been heard by every server that was listening.
pub async fn forget_old_relays(db: &Db) -> Result<(), AppError> {
    db.query("DELETE room_relay WHERE at < time::now() - 1m")
        .await
        .map_err(internal("forget old relays"))?
        .check()
        .map_err(internal("forget old relays"))?;
    Ok(())
}
