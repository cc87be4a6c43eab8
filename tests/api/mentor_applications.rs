//! Becoming a mentor: a learner applies, admins are told and decide; approval grants the role
//! (in the same transaction), a decline carries a note; the applicant hears either way.

use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    helpers::{Browser, TestApp, body_json, spawn_app},
    mentoring::user_id,
};

async fn notices(app: &TestApp, who: &Browser) -> Vec<String> {
    let list = body_json(app.call(who, "get_notifications", &[]).await).await;
    list[0]
        .as_array()
        .expect("notifications")
        .iter()
        .map(|n| n["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn roles(app: &TestApp, who: &Browser) -> Value {
    body_json(app.call(who, "current_user", &[]).await).await["roles"].clone()
}

fn form<'a>(headline: &'a str, about: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("headline", headline), ("about", about)]
}

#[tokio::test]
async fn a_learner_applies_and_an_admin_approves_which_makes_them_a_mentor() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let learner = app.user_with_roles("hopeful@example.org", &[]).await;
    let id = user_id(&app, &learner).await;

    // Words in the form, or a clear refusal that changes nothing.
    for (headline, about, problem) in [
        ("", "about", "headline_empty"),
        ("two\nlines", "about", "headline_too_long"),
        ("Rust", " ", "about_empty"),
    ] {
        let res = app
            .call(&learner, "apply_to_mentor", &form(headline, about))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body_json(res).await["problem"], problem);
    }
    let page = body_json(app.call(&learner, "my_mentor_application", &[]).await).await;
    assert_eq!(page["application"], Value::Null);

    let res = app
        .call(
            &learner,
            "apply_to_mentor",
            &form("Rust and databases", "Ten years of backends.\nPatient."),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = body_json(app.call(&learner, "my_mentor_application", &[]).await).await;
    assert_eq!(page["application"]["status"], "pending", "{page}");
    // Once is enough while it waits.
    let res = app
        .call(&learner, "apply_to_mentor", &form("Again", "Again"))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(res).await["problem"], "application_pending");

    // The admin is told, and sees it in the queue.
    assert!(
        notices(&app, &admin)
            .await
            .iter()
            .any(|n| n == "Test User applied to mentor."),
        "{:?}",
        notices(&app, &admin).await
    );
    let queue = body_json(app.call(&admin, "mentor_applications", &[]).await).await;
    assert_eq!(queue[0]["user_id"], id.as_str(), "{queue}");
    assert_eq!(queue[0]["about"], "Ten years of backends.\nPatient.");

    let res = app
        .call(
            &admin,
            "decide_mentor_application",
            &[("user_id", &id), ("decision", "approve")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // A second answer to the same application changes nothing.
    let res = app
        .call(
            &admin,
            "decide_mentor_application",
            &[("user_id", &id), ("decision", "decline")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        roles(&app, &learner).await,
        serde_json::json!(["learner", "mentor"])
    );
    assert!(
        notices(&app, &learner)
            .await
            .iter()
            .any(|n| n.starts_with("Your application to mentor was approved")),
    );
    // A mentor does not apply again; the queue is empty.
    let res = app
        .call(&learner, "apply_to_mentor", &form("More", "More"))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(res).await["problem"], "already_mentor");
    let queue = body_json(app.call(&admin, "mentor_applications", &[]).await).await;
    assert_eq!(queue, serde_json::json!([]));
    let log = body_json(
        app.call(&admin, "admin_audit_log", &[("person", &id)])
            .await,
    )
    .await;
    let kinds: Vec<&str> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds[..2], ["mentor_approved", "mentor_applied"], "{log}");
    app.stop().await;
}

#[tokio::test]
async fn a_declined_applicant_reads_the_note_in_their_language_and_may_apply_again() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let learner = app.user_with_roles("not.yet@example.org", &[]).await;
    let id = user_id(&app, &learner).await;
    let res = app
        .call(&learner, "set_locale", &[("locale", "zh-Hans")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .call(&learner, "apply_to_mentor", &form("SQL", "Some SQL."))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .call(
            &admin,
            "decide_mentor_application",
            &[("user_id", &id), ("decision", "maybe")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .call(
            &admin,
            "decide_mentor_application",
            &[
                ("user_id", &id),
                ("decision", "decline"),
                ("note", "Add a worked example"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(roles(&app, &learner).await, serde_json::json!(["learner"]));
    let heard = notices(&app, &learner).await;
    assert!(
        heard.contains(&"你的导师申请这次没有通过：Add a worked example".to_string()),
        "{heard:?}"
    );
    let page = body_json(app.call(&learner, "my_mentor_application", &[]).await).await;
    assert_eq!(page["application"]["status"], "declined");
    assert_eq!(page["application"]["note"], "Add a worked example");
    // Applying again replaces the declined one.
    let res = app
        .call(
            &learner,
            "apply_to_mentor",
            &form("SQL, with examples", "Worked examples."),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = body_json(app.call(&learner, "my_mentor_application", &[]).await).await;
    assert_eq!(page["application"]["status"], "pending");
    assert_eq!(page["application"]["note"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn only_confirmed_learners_apply_and_only_admins_decide() {
    let app = spawn_app().await;
    let unconfirmed = app.browser();
    let res = app
        .sign_up_unconfirmed(
            &unconfirmed,
            "fresh@example.org",
            "a perfectly fine passphrase",
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .sign_in(
            &unconfirmed,
            "fresh@example.org",
            "a perfectly fine passphrase",
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .call(&unconfirmed, "apply_to_mentor", &form("Rust", "Rust."))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let anonymous = app.browser();
    let res = app
        .call(&anonymous, "apply_to_mentor", &form("Rust", "Rust."))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let learner = app.user_with_roles("applicant@example.org", &[]).await;
    let res = app
        .call(&learner, "apply_to_mentor", &form("Rust", "Rust."))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let id = user_id(&app, &learner).await;
    let mentor = app
        .user_with_roles("a.mentor@example.org", &["mentor"])
        .await;
    for who in [&learner, &mentor] {
        let res = app.call(who, "mentor_applications", &[]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app
            .call(
                who,
                "decide_mentor_application",
                &[("user_id", &id), ("decision", "approve")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(roles(&app, &learner).await, serde_json::json!(["learner"]));
    // The page: signed out it sends to sign-in; for the learner it shows the application.
    let html = learner
        .get(app.url("/mentoring/apply"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("data-status=\"pending\""), "{html}");
    assert!(html.contains("<title>Become a mentor"));
    app.stop().await;
}
