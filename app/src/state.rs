//! Server-side state shared by every request (server only).

use std::{sync::Arc, time::Duration};

use crate::accounts::model::DemoAccount;

use crate::db::Db;

/// Settings the accounts code needs; the server's full configuration stays in `server`.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    pub session_idle: Duration,
    pub session_absolute: Duration,
    /// TLS mode: `Secure` and the `__Host-` prefix on cookies.
    pub secure_cookies: bool,
    pub public_origin: String,
}

/// The time, injectable so tests can move it (session expiry, rate-limit windows).
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
}

#[derive(Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

/// Everything a request handler may need, provided to Leptos as context.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub auth: Arc<AuthSettings>,
    pub hasher: crate::accounts::password::Hasher,
    /// Sessions read recently, so a signed-in request does not always cost a query.
    pub sessions: Arc<crate::accounts::session::SessionCache>,
    /// Sign-in attempts from one address, one at a time (see `accounts::throttle`).
    pub sign_in_turns: Arc<crate::accounts::throttle::Turns>,
    pub clock: Arc<dyn Clock>,
    /// Demo accounts to show on the home page (empty unless demo mode is on).
    pub demo_accounts: Arc<Vec<DemoAccount>>,
    /// The catalog's search index: published courses in memory, kept in step by the
    /// course writes of this process.
    pub catalog: Arc<crate::courses::index::CatalogIndex>,
    /// The forum's search index: every thread, kept in step by the forum's writes.
    pub forum: Arc<crate::forum::index::ForumIndex>,
    /// Runs learner code for grading (the server's process pool).
    pub grader: Arc<dyn Grader>,
    /// Gradings in flight per learner: one learner's burst cannot fill the pool.
    pub grading_per_user: Arc<PerKeyLimit>,
    /// Who is connected to which live room (this process).
    pub rooms: Arc<crate::rooms::hub::Hub>,
    /// Matching weights and booking rules (configuration).
    pub mentoring: Arc<MentoringSettings>,
    /// Live sockets to poke when a user gets a notification (this process).
    pub notifier: Arc<Notifier>,
    /// Live sockets to close when access ends (this process).
    pub live_sockets: Arc<LiveSockets>,
    /// The trained recommendation model (this process's copy, retrained on a schedule).
    pub recommender: Arc<crate::progress::service::Recommender>,
    /// Brings a person's points and badges up to date after a write that may earn some.
    pub awards: Arc<dyn Awards>,
    /// How long short-lived personal data is kept (configuration).
    pub retention: crate::privacy::retention::Retention,
}

/// Points and badges for what a person just did. Features that record progress (a lesson
/// finished, a quiz or an exercise passed) call it once their write has committed; progress
/// implements it (so they need not know progress), and its jobs sweep for anything missed.
pub trait Awards: Send + Sync + std::fmt::Debug {
    fn earned<'a>(
        &'a self,
        state: &'a AppState,
        user: &'a str,
    ) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
}

/// Mentoring rules an operator sets by environment (see the README).
#[derive(Clone, Debug)]
pub struct MentoringSettings {
    pub weights: crate::mentoring::matching::Weights,
    /// How soon a session may start after it is booked.
    pub booking_notice: chrono::Duration,
    /// How long before the start a session can still be cancelled or moved.
    pub change_notice: chrono::Duration,
}

impl Default for MentoringSettings {
    fn default() -> Self {
        MentoringSettings {
            weights: Default::default(),
            booking_notice: chrono::Duration::hours(2),
            change_notice: chrono::Duration::hours(12),
        }
    }
}

/// Wakes a user's live sockets when something new is for them. A wake-up carries no data,
/// only a version number that moves (a `watch`: a socket that does not read cannot make
/// anything grow, and one that reads late sees only the newest). The first of a user's
/// sockets to look reads the news once for all of them (`Brief`), so a wake-up costs one
/// database read per user, not one per socket.
#[derive(Debug, Default)]
pub struct Notifier {
    users: std::sync::Mutex<std::collections::HashMap<String, UserFeed>>,
    reads: std::sync::atomic::AtomicU64,
}

#[derive(Debug)]
struct UserFeed {
    version: tokio::sync::watch::Sender<u64>,
    subscribers: usize,
    brief: Arc<tokio::sync::Mutex<Brief>>,
}

/// The news last read for a user (the serialised message their sockets send) and the
/// version it was read at.
#[derive(Debug, Default)]
pub struct Brief {
    pub version: u64,
    /// The message as last read, and the language it is written in (a user's sockets on
    /// pages in another language read it again in theirs).
    pub text: Option<(crate::i18n::Locale, Arc<str>)>,
}

