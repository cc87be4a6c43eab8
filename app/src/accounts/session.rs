//! Sessions (server only): random tokens in an HttpOnly cookie, stored hashed in SurrealDB.
//!
//! Lifetimes: a session ends after `PAIRWISE_SESSION_IDLE` without use (default 7 days) or
//! `PAIRWISE_SESSION_ABSOLUTE` after sign-in (default 30 days), whichever comes first; sign-in
//! always creates a new token (and deletes the presented one), sign-out deletes it.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use http::{HeaderMap, HeaderValue, header};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{
    accounts::{
        model::{Capabilities, CurrentUser, Role},
        repo,
    },
    error::AppError,
    state::{AppState, AuthSettings},
};

/// Refresh `last_seen_at` at most this often, so reads do not turn into writes.
const TOUCH_EVERY_SECS: i64 = 60;

/// The cookie's name: with TLS the `__Host-` prefix pins it to this exact origin.
pub fn cookie_name(settings: &AuthSettings) -> &'static str {
    if settings.secure_cookies {
        "__Host-pw_session"
    } else {
        "pw_session"
    }
}

/// 32 random bytes, hex-encoded: what the browser holds.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the database holds: the token's SHA-256.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A `Set-Cookie` value that stores `token`.
pub fn session_cookie(settings: &AuthSettings, token: &str) -> Option<HeaderValue> {
    let secure = if settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        cookie_name(settings),
        settings.session_absolute.as_secs()
    ))
    .ok()
}

/// A `Set-Cookie` value that deletes the session cookie.
pub fn clear_cookie(settings: &AuthSettings) -> HeaderValue {
    let secure = if settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        cookie_name(settings)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("pw_session=; Path=/; Max-Age=0"))
}

/// Reads one cookie from the request headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// The signed-in user behind a request, and the hash of the session token that proved it.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub user: CurrentUser,
    pub token_hash: String,
}

