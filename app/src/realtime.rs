//! The live socket's wire protocol, shared by the browser and the server.
//!
//! One WebSocket per tab at `/ws`. Later capabilities (room signalling, chat, the shared
//! editor, notifications) add variants here, so both sides always agree on every message.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The largest message either side may send; a bigger one closes the socket.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Sustained messages per second one socket may send, and the burst it may save up.
pub const MESSAGES_PER_SECOND: f64 = 20.0;
pub const MESSAGE_BURST: f64 = 60.0;
/// Messages queued for a client that is not reading; beyond this the client is dropped
/// rather than letting its queue grow the server's memory.
pub const SEND_QUEUE: usize = 256;

/// Live sockets one account may hold open at once (its tabs' `/ws` and its room sockets); a
/// new one beyond this is refused with 429, so one account cannot pile up server memory.
pub const MAX_SOCKETS_PER_USER: usize = 64;

/// Close codes the server uses, so the client can tell the user what happened.
pub mod close {
    /// RFC 6455 "policy violation": too many messages, or reading too slowly.
    pub const POLICY: u16 = 1008;
    /// RFC 6455 "message too big".
    pub const TOO_BIG: u16 = 1009;
    /// The session behind the socket ended (signed out, password or role changed): sign in
    /// again.
    pub const ACCESS_ENDED: u16 = 4401;
    /// The client answered nothing, not even pings, for the idle timeout: reconnect.
    pub const SILENT: u16 = 4408;
}

/// What a browser sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Keeps the connection alive through proxies and measures round-trip time.
    Ping { seq: u32 },
}

/// What the server sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// First message on every socket: who the server thinks you are.
    Welcome {
        user_id: String,
        display_name: String,
    },
    Pong {
        seq: u32,
    },
    /// Sent after the welcome and whenever something new is for this user: how many
    /// notifications are unread, and the newest one's words and link.
    Notifications {
        unread: u32,
        latest: Option<NotificationBrief>,
    },
    /// A message that could not be accepted; the socket stays open unless a close follows.
    Error {
        error: AppError,
    },
}

/// The newest notification, as the live badge shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotificationBrief {
    pub id: String,
    pub text: String,
    pub link: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_json_both_ways() {
        let ping: ClientMessage = serde_json::from_str(r#"{"type":"ping","seq":7}"#).unwrap();
        assert_eq!(ping, ClientMessage::Ping { seq: 7 });
        let err = ServerMessage::Error {
            error: AppError::RateLimited {
                retry_after_secs: 1,
            },
        };
        assert_eq!(
            serde_json::to_string(&err).unwrap(),
            r#"{"type":"error","error":{"error":"rate_limited","retry_after_secs":1}}"#
        );
    }

    #[test]
    fn an_unknown_message_type_does_not_parse() {
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"shutdown"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"ping","seq":-1}"#).is_err());
    }
}
