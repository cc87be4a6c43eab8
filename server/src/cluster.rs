//! Several app servers on one SurrealDB server: what one of them changes, the others hear at
//! once through live queries, so nothing a user can notice depends on which server they reach.
//!
//! - A notification created or read anywhere wakes that user's sockets on every server (the
//!   bell updates within a live query's delivery, not at the next page).
//! - A session that ends anywhere (sign-out, password change, expiry) is forgotten by every
//!   server's session cache and its sockets close, so access that is taken away ends at once
//!   everywhere, not after the cache's few seconds.
//! - An account change a session carries (roles, suspension, name, address) is re-read;
//!   a change of access closes the account's sockets, which reconnect and are authorised
//!   afresh.
//! - A chat message or shared-code step stored in a room's log: each server with members of
//!   that room sends them the log from where they are, in order (`rooms::api::backend::
//!   deliver_chat`, `rooms::code::live::stored_elsewhere`). Every server relays the same
//!   ordered log rather than one server owning a room: no hand-over when a server dies, and
//!   the order is the database's, the one thing all servers already agree on.
//!
//! With the embedded database there is one server, which already does all of this itself, so
//! this runs only on a database server (`ws://`, `wss://`). A live query's stream ends when the
//! database connection does (a restart): the subscriptions are made again, and since changes
//! may have gone unheard in between, every cache is dropped and every socket re-reads.

use std::time::Duration;

use app::{
    accounts::repo::{watch_account_changes, watch_ended_sessions},
    ids::UserId,
    notify::repo::watch_notifications,
    rooms::{
        api::backend::chat_stored_elsewhere,
        code,
        hub::{ANNOUNCE_EVERY, RelayNote},
        repo::{forget_old_relays, publish_relay, watch_chat, watch_relay},
    },
    state::{AppState, EndSockets},
};
use futures_util::StreamExt;

/// The wait before subscribing again after a failure, doubled each time up to the maximum.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Follows the other servers' changes until the task is aborted.
pub async fn follow(state: AppState) {
    let server = hex::encode(rand::random::<[u8; 8]>());
    let writer = state
        .rooms
        .relay_to_other_servers(server)
        .map(|notes| tokio::spawn(write_notes(state.clone(), notes)));
    let _stop_writer = writer.map(AbortOnDrop);
    let mut wait = RETRY_FIRST;
    let mut first = true;
    loop {
        match listen(&state, &mut first).await {
            Ok(()) => {
                tracing::warn!("the database ended the live queries: subscribing again");
                wait = RETRY_FIRST;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_ms = wait.as_millis() as u64,
                    "cannot follow other app servers' changes: trying again");
            }
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(RETRY_MAX);
    }
}

