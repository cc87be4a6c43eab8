//! Room server functions: mentors create rooms and invite participants; only participants see
//! a room. The call and the chat themselves run over the room socket (`server::rooms`).

use leptos::prelude::*;

use crate::{
    error::AppError,
    rooms::model::{RoomAccess, RoomSummary},
};

#[cfg(feature = "ssr")]
pub mod backend {
    pub use crate::{
        accounts::{
            model::{Email, Role},
            repo::{Holder, holder},
            session::{Authenticated, require_role, require_user},
        },
        error::{AppError, Problem},
        ids::is_record_key,
        rooms::{
            hub::{ChatOrder, RoomLive},
            model::{
                ChatMessage, HISTORY_PAGE, MAX_TITLE_CHARS, MemberView, RoomServerMessage,
                RoomState, RoomView, close,
            },
            repo::{self, RoomRow},
        },
        state::AppState,
    };

    /// A room the caller takes part in, with whether they host it. A room id that does not
    /// exist is `NotFound`; one that exists without the caller is `Forbidden`.
    pub async fn participant_room(
        state: &AppState,
        id: &str,
        who: &Authenticated,
    ) -> Result<(RoomRow, bool), AppError> {
        if !is_record_key(id) {
            return Err(AppError::NotFound);
        }
        let room = repo::room(&state.db, id).await?.ok_or(AppError::NotFound)?;
        match repo::membership(&state.db, id, &who.user.id).await? {
            Some(host) => Ok((room, host)),
            None => Err(AppError::Forbidden),
        }
    }

    /// A room the caller hosts.
    pub async fn hosted_room(state: &AppState, id: &str) -> Result<RoomRow, AppError> {
        let who = require_user().await?;
        match participant_room(state, id, &who).await? {
            (room, true) => Ok(room),
            _ => Err(AppError::Forbidden),
        }
    }

    /// Stores a chat message and, if it is new, sends it to everyone in the room, under the
    /// room's chat lock: members see messages exactly once and in sequence order. The socket
    /// and the no-JavaScript form both come here.
    pub async fn commit_chat(
        state: &AppState,
        room: &str,
        author: &crate::ids::UserId,
        key: &str,
        body: &str,
    ) -> Result<ChatMessage, AppError> {
        let live = state.rooms.room(room);
        let committed = commit_in(state, &live, room, author, key, body).await;
        drop(live);
        state.rooms.release(room);
        committed
    }

    async fn commit_in(
        state: &AppState,
        live: &RoomLive,
        room: &str,
        author: &crate::ids::UserId,
        key: &str,
        body: &str,
    ) -> Result<ChatMessage, AppError> {
        // The lock orders commits and fan-out: everyone sees the room's messages by sequence.
        let mut order = live.chat.lock().await;
        let (message, new) =
            repo::append_chat(&state.db, room, author, key, body, state.clock.now()).await?;
        if new {
            deliver_chat(state, live, room, &mut order, message.seq, Some(&message)).await;
        }
        Ok(message)
    }

    /// Sends this server's members of the room every message up to `upto` they have not had,
    /// in sequence order; `fresh` is message `upto` when it was just stored here. With one app
    /// server each message follows the last delivered one and goes out as it is. With several,
    /// messages the others stored come from the log first: every server delivers the room's
    /// one ordered log, so members on different servers see the same messages in the same
    /// order, each once. If the log cannot be read, nothing is skipped: the next message (or
    /// the next change heard from another server) delivers the gap first.
    pub async fn deliver_chat(
        state: &AppState,
        live: &RoomLive,
        room: &str,
        order: &mut ChatOrder,
        upto: u64,
        fresh: Option<&ChatMessage>,
    ) {
        let Some(mut delivered) = order.delivered else {
            // Nobody here has joined: whoever does starts from the log.
            if upto != u64::MAX {
                order.delivered = Some(upto);
            }
            return;
        };
        if let Some(message) = fresh.filter(|m| m.seq == delivered + 1) {
            live.broadcast(
                &RoomServerMessage::Chat {
                    message: message.clone(),
                },
                None,
            );
            order.delivered = Some(message.seq);
            return;
        }
        while delivered < upto {
            // Not past `upto`: a joiner's backlog ends there, and what follows must reach it
            // live with everyone else's.
            let page = match repo::chat_since(&state.db, room, delivered, upto, HISTORY_PAGE).await
            {
                Ok(page) => page,
                Err(_) => break,
            };
            let Some(last) = page.last().map(|m| m.seq) else {
                break;
            };
            for message in page {
                live.broadcast(&RoomServerMessage::Chat { message }, None);
            }
            delivered = last;
            order.delivered = Some(delivered);
        }
    }

