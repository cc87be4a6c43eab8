//! The browser side of a live room (hydrate only): the room socket, WebRTC calls in a mesh of
//! up to four, and the chat's delivery guarantees.
//!
//! * Calls use "perfect negotiation": either side may (re)negotiate at any time; on a collision
//!   the polite peer rolls back and the impolite one ignores the other's offer, so glare never
//!   fails a call. Candidates trickle through the socket as they are found.
//! * The socket reconnects by itself (backoff, or at once when the browser says it is online
//!   again) and takes over from its previous connection (`replaces`), so the others drop the
//!   old peer at once; every call connection is then rebuilt. A connection whose ICE fails or
//!   stays disconnected restarts ICE without a new socket.
//! * Chat: a message is kept (also in localStorage) with a random key until the server acks
//!   it after its commit, and resent with the same key after a reconnect, so it is stored
//!   once; the socket resumes "since" the last sequence number seen, so nothing is missed or
//!   shown twice (messages are kept by sequence number).

use std::{
    cell::RefCell,
    collections::HashMap,
    rc::{Rc, Weak},
};

use leptos::{logging::warn, prelude::*};
use wasm_bindgen::{JsCast, JsValue, closure::Closure, prelude::wasm_bindgen};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{
    CloseEvent, DisplayMediaStreamConstraints, HtmlMediaElement, MediaDeviceInfo, MediaDeviceKind,
    MediaStream, MediaStreamConstraints, MediaStreamTrack, MessageEvent, RtcConfiguration,
    RtcIceCandidateInit, RtcIceConnectionState, RtcIceServer, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcRtpSender, RtcRtpTransceiverDirection, RtcRtpTransceiverInit,
    RtcSdpType, RtcSessionDescriptionInit, RtcSignalingState, RtcTrackEvent, WebSocket,
    js_sys::{self, Array, Reflect},
};

use super::{
    model::{
        ChatMessage, HistoryKind, IceServer, MediaState, PeerInfo, Quality, RoomClientMessage,
        RoomServerMessage, SdpKind, Signal, close,
    },
    pages::{CallUi, Conn, PendingChat, RemoteTile},
};

