//! Live rooms: the room socket's wire protocol (shared by the browser and the server), the
//! room views server functions return, and the chat's Markdown-lite.
//!
//! One WebSocket per participant at `/rooms/<id>/ws` carries WebRTC signalling, presence and
//! chat. The server relays signals between peers of the same room and never reads SDP beyond
//! its size; chat messages get a per-room sequence number when they commit.

use serde::{Deserialize, Serialize};

use crate::{
    error::AppError,
    rooms::code::model::{CodeLanguage, RunReport},
};

/// The largest message either side may send on a room socket: an SDP (≤ 16 KiB) plus its
/// envelope. Bigger closes the socket.
pub const MAX_ROOM_MESSAGE_BYTES: usize = 24 * 1024;
/// An offer or answer over this is refused (real ones for 4 peers with audio, video and data
/// are ~6 KiB).
pub const MAX_SDP_BYTES: usize = 16 * 1024;
pub const MAX_CANDIDATE_BYTES: usize = 1024;
/// Chat message length in characters.
pub const MAX_CHAT_CHARS: usize = 4000;
/// Idempotency keys are client-made random tokens.
pub const MAX_CLIENT_KEY_LEN: usize = 64;
/// A mesh: everyone in the call sends to everyone else, so more than four drowns a phone
/// uplink. More people may be in the room (chat, presence) than in the call.
pub const MAX_PEERS: usize = 4;
/// Connections one room accepts (tabs of participants, in the call or only chatting).
pub const MAX_ROOM_CONNECTIONS: usize = 32;
/// Sustained messages per second one room socket may send, and the burst it may save up.
/// Trickle ICE sends a burst of candidates per peer when a call starts or restarts.
pub const ROOM_MESSAGES_PER_SECOND: f64 = 30.0;
pub const ROOM_MESSAGE_BURST: f64 = 150.0;
/// Messages queued for a client that is not reading; beyond this it is disconnected.
pub const ROOM_SEND_QUEUE: usize = 256;
/// The server pings every `HEARTBEAT_SECS`; a socket silent for `SILENCE_SECS` (no pong, no
/// message) is dropped, so a vanished phone leaves the room within ten seconds.
pub const HEARTBEAT_SECS: u64 = 2;
pub const SILENCE_SECS: u64 = 7;
/// Chat history arrives in pages of this many messages.
pub const HISTORY_PAGE: usize = 100;
pub const MAX_TITLE_CHARS: usize = 120;

/// Close codes of a room socket (RFC 6455 ranges), so the client can say what happened.
pub mod close {
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    /// The server could not keep a change: reconnect (the editor resends it).
    pub const SERVER_ERROR: u16 = 1011;
    /// The host closed the room, or removed this participant.
    pub const ROOM_CLOSED: u16 = 4000;
    pub const REMOVED: u16 = 4001;
    /// The same user joined again from elsewhere and took this connection's place.
    pub const REPLACED: u16 = 4002;
    pub const ROOM_FULL: u16 = 4003;
}

/// An offer or an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SdpKind {
    Offer,
    Answer,
}

/// What one peer sends another through the server (perfect negotiation with trickle ICE).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    Description {
        sdp_type: SdpKind,
        sdp: String,
    },
    Candidate {
        candidate: String,
        sdp_mid: Option<String>,
        sdp_m_line_index: Option<u16>,
    },
}

impl Signal {
    /// Size rules the server applies before relaying.
    pub fn check(&self) -> Result<(), AppError> {
        let (len, cap, what) = match self {
            Signal::Description { sdp, .. } => (sdp.len(), MAX_SDP_BYTES, "session description"),
            Signal::Candidate {
                candidate, sdp_mid, ..
            } => (
                candidate.len() + sdp_mid.as_deref().map_or(0, str::len),
                MAX_CANDIDATE_BYTES,
                "ICE candidate",
            ),
        };
        if len > cap {
            return Err(AppError::BadRequest {
                detail: format!("the {what} is {len} bytes; at most {cap} are accepted"),
            });
        }
        Ok(())
    }
}

/// Whether this connection is in the call, and its microphone, camera and screen share.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaState {
    pub in_call: bool,
    pub audio: bool,
    pub video: bool,
    pub screen: bool,
}

