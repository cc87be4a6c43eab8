//! Boots the app for a test and talks to it like a client would.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::atomic::{AtomicUsize, Ordering},
};

use std::sync::{Arc, Mutex};

use app::{accounts::model::Role, state::AppState};
use reqwest::{Response, StatusCode};
use server::{config::Config, startup::Application};
use tokio::sync::oneshot;

static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

pub struct TestApp {
    /// The app's own state: its database handle, for checking what was stored.
    pub state: AppState,
    pub base: String,
    /// The origin its requests say they come from: its own address, or the public URL when it
    /// sits behind a proxy (`with_origin`).
    pub origin: String,
    /// Where its uploads are stored.
    pub media_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// The variables every test app gets; `extra` overrides them.
fn test_env(extra: &[(&str, &str)]) -> HashMap<String, String> {
    let n = NEXT_DB.fetch_add(1, Ordering::SeqCst);
    let mut env: HashMap<String, String> = [
        ("PAIRWISE_ADDR", "127.0.0.1:0".to_string()),
        ("PAIRWISE_DATABASE_URL", "mem://".to_string()),
        // A namespace per app: tests in one process never see each other's data.
        (
            "PAIRWISE_DATABASE_NAMESPACE",
            format!("test{n}_{}", std::process::id()),
        ),
        ("PAIRWISE_LOG", "warn".to_string()),
        // Uploaded media go to a directory of this test's own.
        (
            "PAIRWISE_DATA_DIR",
            std::env::temp_dir()
                .join(format!("pairwise-test-{}-{n}", std::process::id()))
                .display()
                .to_string(),
        ),
        // The grader built beside the server binary (`make build` builds both).
        (
            "PAIRWISE_GRADER",
            server_binary()
                .with_file_name("pairwise-grader")
                .display()
                .to_string(),
        ),
        ("PAIRWISE_WRITE_RATE", "100000".to_string()),
        ("PAIRWISE_WRITE_BURST", "100000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    // `make unit` runs a chosen set of tests a second time on a SurrealDB server
    // (.ci/on-surreal.sh): the same tests, over the network protocol a cluster uses.
    if let Ok(url) = std::env::var("PAIRWISE_TEST_DATABASE_URL") {
        env.insert("PAIRWISE_DATABASE_URL".into(), url);
        env.insert("PAIRWISE_DATABASE_USER".into(), "root".into());
        env.insert("PAIRWISE_DATABASE_PASSWORD".into(), "root".into());
    }
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    env
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    spawn_app_full(extra, None).await
}

/// An app whose clock the test moves by hand.
pub async fn spawn_app_with_clock(clock: Arc<ManualClock>) -> TestApp {
    spawn_app_full(&[], Some(clock)).await
}

/// Both: settings and a clock the test moves.
pub async fn spawn_app_with_clock_and(clock: Arc<ManualClock>, extra: &[(&str, &str)]) -> TestApp {
    spawn_app_full(extra, Some(clock)).await
}

async fn spawn_app_full(extra: &[(&str, &str)], clock: Option<Arc<ManualClock>>) -> TestApp {
    let env = test_env(extra);
    let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test configuration");
    let media_dir = config.media_dir();
    server::telemetry::init("warn", server::config::LogFormat::Text);
    let overrides = server::startup::Overrides {
        clock: clock.map(|c| c as Arc<dyn app::state::Clock>),
    };
    let app = Application::build_with(config, overrides)
        .await
        .expect("the app builds");
    let addr = app.local_addr();
    let state = app.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp {
        state,
        base: format!("http://{addr}"),
        origin: format!("http://{addr}"),
        media_dir,
        stop: Some(stop),
        task: Some(task),
    }
}

impl TestApp {
    /// This app as its users reach it at `public` (a proxy in front, whose origin the app was
    /// told is its own with PAIRWISE_PUBLIC_URL): requests still go straight to the app.
    pub fn with_origin(mut self, public: &str) -> Self {
        self.origin = public.to_string();
        self
    }

    /// The same app (its state, for reading the database) reached at another address, e.g. a
    /// proxy that spreads requests over this and other app servers. Stopping the view stops
    /// nothing.
    pub fn through(&self, base: &str) -> TestApp {
        TestApp {
            state: self.state.clone(),
            base: base.to_string(),
            origin: self.origin.clone(),
            media_dir: self.media_dir.clone(),
            stop: None,
            task: None,
        }
    }

    /// A new "browser": its own cookie jar.
    pub fn browser(&self) -> Browser {
        Browser::new()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Calls a server function by its path, as the app's own pages do (same origin, JSON back).
    pub async fn call(&self, client: &Browser, name: &str, form: &[(&str, &str)]) -> Response {
        client
            .post(self.url(&format!("/api/{name}")))
            .header("origin", &self.origin)
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("request sent")
    }

    /// Signs up and confirms the address the way its owner does (the link from the mail in
    /// the outbox), which also signs `client` in. Returns the confirmation's answer (with the
    /// session cookie), or the sign-up's answer when that was refused.
    pub async fn sign_up(&self, client: &Browser, email: &str, password: &str) -> Response {
        let res = self.sign_up_unconfirmed(client, email, password).await;
        if res.status() != StatusCode::OK {
            return res;
        }
        let token = self.mailed_token(email, "verify-email?token=").await;
        self.call(client, "verify_email", &[("token", &token)])
            .await
    }

    /// Only the sign-up form: the account exists, unconfirmed and not signed in.
    pub async fn sign_up_unconfirmed(
        &self,
        client: &Browser,
        email: &str,
        password: &str,
    ) -> Response {
        self.call(
            client,
            "sign_up",
            &[
                ("email", email),
                ("display_name", "Test User"),
                ("password", password),
                ("accept", "yes"),
            ],
        )
        .await
    }

    /// The token after `marker` in the newest mail queued for `email`.
    pub async fn mailed_token(&self, email: &str, marker: &str) -> String {
        let bodies: Vec<String> = self
            .state
            .db
            .query("SELECT VALUE body FROM outbox WHERE to = $to ORDER BY created_at DESC")
            .bind(("to", email.to_lowercase()))
            .await
            .expect("outbox read")
            .take(0)
            .expect("bodies");
        bodies
            .iter()
            .find_map(|b| {
                let at = b.find(marker)? + marker.len();
                Some(
                    b[at..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric())
                        .collect(),
                )
            })
            .unwrap_or_else(|| panic!("no mail with {marker} for {email}: {bodies:?}"))
    }

    pub async fn sign_in(&self, client: &Browser, email: &str, password: &str) -> Response {
        self.call(
            client,
            "sign_in",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// A signed-in browser for a new user holding `roles` (granted by a fresh admin).
    pub async fn user_with_roles(&self, email: &str, roles: &[&str]) -> Browser {
        let browser = self.browser();
        let res = self
            .sign_up(&browser, email, "a perfectly fine passphrase")
            .await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{}",
            res.text().await.unwrap_or_default()
        );
        if !roles.is_empty() {
            let admin = self.admin().await;
            let me = body_json(self.call(&browser, "current_user", &[]).await).await;
            let id = me["id"].as_str().expect("user id").to_string();
            for role in roles {
                let res = self
                    .call(
                        &admin,
                        "set_user_role",
                        &[("user_id", &id), ("role", role), ("granted", "true")],
                    )
                    .await;
                assert_eq!(res.status(), StatusCode::OK);
            }
        }
        browser
    }

    /// A signed-in admin browser (the account is created through the same code as
    /// `pairwise admin create`).
    pub async fn admin(&self) -> Browser {
        let n = NEXT_DB.fetch_add(1, Ordering::SeqCst);
        let email = format!("admin{n}@pairwise.test");
        server::demo::create_account(
            &self.state,
            &email,
            "Test Admin",
            "an administrator passphrase",
            &[Role::Admin],
        )
        .await
        .expect("admin created");
        let browser = self.browser();
        let res = self
            .sign_in(&browser, &email, "an administrator passphrase")
            .await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{}",
            res.text().await.unwrap_or_default()
        );
        browser
    }

    /// Opens the live socket as `browser` would from `origin` (the app's own when `None`).
    /// A refused handshake comes back as `Err(status, body)`.
    pub async fn live(
        &self,
        browser: &Browser,
        origin: Option<&str>,
    ) -> Result<Live, (u16, String)> {
        Ok(Live {
            ws: self.websocket("/ws", browser, origin).await?,
        })
    }

    /// Opens room `room`'s socket (`query` is appended as is, e.g. `?since=3`).
    pub async fn room_socket(
        &self,
        browser: &Browser,
        room: &str,
        query: &str,
        origin: Option<&str>,
    ) -> Result<RoomSocket, (u16, String)> {
        Ok(RoomSocket {
            ws: self
                .websocket(&format!("/rooms/{room}/ws{query}"), browser, origin)
                .await?,
        })
    }

    async fn websocket(
        &self,
        path: &str,
        browser: &Browser,
        origin: Option<&str>,
    ) -> Result<WsStream, (u16, String)> {
        websocket_at(&self.base, path, browser, origin.or(Some(&self.origin))).await
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// The `pairwise` binary built next to this test (the Makefile builds it first).
pub fn server_binary() -> PathBuf {
    if let Ok(p) = std::env::var("PAIRWISE_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test binary path");
    // target/debug/deps/api-… → target/debug/pairwise
    exe.parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .join("pairwise")
}

/// A folder of this checkout, by its path from the repository root. Found at run time (cargo
/// and nextest set `CARGO_MANIFEST_DIR` for the test): the build-time path is another
/// checkout's when a build in a shared target directory is reused.
pub fn checkout_path(relative: &str) -> PathBuf {
    let tests = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    tests.join("..").join(relative)
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub async fn body_json(res: Response) -> serde_json::Value {
    let text = res.text().await.expect("a body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// An HTTP client that keeps cookies like a browser: it stores what `Set-Cookie` sets (and
/// forgets what `Max-Age=0` clears) and sends it back. Hand-written so the tests need no
/// extra reqwest features, which would rebuild the server's whole dependency graph.
#[derive(Clone)]
pub struct Browser {
    client: reqwest::Client,
    jar: Arc<Mutex<Vec<(String, String)>>>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// The `Cookie` header this browser would send.
    pub fn cookie_header(&self) -> String {
        self.jar
            .lock()
            .expect("jar")
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// A browser holding exactly these cookies (`a=1; b=2`), e.g. a copy taken earlier.
    pub fn with_cookie_header(cookies: &str) -> Self {
        let browser = Self::new();
        browser.jar.lock().expect("jar").extend(
            cookies
                .split("; ")
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        browser
    }

    pub fn new() -> Self {
        Self::with_client(reqwest::Client::builder())
    }

    /// A browser whose connections come from `local` (any 127.x.y.z is this machine), so a
    /// test can be two clients at two addresses.
    pub fn from_address(local: std::net::IpAddr) -> Self {
        Self::with_client(reqwest::Client::builder().local_address(local))
    }

    fn with_client(builder: reqwest::ClientBuilder) -> Self {
        let client = builder
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        Browser {
            client,
            jar: Arc::default(),
        }
    }

    pub fn get(&self, url: impl AsRef<str>) -> Req<'_> {
        Req {
            browser: self,
            inner: self.client.get(url.as_ref()),
        }
    }

    pub fn post(&self, url: impl AsRef<str>) -> Req<'_> {
        Req {
            browser: self,
            inner: self.client.post(url.as_ref()),
        }
    }

    fn keep(&self, res: &Response) {
        let mut jar = self.jar.lock().expect("jar");
        for set in res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let Some((name, rest)) = set.split_once('=') else {
                continue;
            };
            let value = rest.split(';').next().unwrap_or_default().to_string();
            jar.retain(|(k, _)| k != name);
            if !set.contains("Max-Age=0") {
                jar.push((name.to_string(), value));
            }
        }
    }
}

pub struct Req<'a> {
    browser: &'a Browser,
    inner: reqwest::RequestBuilder,
}

impl Req<'_> {
    pub fn header(self, name: &str, value: impl AsRef<str>) -> Self {
        Req {
            inner: self.inner.header(name, value.as_ref()),
            ..self
        }
    }

    pub fn body(self, body: impl Into<reqwest::Body>) -> Self {
        Req {
            inner: self.inner.body(body),
            ..self
        }
    }

    pub fn form<T: serde::Serialize + ?Sized>(self, form: &T) -> Self {
        Req {
            inner: self.inner.form(form),
            ..self
        }
    }

    pub async fn send(self) -> reqwest::Result<Response> {
        let cookies = self.browser.cookie_header();
        let inner = if cookies.is_empty() {
            self.inner
        } else {
            self.inner.header("cookie", cookies)
        };
        let res = inner.send().await?;
        self.browser.keep(&res);
        Ok(res)
    }
}

pub type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket client speaking the app's live protocol.
pub struct Live {
    ws: WsStream,
}

/// A client of a room socket.
pub struct RoomSocket {
    pub ws: WsStream,
}

/// What the next read from a room socket gave.
#[derive(Debug, PartialEq)]
pub enum RoomReceived {
    Message(app::rooms::model::RoomServerMessage),
    Closed(Option<u16>),
}

impl RoomSocket {
    pub async fn send(&mut self, msg: &app::rooms::model::RoomClientMessage) {
        self.send_text(serde_json::to_string(msg).expect("serialises"))
            .await;
    }

    pub async fn send_text(&mut self, text: String) {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        let _ = self.ws.send(Message::Text(text.into())).await;
    }

    /// The next message or close, waiting at most `secs` seconds (`None` on timeout).
    pub async fn recv_within(&mut self, secs: f64) -> Option<RoomReceived> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs_f64(secs);
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()?;
            return Some(match next {
                Some(Ok(Message::Text(text))) => RoomReceived::Message(
                    serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("not a room message ({e}): {text}")),
                ),
                Some(Ok(Message::Close(frame))) => {
                    RoomReceived::Closed(frame.map(|f| u16::from(f.code)))
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => RoomReceived::Closed(None),
            });
        }
    }

    /// The next message or close, waiting at most five seconds.
    pub async fn recv(&mut self) -> RoomReceived {
        self.recv_within(5.0)
            .await
            .expect("the server answered within five seconds")
    }

    /// Reads until a message matches `pick`, skipping others (presence, pings).
    pub async fn until<T>(
        &mut self,
        mut pick: impl FnMut(&app::rooms::model::RoomServerMessage) -> Option<T>,
    ) -> T {
        loop {
            match self.recv().await {
                RoomReceived::Message(m) => {
                    if let Some(t) = pick(&m) {
                        return t;
                    }
                }
                RoomReceived::Closed(code) => panic!("closed ({code:?}) while waiting"),
            }
        }
    }

    /// Reads until the socket closes; the close code.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            if let RoomReceived::Closed(code) = self.recv().await {
                return code;
            }
        }
    }
}

/// What the next read from a live socket gave.
#[derive(Debug, PartialEq)]
pub enum Received {
    Message(app::realtime::ServerMessage),
    /// The server closed the socket with this code (or dropped it: `None`).
    Closed(Option<u16>),
}

impl Live {
    /// Reads what every socket starts with: the welcome, then the unread count.
    pub async fn greeted(&mut self) {
        for _ in 0..2 {
            let got = self.recv().await;
            assert!(
                matches!(
                    got,
                    Received::Message(
                        app::realtime::ServerMessage::Welcome { .. }
                            | app::realtime::ServerMessage::Notifications { .. }
                    )
                ),
                "{got:?}"
            );
        }
    }