#[wasm_bindgen(inline_js = "
export function set_local_auto(pc) { return pc.setLocalDescription(); }
export function restart_ice(pc) { if (pc.restartIce) { pc.restartIce(); } }
export function can_share_screen() {
  return !!(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
}
export function stats_values(report) { return Array.from(report.values()); }
")]
extern "C" {
    /// `setLocalDescription()` without arguments (web-sys only has the one-argument form):
    /// the browser creates the right offer or answer for the current state.
    fn set_local_auto(pc: &RtcPeerConnection) -> js_sys::Promise;
    /// `restartIce()` is not in web-sys.
    fn restart_ice(pc: &RtcPeerConnection);
    fn can_share_screen() -> bool;
    fn stats_values(report: &JsValue) -> Array;
}

/// A client that hears nothing (not even a pong) for this long reconnects.
const SILENCE_MS: f64 = 9000.0;
const PING_EVERY_MS: i32 = 3000;
const STATS_EVERY_MS: i32 = 2000;
/// An ICE connection "disconnected" for this long is restarted.
const RESTART_AFTER_MS: f64 = 3000.0;

type Shared = Rc<RefCell<Client>>;
type Handler = Closure<dyn FnMut(JsValue)>;

thread_local! {
    static CLIENT: RefCell<Option<Shared>> = const { RefCell::new(None) };
}

struct Peer {
    pc: RtcPeerConnection,
    polite: bool,
    making_offer: bool,
    ignore_offer: bool,
    /// An answer is being applied: an offer arriving now is not a collision.
    answer_pending: bool,
    _handlers: Vec<Handler>,
    /// (timestamp ms, bytes received, packets lost, packets received) at the last sample.
    last: Option<(f64, f64, f64, f64)>,
    disconnected_at: Option<f64>,
}

struct Client {
    room: String,
    ui: CallUi,
    ws: Option<WebSocket>,
    /// Which socket is current: events of an earlier one are ignored.
    generation: u32,
    ws_handlers: Vec<Handler>,
    /// This connection's peer id, and the previous one (taken over on reconnect).
    peer_id: Option<String>,
    ice: Vec<IceServer>,
    roster: HashMap<String, PeerInfo>,
    peers: HashMap<String, Peer>,
    local: Option<MediaStream>,
    screen: Option<MediaStreamTrack>,
    media: MediaState,
    last_seq: u64,
    last_heard: f64,
    attempts: u32,
    reconnect_timer: Option<i32>,
    intervals: Vec<i32>,
    window_handlers: Vec<(String, Handler)>,
    stopped: bool,
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn seq_key(room: &str) -> String {
    format!("pairwise.room.{room}.seq")
}
fn pending_key(room: &str) -> String {
    format!("pairwise.room.{room}.pending")
}

/// Starts the room's client (one per page).
pub fn start(room: String, ui: CallUi) {
    stop();
    let stored_seq = storage()
        .and_then(|s| s.get_item(&seq_key(&room)).ok().flatten())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let rendered_seq = ui
        .chat
        .with_untracked(|c| c.keys().last().copied().unwrap_or(0));
    let pending: Vec<(String, String)> = storage()
        .and_then(|s| s.get_item(&pending_key(&room)).ok().flatten())
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default();
    ui.pending.set(
        pending
            .into_iter()
            .map(|(key, body)| PendingChat {
                key,
                body,
                error: None,
            })
            .collect(),
    );
    ui.can_share.set(can_share_screen());
    let client = Rc::new(RefCell::new(Client {
        room,
        ui,
        ws: None,
        generation: 0,
        ws_handlers: Vec::new(),
        peer_id: None,
        ice: Vec::new(),
        roster: HashMap::new(),
        peers: HashMap::new(),
        local: None,
        screen: None,
        media: MediaState::default(),
        // The page already shows the latest messages; resume after what it shows.
        last_seq: stored_seq.max(rendered_seq),
        last_heard: now_ms(),
        attempts: 0,
        reconnect_timer: None,
        intervals: Vec::new(),
        window_handlers: Vec::new(),
        stopped: false,
    }));
    CLIENT.with(|c| *c.borrow_mut() = Some(client.clone()));
    install_timers(&client);
    connect(&client);
}

/// Leaves the room: closes the socket and every call, stops camera and microphone.
pub fn stop() {
    let Some(client) = CLIENT.with(|c| c.borrow_mut().take()) else {
        return;
    };
    let mut c = client.borrow_mut();
    c.stopped = true;
    if let Some(ws) = c.ws.take() {
        ws.set_onmessage(None);
        ws.set_onclose(None);
        let _ = ws.close_with_code(1000);
    }
    for (_, peer) in c.peers.drain() {
        peer.pc.close();
    }
    stop_tracks(c.local.take(), c.screen.take());
    if let Some(w) = web_sys::window() {
        for id in c.intervals.drain(..) {
            w.clear_interval_with_handle(id);
        }
        if let Some(t) = c.reconnect_timer.take() {
            w.clear_timeout_with_handle(t);
        }
        for (event, h) in c.window_handlers.drain(..) {
            let _ = w.remove_event_listener_with_callback(&event, h.as_ref().unchecked_ref());
        }
    }
}

fn with_client<T>(f: impl FnOnce(&Shared) -> T) -> Option<T> {
    CLIENT.with(|c| c.borrow().as_ref().map(f))
}

fn stop_tracks(local: Option<MediaStream>, screen: Option<MediaStreamTrack>) {
    if let Some(stream) = local {
        for t in stream.get_tracks().iter() {
            t.unchecked_into::<MediaStreamTrack>().stop();
        }
    }
    if let Some(t) = screen {
        t.stop();
    }
}

/// A JavaScript callback that runs `f` on the client while it exists.
fn on_client(client: &Shared, f: fn(&Shared)) -> Handler {
    let weak = Rc::downgrade(client);
    Closure::<dyn FnMut(JsValue)>::new(move |_| {
        if let Some(client) = weak.upgrade() {
            f(&client);
        }
    })
}

fn install_timers(client: &Shared) {
    let Some(w) = web_sys::window() else { return };
    let ping = on_client(client, heartbeat);
    let stats = on_client(client, sample_stats);
    let online = on_client(client, reconnect_now);
    let offline = on_client(client, |c| c.borrow().ui.conn.set(Conn::Offline));
    let mut c = client.borrow_mut();
    for (f, every) in [(&ping, PING_EVERY_MS), (&stats, STATS_EVERY_MS)] {
        if let Ok(id) = w.set_interval_with_callback_and_timeout_and_arguments_0(
            f.as_ref().unchecked_ref(),
            every,
        ) {
            c.intervals.push(id);
        }
    }
    for (event, h) in [("online", online), ("offline", offline)] {
        let _ = w.add_event_listener_with_callback(event, h.as_ref().unchecked_ref());
        c.window_handlers.push((event.to_string(), h));
    }
    c.ws_handlers.push(ping);
    c.ws_handlers.push(stats);
}

// ---- the socket -----------------------------------------------------------------------

fn socket_url(c: &Client) -> Option<String> {
    let loc = web_sys::window()?.location();
    let scheme = if loc.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    let mut url = format!(
        "{scheme}://{}/rooms/{}/ws?since={}",
        loc.host().ok()?,
        c.room,
        c.last_seq
    );
    if let Some(old) = &c.peer_id {
        url.push_str(&format!("&replaces={old}"));
    }
    Some(url)
}

fn connect(client: &Shared) {
    let Some(url) = socket_url(&client.borrow()) else {
        return;
    };
    let ws = match WebSocket::new(&url) {
        Ok(ws) => ws,
        Err(e) => {
            warn!("room socket: {e:?}");
            schedule_reconnect(client);
            return;
        }
    };
    let generation = {
        let mut c = client.borrow_mut();
        // The previous socket, if any, stops talking to us before it is let go.
        if let Some(old) = c.ws.take() {
            old.set_onmessage(None);
            old.set_onclose(None);
            let _ = old.close();
            // The shared editor stops sending on it (it syncs again on the welcome).
            crate::rooms::code::client::disconnected();
        }
        c.generation += 1;
        c.generation
    };
    // Shared-code frames arrive as ArrayBuffers, handed to the editor as they are.
    ws.set_binary_type(web_sys::BinaryType::Arraybuffer);
    let weak = Rc::downgrade(client);
    let on_message = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
        let Some(client) = weak.upgrade() else { return };
        if client.borrow().generation != generation {
            return;
        }
        let Some(data) = ev.dyn_ref::<MessageEvent>().map(MessageEvent::data) else {
            return;
        };
        client.borrow_mut().last_heard = now_ms();
        if let Some(buf) = data.dyn_ref::<js_sys::ArrayBuffer>() {
            crate::rooms::code::client::receive(&js_sys::Uint8Array::new(buf));
            return;
        }
        let Some(text) = data.as_string() else {
            return;
        };
        match serde_json::from_str::<RoomServerMessage>(&text) {
            Ok(msg) => handle(&client, msg),
            Err(e) => warn!("room socket: unreadable message: {e}"),
        }
    });
    let weak = Rc::downgrade(client);
    let on_close = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
        let Some(client) = weak.upgrade() else { return };
        let code = ev.dyn_ref::<CloseEvent>().map_or(1006, CloseEvent::code);
        {
            let c = client.borrow();
            // A close of a socket we already replaced is old news.
            if c.stopped || c.generation != generation {
                return;
            }
        }
        closed(&client, code);
    });
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    let mut c = client.borrow_mut();
    c.last_heard = now_ms();
    c.ws = Some(ws);
    // Handlers of earlier sockets are dropped with them; timers stay (the first two).
    c.ws_handlers.truncate(2);
    c.ws_handlers.push(on_message);
    c.ws_handlers.push(on_close);
}

fn closed(client: &Shared, code: u16) {
    crate::rooms::code::client::disconnected();
    let ended = matches!(
        code,
        close::ROOM_CLOSED | close::REMOVED | close::REPLACED | close::ROOM_FULL
    );
    let mut c = client.borrow_mut();
    c.ws = None;
    if ended {
        c.ui.conn.set(Conn::Ended(code));
        for (_, peer) in c.peers.drain() {
            peer.pc.close();
        }
        stop_tracks(c.local.take(), c.screen.take());
        c.ui.in_call.set(false);
        c.ui.remotes.set(Vec::new());
        return;
    }
    let online = web_sys::window().is_none_or(|w| w.navigator().on_line());
    c.ui.conn.set(if online {
        Conn::Reconnecting
    } else {
        Conn::Offline
    });
    drop(c);
    schedule_reconnect(client);
}

