//! The live WebSocket at `/ws`: authenticated by the session cookie, Origin-checked, counted
//! against per-account and per-server caps, with a message size cap, a per-socket rate limit,
//! a bounded send queue, a send timeout, and pings that drop a client gone silent.
//!
//! Capabilities that need live traffic (room signalling, chat, the shared editor,
//! notifications) extend the protocol in `app::realtime` and the dispatch in [`handle`].

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use app::{
    accounts::session::{self, Authenticated},
    error::AppError,
    i18n::{Locale, locale_from_headers},
    realtime::{self, ClientMessage, ServerMessage, close},
    state::{AppState, SocketTicket, SocketsFull},
};
use axum::{
    extract::{
        State,
        ws::{
            CloseFrame, Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
        },
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc::{self, error::TrySendError};

use crate::security::{SecurityConfig, TokenBucket, error_response};

#[derive(Clone)]
pub struct LiveContext {
    pub state: AppState,
    pub security: Arc<SecurityConfig>,
    /// A client silent this long (no message, no answer to a ping) is dropped.
    pub idle: Duration,
}

/// A send that does not finish in this time means the client stopped reading: drop it.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Counts a new live socket (`/ws` or a room's) under the account's and the server's caps at
/// its handshake, under one lock, so concurrent handshakes cannot overshoot them; otherwise
/// the refusal to send.
#[expect(
    clippy::result_large_err,
    reason = "the refusal is the handshake's answer, returned at once"
)]
pub(crate) fn admit(state: &AppState, who: &Authenticated) -> Result<SocketTicket, Response> {
    state
        .live_sockets
        .admit(
            &who.user.id.0,
            &who.token_hash,
            realtime::MAX_SOCKETS_PER_USER,
        )
        .map_err(|full| sockets_full(who, full))
}

/// The refusal when a socket cannot be admitted: the account's cap is the caller's to fix
/// (429, close a tab); the server's is not (503, try again shortly).
fn sockets_full(who: &Authenticated, full: SocketsFull) -> Response {
    match full {
        SocketsFull::Account => {
            tracing::warn!(user = %who.user.id, "too many live sockets: refused");
            error_response(AppError::RateLimited {
                retry_after_secs: 30,
            })
        }
        SocketsFull::Server => {
            tracing::warn!("the server holds its most live sockets: a new one is refused");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "30")],
                axum::Json(serde_json::json!({
                    "error": "busy",
                    "detail": "the server is holding as many live connections as it can; try again in a minute",
                })),
            )
                .into_response()
        }
    }
}

/// Browsers always send `Origin` on a WebSocket handshake and cookies go with it whatever the
/// origin, so a socket whose Origin is not ours is refused (cross-site WebSocket hijacking).
fn origin_allowed(cfg: &SecurityConfig, headers: &HeaderMap) -> bool {
    headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| cfg.allowed_origins.iter().any(|a| a == o))
}

/// The user behind a WebSocket handshake from our own origin, or the refusal to send (every
/// live socket starts here: `/ws` and the room sockets).
pub(crate) async fn signed_in_same_origin(
    state: &AppState,
    security: &SecurityConfig,
    headers: &HeaderMap,
) -> Result<Authenticated, Response> {
    if !origin_allowed(security, headers) {
        tracing::warn!(origin = ?headers.get(header::ORIGIN), "WebSocket from another origin refused");
        return Err(error_response(AppError::CrossOrigin));
    }
    match session::authenticate(state, headers).await {
        Ok(Some(who)) => Ok(who),
        Ok(None) => Err(error_response(AppError::Unauthenticated)),
        Err(e) => Err(error_response(e)),
    }
}

pub async fn upgrade(
    State(ctx): State<LiveContext>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let who = match signed_in_same_origin(&ctx.state, &ctx.security, &headers).await {
        Ok(who) => who,
        Err(refused) => return refused,
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(_) => {
            return error_response(AppError::BadRequest {
                detail: "this address only accepts WebSocket connections".into(),
            });
        }
    };
    let ticket = match admit(&ctx.state, &who) {
        Ok(ticket) => ticket,
        Err(refused) => return refused,
    };
    // Small buffers: tungstenite's defaults (128 KiB each way) would cost ~256 KiB per idle
    // socket; messages here are at most a few KiB and every send is flushed at once.
    ws.read_buffer_size(8 * 1024)
        .write_buffer_size(8 * 1024)
        .max_message_size(realtime::MAX_MESSAGE_BYTES)
        .max_frame_size(realtime::MAX_MESSAGE_BYTES)
        // The socket speaks the language of the page that opened it.
        .on_upgrade(move |socket| serve(socket, who, ticket, ctx, locale_from_headers(&headers)))
}

