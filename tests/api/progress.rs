//! Progress: scores computed from the stored records, awards that a replayed event never
//! doubles, dashboards shown only to the learner, their mentors and admins, weights refused
//! outside [0, 1], leaderboards with an opt-out, and recommendations with their reasons.

use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    exercises,
    helpers::{Browser, TestApp, body_json, spawn_app},
    mentoring,
};

async fn dashboard(app: &TestApp, who: &Browser, learner: &str) -> (StatusCode, Value) {
    let res = app
        .call(
            who,
            "learner_dashboard",
            &[("learner", learner), ("days", "30")],
        )
        .await;
    let status = res.status();
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

const PASSING: &str = "function answer() { return 42; }\nfunction double(x) { return 2 * x; }";

fn two_tests() -> Vec<app::exercises::model::TestCase> {
    vec![
        exercises::test_case("answers", "answer()", serde_json::json!(42), false),
        exercises::test_case("doubles", "double(21)", serde_json::json!(42), false),
    ]
}

async fn badge_rows(app: &TestApp, user: &str) -> (i64, i64, i64) {
    let mut res = app
        .state
        .db
        .query(
            "LET $u = type::record('user', $uid);
             RETURN [
                count(SELECT * FROM award WHERE user = $u),
                count(SELECT * FROM badge_award WHERE user = $u),
                count(SELECT * FROM notification WHERE user = $u AND kind = 'badge')
             ]",
        )
        .bind(("uid", user.to_string()))
        .await
        .expect("counts");
    let v: Vec<i64> = res.take(1).expect("counts");
    (v[0], v[1], v[2])
}

#[tokio::test]
async fn the_score_follows_the_records_and_replayed_events_never_award_twice() {
    let app = spawn_app().await;
    let lesson = exercises::exercise_course(
        &app,
        "progress-score",
        None,
        two_tests(),
        app::exercises::model::Limits::DEFAULT,
    )
    .await;
    let learner =
        exercises::enrolled_learner(&app, "progress-l@example.org", "progress-score").await;
    let me = mentoring::user_id(&app, &learner).await;

    // Enrolled, nothing done: tests are the only measure (no video, no feedback), 0 of 2.
    let (status, d) = dashboard(&app, &learner, "").await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let c = &d["courses"][0];
    assert_eq!(c["passed"], serde_json::json!([0, 2]));
    assert_eq!(c["score"], 0.0);
    assert_eq!(c["effective"], serde_json::json!([null, 1.0, null]));

    // One test of two: half, and no points yet (the exercise is not passed).
    exercises::submit(&app, &learner, &lesson, "function answer() { return 42; }").await;
    let (_, d) = dashboard(&app, &learner, "").await;
    assert_eq!(d["courses"][0]["passed"], serde_json::json!([1, 2]));
    assert_eq!(d["courses"][0]["score"], 0.5);
    assert_eq!(d["points_total"], 0);

    exercises::submit(&app, &learner, &lesson, PASSING).await;
    let (_, d) = dashboard(&app, &learner, "").await;
    assert_eq!(d["courses"][0]["passed"], serde_json::json!([2, 2]));
    assert_eq!(d["courses"][0]["score"], 1.0);
    // Today's snapshot is the last point of the trend.
    let trend = d["courses"][0]["trend"].as_array().expect("trend");
    assert_eq!(trend.len(), 1);
    assert_eq!(trend[0]["value"], 1.0);

    // First pass (20) and the lesson it finished (10).
    assert_eq!(d["points_total"], 30, "{d}");
    assert_eq!(d["points_week"], 30);
    assert_eq!(d["weekly_streak"], 1);
    let earned: Vec<&str> = d["badges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| !b["earned_on"].is_null())
        .map(|b| b["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        earned,
        vec!["first-submission", "first-pass", "course-finished"]
    );
    let before = badge_rows(&app, &me).await;
    assert_eq!(before, (2, 3, 3));

    // Passing again earns nothing; replaying the sweep, the sync and the dashboard, also
    // concurrently, changes no row.
    exercises::submit(&app, &learner, &lesson, PASSING).await;
    let syncs = (0..6).map(|_| app::progress::service::sync_awards(&app.state, &me));
    for r in futures_util::future::join_all(syncs).await {
        r.expect("sync");
    }
    app::progress::service::run_once(&app.state)
        .await
        .expect("jobs");
    app::progress::service::run_once(&app.state)
        .await
        .expect("jobs again");
    let (_, d) = dashboard(&app, &learner, "").await;
    assert_eq!(d["points_total"], 30);
    assert_eq!(badge_rows(&app, &me).await, before);

    // The leaderboard shows the week's points; opting out takes the learner off it.
    let board = body_json(
        app.call(&learner, "leaderboard", &[("period", "week")])
            .await,
    )
    .await;
    assert_eq!(board["top"][0]["user"], me.as_str());
    assert_eq!(board["top"][0]["points"], 30);
    let res = app
        .call(&learner, "set_leaderboard_visibility", &[("hide", "yes")])
        .await;
    assert!(res.status().is_success());
    let board = body_json(
        app.call(&learner, "leaderboard", &[("period", "all")])
            .await,
    )
    .await;
    assert!(board["top"].as_array().unwrap().is_empty(), "{board}");
    assert_eq!(board["opted_out"], true);
    app.stop().await;
}

/// The course's row in the admin's weights list.
async fn weights_row(app: &TestApp, admin: &Browser, slug: &str) -> Value {
    let a = body_json(app.call(admin, "analytics", &[("days", "30")]).await).await;
    a["courses"]
        .as_array()
        .expect("courses")
        .iter()
        .find(|c| c["slug"] == slug)
        .expect("course listed")
        .clone()
}

#[tokio::test]
async fn weights_outside_zero_to_one_are_refused_and_valid_ones_change_the_score() {
    let app = spawn_app().await;
    let lesson = exercises::exercise_course(
        &app,
        "progress-weights",
        None,
        two_tests(),
        app::exercises::model::Limits::DEFAULT,
    )
    .await;
    let learner =
        exercises::enrolled_learner(&app, "progress-w@example.org", "progress-weights").await;
    exercises::submit(&app, &learner, &lesson, PASSING).await;
    let admin = app.admin().await;
    let row = weights_row(&app, &admin, "progress-weights").await;
    let course = row["course"].as_str().unwrap().to_string();
    assert_eq!(row["custom"], false);
    for (w, p, f) in [
        ("1.5", "0.3", "0.2"),
        ("-0.1", "0.3", "0.2"),
        ("abc", "0.3", "0.2"),
        ("0", "0", "0"),
    ] {
        let res = app
            .call(
                &admin,
                "set_course_weights",
                &[
                    ("course", &course),
                    ("watched", w),
                    ("passed", p),
                    ("feedback", f),
                ],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{w} {p} {f}"
        );
        assert!(res.text().await.unwrap().contains("weights_invalid"));
    }
    let row = weights_row(&app, &admin, "progress-weights").await;
    assert_eq!(row["custom"], false, "a refused change changed nothing");
    let res = app
        .call(
            &admin,
            "set_course_weights",
            &[
                ("course", &course),
                ("watched", "0.2"),
                ("passed", "0,8"),
                ("feedback", "0"),
            ],
        )
        .await;
    assert!(res.status().is_success());
    let (_, d) = dashboard(&app, &learner, "").await;
    assert_eq!(
        d["courses"][0]["weights"],
        serde_json::json!([0.2, 0.8, 0.0])
    );
    // The funnel counts the learner who finished the only lesson.
    let a = body_json(
        app.call(
            &admin,
            "analytics",
            &[("days", "30"), ("course", "progress-weights")],
        )
        .await,
    )
    .await;
    assert_eq!(a["funnel"]["lessons"][0]["value"], 1.0, "{a}");
    assert_eq!(a["gradings"].as_array().unwrap().len(), 30);
    app.stop().await;
}

#[tokio::test]
async fn a_dashboard_is_seen_by_its_learner_their_mentors_and_admins_only() {
    let app = spawn_app().await;
    let a = app.user_with_roles("progress-a@example.org", &[]).await;
    let b = app.user_with_roles("progress-b@example.org", &[]).await;
    mentoring::profile(&app, &a, "Ada", "", "Europe/Berlin").await;
    let (mentor, mentor_id) = mentoring::mentor(&app, "progress-m", "5").await;
    let (other_mentor, _) = mentoring::mentor(&app, "progress-n", "5").await;
    mentoring::mentored(&app, &mentor, &mentor_id, &a).await;
    let a_id = mentoring::user_id(&app, &a).await;
    let b_id = mentoring::user_id(&app, &b).await;
    let admin = app.admin().await;

    for (who, learner, want) in [
        (&a, a_id.as_str(), StatusCode::OK),
        (&b, a_id.as_str(), StatusCode::FORBIDDEN),
        (&mentor, a_id.as_str(), StatusCode::OK),
        (&mentor, b_id.as_str(), StatusCode::FORBIDDEN),
        (&other_mentor, a_id.as_str(), StatusCode::FORBIDDEN),
        (&admin, a_id.as_str(), StatusCode::OK),
        (&app.browser(), a_id.as_str(), StatusCode::UNAUTHORIZED),
    ] {
        let (status, body) = dashboard(&app, who, learner).await;
        assert_eq!(status, want, "{body}");
    }
    // The mentor sees the mentee's progress, not their recommendations.
    let (_, d) = dashboard(&app, &mentor, &a_id).await;
    assert_eq!(d["own"], false);
    assert!(d["courses_next"].as_array().unwrap().is_empty());

    let m = body_json(
        app.call(&mentor, "mentor_dashboard", &[("days", "30")])
            .await,
    )
    .await;
    let names: Vec<&str> = m["mentees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["learner"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec![a_id.as_str()]);
    let m = body_json(
        app.call(&other_mentor, "mentor_dashboard", &[("days", "30")])
            .await,
    )
    .await;
    assert!(m["mentees"].as_array().unwrap().is_empty());
    // A learner is not a mentor.
    let res = app.call(&b, "mentor_dashboard", &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Nonsense ids are refused in words, not looked up.
    let (status, _) = dashboard(&app, &admin, "../../etc").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn recommendations_follow_what_similar_learners_took_and_say_why() {
    let app = spawn_app().await;
    for slug in ["rec-git", "rec-ci", "rec-sql"] {
        exercises::exercise_course(
            &app,
            slug,
            None,
            two_tests(),
            app::exercises::model::Limits::DEFAULT,
        )
        .await;
    }
    // Three learners took Git and CI; one took SQL alone.
    for i in 0..3 {
        let who =
            exercises::enrolled_learner(&app, &format!("rec-{i}@example.org"), "rec-git").await;
        let res = app.call(&who, "enrol_course", &[("slug", "rec-ci")]).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    exercises::enrolled_learner(&app, "rec-sql@example.org", "rec-sql").await;
    let me = exercises::enrolled_learner(&app, "rec-me@example.org", "rec-git").await;
    app.state
        .recommender
        .retrain(&app.state)
        .await
        .expect("trained");
    let (status, d) = dashboard(&app, &me, "").await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let first = &d["courses_next"][0];
    assert_eq!(first["href"], "/courses/rec-ci", "{d}");
    assert_eq!(first["why"]["AlsoTook"]["title"], "Exercises");
    assert_eq!(first["why"]["AlsoTook"]["learners"], 3);
    // Never a course the learner already takes.
    assert!(
        d["courses_next"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["href"] != "/courses/rec-git")
    );
    app.stop().await;
}

#[tokio::test]
async fn only_the_asker_marks_an_answer_helpful_and_its_author_earns_once() {
    let app = spawn_app().await;
    let learner = app.user_with_roles("helpful-l@example.org", &[]).await;
    mentoring::profile(&app, &learner, "Hel", "", "Europe/Berlin").await;
    let (mentor, mentor_id) = mentoring::mentor(&app, "helpful-m", "5").await;
    let ms = mentoring::mentored(&app, &mentor, &mentor_id, &learner).await;
    let post = |who: &Browser, parent: &str, body: &str| {
        let form = [
            ("mentorship".to_string(), ms.clone()),
            ("parent".to_string(), parent.to_string()),
            ("body".to_string(), body.to_string()),
        ];
        let app = &app;
        let who = who.clone();
        async move {
            let pairs: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let res = app.call(&who, "post_question", &pairs).await;
            assert!(res.status().is_success(), "{}", res.text().await.unwrap());
        }
    };
    post(&learner, "", "Why does my borrow outlive the loop?").await;
    let view = body_json(app.call(&learner, "get_mentorship", &[("id", &ms)]).await).await;
    let question = view["posts"][0]["id"]
        .as_str()
        .expect("question")
        .to_string();
    post(
        &mentor,
        &question,
        "Because the vector owns it; clone or restructure.",
    )
    .await;
    let view = body_json(app.call(&learner, "get_mentorship", &[("id", &ms)]).await).await;
    let answer = &view["posts"][0]["replies"][0];
    assert_eq!(answer["can_mark_helpful"], true);
    let answer = answer["id"].as_str().unwrap().to_string();

    // The mentor cannot mark their own answer; a stranger neither; a missing post is 404.
    let res = app
        .call(&mentor, "mark_helpful", &[("post", &answer)])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let stranger = app.user_with_roles("helpful-s@example.org", &[]).await;
    let res = app
        .call(&stranger, "mark_helpful", &[("post", &answer)])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .call(&learner, "mark_helpful", &[("post", "nosuchpost")])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // The asker marks it, twice: 15 points for the mentor, once.
    for _ in 0..2 {
        let res = app
            .call(&learner, "mark_helpful", &[("post", &answer)])
            .await;
        assert!(res.status().is_success());
    }
    app::progress::service::run_once(&app.state)
        .await
        .expect("jobs");
    let (_, d) = dashboard(&app, &mentor, "").await;
    assert_eq!(d["points_total"], 15, "{d}");
    let view = body_json(app.call(&learner, "get_mentorship", &[("id", &ms)]).await).await;
    assert_eq!(view["posts"][0]["replies"][0]["helpful"], true);
    assert_eq!(view["posts"][0]["replies"][0]["can_mark_helpful"], false);
    app.stop().await;
}
