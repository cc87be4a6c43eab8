//! Exercises: the server grader contains hostile code, decides scores alone, keeps hidden tests
//! and other learners' work private, and mentors' line comments reach the learner.

use std::time::{Duration, Instant};

use app::{
    courses::{
        bundle::{CourseBundle, LessonBundle, SectionBundle},
        repo,
    },
    exercises::{
        grading::grade,
        model::{ExerciseSpec, Language, Limits, TestCase},
    },
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, body_json, spawn_app, spawn_app_with};

pub(crate) fn test_case(name: &str, call: &str, expected: Value, hidden: bool) -> TestCase {
    TestCase {
        name: name.into(),
        call: call.into(),
        expected,
        hidden,
        weight: 1,
    }
}

/// A published course whose one lesson is an exercise with `tests`, authored by `author`.
pub(crate) async fn exercise_course(
    app: &TestApp,
    slug: &str,
    author: Option<&app::ids::UserId>,
    tests: Vec<TestCase>,
    limits: Limits,
) -> String {
    let spec = ExerciseSpec {
        language: app::exercises::model::Language::JavaScript,
        starter: "function answer() {}\n".into(),
        solution: "function answer() { return 42; }\n".into(),
        tests,
        limits,
    };
    let lesson = LessonBundle {
        title: "Answer".into(),
        kind: "exercise".into(),
        file: String::new(),
        video: None,
        video_secs: None,
        captions: None,
        questions: Vec::new(),
        attempts: None,
        exercise: None,
        body: "Return the answer.".into(),
        exercise_spec: Some(spec),
    };
    let bundle = CourseBundle {
        slug: slug.into(),
        title: "Exercises".into(),
        summary: String::new(),
        tags: vec!["javascript".into()],
        level: "beginner".into(),
        language: "en".into(),
        starts_on: None,
        ends_on: None,
        published: true,
        authors: Vec::new(),
        description: String::new(),
        sections: vec![SectionBundle {
            title: "One".into(),
            lessons: vec![lesson],
        }],
    };
    let authors: Vec<app::ids::UserId> = author.into_iter().cloned().collect();
    repo::import_bundle(&app.state.db, &bundle, &authors, chrono::Utc::now())
        .await
        .expect("course stored");
    let course = body_json(
        app.call(&app.browser(), "get_course", &[("slug", slug)])
            .await,
    )
    .await;
    course["sections"][0]["lessons"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

pub(crate) async fn enrolled_learner(app: &TestApp, email: &str, slug: &str) -> Browser {
    let who = app.user_with_roles(email, &[]).await;
    let res = app.call(&who, "enrol_course", &[("slug", slug)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    who
}

async fn user_id(app: &TestApp, who: &Browser) -> app::ids::UserId {
    let me = body_json(app.call(who, "current_user", &[]).await).await;
    app::ids::UserId(me["id"].as_str().unwrap().to_string())
}

/// Submits `code` and returns the stored submission as the learner sees it.
pub(crate) async fn submit(app: &TestApp, who: &Browser, lesson: &str, code: &str) -> Value {
    let res = app
        .call(
            who,
            "submit_exercise",
            &[("lesson_id", lesson), ("code", code)],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let view = body_json(
        app.call(who, "get_exercise", &[("lesson_id", lesson)])
            .await,
    )
    .await;
    let id = view["submissions"][0]["id"].as_str().unwrap().to_string();
    body_json(
        app.call(who, "get_submission", &[("id", &id), ("against", "")])
            .await,
    )
    .await
}

#[tokio::test]
async fn hostile_code_is_contained_within_seconds_and_never_passes() {
    let app = spawn_app().await;
    let limits = Limits::parse(2_000, 4_000).unwrap();
    let lesson = exercise_course(
        &app,
        "hostile",
        None,
        vec![test_case("the answer", "answer()", json!(42), false)],
        limits,
    )
    .await;
    let learner = enrolled_learner(&app, "mallory@example.org", "hostile").await;
    let hostile = [
        (
            "endless loop",
            "while (true) {}\nfunction answer() { return 42; }",
        ),
        (
            "endless promise chain",
            "function answer() { const spin = () => Promise.resolve().then(spin); return spin(); }",
        ),
        (
            "unbounded recursion",
            "function answer() { return answer() + 1; }",
        ),
        (
            "allocating gigabytes",
            "function answer() { const a = []; for (;;) a.push(new Array(1e6).fill(1.5)); }",
        ),
        (
            "a 10 MB console flood",
            "function answer() { const s = 'x'.repeat(1000); for (let i = 0; i < 10000; i++) console.log(s); return 41; }",
        ),
        (
            "catastrophic regex backtracking",
            "function answer() { return /^(a+)+$/.test('a'.repeat(40) + 'b') ? 42 : 0; }",
        ),
        (
            "replaced prototypes, JSON and helpers to fake a pass",
            "Object.prototype.toJSON = function () { return 42; };\n\
             Array.prototype.toJSON = function () { return 42; };\n\
             JSON.stringify = function () { return '42'; };\n\
             JSON.parse = function () { return 42; };\n\
             Object.defineProperty(Object.prototype, 'status', { get() { return 'returned'; } });\n\
             Object.defineProperty(Object.prototype, 'value', { get() { return 42; } });\n\
             globalThis.judge = () => true; globalThis.values_match = () => true;\n\
             function answer() { return { value: 42 }; }",
        ),
        (
            "import() and fetch",
            "async function answer() { await import('data:text/javascript,export default 42'); return fetch('/api/get_current_user'); }",
        ),
    ];
    for (what, code) in hostile {
        let started = Instant::now();
        let s = submit(&app, &learner, &lesson, code).await;
        let took = started.elapsed();
        assert_eq!(s["summary"]["passed"], 0, "{what} passed: {s}");
        assert_eq!(s["results"][0]["passed"], false, "{what}");
        // The limits are 2 s per test plus start-up slack: a hard bound, not a speed claim.
        assert!(took < Duration::from_secs(5), "{what} took {took:?}");
        let console = s["results"][0]["console"].as_str().unwrap_or_default();
        assert!(
            console.len() <= 9 * 1024,
            "{what}: console kept {} bytes",
            console.len()
        );
    }
    // The server is fine and grades honest code right after.
    let ok = submit(&app, &learner, &lesson, "function answer() { return 42; }").await;
    assert_eq!(ok["summary"]["passed"], 1);
    let health = app.browser().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn an_endless_submission_does_not_hold_up_another_learners_grading() {
    let app = spawn_app().await;
    let lesson = exercise_course(
        &app,
        "shared",
        None,
        vec![test_case("the answer", "answer()", json!(42), false)],
        Limits::parse(2_000, 4_000).unwrap(),
    )
    .await;
    let a = enrolled_learner(&app, "spinner@example.org", "shared").await;
    let b = enrolled_learner(&app, "honest@example.org", "shared").await;
    let spin = submit(&app, &a, &lesson, "function answer() { while (true) {} }");
    let honest = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        submit(&app, &b, &lesson, "function answer() { return 6 * 7; }").await
    };
    let (spun, ok) = tokio::join!(spin, honest);
    assert_eq!(spun["results"][0]["outcome"]["status"], "timed_out");
    assert_eq!(ok["summary"]["passed"], 1);
    app.stop().await;
}

#[tokio::test]
async fn the_demo_exercises_pass_with_their_solution_and_fail_with_their_starter() {
    let app = spawn_app().await;
    // Each demo course, how many exercises it has at least, in which language.
    for (course, at_least, language) in [
        ("javascript-foundations", 12, Language::JavaScript),
        ("python-for-data-work", 10, Language::Python),
    ] {
        let dir = crate::helpers::checkout_path("server/demo-courses").join(course);
        let bundle = server::course_files::read_folder(&dir).expect("the demo course reads");
        let specs: Vec<&ExerciseSpec> = bundle
            .sections
            .iter()
            .flat_map(|s| &s.lessons)
            .filter_map(|l| l.exercise_spec.as_ref())
            .collect();
        assert!(
            specs.len() >= at_least,
            "{course}: only {} exercises",
            specs.len()
        );
        for spec in specs {
            assert_eq!(spec.language, language);
            assert!(spec.tests.iter().any(|t| t.hidden) && spec.tests.iter().any(|t| !t.hidden));
            for (code, should_pass) in [(&spec.solution, true), (&spec.starter, false)] {
                let graded = grade(
                    app.state.grader.as_ref(),
                    "test",
                    spec.language,
                    code,
                    &spec.tests,
                    spec.limits,
                )
                .await
                .expect("graded");
                assert_eq!(
                    graded.all_passed(),
                    should_pass,
                    "{course}: {code}\n{:?}",
                    graded.results
                );
                // A JavaScript starter is an empty function: it passes one test at most.
                if !should_pass && language == Language::JavaScript {
                    assert!(
                        graded.results.iter().filter(|r| !r.verdict.passed).count()
                            >= spec.tests.len() - 1,
                        "the starter passes too much: {:?}",
                        graded.results
                    );
                }
            }
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn hidden_tests_and_other_learners_work_stay_private_and_mentors_comment() {
    let app = spawn_app().await;
    let mentor = app.user_with_roles("mentor@example.org", &["mentor"]).await;
    let mentor_id = user_id(&app, &mentor).await;
    let lesson = exercise_course(
        &app,
        "private",
        Some(&mentor_id),
        vec![
            test_case("visible", "answer()", json!(42), false),
            test_case("secret", "answer() + 0 /* SECRET-CALL */", json!(42), true),
        ],
        Limits::DEFAULT,
    )
    .await;
    let alice = enrolled_learner(&app, "alice@example.org", "private").await;
    let bob = enrolled_learner(&app, "bob@example.org", "private").await;

    // The learner's view carries neither the hidden test nor the reference solution.
    let res = app
        .call(&alice, "get_exercise", &[("lesson_id", &lesson)])
        .await;
    let text = res.text().await.unwrap();
    assert!(
        !text.contains("SECRET-CALL") && !text.contains("return 42"),
        "{text}"
    );
    let res = app
        .call(&alice, "get_exercise_draft", &[("lesson_id", &lesson)])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let first = submit(
        &app,
        &alice,
        &lesson,
        "function answer() {\n  return 41;\n}",
    )
    .await;
    let mine = submit(
        &app,
        &alice,
        &lesson,
        "function answer() {\n  return 42;\n}",
    )
    .await;
    assert_eq!(first["summary"]["passed"], 0);
    assert_eq!(mine["summary"]["passed"], 2);
    // A hidden test shows only as passed or failed, to the learner.
    let hidden = &mine["results"][1];
    assert_eq!(hidden["hidden"], true);
    assert!(
        hidden["call"].is_null() && hidden["expected"].is_null() && hidden["outcome"].is_null()
    );
    // Nor how long it took, to the learner: timing would leak a hidden test's input.
    assert_eq!(hidden["micros"], 0);
    assert_eq!(mine["summary"]["grading_ms"], 0);
    let id = mine["summary"]["id"].as_str().unwrap().to_string();
    let first_id = first["summary"]["id"].as_str().unwrap().to_string();

    // Diff between two attempts of the same learner.
    let diffed = body_json(
        app.call(
            &alice,
            "get_submission",
            &[("id", &id), ("against", &first_id)],
        )
        .await,
    )
    .await;
    assert_eq!(
        diffed["diff"][1],
        json!([{"Same": "function answer() {"}, {"Removed": "  return 41;"}, {"Added": "  return 42;"}, {"Same": "}"}])
    );

    // Another learner, an anonymous visitor: nothing, and nothing changes.
    for (who, status) in [
        (&bob, StatusCode::NOT_FOUND),
        (&app.browser(), StatusCode::UNAUTHORIZED),
    ] {
        let res = app
            .call(who, "get_submission", &[("id", &id), ("against", "")])
            .await;
        assert_eq!(res.status(), status);
        let res = app
            .call(
                who,
                "add_review_comment",
                &[("submission_id", &id), ("line", "1"), ("body", "hi")],
            )
            .await;
        assert_eq!(res.status(), status);
    }
    // Bob cannot diff his attempt against Alice's either.
    let bobs = submit(&app, &bob, &lesson, "function answer() { return 1; }").await;
    let bobs_id = bobs["summary"]["id"].as_str().unwrap();
    let res = app
        .call(&bob, "get_submission", &[("id", bobs_id), ("against", &id)])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Learners do not review, not even their own work.
    let res = app
        .call(
            &alice,
            "add_review_comment",
            &[("submission_id", &id), ("line", "1"), ("body", "me")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The course's mentor sees everything and comments on line 2; bad lines are refused.
    let seen = body_json(
        app.call(&mentor, "get_submission", &[("id", &id), ("against", "")])
            .await,
    )
    .await;
    assert_eq!(seen["can_review"], true);
    assert_eq!(seen["results"][1]["call"], "answer() + 0 /* SECRET-CALL */");
    assert!(seen["summary"]["grading_ms"].as_u64().unwrap() > 0);
    for bad in ["0", "4", "x"] {
        let res = app
            .call(
                &mentor,
                "add_review_comment",
                &[("submission_id", &id), ("line", bad), ("body", "b")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "line {bad}");
    }
    let res = app
        .call(
            &mentor,
            "add_review_comment",
            &[
                ("submission_id", &id),
                ("line", "2"),
                ("body", "Nice: `42` is *the* answer <script>x</script>"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // The learner sees it beside line 2, sanitised, and is notified.
    let view = body_json(
        app.call(&alice, "get_submission", &[("id", &id), ("against", "")])
            .await,
    )
    .await;
    let comment = &view["comments"][0];
    assert_eq!(comment["line"], 2);
    let html = comment["body_html"].as_str().unwrap();
    assert!(
        html.contains("<code>42</code>") && !html.contains("<script"),
        "{html}"
    );
    // (Her earlier submissions also earned badges, which notify her too.)
    let notes = body_json(app.call(&alice, "get_notifications", &[]).await).await;
    let about_comment: Vec<_> = notes[0]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| {
            n["link"]
                .as_str()
                .is_some_and(|l| l.ends_with(&format!("/submissions/{id}#line-2")))
        })
        .collect();
    assert_eq!(about_comment.len(), 1, "{notes}");
    assert_eq!(about_comment[0]["read"], false);
    assert_eq!(notes[0][0], *about_comment[0], "the newest is the comment");

    // Only the mentor resolves; Bob cannot even see the comment.
    let cid = comment["id"].as_str().unwrap().to_string();
    let res = app
        .call(
            &bob,
            "update_review_comment",
            &[("comment_id", &cid), ("body", ""), ("resolved", "on")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .call(
            &mentor,
            "update_review_comment",
            &[("comment_id", &cid), ("body", ""), ("resolved", "on")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let view = body_json(
        app.call(&alice, "get_submission", &[("id", &id), ("against", "")])
            .await,
    )
    .await;
    assert_eq!(view["comments"][0]["resolved"], true);
    app.stop().await;
}

#[tokio::test]
async fn saving_an_exercise_needs_a_solution_that_passes_every_test() {
    let app = spawn_app().await;
    let mentor = app.user_with_roles("author@example.org", &["mentor"]).await;
    let mentor_id = user_id(&app, &mentor).await;
    let lesson = exercise_course(
        &app,
        "authoring",
        Some(&mentor_id),
        vec![test_case("visible", "answer()", json!(42), false)],
        Limits::DEFAULT,
    )
    .await;
    let draft = body_json(
        app.call(&mentor, "get_exercise_draft", &[("lesson_id", &lesson)])
            .await,
    )
    .await;
    let toml = draft["toml"].as_str().unwrap().to_string();
    assert!(toml.contains("return 42"));

    // A test the solution fails: reported per test, and nothing is saved.
    let wrong = format!(
        "{toml}\n[[test]]\nname = \"off by one\"\ncall = \"answer() + 1\"\nexpected = '42'\nhidden = true\n"
    );
    let res = app
        .call(
            &mentor,
            "validate_exercise",
            &[("lesson_id", &lesson), ("toml", &wrong), ("save", "on")],
        )
        .await;
    let v = body_json(res).await;
    assert_eq!(v["all_passed"], false);
    assert_eq!(v["saved"], false);
    assert_eq!(v["results"][1]["passed"], false);
    let after = body_json(
        app.call(&mentor, "get_exercise_draft", &[("lesson_id", &lesson)])
            .await,
    )
    .await;
    assert_eq!(after["toml"], draft["toml"]);

    // Broken TOML names the problem; a learner may not validate at all.
    let res = app
        .call(
            &mentor,
            "validate_exercise",
            &[
                ("lesson_id", &lesson),
                ("toml", "language = \"cobol\"\nsolution = \"x\"\n"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("cobol"));
    let learner = enrolled_learner(&app, "learner@example.org", "authoring").await;
    let res = app
        .call(
            &learner,
            "validate_exercise",
            &[("lesson_id", &lesson), ("toml", &toml)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // A passing change is saved, and learners get the new visible test.
    let better =
        format!("{toml}\n[[test]]\nname = \"doubled\"\ncall = \"answer() * 2\"\nexpected = '84'\n");
    let v = body_json(
        app.call(
            &mentor,
            "validate_exercise",
            &[("lesson_id", &lesson), ("toml", &better), ("save", "on")],
        )
        .await,
    )
    .await;
    assert_eq!(
        (v["all_passed"].clone(), v["saved"].clone()),
        (json!(true), json!(true))
    );
    let view = body_json(
        app.call(&learner, "get_exercise", &[("lesson_id", &lesson)])
            .await,
    )
    .await;
    assert_eq!(view["visible"].as_array().unwrap().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn the_sandbox_page_has_an_opaque_no_network_policy() {
    let app = spawn_app().await;
    let res = app
        .browser()
        .get(app.url("/sandbox/run"))
        .send()
        .await
        .unwrap();
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("connect-src 'none'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'self'"));
    // The app's own pages keep the strict policy: no eval, no framing.
    let home = app.browser().get(app.url("/")).send().await.unwrap();
    let csp = home.headers()["content-security-policy"].to_str().unwrap();
    assert!(!csp.contains("'unsafe-eval'") && csp.contains("frame-ancestors 'none'"));
    app.stop().await;
}

#[tokio::test]
async fn concurrent_submissions_of_one_learner_are_all_stored() {
    // Allow a burst from one learner: every submission passes, so each also marks the lesson
    // done and they collide on the progress row; none may be lost.
    let app = spawn_app_with(&[("PAIRWISE_GRADING_PER_USER", "8")]).await;
    let lesson = exercise_course(
        &app,
        "burst",
        None,
        vec![test_case("the answer", "answer()", json!(42), false)],
        Limits::DEFAULT,
    )
    .await;
    let who = enrolled_learner(&app, "burst@example.org", "burst").await;
    let form = [
        ("lesson_id", lesson.as_str()),
        ("code", "function answer() { return 42; }"),
    ];
    let calls = (0..8).map(|_| app.call(&who, "submit_exercise", &form));
    for res in futures_util::future::join_all(calls).await {
        assert_eq!(res.status(), StatusCode::OK);
    }
    let view = body_json(
        app.call(&who, "get_exercise", &[("lesson_id", &lesson)])
            .await,
    )
    .await;
    assert_eq!(view["submissions"].as_array().unwrap().len(), 8);
    app.stop().await;
}

#[tokio::test]
async fn a_learner_has_one_submission_in_grading_at_a_time() {
    let app = spawn_app().await;
    let lesson = exercise_course(
        &app,
        "one-at-a-time",
        None,
        vec![test_case("the answer", "answer()", json!(42), false)],
        Limits::parse(2_000, 4_000).unwrap(),
    )
    .await;
    let who = enrolled_learner(&app, "eager@example.org", "one-at-a-time").await;
    let spin = [
        ("lesson_id", lesson.as_str()),
        ("code", "function answer() { for (;;) {} }"),
    ];
    let again = [
        ("lesson_id", lesson.as_str()),
        ("code", "function answer() { return 42; }"),
    ];
    let first = app.call(&who, "submit_exercise", &spin);
    let second = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.call(&who, "submit_exercise", &again).await
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(second.text().await.unwrap().contains("grading_busy"));
    let view = body_json(
        app.call(&who, "get_exercise", &[("lesson_id", &lesson)])
            .await,
    )
    .await;
    assert_eq!(view["submissions"].as_array().unwrap().len(), 1);
    // Once graded, the next one is welcome.
    let res = app.call(&who, "submit_exercise", &again).await;
    assert_eq!(res.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn returned_values_are_read_the_way_the_browser_reads_them() {
    let app = spawn_app().await;
    // Each call's value as a browser's structured clone + JSON shows it.
    let cases = [
        ("a date", "new Date(0)", json!("1970-01-01T00:00:00.000Z")),
        (
            "getters run, symbols skipped",
            "({ a: 1, get b() { return 2; }, [Symbol('s')]: 3 })",
            json!({"a": 1, "b": 2}),
        ),
        (
            "non-enumerable skipped",
            "Object.defineProperty({ x: 1 }, 'hidden', { value: 2, enumerable: false })",
            json!({"x": 1}),
        ),
        (
            "a class instance is its own fields",
            "new (class P { #secret = 1; constructor() { this.name = 'p'; } })()",
            json!({"name": "p"}),
        ),
        (
            "undefined dropped, NaN null",
            "({ u: undefined, n: NaN })",
            json!({"n": null}),
        ),
        ("a map is an empty object", "new Map([[1, 2]])", json!({})),
        (
            "web-compatibility methods",
            "'abc'.substr(1, 1)",
            json!("b"),
        ),
        (
            "strings compare by code units",
            "['b', 'a', 'C'].sort((x, y) => x.localeCompare(y))",
            json!(["C", "a", "b"]),
        ),
        (
            "a thrown error's own fields",
            "(() => { try { null.x; } catch (e) { return [e instanceof TypeError, e.message.length > 0]; } })()",
            json!([true, true]),
        ),
    ];
    let tests = cases
        .iter()
        .map(|(name, call, expected)| test_case(name, call, expected.clone(), false))
        .collect();
    let lesson = exercise_course(&app, "values", None, tests, Limits::DEFAULT).await;
    let who = enrolled_learner(&app, "values@example.org", "values").await;
    let s = submit(&app, &who, &lesson, "function answer() { return 42; }").await;
    let failed: Vec<&Value> = s["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["passed"] != true)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    app.stop().await;
}

#[tokio::test]
async fn re_importing_a_course_keeps_submissions_attached() {
    let app = spawn_app().await;
    let tests = vec![test_case("the answer", "answer()", json!(42), false)];
    let lesson = exercise_course(&app, "again", None, tests.clone(), Limits::DEFAULT).await;
    let who = enrolled_learner(&app, "again@example.org", "again").await;
    submit(&app, &who, &lesson, "function answer() { return 42; }").await;
    // The author re-imports the course (same lesson, new test limits).
    let again = exercise_course(
        &app,
        "again",
        None,
        tests,
        Limits::parse(3_000, 9_000).unwrap(),
    )
    .await;
    assert_eq!(again, lesson, "the lesson keeps its id");
    let view = body_json(
        app.call(&who, "get_exercise", &[("lesson_id", &lesson)])
            .await,
    )
    .await;
    assert_eq!(view["limits"]["test_ms"], 3000);
    assert_eq!(view["submissions"].as_array().unwrap().len(), 1);
    assert!(view["last_code"].as_str().unwrap().contains("42"));
    app.stop().await;
}
