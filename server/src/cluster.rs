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
    state::{AppState, EndSockets},
};
use futures_util::StreamExt;

/// The wait before subscribing again after a failure, doubled each time up to the maximum.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Follows the other servers' changes until the task is aborted.
pub async fn follow(state: AppState) {
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
    if !std::mem::take(first) {
        // Subscribed again after a gap: whatever changed meanwhile is read afresh.
        state.sessions.forget_all();
        state.notifier.poke_all();
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
        }
    }
}
