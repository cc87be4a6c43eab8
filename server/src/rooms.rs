//! A live room's WebSocket at `/rooms/{id}/ws`: WebRTC signalling relayed between the room's
//! participants, presence, and chat with per-room sequence numbers.
//!
//! Each socket is authenticated by the session cookie, Origin-checked, and re-checked against
//! the room's membership on every message. A socket that floods, sends something unreadable or
//! oversized is closed with a policy code; one that stops reading (full queue, a write that
//! hangs, or silence past the heartbeat) is dropped without slowing anyone else.

use std::{
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use app::{
    accounts::session::Authenticated,
    error::AppError,
    ids::{UserId, is_record_key},
    rooms::code::{
        live::{FrameError, Sender},
        validate::Refused,
    },
    rooms::{
        api::backend::{commit_chat, deliver_chat},
        hub::{Budgets, Outgoing, RoomLive, encode},
        model::{
            HEARTBEAT_SECS, HISTORY_PAGE, HistoryKind, IceServer, MAX_ROOM_MESSAGE_BYTES,
            MediaState, PeerInfo, ROOM_MESSAGE_BURST, ROOM_MESSAGES_PER_SECOND, ROOM_SEND_QUEUE,
            RoomClientMessage, RoomServerMessage, RoomState, SILENCE_SECS, chat_body, client_key,
            close,
        },
        repo,
    },
    state::AppState,
};
use axum::{
    extract::{
        Path, Query, State,
        ws::{
            CloseFrame, Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
        },
    },
    http::HeaderMap,
    response::Response,
};
use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use tokio::sync::{mpsc, watch};

use crate::{
    config::IceConfig,
    realtime::signed_in_same_origin,
    security::{SecurityConfig, TokenBucket, error_response},
};

#[derive(Clone)]
pub struct RoomContext {
    pub state: AppState,
    pub security: Arc<SecurityConfig>,
    pub ice: Arc<IceConfig>,
}

#[derive(Debug, Deserialize)]
pub struct JoinQuery {
    /// The last chat sequence number this client has: everything after it is sent first.
    since: Option<u64>,
    /// This client's previous peer id in the room, taken over at once.
    replaces: Option<String>,
}

/// A shared-code update at its largest, with the protocol's few bytes of framing.
const MAX_FRAME_BYTES: usize = app::rooms::code::doc::MAX_UPDATE_BYTES + 64;

/// Shared-code frames: a keystroke and a cursor move each make one, so typing fast with a
/// partner sends ~20 a second; bursts cover a reconnect's catch-up.
const CODE_FRAMES_PER_SECOND: f64 = 60.0;
const CODE_FRAME_BURST: f64 = 600.0;
/// And bytes: typing is a few dozen bytes a keystroke; a pasted file or a reconnect's catch-up
/// fits the burst. Every byte accepted is kept in the room's log, so this bounds its growth.
const CODE_BYTES_PER_SECOND: f64 = 64.0 * 1024.0;
const CODE_BYTES_BURST: f64 = 4.0 * 1024.0 * 1024.0;

/// How often a room's membership and state are read again for its listening sockets.
const RECHECK: Duration = Duration::from_secs(10);

/// A write to the client that takes longer than this means it stopped reading.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn upgrade(
    State(ctx): State<RoomContext>,
    Path(room_id): Path<String>,
    query: Result<Query<JoinQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let who = match signed_in_same_origin(&ctx.state, &ctx.security, &headers).await {
        Ok(who) => who,
        Err(refused) => return refused,
    };
    let Ok(Query(query)) = query else {
        return error_response(AppError::BadRequest {
            detail: "since must be a whole number and replaces a peer id".into(),
        });
    };
    if !is_record_key(&room_id) {
        return error_response(AppError::NotFound);
    }
    let room = match repo::room(&ctx.state.db, &room_id).await {
        Ok(Some(room)) => room,
        Ok(None) => return error_response(AppError::NotFound),
        Err(e) => return error_response(e),
    };
    let host = match repo::membership(&ctx.state.db, &room_id, &who.user.id).await {
        Ok(Some(host)) => host,
        Ok(None) => return error_response(AppError::Forbidden),
        Err(e) => return error_response(e),
    };
    // From now on the host sees this guest by name, not by the address they were invited at.
    if !host && let Err(e) = repo::mark_joined(&ctx.state.db, &room_id, &who.user.id).await {
        return error_response(e);
    }
    if room.state() == RoomState::Closed {
        return error_response(app::error::Problem::RoomClosed.into());
    }
    let Ok(ws) = ws else {
        return error_response(AppError::BadRequest {
            detail: "this address only accepts WebSocket connections".into(),
        });
    };
    // Counted under the account's and the server's caps, shared with `/ws`.
    let ticket = match crate::realtime::admit(&ctx.state, &who) {
        Ok(ticket) => ticket,
        Err(refused) => return refused,
    };
    let ice = ice_servers(&ctx.ice, &who.user.id, &room_id, SystemTime::now());
    let join = Join {
        room_id,
        title: room.title,
        host,
        since: query.since,
        replaces: query.replaces,
        ice,
        ticket,
    };
    // Small buffers: tungstenite's defaults (128 KiB each way) would cost ~256 KiB per idle
    // socket; messages here are at most a few KiB and every send is flushed at once. The
    // message cap is the shared code's (a pasted file); JSON text is held to its own below.
    ws.read_buffer_size(8 * 1024)
        .write_buffer_size(8 * 1024)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| serve(ctx.state, socket, who, join))
}