/// What a browser sends on a room socket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RoomClientMessage {
    /// Relay `signal` to the peer `to` (a peer id from `welcome` or `peer_joined`).
    Signal {
        to: String,
        signal: Signal,
    },
    /// I joined or left the call, or my microphone/camera/screen changed; pushed to everyone
    /// else. Joining a call that already has [`MAX_PEERS`] is refused.
    Media {
        media: MediaState,
    },
    /// A chat message. `key` is random and made once per message by the client: sending the
    /// same key again (after a reconnect) never stores the message twice.
    Chat {
        key: String,
        body: String,
    },
    /// Older chat messages than `before` (a sequence number), for scrolling back.
    History {
        before: u64,
    },
    Ping {
        seq: u32,
    },
    /// Sets the shared code's language for everyone.
    SetLanguage {
        language: CodeLanguage,
    },
    /// I ran the shared code (in my browser's sandbox): show everyone the result.
    Run {
        report: RunReport,
    },
}

/// A participant connected to the room right now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// This connection's id (a user with two tabs is two peers).
    pub peer_id: String,
    pub user_id: String,
    pub name: String,
    pub host: bool,
    pub media: MediaState,
}

/// One committed chat message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub seq: u64,
    pub author_id: String,
    pub author_name: String,
    pub body: String,
    /// RFC 3339.
    pub at: String,
}

/// A STUN or TURN server for `RTCPeerConnection`'s configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    pub username: Option<String>,
    pub credential: Option<String>,
}

/// Why a page of chat history was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryKind {
    /// Everything after the `since` the client connected with (oldest first, in pages).
    Resume,
    /// An answer to `history { before }`.
    Older,
}

/// What the server sends on a room socket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RoomServerMessage {
    /// First message: who I am here, who is already in, how to reach them.
    Welcome {
        peer_id: String,
        user_id: String,
        title: String,
        peers: Vec<PeerInfo>,
        ice_servers: Vec<IceServer>,
        /// The highest chat sequence number committed so far.
        last_seq: u64,
    },
    PeerJoined {
        peer: PeerInfo,
    },
    PeerLeft {
        peer_id: String,
    },
    PeerMedia {
        peer_id: String,
        media: MediaState,
    },
    Signal {
        from: String,
        signal: Signal,
    },
    /// A chat message committed by anyone (the sender included).
    Chat {
        message: ChatMessage,
    },
    /// Your message with this key is stored as `seq` (sent only after the commit).
    Ack {
        key: String,
        seq: u64,
    },
    History {
        kind: HistoryKind,
        messages: Vec<ChatMessage>,
        /// More pages follow (`resume`) or older messages exist (`older`).
        more: bool,
    },
    Pong {
        seq: u32,
    },
    /// The shared code's language (and the exercise it came from), after a join or a change;
    /// `by` is who changed it (`None`: the server, seeding from an exercise).
    CodeLanguage {
        language: CodeLanguage,
        exercise: Option<String>,
        by: Option<String>,
    },
    /// Someone ran the shared code.
    RunResult {
        by_user: String,
        by_name: String,
        report: RunReport,
    },
    /// A message that was refused; for chat, `key` says which one.
    Error {
        error: AppError,
        key: Option<String>,
    },
}

/// Parses a client-made idempotency key: 8–64 characters of `[A-Za-z0-9_-]`.
pub fn client_key(key: &str) -> Result<&str, AppError> {
    let ok = (8..=MAX_CLIENT_KEY_LEN).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(key)
    } else {
        Err(AppError::BadRequest {
            detail: "a chat message key is 8 to 64 letters, digits, '-' or '_'".into(),
        })
    }
}

/// A chat body as stored: trimmed at the ends, not empty, at most [`MAX_CHAT_CHARS`].
pub fn chat_body(body: &str) -> Result<String, AppError> {
    let body = body.trim_end().trim_start_matches(['\n', '\r']);
    if body.trim().is_empty() {
        return Err(AppError::BadRequest {
            detail: "the message is empty".into(),
        });
    }
    let n = body.chars().count();
    if n > MAX_CHAT_CHARS {
        return Err(AppError::BadRequest {
            detail: format!("the message has {n} characters; at most {MAX_CHAT_CHARS} fit"),
        });
    }
    Ok(body.to_string())
}

