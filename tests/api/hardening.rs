//! Hardening for the real world (issue 18): each test here is an attack seen against the
//! running server, and what an honest user keeps while it happens.

use reqwest::StatusCode;

use crate::helpers::{Browser, Received, TestApp, spawn_app, spawn_app_with};

const GOOD: &str = "a perfectly fine passphrase";

/// Signing in through the plain HTML form (no JavaScript) with `next`, as a crafted link would.
async fn location_after_sign_in(app: &TestApp, next: &str) -> String {
    let res = app
        .browser()
        .post(app.url("/api/sign_in"))
        .header("origin", &app.base)
        // As a browser's form post (without JavaScript) asks: the answer is a redirect.
        .header("accept", "text/html")
        .form(&[
            ("email", "next@example.org"),
            ("password", GOOD),
            ("next", next),
        ])
        .send()
        .await
        .expect("sent");
    assert!(res.status().is_redirection(), "{next:?}: {}", res.status());
    res.headers()
        .get("location")
        .expect("a redirect")
        .to_str()
        .expect("ascii")
        .to_string()
}

#[tokio::test]
async fn sign_in_never_sends_the_browser_to_another_site() {
    let app = spawn_app().await;
    let res = app.sign_up(&app.browser(), "next@example.org", GOOD).await;
    assert_eq!(res.status(), StatusCode::OK);

    // Each of these is a path to the eye, and another host to a browser (or to a proxy that
    // decodes the path once): the sign-in lands on the home page instead.
    for next in [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "//evil.example",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
        "/.//evil.example",
        " //evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "evil.example",
    ] {
        let location = location_after_sign_in(&app, next).await;
        assert_eq!(location, "/", "next={next:?}");
        // What a browser makes of it, on our origin.
        let base = url::Url::parse(&app.base).unwrap();
        assert_eq!(base.join(&location).unwrap().origin(), base.origin());
    }
    // Our own paths, with their query and fragment, still work.
    assert_eq!(
        location_after_sign_in(&app, "/courses?tag=rust&q=a+b#list").await,
        "/courses?tag=rust&q=a+b#list"
    );
    assert_eq!(location_after_sign_in(&app, "/profile").await, "/profile");
}

/// A server function called by a client behind our proxy at `client` (the proxy, at
/// 127.0.0.1, wrote the header; the test app trusts it).
pub(crate) async fn call_from(
    app: &TestApp,
    browser: &Browser,
    client: &str,
    name: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    browser
        .post(app.url(&format!("/api/{name}")))
        .header("origin", &app.base)
        .header("accept", "application/json")
        .header("x-forwarded-for", client)
        .form(form)
        .send()
        .await
        .expect("sent")
}