fn schedule_reconnect(client: &Shared) {
    let Some(w) = web_sys::window() else { return };
    let mut c = client.borrow_mut();
    if c.stopped || c.reconnect_timer.is_some() {
        return;
    }
    c.attempts += 1;
    // 0.5 s, 1 s, 2 s, 4 s, then every 5 s, with jitter so a room's clients do not
    // reconnect in lockstep after a server restart.
    let base = (500.0 * 2f64.powi(c.attempts.min(4) as i32 - 1)).min(5000.0);
    let delay = base * (0.75 + js_sys::Math::random() * 0.5);
    let weak = Rc::downgrade(client);
    let retry = Closure::once_into_js(move || {
        if let Some(client) = weak.upgrade() {
            client.borrow_mut().reconnect_timer = None;
            connect(&client);
        }
    });
    c.reconnect_timer = w
        .set_timeout_with_callback_and_timeout_and_arguments_0(retry.unchecked_ref(), delay as i32)
        .ok();
}

/// The browser is back online: do not wait for the backoff.
fn reconnect_now(client: &Shared) {
    let (open, welcomed, heard_ms) = {
        let c = client.borrow();
        (
            c.ws.as_ref()
                .is_some_and(|ws| ws.ready_state() == WebSocket::OPEN),
            c.peer_id.is_some(),
            now_ms() - c.last_heard,
        )
    };
    if open {
        // A short drop can leave the socket working (TCP carried it through): then it is
        // live again as soon as it has been heard from; a dead one is caught by the heartbeat.
        if welcomed && heard_ms < SILENCE_MS {
            client.borrow().ui.conn.set(Conn::Live);
        }
        return;
    }
    if let (Some(w), Some(t)) = (
        web_sys::window(),
        client.borrow_mut().reconnect_timer.take(),
    ) {
        w.clear_timeout_with_handle(t);
    }
    client.borrow_mut().attempts = 0;
    connect(client);
}

/// Pings the server; a socket that heard nothing for too long is given up and replaced
/// (browsers can take minutes to notice a dead connection on their own).
fn heartbeat(client: &Shared) {
    let silent = now_ms() - client.borrow().last_heard;
    let open = client
        .borrow()
        .ws
        .as_ref()
        .is_some_and(|ws| ws.ready_state() == WebSocket::OPEN);
    if open && silent > SILENCE_MS {
        warn!("room socket silent for {silent:.0} ms: reconnecting");
        if let Some(ws) = client.borrow_mut().ws.take() {
            ws.set_onmessage(None);
            ws.set_onclose(None);
            let _ = ws.close();
        }
        closed(client, 1006);
        return;
    }
    send(client, &RoomClientMessage::Ping { seq: 0 });
}

fn send(client: &Shared, msg: &RoomClientMessage) -> bool {
    let c = client.borrow();
    let Some(ws) =
        c.ws.as_ref()
            .filter(|ws| ws.ready_state() == WebSocket::OPEN)
    else {
        return false;
    };
    match serde_json::to_string(msg) {
        Ok(text) => ws.send_with_str(&text).is_ok(),
        Err(_) => false,
    }
}

fn handle(client: &Shared, msg: RoomServerMessage) {
    match msg {
        RoomServerMessage::Welcome {
            peer_id,
            peers,
            ice_servers,
            last_seq,
            ..
        } => welcome(client, peer_id, peers, ice_servers, last_seq),
        RoomServerMessage::PeerJoined { peer } => {
            client
                .borrow_mut()
                .roster
                .insert(peer.peer_id.clone(), peer);
            refresh_tiles(client);
        }
        RoomServerMessage::PeerLeft { peer_id } => {
            let mut c = client.borrow_mut();
            c.roster.remove(&peer_id);
            if let Some(peer) = c.peers.remove(&peer_id) {
                peer.pc.close();
            }
            drop(c);
            refresh_tiles(client);
        }
        RoomServerMessage::PeerMedia { peer_id, media } => {
            let (start_call, end_call) = {
                let mut c = client.borrow_mut();
                if let Some(p) = c.roster.get_mut(&peer_id) {
                    p.media = media;
                }
                let has = c.peers.contains_key(&peer_id);
                (
                    media.in_call && c.media.in_call && !has,
                    !media.in_call && has,
                )
            };
            if start_call {
                initiate_later(client, peer_id.clone());
            }
            if end_call && let Some(peer) = client.borrow_mut().peers.remove(&peer_id) {
                peer.pc.close();
            }
            refresh_tiles(client);
        }
        RoomServerMessage::Signal { from, signal } => {
            if !client.borrow().media.in_call {
                return;
            }
            ensure_peer(client, &from);
            match signal {
                Signal::Description { sdp_type, sdp } => {
                    spawn_local(on_description(client.clone(), from, sdp_type, sdp));
                }
                Signal::Candidate {
                    candidate,
                    sdp_mid,
                    sdp_m_line_index,
                } => on_candidate(client, &from, &candidate, sdp_mid, sdp_m_line_index),
            }
        }
        RoomServerMessage::Chat { message } => add_messages(client, vec![message]),
        RoomServerMessage::History {
            kind,
            messages,
            more,
        } => {
            if kind == HistoryKind::Older {
                client.borrow().ui.more_before.set(more);
            }
            add_messages(client, messages);
        }
        RoomServerMessage::Ack { key, .. } => {
            let ui = client.borrow().ui;
            ui.pending.update(|p| p.retain(|x| x.key != key));
            save_pending(client);
        }
        RoomServerMessage::Error { error, key } => {
            let ui = client.borrow().ui;
            let words = error.message(ui.locale.get_untracked());
            match key {
                // A refusal is final (shown, not resent); a passing failure (the server
                // busy or broken for a moment) leaves the message pending for the next resend.
                Some(key)
                    if matches!(
                        error,
                        crate::error::AppError::BadRequest { .. }
                            | crate::error::AppError::Invalid { .. }
                    ) =>
                {
                    ui.pending.update(|p| {
                        if let Some(x) = p.iter_mut().find(|x| x.key == key) {
                            x.error = Some(words);
                        }
                    });
                    save_pending(client);
                }
                Some(_) => ui.notice.set(Some(words)),
                None => {
                    if matches!(
                        error,
                        crate::error::AppError::Invalid {
                            problem: crate::error::Problem::RoomFull
                        }
                    ) {
                        leave_call(client);
                    }
                    ui.notice.set(Some(words));
                }
            }
        }
        RoomServerMessage::Pong { .. } => {}
        RoomServerMessage::CodeLanguage {
            language, exercise, ..
        } => {
            let code = client.borrow().ui.code;
            code.language.set(language);
            crate::rooms::code::client::set_language(language.key());
            if code.exercise.get_untracked() != exercise {
                code.exercise.set(exercise);
                // Another exercise was opened here: its visible tests are what Run checks.
                let room = client.borrow().room.clone();
                spawn_local(async move {
                    if let Ok(view) = crate::rooms::code::api::room_code(room).await {
                        code.tests.set(view.tests);
                        code.limits.set(view.limits);
                    }
                });
            }
        }
        RoomServerMessage::RunResult {
            by_name, report, ..
        } => client.borrow().ui.code.add_run(by_name, report),
    }
}