    /// Another app server stored message `seq` in `room` (heard through a live query): the
    /// members here get it, and anything before it they lack, in order.
    pub async fn chat_stored_elsewhere(state: &AppState, room: &str, seq: u64) {
        let Some(live) = state.rooms.get(room) else {
            return;
        };
        {
            let mut order = live.chat.lock().await;
            if order.delivered.is_some_and(|d| d < seq) {
                deliver_chat(state, &live, room, &mut order, seq, None).await;
            }
        }
        drop(live);
        state.rooms.release(room);
    }

    pub fn title(raw: &str) -> Result<String, AppError> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(Problem::TitleEmpty.into());
        }
        if t.chars().count() > MAX_TITLE_CHARS {
            return Err(Problem::TitleTooLong.into());
        }
        Ok(t.to_string())
    }
}

#[cfg(feature = "ssr")]
use backend::*;

/// The rooms the caller takes part in, newest first, with how many are in each now.
#[server(endpoint = "my_rooms")]
pub async fn my_rooms() -> Result<Vec<RoomSummary>, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let rows = repo::rooms_of(&state.db, &who.user.id).await?;
    Ok(rows
        .into_iter()
        .map(|r| RoomSummary {
            present: state.rooms.present_users(&r.id).len() as u32,
            state: RoomState::parse(&r.state).unwrap_or(RoomState::Closed),
            id: r.id,
            title: r.title,
            host_name: r.host_name,
            is_host: r.host,
            created_at: r.created_at.to_rfc3339(),
        })
        .collect())
}

/// Opens a new room hosted by the caller (a mentor or an admin) and goes to it.
#[server(endpoint = "create_room")]
pub async fn create_room(title: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_role(Role::Mentor).await?;
    let title = backend::title(&title)?;
    let id = repo::create_room(&state.db, &who.user.id, &title, state.clock.now()).await?;
    leptos_axum::redirect(&format!("/rooms/{id}"));
    Ok(())
}

/// The room page's data, or why the caller may not enter.
#[server(endpoint = "get_room")]
pub async fn get_room(id: String) -> Result<RoomAccess, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let (room, is_host) = match participant_room(&state, &id, &who).await {
        Ok(found) => found,
        Err(AppError::Forbidden) => return Ok(RoomAccess::NotInvited),
        Err(e) => return Err(e),
    };
    let present = state.rooms.present_users(&room.id);
    let mut members: Vec<MemberView> = Vec::new();
    // Invitations not used yet, whether an account took them or they wait for one, listed
    // alike and in the order they were made: nothing in the list tells them apart.
    let mut waiting = Vec::new();
    for m in repo::members(&state.db, &room.id).await? {
        // The viewer always sees themselves (their own socket marks them joined in a moment).
        if !m.joined && !m.host && m.user_id != who.user.id.0 {
            // Guests see who is in the room, not whom the host invited.
            if let (true, Some(address)) = (is_host, m.invited_as) {
                waiting.push((m.added_at, address));
            }
            continue;
        }
        members.push(MemberView {
            present: present.contains(&m.user_id),
            user_id: m.user_id,
            name: m.name,
            host: m.host,
            invited: None,
        });
    }
    if is_host {
        for invite in repo::pending_invites(&state.db, &room.id).await? {
            waiting.push((invite.invited_at, invite.email));
        }
    }
    waiting.sort();
    members.extend(waiting.into_iter().map(|(_, address)| MemberView {
        user_id: format!("invite:{address}"),
        name: address.clone(),
        host: false,
        present: false,
        invited: Some(address),
    }));
    let last_seq = u64::try_from(room.chat_seq).unwrap_or(0);
    let recent = repo::chat_before(&state.db, &room.id, last_seq + 1, HISTORY_PAGE).await?;
    let code = crate::rooms::code::api::backend::code_view(&state, &room.id).await?;
    Ok(RoomAccess::Member(Box::new(RoomView {
        code,
        more_before: recent.first().is_some_and(|m| m.seq > 1),
        recent,
        form_key: crate::db::new_key(),
        state: room.state(),
        id: room.id,
        title: room.title,
        me: who.user.id.0,
        is_host,
        members,
        created_at: room.created_at.to_rfc3339(),
    })))
}

