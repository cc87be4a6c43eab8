//! The real `pairwise` binary on an embedded SurrealKV data directory: acknowledged writes
//! survive SIGKILL; backup then restore into an empty directory keeps every user.

use std::{
    path::Path,
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use reqwest::StatusCode;
use tokio::{
    io::AsyncWriteExt,
    process::{Child, Command},
};

use crate::helpers::{Browser, free_port, server_binary};

const GOOD: &str = "a perfectly fine passphrase";

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
}

pub(crate) fn command(data: &Path, port: u16) -> Command {
    let mut cmd = Command::new(server_binary());
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PAIRWISE_ADDR", format!("127.0.0.1:{port}"))
        .env("PAIRWISE_DATA_DIR", data)
        .env("PAIRWISE_LOG", "warn")
        .env("PAIRWISE_WRITE_RATE", "100000")
        .env("PAIRWISE_WRITE_BURST", "100000")
        .env("PAIRWISE_SHUTDOWN_GRACE", "5s")
        .kill_on_drop(true);
    cmd
}

async fn start(data: &Path) -> Server {
    start_with(data, &[]).await
}

/// The binary on `data` with extra settings, once it answers `/readyz`.
pub(crate) async fn start_with(data: &Path, extra: &[(&str, &str)]) -> Server {
    let port = free_port();
    let child = command(data, port)
        .envs(extra.iter().copied())
        .arg("serve")
        .stdout(Stdio::null())
        .spawn()
        .expect("the pairwise binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = Browser::new();
    for _ in 0..300 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status() == StatusCode::OK
        {
            return Server { child, base };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

pub(crate) async fn post(
    client: &Browser,
    base: &str,
    name: &str,
    form: &[(&str, &str)],
) -> Option<reqwest::Response> {
    client
        .post(format!("{base}/api/{name}"))
        .header("origin", base)
        .header("accept", "application/json")
        .form(form)
        .send()
        .await
        .ok()
}

async fn can_sign_in(base: &str, email: &str) -> bool {
    let client = Browser::new();
    matches!(post(&client, base, "sign_in", &[("email", email), ("password", GOOD)]).await,
        Some(r) if r.status() == StatusCode::OK)
}

#[tokio::test]
async fn sign_ups_acknowledged_before_a_sigkill_survive_the_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    for round in 0..3 {
        let mut server = start(dir.path()).await;
        let mut writers = Vec::new();
        for w in 0..8 {
            let base = server.base.clone();
            let acked = acked.clone();
            writers.push(tokio::spawn(async move {
                let client = Browser::new();
                for i in 0.. {
                    let email = format!("r{round}w{w}n{i}@example.org");
                    let form = [
                        ("email", email.as_str()),
                        ("display_name", "Durable"),
                        ("password", GOOD),
                        ("accept", "yes"),
                    ];
                    match post(&client, &base, "sign_up", &form).await {
                        Some(r) if r.status() == StatusCode::OK => {
                            acked.lock().expect("lock").push(email)
                        }
                        Some(_) => {}
                        None => break, // the server is gone
                    }
                }
            }));
        }
        // Let sign-ups flow, then kill the process mid-write, with no chance to flush.
        tokio::time::sleep(Duration::from_millis(1500 + round * 400)).await;
        server.child.kill().await.expect("SIGKILL");
        for w in writers {
            let _ = w.await;
        }
        let expected = acked.lock().expect("lock").clone();
        assert!(
            !expected.is_empty(),
            "round {round} acknowledged no sign-up; the test proves nothing"
        );

        let mut server = start(dir.path()).await;
        let mut lost = Vec::new();
        for email in &expected {
            if !can_sign_in(&server.base, email).await {
                lost.push(email.clone());
            }
        }
        assert!(
            lost.is_empty(),
            "round {round}: {} of {} acknowledged sign-ups lost: {lost:?}",
            lost.len(),
            expected.len()
        );
        server.child.kill().await.expect("stop");
    }
}

async fn stop_gracefully(mut server: Server) {
    if let Some(pid) = server.child.id() {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await;
    }
    let status = tokio::time::timeout(Duration::from_secs(15), server.child.wait()).await;
    assert!(
        matches!(status, Ok(Ok(s)) if s.success()),
        "graceful shutdown exits cleanly: {status:?}"
    );
}

async fn run_cli(data: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = command(data, free_port())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cli starts");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .await
            .expect("write stdin");
    }
    let out = child.wait_with_output().await.expect("cli ends");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "pairwise {args:?} failed: {text}");
    text
}