struct Join {
    room_id: String,
    title: String,
    host: bool,
    since: Option<u64>,
    replaces: Option<String>,
    ice: Vec<IceServer>,
    /// This socket's place under the caps; dropping it gives the place back.
    ticket: app::state::SocketTicket,
}

/// The ICE servers for this user in this room; TURN entries carry a credential valid for the
/// configured TTL (coturn REST: username `expiry:id`, password base64(HMAC-SHA1(secret, it))).
pub fn ice_servers(cfg: &IceConfig, user: &UserId, room: &str, now: SystemTime) -> Vec<IceServer> {
    let expiry = now
        .checked_add(cfg.turn_ttl)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let username = format!("{expiry}:{}.{room}", user.0);
    let credential = cfg.turn_secret.as_ref().and_then(|secret| {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).ok()?;
        mac.update(username.as_bytes());
        Some(base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
    });
    let (turn, stun): (Vec<&String>, Vec<&String>) =
        cfg.urls.iter().partition(|u| u.starts_with("turn"));
    let mut out = Vec::new();
    if !stun.is_empty() {
        out.push(IceServer {
            urls: stun.into_iter().cloned().collect(),
            username: None,
            credential: None,
        });
    }
    if !turn.is_empty()
        && let Some(credential) = credential
    {
        out.push(IceServer {
            urls: turn.into_iter().cloned().collect(),
            username: Some(username),
            credential: Some(credential),
        });
    }
    out
}

fn new_peer_id() -> String {
    format!("p{}", hex::encode(rand::random::<[u8; 8]>()))
}