/// Sends a shared-code frame on the current socket; false when it is not open (the editor
/// keeps the change and syncs on reconnect).
pub fn send_binary(bytes: &js_sys::Uint8Array) -> bool {
    with_client(|client| {
        let c = client.borrow();
        c.ws.as_ref()
            .filter(|ws| ws.ready_state() == WebSocket::OPEN)
            .is_some_and(|ws| ws.send_with_array_buffer_view(bytes).is_ok())
    })
    .unwrap_or(false)
}

/// Whether the room socket is open and welcomed now.
pub fn is_open() -> bool {
    with_client(|client| {
        let c = client.borrow();
        c.ui.conn.get_untracked() == Conn::Live
            && c.ws
                .as_ref()
                .is_some_and(|ws| ws.ready_state() == WebSocket::OPEN)
    })
    .unwrap_or(false)
}

/// Shares a Run's result with the room; false when the socket is not open.
pub fn send_run(report: crate::rooms::code::model::RunReport) -> bool {
    with_client(|client| send(client, &RoomClientMessage::Run { report })).unwrap_or(false)
}

pub fn send_language(language: crate::rooms::code::model::CodeLanguage) {
    with_client(|client| send(client, &RoomClientMessage::SetLanguage { language }));
}

fn welcome(
    client: &Shared,
    peer_id: String,
    peers: Vec<PeerInfo>,
    ice: Vec<IceServer>,
    last_seq: u64,
) {
    let in_call = {
        let mut c = client.borrow_mut();
        c.attempts = 0;
        c.ui.conn.set(Conn::Live);
        c.ui.notice.set(None);
        // A new connection is a new peer to everyone: rebuild every call connection.
        for (_, peer) in c.peers.drain() {
            peer.pc.close();
        }
        c.peer_id = Some(peer_id);
        c.ice = ice;
        c.roster = peers.into_iter().map(|p| (p.peer_id.clone(), p)).collect();
        if last_seq < c.last_seq {
            // The room's log is shorter than what we saw (restored from a backup): start over.
            c.last_seq = 0;
        }
        c.media.in_call
    };
    // Pending chat goes again with the same keys: stored once whatever happened before.
    let pending = client.borrow().ui.pending.get_untracked();
    for p in pending.iter().filter(|p| p.error.is_none()) {
        send(
            client,
            &RoomClientMessage::Chat {
                key: p.key.clone(),
                body: p.body.clone(),
            },
        );
    }
    // The shared editor syncs both ways (what it typed offline goes up).
    crate::rooms::code::client::connected();
    if in_call {
        let media = client.borrow().media;
        // Media first: the others learn we are in the call before our offers arrive.
        send(client, &RoomClientMessage::Media { media });
        call_everyone(client);
    }
    refresh_tiles(client);
}

/// Offers to everyone already in the call (we just joined it, or reconnected).
fn call_everyone(client: &Shared) {
    let others: Vec<String> = client
        .borrow()
        .roster
        .values()
        .filter(|p| p.media.in_call)
        .map(|p| p.peer_id.clone())
        .collect();
    for id in others {
        ensure_peer(client, &id);
    }
}

/// Someone else joined the call. They offer to everyone already in it, so we wait for their
/// offer instead of offering at the same moment (perfect negotiation would resolve the
/// collision, but one offer is faster and leaves no rolled-back receivers). If no offer came
/// (we both joined at once and neither saw the other), we start it ourselves.
fn initiate_later(client: &Shared, peer_id: String) {
    let Some(w) = web_sys::window() else { return };
    let weak = Rc::downgrade(client);
    let later = Closure::once_into_js(move || {
        let Some(client) = weak.upgrade() else { return };
        let due = {
            let c = client.borrow();
            c.media.in_call
                && !c.peers.contains_key(&peer_id)
                && c.roster.get(&peer_id).is_some_and(|p| p.media.in_call)
        };
        if due {
            ensure_peer(&client, &peer_id);
        }
    });
    let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(later.unchecked_ref(), 1500);
}

fn add_messages(client: &Shared, messages: Vec<ChatMessage>) {
    if messages.is_empty() {
        return;
    }
    let (ui, room) = {
        let c = client.borrow();
        (c.ui, c.room.clone())
    };
    let top = messages.iter().map(|m| m.seq).max().unwrap_or(0);
    ui.chat.update(|chat| {
        for m in messages {
            chat.insert(m.seq, m);
        }
    });
    let mut c = client.borrow_mut();
    if top > c.last_seq {
        c.last_seq = top;
        if let Some(s) = storage() {
            let _ = s.set_item(&seq_key(&room), &top.to_string());
        }
    }
}

fn save_pending(client: &Shared) {
    let c = client.borrow();
    let list: Vec<(String, String)> =
        c.ui.pending
            .get_untracked()
            .into_iter()
            .filter(|p| p.error.is_none())
            .map(|p| (p.key, p.body))
            .collect();
    if let (Some(s), Ok(json)) = (storage(), serde_json::to_string(&list)) {
        let _ = s.set_item(&pending_key(&c.room), &json);
    }
}