/// One socket's view of its user's news.
pub struct Subscription {
    pub changes: tokio::sync::watch::Receiver<u64>,
    pub brief: Arc<tokio::sync::Mutex<Brief>>,
}

impl Notifier {
    pub fn subscribe(&self, user: &str) -> Subscription {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        let feed = users.entry(user.to_string()).or_insert_with(|| UserFeed {
            version: tokio::sync::watch::Sender::new(0),
            subscribers: 0,
            brief: Arc::default(),
        });
        feed.subscribers += 1;
        Subscription {
            changes: feed.version.subscribe(),
            brief: feed.brief.clone(),
        }
    }

    pub fn unsubscribe(&self, user: &str) {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(feed) = users.get_mut(user) {
            feed.subscribers = feed.subscribers.saturating_sub(1);
            if feed.subscribers == 0 {
                users.remove(user);
            }
        }
    }

    /// Something changed for these users: move their version, waking their sockets.
    pub fn poke<'a>(&self, users: impl IntoIterator<Item = &'a str>) {
        let users_now = self.users.lock().unwrap_or_else(|e| e.into_inner());
        for user in users {
            if let Some(feed) = users_now.get(user) {
                feed.version.send_modify(|v| *v += 1);
            }
        }
    }

    /// Everyone's news may have changed (changes made elsewhere went unheard for a while):
    /// every socket reads it again.
    pub fn poke_all(&self) {
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        for feed in users.values() {
            feed.version.send_modify(|v| *v += 1);
        }
    }

    /// Counts a read of someone's news from the database (for `/metrics` and the tests).
    pub fn note_read(&self) {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn reads(&self) -> u64 {
        self.reads.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Open live sockets (`/ws` and room sockets) by user and session, so that access which
/// ends closes them at once rather than at their next message: a sign-out ends that
/// session's sockets, a password change the user's other sessions', a role change all of them
/// (they reconnect and are authorised afresh).
pub struct LiveSockets {
    next: std::sync::atomic::AtomicU64,
    open: std::sync::Mutex<OpenSockets>,
    /// Sockets the whole process holds at most (`PAIRWISE_MAX_SOCKETS`).
    max_total: usize,
}

/// Sockets one process holds at most unless configured otherwise: an idle socket costs
/// tens of KiB, so this bounds their memory well inside a small server's.
pub const DEFAULT_MAX_SOCKETS: usize = 20_000;

impl Default for LiveSockets {
    fn default() -> Self {
        Self::with_limit(DEFAULT_MAX_SOCKETS)
    }
}

#[derive(Default)]
struct OpenSockets {
    by_user: std::collections::HashMap<String, Vec<OpenSocket>>,
    total: usize,
}

struct OpenSocket {
    id: u64,
    session: String,
    /// Closes the socket; set once it runs (`SocketTicket::on_end`).
    end: Option<Box<dyn Fn() + Send + Sync>>,
    /// Its access ended before it could be closed: closed as soon as `end` is set.
    ended: bool,
}

impl std::fmt::Debug for LiveSockets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSockets").finish_non_exhaustive()
    }
}

/// Why a socket was not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketsFull {
    /// This account holds as many as one may.
    Account,
    /// The server holds as many as it will.
    Server,
}

/// A registered socket; dropping it unregisters.
pub struct SocketTicket {
    sockets: Arc<LiveSockets>,
    user: String,
    id: u64,
}

impl LiveSockets {
    pub fn with_limit(max_total: usize) -> Self {
        Self {
            next: Default::default(),
            open: Default::default(),
            max_total: max_total.max(1),
        }
    }

