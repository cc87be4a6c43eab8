//! A room's shared code while anyone is connected (server only): the document in memory,
//! who is where in it (Yjs awareness), and the frames the room's socket exchanges.
//!
//! One lock per room orders everything: an update is checked, applied in memory, appended to
//! the log and only then relayed, so every participant receives the room's updates in the
//! order they are stored. If the store fails, the in-memory copy is dropped (the next frame
//! reloads it from the log) and the sender is disconnected: its editor keeps the change and
//! sends it again when it reconnects, so nothing it typed is lost.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::{
    error::AppError,
    ids::UserId,
    rooms::code::{
        doc::SharedDoc,
        model::{CodeLanguage, MAX_REPLAY_STEPS},
        protocol::{self, AwarenessEntry, Frame},
        repo,
        validate::Refused,
    },
    rooms::{
        hub::RoomLive,
        model::{RoomServerMessage, close},
    },
    state::AppState,
};

/// Updates between snapshots: loading replays at most this many after the snapshot.
pub const COMPACT_EVERY: u64 = 500;
/// Shared-code steps a room keeps in its log by default (the replay's reach,
/// [`MAX_REPLAY_STEPS`]); older ones are folded into the log's base.
pub const MAX_CODE_LOG: u64 = MAX_REPLAY_STEPS as u64;
/// And what the kept log may weigh at most (base64 characters, as stored): the replay's own
/// cap, so the replay and the state before it are read from at most this much.
pub const MAX_CODE_LOG_BYTES: u64 = repo::MAX_REPLAY_BYTES as u64;
/// A snapshot (and a fold check) is also due after this much new log, whatever the steps.
pub const COMPACT_BYTES: u64 = 4 * 1024 * 1024;
/// Presence entries one connection may hold (an editor has one; a few spare for reloads).
pub const MAX_PRESENCE_PER_PEER: usize = 4;
/// The largest presence state (a name, a colour and a cursor take ~300 bytes).
pub const MAX_PRESENCE_STATE_BYTES: usize = 2 * 1024;
/// New editor ids one change may bring: an editor writes under its own (a tab's), and a
/// reconnect's catch-up rarely carries another. Thousands of fresh ids in one change would
/// bloat every state vector and make the document slow for everyone to load.
pub const MAX_NEW_EDITORS_PER_CHANGE: usize = 4;
/// Editor ids one person may write under in a room (each page load is a new one).
pub const MAX_EDITORS_PER_USER: usize = 256;

/// The live copy of a room's shared code.
#[derive(Debug)]
pub struct PairState {
    doc: SharedDoc,
    pub language: CodeLanguage,
    pub exercise: Option<String>,
    seq: u64,
    snapshot_seq: u64,
    /// Where the kept log begins (see [`fold`]).
    base_seq: u64,
    /// What the kept log weighs (base64 characters), once a fold check has counted it
    /// (`None` after loading: the next snapshot counts).
    log_bytes: Option<u64>,
    /// Log written since the last snapshot (base64 characters).
    bytes_since_snapshot: u64,
    presence: BTreeMap<u64, Presence>,
    /// Who first wrote new text under each Yjs client id (ids are random per browser tab):
    /// nobody else may write under it, or the two would silently drop each other's text.
    writers: std::collections::HashMap<u64, String>,
}

#[derive(Debug)]
struct Presence {
    peer: String,
    user: String,
    clock: u64,
    state: Option<String>,
}

impl PairState {
    pub fn text(&self) -> String {
        self.doc.text()
    }

    pub fn seq(&self) -> u64 {
        self.seq
    }
}

/// Why a frame ended the connection.
#[derive(Debug)]
pub enum FrameError {
    /// The client sent something the server does not accept: close with a policy code.
    Refused(Refused),
    /// The server could not keep the change: close so the client resends it on reconnect.
    Failed(AppError),
}

impl From<Refused> for FrameError {
    fn from(r: Refused) -> Self {
        FrameError::Refused(r)
    }
}