fn refresh_tiles(client: &Shared) {
    let c = client.borrow();
    let old = c.ui.remotes.get_untracked();
    let mut tiles: Vec<RemoteTile> = c
        .roster
        .values()
        .filter(|p| p.media.in_call && c.media.in_call)
        .map(|p| RemoteTile {
            peer_id: p.peer_id.clone(),
            name: p.name.clone(),
            host: p.host,
            media: p.media,
            quality: old
                .iter()
                .find(|t| t.peer_id == p.peer_id)
                .map(|t| t.quality)
                .unwrap_or_default(),
        })
        .collect();
    // Hosts first, then by name: tiles do not jump around as people come and go.
    tiles.sort_by(|a, b| b.host.cmp(&a.host).then(a.name.cmp(&b.name)));
    if tiles != old {
        c.ui.remotes.set(tiles);
    }
    let mut present: Vec<String> = c.roster.values().map(|p| p.user_id.clone()).collect();
    present.sort();
    present.dedup();
    if present != c.ui.present.get_untracked() {
        c.ui.present.set(present);
    }
}

// ---- calls ----------------------------------------------------------------------------

fn ice_config(servers: &[IceServer]) -> RtcConfiguration {
    let config = RtcConfiguration::new();
    let list = Array::new();
    for s in servers {
        let server = RtcIceServer::new();
        let urls = Array::new();
        for u in &s.urls {
            urls.push(&JsValue::from_str(u));
        }
        server.set_urls(&urls);
        if let Some(u) = &s.username {
            server.set_username(u);
        }
        if let Some(c) = &s.credential {
            server.set_credential(c);
        }
        list.push(&server);
    }
    config.set_ice_servers(&list);
    config
}

/// The call connection to `peer_id`, made (with our tracks) if there is none yet.
fn ensure_peer(client: &Shared, peer_id: &str) {
    if client.borrow().peers.contains_key(peer_id) {
        return;
    }
    let (config, polite) = {
        let c = client.borrow();
        let me = c.peer_id.clone().unwrap_or_default();
        (ice_config(&c.ice), me.as_str() > peer_id)
    };
    let pc = match RtcPeerConnection::new_with_configuration(&config) {
        Ok(pc) => pc,
        Err(e) => {
            warn!("RTCPeerConnection: {e:?}");
            return;
        }
    };
    let Ok(stream) = MediaStream::new() else {
        return;
    };
    let weak = Rc::downgrade(client);
    let id = peer_id.to_string();
    let on_candidate = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
        let Some(client) = weak.upgrade() else { return };
        let Some(c) = ev
            .dyn_ref::<RtcPeerConnectionIceEvent>()
            .and_then(RtcPeerConnectionIceEvent::candidate)
        else {
            return;
        };
        send(
            &client,
            &RoomClientMessage::Signal {
                to: id.clone(),
                signal: Signal::Candidate {
                    candidate: c.candidate(),
                    sdp_mid: c.sdp_mid(),
                    sdp_m_line_index: c.sdp_m_line_index(),
                },
            },
        );
    });
    let weak = Rc::downgrade(client);
    let id = peer_id.to_string();
    let on_negotiation = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        if let Some(client) = weak.upgrade() {
            spawn_local(make_offer(client, id.clone()));
        }
    });
    let remote = stream.clone();
    let id = peer_id.to_string();
    let on_track = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
        if let Some(ev) = ev.dyn_ref::<RtcTrackEvent>() {
            // The sender's stream carries its audio and video together; a receive-only
            // transceiver's track comes without one and joins our own stream for the peer.
            if let Ok(stream) = ev.streams().get(0).dyn_into::<MediaStream>() {
                attach(&format!("remote-{id}"), &stream, 0);
                return;
            }
            let track = ev.track();
            if let Some(old) = remote
                .get_tracks()
                .iter()
                .map(|t| t.unchecked_into::<MediaStreamTrack>())
                .find(|t| t.kind() == track.kind())
            {
                remote.remove_track(&old);
            }
            remote.add_track(&track);
            attach(&format!("remote-{id}"), &remote, 0);
        }
    });
    let weak = Rc::downgrade(client);
    let id = peer_id.to_string();
    let on_ice_state = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        let Some(client) = weak.upgrade() else { return };
        let mut c = client.borrow_mut();
        let Some(peer) = c.peers.get_mut(&id) else {
            return;
        };
        match peer.pc.ice_connection_state() {
            RtcIceConnectionState::Failed => {
                peer.disconnected_at = None;
                restart_ice(&peer.pc);
            }
            RtcIceConnectionState::Disconnected => {
                peer.disconnected_at.get_or_insert(now_ms());
            }
            _ => peer.disconnected_at = None,
        }
    });
    pc.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
    pc.set_onnegotiationneeded(Some(on_negotiation.as_ref().unchecked_ref()));
    pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
    pc.set_oniceconnectionstatechange(Some(on_ice_state.as_ref().unchecked_ref()));

    let (local, screen) = {
        let c = client.borrow();
        (c.local.clone(), c.screen.clone())
    };
    let mut sending = (false, false);
    if let Some(local) = &local {
        for t in local.get_tracks().iter() {
            let mut track: MediaStreamTrack = t.unchecked_into();
            if track.kind() == "video"
                && let Some(s) = &screen
            {
                track = s.clone();
            }
            if track.kind() == "audio" {
                sending.0 = true;
            } else {
                sending.1 = true;
            }
            pc.add_track_0(&track, local);
        }
    }
    // Without a microphone or camera we still receive: ask for the other side's media.
    for (kind, have) in [("audio", sending.0), ("video", sending.1)] {
        if !have {
            let init = RtcRtpTransceiverInit::new();
            init.set_direction(RtcRtpTransceiverDirection::Recvonly);
            pc.add_transceiver_with_str_and_init(kind, &init);
        }
    }
    client.borrow_mut().peers.insert(
        peer_id.to_string(),
        Peer {
            pc,
            polite,
            making_offer: false,
            ignore_offer: false,
            answer_pending: false,
            _handlers: vec![on_candidate, on_negotiation, on_track, on_ice_state],
            last: None,
            disconnected_at: None,
        },
    );
}

fn peer_pc(client: &Shared, peer_id: &str) -> Option<RtcPeerConnection> {
    client.borrow().peers.get(peer_id).map(|p| p.pc.clone())
}

fn send_description(client: &Shared, to: &str, pc: &RtcPeerConnection) {
    let Some(desc) = pc.local_description() else {
        return;
    };
    let sdp_type = match desc.type_() {
        RtcSdpType::Offer => SdpKind::Offer,
        RtcSdpType::Answer => SdpKind::Answer,
        _ => return,
    };
    send(
        client,
        &RoomClientMessage::Signal {
            to: to.to_string(),
            signal: Signal::Description {
                sdp_type,
                sdp: desc.sdp(),
            },
        },
    );
}

