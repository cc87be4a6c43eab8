//! Sign-up, sign-in, sessions, profiles, passwords and email verification over HTTP.

use app::notify::repo;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, body_json, spawn_app};

const GOOD: &str = "a perfectly fine passphrase";

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("pw_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
}

#[tokio::test]
async fn signing_up_mails_a_link_that_confirms_the_address_and_signs_in_with_an_http_only_cookie() {
    let app = spawn_app().await;
    let browser = app.browser();
    // The form alone signs nobody in: the address has not been shown to be theirs.
    let res = app
        .sign_up_unconfirmed(&browser, "Ada@Example.org", GOOD)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(session_cookie(&res).is_none());
    assert_eq!(
        body_json(app.call(&browser, "current_user", &[]).await).await,
        serde_json::Value::Null
    );
    // The password works at once (the account exists), unconfirmed.
    let res = app.sign_in(&browser, "ada@example.org", GOOD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let me = body_json(app.call(&browser, "current_user", &[]).await).await;
    assert_eq!(me["email_verified"], false);
    // The mailed link confirms it and signs in whoever opens it.
    let elsewhere = app.browser();
    let token = app
        .mailed_token("ada@example.org", "verify-email?token=")
        .await;
    let res = app
        .call(&elsewhere, "verify_email", &[("token", &token)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("pw_session="))
        .expect("a session cookie")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/")
    );
    let me = body_json(app.call(&elsewhere, "current_user", &[]).await).await;
    assert_eq!(me["email"], "ada@example.org");
    assert_eq!(me["roles"], json!(["learner"]));
    assert_eq!(me["email_verified"], true);
    app.stop().await;
}

#[tokio::test]
async fn each_invalid_sign_up_is_refused_in_words_and_creates_nothing() {
    let app = spawn_app().await;
    let cases = [
        (
            "not-an-email",
            "Ada",
            GOOD,
            "Enter an email address such as ada@example.org.",
        ),
        (
            "ada@example.org",
            "Ada",
            "short",
            "Choose a password of at least 8 characters.",
        ),
        (
            "ada@example.org",
            "Ada",
            &"x".repeat(129),
            "Choose a password of at most 128 characters.",
        ),
        (
            "ada@example.org",
            "Ada",
            "password123",
            "This password is on a list of commonly used passwords. Choose one that is harder to guess.",
        ),
        (
            "ada@example.org",
            "   ",
            GOOD,
            "Enter the name other people will see.",
        ),
    ];
    for (email, name, password, words) in cases {
        let browser = app.browser();
        let res = app
            .call(
                &browser,
                "sign_up",
                &[
                    ("email", email),
                    ("display_name", name),
                    ("password", password),
                    ("accept", "yes"),
                ],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{email} {password}"
        );
        assert!(session_cookie(&res).is_none());
        let body = body_json(res).await;
        assert_eq!(body["error"], "invalid");
        let err: app::error::AppError = serde_json::from_value(body).expect("an AppError");
        assert_eq!(err.to_string(), words);
    }
    // None of them created the account: the valid sign-up still works.
    assert_eq!(
        app.sign_up(&app.browser(), "ada@example.org", GOOD)
            .await
            .status(),
        StatusCode::OK
    );
    app.stop().await;
}

/// What a stranger sees from the sign-up form: status, body and header names, minus the date.
async fn sign_up_answer(app: &TestApp, email: &str, password: &str) -> (u16, Vec<String>, String) {
    let res = app
        .sign_up_unconfirmed(&app.browser(), email, password)
        .await;
    let status = res.status().as_u16();
    let mut names: Vec<String> = res
        .headers()
        .keys()
        .map(|k| k.as_str().to_string())
        .filter(|k| k != "date")
        .collect();
    names.sort();
    (status, names, res.text().await.unwrap_or_default())
}

#[tokio::test]
async fn signing_up_with_a_taken_address_tells_nothing_and_changes_nothing() {
    let app = spawn_app().await;
    app.sign_up(&app.browser(), "grace@example.org", GOOD).await;
    let fresh = sign_up_answer(&app, "someone.new@example.org", GOOD).await;
    let taken = sign_up_answer(&app, "GRACE@example.org", "another fine passphrase").await;
    assert_eq!(
        fresh, taken,
        "the answer tells whether the address has an account"
    );
    assert_eq!(taken.0, 200);
    assert!(!taken.1.iter().any(|h| h == "set-cookie"));
    // The first password still works; the second never replaced it.
    let ok = app.sign_in(&app.browser(), "grace@example.org", GOOD).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let wrong = app
        .sign_in(
            &app.browser(),
            "grace@example.org",
            "another fine passphrase",
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    // The owner is told by mail, where only they read it.
    let mails = repo::outbox_for(&app.state.db, "grace@example.org")
        .await
        .expect("outbox");
    assert!(
        mails
            .iter()
            .any(|m| m.subject == "You already have a Pairwise account"),
        "{mails:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_new_sign_up_for_an_unconfirmed_address_replaces_the_old_claim() {
    let app = spawn_app().await;
    let squatter = app.browser();
    app.sign_up_unconfirmed(&squatter, "pat@example.org", GOOD)
        .await;
    let old_link = app
        .mailed_token("pat@example.org", "verify-email?token=")
        .await;
    app.sign_in(&squatter, "pat@example.org", GOOD).await;
    // The address's owner signs up too: same answer as anyone gets.
    let owner = app.browser();
    let res = app
        .sign_up_unconfirmed(&owner, "pat@example.org", "the owner's own passphrase")
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The first claim is gone: its password, its session and its link.
    let res = app.sign_in(&app.browser(), "pat@example.org", GOOD).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        body_json(app.call(&squatter, "current_user", &[]).await).await,
        serde_json::Value::Null
    );
    let res = app
        .call(&app.browser(), "verify_email", &[("token", &old_link)])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The owner's link (the newest) confirms it; one account holds the address.
    let link = app
        .mailed_token("pat@example.org", "verify-email?token=")
        .await;
    let res = app.call(&owner, "verify_email", &[("token", &link)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let me = body_json(app.call(&owner, "current_user", &[]).await).await;
    assert_eq!(me["email_verified"], true);
    let count: Option<i64> = app
        .state
        .db
        .query("RETURN count(SELECT id FROM user WHERE email = 'pat@example.org')")
        .await
        .expect("count")
        .take(0)
        .expect("count");
    assert_eq!(count, Some(1));
    app.stop().await;
}

#[tokio::test]
async fn concurrent_sign_ups_with_one_email_create_exactly_one_account() {
    let app = spawn_app().await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let browser = app.browser();
        let url = app.url("/api/sign_up");
        let origin = app.base.clone();
        tasks.push(tokio::spawn(async move {
            browser
                .post(url)
                .header("origin", origin)
                .header("accept", "application/json")
                .form(&[
                    ("email", "race@example.org"),
                    ("display_name", "Race"),
                    ("password", GOOD),
                    ("accept", "yes"),
                ])
                .send()
                .await
                .map(|r| r.status())
        }));
    }
    // Every one is answered alike (none tells that another got there first).
    for t in tasks {
        assert_eq!(t.await.expect("task").expect("response"), StatusCode::OK);
    }
    let count: Option<i64> = app
        .state
        .db
        .query("RETURN count(SELECT id FROM user WHERE email = 'race@example.org')")
        .await
        .expect("count")
        .take(0)
        .expect("count");
    assert_eq!(count, Some(1));
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_the_sixth_failure_is_rate_limited() {
    let app = spawn_app().await;
    app.sign_up(&app.browser(), "lin@example.org", GOOD).await;
    let browser = app.browser();
    for _ in 0..5 {
        let res = app
            .sign_in(&browser, "lin@example.org", "not the password")
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(body_json(res).await, json!({"error": "wrong_credentials"}));
    }
    // Even the right password is refused now: the account is cooling down.
    let res = app.sign_in(&browser, "lin@example.org", GOOD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=1800).contains(&retry), "{retry}");
    let body = body_json(res).await;
    assert_eq!(body["error"], "too_many_attempts");
    // An unknown email is answered exactly like a wrong password.
    let res = app
        .sign_in(&app.browser(), "nobody@example.org", GOOD)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_json(res).await, json!({"error": "wrong_credentials"}));
    app.stop().await;
}

#[tokio::test]
async fn signing_in_rotates_the_session_and_signing_out_kills_it() {
    let app = spawn_app().await;
    let browser = app.browser();
    let first =
        session_cookie(&app.sign_up(&browser, "kim@example.org", GOOD).await).expect("cookie");
    let second =
        session_cookie(&app.sign_in(&browser, "kim@example.org", GOOD).await).expect("cookie");
    assert_ne!(first, second, "the session id must change at sign-in");

    // The cookie from before sign-in is dead.
    let raw = crate::helpers::Browser::new();
    let me = |cookie: String| {
        let raw = raw.clone();
        let url = app.url("/api/current_user");
        let origin = app.base.clone();
        async move {
            let res = raw
                .post(url)
                .header("origin", origin)
                .header("accept", "application/json")
                .header("cookie", cookie)
                .send()
                .await
                .expect("sent");
            res.text()
                .await
                .map(|t| serde_json::from_str::<serde_json::Value>(&t).expect("json"))
                .expect("body")
        }
    };
    assert_eq!(me(first).await, serde_json::Value::Null);
    assert_eq!(me(second.clone()).await["email"], "kim@example.org");

    let res = app.call(&browser, "sign_out", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Replaying the signed-out cookie by hand gets nobody.
    assert_eq!(me(second).await, serde_json::Value::Null);
    assert_eq!(
        body_json(app.call(&browser, "current_user", &[]).await).await,
        serde_json::Value::Null
    );
    app.stop().await;
}

#[tokio::test]
async fn profiles_are_edited_by_their_owner_with_each_field_checked() {
    let app = spawn_app().await;
    let browser = app.browser();
    app.sign_up(&browser, "mei@example.org", GOOD).await;
    let res = app
        .call(
            &browser,
            "update_profile",
            &[
                ("display_name", "Mei  Chen"),
                ("bio", "Backend developer."),
                ("skills", "Rust: advanced\nSQL: intermediate"),
                ("languages", "zh, EN"),
                ("timezone", "Asia/Shanghai"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let p = body_json(res).await;
    assert_eq!(p["display_name"], "Mei Chen");
    assert_eq!(
        p["skills"],
        json!([{"name": "Rust", "level": "advanced"}, {"name": "SQL", "level": "intermediate"}])
    );
    assert_eq!(p["languages"], json!(["zh", "en"]));
    assert_eq!(p["timezone"], "Asia/Shanghai");

    let bad = [
        ("timezone", "Mars/Base", "timezone_invalid"),
        ("skills", "Rust: wizard", "skill_invalid"),
        ("languages", "english", "language_invalid"),
    ];
    for (field, value, problem) in bad {
        let mut form = vec![("display_name", "Mei"), ("timezone", "UTC")];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let res = app.call(&browser, "update_profile", &form).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            body_json(res).await,
            json!({"error": "invalid", "problem": problem})
        );
    }
    // Nothing changed by the refused edits.
    let p = body_json(app.call(&browser, "get_profile", &[]).await).await;
    assert_eq!(p["timezone"], "Asia/Shanghai");
    // Signed out, there is no profile to read.
    let res = app.call(&app.browser(), "get_profile", &[]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_signs_out_other_sessions() {
    let app = spawn_app().await;
    let phone = app.browser();
    let laptop = app.browser();
    app.sign_up(&phone, "sam@example.org", GOOD).await;
    app.sign_in(&laptop, "sam@example.org", GOOD).await;

    let res = app
        .call(
            &phone,
            "change_password",
            &[
                ("current_password", "wrong guess"),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body_json(res).await,
        json!({"error": "invalid", "problem": "wrong_current_password"})
    );

    let res = app
        .call(
            &phone,
            "change_password",
            &[
                ("current_password", GOOD),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The phone stays signed in, the laptop is signed out.
    assert_eq!(
        body_json(app.call(&phone, "current_user", &[]).await).await["email"],
        "sam@example.org"
    );
    assert_eq!(
        body_json(app.call(&laptop, "current_user", &[]).await).await,
        serde_json::Value::Null
    );
    assert_eq!(
        app.sign_in(&app.browser(), "sam@example.org", GOOD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.sign_in(&app.browser(), "sam@example.org", "a brand new passphrase")
            .await
            .status(),
        StatusCode::OK
    );
    app.stop().await;
}

#[tokio::test]
async fn the_verification_link_from_the_outbox_verifies_the_email_once() {
    let app = spawn_app().await;
    let browser = app.browser();
    app.sign_up_unconfirmed(&browser, "noor@example.org", GOOD)
        .await;
    app.sign_in(&browser, "noor@example.org", GOOD).await;
    let mails = repo::outbox_for(&app.state.db, "noor@example.org")
        .await
        .expect("outbox");
    assert_eq!(mails.len(), 1);
    let body = &mails[0].body;
    let token = body
        .split("token=")
        .nth(1)
        .map(|t| {
            t.chars()
                .take_while(char::is_ascii_hexdigit)
                .collect::<String>()
        })
        .expect("a link with a token");
    assert!(body.contains(&format!("{}/verify-email?token=", app.base)));

    // A wrong token changes nothing.
    let res = app
        .call(
            &app.browser(),
            "verify_email",
            &[("token", &"0".repeat(64))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body_json(app.call(&browser, "current_user", &[]).await).await["email_verified"],
        false
    );

    // The link works signed out, and only once.
    assert_eq!(
        app.call(&app.browser(), "verify_email", &[("token", &token)])
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        body_json(app.call(&browser, "current_user", &[]).await).await["email_verified"],
        true
    );
    let again = app
        .call(&app.browser(), "verify_email", &[("token", &token)])
        .await;
    assert_eq!(
        body_json(again).await,
        json!({"error": "invalid", "problem": "token_invalid"})
    );
    app.stop().await;
}

/// Sessions are cached for a few seconds so a signed-in request costs no query; ending one
/// (or changing what it carries) must still take effect on the very next request.
#[tokio::test]
async fn a_session_ended_or_changed_is_seen_on_the_very_next_request_despite_the_cache() {
    let app = spawn_app().await;
    let browser = app.browser();
    app.sign_up(&browser, "cache@example.org", GOOD).await;
    let copy = crate::helpers::Browser::with_cookie_header(&browser.cookie_header());
    // Warm the cache, then sign out: the copied cookie is refused at once.
    let me = body_json(app.call(&copy, "current_user", &[]).await).await;
    assert_eq!(me["email"], "cache@example.org");
    assert_eq!(
        app.call(&browser, "sign_out", &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        body_json(app.call(&copy, "current_user", &[]).await).await,
        serde_json::Value::Null,
        "a signed-out session is no longer anyone"
    );

    // A role granted is there on the next request, and so is a role taken away.
    let mentor = app.user_with_roles("cache-mentor@example.org", &[]).await;
    let me = body_json(app.call(&mentor, "current_user", &[]).await).await;
    let id = me["id"].as_str().expect("id").to_string();
    let admin = app.admin().await;
    for granted in ["true", "false"] {
        let res = app
            .call(
                &admin,
                "set_user_role",
                &[("user_id", &id), ("role", "mentor"), ("granted", granted)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let me = body_json(app.call(&mentor, "current_user", &[]).await).await;
        let has = me["roles"]
            .as_array()
            .expect("roles")
            .iter()
            .any(|r| r == "mentor");
        assert_eq!(has.to_string(), granted);
    }
    app.stop().await;
}