async fn serve(state: AppState, socket: WebSocket, who: Authenticated, join: Join) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::channel::<Outgoing>(ROOM_SEND_QUEUE);
    let (kill, mut killed) = watch::channel::<Option<u16>>(None);
    let mut writer_killed = kill.subscribe();
    let peer_id = new_peer_id();
    let user_id = who.user.id.0.clone();

    // The writer owns the socket's sending half: it ends on a kill (sending the close code),
    // when every sender is gone, or when the client does not take a message in time.
    let writer = tokio::spawn(async move {
        loop {
            let next = tokio::select! {
                msg = rx.recv() => msg,
                _ = writer_killed.changed() => None,
            };
            let Some(next) = next else { break };
            let msg = match next {
                Outgoing::Text(text) => Message::Text(text),
                Outgoing::Binary(bytes) => Message::Binary(bytes),
                Outgoing::Ping => Message::Ping(Default::default()),
            };
            match tokio::time::timeout(WRITE_TIMEOUT, sink.send(msg)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => break,
                Err(_) => {
                    tracing::info!("room client stopped reading: disconnecting it");
                    return;
                }
            }
        }
        let killed_with = *writer_killed.borrow();
        if let Some(code) = killed_with {
            // What was queued before the kill (often the error that explains it) goes first,
            // within a second: a client that is not reading gets its close regardless.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
            while let Ok(queued) = rx.try_recv() {
                let Outgoing::Text(text) = queued else {
                    continue;
                };
                let sent = tokio::time::timeout_at(deadline, sink.send(Message::Text(text))).await;
                if !matches!(sent, Ok(Ok(()))) {
                    break;
                }
            }
            let frame = CloseFrame {
                code,
                reason: close_reason(code).into(),
            };
            let _ = tokio::time::timeout(
                Duration::from_secs(1),
                sink.send(Message::Close(Some(frame))),
            )
            .await;
        }
        let _ = sink.close().await;
    });

    let live = state.rooms.room(&join.room_id);
    let me = PeerInfo {
        peer_id: peer_id.clone(),
        user_id: user_id.clone(),
        name: who.user.display_name.clone(),
        host: join.host,
        media: MediaState::default(),
    };
    if let Some(old) = &join.replaces {
        live.replace(old, &user_id);
    }
    let mut kill_full = watch::channel(None).0;
    let joined = {
        // Under the chat lock: no message commits between reading the room's last sequence
        // number, joining (from then on live messages arrive) and reading the backlog.
        let mut order = live.chat.lock().await;
        match admitted(&state, &join.room_id, &who.user.id).await {
            Err(code) => Err(code),
            Ok(last_seq) => {
                // Those already here first get what other app servers stored up to now: from
                // here on, the newcomer and they are sent the same messages.
                deliver_chat(&state, &live, &join.room_id, &mut order, last_seq, None).await;
                let welcome = |peers| RoomServerMessage::Welcome {
                    peer_id: peer_id.clone(),
                    user_id: user_id.clone(),
                    title: join.title.clone(),
                    peers,
                    ice_servers: join.ice.clone(),
                    last_seq,
                };
                match live.join(me, tx.clone(), kill, welcome) {
                    Ok(()) => backlog(&state, &join, last_seq, &tx).await,
                    Err(full) => {
                        kill_full = full.0;
                        Err(close::ROOM_FULL)
                    }
                }
            }
        }
    };
    match joined {
        Ok(()) => {
            // A booked session's room: being here counts as attending (rating opens).
            if let Err(e) = app::mentoring::repo::note_joined(
                &state.db,
                &join.room_id,
                &who.user.id.0,
                state.clock.now(),
            )
            .await
            {
                tracing::warn!(error = %e, "could not record attendance");
            }
            // The shared code: the server's state vector (the client answers with what it
            // typed offline), everyone's cursors, the language.
            match app::rooms::code::live::join(&state, &live, &join.room_id).await {
                Ok((frames, language, exercise)) => {
                    for frame in frames {
                        let _ = tx.try_send(Outgoing::Binary(frame.into()));
                    }
                    let _ = tx.try_send(Outgoing::Text(encode(&RoomServerMessage::CodeLanguage {
                        language,
                        exercise,
                        by: None,
                    })));
                }
                // Chat and the call still work; the editor's own SyncStep1 retries the load.
                Err(e) => tracing::warn!(error = %e, "could not load the shared code"),
            }
            // Ended from elsewhere (sign-out, password or role change): closed at once,
            // through the kill switch like a removal.
            join.ticket.on_end({
                let (live, peer_id) = (live.clone(), peer_id.clone());
                move || live.kick_peer(&peer_id, app::realtime::close::ACCESS_ENDED)
            });
            let session = Session {
                state: &state,
                live: &live,
                room_id: &join.room_id,
                peer_id: &peer_id,
                user: &who.user.id,
                name: &who.user.display_name,
                tx: &tx,
            };
            if let Some(code) = session.read(&mut stream, &mut killed).await {
                // Through the kill switch, so the writer sends the close even when the queue
                // is full.
                live.kick_peer(&peer_id, code);
                // The closing handshake: read (and drop) what the client still sends until
                // its close arrives. Dropping a socket with unread input resets the
                // connection, and the reset can destroy the error and close frame on their
                // way to the client.
                let _ = tokio::time::timeout(Duration::from_secs(1), async {
                    while let Some(Ok(msg)) = stream.next().await {
                        if matches!(msg, Message::Close(_)) {
                            break;
                        }
                    }
                })
                .await;
            }
        }
        Err(close::ROOM_FULL) => {
            let _ = tx.try_send(Outgoing::Text(encode(&RoomServerMessage::Error {
                error: app::error::Problem::RoomFull.into(),
                key: None,
            })));
            // Never joined: the kill switch went nowhere, so close by hand once the error is
            // written.
            let _ = kill_full.send(Some(close::ROOM_FULL));
        }
        Err(code) => live.kick_peer(&peer_id, code),
    }
    live.leave(&peer_id);
    app::rooms::code::live::leave(&state, &live, &join.room_id, &peer_id).await;
    drop(live);
    state.rooms.release(&join.room_id);
    drop(tx);
    let _ = writer.await;
}

