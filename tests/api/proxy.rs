//! Deployed the usual way: a real nginx (the Debian package, started by the test as this user)
//! terminates the clients' connections and forwards to Pairwise, which trusts it. Two clients
//! at two addresses behind it are limited separately, and the audit log names each one.

use std::net::IpAddr;

use reqwest::StatusCode;

use crate::{
    helpers::{Browser, free_port, spawn_app_with},
    nginx::Nginx,
};

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
    let _nginx = Nginx::start(port, &[&upstream]).await;

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
