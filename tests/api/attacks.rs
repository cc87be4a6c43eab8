//! The attack corpus of issue 18 against one server at once, behind a (trusted) proxy, while
//! honest people use it: each round of the honest people's work must come back right while
//! every attack runs. Each attack has its own focused test elsewhere (hardening.rs,
//! confinement.rs, verification.rs, pairing.rs); this one shows they hold together.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    exercises::{enrolled_learner, exercise_course, submit, test_case},
    hardening::call_from as from,
    helpers::{body_json, spawn_app_with},
};

const GOOD: &str = "a perfectly fine passphrase";

#[tokio::test]
async fn every_attack_at_once_leaves_honest_people_with_right_answers() {
    let app = spawn_app_with(&[
        ("PAIRWISE_TRUSTED_PROXIES", "127.0.0.1"),
        ("PAIRWISE_GRADER_WORKERS", "2"),
    ])
    .await;
    let limits = app::exercises::model::Limits::parse(1_000, 6_000).unwrap();
    let tests = (0..3)
        .map(|i| test_case(&format!("answers {i}"), "answer()", json!(42), false))
        .collect();
    let lesson = exercise_course(&app, "corpus", None, tests, limits).await;
    let honest = enrolled_learner(&app, "honest@example.org", "corpus").await;
    let mut flooders = Vec::new();
    for i in 0..3 {
        flooders.push(enrolled_learner(&app, &format!("flood{i}@example.org"), "corpus").await);
    }
    let socket_hog = app.user_with_roles("hog@example.org", &[]).await;

    let attacks = async {
        // Endless loops from three accounts, again and again.
        let grader = futures_util::future::join_all(flooders.iter().map(|who| {
            let (app, lesson) = (&app, lesson.as_str());
            async move {
                for _ in 0..3 {
                    let res = app
                        .call(
                            who,
                            "submit_exercise",
                            &[
                                ("lesson_id", lesson),
                                ("code", "function answer() { for (;;) {} }"),
                            ],
                        )
                        .await;
                    assert!(
                        res.status() == StatusCode::OK
                            || res.status() == StatusCode::TOO_MANY_REQUESTS,
                        "{}",
                        res.status()
                    );
                }
            }
        }));
        // Fifty addresses guessing the honest learner's password.
        let guessing = futures_util::future::join_all((0..50).map(|i| {
            let app = &app;
            async move {
                let client = format!("198.51.100.{}", i + 1);
                for _ in 0..6 {
                    let res = from(
                        app,
                        &app.browser(),
                        &client,
                        "sign_in",
                        &[("email", "honest@example.org"), ("password", "guess")],
                    )
                    .await;
                    assert!(matches!(res.status().as_u16(), 401 | 429));
                }
            }
        }));
        // One account holding live sockets open past its cap.
        let sockets = async {
            let mut open = Vec::new();
            let mut refused = None;
            for _ in 0..=app::realtime::MAX_SOCKETS_PER_USER {
                match app.live(&socket_hog, None).await {
                    Ok(live) => open.push(live),
                    Err(e) => refused = Some(e.0),
                }
            }
            assert_eq!(refused, Some(429));
            open
        };
        // Sign-up probing for who has an account, and an open-redirect link.
        let probing = async {
            let mut answers = Vec::new();
            for email in ["honest@example.org", "nobody-here@example.org"] {
                let res = from(
                    &app,
                    &app.browser(),
                    "203.0.113.77",
                    "sign_up",
                    &[
                        ("email", email),
                        ("display_name", "Probe"),
                        ("password", GOOD),
                        ("accept", "yes"),
                    ],
                )
                .await;
                answers.push((res.status(), res.text().await.unwrap_or_default()));
            }
            assert_eq!(answers[0], answers[1], "sign-up tells who has an account");
            let res = app
                .browser()
                .post(app.url("/api/sign_in"))
                .header("origin", &app.base)
                .header("accept", "text/html")
                .header("x-forwarded-for", "203.0.113.78")
                .form(&[
                    ("email", "hog@example.org"),
                    ("password", GOOD),
                    ("next", "/\t/evil.example"),
                ])
                .send()
                .await
                .expect("sent");
            let location = res.headers()["location"].to_str().unwrap().to_string();
            let base = url::Url::parse(&app.base).unwrap();
            assert_eq!(base.join(&location).unwrap().origin(), base.origin());
        };
        let (_, _, open, _) = tokio::join!(grader, guessing, sockets, probing);
        open
    };

    // The honest learner, from their own address, all the while.
    let honest_work = async {
        // Let the attacks get going first.
        tokio::time::sleep(Duration::from_millis(500)).await;
        for round in 0..3 {
            let me = app.browser();
            let res = from(
                &app,
                &me,
                "192.0.2.10",
                "sign_in",
                &[("email", "honest@example.org"), ("password", GOOD)],
            )
            .await;
            assert_eq!(res.status(), StatusCode::OK, "round {round}: sign-in");
            let user = body_json(from(&app, &me, "192.0.2.10", "current_user", &[]).await).await;
            assert_eq!(user["email"], "honest@example.org", "round {round}");
            let graded = submit(&app, &honest, &lesson, "function answer() { return 42; }").await;
            assert_eq!(graded["summary"]["passed"], 3, "round {round}: {graded}");
            let res = app.call(&honest, "get_notifications", &[]).await;
            assert_eq!(res.status(), StatusCode::OK, "round {round}");
            let mut live = app.live(&honest, None).await.expect("a live socket");
            live.greeted().await;
        }
    };
    let (_sockets, ()) = tokio::join!(attacks, honest_work);
    let health = app.browser().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    app.stop().await;
}