fn close_reason(code: u16) -> &'static str {
    match code {
        close::POLICY => "policy violation",
        close::TOO_BIG => "message too big",
        close::ROOM_CLOSED => "the room was closed",
        close::REMOVED => "removed from the room",
        close::REPLACED => "joined again elsewhere",
        close::ROOM_FULL => "the room is full",
        close::SERVER_ERROR => "the server could not keep a change",
        _ => "closing",
    }
}

/// Whether the user may (still) be in the room: a participant of an open room. The room's
/// last chat sequence number when admitted, else the close code.
async fn admitted(state: &AppState, room: &str, user: &UserId) -> Result<u64, u16> {
    match repo::membership(&state.db, room, user).await {
        Ok(Some(_)) => {}
        Ok(None) => return Err(close::REMOVED),
        Err(_) => return Err(close::POLICY),
    }
    match repo::room(&state.db, room).await {
        Ok(Some(row)) if row.state() == RoomState::Open => {
            Ok(u64::try_from(row.chat_seq).unwrap_or(0))
        }
        Ok(Some(_)) => Err(close::ROOM_CLOSED),
        _ => Err(close::POLICY),
    }
}

/// A client further behind than this many pages gets the latest page instead of the whole
/// gap (and scrolls back for the rest): the resume runs under the room's chat lock.
const RESUME_PAGES: u64 = 10;

/// The chat the client has not seen: everything after `since` (in pages), or the latest page
/// for a client without one (or too far behind).
async fn backlog(
    state: &AppState,
    join: &Join,
    last_seq: u64,
    tx: &mpsc::Sender<Outgoing>,
) -> Result<(), u16> {
    let send = |msg: &RoomServerMessage| {
        tx.try_send(Outgoing::Text(encode(msg)))
            .map_err(|_| close::POLICY)
    };
    // A client cannot be ahead of the room (a restored backup): it starts over.
    let since = join.since.map(|s| if s > last_seq { 0 } else { s });
    match since {
        Some(mut since) if last_seq - since <= RESUME_PAGES * HISTORY_PAGE as u64 => {
            while since < last_seq {
                // Another app server may have stored more since `last_seq` was read: those
                // come live, in order, with everyone else's (`deliver_chat`), not twice.
                let page =
                    repo::chat_since(&state.db, &join.room_id, since, last_seq, HISTORY_PAGE)
                        .await
                        .map_err(|_| close::POLICY)?;
                let Some(last) = page.last() else { break };
                since = last.seq;
                send(&RoomServerMessage::History {
                    kind: HistoryKind::Resume,
                    more: since < last_seq,
                    messages: page,
                })?;
            }
        }
        _ => {
            let page = repo::chat_before(&state.db, &join.room_id, last_seq + 1, HISTORY_PAGE)
                .await
                .map_err(|_| close::POLICY)?;
            send(&RoomServerMessage::History {
                kind: HistoryKind::Older,
                more: page.first().is_some_and(|m| m.seq > 1),
                messages: page,
            })?;
        }
    }
    Ok(())
}

