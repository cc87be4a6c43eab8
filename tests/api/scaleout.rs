//! Several app servers on one real SurrealDB server (`surreal start`, built from crates.io by
//! tests/surreal), behind a real nginx round-robining between them with the deployment's own
//! proxy settings (deploy/nginx), no sticky sessions: what one server does, the other sees.

use std::{path::PathBuf, process::Stdio, sync::Arc, time::Duration};

use reqwest::StatusCode;

use app::realtime::ServerMessage;

use crate::{
    helpers::{Browser, Received, TestApp, body_json, free_port, server_binary, spawn_app_with},
    mentoring::{book, learner, mentor, mentored, request_form},
    nginx::Nginx,
    pairing::co_editing_converges,
    rooms::{busy_rooms, chat_exactly_once},
};

/// The `surreal` binary `make test` builds (tests/surreal, profile `surreal-test`), or the
/// one PAIRWISE_SURREAL_BIN names.
pub(crate) fn surreal_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("PAIRWISE_SURREAL_BIN") {
        return PathBuf::from(path);
    }
    // target/debug/pairwise → target/surreal-test/surreal
    let target = server_binary()
        .parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .to_path_buf();
    let bin = target.join("surreal-test").join("surreal");
    assert!(
        bin.exists(),
        "{} is missing: `make unit` builds it (cargo build -p pairwise-surreal --profile surreal-test)",
        bin.display()
    );
    bin
}

/// A SurrealDB server of its own on a free port, root user `root`/`root`: in memory, or on a
/// SurrealKV folder that outlives a kill.
pub(crate) struct Surreal {
    child: Option<tokio::process::Child>,
    port: u16,
    store: String,
    pub(crate) url: String,
}

impl Surreal {
    pub(crate) async fn start() -> Self {
        Self::start_on("memory".to_string()).await
    }

    async fn start_on(store: String) -> Self {
        let port = free_port();
        let mut db = Surreal {
            child: None,
            port,
            store,
            url: format!("ws://127.0.0.1:{port}"),
        };
        // A port found free can be taken by another test before the server binds it: the
        // server then exits, and starts again on another.
        for _ in 0..3 {
            if db.start_answering().await {
                return db;
            }
            db.port = free_port();
            db.url = format!("ws://127.0.0.1:{}", db.port);
        }
        panic!("the surreal server did not start");
    }

    /// Starts the server again, on the same port and data.
    async fn revive(&mut self) {
        assert!(
            self.start_answering().await,
            "the surreal server did not answer on port {}",
            self.port
        );
    }

