//! Who is connected to which room in this process, and delivery to them (server only).
//!
//! With several app servers on one database, what one server tells its members about a
//! room's live side (arrivals, departures, media, call signals, cursors, shared Run results)
//! is also left as a note for the others (`relay`), and each server keeps the members the
//! others hold (`remote`) from their notes. Chat and the shared code are not relayed: they
//! are logs, which every server delivers in order from the database.
//!
//! Each connection owns a bounded queue; the hub only ever `try_send`s into it, so a client
//! that stops reading fills its own queue and is disconnected, and never slows the others or
//! grows the server's memory. Messages are serialised once per fan-out and shared.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use base64::Engine as _;

use tokio::sync::{mpsc, watch};

use crate::rooms::model::{
    MAX_PEERS, MAX_ROOM_CONNECTIONS, MediaState, PeerInfo, RoomServerMessage, close,
};

/// A text frame serialised once and shared by every recipient's queue (cloning it is a
/// reference count, and the socket sends it without another copy).
pub type Frame = axum::extract::ws::Utf8Bytes;

/// What a connection's writer sends.
#[derive(Clone, Debug)]
pub enum Outgoing {
    Text(Frame),
    /// A Yjs sync or awareness frame (pair programming), shared like text.
    Binary(axum::body::Bytes),
    Ping,
}

/// A connection as the hub sees it.
struct Peer {
    info: PeerInfo,
    tx: mpsc::Sender<Outgoing>,
    /// Set to a close code to make the connection end itself.
    kill: watch::Sender<Option<u16>>,
}

/// A note for the other app servers about one room.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RelayNote {
    pub room: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_peer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_server: Option<String>,
    /// `frame` (a room message as JSON), `binary` (a shared-code frame, base64) or `here`
    /// (the members this server holds, as JSON).
    pub kind: &'static str,
    pub body: String,
}

/// Where this process leaves its notes: set once, on a shared database only.
#[derive(Debug)]
pub struct Relay {
    /// This process among the app servers (random per start).
    pub server: String,
    tx: mpsc::Sender<RelayNote>,
}

/// Notes waiting to be written; past this, presence and cursors are dropped (logged) rather
/// than growing memory while the database is slow.
pub const RELAY_QUEUE: usize = 4096;

/// A member another app server holds.
#[derive(Debug)]
struct RemotePeer {
    info: PeerInfo,
    server: String,
}

/// The live side of one room.
pub struct RoomLive {
    id: String,
    relay: Arc<OnceLock<Relay>>,
    peers: Mutex<BTreeMap<String, Peer>>,
    /// Members other app servers hold, from their notes; under `peers`' lock in lock order.
    remote: Mutex<BTreeMap<String, RemotePeer>>,
    /// When each other server last said anything about this room: one silent for longer than
    /// [`REMOTE_SILENCE`] is gone (killed), and its members with it.
    heard: Mutex<HashMap<String, Instant>>,
    /// Held while a chat message commits and fans out, and while a joiner reads the backlog:
    /// every member receives the room's messages exactly once, in sequence order.
    pub chat: tokio::sync::Mutex<ChatOrder>,
    /// The shared code, loaded on first use; its lock orders the room's code updates.
    pub pair: tokio::sync::Mutex<Option<crate::rooms::code::live::PairState>>,
    /// When the room's membership and state were last read again (see [`RoomLive::recheck_due`]).
    checked_at: Mutex<std::time::Instant>,
    /// Each participant's budgets here, shared by all their sockets in the room: a second
    /// tab (or fifty) does not multiply what one person may send.
    budgets: Mutex<HashMap<String, Budgets>>,
}

/// How far this server's members of a room have been sent the room's chat. Messages reach
/// them strictly in sequence: a message stored through another app server (or the gap before
/// one stored here after it) is read from the log first (`rooms::api::backend::deliver_chat`).
#[derive(Debug, Default)]
pub struct ChatOrder {
    /// The last sequence number sent to every member here; `None` until someone joins
    /// (nobody here needs anything before then).
    pub delivered: Option<u64>,
}

/// What one participant may send in a room: messages, shared-code frames and their bytes.
#[derive(Debug)]
pub struct Budgets {
    pub messages: crate::state::TokenBucket,
    pub code_frames: crate::state::TokenBucket,
    pub code_bytes: crate::state::TokenBucket,
}