async fn make_offer(client: Shared, peer_id: String) {
    let Some(pc) = peer_pc(&client, &peer_id) else {
        return;
    };
    set_making_offer(&client, &peer_id, true);
    match JsFuture::from(set_local_auto(&pc)).await {
        Ok(_) => send_description(&client, &peer_id, &pc),
        Err(e) => warn!("offer to {peer_id}: {e:?}"),
    }
    set_making_offer(&client, &peer_id, false);
}

fn set_making_offer(client: &Shared, peer_id: &str, on: bool) {
    if let Some(p) = client.borrow_mut().peers.get_mut(peer_id) {
        p.making_offer = on;
    }
}

async fn on_description(client: Shared, from: String, kind: SdpKind, sdp: String) {
    let Some((pc, polite, making_offer, answer_pending)) = client
        .borrow()
        .peers
        .get(&from)
        .map(|p| (p.pc.clone(), p.polite, p.making_offer, p.answer_pending))
    else {
        return;
    };
    // The W3C pattern: ready for an offer unless making one, or in the middle of a
    // negotiation other than applying the answer to our own offer.
    let ready_for_offer =
        !making_offer && (pc.signaling_state() == RtcSignalingState::Stable || answer_pending);
    let collision = kind == SdpKind::Offer && !ready_for_offer;
    let ignore = !polite && collision;
    if let Some(p) = client.borrow_mut().peers.get_mut(&from) {
        p.ignore_offer = ignore;
    }
    if ignore {
        return;
    }
    let init = RtcSessionDescriptionInit::new(match kind {
        SdpKind::Offer => RtcSdpType::Offer,
        SdpKind::Answer => RtcSdpType::Answer,
    });
    init.set_sdp(&sdp);
    let set_answer_pending = |on: bool| {
        if let Some(p) = client.borrow_mut().peers.get_mut(&from) {
            p.answer_pending = on;
        }
    };
    set_answer_pending(kind == SdpKind::Answer);
    // On a collision the polite side's setRemoteDescription rolls its own offer back.
    let applied = JsFuture::from(pc.set_remote_description(&init)).await;
    set_answer_pending(false);
    if let Err(e) = applied {
        warn!("remote description from {from}: {e:?}");
        return;
    }
    if kind == SdpKind::Offer {
        match JsFuture::from(set_local_auto(&pc)).await {
            Ok(_) => send_description(&client, &from, &pc),
            Err(e) => warn!("answer to {from}: {e:?}"),
        }
    }
}

fn on_candidate(
    client: &Shared,
    from: &str,
    candidate: &str,
    sdp_mid: Option<String>,
    index: Option<u16>,
) {
    let Some((pc, ignoring)) = client
        .borrow()
        .peers
        .get(from)
        .map(|p| (p.pc.clone(), p.ignore_offer))
    else {
        return;
    };
    let init = RtcIceCandidateInit::new(candidate);
    init.set_sdp_mid(sdp_mid.as_deref());
    init.set_sdp_m_line_index(index);
    let from = from.to_string();
    // Called now, awaited later: the browser queues it after a description being applied.
    let adding = pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init));
    spawn_local(async move {
        if let Err(e) = JsFuture::from(adding).await
            && !ignoring
        {
            warn!("candidate from {from}: {e:?}");
        }
    });
}

/// Puts `stream` in the `<video id>` (rendered by Leptos, maybe a moment later) and plays it.
fn attach(id: &str, stream: &MediaStream, tries: u32) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(video) = doc
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<HtmlMediaElement>().ok())
    else {
        if tries < 60 {
            let (id, stream) = (id.to_string(), stream.clone());
            let again = Closure::once_into_js(move || attach(&id, &stream, tries + 1));
            if let Some(w) = web_sys::window() {
                let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                    again.unchecked_ref(),
                    50,
                );
            }
        }
        return;
    };
    // The same object, not the same id: after a reconnect the new connection's stream has
    // the sender's old id but new tracks.
    if video.src_object().as_ref() != Some(stream) {
        video.set_src_object(Some(stream));
        let el = video.clone();
        // Marks the first decoded frame for tests and the join-to-video benchmark.
        let first = Closure::once_into_js(move || {
            let _ = el.set_attribute("data-first-frame-at", &format!("{:.1}", now_ms()));
        });
        let _ = video.add_event_listener_with_callback("playing", first.unchecked_ref());
    }
    play(&video);
}

fn play(video: &HtmlMediaElement) {
    let Ok(promise) = video.play() else { return };
    spawn_local(async move {
        if JsFuture::from(promise).await.is_err() {
            // Autoplay with sound needs a tap on phones: show the button.
            with_client(|c| c.borrow().ui.need_tap.set(true));
        }
    });
}

fn videos() -> Vec<HtmlMediaElement> {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return Vec::new();
    };
    let Ok(list) = doc.query_selector_all("video[data-testid=remote-video]") else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into::<HtmlMediaElement>().ok())
        .collect()
}