    /// Starts the server; whether it answers its health check (within a minute: many tests
    /// start one at once on two cores) rather than exiting.
    async fn start_answering(&mut self) -> bool {
        let child = tokio::process::Command::new(surreal_binary())
            .args(["start", "--bind"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args([
                "--user",
                "root",
                "--pass",
                "root",
                "--no-banner",
                "--log",
                "warn",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the surreal server starts");
        let health = format!("http://127.0.0.1:{}/health", self.port);
        let child = self.child.insert(child);
        let client = reqwest::Client::new();
        for _ in 0..1200 {
            if let Ok(r) = client.get(&health).send().await
                && r.status() == StatusCode::OK
            {
                return true;
            }
            if matches!(child.try_wait(), Ok(Some(_))) {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// SIGKILL, and waits until it is gone.
    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }
}

impl Drop for Surreal {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}

/// What every app server of a cluster on `db`, published at `public`, is started with.
fn settings<'a>(db: &'a Surreal, public: &'a str) -> [(&'static str, &'a str); 7] {
    [
        ("PAIRWISE_DATABASE_URL", db.url.as_str()),
        ("PAIRWISE_DATABASE_USER", "root"),
        ("PAIRWISE_DATABASE_PASSWORD", "root"),
        ("PAIRWISE_DATABASE_NAMESPACE", "pairwise"),
        ("PAIRWISE_DATABASE_NAME", "main"),
        ("PAIRWISE_PUBLIC_URL", public),
        ("PAIRWISE_TRUSTED_PROXIES", "127.0.0.1/32"),
    ]
}

/// Two app servers on one SurrealDB server and one database, behind nginx.
struct Cluster {
    /// Each app server, reached directly (with the public origin, as the proxy forwards it).
    a: TestApp,
    b: TestApp,
    /// Both, through the proxy: consecutive requests land on alternate servers.
    front: TestApp,
    _nginx: Nginx,
    db: Surreal,
}

impl Cluster {
    async fn start() -> Self {
        Self::on(Surreal::start().await).await
    }

    async fn on(db: Surreal) -> Self {
        let port = free_port();
        let public = format!("http://127.0.0.1:{port}");
        let settings = settings(&db, &public);
        // Both at once, as an operator's `systemctl start` would: they race to apply the
        // migrations to the empty database, and both must come up.
        let (a, b) = tokio::join!(spawn_app_with(&settings), spawn_app_with(&settings));
        let (a, b) = (a.with_origin(&public), b.with_origin(&public));
        let upstreams = [
            a.base.trim_start_matches("http://").to_string(),
            b.base.trim_start_matches("http://").to_string(),
        ];
        let nginx = Nginx::start(port, &[&upstreams[0], &upstreams[1]]).await;
        let front = a.through(&public);
        Cluster {
            a,
            b,
            front,
            _nginx: nginx,
            db,
        }
    }

    async fn stop(self) {
        self.a.stop().await;
        self.b.stop().await;
    }
}

async fn me(app: &TestApp, who: &Browser) -> serde_json::Value {
    body_json(app.call(who, "current_user", &[]).await).await
}

#[tokio::test]
async fn a_session_begun_on_one_server_works_on_the_other_and_ends_on_both_at_sign_out() {
    let c = Cluster::start().await;
    // Sign-up, the confirmation link and sign-in go through the proxy, so across both servers.
    let kim = c.front.user_with_roles("kim@example.org", &[]).await;
    assert_eq!(me(&c.a, &kim).await["email"], "kim@example.org");
    assert_eq!(me(&c.b, &kim).await["email"], "kim@example.org");
    for _ in 0..6 {
        assert_eq!(me(&c.front, &kim).await["email"], "kim@example.org");
    }
    // A change made on one server is read on the other.
    let res =
        c.a.call(
            &kim,
            "update_profile",
            &[
                ("display_name", "Kim on A"),
                ("bio", ""),
                ("skills", ""),
                ("languages", "en"),
                ("timezone", "Europe/Berlin"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(me(&c.b, &kim).await["display_name"], "Kim on A");

    // The live socket upgrades through the proxy.
    c.front
        .live(&kim, None)
        .await
        .expect("the notification socket opens through nginx");

    // Signed out on B, the same cookie is nobody on A at once.
    let cookie = kim.cookie_header();
    let res = c.b.call(&kim, "sign_out", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let replayed = Browser::with_cookie_header(&cookie);
    assert_eq!(me(&c.a, &replayed).await, serde_json::Value::Null);
    assert_eq!(me(&c.front, &replayed).await, serde_json::Value::Null);
    c.stop().await;
}

#[tokio::test]
async fn a_booking_race_across_two_servers_makes_exactly_one_booking() {
    let c = Cluster::start().await;
    let (m, mentor_id) = mentor(&c.front, "mentor-race", "30").await;
    let mut learners = Vec::new();
    for i in 0..20 {
        let l = learner(&c.front, &format!("racer{i}")).await;
        let ms = mentored(&c.front, &m, &mentor_id, &l).await;
        learners.push((l, ms));
    }
    let page = body_json(
        c.front
            .call(&learners[0].0, "get_mentorship", &[("id", &learners[0].1)])
            .await,
    )
    .await;
    let start = page["slots"][0]["start"]
        .as_str()
        .expect("a free slot")
        .to_string();
    // Half the learners press "book" on server A, half on server B, all at once.
    let servers = [
        Arc::new(c.a.through(&c.a.base)),
        Arc::new(c.b.through(&c.b.base)),
    ];
    let attempts = learners.into_iter().enumerate().map(|(i, (l, ms))| {
        let (server, start) = (servers[i % 2].clone(), start.clone());
        tokio::spawn(async move { book(&server, &l, &ms, &start).await.status() })
    });
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.expect("joined"));
    }
    assert_eq!(
        statuses.iter().filter(|s| s.is_success()).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| s.is_success()
            || *s == StatusCode::CONFLICT
            || *s == StatusCode::UNPROCESSABLE_ENTITY),
        "the others are refused in words: {statuses:?}"
    );
    let booked: Option<i64> =
        c.a.state
            .db
            .query("RETURN array::len((SELECT VALUE id FROM booking WHERE state = 'booked'))")
            .await
            .expect("count")
            .take(0)
            .expect("n");
    assert_eq!(booked, Some(1));
    c.stop().await;
}

#[tokio::test]
async fn a_notification_made_through_one_server_reaches_a_socket_on_the_other_within_a_second() {
    let c = Cluster::start().await;
    let (m, mentor_id) = mentor(&c.front, "mentor-far", "3").await;
    let l = learner(&c.front, "learner-near").await;
    // The mentor's bell is a socket on server B.
    let mut bell = c.b.live(&m, None).await.expect("the mentor's socket on B");
    bell.greeted().await;
    // The learner's request is made on server A, which notifies the mentor.
    let sent = std::time::Instant::now();
    let res =
        c.a.call(&l, "send_request", &request_form(&mentor_id, "Async Rust"))
            .await;
    assert!(res.status().is_success(), "{}", res.status());
    let unread = loop {
        match bell.recv().await {
            Received::Message(ServerMessage::Notifications { unread, .. }) => break unread,
            Received::Message(_) => continue,
            Received::Closed(code) => panic!("the socket closed ({code:?})"),
        }
    };
    let took = sent.elapsed();
    assert_eq!(unread, 1);
    assert!(
        took < Duration::from_secs(1),
        "the notification reached server B's socket after {took:?}"
    );
    c.stop().await;
}

#[tokio::test]
async fn signing_out_on_one_server_closes_that_sessions_sockets_on_the_other_at_once() {
    let c = Cluster::start().await;
    let kim = c
        .front
        .user_with_roles("kim-sockets@example.org", &[])
        .await;
    let mut on_a = c.a.live(&kim, None).await.expect("a socket on A");
    on_a.greeted().await;
    let res = c.b.call(&kim, "sign_out", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Closed with "access ended" well before A's periodic recheck would have noticed.
    loop {
        match on_a.recv().await {
            Received::Closed(code) => {
                assert_eq!(code, Some(app::realtime::close::ACCESS_ENDED));
                break;
            }
            Received::Message(_) => continue,
        }
    }
    c.stop().await;
}

async fn ready(app: &TestApp) -> StatusCode {
    match Browser::new().get(app.url("/readyz")).send().await {
        Ok(res) => res.status(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Waits up to `limit` for `/readyz` to answer `want`.
async fn until_ready_is(app: &TestApp, want: StatusCode, limit: Duration) {
    let until = std::time::Instant::now() + limit;
    loop {
        let got = ready(app).await;
        if got == want {
            return;
        }
        assert!(
            std::time::Instant::now() < until,
            "/readyz still answers {got}, not {want}, after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_database_restart_makes_the_servers_not_ready_then_they_recover_by_themselves() {
    let store = tempfile::tempdir().expect("temp dir");
    let db = Surreal::start_on(format!("surrealkv://{}", store.path().join("db").display())).await;
    let mut c = Cluster::on(db).await;
    let (m, mentor_id) = mentor(&c.front, "mentor-restart", "3").await;
    let l = learner(&c.front, "learner-restart").await;

    c.db.kill().await;
    for server in [&c.a, &c.b] {
        until_ready_is(
            server,
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(10),
        )
        .await;
    }
    c.db.revive().await;
    for server in [&c.a, &c.b] {
        until_ready_is(server, StatusCode::OK, Duration::from_secs(30)).await;
    }
    // Nothing acknowledged before the kill is lost, and each server follows the other's
    // changes again: a notification made on A reaches the mentor's socket on B.
    assert_eq!(me(&c.a, &m).await["email"], "mentor-restart@example.org");
    let mut bell = c.b.live(&m, None).await.expect("the mentor's socket on B");
    bell.greeted().await;
    let until = std::time::Instant::now() + Duration::from_secs(15);
    // The follower subscribes again within its back-off; a request made before that is read
    // when it does (every socket re-reads after a gap), so one request is enough.
    let res =
        c.a.call(
            &l,
            "send_request",
            &request_form(&mentor_id, "After the restart"),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    loop {
        match bell.recv().await {
            Received::Message(ServerMessage::Notifications { unread: 1, .. }) => break,
            Received::Message(_) => {}
            Received::Closed(code) => panic!("the socket closed ({code:?})"),
        }
        assert!(std::time::Instant::now() < until, "no notification on B");
    }
    c.stop().await;
}

/// Three rooms whose members connect through the proxy, so each room has members on both
/// servers, chat for a while; every tenth member drops its connection twice and comes back
/// through the proxy (on the other server, as round-robin goes), asking for what it missed
/// and resending what was not acked. Everyone gets every acked message once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_across_two_servers_with_reconnects_through_the_proxy_loses_and_repeats_nothing() {
    let c = Cluster::start().await;
    let front = Arc::new(c.front);
    let busy = busy_rooms(&front, "across", 3, 8).await;
    let acked = chat_exactly_once(&front, &busy, Duration::from_secs(6), false).await;
    eprintln!("{acked} messages acked across two servers");
    drop(front);
    c.a.stop().await;
    c.b.stop().await;
}

/// Members chat through the proxy while one of the two app servers is killed (SIGKILL, a real
/// process): its members' connections break, they reconnect through the proxy to the other
/// server, resume since their last message and resend what was not acked. Every message
/// either server acked reaches every member exactly once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_an_app_server_mid_chat_loses_no_acknowledged_message() {
    let db = Surreal::start().await;
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let settings = settings(&db, &public);
    let a = spawn_app_with(&settings).await.with_origin(&public);
    let data = tempfile::tempdir().expect("temp dir");
    let mut b = crate::durability::start_with(data.path(), &settings).await;
    let upstreams = [
        a.base.trim_start_matches("http://").to_string(),
        b.base.trim_start_matches("http://").to_string(),
    ];
    let _nginx = Nginx::start(port, &[&upstreams[0], &upstreams[1]]).await;
    let front = Arc::new(a.through(&public));
    let busy = busy_rooms(&front, "kill", 2, 8).await;
    let killer = tokio::spawn(async move {
        // A third of the way into the chat.
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        b.child.start_kill().expect("SIGKILL the server");
        b.child.wait().await.expect("it ends");
    });
    let acked = chat_exactly_once(&front, &busy, Duration::from_secs(6), true).await;
    killer.await.expect("the server was killed");
    eprintln!("{acked} messages acked while one of two servers was killed");
    drop(front);
    a.stop().await;
}

/// Three editors of one room's shared code, on server A, server B and through the proxy, type
/// at once while dropping off and coming back: every editor and both servers' copies end with
/// the same text (each server applies and relays the room's one ordered log).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editors_on_two_servers_co_edit_the_shared_code_and_converge() {
    let c = Cluster::start().await;
    let r = crate::rooms::room(&c.front, "pair-across").await;
    co_editing_converges([&c.a, &c.b, &c.front], &r, &[&c.a, &c.b]).await;
    c.stop().await;
}

/// A host on server A and a guest on server B: each learns of the other (from the other
/// server's note), they negotiate a call through both servers, a language change made on one
/// shows on the other, and leaving shows too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_on_two_servers_see_each_other_signal_and_leave() {
    use app::rooms::{
        code::model::CodeLanguage,
        model::{RoomClientMessage as C, RoomServerMessage as S},
    };
    let c = Cluster::start().await;
    let r = crate::rooms::room(&c.front, "call-across").await;
    let (mut a, a_id) = crate::rooms::join(&c.a, &r.host, &r.id, "").await;
    let (mut b, b_id) = crate::rooms::join(&c.b, &r.guest, &r.id, "").await;
    let joined = a
        .until(|m| match m {
            S::PeerJoined { peer } => Some(peer.clone()),
            _ => None,
        })
        .await;
    assert_eq!(joined.peer_id, b_id, "A's member hears of B's");
    assert!(!joined.host);
    let known = b
        .until(|m| match m {
            S::PeerJoined { peer } if peer.peer_id == a_id => Some(peer.clone()),
            _ => None,
        })
        .await;
    assert!(known.host, "B's member hears of A's, the host");

    crate::rooms::negotiate(&mut a, &a_id, &mut b, &b_id).await;

    b.send(&C::SetLanguage {
        language: CodeLanguage::Python,
    })
    .await;
    let language = a
        .until(|m| match m {
            S::CodeLanguage { language, .. } => Some(*language),
            _ => None,
        })
        .await;
    assert_eq!(language, CodeLanguage::Python);

    drop(b);
    a.until(|m| match m {
        S::PeerLeft { peer_id } if *peer_id == b_id => Some(()),
        _ => None,
    })
    .await;
    drop(a);
    c.stop().await;
}