    pub async fn send(&mut self, msg: &app::realtime::ClientMessage) {
        self.send_text(serde_json::to_string(msg).expect("serialises"))
            .await;
    }

    pub async fn send_text(&mut self, text: String) {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        // The server may already have closed the socket; the next `recv` shows how.
        let _ = self.ws.send(Message::Text(text.into())).await;
    }

    /// The next message or close, waiting at most five seconds.
    pub async fn recv(&mut self) -> Received {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let next = tokio::time::timeout(std::time::Duration::from_secs(5), self.ws.next())
                .await
                .expect("the server answered within five seconds");
            match next {
                Some(Ok(Message::Text(text))) => {
                    return Received::Message(
                        serde_json::from_str(&text)
                            .unwrap_or_else(|e| panic!("not a server message ({e}): {text}")),
                    );
                }
                Some(Ok(Message::Close(frame))) => {
                    return Received::Closed(frame.map(|f| u16::from(f.code)));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Received::Closed(None),
            }
        }
    }
}

/// A clock that stands still until the test moves it.
#[derive(Debug)]
pub struct ManualClock(Mutex<chrono::DateTime<chrono::Utc>>);

impl ManualClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(chrono::Utc::now())))
    }
    pub fn advance(&self, secs: i64) {
        *self.0.lock().expect("clock") += chrono::Duration::seconds(secs);
    }
}

impl app::state::Clock for ManualClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().expect("clock")
    }
}

/// A WebSocket to `path` on the server at `base`, as `browser` (its cookies), from `origin`
/// (the server's own by default).
pub async fn websocket_at(
    base: &str,
    path: &str,
    browser: &Browser,
    origin: Option<&str>,
) -> Result<WsStream, (u16, String)> {
    use tokio_tungstenite::tungstenite::{Error, client::IntoClientRequest};
    let mut req = format!("{}{path}", base.replacen("http", "ws", 1))
        .into_client_request()
        .expect("a WebSocket request");
    let h = req.headers_mut();
    h.insert("origin", origin.unwrap_or(base).parse().expect("origin"));
    let cookies = browser.cookie_header();
    if !cookies.is_empty() {
        h.insert("cookie", cookies.parse().expect("cookie header"));
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(Error::Http(res)) => {
            let body = res
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            Err((res.status().as_u16(), body))
        }
        Err(e) => panic!("WebSocket handshake failed: {e}"),
    }
}