struct Session<'a> {
    state: &'a AppState,
    live: &'a RoomLive,
    room_id: &'a str,
    peer_id: &'a str,
    user: &'a UserId,
    name: &'a str,
    tx: &'a mpsc::Sender<Outgoing>,
}

impl Session<'_> {
    /// Reads until the client leaves or must be closed; returns the close code to send.
    async fn read(
        &self,
        stream: &mut futures_util::stream::SplitStream<WebSocket>,
        killed: &mut watch::Receiver<Option<u16>>,
    ) -> Option<u16> {
        let mut heartbeat = tokio::time::interval(Duration::from_secs(HEARTBEAT_SECS));
        let mut last_heard = Instant::now();
        loop {
            let received = tokio::select! {
                r = stream.next() => r,
                _ = killed.changed() => return None,
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() > Duration::from_secs(SILENCE_SECS) {
                        tracing::info!(peer = self.peer_id, "room client went silent: dropping it");
                        return Some(close::POLICY);
                    }
                    if self.tx.try_send(Outgoing::Ping).is_err() {
                        return Some(close::POLICY);
                    }
                    // A client that only listens is re-checked too: removed from the room
                    // or the room closed (perhaps through another app server) ends it. One
                    // socket of the room does it for all, every RECHECK.
                    if self.live.recheck_due(RECHECK) {
                        match repo::state_and_members(&self.state.db, self.room_id).await {
                            Ok((Some(state), members)) if state == RoomState::Open.key() => {
                                self.live.keep_only(&members, close::REMOVED);
                            }
                            Ok((Some(_), _)) => self.live.kick(None, close::ROOM_CLOSED),
                            Ok((None, _)) => self.live.kick(None, close::POLICY),
                            // The database is away: try again at the next beat.
                            Err(_) => {}
                        }
                    }
                    continue;
                }
            };
            let msg = match received {
                Some(Ok(msg)) => msg,
                // tungstenite refuses an oversized message before we ever see it.
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "room socket read ended");
                    return Some(close::TOO_BIG);
                }
                None => return None,
            };
            last_heard = Instant::now();
            let text = match msg {
                Message::Text(text) if text.len() > MAX_ROOM_MESSAGE_BYTES => {
                    self.error(bad("that message is too large"), None);
                    return Some(close::TOO_BIG);
                }
                Message::Text(text) => text,
                Message::Close(_) => return None,
                // Our pings' answers; a client's own pings count against its rate.
                Message::Pong(_) => continue,
                Message::Ping(_) => {
                    if let Err(retry_after_secs) = self.spend(|b, now| b.messages.take(now)) {
                        self.error(AppError::RateLimited { retry_after_secs }, None);
                        return Some(close::POLICY);
                    }
                    continue;
                }
                Message::Binary(frame) => {
                    let bytes = frame.len() as f64;
                    if let Err(retry_after_secs) = self.spend(|b, now| {
                        b.code_frames
                            .take(now)
                            .and_then(|()| b.code_bytes.take_n(bytes, now))
                    }) {
                        self.error(AppError::RateLimited { retry_after_secs }, None);
                        return Some(close::POLICY);
                    }
                    match repo::membership(&self.state.db, self.room_id, self.user).await {
                        Ok(Some(_)) => {}
                        Ok(None) => return Some(close::REMOVED),
                        Err(_) => return Some(close::POLICY),
                    }
                    if let Err(code) = self.code_frame(&frame).await {
                        return Some(code);
                    }
                    continue;
                }
            };
            if let Err(retry_after_secs) = self.spend(|b, now| b.messages.take(now)) {
                self.error(AppError::RateLimited { retry_after_secs }, None);
                return Some(close::POLICY);
            }
            let msg = match serde_json::from_str::<RoomClientMessage>(&text) {
                Ok(msg) => msg,
                Err(e) => {
                    self.error(bad(&format!("that message could not be read: {e}")), None);
                    return Some(close::POLICY);
                }
            };
            // Membership is checked on every message: a participant removed by the host
            // stops here even if the kick was made by another app server. A chat message is
            // checked inside its own transaction (one round trip, not two).
            if !matches!(msg, RoomClientMessage::Chat { .. }) {
                match repo::membership(&self.state.db, self.room_id, self.user).await {
                    Ok(Some(_)) => {}
                    Ok(None) => return Some(close::REMOVED),
                    Err(_) => return Some(close::POLICY),
                }
            }
            if let Err(code) = self.handle(msg).await {
                return Some(code);
            }
        }
    }

    /// Spends from this participant's budgets in the room (shared by all their sockets here).
    fn spend(
        &self,
        spend: impl FnOnce(&mut Budgets, Instant) -> Result<(), u64>,
    ) -> Result<(), u64> {
        let now = Instant::now();
        self.live.spend(
            &self.user.0,
            || Budgets {
                messages: TokenBucket::new(ROOM_MESSAGES_PER_SECOND, ROOM_MESSAGE_BURST, now),
                code_frames: TokenBucket::new(CODE_FRAMES_PER_SECOND, CODE_FRAME_BURST, now),
                code_bytes: TokenBucket::new(CODE_BYTES_PER_SECOND, CODE_BYTES_BURST, now),
            },
            |b| spend(b, now),
        )
    }

    /// A Yjs frame for the shared code.
    async fn code_frame(&self, frame: &[u8]) -> Result<(), u16> {
        let from = Sender {
            peer_id: self.peer_id,
            user: self.user,
            name: self.name,
        };
        match app::rooms::code::live::receive(self.state, self.live, self.room_id, &from, frame)
            .await
        {
            Ok(replies) => {
                for reply in replies {
                    self.tx
                        .try_send(Outgoing::Binary(reply.into()))
                        .map_err(|_| close::POLICY)?;
                }
                Ok(())
            }
            Err(FrameError::Refused(Refused(why))) => {
                self.error(bad(&format!("that code change was refused: {why}")), None);
                Err(close::POLICY)
            }
            Err(FrameError::Failed(e)) => {
                self.error(e, None);
                Err(close::SERVER_ERROR)
            }
        }
    }

    fn send(&self, msg: &RoomServerMessage) -> Result<(), u16> {
        self.tx
            .try_send(Outgoing::Text(encode(msg)))
            .map_err(|_| close::POLICY)
    }

    fn error(&self, error: AppError, key: Option<String>) {
        let _ = self.send(&RoomServerMessage::Error { error, key });
    }

    async fn handle(&self, msg: RoomClientMessage) -> Result<(), u16> {
        match msg {
            RoomClientMessage::Signal { to, signal } => {
                if let Err(e) = signal.check() {
                    self.error(e, None);
                    return Err(close::POLICY);
                }
                let relayed = RoomServerMessage::Signal {
                    from: self.peer_id.to_string(),
                    signal,
                };
                if !self.live.signal(self.peer_id, &to, &relayed) {
                    // The peer left (or the call) while the signal was in flight, or the
                    // sender is not in the call: nothing is relayed.
                    self.error(bad("that participant is no longer in the call"), None);
                }
                Ok(())
            }
            RoomClientMessage::Media { media } => {
                if self.live.set_media(self.peer_id, media).is_err() {
                    self.error(app::error::Problem::RoomFull.into(), None);
                }
                Ok(())
            }
            RoomClientMessage::Chat { key, body } => {
                let parsed = client_key(&key).and_then(|k| Ok((k, chat_body(&body)?)));
                let (key_ok, body) = match parsed {
                    Ok(ok) => ok,
                    Err(e) => {
                        self.error(e, Some(key));
                        return Ok(());
                    }
                };
                match commit_chat(self.state, self.room_id, self.user, key_ok, &body).await {
                    Ok(message) => {
                        // A new message reached the sender with everyone else's copy; a resend
                        // of a stored one reached it before (live, or in the resume backlog
                        // this socket started with), so only the ack goes now.
                        self.send(&RoomServerMessage::Ack {
                            key,
                            seq: message.seq,
                        })
                    }
                    // No longer in the room: the transaction wrote nothing.
                    Err(AppError::Forbidden) => Err(close::REMOVED),
                    Err(e) => {
                        self.error(e, Some(key));
                        Ok(())
                    }
                }
            }
            RoomClientMessage::History { before } => {
                let page = repo::chat_before(&self.state.db, self.room_id, before, HISTORY_PAGE)
                    .await
                    .map_err(|_| close::POLICY)?;
                self.send(&RoomServerMessage::History {
                    kind: HistoryKind::Older,
                    more: page.first().is_some_and(|m| m.seq > 1),
                    messages: page,
                })
            }
            RoomClientMessage::Ping { seq } => self.send(&RoomServerMessage::Pong { seq }),
            RoomClientMessage::SetLanguage { language } => {
                if let Err(e) = app::rooms::code::live::set_language(
                    self.state,
                    self.live,
                    self.room_id,
                    language,
                    self.name,
                )
                .await
                {
                    self.error(e, None);
                }
                Ok(())
            }
            RoomClientMessage::Run { report } => {
                match report.checked() {
                    Ok(report) => self.live.broadcast_everywhere(
                        &RoomServerMessage::RunResult {
                            by_user: self.user.0.clone(),
                            by_name: self.name.to_string(),
                            report,
                        },
                        None,
                    ),
                    Err(e) => self.error(e, None),
                }
                Ok(())
            }
        }
    }
}