/// A piece of a chat message: the Markdown-lite is code spans (`` `x` ``) and fenced code
/// blocks (```` ``` ````); everything else is plain text. Rendering builds text nodes from
/// these, never HTML, so a message cannot inject markup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatPiece {
    Text(String),
    Code(String),
    Block { language: String, code: String },
}

pub fn chat_pieces(body: &str) -> Vec<ChatPiece> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        match rest.find("```") {
            Some(start) => {
                inline_pieces(&rest[..start], &mut out);
                let after = &rest[start + 3..];
                match after.find("```") {
                    Some(end) => {
                        let inner = &after[..end];
                        let (language, code) = match inner.split_once('\n') {
                            Some((first, code))
                                if !first.trim().is_empty()
                                    && first.trim().chars().all(|c| c.is_ascii_alphanumeric()) =>
                            {
                                (first.trim().to_string(), code)
                            }
                            _ => (String::new(), inner.strip_prefix('\n').unwrap_or(inner)),
                        };
                        out.push(ChatPiece::Block {
                            language,
                            code: code.trim_end_matches('\n').to_string(),
                        });
                        rest = after[end + 3..].trim_start_matches('\n');
                    }
                    None => {
                        // An unclosed fence is text, as in Markdown.
                        push_text(&rest[start..], &mut out);
                        rest = "";
                    }
                }
            }
            None => {
                inline_pieces(rest, &mut out);
                rest = "";
            }
        }
    }
    out
}

fn inline_pieces(text: &str, out: &mut Vec<ChatPiece>) {
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('`') else { break };
        if end == 0 {
            push_text(&rest[..start + 2], out);
            rest = &after[1..];
            continue;
        }
        push_text(&rest[..start], out);
        out.push(ChatPiece::Code(after[..end].to_string()));
        rest = &after[end + 1..];
    }
    push_text(rest, out);
}

fn push_text(text: &str, out: &mut Vec<ChatPiece>) {
    if text.is_empty() {
        return;
    }
    if let Some(ChatPiece::Text(prev)) = out.last_mut() {
        prev.push_str(text);
    } else {
        out.push(ChatPiece::Text(text.to_string()));
    }
}

/// Open or closed: a closed room keeps its chat for reading but nobody can join the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomState {
    Open,
    Closed,
}

impl RoomState {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(RoomState::Open),
            "closed" => Some(RoomState::Closed),
            _ => None,
        }
    }
    pub fn key(self) -> &'static str {
        match self {
            RoomState::Open => "open",
            RoomState::Closed => "closed",
        }
    }
}

/// A participant as the room page lists them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: String,
    pub name: String,
    pub host: bool,
    pub present: bool,
    /// For the host: the address of a guest who has not entered yet (or has no confirmed
    /// account yet): shown instead of a name, so the list reads the same either way.
    pub invited: Option<String>,
}

/// The room page's data for a participant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomView {
    pub id: String,
    pub title: String,
    pub state: RoomState,
    pub me: String,
    pub is_host: bool,
    pub members: Vec<MemberView>,
    pub created_at: String,
    /// The latest chat messages, so the page reads before (or without) the socket.
    pub recent: Vec<ChatMessage>,
    /// Whether older messages than `recent` exist.
    pub more_before: bool,
    /// An idempotency key for the no-JavaScript chat form (a double submit stores once).
    pub form_key: String,
    /// The shared code as it stands.
    pub code: crate::rooms::code::model::CodeView,
}

/// A line in "my rooms".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomSummary {
    pub id: String,
    pub title: String,
    pub state: RoomState,
    pub host_name: String,
    pub is_host: bool,
    pub present: u32,
    pub created_at: String,
}

/// What the room page gets: the room, or why this user may not enter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RoomAccess {
    Member(Box<RoomView>),
    /// Signed in, but not invited (the page explains whom to ask).
    NotInvited,
}

/// How a connection to one peer is doing, from `getStats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityLevel {
    #[default]
    Unknown,
    Good,
    Fair,
    Poor,
}

/// The figures behind the quality indicator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    pub level: QualityLevel,
    pub rtt_ms: Option<u32>,
    /// Packets lost in the last interval, in percent of those expected.
    pub loss_pct: Option<f32>,
    /// Bitrate received from this peer in the last interval.
    pub kbps: Option<u32>,
}

