//! Changing the e-mail address: a link to the new address, once, within the hour; the old
//! address told of the request and of the change; the same answer when the new address
//! belongs to someone else; a few requests an hour.

use reqwest::StatusCode;

use crate::helpers::{Browser, ManualClock, TestApp, body_json, spawn_app_with_clock};

const PASSWORD: &str = "a perfectly fine passphrase";

async fn mails_to(app: &TestApp, email: &str) -> Vec<String> {
    app::notify::repo::outbox_for(&app.state.db, email)
        .await
        .expect("outbox")
        .into_iter()
        .map(|m| m.body)
        .collect()
}

async fn ask(app: &TestApp, who: &Browser, new_email: &str, password: &str) -> reqwest::Response {
    app.call(
        who,
        "request_email_change",
        &[("new_email", new_email), ("password", password)],
    )
    .await
}

#[tokio::test]
async fn an_address_changes_only_through_the_link_sent_to_it_and_the_old_one_is_told() {
    let clock = ManualClock::new();
    let app = spawn_app_with_clock(clock.clone()).await;
    let me = app.user_with_roles("old@example.org", &[]).await;
    let other = app.user_with_roles("other@example.org", &[]).await;
    drop(other);

    // The password proves it is the account's owner; the same address is no change.
    let res = ask(&app, &me, "new@example.org", "not my password").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(res).await["problem"], "wrong_current_password");
    let res = ask(&app, &me, "OLD@example.org", PASSWORD).await;
    assert_eq!(body_json(res).await["problem"], "email_same");
    assert!(mails_to(&app, "new@example.org").await.is_empty());

    let res = ask(&app, &me, "new@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    // The old address is told what was asked; nothing has changed yet.
    assert!(
        mails_to(&app, "old@example.org")
            .await
            .iter()
            .any(|b| b.contains("change its address to new@example.org"))
    );
    let token = app
        .mailed_token("new@example.org", "confirm-email?token=")
        .await;
    assert_eq!(
        app.sign_in(&Browser::new(), "old@example.org", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );

    // An hour later the link is dead; a new one works, once, signed out.
    clock.advance(3601);
    let stranger = Browser::new();
    let res = app
        .call(&stranger, "confirm_email_change", &[("token", &token)])
        .await;
    assert_eq!(body_json(res).await["problem"], "token_invalid");
    let res = ask(&app, &me, "new@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = app
        .mailed_token("new@example.org", "confirm-email?token=")
        .await;
    let res = app
        .call(&stranger, "confirm_email_change", &[("token", &token)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .call(&stranger, "confirm_email_change", &[("token", &token)])
        .await;
    assert_eq!(body_json(res).await["problem"], "token_invalid");

    // The new address signs in, the old one no longer; the old one was told.
    assert_eq!(
        app.sign_in(&Browser::new(), "new@example.org", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.sign_in(&Browser::new(), "old@example.org", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(
        mails_to(&app, "old@example.org")
            .await
            .iter()
            .any(|b| b.contains("is now new@example.org"))
    );
    let user = body_json(app.call(&me, "current_user", &[]).await).await;
    assert_eq!(user["email"], "new@example.org");
    assert_eq!(user["email_verified"], true);

    // Someone else's address: the same answer, no link, and its owner is told.
    let res = ask(&app, &me, "other@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let to_other = mails_to(&app, "other@example.org").await;
    assert!(
        to_other
            .iter()
            .any(|b| b.contains("another account already uses it"))
    );
    assert!(!to_other.iter().any(|b| b.contains("confirm-email?token=")));

    // Three requests an hour: this hour has had two.
    let res = ask(&app, &me, "third@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = ask(&app, &me, "fourth@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(mails_to(&app, "fourth@example.org").await.is_empty());
    app.stop().await;
}