/// Adds a user (by their sign-in email) to a room the caller hosts; they are notified.
#[server(endpoint = "invite_to_room")]
pub async fn invite_to_room(room: String, email: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let row = hosted_room(&state, &room).await?;
    let email = Email::parse(&email)?;
    let now = state.clock.now();
    // The answer, and what the host sees in the room, are the same whether or not the
    // address has a confirmed account: an invitation never tells who uses Pairwise.
    match holder(&state.db, &email).await? {
        Holder::Verified(user) => {
            let notice = crate::notify::model::Notice::RoomInvite {
                title: row.title.clone(),
            };
            repo::add_member(&state.db, &row.id, &user, email.as_str(), &notice, now).await
        }
        Holder::Unverified(_) | Holder::Nobody => {
            repo::invite_address(&state.db, &row.id, email.as_str(), now).await
        }
    }
}

/// Withdraws an invitation, by address, that has not been used to enter the room yet.
#[server(endpoint = "withdraw_invite")]
pub async fn withdraw_invite(room: String, email: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let row = hosted_room(&state, &room).await?;
    let email = Email::parse(&email)?;
    if let Some(user) = repo::withdraw_invite(&state.db, &row.id, email.as_str()).await?
        && let Some(live) = state.rooms.get(&row.id)
    {
        live.kick(Some(&user), close::REMOVED);
    }
    Ok(())
}

/// Takes a guest out of a room the caller hosts; if they are in the call, they leave it now.
#[server(endpoint = "remove_from_room")]
pub async fn remove_from_room(room: String, user: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let row = hosted_room(&state, &room).await?;
    if !is_record_key(&user) {
        return Err(AppError::NotFound);
    }
    let user = crate::ids::UserId(user);
    if !repo::remove_guest(&state.db, &row.id, &user).await? {
        return Err(AppError::NotFound);
    }
    if let Some(live) = state.rooms.get(&row.id) {
        live.kick(Some(&user.0), close::REMOVED);
    }
    Ok(())
}

/// Closes (everyone in the call is disconnected, the chat stays readable) or reopens a room.
#[server(endpoint = "set_room_open")]
pub async fn set_room_open(room: String, open: bool) -> Result<(), AppError> {
    let state = AppState::get()?;
    let row = hosted_room(&state, &room).await?;
    let next = if open {
        RoomState::Open
    } else {
        RoomState::Closed
    };
    repo::set_state(&state.db, &row.id, next, state.clock.now()).await?;
    if next == RoomState::Closed
        && let Some(live) = state.rooms.get(&row.id)
    {
        live.kick(None, close::ROOM_CLOSED);
    }
    Ok(())
}

/// The chat form without JavaScript (with it, messages go over the room socket): stores the
/// message once per `key`, sends it to everyone in the room, and comes back to the room.
#[server(endpoint = "send_chat")]
pub async fn send_chat(room: String, key: String, body: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let (row, _) = participant_room(&state, &room, &who).await?;
    let key = crate::rooms::model::client_key(&key)?;
    let body = crate::rooms::model::chat_body(&body)?;
    commit_chat(&state, &row.id, &who.user.id, key, &body).await?;
    leptos_axum::redirect(&format!("/rooms/{}#room-chat", row.id));
    Ok(())
}
