//! Admin tools: finding people, a person's page, suspension (signed out everywhere at once,
//! refused at sign-in with the reason), ending one session, and the audit log.

use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    helpers::{Browser, Received, TestApp, body_json, spawn_app},
    mentoring::user_id,
};

const PASSWORD: &str = "a perfectly fine passphrase";

async fn found(app: &TestApp, admin: &Browser, form: &[(&str, &str)]) -> Vec<String> {
    let res = app.call(admin, "admin_search_users", form).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = body_json(res).await;
    body["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["email"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn admins_find_people_by_name_address_and_role_a_page_at_a_time() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    app.user_with_roles("ada.lovelace@example.org", &[]).await;
    app.user_with_roles("grace@example.org", &["mentor"]).await;
    app.user_with_roles("linus@example.org", &["moderator"])
        .await;

    assert_eq!(
        found(&app, &admin, &[("q", "ADA.love")]).await,
        vec!["ada.lovelace@example.org"]
    );
    assert_eq!(
        found(&app, &admin, &[("role", "mentor")]).await,
        vec!["grace@example.org"]
    );
    assert!(
        found(&app, &admin, &[("q", "nobody-like-this")])
            .await
            .is_empty()
    );
    // Display names are searched too: every account but the admins (made by the test
    // helpers) is "Test User".
    let admins = found(&app, &admin, &[("q", "test admin")]).await;
    assert!(!admins.is_empty());
    assert!(
        admins.iter().all(|a| a.ends_with("@pairwise.test")),
        "{admins:?}"
    );
    // Pages of 25, newest first, with "more" while there are more.
    for i in 0..26 {
        app.user_with_roles(&format!("many{i:02}@example.org"), &[])
            .await;
    }
    let first = body_json(
        app.call(&admin, "admin_search_users", &[("q", "many")])
            .await,
    )
    .await;
    assert_eq!(first["users"].as_array().map(Vec::len), Some(25));
    assert_eq!(first["more"], true);
    assert_eq!(first["users"][0]["email"], "many25@example.org");
    let second = body_json(
        app.call(
            &admin,
            "admin_search_users",
            &[("q", "many"), ("page", "1")],
        )
        .await,
    )
    .await;
    assert_eq!(second["users"].as_array().map(Vec::len), Some(1));
    assert_eq!(second["more"], false);
    assert_eq!(second["users"][0]["email"], "many00@example.org");

    // The page works without JavaScript: a plain GET, the people in the HTML.
    let html = admin
        .get(app.url("/admin?q=ada"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("ada.lovelace@example.org"), "{html}");
    assert!(!html.contains("grace@example.org"));
    app.stop().await;
}

#[tokio::test]
async fn a_suspended_account_is_signed_out_at_once_and_told_why_when_it_signs_in() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let admin_id = user_id(&app, &admin).await;
    let learner = app.user_with_roles("suspect@example.org", &[]).await;
    let id = user_id(&app, &learner).await;
    let mut live = app.live(&learner, None).await.expect("a live socket");
    live.greeted().await;

    // Words are required, and nobody suspends themself.
    let res = app
        .call(
            &admin,
            "suspend_user",
            &[("user_id", &id), ("reason", "  ")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(res).await["problem"], "suspend_reason_empty");
    let res = app
        .call(
            &admin,
            "suspend_user",
            &[("user_id", &admin_id), ("reason", "testing")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(res).await["problem"], "suspend_self");
    let res = app
        .call(
            &admin,
            "suspend_user",
            &[("user_id", "nosuchuser"), ("reason", "spam")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(body_json(app.call(&learner, "current_user", &[]).await).await["id"].is_string());

    let res = app
        .call(
            &admin,
            "suspend_user",
            &[("user_id", &id), ("reason", "Spam in the forum")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The open socket closes within a second; the session is dead.
    let closed = tokio::time::timeout(std::time::Duration::from_secs(1), live.recv())
        .await
        .expect("closed within a second");
    assert!(matches!(closed, Received::Closed(_)), "{closed:?}");
    assert_eq!(
        body_json(app.call(&learner, "current_user", &[]).await).await,
        Value::Null
    );
    // The right password is told why; a wrong one learns nothing.
    let res = app
        .sign_in(&Browser::new(), "suspect@example.org", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body = res.text().await.expect("body");
    assert!(body.contains("Spam in the forum"), "{body}");
    let res = app
        .sign_in(&Browser::new(), "suspect@example.org", "not the password")
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // A new socket is refused too.
    assert!(app.live(&learner, None).await.is_err());

    // The admin's page shows it; lifting it lets them back in.
    let page = body_json(app.call(&admin, "admin_user", &[("id", &id)]).await).await;
    assert_eq!(page["suspended"]["reason"], "Spam in the forum", "{page}");
    assert_eq!(page["sessions"].as_array().map(Vec::len), Some(0));
    let res = app
        .call(&admin, "unsuspend_user", &[("user_id", &id)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .call(&admin, "unsuspend_user", &[("user_id", &id)])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let back = Browser::new();
    let res = app.sign_in(&back, "suspect@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);

    // Every step is audited, with the admin as the actor.
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
    assert_eq!(
        kinds[..5],
        [
            "sign_in",
            "user_unsuspended",
            "sign_in_failed",
            "sign_in_suspended",
            "user_suspended",
        ],
        "{log}"
    );
    let suspended = &log["entries"][4];
    assert_eq!(suspended["actor"]["id"], admin_id.as_str());
    assert_eq!(suspended["detail"], "Spam in the forum");
    app.stop().await;
}

#[tokio::test]
async fn ending_one_session_signs_out_that_device_only() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let phone = app.user_with_roles("two.devices@example.org", &[]).await;
    let id = user_id(&app, &phone).await;
    let laptop = Browser::new();
    let res = app
        .sign_in(&laptop, "two.devices@example.org", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut phone_live = app.live(&phone, None).await.expect("socket");
    phone_live.greeted().await;
    let mut laptop_live = app.live(&laptop, None).await.expect("socket");
    laptop_live.greeted().await;

    let page = body_json(app.call(&admin, "admin_user", &[("id", &id)]).await).await;
    let sessions = page["sessions"].as_array().expect("sessions").clone();
    assert_eq!(sessions.len(), 2, "{page}");
    // The most recently used first: the laptop signed in last.
    let laptop_session = sessions[0]["id"].as_str().expect("id").to_string();

    // Someone else's session, or none, is not found.
    let other = app.user_with_roles("other@example.org", &[]).await;
    let other_id = user_id(&app, &other).await;
    let res = app
        .call(
            &admin,
            "end_user_session",
            &[("user_id", &other_id), ("session", &laptop_session)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let res = app
        .call(
            &admin,
            "end_user_session",
            &[("user_id", &id), ("session", &laptop_session)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let closed = tokio::time::timeout(std::time::Duration::from_secs(1), laptop_live.recv())
        .await
        .expect("closed within a second");
    assert!(matches!(closed, Received::Closed(_)), "{closed:?}");
    assert_eq!(
        body_json(app.call(&laptop, "current_user", &[]).await).await,
        Value::Null
    );
    // The phone goes on.
    assert_eq!(
        body_json(app.call(&phone, "current_user", &[]).await).await["id"],
        id.as_str()
    );
    let still =
        tokio::time::timeout(std::time::Duration::from_millis(300), phone_live.recv()).await;
    assert!(still.is_err(), "the phone's socket stays open: {still:?}");
    let log = body_json(
        app.call(&admin, "admin_audit_log", &[("kind", "session_ended")])
            .await,
    )
    .await;
    assert_eq!(log["entries"].as_array().map(Vec::len), Some(1), "{log}");
    assert_eq!(log["entries"][0]["user"]["id"], id.as_str());
    app.stop().await;
}

#[tokio::test]
async fn a_persons_page_shows_their_courses_mentorships_and_recent_entries() {
    use crate::{exercises, mentoring};
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, mentor_id) = mentoring::mentor(&app, "page-mentor", "3").await;
    exercises::exercise_course(
        &app,
        "taught",
        Some(&app::ids::UserId(mentor_id.clone())),
        vec![exercises::test_case(
            "visible",
            "answer()",
            serde_json::json!(42),
            false,
        )],
        app::exercises::model::Limits::DEFAULT,
    )
    .await;
    let learner = exercises::enrolled_learner(&app, "curious@example.org", "taught").await;
    let id = user_id(&app, &learner).await;
    mentoring::mentored(&app, &mentor, &mentor_id, &learner).await;

    let res = app
        .call(&admin, "admin_user", &[("id", "nosuchuser")])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app.call(&admin, "admin_user", &[("id", "../etc")]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let page = body_json(app.call(&admin, "admin_user", &[("id", &id)]).await).await;
    assert_eq!(page["email"], "curious@example.org");
    assert_eq!(page["roles"], serde_json::json!(["learner"]));
    assert_eq!(page["is_self"], false);
    assert_eq!(page["sessions"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["enrolled"][0]["slug"], "taught", "{page}");
    assert_eq!(page["mentorships"][0]["other_name"], "Mentor Mei", "{page}");
    assert_eq!(page["mentorships"][0]["as_mentor"], false);
    let kinds: Vec<&str> = page["audit"]
        .as_array()
        .expect("audit")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"sign_up"), "{kinds:?}");
    // The mentor's page: the course they wrote, the learner they mentor.
    let theirs = body_json(app.call(&admin, "admin_user", &[("id", &mentor_id)]).await).await;
    assert_eq!(theirs["authored"][0]["slug"], "taught", "{theirs}");
    assert_eq!(theirs["mentorships"][0]["as_mentor"], true);
    assert_eq!(theirs["mentorships"][0]["other_id"], id.as_str());

    // The page itself: 200 with the name as its title for an admin, 404 for nobody.
    let html = admin
        .get(app.url(&format!("/admin/users/{id}")))
        .send()
        .await
        .expect("page");
    assert_eq!(html.status(), StatusCode::OK);
    let html = html.text().await.expect("html");
    assert!(html.contains("curious@example.org"), "{html}");
    assert!(html.contains("<title>Test User"), "{html}");
    let missing = admin
        .get(app.url("/admin/users/nosuchuser"))
        .send()
        .await
        .expect("page");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn only_admins_reach_the_admin_tools_and_pages() {
    let app = spawn_app().await;
    let learner = app.user_with_roles("plain@example.org", &[]).await;
    let moderator = app.user_with_roles("mod@example.org", &["moderator"]).await;
    let id = user_id(&app, &learner).await;
    for who in [&learner, &moderator] {
        for (name, form) in [
            ("admin_search_users", vec![]),
            ("admin_user", vec![("id", id.as_str())]),
            ("admin_audit_log", vec![]),
            (
                "suspend_user",
                vec![("user_id", id.as_str()), ("reason", "no")],
            ),
            ("unsuspend_user", vec![("user_id", id.as_str())]),
            (
                "end_user_session",
                vec![("user_id", id.as_str()), ("session", "x")],
            ),
        ] {
            let res = app.call(who, name, &form).await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{name}");
        }
        for path in ["/admin", "/admin/audit", &format!("/admin/users/{id}")] {
            let res = who.get(app.url(path)).send().await.expect("page");
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        }
    }
    // Nothing changed: the learner is still signed in.
    assert_eq!(
        body_json(app.call(&learner, "current_user", &[]).await).await["id"],
        id.as_str()
    );
    app.stop().await;
}

#[tokio::test]
async fn the_audit_log_filters_by_kind_and_person_and_pages() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let someone = app.user_with_roles("someone@example.org", &[]).await;
    let id = user_id(&app, &someone).await;
    for _ in 0..3 {
        app.sign_in(&Browser::new(), "someone@example.org", "wrong password")
            .await;
    }
    let failed = body_json(
        app.call(
            &admin,
            "admin_audit_log",
            &[
                ("kind", "sign_in_failed"),
                ("person", "someone@example.org"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(
        failed["entries"].as_array().map(Vec::len),
        Some(3),
        "{failed}"
    );
    assert_eq!(failed["entries"][0]["what"], "Failed sign-in");
    assert_eq!(failed["entries"][0]["user"]["id"], id.as_str());
    // An address nobody has, or a key that cannot be one, finds nothing (not everything).
    for person in ["nobody@example.org", "not a key!"] {
        let none = body_json(
            app.call(&admin, "admin_audit_log", &[("person", person)])
                .await,
        )
        .await;
        assert_eq!(
            none["entries"].as_array().map(Vec::len),
            Some(0),
            "{person}"
        );
    }
    // An unknown kind is no filter.
    let all = body_json(
        app.call(&admin, "admin_audit_log", &[("kind", "'; DELETE audit")])
            .await,
    )
    .await;
    assert!(all["entries"].as_array().map_or(0, Vec::len) >= 5, "{all}");
    assert_eq!(all["query"]["kind"], Value::Null);
    // Pages of 50 (entries written straight into the table: fifty failed sign-ins from one
    // address would meet the sign-in throttle first).
    app.state
        .db
        .query(
            "FOR $i IN 0..50 {
                CREATE audit SET kind = 'sign_in_failed', email = 'x@example.org',
                    at = time::now() - 1d;
            }",
        )
        .await
        .expect("entries")
        .check()
        .expect("written");
    let first = body_json(app.call(&admin, "admin_audit_log", &[]).await).await;
    assert_eq!(first["entries"].as_array().map(Vec::len), Some(50));
    assert_eq!(first["more"], true);
    let second = body_json(app.call(&admin, "admin_audit_log", &[("page", "1")]).await).await;
    assert!(second["entries"].as_array().map_or(0, Vec::len) >= 5);
    let firsts: Vec<&Value> = first["entries"].as_array().expect("e").iter().collect();
    assert!(
        second["entries"]
            .as_array()
            .expect("e")
            .iter()
            .all(|e| !firsts.iter().any(|f| f["id"] == e["id"]))
    );
    // In Chinese, the kinds read in Chinese.
    let res = app
        .call(&admin, "set_locale", &[("locale", "zh-Hans")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let zh = body_json(
        app.call(&admin, "admin_audit_log", &[("kind", "sign_in_failed")])
            .await,
    )
    .await;
    assert_eq!(zh["entries"][0]["what"], "登录失败");
    app.stop().await;
}

#[tokio::test]
async fn a_suspended_mentor_leaves_the_directory_and_takes_no_requests() {
    use crate::mentoring::{learner, mentor, request_form};
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_m, mentor_id) = mentor(&app, "suspended-mentor", "3").await;
    let l = learner(&app, "would-be-mentee").await;
    let listed = |v: &Value| {
        v.as_array()
            .expect("mentors")
            .iter()
            .any(|m| m["id"] == mentor_id.as_str())
    };
    let dir = body_json(app.call(&l, "mentor_directory", &[]).await).await;
    assert!(listed(&dir), "{dir}");
    let res = app
        .call(
            &admin,
            "suspend_user",
            &[("user_id", &mentor_id), ("reason", "Under review")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let dir = body_json(app.call(&l, "mentor_directory", &[]).await).await;
    assert!(!listed(&dir), "{dir}");
    let res = app
        .call(&l, "send_request", &request_form(&mentor_id, "Learn Rust"))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(res).await["problem"], "mentor_unavailable");
    app.stop().await;
}