#[tokio::test]
async fn backup_then_restore_into_an_empty_directory_gives_the_same_users() {
    let original = tempfile::tempdir().expect("temp dir");
    let restored = tempfile::tempdir().expect("temp dir");
    let file = original.path().join("backup.surql");

    run_cli(
        original.path(),
        &[
            "admin",
            "create",
            "--email",
            "root@example.org",
            "--name",
            "Root",
        ],
        Some(&format!("{GOOD}\n")),
    )
    .await;
    let server = start(original.path()).await;
    let client = Browser::new();
    let emails: Vec<String> = (0..5).map(|i| format!("user{i}@example.org")).collect();
    for e in &emails {
        let r = post(
            &client,
            &server.base,
            "sign_up",
            &[
                ("email", e),
                ("display_name", "Backed Up"),
                ("password", GOOD),
                ("accept", "yes"),
            ],
        )
        .await;
        assert_eq!(r.map(|r| r.status()), Some(StatusCode::OK));
    }
    stop_gracefully(server).await;

    let out = run_cli(
        original.path(),
        &["backup", file.to_str().expect("utf-8 path")],
        None,
    )
    .await;
    assert!(out.contains("backup written"), "{out}");
    // It holds every password hash and session: readable by its owner only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file)
        .expect("backup")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let out = run_cli(
        restored.path(),
        &["restore", file.to_str().expect("utf-8 path")],
        None,
    )
    .await;
    assert!(out.contains("restored"), "{out}");
    // Restoring over data is refused in words.
    let refused = command(restored.path(), free_port())
        .args(["restore", file.to_str().expect("utf-8 path")])
        .output()
        .await
        .expect("runs");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not empty"));

    let server = start(restored.path()).await;
    for e in emails
        .iter()
        .chain(std::iter::once(&"root@example.org".to_string()))
    {
        assert!(
            can_sign_in(&server.base, e).await,
            "{e} can sign in after the restore"
        );
    }
    // The admin sees the same user list.
    let admin = Browser::new();
    post(
        &admin,
        &server.base,
        "sign_in",
        &[("email", "root@example.org"), ("password", GOOD)],
    )
    .await;
    let users = crate::helpers::body_json(
        post(&admin, &server.base, "list_users", &[])
            .await
            .expect("sent"),
    )
    .await;
    let mut listed: Vec<String> = users
        .as_array()
        .expect("a list")
        .iter()
        .map(|u| u["email"].as_str().unwrap_or_default().to_string())
        .collect();
    listed.sort();
    let mut all = emails.clone();
    all.push("root@example.org".into());
    all.sort();
    assert_eq!(listed, all);
    stop_gracefully(server).await;
}

