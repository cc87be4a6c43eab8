//! Verification means something (issue 18, item 3): an account whose address is not
//! confirmed cannot reach other people, is removed after a week, and neither sign-up nor a
//! room invitation tells whether an address has an account.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Browser, ManualClock, TestApp, body_json, spawn_app, spawn_app_with_clock};

const GOOD: &str = "a perfectly fine passphrase";

/// Signed up and signed in with the password, never confirmed.
async fn unconfirmed(app: &TestApp, email: &str) -> Browser {
    let who = app.browser();
    let res = app.sign_up_unconfirmed(&who, email, GOOD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.sign_in(&who, email, GOOD).await;
    assert_eq!(res.status(), StatusCode::OK);
    who
}

async fn confirm(app: &TestApp, who: &Browser, email: &str) {
    let token = app.mailed_token(email, "verify-email?token=").await;
    let res = app.call(who, "verify_email", &[("token", &token)]).await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn refused_unconfirmed(res: reqwest::Response, what: &str) {
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "{what}");
    assert_eq!(
        body_json(res).await,
        json!({"error": "invalid", "problem": "email_not_verified"}),
        "{what}"
    );
}

#[tokio::test]
async fn an_unconfirmed_account_cannot_request_a_mentor_book_or_post_until_it_confirms() {
    let app = spawn_app().await;
    let (_mentor, mentor_id) = crate::mentoring::mentor(&app, "gatekeeper", "3").await;
    let who = unconfirmed(&app, "fresh@example.org").await;
    let form = crate::mentoring::request_form(&mentor_id, "Learn async Rust");
    refused_unconfirmed(
        app.call(&who, "send_request", &form).await,
        "a mentoring request",
    )
    .await;
    refused_unconfirmed(
        app.call(
            &who,
            "book_session",
            &[("mentorship", "any"), ("start", "2030-01-07T10:00:00Z")],
        )
        .await,
        "a booking",
    )
    .await;
    refused_unconfirmed(
        app.call(
            &who,
            "post_question",
            &[("mentorship", "any"), ("body", "Hello?")],
        )
        .await,
        "a post",
    )
    .await;
    // Nothing reached the mentor.
    let home = body_json(app.call(&who, "mentoring_home", &[]).await).await;
    assert_eq!(home["sent"], json!([]), "{home}");
    // Confirmed, the same request goes through.
    confirm(&app, &who, "fresh@example.org").await;
    let res = app.call(&who, "send_request", &form).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    app.stop().await;
}

/// The host's view of the room's people, without the volatile presence.
async fn people(app: &TestApp, host: &Browser, room: &str) -> Vec<Value> {
    let view = body_json(app.call(host, "get_room", &[("id", room)]).await).await;
    view["Member"]["members"]
        .as_array()
        .unwrap_or_else(|| panic!("a room view: {view}"))
        .iter()
        .filter(|m| m["host"] == false)
        .map(|m| json!({"name": m["name"], "invited": m["invited"]}))
        .collect()
}

#[tokio::test]
async fn a_room_invitation_reads_the_same_whether_or_not_the_address_has_an_account() {
    let app = spawn_app().await;
    let host = app
        .user_with_roles("host-inv@example.org", &["mentor"])
        .await;
    let res = app
        .call(&host, "create_room", &[("title", "Invitations")])
        .await;
    assert!(res.status().is_success());
    let rooms = body_json(app.call(&host, "my_rooms", &[]).await).await;
    let room = rooms[0]["id"].as_str().expect("a room").to_string();
    let confirmed = app.user_with_roles("conf@example.org", &[]).await;
    let waiting = unconfirmed(&app, "wait@example.org").await;

    let mut answers = Vec::new();
    for address in ["conf@example.org", "wait@example.org", "nobody@example.org"] {
        let res = app
            .call(
                &host,
                "invite_to_room",
                &[("room", &room), ("email", address)],
            )
            .await;
        answers.push((res.status(), res.text().await.unwrap_or_default()));
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, StatusCode::OK);
    // The host sees three invited addresses, alike: no names, nothing telling them apart.
    assert_eq!(
        people(&app, &host, &room).await,
        ["conf@example.org", "wait@example.org", "nobody@example.org"]
            .iter()
            .map(|a| json!({"name": a, "invited": a}))
            .collect::<Vec<_>>()
    );

    // The confirmed account is in (and told); the unconfirmed one is not, yet.
    let view = body_json(app.call(&confirmed, "get_room", &[("id", &room)]).await).await;
    assert!(view.get("Member").is_some(), "{view}");
    let notes = body_json(app.call(&confirmed, "get_notifications", &[]).await).await;
    assert!(
        notes.to_string().contains(&format!("/rooms/{room}")),
        "{notes}"
    );
    let res = app.call(&waiting, "get_room", &[("id", &room)]).await;
    assert_eq!(body_json(res).await, json!("NotInvited"));
    let refused = app.room_socket(&waiting, &room, "", None).await;
    assert_eq!(refused.err().map(|e| e.0), Some(403));

    // Confirming the address turns the waiting invitation into a seat, with a notification.
    confirm(&app, &waiting, "wait@example.org").await;
    let view = body_json(app.call(&waiting, "get_room", &[("id", &room)]).await).await;
    assert!(view.get("Member").is_some(), "{view}");
    let notes = body_json(app.call(&waiting, "get_notifications", &[]).await).await;
    assert!(
        notes.to_string().contains(&format!("/rooms/{room}")),
        "{notes}"
    );
    // The notice written inside the confirming transaction reads like any other invitation.
    assert!(
        notes
            .to_string()
            .contains("You are invited to the live room"),
        "{notes}"
    );

    // Once a guest comes in, the host sees their name.
    let (_ws, _) = crate::rooms::join(&app, &confirmed, &room, "").await;
    let listed = people(&app, &host, &room).await;
    assert!(
        listed.contains(&json!({"name": "Test User", "invited": null})),
        "{listed:?}"
    );

    // An invitation nobody used can be withdrawn by its address.
    let res = app
        .call(
            &host,
            "withdraw_invite",
            &[("room", &room), ("email", "nobody@example.org")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        !people(&app, &host, &room)
            .await
            .iter()
            .any(|m| m["name"] == "nobody@example.org")
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unconfirmed_account_is_removed_after_seven_days_and_its_address_is_free_again() {
    let clock = ManualClock::new();
    let app = spawn_app_with_clock(clock.clone()).await;
    let squatter = unconfirmed(&app, "taken@example.org").await;
    app.user_with_roles("kept@example.org", &[]).await;
    // An account an admin gave a role to is the admin's to deal with.
    let _mentor = unconfirmed(&app, "role@example.org").await;
    let admin = app.admin().await;
    let users = body_json(app.call(&admin, "list_users", &[]).await).await;
    let role_id = users
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["email"] == "role@example.org")
        .and_then(|u| u["id"].as_str())
        .expect("listed")
        .to_string();
    let res = app
        .call(
            &admin,
            "set_user_role",
            &[
                ("user_id", &role_id),
                ("role", "mentor"),
                ("granted", "true"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    clock.advance(6 * 86_400);
    assert_eq!(server::startup::purge_unverified(&app.state).await, 0);
    clock.advance(2 * 86_400);
    assert_eq!(server::startup::purge_unverified(&app.state).await, 1);

    // Gone: its session, its password, and the address is free for its owner.
    assert_eq!(
        body_json(app.call(&squatter, "current_user", &[]).await).await,
        Value::Null
    );
    let res = app.sign_in(&app.browser(), "taken@example.org", GOOD).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let owner = app.browser();
    let res = app.sign_up(&owner, "taken@example.org", GOOD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let me = body_json(app.call(&owner, "current_user", &[]).await).await;
    assert_eq!(me["email_verified"], true);
    // The confirmed account and the one with a role are untouched (their sessions have
    // idled out over the week; their passwords still work).
    let res = app.sign_in(&app.browser(), "kept@example.org", GOOD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.sign_in(&app.browser(), "role@example.org", GOOD).await;
    assert_eq!(res.status(), StatusCode::OK);
    app.stop().await;
}

/// Mails queued for `email`.
async fn mails_to(app: &TestApp, email: &str) -> i64 {
    let n: Option<i64> = app
        .state
        .db
        .query("count(SELECT id FROM outbox WHERE to = $to)")
        .bind(("to", email.to_string()))
        .await
        .expect("outbox read")
        .take(0)
        .expect("count");
    n.unwrap_or(0)
}

#[tokio::test]
async fn nobody_can_fill_an_inbox_with_links_three_an_hour_whoever_asks() {
    let clock = ManualClock::new();
    let app = spawn_app_with_clock(clock.clone()).await;
    let email = "inbox@example.org";
    let who = unconfirmed(&app, email).await; // link 1
    for _ in 0..2 {
        let res = app.call(&who, "resend_verification", &[]).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_eq!(mails_to(&app, email).await, 3);
    // The fourth is refused in words, and nothing is queued.
    let res = app.call(&who, "resend_verification", &[]).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        body_json(res).await,
        json!({"error": "invalid", "problem": "too_many_mails"})
    );
    // A stranger signing up again with the address answers as always, but sends nothing
    // and changes nothing: the owner's password still works.
    let stranger = app.browser();
    let res = app
        .sign_up_unconfirmed(&stranger, email, "the stranger's passphrase")
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(mails_to(&app, email).await, 3);
    let res = app.sign_in(&app.browser(), email, GOOD).await;
    assert_eq!(res.status(), StatusCode::OK, "the claim was not replaced");
    // An hour later the owner may ask again, and the newest link confirms.
    clock.advance(61 * 60);
    let res = app.call(&who, "resend_verification", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(mails_to(&app, email).await, 4);
    let who = app.browser();
    assert_eq!(
        app.sign_in(&who, email, GOOD).await.status(),
        StatusCode::OK
    );
    confirm(&app, &who, email).await;

    // A confirmed address is told of new sign-ups with it at most three times an hour.
    for _ in 0..5 {
        let res = app
            .sign_up_unconfirmed(&app.browser(), email, "another passphrase here")
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_eq!(mails_to(&app, email).await, 4 + 3);
    app.stop().await;
}