impl From<AppError> for FrameError {
    fn from(e: AppError) -> Self {
        FrameError::Failed(e)
    }
}

/// Who sent a frame.
pub struct Sender<'a> {
    pub peer_id: &'a str,
    pub user: &'a UserId,
    pub name: &'a str,
}

/// The loaded state behind `slot`, reading it from the store if this process has none.
async fn loaded<'s>(
    state: &AppState,
    room: &str,
    slot: &'s mut Option<PairState>,
) -> Result<&'s mut PairState, AppError> {
    if slot.is_none() {
        let mut stored = repo::load(&state.db, room, state.clock.now()).await?;
        let mut doc = match SharedDoc::from_snapshot(&stored.snapshot) {
            Ok(doc) => doc,
            Err(r) => {
                // The folded base and the log after it have everything the snapshot had.
                tracing::error!(room, reason = r.0, "a stored snapshot does not load");
                let (base_seq, base) = repo::base(&state.db, room).await?;
                stored.tail = repo::updates_after(&state.db, room, base_seq).await?;
                SharedDoc::from_snapshot(&base).unwrap_or_default()
            }
        };
        for (seq, update) in &stored.tail {
            // Each was checked when it arrived and applies in the same order now; one that
            // does not (a damaged row) is skipped rather than losing the room.
            if let Err(r) = doc.apply(update) {
                tracing::error!(room, seq, reason = r.0, "a stored update does not apply");
            }
        }
        *slot = Some(PairState {
            doc,
            language: stored.language,
            exercise: stored.exercise,
            seq: stored.seq,
            snapshot_seq: stored.snapshot_seq,
            base_seq: stored.base_seq,
            log_bytes: None,
            bytes_since_snapshot: 0,
            presence: BTreeMap::new(),
            writers: Default::default(),
        });
    }
    slot.as_mut().ok_or(AppError::Internal)
}

/// The frames a joining connection starts with: everyone's presence. Also the document's
/// language and exercise. (Syncing starts with the client's state vector: see `receive`.)
pub async fn join(
    state: &AppState,
    live: &RoomLive,
    room: &str,
) -> Result<(Vec<Vec<u8>>, CodeLanguage, Option<String>), AppError> {
    let mut slot = live.pair.lock().await;
    let pair = loaded(state, room, &mut slot).await?;
    let mut frames = Vec::new();
    let present: Vec<AwarenessEntry> = pair
        .presence
        .iter()
        .filter(|(_, p)| p.state.is_some())
        .map(|(client, p)| AwarenessEntry {
            client: *client,
            clock: p.clock,
            state: p.state.clone(),
        })
        .collect();
    if !present.is_empty() {
        frames.push(protocol::awareness(&present));
    }
    Ok((frames, pair.language, pair.exercise.clone()))
}

