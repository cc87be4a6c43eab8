//! Password reset: a mailed single-use link, one hour, every session ended, audited, and the
//! same answer whether or not the address has an account.

use reqwest::StatusCode;

use crate::helpers::{Browser, ManualClock, TestApp, body_json, spawn_app_with_clock};

const OLD: &str = "a perfectly fine passphrase";
const NEW: &str = "another entirely fine passphrase";

async fn reset_mails(app: &TestApp, email: &str) -> usize {
    app::notify::repo::outbox_for(&app.state.db, email)
        .await
        .expect("outbox")
        .iter()
        .filter(|m| m.body.contains("/reset-password?token="))
        .count()
}

/// Waits (the link is sent in the background) until `n` reset links reached `email`; the
/// newest link's token.
async fn reset_link(app: &TestApp, email: &str, n: usize) -> String {
    for _ in 0..100 {
        if reset_mails(app, email).await >= n {
            return app.mailed_token(email, "reset-password?token=").await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{n} reset links did not reach {email}");
}

async fn audits(app: &TestApp, kind: &str) -> i64 {
    let mut res = app
        .state
        .db
        .query("RETURN count(SELECT id FROM audit WHERE kind = $kind)")
        .bind(("kind", kind.to_string()))
        .await
        .expect("audit");
    res.take::<Option<i64>>(0).expect("count").unwrap_or(0)
}

async fn reset(app: &TestApp, who: &Browser, token: &str, password: &str) -> reqwest::Response {
    app.call(
        who,
        "reset_password",
        &[("token", token), ("new_password", password)],
    )
    .await
}

async fn signed_in(app: &TestApp, who: &Browser) -> bool {
    !body_json(app.call(who, "current_user", &[]).await)
        .await
        .is_null()
}

#[tokio::test]
async fn a_mailed_link_sets_a_new_password_once_and_signs_out_everywhere() {
    let clock = ManualClock::new();
    let app = spawn_app_with_clock(clock.clone()).await;
    let email = "forgetful@example.org";
    let (laptop, phone) = (Browser::new(), Browser::new());
    assert!(app.sign_up(&laptop, email, OLD).await.status().is_success());
    assert!(app.sign_in(&phone, email, OLD).await.status().is_success());

    // The same answer for an address with an account and one without; only the first gets mail.
    let stranger = Browser::new();
    let known = app
        .call(&stranger, "request_password_reset", &[("email", email)])
        .await;
    let unknown = app
        .call(
            &stranger,
            "request_password_reset",
            &[("email", "nobody-here@example.org")],
        )
        .await;
    assert_eq!(known.status(), unknown.status());
    assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());
    let token = reset_link(&app, email, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(reset_mails(&app, "nobody-here@example.org").await, 0);
    let bad = app
        .call(
            &stranger,
            "request_password_reset",
            &[("email", "not an address")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A weak password is refused in words and the link still works afterwards.
    let weak = reset(&app, &stranger, &token, "short").await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        signed_in(&app, &laptop).await,
        "a refused reset changed nothing"
    );

    let done = reset(&app, &stranger, &token, NEW).await;
    assert!(done.status().is_success(), "{}", done.status());
    // Every session of the account is gone at once, on every device.
    assert!(!signed_in(&app, &laptop).await);
    assert!(!signed_in(&app, &phone).await);
    assert!(
        !signed_in(&app, &stranger).await,
        "a reset does not sign anyone in"
    );
    let old = app.sign_in(&Browser::new(), email, OLD).await;
    assert!(
        !old.status().is_success(),
        "the old password no longer works"
    );
    assert!(
        app.sign_in(&Browser::new(), email, NEW)
            .await
            .status()
            .is_success()
    );

    // The link works once.
    let again = reset(&app, &stranger, &token, "yet another fine passphrase").await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.text().await.unwrap().contains("token_invalid"));
    assert!(
        app.sign_in(&Browser::new(), email, NEW)
            .await
            .status()
            .is_success()
    );
    assert_eq!(audits(&app, "password_reset_requested").await, 1);
    assert_eq!(audits(&app, "password_reset").await, 1);

    // A link is good for one hour; a newer link replaces the older one.
    clock.advance(3600);
    app.call(&stranger, "request_password_reset", &[("email", email)])
        .await;
    let first = reset_link(&app, email, 2).await;
    // (The test's clock stands still: a second later, so "newest mail" is well defined.)
    clock.advance(1);
    app.call(&stranger, "request_password_reset", &[("email", email)])
        .await;
    let second = reset_link(&app, email, 3).await;
    assert_ne!(first, second);
    let replaced = reset(&app, &stranger, &first, "a replaced link's passphrase").await;
    assert_eq!(replaced.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(replaced.text().await.unwrap().contains("token_invalid"));
    clock.advance(3600);
    let expired = reset(&app, &stranger, &second, "a late link's passphrase").await;
    assert_eq!(expired.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(expired.text().await.unwrap().contains("token_invalid"));
    assert!(
        app.sign_in(&Browser::new(), email, NEW)
            .await
            .status()
            .is_success()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_stranger_cannot_fill_an_inbox_with_reset_links() {
    let clock = ManualClock::new();
    let app = spawn_app_with_clock(clock.clone()).await;
    let email = "popular@example.org";
    assert!(
        app.sign_up(&Browser::new(), email, OLD)
            .await
            .status()
            .is_success()
    );
    let stranger = Browser::new();
    let mut answers = Vec::new();
    for _ in 0..6 {
        let res = app
            .call(&stranger, "request_password_reset", &[("email", email)])
            .await;
        answers.push((res.status(), res.text().await.unwrap()));
    }
    // Every request is answered alike; three links an hour reach the inbox.
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    reset_link(&app, email, 3).await;
    // The rest were refused in the background: still three a moment later.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(reset_mails(&app, email).await, 3);
    clock.advance(3601);
    app.call(&stranger, "request_password_reset", &[("email", email)])
        .await;
    reset_link(&app, email, 4).await;
    app.stop().await;
}