async fn locale_from(app: &TestApp, client: &str) -> StatusCode {
    call_from(
        app,
        &app.browser(),
        client,
        "set_locale",
        &[("locale", "en")],
    )
    .await
    .status()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_limited_on_its_own_and_nobody_else_can_pick_an_address()
 {
    let limits = [("PAIRWISE_WRITE_RATE", "1"), ("PAIRWISE_WRITE_BURST", "3")];
    let app = spawn_app_with(&[
        limits[0],
        limits[1],
        ("PAIRWISE_TRUSTED_PROXIES", "127.0.0.1/32"),
    ])
    .await;
    // The client wrote an address of its own in front; the proxy appended the real one.
    for _ in 0..3 {
        assert_eq!(
            locale_from(&app, "6.6.6.6, 198.51.100.1").await,
            StatusCode::OK
        );
    }
    assert_eq!(
        locale_from(&app, "7.7.7.7, 198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS,
        "a made-up address on the left must not give a fresh bucket"
    );
    // Another client behind the same proxy is not touched.
    assert_eq!(locale_from(&app, "198.51.100.2").await, StatusCode::OK);
    app.stop().await;

    // Without trusted proxies the header is only text: every "client" is the one TCP peer.
    let app = spawn_app_with(&limits).await;
    for i in 0..3 {
        assert_eq!(
            locale_from(&app, &format!("198.51.100.{i}")).await,
            StatusCode::OK
        );
    }
    assert_eq!(
        locale_from(&app, "198.51.100.9").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    app.stop().await;
}

#[tokio::test]
async fn reading_does_not_use_up_the_writes() {
    let app = spawn_app_with(&[("PAIRWISE_WRITE_RATE", "1"), ("PAIRWISE_WRITE_BURST", "4")]).await;
    let browser = app.browser();
    // Two writes: the sign-up and the confirmation from the mailed link.
    app.sign_up(&browser, "reader@example.org", GOOD).await;
    for _ in 0..20 {
        let res = app.call(&browser, "current_user", &[]).await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app.call(&browser, "get_notifications", &[]).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    // Two writes are still there.
    for _ in 0..2 {
        let res = app.call(&browser, "set_locale", &[("locale", "en")]).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_eq!(
        app.call(&browser, "set_locale", &[("locale", "en")])
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    app.stop().await;
}

async fn sign_in_from(
    app: &TestApp,
    client: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    call_from(
        app,
        &app.browser(),
        client,
        "sign_in",
        &[("email", email), ("password", password)],
    )
    .await
}

#[tokio::test]
async fn wrong_passwords_from_elsewhere_never_lock_the_owner_out() {
    let app = spawn_app_with(&[("PAIRWISE_TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.sign_up(&app.browser(), "owner@example.org", GOOD).await;

    // Someone tries five wrong passwords and is stopped — for that account, from there.
    for _ in 0..5 {
        let res = sign_in_from(&app, "198.51.100.66", "owner@example.org", "guess").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = sign_in_from(&app, "198.51.100.66", "owner@example.org", "guess").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    // Guessing on from more addresses slows the account down (never a lock-out)...
    for client in ["198.51.100.67", "198.51.100.68"] {
        for _ in 0..5 {
            let res = sign_in_from(&app, client, "owner@example.org", "guess").await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
    }
    // ...and the owner, from their own address, gets in with the right password.
    let res = sign_in_from(&app, "203.0.113.10", "owner@example.org", GOOD).await;
    assert_eq!(res.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn sixty_wrong_passwords_at_once_get_no_more_tries_than_the_limit() {
    let app = spawn_app().await;
    app.sign_up(&app.browser(), "target@example.org", GOOD)
        .await;
    let tries = (0..60).map(|_| {
        let app = &app;
        async move {
            app.sign_in(&app.browser(), "target@example.org", "wrong guess")
                .await
                .status()
        }
    });
    let statuses = futures_util::future::join_all(tries).await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked, 5, "{statuses:?}");
    assert_eq!(limited, 55, "{statuses:?}");
    let mut res = app
        .state
        .db
        .query("RETURN count(SELECT * FROM audit WHERE kind = 'sign_in_failed' AND email = 'target@example.org')")
        .await
        .expect("count");
    let recorded: Option<i64> = res.take(0).expect("count");
    assert_eq!(recorded, Some(5));
    app.stop().await;
}

#[tokio::test]
async fn endless_loops_from_three_accounts_cannot_starve_an_honest_submission() {
    use crate::exercises::{enrolled_learner, exercise_course, test_case};
    let app = spawn_app_with(&[("PAIRWISE_GRADER_WORKERS", "2")]).await;
    let tests: Vec<_> = (0..6)
        .map(|i| {
            test_case(
                &format!("answers {i}"),
                "answer()",
                serde_json::json!(42),
                false,
            )
        })
        .collect();
    let limits = app::exercises::model::Limits {
        test_ms: 1_000,
        total_ms: 10_000,
    };
    let lesson = exercise_course(&app, "grader-fairness", None, tests, limits).await;
    let mut flooders = Vec::new();
    for i in 0..3 {
        let who = enrolled_learner(&app, &format!("flood{i}@example.org"), "grader-fairness").await;
        flooders.push(who);
    }
    let honest = enrolled_learner(&app, "honest@example.org", "grader-fairness").await;

    // Each flooder keeps an endless loop in grading (one at a time each, the most allowed).
    let endless = "function answer() { for (;;) { for (;;) {} } }";
    let lesson = lesson.as_str();
    let flood = flooders.iter().map(|who| {
        let app = &app;
        async move {
            let res = app
                .call(
                    who,
                    "submit_exercise",
                    &[("lesson_id", lesson), ("code", endless)],
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK);
        }
    });
    let honest_run = async {
        // Let the flood occupy both workers first.
        tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
        let started = std::time::Instant::now();
        let view =
            crate::exercises::submit(&app, &honest, lesson, "function answer() { return 42; }")
                .await;
        (started.elapsed(), view)
    };
    // A second one while the first is being graded is refused in words.
    let second_try = async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        app.call(
            &flooders[0],
            "submit_exercise",
            &[("lesson_id", lesson), ("code", endless)],
        )
        .await
    };
    let (_, (waited, view), refused) = tokio::join!(
        futures_util::future::join_all(flood),
        honest_run,
        second_try
    );
    assert_eq!(view["summary"]["passed"], 6, "{view}");
    assert_eq!(view["summary"]["total"], 6);
    // Waiting for at most one test's limit (1 s) behind the loops, plus process start-up;
    // without turns it waited for whole 6-test submissions (6 s and more).
    assert!(
        waited < std::time::Duration::from_millis(2_500),
        "the honest submission took {waited:?}"
    );
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = refused.text().await.unwrap();
    assert!(
        body.contains("still being graded") || body.contains("grading_busy"),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn signing_out_and_changing_password_or_role_close_live_sockets_at_once() {
    use crate::helpers::Received;
    let app = spawn_app().await;
    let room = crate::rooms::room(&app, "ends").await;
    let guest_cookies = room.guest.cookie_header();
    // The guest is on the notifications socket and in the room, in this browser.
    let mut live = app.live(&room.guest, None).await.expect("socket");
    live.greeted().await;
    let mut in_room = app
        .room_socket(&room.guest, &room.id, "?since=0", None)
        .await
        .expect("room socket");
    // The same account in a second browser (another session) stays connected.
    let other = app.browser();
    let res = app
        .sign_in(
            &other,
            "guest-ends@pairwise.test",
            "a perfectly fine passphrase",
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut other_live = app.live(&other, None).await.expect("socket");
    other_live.greeted().await;

    let started = std::time::Instant::now();
    let res = app.call(&room.guest, "sign_out", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        live.recv().await,
        Received::Closed(Some(app::realtime::close::ACCESS_ENDED))
    );
    assert_eq!(
        in_room.closed().await,
        Some(app::realtime::close::ACCESS_ENDED)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    // The old cookie cannot open a new one.
    let stale = Browser::with_cookie_header(&guest_cookies);
    assert!(app.live(&stale, None).await.is_err());

    // The other session is still there, until the admin changes the account's roles.
    other_live
        .send(&app::realtime::ClientMessage::Ping { seq: 7 })
        .await;
    assert!(matches!(other_live.recv().await, Received::Message(_)));
    let admin = app.admin().await;
    let me = crate::mentoring::user_id(&app, &other).await;
    let res = app
        .call(
            &admin,
            "set_user_role",
            &[("user_id", &me), ("role", "mentor"), ("granted", "true")],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    assert_eq!(
        other_live.recv().await,
        Received::Closed(Some(app::realtime::close::ACCESS_ENDED))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_course_folder_with_a_symbolic_link_is_refused_and_nothing_is_read_through_it() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("course.toml"),
        "slug = \"linked\"\ntitle = \"Linked\"\nlanguage = \"en\"\nlevel = \"beginner\"\n\n\
         [[section]]\ntitle = \"One\"\n\n[[section.lesson]]\ntitle = \"Secrets\"\nkind = \"text\"\nfile = \"lesson.md\"\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("lesson.md")).unwrap();
    let err = server::course_files::import(&app.state, dir.path(), dir.path())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("lesson.md:1: a symbolic link"), "{err}");
    assert_eq!(
        app::courses::repo::course_count(&app.state.db)
            .await
            .unwrap(),
        0,
        "nothing was stored"
    );
    // A linked folder on the way is refused the same way.
    std::fs::remove_file(dir.path().join("lesson.md")).unwrap();
    let real = tempfile::tempdir().unwrap();
    std::fs::write(real.path().join("lesson.md"), "# Hi").unwrap();
    std::os::unix::fs::symlink(real.path(), dir.path().join("texts")).unwrap();
    let toml = std::fs::read_to_string(dir.path().join("course.toml"))
        .unwrap()
        .replace("file = \"lesson.md\"", "file = \"texts/lesson.md\"");
    std::fs::write(dir.path().join("course.toml"), toml).unwrap();
    let err = server::course_files::import(&app.state, dir.path(), dir.path())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("a symbolic link"), "{err}");
    app.stop().await;
}

#[tokio::test]
async fn a_mentor_sees_no_hidden_tests_and_loses_access_with_the_role() {
    use crate::exercises::{enrolled_learner, exercise_course, submit, test_case};
    use crate::mentoring::{mentor, mentored, user_id};
    let app = spawn_app().await;
    let lesson = exercise_course(
        &app,
        "mentor-access",
        None,
        vec![
            test_case("visible", "answer()", serde_json::json!(42), false),
            test_case("secret input", "answer() + 1", serde_json::json!(43), true),
        ],
        app::exercises::model::Limits::DEFAULT,
    )
    .await;
    let learner = enrolled_learner(&app, "mentee@example.org", "mentor-access").await;
    let (m, mentor_id) = mentor(&app, "access-mentor", "3").await;
    mentored(&app, &m, &mentor_id, &learner).await;
    let view = submit(&app, &learner, &lesson, "function answer() { return 42; }").await;
    let id = view["summary"]["id"].as_str().unwrap().to_string();
    let learner_id = user_id(&app, &learner).await;

    // The learner's mentor reviews, but the hidden test stays hidden: they do not author it.
    let res = app
        .call(&m, "get_submission", &[("id", &id), ("against", "")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let seen = crate::helpers::body_json(res).await;
    assert_eq!(seen["can_review"], true);
    let hidden = &seen["results"][1];
    assert_eq!(hidden["hidden"], true);
    assert_eq!(hidden["call"], serde_json::Value::Null, "{seen}");
    assert_ne!(hidden["name"], "secret input");
    let res = app
        .call(
            &m,
            "learner_dashboard",
            &[("learner", &learner_id), ("days", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // The admin takes the mentor role away: the access ends with it, on the next request.
    let admin = app.admin().await;
    let res = app
        .call(
            &admin,
            "set_user_role",
            &[
                ("user_id", &mentor_id),
                ("role", "mentor"),
                ("granted", "false"),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let res = app
        .call(&m, "get_submission", &[("id", &id), ("against", "")])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .call(
            &m,
            "learner_dashboard",
            &[("learner", &learner_id), ("days", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn one_account_cannot_open_live_sockets_without_end() {
    let app = spawn_app().await;
    let who = app.user_with_roles("sockets@example.org", &[]).await;
    let mut open = Vec::new();
    for _ in 0..app::realtime::MAX_SOCKETS_PER_USER {
        let mut live = app.live(&who, None).await.expect("socket");
        live.greeted().await;
        open.push(live);
    }
    let refused = app.live(&who, None).await.err();
    assert_eq!(refused.as_ref().map(|r| r.0), Some(429), "{refused:?}");
    // Room sockets count against the same cap.
    let room = crate::rooms::room(&app, "socket-cap").await;
    let mut full = Vec::new();
    for _ in 0..app::realtime::MAX_SOCKETS_PER_USER {
        full.push(app.live(&room.guest, None).await.expect("socket"));
    }
    let refused = app.room_socket(&room.guest, &room.id, "", None).await.err();
    assert_eq!(refused.as_ref().map(|r| r.0), Some(429), "{refused:?}");
    drop(full.pop());
    let mut joined = None;
    for _ in 0..50 {
        if let Ok(socket) = app.room_socket(&room.guest, &room.id, "", None).await {
            joined = Some(socket);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        joined.is_some(),
        "a closed /ws gives its place to a room socket"
    );
    // Another account is not affected, and closing one frees a place.
    let other = app.user_with_roles("other-sockets@example.org", &[]).await;
    assert!(app.live(&other, None).await.is_ok());
    drop(open.pop());
    let mut reopened = None;
    for _ in 0..50 {
        if let Ok(live) = app.live(&who, None).await {
            reopened = Some(live);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(reopened.is_some(), "a closed socket gives its place back");
    app.stop().await;
}

#[tokio::test]
async fn either_side_ends_a_mentorship_and_access_sessions_and_the_place_go_with_it() {
    use crate::helpers::body_json;
    use crate::mentoring::{book, learner, mentor, mentored, user_id};
    let app = spawn_app().await;
    let (m, mentor_id) = mentor(&app, "ending-mentor", "1").await;
    let first = learner(&app, "ending-first").await;
    let first_id = user_id(&app, &first).await;
    let ms = mentored(&app, &m, &mentor_id, &first).await;
    let page = body_json(app.call(&first, "get_mentorship", &[("id", &ms)]).await).await;
    let start = page["slots"][0]["start"]
        .as_str()
        .expect("a free slot")
        .to_string();
    let res = book(&app, &first, &ms, &start).await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let home = body_json(app.call(&first, "mentoring_home", &[]).await).await;
    let booking = home["upcoming"][0]["id"]
        .as_str()
        .expect("a booking")
        .to_string();

    // The mentor is full: a second learner cannot even ask.
    let second = learner(&app, "ending-second").await;
    let form = [
        ("mentor", mentor_id.as_str()),
        ("goals", "Databases"),
        ("skills", "SQL: beginner"),
        ("languages", "en"),
        ("windows", "mon 19:00-22:00"),
        ("timezone", "Europe/Berlin"),
    ];
    let res = app.call(&second, "send_request", &form).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("mentor_full"));

    // Someone outside it cannot end it (nor learn that it exists); the learner can.
    let res = app
        .call(&second, "end_mentorship", &[("mentorship", &ms)])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .call(&first, "end_mentorship", &[("mentorship", &ms)])
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let res = app.call(&m, "end_mentorship", &[("mentorship", &ms)]).await;
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "ending twice is refused in words"
    );
    assert!(res.text().await.unwrap().contains("mentorship_ended"));

    // The mentor's access to the learner's dashboard ends at once, the session ahead is
    // cancelled (both see it), questions stop, and the mentor is told.
    let res = app
        .call(
            &m,
            "learner_dashboard",
            &[("learner", &first_id), ("days", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    for who in [&first, &m] {
        let b = body_json(app.call(who, "get_booking", &[("id", &booking)]).await).await;
        assert_eq!(b["cancelled"], true, "{b}");
    }
    let res = app
        .call(
            &first,
            "post_question",
            &[
                ("mentorship", &ms),
                ("parent", ""),
                ("body", "Still there?"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let notes = body_json(app.call(&m, "get_notifications", &[]).await).await;
    assert!(
        notes[0].as_array().unwrap().iter().any(|n| n["text"]
            .as_str()
            .unwrap_or_default()
            .ends_with("ended your mentorship.")),
        "{notes}"
    );
    let mut res = app
        .state
        .db
        .query("RETURN array::len((SELECT VALUE id FROM slot_hold))")
        .await
        .unwrap();
    let holds: Option<i64> = res.take(0).unwrap();
    assert_eq!(holds, Some(0), "the cancelled session's slot is free again");

    // The place is free again: the second learner asks and is accepted.
    let res = app.call(&second, "send_request", &form).await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let sent = body_json(app.call(&second, "mentoring_home", &[]).await).await["sent"][0]["id"]
        .as_str()
        .expect("a request")
        .to_string();
    let res = app
        .call(
            &m,
            "answer_request",
            &[("id", sent.as_str()), ("accept", "true")],
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    app.stop().await;
}

#[tokio::test]
async fn calendar_feed_secrets_are_stored_hashed_and_old_addresses_keep_working() {
    use crate::mentoring::user_id;
    let app = spawn_app().await;
    let owner = app.user_with_roles("feed-owner@example.org", &[]).await;
    let owner_id = user_id(&app, &owner).await;
    // A feed made before addresses were hashed: its record is keyed by the secret itself.
    let old_secret = "oldfeedsecret0123456789abcdef";
    app.state
        .db
        .query("CREATE type::record('calendar_feed', $s) SET user = type::record('user', $u), created_at = time::now()")
        .bind(("s", old_secret))
        .bind(("u", owner_id.clone()))
        .await
        .unwrap()
        .check()
        .unwrap();
    let server = &app;
    let feed = |secret: String| {
        let url = server.url(&format!("/calendar/{secret}.ics"));
        async move { server.browser().get(url).send().await.unwrap().status() }
    };
    assert_eq!(
        feed(old_secret.into()).await,
        StatusCode::NOT_FOUND,
        "looked up by hash now"
    );
    // The upgrade re-keys it by its hash: the address its owner has works again, and the
    // database no longer holds the secret.
    app.state
        .db
        .query(include_str!("../../server/migrations/0010_hardening.surql"))
        .await
        .unwrap()
        .check()
        .unwrap();
    assert_eq!(feed(old_secret.into()).await, StatusCode::OK);
    let keys = crate::mentoring::feed_keys(&app).await;
    assert_eq!(keys.len(), 1);
    assert_ne!(keys[0], old_secret);
    // A new address is shown once and works; the old one stops.
    let res = app.call(&owner, "rotate_calendar_feed", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let url = crate::helpers::body_json(res).await;
    let url = url.as_str().expect("the new address").to_string();
    let secret = url
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".ics")
        .to_string();
    assert_eq!(feed(secret.clone()).await, StatusCode::OK);
    assert_eq!(feed(old_secret.into()).await, StatusCode::NOT_FOUND);
    let keys = crate::mentoring::feed_keys(&app).await;
    assert_eq!(keys.len(), 1);
    assert!(!keys[0].contains(&secret));
    // The page shows no address afterwards, only that one is set.
    let page = owner.get(app.url("/mentoring")).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(!html.contains(&secret));
    assert!(html.contains("data-testid=\"calendar-feed-set\""));
    app.stop().await;
}

#[tokio::test]
async fn the_server_caps_its_live_sockets_and_a_place_comes_back_when_one_closes() {
    let app = spawn_app_with(&[("PAIRWISE_MAX_SOCKETS", "3")]).await;
    let a = app.user_with_roles("cap-a@example.org", &[]).await;
    let b = app.user_with_roles("cap-b@example.org", &[]).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut live = app.live(&a, None).await.expect("socket");
        live.greeted().await;
        open.push(live);
    }
    // Full: someone else is told, in words, to come back shortly (503).
    let refused = app.live(&b, None).await.err();
    assert_eq!(refused.as_ref().map(|r| r.0), Some(503), "{refused:?}");
    assert!(refused.unwrap().1.contains("try again"));
    drop(open.pop());
    let mut reopened = None;
    for _ in 0..50 {
        if let Ok(live) = app.live(&b, None).await {
            reopened = Some(live);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(reopened.is_some());
    assert_eq!(app.state.live_sockets.total(), 3);
    app.stop().await;
}

#[tokio::test]
async fn a_silent_live_client_is_dropped_and_a_live_one_stays() {
    use app::realtime::{ClientMessage, ServerMessage};
    let app = spawn_app_with(&[("PAIRWISE_WS_IDLE", "2s")]).await;
    let who = app.user_with_roles("silent@example.org", &[]).await;
    let mut silent = app.live(&who, None).await.expect("socket");
    silent.greeted().await;
    let mut talking = app.live(&who, None).await.expect("socket");
    talking.greeted().await;
    // The talking one sends every half second for five seconds; the silent one reads
    // nothing, so it answers no ping either.
    for seq in 0..10 {
        talking.send(&ClientMessage::Ping { seq }).await;
        assert_eq!(
            talking.recv().await,
            Received::Message(ServerMessage::Pong { seq })
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    // Closed by the server (a client that reads in time sees code 4408; this one's late
    // answer to a ping may meet a reset instead, so only the closing is asserted here, and
    // the server's own count below).
    assert!(matches!(silent.recv().await, Received::Closed(_)));
    talking.send(&ClientMessage::Ping { seq: 99 }).await;
    assert_eq!(
        talking.recv().await,
        Received::Message(ServerMessage::Pong { seq: 99 })
    );
    assert_eq!(
        app.state
            .live_sockets
            .count(&crate::mentoring::user_id(&app, &who).await),
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn news_for_a_user_is_read_once_however_many_sockets_they_have() {
    let app = spawn_app().await;
    let (who, id) = crate::mentoring::mentor(&app, "many-tabs", "3").await;
    let mut tabs = Vec::new();
    for _ in 0..10 {
        let mut live = app.live(&who, None).await.expect("socket");
        live.greeted().await;
        tabs.push(live);
    }
    // Something new for them (a socket sends only news it has not shown): a mentoring request.
    let asker = crate::mentoring::learner(&app, "asker").await;
    let before = app.state.notifier.reads();
    let res = app
        .call(
            &asker,
            "send_request",
            &crate::mentoring::request_form(&id, "Many tabs"),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    for tab in &mut tabs {
        let got = tab.recv().await;
        assert!(
            matches!(
                got,
                Received::Message(app::realtime::ServerMessage::Notifications { .. })
            ),
            "{got:?}"
        );
    }
    assert_eq!(
        app.state.notifier.reads() - before,
        1,
        "one read for ten sockets"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_second_socket_does_not_double_what_one_person_may_send_in_a_room() {
    use crate::helpers::RoomReceived;
    use app::{
        error::AppError,
        rooms::model::{ROOM_MESSAGE_BURST, RoomClientMessage as C, RoomServerMessage as S},
    };
    let app = spawn_app().await;
    let room = crate::rooms::room(&app, "budgets").await;
    let (mut first, _) = crate::rooms::join(&app, &room.guest, &room.id, "").await;
    let (mut second, _) = crate::rooms::join(&app, &room.guest, &room.id, "").await;
    // Two thirds of one person's burst on each socket: alone, either would be fine.
    let n = (ROOM_MESSAGE_BURST * 2.0 / 3.0) as u32;
    let mut outcome = Vec::new();
    for socket in [&mut first, &mut second] {
        for seq in 0..n {
            socket.send(&C::Ping { seq }).await;
        }
        let mut limited = false;
        loop {
            match socket.recv().await {
                RoomReceived::Message(S::Pong { seq }) if seq + 1 == n => break,
                RoomReceived::Message(S::Error {
                    error: AppError::RateLimited { .. },
                    ..
                }) => limited = true,
                RoomReceived::Message(_) => {}
                RoomReceived::Closed(code) => {
                    assert_eq!(code, Some(app::rooms::model::close::POLICY));
                    break;
                }
            }
        }
        outcome.push(limited);
    }
    assert_eq!(
        outcome,
        [false, true],
        "the budget is the person's, not the socket's"
    );
    // Someone else in the room still has all of theirs.
    let (mut host, _) = crate::rooms::join(&app, &room.host, &room.id, "").await;
    for seq in 0..n {
        host.send(&C::Ping { seq }).await;
    }
    let last = host
        .until(|m| match m {
            S::Pong { seq } if seq + 1 == n => Some(*seq),
            S::Error { .. } => panic!("the host was limited: {m:?}"),
            _ => None,
        })
        .await;
    assert_eq!(last + 1, n);
    app.stop().await;
}