/// Sends to one client through its bounded queue.
struct Outbox(mpsc::Sender<Message>);

enum Sent {
    Queued,
    /// The client stopped reading (queue full) or is gone: drop the connection.
    Dropped,
}

impl Outbox {
    fn send(&self, msg: &ServerMessage) -> Sent {
        let Ok(text) = serde_json::to_string(msg) else {
            tracing::error!("a server message did not serialise");
            return Sent::Queued;
        };
        self.queue(text)
    }

    /// Sends text made once for all of a user's sockets.
    fn send_shared(&self, text: &str) -> Sent {
        self.queue(text.to_string())
    }

    fn queue(&self, text: String) -> Sent {
        match self.0.try_send(Message::Text(text.into())) {
            Ok(()) => Sent::Queued,
            Err(TrySendError::Full(_)) => {
                tracing::info!("WebSocket client reads too slowly: disconnecting it");
                Sent::Dropped
            }
            Err(TrySendError::Closed(_)) => Sent::Dropped,
        }
    }

    fn ping(&self) -> Sent {
        match self.0.try_send(Message::Ping(Default::default())) {
            Ok(()) => Sent::Queued,
            Err(_) => Sent::Dropped,
        }
    }

    fn close(&self, code: u16, reason: &'static str) {
        let _ = self.0.try_send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })));
    }
}

/// The unread count and the newest notification, read afresh (a wake-up carries no data),
/// in the language of the page the socket belongs to.
async fn notifications_message(
    state: &AppState,
    who: &Authenticated,
    locale: Locale,
) -> Option<ServerMessage> {
    use app::notify::{repo, text};
    let unread = repo::unread_count(&state.db, &who.user.id).await.ok()?;
    let latest = repo::notifications(&state.db, &who.user.id)
        .await
        .ok()?
        .0
        .into_iter()
        .find(|n| !n.read)
        .map(|n| realtime::NotificationBrief {
            text: text::render(&n.notice(), locale),
            id: n.id,
            link: n.link,
        });
    Some(ServerMessage::Notifications {
        unread: u32::try_from(unread).unwrap_or(0),
        latest,
    })
}

/// The user's news as of `version`: read from the database by the first of their sockets to
/// ask, and shared with the others (they wait on the lock, then find it read). A socket just
/// opened reads afresh (`fresh`): what changed without a wake-up is not missed.
async fn news(
    state: &AppState,
    who: &Authenticated,
    brief: &tokio::sync::Mutex<app::state::Brief>,
    version: u64,
    fresh: bool,
    locale: Locale,
) -> Option<Arc<str>> {
    let mut brief = brief.lock().await;
    if !fresh
        && brief.version >= version
        && let Some((in_locale, text)) = &brief.text
        && *in_locale == locale
    {
        return Some(text.clone());
    }
    let msg = notifications_message(state, who, locale).await?;
    state.notifier.note_read();
    let text: Arc<str> = serde_json::to_string(&msg).ok()?.into();
    brief.version = version;
    brief.text = Some((locale, text.clone()));
    Some(text)
}

async fn serve(
    socket: WebSocket,
    who: Authenticated,
    ticket: SocketTicket,
    ctx: LiveContext,
    locale: Locale,
) {
    let subscription = ctx.state.notifier.subscribe(&who.user.id.0);
    serve_with(socket, &who, &ticket, &ctx, subscription, locale).await;
    ctx.state.notifier.unsubscribe(&who.user.id.0);
}