/// Handles one binary frame from a participant; returns what to send back to it.
pub async fn receive(
    state: &AppState,
    live: &RoomLive,
    room: &str,
    from: &Sender<'_>,
    frame: &[u8],
) -> Result<Vec<Vec<u8>>, FrameError> {
    let frame = protocol::parse(frame)?;
    let mut slot = live.pair.lock().await;
    let pair = loaded(state, room, &mut slot).await?;
    match frame {
        // What the client lacks, then the server's own state vector: the client answers that
        // with what the server lacks (edits made offline) before it sends live changes.
        Frame::SyncStep1(sv) => Ok(vec![
            protocol::sync_step2(&pair.doc.missing_for(sv)?),
            protocol::sync_step1(&pair.doc.state_vector()),
        ]),
        Frame::SyncStep2(update) | Frame::Update(update) => {
            let checked = pair.doc.check(update)?;
            if checked.changes_nothing() {
                return Ok(Vec::new());
            }
            let user = &from.user.0;
            if checked
                .new_clients
                .iter()
                .any(|c| pair.writers.get(c).is_some_and(|owner| owner != user))
            {
                return Err(Refused("that editor id belongs to someone else").into());
            }
            let unseen = checked
                .new_clients
                .iter()
                .filter(|c| !pair.writers.contains_key(c))
                .count();
            if unseen > MAX_NEW_EDITORS_PER_CHANGE {
                return Err(Refused("one change may not bring that many new editors").into());
            }
            let mine = pair.writers.values().filter(|w| *w == user).count();
            if unseen > 0 && mine + unseen > MAX_EDITORS_PER_USER {
                return Err(Refused(
                    "you have opened this room's editor too many times; reload the room later",
                )
                .into());
            }
            if let Err(refused) = pair.doc.apply_checked(update) {
                if refused == crate::rooms::code::doc::TOO_LARGE {
                    // Applied in memory, but not kept: start again from the store.
                    *slot = None;
                }
                return Err(refused.into());
            }
            for c in checked.new_clients {
                pair.writers.entry(c).or_insert_with(|| user.clone());
            }
            match repo::append(&state.db, room, Some(from.user), update, state.clock.now()).await {
                Ok(seq) => {
                    // Steps another app server stored just before this one reach everyone
                    // here first: all servers relay the one log in its order.
                    if catch_up(state, live, room, pair, seq - 1).await.is_err() {
                        *slot = None;
                        live.kick(None, close::SERVER_ERROR);
                        return Ok(Vec::new());
                    }
                    pair.seq = seq;
                    let stored = base64_len(update.len());
                    pair.bytes_since_snapshot += stored;
                    if let Some(b) = pair.log_bytes.as_mut() {
                        *b += stored;
                    }
                    live.broadcast_binary(protocol::update(update).into(), Some(from.peer_id));
                    compact_if_due(state, room, pair).await;
                    Ok(Vec::new())
                }
                Err(e) => {
                    *slot = None;
                    Err(e.into())
                }
            }
        }
        Frame::Awareness(entries) => {
            let sanitised = presence(pair, from, entries)?;
            if !sanitised.is_empty() {
                live.broadcast_binary_everywhere(
                    protocol::awareness(&sanitised).into(),
                    Some(from.peer_id),
                );
            }
            Ok(Vec::new())
        }
    }
}

/// The log could not give every step this server's copy lacks.
struct Gap;

/// Brings this server's copy of the document up to step `upto` of the log: steps another app
/// server stored are applied in order and sent to everyone here. With one app server the copy
/// is never behind and this reads nothing. A step the log no longer has (folded away while
/// this server lagged) or cannot be read is a [`Gap`]: the caller drops the copy, and the
/// room's editors reconnect and sync by state vector from the store, which has everything.
async fn catch_up(
    state: &AppState,
    live: &RoomLive,
    room: &str,
    pair: &mut PairState,
    upto: u64,
) -> Result<(), Gap> {
    if upto <= pair.seq {
        return Ok(());
    }
    let steps = repo::updates_between(&state.db, room, pair.seq, upto)
        .await
        .map_err(|_| Gap)?;
    let contiguous = steps
        .iter()
        .enumerate()
        .all(|(i, (seq, _))| *seq == pair.seq + 1 + i as u64);
    // `u64::MAX` asks for whatever there is (after a gap in hearing from the others).
    let reached = steps.last().map_or(pair.seq, |(seq, _)| *seq);
    if !contiguous || (upto != u64::MAX && reached < upto) {
        tracing::warn!(
            room,
            from = pair.seq,
            upto,
            "the shared-code log has a gap here: resyncing"
        );
        return Err(Gap);
    }
    for (seq, update) in steps {
        if let Err(r) = pair.doc.apply(&update) {
            tracing::error!(room, seq, reason = r.0, "a stored update does not apply");
        }
        let stored = base64_len(update.len());
        pair.bytes_since_snapshot += stored;
        if let Some(b) = pair.log_bytes.as_mut() {
            *b += stored;
        }
        pair.seq = seq;
        live.broadcast_binary(protocol::update(&update).into(), None);
    }
    Ok(())
}