/// The room is at [`MAX_ROOM_CONNECTIONS`] (or the call at [`MAX_PEERS`]); a refused join gets
/// its kill switch back unused.
#[derive(Debug)]
pub struct RoomFull(pub watch::Sender<Option<u16>>);

pub fn encode(msg: &RoomServerMessage) -> Frame {
    match serde_json::to_string(msg) {
        Ok(text) => Frame::from(text),
        Err(e) => {
            tracing::error!(error = %e, "a room message did not serialise");
            Frame::from_static("{}")
        }
    }
}

/// How often a server repeats which members it holds in each room (`RoomLive::announce`).
pub const ANNOUNCE_EVERY: Duration = Duration::from_secs(10);
/// A server not heard from for this long is taken to be gone.
pub const REMOTE_SILENCE: Duration = Duration::from_secs(35);

impl RoomLive {
    fn new(id: &str, relay: Arc<OnceLock<Relay>>) -> Self {
        RoomLive {
            id: id.to_string(),
            relay,
            peers: Mutex::new(BTreeMap::new()),
            remote: Mutex::default(),
            heard: Mutex::default(),
            chat: tokio::sync::Mutex::new(ChatOrder::default()),
            pair: tokio::sync::Mutex::new(None),
            checked_at: Mutex::new(std::time::Instant::now()),
            budgets: Mutex::default(),
        }
    }

    /// Spends from `user`'s budgets in this room (made by `fresh` on their first message);
    /// on refusal, the seconds until `spend` would succeed.
    pub fn spend(
        &self,
        user: &str,
        fresh: impl FnOnce() -> Budgets,
        spend: impl FnOnce(&mut Budgets) -> Result<(), u64>,
    ) -> Result<(), u64> {
        let mut budgets = self.budgets.lock().unwrap_or_else(|e| e.into_inner());
        spend(budgets.entry(user.to_string()).or_insert_with(fresh))
    }

    /// True for one caller every `every`: the room is re-checked once for all its sockets
    /// (removed participants, a room closed through another app server), not once per socket.
    pub fn recheck_due(&self, every: std::time::Duration) -> bool {
        let mut at = self.checked_at.lock().unwrap_or_else(|e| e.into_inner());
        if at.elapsed() >= every {
            *at = std::time::Instant::now();
            true
        } else {
            false
        }
    }

    /// After a re-check: ends the connections of users no longer among `members`.
    pub fn keep_only(&self, members: &[String], code: u16) {
        let gone: Vec<String> = self
            .present_users()
            .into_iter()
            .filter(|u| !members.contains(u))
            .collect();
        for user in gone {
            self.kick(Some(&user), code);
        }
    }