fn sample_stats(client: &Shared) {
    let peers: Vec<(String, RtcPeerConnection)> = client
        .borrow()
        .peers
        .iter()
        .map(|(id, p)| (id.clone(), p.pc.clone()))
        .collect();
    let now = now_ms();
    for (id, pc) in peers {
        // ICE stuck in "disconnected" (Wi-Fi gone, then back) gets a restart.
        let restart = client
            .borrow()
            .peers
            .get(&id)
            .and_then(|p| p.disconnected_at)
            .is_some_and(|t| now - t > RESTART_AFTER_MS);
        if restart {
            if let Some(p) = client.borrow_mut().peers.get_mut(&id) {
                p.disconnected_at = Some(now);
            }
            restart_ice(&pc);
        }
        let client = client.clone();
        spawn_local(async move {
            let Ok(report) = JsFuture::from(pc.get_stats()).await else {
                return;
            };
            let (mut rtt, mut bytes, mut lost, mut received) = (None, 0.0, 0.0, 0.0);
            for entry in stats_values(&report).iter() {
                let get = |k: &str| Reflect::get(&entry, &JsValue::from_str(k)).ok();
                let kind = get("type").and_then(|v| v.as_string()).unwrap_or_default();
                let num = |k: &str| get(k).and_then(|v| v.as_f64());
                match kind.as_str() {
                    "candidate-pair" => {
                        let selected = get("nominated").and_then(|v| v.as_bool()) == Some(true)
                            && get("state").and_then(|v| v.as_string()).as_deref()
                                == Some("succeeded");
                        if selected && let Some(r) = num("currentRoundTripTime") {
                            rtt = Some((r * 1000.0).round() as u32);
                        }
                    }
                    "inbound-rtp" => {
                        bytes += num("bytesReceived").unwrap_or(0.0);
                        lost += num("packetsLost").unwrap_or(0.0).max(0.0);
                        received += num("packetsReceived").unwrap_or(0.0);
                    }
                    _ => {}
                }
            }
            let ts = now_ms();
            let (loss_pct, kbps) = {
                let mut c = client.borrow_mut();
                let Some(peer) = c.peers.get_mut(&id) else {
                    return;
                };
                let prev = peer.last.replace((ts, bytes, lost, received));
                match prev {
                    Some((t0, b0, l0, r0)) if ts > t0 => {
                        let dl = (lost - l0).max(0.0);
                        let dr = (received - r0).max(0.0);
                        let loss = (dl + dr > 0.0).then(|| (100.0 * dl / (dl + dr)) as f32);
                        let kbps = ((bytes - b0).max(0.0) * 8.0 / (ts - t0)).round() as u32;
                        (loss, Some(kbps))
                    }
                    _ => (None, None),
                }
            };
            let quality = Quality {
                level: Quality::classify(rtt, loss_pct),
                rtt_ms: rtt,
                loss_pct,
                kbps,
            };
            let ui = client.borrow().ui;
            ui.remotes.update(|tiles| {
                if let Some(t) = tiles.iter_mut().find(|t| t.peer_id == id) {
                    t.quality = quality;
                }
            });
        });
    }
}

// ---- what the page's buttons do -------------------------------------------------------

/// `join`, `leave`, `audio`, `video`, `screen`, `play`.
pub fn toggle(what: &str) {
    let Some(client) = with_client(Rc::clone) else {
        return;
    };
    match what {
        "join" => spawn_local(join_call(client)),
        "leave" => leave_call(&client),
        "audio" | "video" => {
            let (local, mut media) = {
                let c = client.borrow();
                (c.local.clone(), c.media)
            };
            let on = if what == "audio" {
                media.audio = !media.audio;
                media.audio
            } else {
                media.video = !media.video;
                media.video
            };
            if let Some(local) = local {
                let tracks = if what == "audio" {
                    local.get_audio_tracks()
                } else {
                    local.get_video_tracks()
                };
                for t in tracks.iter() {
                    t.unchecked_into::<MediaStreamTrack>().set_enabled(on);
                }
            }
            set_media(&client, media);
        }
        "screen" => {
            if client.borrow().screen.is_some() {
                stop_sharing(&client);
            } else {
                spawn_local(share_screen(client));
            }
        }
        "play" => {
            client.borrow().ui.need_tap.set(false);
            for v in videos() {
                play(&v);
            }
        }
        _ => {}
    }
}

fn set_media(client: &Shared, media: MediaState) {
    client.borrow_mut().media = media;
    client.borrow().ui.media.set(media);
    send(client, &RoomClientMessage::Media { media });
}

async fn user_media(audio: &JsValue, video: &JsValue) -> Result<MediaStream, JsValue> {
    let devices = web_sys::window()
        .ok_or(JsValue::NULL)?
        .navigator()
        .media_devices()?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(audio);
    constraints.set_video(video);
    let stream = JsFuture::from(devices.get_user_media_with_constraints(&constraints)?).await?;
    Ok(stream.unchecked_into())
}

fn camera_constraints() -> JsValue {
    let v = js_sys::Object::new();
    let _ = Reflect::set(&v, &"width".into(), &JsValue::from(640));
    let _ = Reflect::set(&v, &"height".into(), &JsValue::from(480));
    let _ = Reflect::set(&v, &"facingMode".into(), &"user".into());
    v.into()
}

async fn join_call(client: Shared) {
    let ui = client.borrow().ui;
    ui.joining.set(true);
    ui.notice.set(None);
    let _ = Reflect::set(
        &web_sys::window()
            .map(JsValue::from)
            .unwrap_or(JsValue::NULL),
        &"__pairwiseJoinAt".into(),
        &JsValue::from(now_ms()),
    );
    // Camera and microphone, else whichever one works, else listen only.
    let mut stream = user_media(&JsValue::TRUE, &camera_constraints()).await;
    if stream.is_err() {
        stream = user_media(&JsValue::TRUE, &JsValue::FALSE).await;
    }
    if stream.is_err() {
        stream = user_media(&JsValue::FALSE, &camera_constraints()).await;
    }
    let stream = match stream {
        Ok(s) => Some(s),
        Err(e) => {
            warn!("getUserMedia: {e:?}");
            ui.notice.set(Some(
                ui.locale
                    .get_untracked()
                    .strings()
                    .rooms
                    .media_denied
                    .into(),
            ));
            None
        }
    };
    let media = MediaState {
        in_call: true,
        audio: stream
            .as_ref()
            .is_some_and(|s| s.get_audio_tracks().length() > 0),
        video: stream
            .as_ref()
            .is_some_and(|s| s.get_video_tracks().length() > 0),
        screen: false,
    };
    if let Some(s) = &stream {
        attach("self-video", s, 0);
    }
    client.borrow_mut().local = stream;
    ui.in_call.set(true);
    ui.joining.set(false);
    set_media(&client, media);
    call_everyone(&client);
    refresh_tiles(&client);
    spawn_local(list_devices(ui));
    // This tap may be what lets phones play the others' sound.
    for v in videos() {
        play(&v);
    }
}

fn leave_call(client: &Shared) {
    let mut c = client.borrow_mut();
    for (_, peer) in c.peers.drain() {
        peer.pc.close();
    }
    stop_tracks(c.local.take(), c.screen.take());
    c.ui.in_call.set(false);
    drop(c);
    if let Some(v) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("self-video"))
        .and_then(|e| e.dyn_into::<HtmlMediaElement>().ok())
    {
        v.set_src_object(None);
    }
    set_media(client, MediaState::default());
    refresh_tiles(client);
}

