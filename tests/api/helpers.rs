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
        ("PAIRWISE_WRITE_RATE", "100000".to_string()),
        ("PAIRWISE_WRITE_BURST", "100000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    env
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let env = test_env(extra);
    let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test configuration");
    server::telemetry::init("warn", server::config::LogFormat::Text);
    let app = Application::build(config).await.expect("the app builds");
    let addr = app.local_addr();
    let state = app.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp {
        state,
        base: format!("http://{addr}"),
        stop: Some(stop),
        task: Some(task),
    }
}

impl TestApp {
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
            .header("origin", &self.base)
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn sign_up(&self, client: &Browser, email: &str, password: &str) -> Response {
        self.call(
            client,
            "sign_up",
            &[
                ("email", email),
                ("display_name", "Test User"),
                ("password", password),
            ],
        )
        .await
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
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
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

    pub fn form<T: serde::Serialize + ?Sized>(self, form: &T) -> Self {
        Req {
            inner: self.inner.form(form),
            ..self
        }
    }

    pub async fn send(self) -> reqwest::Result<Response> {
        let cookies = self
            .browser
            .jar
            .lock()
            .expect("jar")
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
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