    fn peers(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Peer>> {
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a connection and tells the others. Its first message, made by `welcome` from who
    /// was already here, is queued under the same lock: nothing about other peers can reach
    /// the newcomer before the list it starts from.
    pub fn join(
        &self,
        info: PeerInfo,
        tx: mpsc::Sender<Outgoing>,
        kill: watch::Sender<Option<u16>>,
        welcome: impl FnOnce(Vec<PeerInfo>) -> RoomServerMessage,
    ) -> Result<(), RoomFull> {
        let mut peers = self.peers();
        if peers.len() >= MAX_ROOM_CONNECTIONS {
            return Err(RoomFull(kill));
        }
        let mut others: Vec<PeerInfo> = peers.values().map(|p| p.info.clone()).collect();
        others.extend(self.remote().values().map(|p| p.info.clone()));
        let _ = tx.try_send(Outgoing::Text(encode(&welcome(others))));
        let joined = encode(&RoomServerMessage::PeerJoined { peer: info.clone() });
        deliver_all(&peers, &joined, None);
        self.publish(None, None, "frame", joined.as_str().to_string());
        peers.insert(info.peer_id.clone(), Peer { info, tx, kill });
        Ok(())
    }

    fn remote(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, RemotePeer>> {
        self.remote.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Leaves a note for the other app servers (nothing with one server).
    fn publish(
        &self,
        to_peer: Option<String>,
        to_server: Option<String>,
        kind: &'static str,
        body: String,
    ) {
        let Some(relay) = self.relay.get() else {
            return;
        };
        let note = RelayNote {
            room: self.id.clone(),
            to_peer,
            to_server,
            kind,
            body,
        };
        // Closed only while the server shuts down.
        if let Err(mpsc::error::TrySendError::Full(_)) = relay.tx.try_send(note) {
            tracing::warn!(room = %self.id, "the relay to other app servers is full: a note is dropped");
        }
    }

    /// Tells this server's members and the other servers' that `peer_id` left.
    fn gone(&self, peers: &BTreeMap<String, Peer>, peer_id: &str) {
        let left = encode(&RoomServerMessage::PeerLeft {
            peer_id: peer_id.to_string(),
        });
        deliver_all(peers, &left, None);
        self.publish(None, None, "frame", left.as_str().to_string());
    }

    /// Sends to everyone in the room on every app server (everyone here but `except`).
    pub fn broadcast_everywhere(&self, msg: &RoomServerMessage, except: Option<&str>) {
        let text = encode(msg);
        deliver_all(&self.peers(), &text, except);
        self.publish(None, None, "frame", text.as_str().to_string());
    }

    /// A binary frame (cursors) for everyone on every app server (everyone here but `except`).
    pub fn broadcast_binary_everywhere(&self, frame: axum::body::Bytes, except: Option<&str>) {
        let body = base64::engine::general_purpose::STANDARD.encode(&frame);
        self.broadcast_binary(frame, except);
        self.publish(None, None, "binary", body);
    }

    /// A note another app server left about this room: its members' arrivals, departures and
    /// media change what this server knows of them, and what it carries reaches the members
    /// here (a signal only the one it is for).
    pub fn relayed(&self, row: &crate::rooms::repo::RelayRow, me: &str) {
        if row.origin == me || row.to_server.as_deref().is_some_and(|s| s != me) {
            return;
        }
        self.heard
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(row.origin.clone(), Instant::now());
        match row.kind.as_str() {
            "binary" => {
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&row.body) {
                    self.broadcast_binary(bytes.into(), None);
                }
            }
            "here" => {
                if let Ok(list) = serde_json::from_str::<Vec<PeerInfo>>(&row.body) {
                    self.here(&row.origin, list);
                }
            }
            _ => {
                let Ok(msg) = serde_json::from_str::<RoomServerMessage>(&row.body) else {
                    return;
                };
                let frame = Frame::from(row.body.clone());
                let peers = self.peers();
                match msg {
                    RoomServerMessage::PeerJoined { peer } => {
                        let id = peer.peer_id.clone();
                        let new = self
                            .remote()
                            .insert(
                                id,
                                RemotePeer {
                                    info: peer,
                                    server: row.origin.clone(),
                                },
                            )
                            .is_none();
                        if new {
                            deliver_all(&peers, &frame, None);
                        }
                        // The newcomer's server learns who is here from this one.
                        if !peers.is_empty() {
                            self.publish(None, Some(row.origin.clone()), "here", here_list(&peers));
                        }
                    }
                    RoomServerMessage::PeerLeft { peer_id } => {
                        if self.remote().remove(&peer_id).is_some() {
                            deliver_all(&peers, &frame, None);
                        }
                    }
                    RoomServerMessage::PeerMedia { peer_id, media } => {
                        if let Some(p) = self.remote().get_mut(&peer_id) {
                            p.info.media = media;
                        }
                        deliver_all(&peers, &frame, None);
                    }
                    RoomServerMessage::Signal { .. } => {
                        if let Some(to) = row.to_peer.as_deref().and_then(|to| peers.get(to))
                            && to.info.media.in_call
                        {
                            deliver(to, frame);
                        }
                    }
                    _ => deliver_all(&peers, &frame, None),
                }
            }
        }
    }

    /// Another server's whole list of its members here: arrivals it names are added (and
    /// told), members of it it no longer names are gone.
    fn here(&self, server: &str, list: Vec<PeerInfo>) {
        let peers = self.peers();
        let mut remote = self.remote();
        drop_remote(&peers, &mut remote, |id, p| {
            p.server == server && !list.iter().any(|i| i.peer_id == id)
        });
        for info in list {
            let known = remote.get(&info.peer_id).map(|p| p.info.media);
            if known.is_none() {
                let joined = encode(&RoomServerMessage::PeerJoined { peer: info.clone() });
                deliver_all(&peers, &joined, None);
            }
            if known.is_some_and(|m| m != info.media) || (known.is_none() && info.media.in_call) {
                let media = encode(&RoomServerMessage::PeerMedia {
                    peer_id: info.peer_id.clone(),
                    media: info.media,
                });
                deliver_all(&peers, &media, None);
            }
            remote.insert(
                info.peer_id.clone(),
                RemotePeer {
                    info,
                    server: server.to_string(),
                },
            );
        }
    }

    /// Repeats to the other servers which members this one holds (they drop a server that
    /// stops), and drops the members of servers not heard from for [`REMOTE_SILENCE`].
    pub fn announce(&self) {
        let peers = self.peers();
        if !peers.is_empty() {
            self.publish(None, None, "here", here_list(&peers));
        }
        let silent: Vec<String> = {
            let mut heard = self.heard.lock().unwrap_or_else(|e| e.into_inner());
            let silent: Vec<String> = heard
                .iter()
                .filter(|(_, at)| at.elapsed() > REMOTE_SILENCE)
                .map(|(s, _)| s.clone())
                .collect();
            for s in &silent {
                heard.remove(s);
            }
            silent
        };
        let mut remote = self.remote();
        drop_remote(&peers, &mut remote, |_, p| silent.contains(&p.server));
    }

    /// Removes a connection (if still here) and tells the others.
    pub fn leave(&self, peer_id: &str) {
        let mut peers = self.peers();
        if peers.remove(peer_id).is_some() {
            self.gone(&peers, peer_id);
        }
    }

    /// Nobody connected to this server (members elsewhere do not keep it).
    pub fn is_empty(&self) -> bool {
        self.peers().is_empty()
    }

    /// Relays a signal between two connections that are both in the call; false otherwise
    /// (a fifth person refused from the call, or someone who left, cannot reach anyone).
    pub fn signal(&self, from: &str, to: &str, msg: &RoomServerMessage) -> bool {
        let peers = self.peers();
        let in_call = |id: &str| peers.get(id).is_some_and(|p| p.info.media.in_call);
        if from == to || !in_call(from) {
            return false;
        }
        match peers.get(to) {
            Some(peer) if peer.info.media.in_call => {
                deliver(peer, encode(msg));
                true
            }
            Some(_) => false,
            None => {
                // On another app server: its server delivers it.
                let remote_in_call = self.remote().get(to).is_some_and(|p| p.info.media.in_call);
                if remote_in_call {
                    self.publish(
                        Some(to.to_string()),
                        None,
                        "frame",
                        encode(msg).as_str().to_string(),
                    );
                }
                remote_in_call
            }
        }
    }

    /// Sends to everyone, or everyone but `except`.
    pub fn broadcast(&self, msg: &RoomServerMessage, except: Option<&str>) {
        let text = encode(msg);
        deliver_all(&self.peers(), &text, except);
    }

    /// Sends a binary frame to everyone, or everyone but `except`.
    pub fn broadcast_binary(&self, frame: axum::body::Bytes, except: Option<&str>) {
        for peer in self.peers().values() {
            if Some(peer.info.peer_id.as_str()) != except {
                deliver_outgoing(peer, Outgoing::Binary(frame.clone()));
            }
        }
    }

    /// Records a media change and tells the others; joining a full call is refused.
    pub fn set_media(&self, peer_id: &str, media: MediaState) -> Result<(), RoomFull> {
        let mut peers = self.peers();
        let in_call_elsewhere = peers
            .values()
            .filter(|p| p.info.peer_id != peer_id && p.info.media.in_call)
            .count()
            + self
                .remote()
                .values()
                .filter(|p| p.info.media.in_call)
                .count();
        let Some(peer) = peers.get_mut(peer_id) else {
            return Ok(());
        };
        if media.in_call && !peer.info.media.in_call && in_call_elsewhere >= MAX_PEERS {
            return Err(RoomFull(watch::channel(None).0));
        }
        peer.info.media = media;
        let msg = encode(&RoomServerMessage::PeerMedia {
            peer_id: peer_id.to_string(),
            media,
        });
        deliver_all(&peers, &msg, Some(peer_id));
        self.publish(None, None, "frame", msg.as_str().to_string());
        Ok(())
    }

    /// Ends every connection of `user` (or all, for `None`) with `code`, and takes them out
    /// of the room at once so the others hear about it now.
    pub fn kick(&self, user: Option<&str>, code: u16) {
        let mut peers = self.peers();
        let gone: Vec<String> = peers
            .values()
            .filter(|p| user.is_none_or(|u| p.info.user_id == u))
            .map(|p| p.info.peer_id.clone())
            .collect();
        for id in &gone {
            if let Some(peer) = peers.remove(id) {
                let _ = peer.kill.send(Some(code));
            }
        }
        for id in gone {
            self.gone(&peers, &id);
        }
    }

    /// Ends one connection with `code` and takes it out of the room.
    pub fn kick_peer(&self, peer_id: &str, code: u16) {
        let mut peers = self.peers();
        if let Some(peer) = peers.remove(peer_id) {
            let _ = peer.kill.send(Some(code));
            self.gone(&peers, peer_id);
        }
    }

    /// Ends one earlier connection of the same user (a reconnect taking over from a socket the
    /// server has not yet noticed is dead).
    pub fn replace(&self, peer_id: &str, user: &str) {
        let mut peers = self.peers();
        if peers.get(peer_id).is_some_and(|p| p.info.user_id == user)
            && let Some(peer) = peers.remove(peer_id)
        {
            let _ = peer.kill.send(Some(close::REPLACED));
            self.gone(&peers, peer_id);
        }
    }

    /// The users connected now, to any app server.
    pub fn present_users(&self) -> Vec<String> {
        let mut users: Vec<String> = self
            .peers()
            .values()
            .map(|p| p.info.user_id.clone())
            .collect();
        users.extend(self.remote().values().map(|p| p.info.user_id.clone()));
        users.sort();
        users.dedup();
        users
    }
}

/// Takes the other servers' members that `gone` picks out of `remote`, telling the members
/// here that they left.
fn drop_remote(
    peers: &BTreeMap<String, Peer>,
    remote: &mut BTreeMap<String, RemotePeer>,
    gone: impl Fn(&str, &RemotePeer) -> bool,
) {
    let ids: Vec<String> = remote
        .iter()
        .filter(|(id, p)| gone(id, p))
        .map(|(id, _)| id.clone())
        .collect();
    for id in ids {
        remote.remove(&id);
        let left = encode(&RoomServerMessage::PeerLeft { peer_id: id });
        deliver_all(peers, &left, None);
    }
}

/// This server's members of a room, as a `here` note.
fn here_list(peers: &BTreeMap<String, Peer>) -> String {
    let list: Vec<&PeerInfo> = peers.values().map(|p| &p.info).collect();
    serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())
}

fn deliver_all(peers: &BTreeMap<String, Peer>, text: &Frame, except: Option<&str>) {
    for peer in peers.values() {
        if Some(peer.info.peer_id.as_str()) != except {
            deliver(peer, text.clone());
        }
    }
}

fn deliver(peer: &Peer, text: Frame) {
    deliver_outgoing(peer, Outgoing::Text(text));
}

fn deliver_outgoing(peer: &Peer, msg: Outgoing) {
    if let Err(mpsc::error::TrySendError::Full(_)) = peer.tx.try_send(msg) {
        tracing::info!(peer = %peer.info.peer_id, "room client reads too slowly: disconnecting it");
        let _ = peer.kill.send(Some(close::POLICY));
    }
}

/// Every room with someone connected in this process.
pub struct Hub {
    rooms: Mutex<HashMap<String, Arc<RoomLive>>>,
    /// Set on a shared database (`Hub::relay_to_other_servers`).
    relay: Arc<OnceLock<Relay>>,
    /// Shared-code steps a room keeps in its log (`PAIRWISE_CODE_LOG_STEPS`); older ones are
    /// folded into the log's base (`code::live`).
    pub code_log_steps: u64,
    /// And the most the kept log may weigh (base64 characters, `PAIRWISE_CODE_LOG_BYTES`):
    /// a few large pastes fold sooner than many keystrokes.
    pub code_log_bytes: u64,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::with_code_log(
            crate::rooms::code::live::MAX_CODE_LOG,
            crate::rooms::code::live::MAX_CODE_LOG_BYTES,
        )
    }
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.rooms.lock().map(|r| r.len()).unwrap_or(0);
        f.debug_struct("Hub").field("live_rooms", &n).finish()
    }
}

