//! Deployed the usual way: a real nginx (the Debian package, started by the test as this user)
//! terminates the clients' connections and forwards to Pairwise, which trusts it. Two clients
//! at two addresses behind it are limited separately, and the audit log names each one.

use std::{net::IpAddr, path::PathBuf, process::Stdio, time::Duration};

use reqwest::StatusCode;

use crate::helpers::{Browser, free_port, spawn_app_with};

/// nginx on `port`, forwarding to `upstream` as the README's deployment section shows.
struct Nginx {
    child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

fn nginx_binary() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("nginx is missing: `make test` installs it (Debian package nginx)")
}

impl Nginx {
    async fn start(port: u16, upstream: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path().display();
        let conf = format!(
            "daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 128; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, conf).expect("nginx.conf written");
        let child = tokio::process::Command::new(nginx_binary())
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("nginx starts");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Nginx { child, _dir: dir };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
        panic!("nginx did not listen on {port}: {log}");
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

#[tokio::test]
async fn two_clients_behind_nginx_are_limited_separately_and_audited_by_their_address() {
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let app = spawn_app_with(&[
        ("PAIRWISE_PUBLIC_URL", &public),
        ("PAIRWISE_TRUSTED_PROXIES", "127.0.0.1/32"),
        ("PAIRWISE_WRITE_RATE", "1"),
        ("PAIRWISE_WRITE_BURST", "3"),
    ])
    .await;
    let upstream = app.base.trim_start_matches("http://").to_string();
    let _nginx = Nginx::start(port, &upstream).await;

    let alice = Browser::from_address("127.0.0.2".parse::<IpAddr>().unwrap());
    let bob = Browser::from_address("127.0.0.3".parse::<IpAddr>().unwrap());
    async fn write(
        public: &str,
        who: &Browser,
        form: &[(&str, &str)],
        name: &str,
    ) -> reqwest::Result<reqwest::Response> {
        who.post(format!("{public}/api/{name}"))
            .header("origin", public)
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
    }

    // Alice signs up (a write) and then spends her burst; the next write is refused.
    let res = write(
        &public,
        &alice,
        &[
            ("email", "alice@example.org"),
            ("display_name", "Alice"),
            ("password", "a perfectly fine passphrase"),
            ("accept", "yes"),
        ],
        "sign_up",
    )
    .await
    .expect("through nginx");
    assert_eq!(res.status(), StatusCode::OK);
    for _ in 0..2 {
        let res = write(&public, &alice, &[("locale", "en")], "set_locale")
            .await
            .expect("sent");
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = write(&public, &alice, &[("locale", "en")], "set_locale")
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    // Bob, behind the same proxy, is not limited by her.
    for _ in 0..3 {
        let res = write(&public, &bob, &[("locale", "en")], "set_locale")
            .await
            .expect("sent");
        assert_eq!(res.status(), StatusCode::OK);
    }

    // The audit log has Alice's own address, not the proxy's.
    let mut res = app
        .state
        .db
        .query("SELECT VALUE ip FROM audit WHERE kind = 'sign_up' AND email = 'alice@example.org'")
        .await
        .expect("audit");
    let ips: Vec<Option<String>> = res.take(0).expect("ips");
    assert_eq!(ips, vec![Some("127.0.0.2".to_string())]);
    app.stop().await;
}