/// Every row of every table, by table and record id.
async fn every_row(
    db: &app::db::Db,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, serde_json::Value>> {
    let mut res = db.query("INFO FOR DB").await.expect("info");
    let info: Option<serde_json::Value> = res
        .take::<Option<surrealdb::types::Value>>(0)
        .expect("info")
        .map(|v| v.into_json_value());
    let mut all = std::collections::BTreeMap::new();
    for table in info.expect("info")["tables"]
        .as_object()
        .expect("tables")
        .keys()
    {
        let mut res = db
            .query(format!("SELECT * FROM {table}"))
            .await
            .expect("rows");
        let rows: Vec<surrealdb::types::Value> = res.take(0).expect("rows");
        let rows = rows
            .into_iter()
            .map(|r| {
                let json = r.into_json_value();
                (json["id"].to_string(), json)
            })
            .collect();
        all.insert(table.clone(), rows);
    }
    all
}

async fn open(dir: &Path) -> app::db::Db {
    server::db::connect_db(&server::config::DatabaseConfig {
        url: format!("surrealkv://{}", dir.join("db").display()),
        user: None,
        password: None,
        namespace: "pairwise".into(),
        name: "main".into(),
    })
    .await
    .expect("the database opens")
}

#[tokio::test]
async fn a_backup_of_a_serving_server_during_writes_restores_to_one_instant() {
    let original = tempfile::tempdir().expect("temp dir");
    let restored = tempfile::tempdir().expect("temp dir");
    let file = original.path().join("during-writes.zip");
    let video = original.path().join("media/lesson-1/video.webm");
    std::fs::create_dir_all(video.parent().expect("folder")).expect("media folder");
    std::fs::write(&video, b"not really a video, but bytes to keep").expect("media");

    let server = start(original.path()).await;
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (base, acked, stop) = (server.base.clone(), acked.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let client = Browser::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let email = format!("w{w}-{i}@example.org");
                i += 1;
                let r = post(
                    &client,
                    &base,
                    "sign_up",
                    &[
                        ("email", &email),
                        ("display_name", "Writer"),
                        ("password", GOOD),
                        ("accept", "yes"),
                    ],
                )
                .await;
                if r.is_some_and(|r| r.status() == StatusCode::OK) {
                    acked.lock().expect("lock").push(email);
                }
            }
        }));
    }
    // Writes are flowing before, during and after the backup.
    while acked.lock().expect("lock").len() < 20 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before: Vec<String> = acked.lock().expect("lock").clone();
    // The CLI finds the running server (the embedded database is its) and has it write.
    let out = run_cli(
        original.path(),
        &["backup", file.to_str().expect("utf-8 path")],
        None,
    )
    .await;
    assert!(out.contains("backup written"), "{out}");
    let during = acked.lock().expect("lock").len();
    while acked.lock().expect("lock").len() < during + 20 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.expect("writer");
    }
    stop_gracefully(server).await;
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file)
        .expect("backup")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");

    let out = run_cli(
        restored.path(),
        &["restore", file.to_str().expect("utf-8 path")],
        None,
    )
    .await;
    assert!(out.contains("restored"), "{out}");
    assert_eq!(
        std::fs::read(restored.path().join("media/lesson-1/video.webm")).expect("media restored"),
        b"not really a video, but bytes to keep"
    );

    let live = every_row(&open(original.path()).await).await;
    let back = every_row(&open(restored.path()).await).await;
    // Every table is there, and every restored row is exactly the row the server still
    // holds (the write load only adds rows): nothing changed, nothing invented.
    assert_eq!(
        live.keys().collect::<Vec<_>>(),
        back.keys().collect::<Vec<_>>()
    );
    for (table, rows) in &back {
        for (id, row) in rows {
            assert_eq!(live[table].get(id), Some(row), "{table} {id}");
        }
    }
    // Everything acknowledged before the backup began is in it; some of what came after is
    // not (it was taken while writes went on).
    let users: Vec<String> = back["user"]
        .values()
        .filter_map(|u| u["email"].as_str().map(str::to_string))
        .collect();
    for e in &before {
        assert!(users.contains(e), "{e} signed up before the backup");
    }
    assert!(back["user"].len() < live["user"].len());
    // One instant: every user in it has the rest of its sign-up transaction in it too.
    for id in back["user"].keys() {
        let key = id.trim_matches('"');
        let has = |table: &str, field: &str| {
            back[table]
                .values()
                .any(|r| r[field].to_string().trim_matches('"') == key)
        };
        assert!(has("email_token", "user"), "{key}'s link");
        assert!(has("audit", "user"), "{key}'s audit entry");
    }
}