    /// Admits a socket of `user` on `session` (its token hash) at the handshake, if the
    /// account holds fewer than `per_user` and the server fewer than its limit. Checked and
    /// counted under one lock, so concurrent handshakes cannot overshoot.
    pub fn admit(
        self: &Arc<Self>,
        user: &str,
        session: &str,
        per_user: usize,
    ) -> Result<SocketTicket, SocketsFull> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.max_total {
            return Err(SocketsFull::Server);
        }
        if open.by_user.get(user).map_or(0, Vec::len) >= per_user {
            return Err(SocketsFull::Account);
        }
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        open.by_user
            .entry(user.to_string())
            .or_default()
            .push(OpenSocket {
                id,
                session: session.to_string(),
                end: None,
                ended: false,
            });
        open.total += 1;
        Ok(SocketTicket {
            sockets: self.clone(),
            user: user.to_string(),
            id,
        })
    }

    /// Closes `user`'s sockets: those on `session` only, or all but `except`, or all.
    pub fn end(&self, user: &str, which: EndSockets<'_>) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        for socket in open.by_user.get_mut(user).into_iter().flatten() {
            let hit = match which {
                EndSockets::Session(s) => socket.session == s,
                EndSockets::AllBut(s) => socket.session != s,
                EndSockets::All => true,
            };
            if hit {
                match &socket.end {
                    Some(end) => end(),
                    None => socket.ended = true,
                }
            }
        }
    }

    /// Sockets open for `user` now.
    pub fn count(&self, user: &str) -> usize {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.by_user.get(user).map_or(0, Vec::len)
    }

    /// Sockets open in this process now.
    pub fn total(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

impl SocketTicket {
    /// How to close this socket when its access ends (called at once if it already has).
    pub fn on_end(&self, end: impl Fn() + Send + Sync + 'static) {
        let mut open = self.sockets.open.lock().unwrap_or_else(|e| e.into_inner());
        let socket = open
            .by_user
            .get_mut(&self.user)
            .and_then(|list| list.iter_mut().find(|s| s.id == self.id));
        if let Some(socket) = socket {
            if socket.ended {
                end();
            } else {
                socket.end = Some(Box::new(end));
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum EndSockets<'a> {
    Session(&'a str),
    AllBut(&'a str),
    All,
}

impl Drop for SocketTicket {
    fn drop(&mut self) {
        let mut open = self.sockets.open.lock().unwrap_or_else(|e| e.into_inner());
        let mut removed = 0;
        if let Some(list) = open.by_user.get_mut(&self.user) {
            let before = list.len();
            list.retain(|s| s.id != self.id);
            removed = before - list.len();
            if list.is_empty() {
                open.by_user.remove(&self.user);
            }
        }
        open.total = open.total.saturating_sub(removed);
    }
}

/// At most `limit` concurrent holders per key (in this process).
#[derive(Debug)]
pub struct PerKeyLimit {
    limit: u32,
    held: std::sync::Mutex<std::collections::HashMap<String, u32>>,
}

impl PerKeyLimit {
    pub fn new(limit: u32) -> Self {
        Self {
            limit: limit.max(1),
            held: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// A slot for `key`, released when the guard drops; `None` when `key` holds them all.
    pub fn enter(self: &Arc<Self>, key: &str) -> Option<PerKeyGuard> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let n = held.entry(key.to_string()).or_insert(0);
        if *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(PerKeyGuard {
            owner: self.clone(),
            key: key.to_string(),
        })
    }
}

#[derive(Debug)]
pub struct PerKeyGuard {
    owner: Arc<PerKeyLimit>,
    key: String,
}

impl Drop for PerKeyGuard {
    fn drop(&mut self) {
        let mut held = self.owner.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = held.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.key);
            }
        }
    }
}

/// Runs `expressions` after `code` in the sandboxed engine, one [`TestRun`] per expression,
/// in order, never failing as a whole: a broken test run is reported in its [`TestRun`].
///
/// [`TestRun`]: crate::exercises::model::TestRun
pub trait Grader: Send + Sync + std::fmt::Debug {
    /// Runs `expressions` after `code`, in `language`'s engine, for `owner` (an account: the
    /// grader takes accounts in turn). `Err` only when the queue is full and nothing ran.
    fn run<'a>(
        &'a self,
        owner: &'a str,
        language: crate::exercises::model::Language,
        code: &'a str,
        expressions: &'a [String],
        limits: crate::exercises::model::Limits,
    ) -> std::pin::Pin<
        Box<
            dyn Future<Output = Result<Vec<crate::exercises::model::TestRun>, GraderFull>>
                + Send
                + 'a,
        >,
    >;
}

/// The grader's queue is full: nothing was run, the caller is told to try again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GraderFull;

impl AppState {
    /// The state of the current request.
    pub fn get() -> Result<AppState, crate::error::AppError> {
        leptos::prelude::use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the Leptos context");
            crate::error::AppError::Internal
        })
    }
}

/// A token bucket: `burst` tokens, refilled at `rate` per second.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    /// When it was last taken from (the limiter forgets buckets idle long enough to be full).
    pub at: std::time::Instant,
}

impl TokenBucket {
    pub fn new(rate_per_sec: f64, burst: f64, now: std::time::Instant) -> Self {
        Self {
            rate: rate_per_sec,
            burst: burst.max(1.0),
            tokens: burst.max(1.0),
            at: now,
        }
    }

    /// Takes one token; on refusal, the whole seconds until one is available.
    pub fn take(&mut self, now: std::time::Instant) -> Result<(), u64> {
        self.take_n(1.0, now)
    }

    /// Takes `n` tokens (e.g. bytes); on refusal, the whole seconds until they are available.
    pub fn take_n(&mut self, n: f64, now: std::time::Instant) -> Result<(), u64> {
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= n {
            self.tokens -= n;
            Ok(())
        } else {
            Err(((n - self.tokens) / self.rate.max(f64::EPSILON)).ceil() as u64)
        }
    }
}