impl Authenticated {
    pub fn require(self, role: Role) -> Result<Self, AppError> {
        if self.user.roles.has(role) || self.user.roles.can_administer() {
            Ok(self)
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// Whether a stored session may still be used at `now`.
pub fn is_live(
    settings: &AuthSettings,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    let idle = ChronoDuration::from_std(settings.session_idle).unwrap_or(ChronoDuration::days(7));
    now < expires_at && now < last_seen_at + idle
}

/// How long a session read from the database is trusted without reading it again. This
/// process forgets a session the moment it ends one (sign-out, password change, role
/// change); another app server sharing the database sees that within this time.
pub const SESSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// At most this many sessions are kept; past it the cache starts over (it is only a cache).
const SESSION_CACHE_MAX: usize = 100_000;

#[derive(Clone, Debug)]
struct CachedSession {
    user: CurrentUser,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    read_at: std::time::Instant,
}

/// Sessions recently read from the database, by token hash: every page and server function
/// of a signed-in user needs its session, and reading it each time cost a query per request.
#[derive(Debug, Default)]
pub struct SessionCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, CachedSession>>,
    /// When each user was last forgotten: a request that read its session before that (and
    /// so before the change that made us forget it) must not put it back.
    forgotten: std::sync::Mutex<std::collections::HashMap<crate::ids::UserId, std::time::Instant>>,
}

impl SessionCache {
    fn get(&self, token_hash: &str) -> Option<CachedSession> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(token_hash)
            .filter(|c| c.read_at.elapsed() < SESSION_CACHE_TTL)
            .cloned()
    }

    fn put(&self, token_hash: &str, session: CachedSession) {
        {
            let mut forgotten = self.forgotten.lock().unwrap_or_else(|e| e.into_inner());
            // Past the TTL a forgetting no longer matters: nothing read before it is cached.
            forgotten.retain(|_, at| at.elapsed() < SESSION_CACHE_TTL);
            if forgotten
                .get(&session.user.id)
                .is_some_and(|at| session.read_at <= *at)
            {
                return;
            }
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= SESSION_CACHE_MAX {
            entries.retain(|_, c| c.read_at.elapsed() < SESSION_CACHE_TTL);
            if entries.len() >= SESSION_CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(token_hash.to_string(), session);
    }

    /// The session with this token ended (signed out, rotated, expired).
    pub fn forget(&self, token_hash: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(token_hash);
    }

    /// Something about this user changed (password, roles, suspension): every one of their
    /// sessions is read again on its next request.
    pub fn forget_user(&self, user: &crate::ids::UserId) {
        self.forgotten
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(user.clone(), std::time::Instant::now());
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, c| c.user.id != *user);
    }

    /// Anything may have changed (this server stopped hearing other servers' changes for a
    /// while): every session is read again on its next request.
    pub fn forget_all(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// Finds the user of the session cookie in `headers`; `None` when there is no live session.
/// Used by server functions (through [`current`]) and by WebSocket upgrades alike.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Authenticated>, AppError> {
    let Some(token) = cookie(headers, cookie_name(&state.auth)) else {
        return Ok(None);
    };
    // A well-formed token is 64 hex characters; anything else cannot match and costs no query.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let token_hash = hash_token(token);
    let found = match state.sessions.get(&token_hash) {
        Some(cached) => cached,
        None => {
            // The instant before the read: a forgetting after it wins (see `forgotten`).
            let asked = std::time::Instant::now();
            let Some(found) = repo::find_session(&state.db, &token_hash).await? else {
                return Ok(None);
            };
            let cached = CachedSession {
                user: found.user,
                last_seen_at: found.last_seen_at,
                expires_at: found.expires_at,
                read_at: asked,
            };
            state.sessions.put(&token_hash, cached.clone());
            cached
        }
    };
    let now = state.clock.now();
    if !is_live(&state.auth, found.last_seen_at, found.expires_at, now) {
        state.sessions.forget(&token_hash);
        repo::delete_session(&state.db, &token_hash).await?;
        return Ok(None);
    }
    // Reads stay reads: `last_seen_at` is written at most once a minute per session.
    if (now - found.last_seen_at).num_seconds() >= TOUCH_EVERY_SECS {
        // Best effort: two requests of one session may touch it at once, and the one that
        // loses the write race has nothing to add (the other just wrote the same minute).
        // The request itself must not fail for it.
        if let Err(e) = repo::touch_session(&state.db, &token_hash, now).await {
            tracing::debug!(error = ?e, "session touch lost a race; the other one stands");
        }
        state.sessions.put(
            &token_hash,
            CachedSession {
                last_seen_at: now,
                ..found.clone()
            },
        );
    }
    Ok(Some(Authenticated {
        user: found.user,
        token_hash,
    }))
}

/// The request headers of the current server function or page render.
pub fn request_headers() -> HeaderMap {
    leptos::prelude::use_context::<http::request::Parts>()
        .map(|p| p.headers)
        .unwrap_or_default()
}

/// The client's address: the TCP peer, or behind a trusted reverse proxy the address that proxy
/// saw (the server's `proxy` module puts it in every request's extensions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

impl ClientAddr {
    /// Of a request: the resolved address, or the TCP peer where nothing resolved it.
    pub fn of(extensions: &http::Extensions) -> Option<std::net::IpAddr> {
        extensions.get::<ClientAddr>().map(|c| c.0).or_else(|| {
            extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip())
        })
    }
}

/// The client's IP address (see [`ClientAddr`]), for limits and the audit log.
pub fn client_ip() -> Option<String> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    ClientAddr::of(&parts.extensions).map(|ip| ip.to_string())
}

/// The signed-in user of the current request, if any.
pub async fn current() -> Result<Option<Authenticated>, AppError> {
    let state = AppState::get()?;
    authenticate(&state, &request_headers()).await
}

/// The signed-in user, or `Unauthenticated`.
pub async fn require_user() -> Result<Authenticated, AppError> {
    current().await?.ok_or(AppError::Unauthenticated)
}

/// A signed-in user whose address is confirmed: what reaching other people (requests,
/// bookings, posts, being invited) takes, so an account made with someone else's address, or
/// a throwaway one, cannot.
pub async fn require_verified_user() -> Result<Authenticated, AppError> {
    let auth = require_user().await?;
    if !auth.user.email_verified {
        return Err(crate::error::Problem::EmailNotVerified.into());
    }
    Ok(auth)
}

/// A signed-in user holding `role` (admins hold every capability), or an error in words.
pub async fn require_role(role: Role) -> Result<Authenticated, AppError> {
    require_user().await?.require(role)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn settings(secure: bool) -> AuthSettings {
        AuthSettings {
            session_idle: Duration::from_secs(3600),
            session_absolute: Duration::from_secs(86_400),
            secure_cookies: secure,
            public_origin: "http://127.0.0.1:3000".into(),
        }
    }

    #[test]
    fn a_session_read_before_its_user_was_forgotten_is_not_cached_again() {
        let cache = SessionCache::default();
        let user = CurrentUser {
            id: crate::ids::UserId("u1".into()),
            email: "u1@example.org".into(),
            display_name: "U".into(),
            roles: vec![Role::Learner],
            email_verified: true,
        };
        let session = |read_at| CachedSession {
            user: user.clone(),
            last_seen_at: Utc::now(),
            expires_at: Utc::now() + ChronoDuration::days(1),
            read_at,
        };
        // Read (from the database) before the suspension, put back after it: refused.
        let before = std::time::Instant::now();
        cache.forget_user(&user.id);
        cache.put("t1", session(before));
        assert!(cache.get("t1").is_none());
        // Read after it: cached as usual.
        cache.put("t1", session(std::time::Instant::now()));
        assert!(cache.get("t1").is_some());
    }

    #[test]
    fn cookies_are_http_only_same_site_and_secure_with_the_host_prefix_under_tls() {
        let plain = session_cookie(&settings(false), "abc").unwrap();
        let plain = plain.to_str().unwrap();
        assert!(
            plain.starts_with("pw_session=abc;")
                && plain.contains("HttpOnly")
                && plain.contains("SameSite=Lax")
        );
        assert!(!plain.contains("Secure"));
        let tls = session_cookie(&settings(true), "abc").unwrap();
        let tls = tls.to_str().unwrap();
        assert!(
            tls.starts_with("__Host-pw_session=abc;")
                && tls.contains("; Secure")
                && tls.contains("Path=/")
        );
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
    }

    #[test]
    fn a_session_dies_when_idle_too_long_or_past_its_absolute_end() {
        let s = settings(false);
        let t0 = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let end = t0 + ChronoDuration::days(1);
        assert!(is_live(&s, t0, end, t0 + ChronoDuration::minutes(59)));
        assert!(!is_live(&s, t0, end, t0 + ChronoDuration::minutes(61)));
        assert!(!is_live(&s, end - ChronoDuration::minutes(1), end, end));
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; pw_session=tok ; b=2"),
        );
        assert_eq!(cookie(&h, "pw_session"), Some("tok"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