/// Another app server stored shared-code step `seq` in `room` (heard through a live query):
/// the copy here, if any, catches up and its editors get the step.
pub async fn stored_elsewhere(state: &AppState, room: &str, seq: u64) {
    let Some(live) = state.rooms.get(room) else {
        return;
    };
    {
        let mut slot = live.pair.lock().await;
        if let Some(pair) = slot.as_mut()
            && catch_up(state, &live, room, pair, seq).await.is_err()
        {
            *slot = None;
            live.kick(None, close::SERVER_ERROR);
        }
    }
    drop(live);
    state.rooms.release(room);
}

async fn compact_if_due(state: &AppState, room: &str, pair: &mut PairState) {
    if pair.seq >= pair.snapshot_seq + COMPACT_EVERY || pair.bytes_since_snapshot >= COMPACT_BYTES {
        snapshot(state, room, pair).await;
    }
}

/// The length of `n` bytes in base64, as the log stores them.
pub fn base64_len(n: usize) -> u64 {
    (n as u64).div_ceil(3) * 4
}

async fn snapshot(state: &AppState, room: &str, pair: &mut PairState) {
    if pair.seq <= pair.snapshot_seq {
        return;
    }
    let bytes = pair.doc.snapshot();
    match repo::save_snapshot(&state.db, room, &bytes, pair.seq, state.clock.now()).await {
        Ok(()) => {
            pair.snapshot_seq = pair.seq;
            pair.bytes_since_snapshot = 0;
        }
        // The log still has everything: a failed snapshot only makes the next load longer.
        // No fold either: a reload needs every step after the stored snapshot.
        Err(e) => {
            tracing::warn!(room, error = %e, "could not store a shared-code snapshot");
            return;
        }
    }
    let too_long = pair.seq > pair.base_seq + state.rooms.code_log_steps + COMPACT_EVERY;
    let maybe_heavy = pair
        .log_bytes
        .is_none_or(|b| b > state.rooms.code_log_bytes);
    if (too_long || maybe_heavy)
        && let Err(e) = fold(state, room, pair, too_long).await
    {
        // Nothing is lost: the log is only longer until the next snapshot folds it.
        tracing::warn!(room, error = %e, "could not fold the shared-code log");
    }
}

/// Folds the log's oldest steps into its base so it keeps the configured number of steps
/// ([`MAX_CODE_LOG`] unless `PAIRWISE_CODE_LOG_STEPS` says otherwise) and weighs no more than
/// the configured bytes ([`MAX_CODE_LOG_BYTES`] unless `PAIRWISE_CODE_LOG_BYTES` says
/// otherwise): the base moves forward by the steps beyond that (about [`COMPACT_EVERY`] steps
/// or [`COMPACT_BYTES`] at a time), so a fold applies that much, never the room's history.
async fn fold(
    state: &AppState,
    room: &str,
    pair: &mut PairState,
    too_long: bool,
) -> Result<(), AppError> {
    let (from, base) = repo::base(&state.db, room).await?;
    // Newest first: the weight kept after each possible fold point.
    let sizes = repo::log_sizes(&state.db, room, from).await?;
    let mut by_bytes = from;
    let mut kept = 0u64;
    for (seq, n) in &sizes {
        if kept + n > state.rooms.code_log_bytes {
            by_bytes = *seq;
            break;
        }
        kept += n;
    }
    let by_steps = if too_long {
        pair.seq.saturating_sub(state.rooms.code_log_steps)
    } else {
        from
    };
    // Never past the stored snapshot: a reload starts there and needs every step after it.
    let to = by_steps.max(by_bytes).min(pair.snapshot_seq);
    let kept: u64 = sizes
        .iter()
        .take_while(|(seq, _)| *seq > to)
        .map(|(_, n)| n)
        .sum();
    if to <= from {
        pair.base_seq = from;
        pair.log_bytes = Some(kept);
        return Ok(());
    }
    // Counted again at the next check if this fold does not complete.
    pair.log_bytes = None;
    let mut doc = SharedDoc::from_snapshot(&base).map_err(|r| {
        tracing::error!(
            room,
            reason = r.0,
            "the folded base of the log does not load"
        );
        AppError::Internal
    })?;
    for (seq, update) in repo::updates_between(&state.db, room, from, to).await? {
        if let Err(r) = doc.apply(&update) {
            tracing::error!(room, seq, reason = r.0, "a stored update does not apply");
        }
    }
    repo::fold(&state.db, room, from, to, &doc.snapshot()).await?;
    pair.base_seq = to;
    pair.log_bytes = Some(kept);
    Ok(())
}