async fn list_devices(ui: CallUi) {
    let Some(devices) = web_sys::window().and_then(|w| w.navigator().media_devices().ok()) else {
        return;
    };
    let Ok(promise) = devices.enumerate_devices() else {
        return;
    };
    let Ok(list) = JsFuture::from(promise).await else {
        return;
    };
    let (mut mics, mut cams) = (Vec::new(), Vec::new());
    for d in Array::from(&list).iter() {
        let d: MediaDeviceInfo = d.unchecked_into();
        let entry = (d.device_id(), d.label());
        match d.kind() {
            MediaDeviceKind::Audioinput => mics.push(entry),
            MediaDeviceKind::Videoinput => cams.push(entry),
            _ => {}
        }
    }
    ui.mics.set(mics);
    ui.cameras.set(cams);
}

/// Every sender of `kind` in every call.
fn senders(client: &Shared, kind: &str) -> Vec<RtcRtpSender> {
    client
        .borrow()
        .peers
        .values()
        .flat_map(|p| p.pc.get_senders().iter().collect::<Vec<_>>())
        .map(|s| s.unchecked_into::<RtcRtpSender>())
        .filter(|s| s.track().is_some_and(|t| t.kind() == kind))
        .collect()
}

fn replace_everywhere(client: &Shared, kind: &str, track: &MediaStreamTrack) {
    for s in senders(client, kind) {
        let p = s.replace_track(Some(track));
        spawn_local(async move {
            if let Err(e) = JsFuture::from(p).await {
                warn!("replaceTrack: {e:?}");
            }
        });
    }
}

async fn share_screen(client: Shared) {
    let Some(devices) = web_sys::window().and_then(|w| w.navigator().media_devices().ok()) else {
        return;
    };
    let constraints = DisplayMediaStreamConstraints::new();
    constraints.set_video(&JsValue::TRUE);
    let Ok(promise) = devices.get_display_media_with_constraints(&constraints) else {
        return;
    };
    let stream: MediaStream = match JsFuture::from(promise).await {
        Ok(s) => s.unchecked_into(),
        Err(e) => {
            warn!("getDisplayMedia: {e:?}");
            return;
        }
    };
    let Some(track) = stream
        .get_video_tracks()
        .get(0)
        .dyn_into::<MediaStreamTrack>()
        .ok()
    else {
        return;
    };
    // The browser's own "Stop sharing" ends the track: switch back to the camera.
    let weak: Weak<RefCell<Client>> = Rc::downgrade(&client);
    let ended = Closure::once_into_js(move || {
        if let Some(client) = weak.upgrade() {
            stop_sharing(&client);
        }
    });
    track.set_onended(Some(ended.unchecked_ref()));
    replace_everywhere(&client, "video", &track);
    attach("self-video", &stream, 0);
    client.borrow_mut().screen = Some(track);
    let media = MediaState {
        screen: true,
        ..client.borrow().media
    };
    set_media(&client, media);
}

fn stop_sharing(client: &Shared) {
    let Some(track) = client.borrow_mut().screen.take() else {
        return;
    };
    track.stop();
    let local = client.borrow().local.clone();
    if let Some(local) = local {
        if let Ok(camera) = local
            .get_video_tracks()
            .get(0)
            .dyn_into::<MediaStreamTrack>()
        {
            replace_everywhere(client, "video", &camera);
        }
        attach("self-video", &local, 0);
    }
    let media = MediaState {
        screen: false,
        ..client.borrow().media
    };
    set_media(client, media);
}

/// Switches the microphone (`audioinput`) or camera (`videoinput`) to `device`.
pub fn use_device(kind: &'static str, device: String) {
    let Some(client) = with_client(Rc::clone) else {
        return;
    };
    spawn_local(async move {
        let exact = js_sys::Object::new();
        let _ = Reflect::set(&exact, &"exact".into(), &JsValue::from_str(&device));
        let wanted = js_sys::Object::new();
        let _ = Reflect::set(&wanted, &"deviceId".into(), &exact);
        let (audio, video) = if kind == "audioinput" {
            (JsValue::from(wanted), JsValue::FALSE)
        } else {
            (JsValue::FALSE, JsValue::from(wanted))
        };
        let fresh = match user_media(&audio, &video).await {
            Ok(s) => s,
            Err(e) => {
                warn!("switching device: {e:?}");
                return;
            }
        };
        let track_kind = if kind == "audioinput" {
            "audio"
        } else {
            "video"
        };
        let Ok(track) = fresh.get_tracks().get(0).dyn_into::<MediaStreamTrack>() else {
            return;
        };
        let (local, media, sharing) = {
            let c = client.borrow();
            (c.local.clone(), c.media, c.screen.is_some())
        };
        let Some(local) = local else { return };
        track.set_enabled(if track_kind == "audio" {
            media.audio
        } else {
            media.video
        });
        for old in local.get_tracks().iter() {
            let old: MediaStreamTrack = old.unchecked_into();
            if old.kind() == track_kind {
                local.remove_track(&old);
                old.stop();
            }
        }
        local.add_track(&track);
        if !(sharing && track_kind == "video") {
            replace_everywhere(&client, track_kind, &track);
        }
    });
}

/// Queues a chat message (kept until acked) and sends it if the socket is up; false if
/// there is no room client.
pub fn send_chat(body: String) -> bool {
    let Some(client) = with_client(Rc::clone) else {
        return false;
    };
    let key = new_key();
    client.borrow().ui.pending.update(|p| {
        p.push(PendingChat {
            key: key.clone(),
            body: body.clone(),
            error: None,
        });
    });
    save_pending(&client);
    send(&client, &RoomClientMessage::Chat { key, body });
    true
}

/// Keeps localStorage in step after the page discarded a refused message.
pub fn forget_pending() {
    if let Some(client) = with_client(Rc::clone) {
        save_pending(&client);
    }
}

/// Asks for the page of messages before the oldest one shown.
pub fn load_older() {
    let Some(client) = with_client(Rc::clone) else {
        return;
    };
    let oldest = client
        .borrow()
        .ui
        .chat
        .with_untracked(|c| c.keys().next().copied());
    if let Some(before) = oldest {
        send(&client, &RoomClientMessage::History { before });
    }
}

/// A random idempotency key (crypto-strength randomness is not needed: keys only have to
/// differ between one author's messages in one room).
fn new_key() -> String {
    let mut key = format!("k{:x}", now_ms() as u64);
    while key.len() < 24 {
        key.push(char::from_digit((js_sys::Math::random() * 36.0) as u32 % 36, 36).unwrap_or('0'));
    }
    key
}
