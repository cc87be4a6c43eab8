//! Server-side state shared by every request (server only).

use std::{sync::Arc, time::Duration};

use surrealdb::{Surreal, engine::any::Any};

use crate::accounts::model::DemoAccount;

/// The one database handle type: the same code runs embedded, in memory and against a server.
pub type Db = Surreal<Any>;

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

/// Each user's live sockets: a subscription id and the socket's wake-up queue.
type Subscribers = std::collections::HashMap<String, Vec<(u64, tokio::sync::mpsc::Sender<()>)>>;

/// Wakes a user's live sockets when something new is for them. A wake-up carries no data:
/// the socket reads the current unread count itself, so a queue of one per socket is enough
/// and a socket that does not read cannot make anything grow.
#[derive(Debug, Default)]
pub struct Notifier {
    subs: std::sync::Mutex<Subscribers>,
    next: std::sync::atomic::AtomicU64,
}

impl Notifier {
    pub fn subscribe(&self, user: &str) -> (u64, tokio::sync::mpsc::Receiver<()>) {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut subs = self.subs.lock().unwrap_or_else(|e| e.into_inner());
        subs.entry(user.to_string()).or_default().push((id, tx));
        (id, rx)
    }

    pub fn unsubscribe(&self, user: &str, id: u64) {
        let mut subs = self.subs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(list) = subs.get_mut(user) {
            list.retain(|(i, _)| *i != id);
            if list.is_empty() {
                subs.remove(user);
            }
        }
    }

    /// Something changed for these users: wake their sockets (a full queue already means
    /// "look again", so it is left as it is).
    pub fn poke<'a>(&self, users: impl IntoIterator<Item = &'a str>) {
        let subs = self.subs.lock().unwrap_or_else(|e| e.into_inner());
        for user in users {
            for (_, tx) in subs.get(user).into_iter().flatten() {
                let _ = tx.try_send(());
            }
        }
    }
}

/// Open live sockets (`/ws` and room sockets) by user and session, so that access which
/// ends closes them at once rather than at their next message: a sign-out ends that
/// session's sockets, a password change the user's other sessions', a role change all of them
/// (they reconnect and are authorised afresh).
#[derive(Default)]
pub struct LiveSockets {
    next: std::sync::atomic::AtomicU64,
    open: std::sync::Mutex<std::collections::HashMap<String, Vec<OpenSocket>>>,
}

struct OpenSocket {
    id: u64,
    session: String,
    end: Box<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for LiveSockets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSockets").finish_non_exhaustive()
    }
}

/// A registered socket; dropping it unregisters.
pub struct SocketTicket {
    sockets: Arc<LiveSockets>,
    user: String,
    id: u64,
}

impl LiveSockets {
    /// Registers a socket of `user` on `session` (its token hash); `end` closes it.
    pub fn open(
        self: &Arc<Self>,
        user: &str,
        session: &str,
        end: impl Fn() + Send + Sync + 'static,
    ) -> SocketTicket {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.entry(user.to_string()).or_default().push(OpenSocket {
            id,
            session: session.to_string(),
            end: Box::new(end),
        });
        SocketTicket {
            sockets: self.clone(),
            user: user.to_string(),
            id,
        }
    }

    /// Closes `user`'s sockets: those on `session` only, or all but `except`, or all.
    pub fn end(&self, user: &str, which: EndSockets<'_>) {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        for socket in open.get(user).into_iter().flatten() {
            let hit = match which {
                EndSockets::Session(s) => socket.session == s,
                EndSockets::AllBut(s) => socket.session != s,
                EndSockets::All => true,
            };
            if hit {
                (socket.end)();
            }
        }
    }

    /// Sockets open for `user` now.
    pub fn count(&self, user: &str) -> usize {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(user).map_or(0, Vec::len)
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
        if let Some(list) = open.get_mut(&self.user) {
            list.retain(|s| s.id != self.id);
            if list.is_empty() {
                open.remove(&self.user);
            }
        }
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
    /// Runs `expressions` after `code` for `owner` (an account: the grader takes accounts in
    /// turn). `Err` only when the queue is full and nothing ran.
    fn run<'a>(
        &'a self,
        owner: &'a str,
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