/// A colour per user, the same in every room and on every screen (WCAG AA on white for the
/// name label's text, the light variant for selections).
pub fn colours(user: &UserId) -> (&'static str, &'static str) {
    const PALETTE: [(&str, &str); 8] = [
        ("#0969da", "#0969da33"),
        ("#cf222e", "#cf222e33"),
        ("#1a7f37", "#1a7f3733"),
        ("#8250df", "#8250df33"),
        ("#bc4c00", "#bc4c0033"),
        ("#bf3989", "#bf398933"),
        ("#0a7ea4", "#0a7ea433"),
        ("#6e7781", "#6e778133"),
    ];
    // FNV-1a: stable across builds and processes, unlike the std hasher.
    let hash = user.0.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    PALETTE[(hash % PALETTE.len() as u64) as usize]
}

/// Takes a connection's presence entries: only its own client ids, a bounded number, each an
/// object or a departure; the `user` field (name and colour) is the server's, so nobody can
/// appear under someone else's name. Returns the entries to relay.
fn presence(
    pair: &mut PairState,
    from: &Sender<'_>,
    entries: Vec<AwarenessEntry>,
) -> Result<Vec<AwarenessEntry>, Refused> {
    let (colour, light) = colours(from.user);
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        // Another connection of the same person (a reload racing its old socket's goodbye)
        // takes the presence over; someone else's is refused.
        if let Some(p) = pair.presence.get(&entry.client)
            && p.peer != from.peer_id
            && p.user != from.user.0
        {
            return Err(Refused("that presence belongs to another connection"));
        }
        let state = match entry.state {
            None => None,
            Some(json) => {
                if json.len() > MAX_PRESENCE_STATE_BYTES {
                    return Err(Refused("the presence state is too large"));
                }
                let mut obj: Map<String, Value> = serde_json::from_str(&json)
                    .map_err(|_| Refused("a presence state must be a JSON object"))?;
                let mut user = Map::new();
                user.insert("name".into(), Value::String(from.name.to_string()));
                user.insert("color".into(), Value::String(colour.into()));
                user.insert("colorLight".into(), Value::String(light.into()));
                obj.insert("user".into(), Value::Object(user));
                Some(Value::Object(obj).to_string())
            }
        };
        let mine = pair
            .presence
            .values()
            .filter(|p| p.peer == from.peer_id)
            .count();
        if !pair.presence.contains_key(&entry.client) && mine >= MAX_PRESENCE_PER_PEER {
            return Err(Refused("too many presences for one connection"));
        }
        pair.presence.insert(
            entry.client,
            Presence {
                peer: from.peer_id.to_string(),
                user: from.user.0.clone(),
                clock: entry.clock,
                state: state.clone(),
            },
        );
        out.push(AwarenessEntry {
            client: entry.client,
            clock: entry.clock,
            state,
        });
    }
    Ok(out)
}