fn bad(detail: &str) -> AppError {
    AppError::BadRequest {
        detail: detail.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_credentials_follow_coturns_rest_scheme() {
        let cfg = IceConfig {
            urls: vec![
                "stun:turn.example.org:3478".into(),
                "turn:turn.example.org:3478?transport=udp".into(),
            ],
            turn_secret: Some("north".into()),
            turn_ttl: Duration::from_secs(3600),
        };
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let servers = ice_servers(&cfg, &UserId("u1".into()), "r1", now);
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].username, None);
        let turn = &servers[1];
        assert_eq!(turn.username.as_deref(), Some("1700003600:u1.r1"));
        // base64(HMAC-SHA1("north", "1700003600:u1.r1")), computed independently with
        // `printf %s 1700003600:u1.r1 | openssl dgst -sha1 -hmac north -binary | base64`.
        assert_eq!(turn.credential.as_deref(), Some(EXPECTED));
    }

    const EXPECTED: &str = "CxZ7MBzoV5Hx4OSEi1OFoLtbCao=";

    #[test]
    fn without_a_secret_no_turn_server_is_offered() {
        let cfg = IceConfig {
            urls: vec!["turn:t.example:3478".into()],
            turn_secret: None,
            turn_ttl: Duration::from_secs(600),
        };
        assert!(ice_servers(&cfg, &UserId("u".into()), "r", SystemTime::now()).is_empty());
    }
}