async fn serve_with(
    socket: WebSocket,
    who: &Authenticated,
    ticket: &SocketTicket,
    ctx: &LiveContext,
    subscription: app::state::Subscription,
    locale: Locale,
) {
    let state = &ctx.state;
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::channel::<Message>(realtime::SEND_QUEUE);
    let writer = tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            let closing = matches!(msg, Message::Close(_));
            // A client that stops reading fills its TCP window; the send then waits. It is
            // not allowed to wait long.
            match tokio::time::timeout(SEND_TIMEOUT, sink.send(msg)).await {
                Ok(Ok(())) if !closing => {}
                _ => break,
            }
        }
        let _ = tokio::time::timeout(SEND_TIMEOUT, sink.close()).await;
    });
    let out = Outbox(tx);
    // Ended from elsewhere (sign-out, password or role change): close at once.
    let (end, mut ended) = tokio::sync::watch::channel(false);
    ticket.on_end(move || {
        let _ = end.send(true);
    });
    let mut bucket = TokenBucket::new(
        realtime::MESSAGES_PER_SECOND,
        realtime::MESSAGE_BURST,
        Instant::now(),
    );
    let app::state::Subscription { mut changes, brief } = subscription;
    let welcome = ServerMessage::Welcome {
        user_id: who.user.id.to_string(),
        display_name: who.user.display_name.clone(),
    };
    let mut open = matches!(out.send(&welcome), Sent::Queued);
    let version = *changes.borrow_and_update();
    // What this socket last showed: on a database server the same change can wake a socket
    // twice (this server's own wake-up, then the live query's), and the second is not news.
    let mut shown: Option<Arc<str>> = None;
    if open && let Some(first) = news(state, who, &brief, version, true, locale).await {
        open = matches!(out.send_shared(&first), Sent::Queued);
        shown = Some(first);
    }
    // Pings twice per idle period: a live client answers (browsers do by themselves).
    let mut pings = tokio::time::interval(ctx.idle / 2);
    pings.tick().await;
    let mut heard = Instant::now();
    if open {
        loop {
            let received = tokio::select! {
                received = stream.next() => match received {
                    Some(r) => r,
                    None => break,
                },
                _ = ended.changed() => {
                    out.close(close::ACCESS_ENDED, "signed out");
                    break;
                }
                Ok(()) = changes.changed() => {
                    let version = *changes.borrow_and_update();
                    if let Some(text) = news(state, who, &brief, version, false, locale).await
                        && shown.as_deref() != Some(&*text)
                    {
                        if let Sent::Dropped = out.send_shared(&text) {
                            break;
                        }
                        shown = Some(text);
                    }
                    continue;
                }
                _ = pings.tick() => {
                    if heard.elapsed() >= ctx.idle {
                        tracing::debug!(user = %who.user.id, "live client went silent: dropping it");
                        out.close(close::SILENT, "no answer to pings");
                        break;
                    }
                    if let Sent::Dropped = out.ping() {
                        break;
                    }
                    continue;
                }
            };
            heard = Instant::now();
            let msg = match received {
                Ok(msg) => msg,
                Err(e) => {
                    // tungstenite refuses an oversized message before we ever see it.
                    tracing::debug!(error = %e, "WebSocket read ended");
                    out.close(close::TOO_BIG, "message too big");
                    break;
                }
            };
            let text = match msg {
                Message::Text(text) => text,
                Message::Close(_) => break,
                Message::Binary(_) => {
                    if let Sent::Dropped = out.send(&bad_request("send JSON text messages")) {
                        break;
                    }
                    continue;
                }
                // Pings are answered by the library; pongs only show the client is there.
                Message::Ping(_) | Message::Pong(_) => continue,
            };
            if let Err(retry_after_secs) = bucket.take(Instant::now()) {
                let _ = out.send(&ServerMessage::Error {
                    error: AppError::RateLimited { retry_after_secs },
                });
                out.close(close::POLICY, "too many messages");
                break;
            }
            let reply = match serde_json::from_str::<ClientMessage>(&text) {
                Ok(msg) => handle(msg),
                Err(e) => bad_request(&format!("that message could not be read: {e}")),
            };
            if let Sent::Dropped = out.send(&reply) {
                break;
            }
        }
    }
    drop(out);
    let _ = writer.await;
}

fn bad_request(detail: &str) -> ServerMessage {
    ServerMessage::Error {
        error: AppError::BadRequest {
            detail: detail.to_string(),
        },
    }
}

fn handle(msg: ClientMessage) -> ServerMessage {
    match msg {
        ClientMessage::Ping { seq } => ServerMessage::Pong { seq },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_listed_origin_may_open_a_socket() {
        let cfg = SecurityConfig {
            allowed_origins: vec!["http://127.0.0.1:3000".into()],
            hsts: false,
        };
        let mut h = HeaderMap::new();
        assert!(!origin_allowed(&cfg, &h), "no Origin at all");
        h.insert(header::ORIGIN, "http://evil.test".parse().unwrap());
        assert!(!origin_allowed(&cfg, &h));
        h.insert(header::ORIGIN, "http://127.0.0.1:3000".parse().unwrap());
        assert!(origin_allowed(&cfg, &h));
    }
}
