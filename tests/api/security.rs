//! Same-origin checks, security headers, body and rate limits.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

const GOOD: &str = "a perfectly fine passphrase";

#[tokio::test]
async fn a_cross_origin_post_to_a_server_function_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let browser = app.browser();
    let form = [
        ("email", "victim@example.org"),
        ("display_name", "Victim"),
        ("password", GOOD),
    ];
    let res = browser
        .post(app.url("/api/sign_up"))
        .header("origin", "https://evil.example")
        .header("accept", "application/json")
        .form(&form)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.headers().get("set-cookie").is_none());
    assert_eq!(
        res.text()
            .await
            .map(|t| serde_json::from_str::<serde_json::Value>(&t).expect("json"))
            .expect("body"),
        json!({"error": "cross_origin"})
    );
    // Without Origin, a browser's Sec-Fetch-Site still gives a cross-site form away.
    let res = browser
        .post(app.url("/api/sign_up"))
        .header("sec-fetch-site", "cross-site")
        .form(&form)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // The account was never created: signing up for real now succeeds.
    assert_eq!(
        app.sign_up(&app.browser(), "victim@example.org", GOOD)
            .await
            .status(),
        StatusCode::OK
    );
    app.stop().await;
}

#[tokio::test]
async fn every_route_carries_the_security_headers() {
    let app = spawn_app().await;
    let client = app.browser();
    for path in [
        "/",
        "/signin",
        "/signup",
        "/profile",
        "/no/such/page",
        "/healthz",
        "/metrics",
        "/favicon.svg",
        "/pkg/missing.js",
    ] {
        let res = client.get(app.url(path)).send().await.expect("sent");
        let h = res.headers();
        let csp = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        for directive in [
            "'wasm-unsafe-eval'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "'nonce-",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: CSP lacks {directive}: {csp}"
            );
        }
        assert!(
            !csp.contains("'unsafe-inline'") && !csp.contains("'unsafe-eval'"),
            "{path}: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        // Plain HTTP: no HSTS (it would lock browsers out of a server without TLS).
        assert!(h.get("strict-transport-security").is_none(), "{path}");
    }
    let res = client
        .post(app.url("/api/current_user"))
        .header("origin", &app.base)
        .send()
        .await
        .expect("sent");
    assert!(res.headers().contains_key("content-security-policy"));
    app.stop().await;
}

#[tokio::test]
async fn inline_scripts_carry_the_nonce_of_their_own_response() {
    let app = spawn_app().await;
    let client = app.browser();
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let res = client.get(app.url("/")).send().await.expect("sent");
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_string();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|s| s.split('\'').next())
            .expect("nonce")
            .to_string();
        let html = res.text().await.expect("html");
        assert!(
            html.contains(&format!("nonce=\"{nonce}\"")),
            "page scripts must carry the CSP nonce"
        );
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "a nonce is never reused");
    app.stop().await;
}

#[tokio::test]
async fn tls_mode_sends_hsts_and_host_prefixed_secure_cookies() {
    let app = spawn_app_with(&[("PAIRWISE_SECURE_COOKIES", "true")]).await;
    let browser = app.browser();
    let res = app.sign_up(&browser, "tls@example.org", GOOD).await;
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(
        cookie.starts_with("__Host-pw_session=") && cookie.contains("; Secure"),
        "{cookie}"
    );
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .expect("ascii")
            .contains("max-age=")
    );
    app.stop().await;
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let app = spawn_app_with(&[("PAIRWISE_MAX_BODY_BYTES", "4096")]).await;
    let big = "x".repeat(10_000);
    let res = app
        .call(
            &app.browser(),
            "sign_up",
            &[
                ("email", "big@example.org"),
                ("display_name", &big),
                ("password", GOOD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    app.stop().await;
}

#[tokio::test]
async fn a_burst_of_writes_from_one_address_is_limited_with_retry_after() {
    let app = spawn_app_with(&[("PAIRWISE_WRITE_RATE", "60"), ("PAIRWISE_WRITE_BURST", "5")]).await;
    let browser = app.browser();
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(app.call(&browser, "set_locale", &[("locale", "en")]).await);
    }
    assert!(statuses[..5].iter().all(|r| r.status() == StatusCode::OK));
    let limited = statuses.pop().expect("a response");
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    // Reads are not limited.
    assert_eq!(
        browser
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("sent")
            .status(),
        StatusCode::OK
    );
    app.stop().await;
}

#[tokio::test]
async fn malformed_server_function_input_is_a_400_in_words() {
    let app = spawn_app().await;
    let res = app
        .browser()
        .post(app.url("/api/set_user_role"))
        .header("origin", &app.base)
        .header("accept", "application/json")
        .form(&[("user_id", "x"), ("role", "admin"), ("granted", "maybe")])
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = crate::helpers::body_json(res).await;
    assert_eq!(body["error"], "bad_request");
    app.stop().await;
}