/// Subscribes, then hands every change to this server's caches and sockets until a stream
/// ends (`Ok`) or cannot be made (`Err`).
async fn listen(state: &AppState, first: &mut bool) -> Result<(), app::error::AppError> {
    let mut notifications = watch_notifications(&state.db).await?;
    let mut sessions = watch_ended_sessions(&state.db).await?;
    let mut accounts = watch_account_changes(&state.db).await?;
    let mut chat = watch_chat(&state.db).await?;
    let mut code = code::repo::watch_code(&state.db).await?;
    let mut relay = watch_relay(&state.db).await?;
    let me = state.rooms.server_id().unwrap_or_default().to_string();
    let mut announce = tokio::time::interval(ANNOUNCE_EVERY);
    if !std::mem::take(first) {
        // Subscribed again after a gap: whatever changed meanwhile is read afresh.
        state.sessions.forget_all();
        state.notifier.poke_all();
        for room in state.rooms.live_ids() {
            room_log_grew(state, room.clone(), Log::Chat, u64::MAX);
            room_log_grew(state, room, Log::Code, u64::MAX);
        }
    }
    tracing::info!("following other app servers' changes");
    loop {
        tokio::select! {
            change = notifications.next() => match change {
                Some(Ok(n)) => state.notifier.poke([n.data.user.as_str()]),
                Some(Err(e)) => tracing::debug!(error = %e, "a notification change could not be read"),
                None => return Ok(()),
            },
            change = sessions.next() => match change {
                Some(Ok(n)) => {
                    let ended = n.data;
                    // The whole user: a request that read this session just before it ended
                    // must not put it back in the cache (forget_user remembers when).
                    state.sessions.forget_user(&UserId(ended.user.clone()));
                    state
                        .live_sockets
                        .end(&ended.user, EndSockets::Session(&ended.token_hash));
                }
                Some(Err(e)) => tracing::debug!(error = %e, "a session change could not be read"),
                None => return Ok(()),
            },
            change = accounts.next() => match change {
                Some(Ok(n)) => {
                    let account = n.data;
                    state.sessions.forget_user(&UserId(account.user.clone()));
                    if account.access {
                        state.live_sockets.end(&account.user, EndSockets::All);
                    }
                }
                Some(Err(e)) => tracing::debug!(error = %e, "an account change could not be read"),
                None => return Ok(()),
            },
            change = chat.next() => match change {
                Some(Ok(n)) => room_log_grew(state, n.data.room, Log::Chat, seq(n.data.seq)),
                Some(Err(e)) => tracing::debug!(error = %e, "a chat change could not be read"),
                None => return Ok(()),
            },
            change = code.next() => match change {
                Some(Ok(n)) => room_log_grew(state, n.data.room, Log::Code, seq(n.data.seq)),
                Some(Err(e)) => tracing::debug!(error = %e, "a shared-code change could not be read"),
                None => return Ok(()),
            },
            change = relay.next() => match change {
                Some(Ok(n)) => {
                    if let Some(live) = state.rooms.get(&n.data.room) {
                        live.relayed(&n.data, &me);
                    }
                }
                Some(Err(e)) => tracing::debug!(error = %e, "a room note could not be read"),
                None => return Ok(()),
            },
            _ = announce.tick() => {
                for room in state.rooms.live_ids() {
                    if let Some(live) = state.rooms.get(&room) {
                        live.announce();
                    }
                }
            },
        }
    }
}

fn seq(stored: i64) -> u64 {
    u64::try_from(stored).unwrap_or(0)
}

#[derive(Clone, Copy)]
enum Log {
    Chat,
    Code,
}

/// A room's log reached `seq`: if anyone here is in the room, they are brought up to it.
/// Off the follower's loop, so one room's read does not hold up everyone's news; each room's
/// own lock keeps its deliveries in order.
fn room_log_grew(state: &AppState, room: String, log: Log, seq: u64) {
    if state.rooms.get(&room).is_none() {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        match log {
            Log::Chat => chat_stored_elsewhere(&state, &room, seq).await,
            Log::Code => code::live::stored_elsewhere(&state, &room, seq).await,
        }
    });
}

/// Ends the note writer with the follower.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Most notes written in one round trip.
const NOTES_PER_WRITE: usize = 64;
/// How often old notes are deleted.
const FORGET_EVERY: Duration = Duration::from_secs(30);

/// Writes this server's notes for the others, in order, a batch per round trip (whatever
/// queued while the last one was written), and deletes old ones now and then. A batch the
/// database refuses is dropped: the notes are about the moment (who is here is repeated every
/// [`ANNOUNCE_EVERY`]), and a peer whose signal was lost negotiates again.
async fn write_notes(state: AppState, mut notes: tokio::sync::mpsc::Receiver<RelayNote>) {
    let server = state.rooms.server_id().unwrap_or_default().to_string();
    let mut forgotten = std::time::Instant::now();
    while let Some(first) = notes.recv().await {
        let mut batch = vec![first];
        while batch.len() < NOTES_PER_WRITE {
            match notes.try_recv() {
                Ok(note) => batch.push(note),
                Err(_) => break,
            }
        }
        let batch: Vec<serde_json::Value> = batch
            .iter()
            .filter_map(|n| serde_json::to_value(n).ok())
            .collect();
        if let Err(e) = publish_relay(&state.db, &server, batch).await {
            tracing::warn!(error = %e, "room notes for other app servers were not written");
        }
        if forgotten.elapsed() > FORGET_EVERY {
            forgotten = std::time::Instant::now();
            if let Err(e) = forget_old_relays(&state.db).await {
                tracing::debug!(error = %e, "old room notes were not deleted");
            }
        }
    }
}