impl Quality {
    /// Thresholds from what people notice in a call: past ~300 ms round trip conversation
    /// overlaps, and past a few percent loss video freezes and audio breaks up.
    pub fn classify(rtt_ms: Option<u32>, loss_pct: Option<f32>) -> QualityLevel {
        match (rtt_ms, loss_pct) {
            (None, None) => QualityLevel::Unknown,
            (rtt, loss) => {
                let rtt = rtt.unwrap_or(0);
                let loss = loss.unwrap_or(0.0);
                if rtt > 500 || loss > 8.0 {
                    QualityLevel::Poor
                } else if rtt > 250 || loss > 2.0 {
                    QualityLevel::Fair
                } else {
                    QualityLevel::Good
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quality_is_judged_from_round_trip_and_loss() {
        use super::{Quality, QualityLevel::*};
        assert_eq!(Quality::classify(None, None), Unknown);
        assert_eq!(Quality::classify(Some(40), Some(0.0)), Good);
        assert_eq!(Quality::classify(Some(300), Some(0.5)), Fair);
        assert_eq!(Quality::classify(Some(60), Some(3.0)), Fair);
        assert_eq!(Quality::classify(Some(900), None), Poor);
        assert_eq!(Quality::classify(None, Some(12.0)), Poor);
    }

    use super::*;

    #[test]
    fn messages_are_tagged_json() {
        let m: RoomClientMessage = serde_json::from_str(
            r#"{"type":"signal","to":"p1","signal":{"kind":"description","sdp_type":"offer","sdp":"v=0"}}"#,
        )
        .unwrap();
        assert_eq!(
            m,
            RoomClientMessage::Signal {
                to: "p1".into(),
                signal: Signal::Description {
                    sdp_type: SdpKind::Offer,
                    sdp: "v=0".into()
                }
            }
        );
        assert!(serde_json::from_str::<RoomClientMessage>(r#"{"type":"kick","who":"x"}"#).is_err());
        let ack = RoomServerMessage::Ack {
            key: "k".into(),
            seq: 3,
        };
        assert_eq!(
            serde_json::to_string(&ack).unwrap(),
            r#"{"type":"ack","key":"k","seq":3}"#
        );
    }

    #[test]
    fn oversized_signals_are_refused_in_words() {
        let big = Signal::Description {
            sdp_type: SdpKind::Offer,
            sdp: "a".repeat(MAX_SDP_BYTES + 1),
        };
        let err = big.check().unwrap_err().to_string();
        assert!(err.contains("16384"), "{err}");
        let fine = Signal::Candidate {
            candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host".into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
        };
        assert!(fine.check().is_ok());
    }

    #[test]
    fn keys_and_bodies_are_parsed() {
        assert!(client_key("abcDEF12-_").is_ok());
        assert!(client_key("short").is_err());
        assert!(client_key("has space in it").is_err());
        assert!(client_key(&"k".repeat(65)).is_err());
        assert_eq!(chat_body("  hi there \n").unwrap(), "  hi there");
        assert!(chat_body(" \n\t").is_err());
        assert!(chat_body(&"é".repeat(MAX_CHAT_CHARS)).is_ok());
        assert!(chat_body(&"é".repeat(MAX_CHAT_CHARS + 1)).is_err());
    }

    #[test]
    fn markdown_lite_finds_code_spans_and_blocks_only() {
        assert_eq!(
            chat_pieces("use `map` here <b>"),
            vec![
                ChatPiece::Text("use ".into()),
                ChatPiece::Code("map".into()),
                ChatPiece::Text(" here <b>".into()),
            ]
        );
        assert_eq!(
            chat_pieces("look:\n```js\nlet x = 1;\n```\nok"),
            vec![
                ChatPiece::Text("look:\n".into()),
                ChatPiece::Block {
                    language: "js".into(),
                    code: "let x = 1;".into()
                },
                ChatPiece::Text("ok".into()),
            ]
        );
        assert_eq!(
            chat_pieces("```\nplain\n```"),
            vec![ChatPiece::Block {
                language: String::new(),
                code: "plain".into()
            }]
        );
        assert_eq!(
            chat_pieces("open ``` fence and `tick"),
            vec![ChatPiece::Text("open ``` fence and `tick".into())]
        );
        assert_eq!(
            chat_pieces("a `` b"),
            vec![ChatPiece::Text("a `` b".into())]
        );
    }
}