impl Hub {
    pub fn with_code_log(code_log_steps: u64, code_log_bytes: u64) -> Self {
        Hub {
            rooms: Mutex::default(),
            relay: Arc::default(),
            code_log_steps: code_log_steps.max(1),
            code_log_bytes: code_log_bytes.max(1),
        }
    }

    fn rooms(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<RoomLive>>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The live room, made on first use.
    pub fn room(&self, id: &str) -> Arc<RoomLive> {
        self.rooms()
            .entry(id.to_string())
            .or_insert_with(|| Arc::new(RoomLive::new(id, self.relay.clone())))
            .clone()
    }

    /// From now on every room also leaves notes for the other app servers, as `server`; the
    /// notes come out of the returned queue (once: later calls get `None`).
    pub fn relay_to_other_servers(&self, server: String) -> Option<mpsc::Receiver<RelayNote>> {
        let (tx, rx) = mpsc::channel(RELAY_QUEUE);
        self.relay.set(Relay { server, tx }).ok()?;
        Some(rx)
    }

    /// This process's name among the app servers, once relaying.
    pub fn server_id(&self) -> Option<&str> {
        self.relay.get().map(|r| r.server.as_str())
    }

    /// Ends `user`'s connections in every room of this process (their account is gone).
    pub fn kick_everywhere(&self, user: &str, code: u16) {
        let live: Vec<Arc<RoomLive>> = self.rooms().values().cloned().collect();
        for room in live {
            room.kick(Some(user), code);
        }
    }

    /// The live room if anyone is connected.
    pub fn get(&self, id: &str) -> Option<Arc<RoomLive>> {
        self.rooms().get(id).cloned()
    }

    /// Forgets a room nobody is connected to and nobody is about to join (a joiner or a chat
    /// commit holds the room's `Arc` before it appears in the peer list).
    pub fn release(&self, id: &str) {
        let mut rooms = self.rooms();
        if rooms
            .get(id)
            .is_some_and(|r| r.is_empty() && Arc::strong_count(r) == 1)
        {
            rooms.remove(id);
        }
    }

    /// The rooms with a live side in this process now.
    pub fn live_ids(&self) -> Vec<String> {
        self.rooms().keys().cloned().collect()
    }

    pub fn present_users(&self, id: &str) -> Vec<String> {
        self.get(id).map(|r| r.present_users()).unwrap_or_default()
    }

    /// Connections across all rooms (for metrics and the memory benchmark).
    pub fn connections(&self) -> usize {
        self.rooms().values().map(|r| r.peers().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pong(_: Vec<PeerInfo>) -> RoomServerMessage {
        RoomServerMessage::Pong { seq: 0 }
    }

    fn info(peer: &str, user: &str) -> PeerInfo {
        PeerInfo {
            peer_id: peer.into(),
            user_id: user.into(),
            name: user.into(),
            host: false,
            media: MediaState::default(),
        }
    }

    #[tokio::test]
    async fn a_full_queue_kills_only_that_connection() {
        let room = RoomLive::new("r", Arc::default());
        let (slow_tx, _slow_rx) = mpsc::channel(2);
        let (slow_kill, slow_watch) = watch::channel(None);
        room.join(info("a", "ua"), slow_tx, slow_kill, pong)
            .unwrap();
        let (fast_tx, mut fast_rx) = mpsc::channel(64);
        let (fast_kill, fast_watch) = watch::channel(None);
        room.join(info("b", "ub"), fast_tx, fast_kill, pong)
            .unwrap();
        for _ in 0..5 {
            room.broadcast(&RoomServerMessage::Pong { seq: 1 }, None);
        }
        assert_eq!(*slow_watch.borrow(), Some(close::POLICY));
        assert_eq!(*fast_watch.borrow(), None);
        let mut got = 0;
        while fast_rx.try_recv().is_ok() {
            got += 1;
        }
        assert_eq!(got, 1 + 5, "its welcome, then the five");
    }

    #[tokio::test]
    async fn the_call_holds_at_most_four_and_kicks_by_user() {
        let room = RoomLive::new("r", Arc::default());
        let mut watches = Vec::new();
        let mut queues = Vec::new();
        for i in 0..=MAX_PEERS {
            let (tx, rx) = mpsc::channel(64);
            queues.push(rx);
            let (kill, w) = watch::channel(None);
            watches.push(w);
            room.join(
                info(&format!("p{i}"), &format!("u{}", i % 2)),
                tx,
                kill,
                pong,
            )
            .unwrap();
        }
        let call = MediaState {
            in_call: true,
            ..MediaState::default()
        };
        for i in 0..MAX_PEERS {
            assert!(room.set_media(&format!("p{i}"), call).is_ok());
        }
        assert!(
            room.set_media(&format!("p{MAX_PEERS}"), call).is_err(),
            "a fifth in the call"
        );
        // Changing a media flag while already in the call is always fine.
        assert!(
            room.set_media(
                "p0",
                MediaState {
                    audio: true,
                    ..call
                }
            )
            .is_ok()
        );
        room.kick(Some("u1"), close::REMOVED);
        assert_eq!(room.present_users(), vec!["u0".to_string()]);
        assert_eq!(*watches[1].borrow(), Some(close::REMOVED));
        assert_eq!(*watches[0].borrow(), None);
    }
}