/// A connection left: its cursors disappear for everyone (a newer clock with no state, as
/// Yjs expects), and when the room empties the document is compacted for the next load.
pub async fn leave(state: &AppState, live: &RoomLive, room: &str, peer_id: &str) {
    let mut slot = live.pair.lock().await;
    let Some(pair) = slot.as_mut() else { return };
    let gone: Vec<AwarenessEntry> = pair
        .presence
        .iter()
        .filter(|(_, p)| p.peer == peer_id)
        .map(|(client, p)| AwarenessEntry {
            client: *client,
            clock: p.clock + 1,
            state: None,
        })
        .collect();
    for e in &gone {
        pair.presence.remove(&e.client);
    }
    if !gone.is_empty() {
        live.broadcast_binary_everywhere(protocol::awareness(&gone).into(), None);
    }
    if live.is_empty() {
        snapshot(state, room, pair).await;
    }
}

/// Replaces the room's code with `text` as the server's own edit (seeding from an exercise),
/// sets its language and exercise, and tells whoever is connected.
pub async fn seed(
    state: &AppState,
    room: &str,
    text: &str,
    language: CodeLanguage,
    exercise: Option<&str>,
) -> Result<(), AppError> {
    let live = state.rooms.room(room);
    let seeded = seed_in(state, &live, room, text, language, exercise).await;
    drop(live);
    state.rooms.release(room);
    seeded
}

async fn seed_in(
    state: &AppState,
    live: &RoomLive,
    room: &str,
    text: &str,
    language: CodeLanguage,
    exercise: Option<&str>,
) -> Result<(), AppError> {
    let mut slot = live.pair.lock().await;
    let pair = loaded(state, room, &mut slot).await?;
    if pair.doc.text() != text {
        let update = pair.doc.replace_text(text);
        match repo::append(&state.db, room, None, &update, state.clock.now()).await {
            Ok(seq) => {
                if catch_up(state, live, room, pair, seq - 1).await.is_err() {
                    *slot = None;
                    live.kick(None, close::SERVER_ERROR);
                    return Ok(());
                }
                pair.seq = seq;
                let stored = base64_len(update.len());
                pair.bytes_since_snapshot += stored;
                if let Some(b) = pair.log_bytes.as_mut() {
                    *b += stored;
                }
            }
            Err(e) => {
                *slot = None;
                return Err(e);
            }
        }
        live.broadcast_binary(protocol::update(&update).into(), None);
    }
    repo::set_language(&state.db, room, language, exercise, state.clock.now()).await?;
    pair.language = language;
    if let Some(ex) = exercise {
        pair.exercise = Some(ex.to_string());
    }
    live.broadcast_everywhere(
        &RoomServerMessage::CodeLanguage {
            language,
            exercise: pair.exercise.clone(),
            by: None,
        },
        None,
    );
    Ok(())
}

/// A participant chose the document's language.
pub async fn set_language(
    state: &AppState,
    live: &RoomLive,
    room: &str,
    language: CodeLanguage,
    by: &str,
) -> Result<(), AppError> {
    let mut slot = live.pair.lock().await;
    let pair = loaded(state, room, &mut slot).await?;
    repo::set_language(&state.db, room, language, None, state.clock.now()).await?;
    pair.language = language;
    live.broadcast_everywhere(
        &RoomServerMessage::CodeLanguage {
            language,
            exercise: pair.exercise.clone(),
            by: Some(by.to_string()),
        },
        None,
    );
    Ok(())
}

/// The text now (for the page the server renders before the editor loads), its language,
/// exercise and how many changes are stored.
pub async fn current_text(
    state: &AppState,
    room: &str,
) -> Result<(String, CodeLanguage, Option<String>, u64), AppError> {
    let live = state.rooms.room(room);
    let text = {
        let mut slot = live.pair.lock().await;
        loaded(state, room, &mut slot)
            .await
            .map(|p| (p.doc.text(), p.language, p.exercise.clone(), p.seq))
    };
    drop(live);
    state.rooms.release(room);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_stable_per_user() {
        let a = colours(&UserId("ada".into()));
        assert_eq!(a, colours(&UserId("ada".into())));
        assert!(a.0.starts_with('#') && a.1.ends_with("33"));
    }
}
