//! Courses: search, filters, enrolment, honest watch time, quizzes, drafts, courses as code.

use std::path::Path;

use app::courses::{
    bundle::{CourseBundle, LessonBundle, QuestionBundle, SectionBundle},
    repo,
};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Browser, ManualClock, TestApp, body_json, spawn_app, spawn_app_with_clock};

fn lesson(title: &str, kind: &str, body: &str) -> LessonBundle {
    LessonBundle {
        title: title.into(),
        kind: kind.into(),
        file: String::new(),
        video: None,
        video_secs: None,
        captions: None,
        questions: Vec::new(),
        attempts: None,
        exercise: None,
        body: body.into(),
        exercise_spec: None,
    }
}

/// A course with a reading, a 12-second video and a two-question quiz.
fn course(slug: &str, title: &str, summary: &str, description: &str) -> CourseBundle {
    let mut video = lesson("Watch", "video", "Notes");
    video.video = Some("clip.webm".into());
    video.video_secs = Some(12.0);
    let mut quiz = lesson("Check", "quiz", "Two questions");
    quiz.questions = vec![
        QuestionBundle {
            prompt: "One?".into(),
            choices: vec!["a".into(), "b".into()],
            correct: vec![1],
            explanation: "It is *b*.".into(),
        },
        QuestionBundle {
            prompt: "Which are even?".into(),
            choices: vec!["1".into(), "2".into(), "4".into()],
            correct: vec![1, 2],
            explanation: String::new(),
        },
    ];
    CourseBundle {
        slug: slug.into(),
        title: title.into(),
        summary: summary.into(),
        tags: vec!["rust".into()],
        level: "beginner".into(),
        language: "en".into(),
        starts_on: None,
        ends_on: None,
        published: true,
        authors: Vec::new(),
        description: description.into(),
        sections: vec![SectionBundle {
            title: "Part one".into(),
            lessons: vec![lesson("Read", "text", "Some **text**"), video, quiz],
        }],
    }
}

/// Stores a course the way `pairwise course import` does: the bundle, then the catalog index.
async fn store(app: &TestApp, bundle: &CourseBundle) {
    repo::import_bundle(&app.state.db, bundle, &[], chrono::Utc::now())
        .await
        .expect("course stored");
    app.state
        .catalog
        .rebuild(&app.state.db)
        .await
        .expect("catalog indexed");
}

async fn search(app: &TestApp, pairs: &[(&str, &str)]) -> Value {
    let args: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (format!("query[{k}]"), v.to_string()))
        .collect();
    let res = app
        .browser()
        .post(app.url("/api/search_courses"))
        .header("origin", &app.base)
        .header("accept", "application/json")
        .form(&args)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    body_json(res).await
}

fn slugs(page: &Value) -> Vec<String> {
    page["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn search_ranks_a_title_match_above_a_description_match_and_finds_stemmed_words() {
    let app = spawn_app().await;
    store(
        &app,
        &course(
            "async-rust",
            "Async Rust in practice",
            "Build services",
            "Tokio and more.",
        ),
    )
    .await;
    store(
        &app,
        &course(
            "systems",
            "Systems programming",
            "Low-level code",
            "We touch on async Rust briefly.",
        ),
    )
    .await;
    store(
        &app,
        &course(
            "js-testing",
            "JavaScript quality",
            "Write tests that catch bugs",
            "",
        ),
    )
    .await;

    let page = search(&app, &[("q", "async rust")]).await;
    assert_eq!(slugs(&page), ["async-rust", "systems"]);
    assert_eq!(page["total"], 2);
    assert!(
        page["cards"][0]["title_html"]
            .as_str()
            .unwrap()
            .contains("<mark>"),
        "{page}"
    );
    // "testing" and "tests" share the stem "test".
    assert_eq!(
        slugs(&search(&app, &[("q", "testing")]).await),
        ["js-testing"]
    );
    app.stop().await;
}

#[tokio::test]
async fn highlighted_text_is_escaped_so_a_title_cannot_inject_markup() {
    let app = spawn_app().await;
    store(
        &app,
        &course("xss-title", "Rust <img src=x onerror=alert(1)>", "", ""),
    )
    .await;
    let page = search(&app, &[("q", "rust")]).await;
    let html = page["cards"][0]["title_html"].as_str().unwrap();
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;img"), "{html}");
    app.stop().await;
}

#[tokio::test]
async fn filters_and_sorting_combine() {
    let app = spawn_app().await;
    let mut popular = course("popular", "Popular Rust", "", "");
    popular.tags = vec!["rust".into(), "web".into()];
    let quiet = course("quiet", "Quiet Rust", "", "");
    let mut hard = course("hard", "Hard Rust", "", "");
    hard.level = "advanced".into();
    let mut chinese = course("chinese", "Rust 入门", "", "");
    chinese.language = "zh".into();
    let mut draft = course("draft", "Draft Rust", "", "");
    draft.published = false;
    for c in [&quiet, &popular, &hard, &chinese, &draft] {
        store(&app, c).await;
    }
    for n in 0..2 {
        let learner = app
            .user_with_roles(&format!("fan{n}@example.org"), &[])
            .await;
        let res = app
            .call(&learner, "enrol_course", &[("slug", "popular")])
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let page = search(
        &app,
        &[
            ("tag", "rust"),
            ("level", "beginner"),
            ("language", "en"),
            ("sort", "most_enrolled"),
        ],
    )
    .await;
    assert_eq!(slugs(&page), ["popular", "quiet"]);
    assert_eq!(page["cards"][0]["enrolled"], 2);
    let web = search(&app, &[("tag", "web")]).await;
    assert_eq!(slugs(&web), ["popular"]);
    assert!(
        page["all_languages"]
            .as_array()
            .unwrap()
            .contains(&"zh".into())
    );
    app.stop().await;
}

#[tokio::test]
async fn the_catalog_page_renders_the_search_on_the_server_from_the_url() {
    let app = spawn_app().await;
    store(
        &app,
        &course("async-rust", "Async Rust in practice", "Build services", ""),
    )
    .await;
    store(&app, &course("git-basics", "Git basics", "Commits", "")).await;
    let res = app
        .browser()
        .get(app.url("/courses?q=async+rust&level=beginner"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"data-slug="async-rust""#), "{html}");
    assert!(!html.contains(r#"data-slug="git-basics""#));
    assert!(html.contains("<mark>"), "matches are highlighted");
    assert!(
        html.contains(r#"value="async rust""#),
        "the search box keeps the query"
    );
    app.stop().await;
}

async fn lesson_ids(app: &TestApp, who: &Browser, slug: &str) -> Vec<String> {
    let course = body_json(app.call(who, "get_course", &[("slug", slug)]).await).await;
    course["sections"][0]["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect()
}

async fn report(app: &TestApp, who: &Browser, lesson: &str, played: &str) -> reqwest::Response {
    app.call(
        who,
        "report_watch",
        &[("lesson_id", lesson), ("played", played), ("position", "0")],
    )
    .await
}

#[tokio::test]
async fn seeking_to_the_end_does_not_count_as_watched_and_long_reports_are_clamped() {
    let clock = ManualClock::new();
    let app = spawn_app_with_clock(clock.clone()).await;
    store(&app, &course("video-course", "Video course", "", "")).await;
    let learner = app.user_with_roles("viewer@example.org", &[]).await;
    app.call(&learner, "enrol_course", &[("slug", "video-course")])
        .await;
    let ids = lesson_ids(&app, &learner, "video-course").await;
    let video = &ids[1];
    // Opening the page: once it runs, it posts the visit (loading it changes nothing).
    app.call(&learner, "visit_lesson", &[("lesson_id", video)])
        .await;

    // Three seconds in, the learner drags to the end and plays the last second.
    clock.advance(3);
    let res = report(&app, &learner, video, "11-12").await;
    assert_eq!(body_json(res).await, 1.0);
    let lesson = body_json(
        app.call(&learner, "get_lesson", &[("lesson_id", video)])
            .await,
    )
    .await;
    assert_eq!(lesson["done"], false);
    app.call(&learner, "visit_lesson", &[("lesson_id", video)])
        .await;

    // A forged report claiming far more than the video, right after opening the page,
    // counts only what could have played since (5 s of slack).
    let res = report(&app, &learner, video, "0-500").await;
    assert_eq!(body_json(res).await, 6.0);

    // Later, the whole video really plays: counted once, clamped to its 12 seconds.
    clock.advance(30);
    let res = report(&app, &learner, video, "0-500,0-12").await;
    assert_eq!(body_json(res).await, 12.0);
    let lesson = body_json(
        app.call(&learner, "get_lesson", &[("lesson_id", video)])
            .await,
    )
    .await;
    assert_eq!(lesson["done"], true);
    assert_eq!(lesson["progress"]["watched_secs"], 12.0);
    assert_eq!(lesson["progress"]["video_secs"], 12.0);

    let bad = report(&app, &learner, video, "9-3").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}

#[tokio::test]
async fn watch_reports_and_quiz_answers_need_an_enrolment() {
    let app = spawn_app().await;
    store(&app, &course("closed", "Closed course", "", "")).await;
    let visitor = app.user_with_roles("visitor@example.org", &[]).await;
    let ids = lesson_ids(&app, &visitor, "closed").await;
    let res = report(&app, &visitor, &ids[1], "0-1").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        body_json(res).await,
        serde_json::json!({"error": "invalid", "problem": "not_enrolled"})
    );
    let res = app
        .call(
            &visitor,
            "submit_quiz",
            &[("lesson_id", &ids[2]), ("answers[0]", "0:1")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn quizzes_are_graded_on_the_server_and_passing_completes_the_lesson() {
    let app = spawn_app().await;
    store(&app, &course("quiz-course", "Quiz course", "", "")).await;
    let learner = app.user_with_roles("quizzer@example.org", &[]).await;
    app.call(&learner, "enrol_course", &[("slug", "quiz-course")])
        .await;
    let quiz = lesson_ids(&app, &learner, "quiz-course").await[2].clone();
    let submit = |answers: Vec<(&'static str, &'static str)>| {
        let quiz = quiz.clone();
        let learner = learner.clone();
        let app = &app;
        async move {
            let mut form = vec![("lesson_id", quiz.as_str())];
            form.extend(answers);
            app.call(&learner, "submit_quiz", &form).await
        }
    };
    let res = submit(vec![("answers[0]", "0:1")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(res).await["problem"], "answer_missing");
    let res = submit(vec![("answers[0]", "0:7"), ("answers[32]", "1:1")]).await;
    assert_eq!(body_json(res).await["problem"], "choice_invalid");

    // Half right: not passed; the right answers and explanations stay hidden until the
    // learner passes (this quiz sets no attempt limit).
    let res = submit(vec![
        ("answers[0]", "0:0"),
        ("answers[32]", "1:1"),
        ("answers[33]", "1:2"),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let result = body_json(res).await;
    assert_eq!(
        (result["correct"].clone(), result["passed"].clone()),
        (1.into(), false.into())
    );
    assert_eq!(result["revealed"], false);
    assert_eq!(result["attempts_used"], 1);
    assert_eq!(result["attempts_allowed"], serde_json::Value::Null);
    assert_eq!(result["questions"][0]["right"], false);
    assert_eq!(result["questions"][0]["correct"], serde_json::json!([]));
    assert_eq!(result["questions"][0]["explanation_html"], "");
    let lesson = body_json(
        app.call(&learner, "get_lesson", &[("lesson_id", &quiz)])
            .await,
    )
    .await;
    assert_eq!(
        lesson["last_result"]["revealed"], false,
        "nor on the lesson page"
    );
    assert_eq!(
        lesson["last_result"]["questions"][0]["correct"],
        serde_json::json!([])
    );

    let res = submit(vec![
        ("answers[0]", "0:1"),
        ("answers[32]", "1:1"),
        ("answers[33]", "1:2"),
    ])
    .await;
    let result = body_json(res).await;
    assert_eq!(result["passed"], true);
    assert_eq!(result["revealed"], true);
    assert_eq!(result["questions"][0]["correct"], serde_json::json!([1]));
    assert!(
        result["questions"][0]["explanation_html"]
            .as_str()
            .unwrap()
            .contains("<em>b</em>")
    );
    let course = body_json(
        app.call(&learner, "get_course", &[("slug", "quiz-course")])
            .await,
    )
    .await;
    assert_eq!(course["sections"][0]["lessons"][2]["done"], true);
    assert_eq!(course["progress"]["quiz_correct"], 2);
    assert_eq!(course["progress"]["quiz_total"], 2);
    app.stop().await;
}

#[tokio::test]
async fn a_quiz_with_limited_attempts_shows_its_answers_when_they_are_used_and_takes_no_more() {
    let app = spawn_app().await;
    store(&app, &course("tries-course", "Tries course", "", "")).await;
    let learner = app.user_with_roles("tries@example.org", &[]).await;
    app.call(&learner, "enrol_course", &[("slug", "tries-course")])
        .await;
    let quiz = lesson_ids(&app, &learner, "tries-course").await[2].clone();
    // An admin (who may edit any course) allows two attempts; nonsense is refused in words.
    let admin = app.admin().await;
    let draft = body_json(
        app.call(&admin, "get_lesson_draft", &[("lesson_id", &quiz)])
            .await,
    )
    .await;
    let toml = draft["questions_toml"].as_str().unwrap().to_string();
    let title = draft["title"].as_str().unwrap().to_string();
    let save = |attempts: &'static str| {
        let form = [
            ("lesson_id", quiz.clone()),
            ("title", title.clone()),
            ("questions", toml.clone()),
            ("attempts", attempts.to_string()),
        ];
        let (app, admin) = (&app, &admin);
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call(admin, "update_lesson", &form).await
        }
    };
    let res = save("0").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(res).await["problem"], "attempts_invalid");
    let res = save("2").await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let draft = body_json(
        app.call(&admin, "get_lesson_draft", &[("lesson_id", &quiz)])
            .await,
    )
    .await;
    assert_eq!(draft["quiz_attempts"], 2);

    let wrong = [
        ("lesson_id", quiz.as_str()),
        ("answers[0]", "0:0"),
        ("answers[32]", "1:0"),
    ];
    let first = body_json(app.call(&learner, "submit_quiz", &wrong).await).await;
    assert_eq!(
        (
            first["revealed"].clone(),
            first["attempts_used"].clone(),
            first["attempts_allowed"].clone()
        ),
        (false.into(), 1.into(), 2.into())
    );
    assert_eq!(first["questions"][0]["correct"], serde_json::json!([]));
    // The last attempt used: the answers come with it.
    let second = body_json(app.call(&learner, "submit_quiz", &wrong).await).await;
    assert_eq!(second["passed"], false);
    assert_eq!(second["revealed"], true);
    assert_eq!(second["questions"][0]["correct"], serde_json::json!([1]));
    // No third attempt: knowing the answers now, it would prove nothing.
    let right = [
        ("lesson_id", quiz.as_str()),
        ("answers[0]", "0:1"),
        ("answers[32]", "1:1"),
        ("answers[33]", "1:2"),
    ];
    let res = app.call(&learner, "submit_quiz", &right).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(res).await["problem"], "no_attempts_left");
    let course = body_json(
        app.call(&learner, "get_course", &[("slug", "tries-course")])
            .await,
    )
    .await;
    assert_eq!(
        course["sections"][0]["lessons"][2]["done"], false,
        "nothing changed"
    );
    // The lesson page keeps showing the answers, and offers no submit button.
    let lesson = body_json(
        app.call(&learner, "get_lesson", &[("lesson_id", &quiz)])
            .await,
    )
    .await;
    assert_eq!(lesson["last_result"]["revealed"], true);
    let html = learner
        .get(app.url(&format!("/lessons/{quiz}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("data-testid=\"quiz-submit\""));
    app.stop().await;
}

#[tokio::test]
async fn reading_enrolment_and_resume_follow_the_learner() {
    let app = spawn_app().await;
    store(&app, &course("resume", "Resume course", "", "")).await;
    let learner = app.user_with_roles("reader@example.org", &[]).await;
    let ids = lesson_ids(&app, &learner, "resume").await;
    let res = app
        .call(&learner, "complete_lesson", &[("lesson_id", &ids[0])])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "not enrolled yet");
    app.call(&learner, "enrol_course", &[("slug", "resume")])
        .await;
    let res = app
        .call(&learner, "complete_lesson", &[("lesson_id", &ids[0])])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // A video cannot be ticked off by a click.
    let res = app
        .call(&learner, "complete_lesson", &[("lesson_id", &ids[1])])
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Reading a lesson changes nothing; the page's visit (posted once it runs) is the place.
    app.call(&learner, "get_lesson", &[("lesson_id", &ids[2])])
        .await;
    let course = body_json(
        app.call(&learner, "get_course", &[("slug", "resume")])
            .await,
    )
    .await;
    assert_ne!(course["resume"], ids[2].as_str());
    let page = learner
        .get(app.url(&format!("/lessons/{}", ids[2])))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let course = body_json(
        app.call(&learner, "get_course", &[("slug", "resume")])
            .await,
    )
    .await;
    assert_ne!(course["resume"], ids[2].as_str(), "a GET moved the place");
    app.call(&learner, "visit_lesson", &[("lesson_id", &ids[2])])
        .await;
    let course = body_json(
        app.call(&learner, "get_course", &[("slug", "resume")])
            .await,
    )
    .await;
    assert_eq!(course["progress"]["lessons_done"], 1);
    assert_eq!(course["progress"]["lessons_total"], 3);
    assert_eq!(
        course["resume"],
        ids[2].as_str(),
        "continues at the last lesson opened"
    );
    let mine = body_json(app.call(&learner, "my_courses", &[]).await).await;
    assert_eq!(mine[0]["card"]["slug"], "resume");
    assert_eq!(mine[0]["progress"]["lessons_done"], 1);
    // Leaving and enrolling again keeps the progress.
    app.call(&learner, "leave_course", &[("slug", "resume")])
        .await;
    app.call(&learner, "enrol_course", &[("slug", "resume")])
        .await;
    let course = body_json(
        app.call(&learner, "get_course", &[("slug", "resume")])
            .await,
    )
    .await;
    assert_eq!(course["progress"]["lessons_done"], 1);
    assert_eq!(course["card"]["enrolled"], 1);
    app.stop().await;
}

#[tokio::test]
async fn a_draft_is_invisible_to_everyone_but_its_authors_and_admins() {
    let app = spawn_app().await;
    let author = app.user_with_roles("author@example.org", &["mentor"]).await;
    let author_id = body_json(app.call(&author, "current_user", &[]).await).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut draft = course("secret-draft", "Secret draft", "", "");
    draft.published = false;
    repo::import_bundle(
        &app.state.db,
        &draft,
        &[app::ids::UserId(author_id)],
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let learner = app.user_with_roles("curious@example.org", &[]).await;
    let other_mentor = app.user_with_roles("other@example.org", &["mentor"]).await;
    for who in [&learner, &other_mentor, &app.browser()] {
        let res = app
            .call(who, "get_course", &[("slug", "secret-draft")])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = app
            .call(who, "enrol_course", &[("slug", "secret-draft")])
            .await;
        assert!(matches!(res.status().as_u16(), 401 | 404));
    }
    let ids = lesson_ids(&app, &author, "secret-draft").await;
    let res = app
        .call(&learner, "get_lesson", &[("lesson_id", &ids[0])])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let admin = app.admin().await;
    let res = app
        .call(&admin, "get_course", &[("slug", "secret-draft")])
        .await;
    assert_eq!(body_json(res).await["can_edit"], true);
    assert!(slugs(&search(&app, &[("q", "secret")]).await).is_empty());
    app.stop().await;
}

#[tokio::test]
async fn lesson_markdown_renders_inert() {
    let app = spawn_app().await;
    let mut c = course(
        "inert",
        "Inert",
        "",
        "<script>alert(1)</script>\n\n[x](javascript:alert(2))",
    );
    c.sections[0].lessons[0].body =
        "<img src=x onerror=alert(3)> <a onclick=\"alert(4)\">y</a>".into();
    store(&app, &c).await;
    let learner = app.user_with_roles("safe@example.org", &[]).await;
    let detail = body_json(app.call(&learner, "get_course", &[("slug", "inert")]).await).await;
    let html = detail["description_html"].as_str().unwrap();
    assert!(
        !html.contains("<script") && !html.contains("alert(1)"),
        "{html}"
    );
    assert!(!html.contains("javascript:"), "{html}");
    let ids = lesson_ids(&app, &learner, "inert").await;
    let lesson = body_json(
        app.call(&learner, "get_lesson", &[("lesson_id", &ids[0])])
            .await,
    )
    .await;
    let body = lesson["body_html"].as_str().unwrap();
    assert!(
        !body.contains("onerror") && !body.contains("onclick"),
        "{body}"
    );
    app.stop().await;
}

fn demo_folder(name: &str) -> std::path::PathBuf {
    crate::helpers::checkout_path("server/demo-courses").join(name)
}

fn folder_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn import_export_import_gives_an_identical_course() {
    let app = spawn_app().await;
    let media = tempfile::tempdir().unwrap();
    // The shipped demo courses: video with captions, readings, quizzes, twelve JavaScript
    // exercises; readings, quizzes and ten Python exercises.
    for (course, at_least) in [("javascript-foundations", 12), ("python-for-data-work", 10)] {
        let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let slug = server::course_files::import(&app.state, media.path(), &demo_folder(course))
            .await
            .unwrap();
        let before = repo::export_bundle(&app.state.db, &slug)
            .await
            .unwrap()
            .unwrap();
        server::course_files::export(&app.state, media.path(), &slug, first.path())
            .await
            .unwrap();
        server::course_files::import(&app.state, media.path(), first.path())
            .await
            .unwrap();
        let after = repo::export_bundle(&app.state.db, &slug)
            .await
            .unwrap()
            .unwrap();
        server::course_files::export(&app.state, media.path(), &slug, second.path())
            .await
            .unwrap();
        assert_eq!(folder_files(first.path()), folder_files(second.path()));
        // Everything but the server-made media names is the same course.
        let strip = |mut b: CourseBundle| {
            for l in b.sections.iter_mut().flat_map(|s| &mut s.lessons) {
                l.video = l
                    .video
                    .as_ref()
                    .map(|v| v.rsplit('.').next().unwrap_or_default().to_string());
                l.captions = l
                    .captions
                    .as_ref()
                    .map(|v| v.rsplit('.').next().unwrap_or_default().to_string());
            }
            b
        };
        assert_eq!(strip(before.clone()), strip(after));
        let lessons: usize = before.sections.iter().map(|s| s.lessons.len()).sum();
        assert!(lessons >= 8);
        let specs: Vec<_> = before
            .sections
            .iter()
            .flat_map(|s| &s.lessons)
            .filter_map(|l| l.exercise_spec.as_ref())
            .collect();
        assert!(
            specs.len() >= at_least,
            "{course}: {} exercises survived the round trip",
            specs.len()
        );
        // Each exercise's language is written out and read back.
        let language = if course.starts_with("python") {
            app::exercises::model::Language::Python
        } else {
            app::exercises::model::Language::JavaScript
        };
        assert!(specs.iter().all(|s| s.language == language), "{course}");
        let exported = std::fs::read_dir(first.path().join("exercises"))
            .unwrap()
            .flatten()
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .collect::<Vec<_>>();
        assert!(
            exported
                .iter()
                .all(|t| t.contains(&format!("language = \"{}\"", language.key()))),
            "{course}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn an_import_error_names_the_file_and_line() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("course.toml"),
        "slug = \"broken\"\ntitle = \"Broken\"\nlanguage = \"en\"\n\nlevel = \"expert\"\n",
    )
    .unwrap();
    let err = server::course_files::import(&app.state, dir.path(), dir.path())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("course.toml:5:"), "{err}");
    assert!(err.contains("beginner, intermediate or advanced"), "{err}");

    std::fs::write(
        dir.path().join("course.toml"),
        "slug = \"broken\"\ntitle = 3\n",
    )
    .unwrap();
    let err = server::course_files::import(&app.state, dir.path(), dir.path())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("course.toml:2:"), "{err}");
    assert_eq!(
        repo::course_count(&app.state.db).await.unwrap(),
        0,
        "nothing was stored"
    );
    app.stop().await;
}

async fn course_title(app: &TestApp, who: &Browser, slug: &str) -> Value {
    body_json(app.call(who, "get_course", &[("slug", slug)]).await).await["card"]["title"].clone()
}

fn course_form<'a>(slug: &'a str, title: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("slug", slug),
        ("title", title),
        ("level", "beginner"),
        ("language", "en"),
        ("tags", "rust"),
    ]
}

#[tokio::test]
async fn only_authors_and_admins_edit_a_course_and_a_refusal_changes_nothing() {
    let app = spawn_app().await;
    let author = app.user_with_roles("writer@example.org", &["mentor"]).await;
    let rival = app.user_with_roles("rival@example.org", &["mentor"]).await;
    let learner = app.user_with_roles("pupil@example.org", &[]).await;

    let res = app
        .call(
            &learner,
            "create_course",
            &course_form("pupil-course", "Mine"),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "learners do not create courses"
    );
    let res = app
        .call(
            &author,
            "create_course",
            &course_form("owned", "Owned course"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .call(&rival, "create_course", &course_form("owned", "Taken"))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(res).await["problem"], "slug_taken");

    // A draft: others cannot even see it.
    let edit = course_form("owned", "Hijacked");
    let res = app.call(&learner, "update_course", &edit).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.call(
        &author,
        "publish_course",
        &[("slug", "owned"), ("published", "true")],
    )
    .await;
    for who in [&learner, &rival] {
        let res = app.call(who, "update_course", &edit).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app
            .call(who, "add_section", &[("slug", "owned"), ("title", "Extra")])
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(course_title(&app, &learner, "owned").await, "Owned course");

    let admin = app.admin().await;
    let res = app
        .call(
            &admin,
            "update_course",
            &course_form("owned", "Edited by admin"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        course_title(&app, &learner, "owned").await,
        "Edited by admin"
    );
    let bad = app
        .call(
            &author,
            "update_course",
            &[
                ("slug", "owned"),
                ("title", "T"),
                ("level", "beginner"),
                ("language", "en"),
                ("starts_on", "2026-05-01"),
                ("ends_on", "2026-04-01"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(bad).await["problem"], "dates_invalid");
    app.stop().await;
}

#[tokio::test]
async fn an_author_builds_a_quiz_reorders_lessons_and_publishes() {
    let app = spawn_app().await;
    let author = app
        .user_with_roles("builder@example.org", &["mentor"])
        .await;
    app.call(
        &author,
        "create_course",
        &course_form("built", "Built in the browser"),
    )
    .await;
    let section = body_json(
        app.call(
            &author,
            "add_section",
            &[("slug", "built"), ("title", "Start")],
        )
        .await,
    )
    .await;
    let section = section.as_str().unwrap();
    let mut ids = Vec::new();
    for (title, kind) in [("Intro", "text"), ("Check", "quiz")] {
        let id = body_json(
            app.call(
                &author,
                "add_lesson",
                &[
                    ("slug", "built"),
                    ("section_id", section),
                    ("title", title),
                    ("kind", kind),
                ],
            )
            .await,
        )
        .await;
        ids.push(id.as_str().unwrap().to_string());
    }
    let res = app
        .call(
            &author,
            "update_lesson",
            &[
                ("lesson_id", &ids[1]),
                ("title", "Check"),
                (
                    "questions",
                    "[[question]]\nprompt = \"2+2?\"\nchoices = [\"3\", \"4\"]\ncorrect = [5]\n",
                ),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(
        body_json(res).await["detail"]
            .as_str()
            .unwrap()
            .contains("question 1")
    );
    let res = app
        .call(
            &author,
            "update_lesson",
            &[
                ("lesson_id", &ids[1]),
                ("title", "Check"),
                (
                    "questions",
                    "[[question]]\nprompt = \"2+2?\"\nchoices = [\"3\" \"4\"]\n",
                ),
            ],
        )
        .await;
    assert!(
        body_json(res).await["detail"]
            .as_str()
            .unwrap()
            .contains("line 3")
    );
    let quiz = "[[question]]\nprompt = \"2+2?\"\nchoices = [\"3\", \"4\"]\ncorrect = [1]\nexplanation = \"Count them.\"\n";
    let res = app
        .call(
            &author,
            "update_lesson",
            &[
                ("lesson_id", &ids[1]),
                ("title", "Check"),
                ("questions", quiz),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let draft = body_json(
        app.call(&author, "get_lesson_draft", &[("lesson_id", &ids[1])])
            .await,
    )
    .await;
    assert!(
        draft["questions_toml"]
            .as_str()
            .unwrap()
            .contains("Count them.")
    );

    app.call(
        &author,
        "move_lesson",
        &[("lesson_id", &ids[1]), ("direction", "up")],
    )
    .await;
    let draft = body_json(
        app.call(&author, "get_course_draft", &[("slug", "built")])
            .await,
    )
    .await;
    let order: Vec<&str> = draft["sections"][0]["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["title"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["Check", "Intro"]);

    assert!(slugs(&search(&app, &[("q", "browser")]).await).is_empty());
    app.call(
        &author,
        "publish_course",
        &[("slug", "built"), ("published", "true")],
    )
    .await;
    assert_eq!(slugs(&search(&app, &[("q", "browser")]).await), ["built"]);
    let html = body_json(
        app.call(
            &author,
            "preview_markdown",
            &[("text", "# Hi <script>x</script>")],
        )
        .await,
    )
    .await;
    assert_eq!(html, "<h1>Hi </h1>\n");
    app.stop().await;
}

fn multipart(content_type: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"video\"; filename=\"clip.mp4\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    body
}

async fn res_cache(who: &Browser, app: &crate::helpers::TestApp, src: &str) -> String {
    let res = who.get(app.url(src)).send().await.unwrap();
    res.headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn an_upload_that_claims_to_be_mp4_but_is_not_is_refused_and_a_real_video_streams() {
    let app = spawn_app().await;
    let author = app
        .user_with_roles("uploader@example.org", &["mentor"])
        .await;
    app.call(&author, "create_course", &course_form("videos", "Videos"))
        .await;
    let section = body_json(
        app.call(
            &author,
            "add_section",
            &[("slug", "videos"), ("title", "S")],
        )
        .await,
    )
    .await;
    let lesson = body_json(
        app.call(
            &author,
            "add_lesson",
            &[
                ("slug", "videos"),
                ("section_id", section.as_str().unwrap()),
                ("title", "Clip"),
                ("kind", "video"),
            ],
        )
        .await,
    )
    .await;
    let lesson = lesson.as_str().unwrap().to_string();
    let upload = |who: Browser, bytes: Vec<u8>| {
        let url = app.url(&format!("/upload/video/{lesson}"));
        let base = app.base.clone();
        async move {
            who.post(url)
                .header("origin", &base)
                .header("accept", "application/json")
                .header("content-type", "multipart/form-data; boundary=XyZ")
                .body(bytes)
                .send()
                .await
        }
    };
    let fake = format!("<html><script>alert(1)</script>{}</html>", " ".repeat(200));
    let res = upload(author.clone(), multipart("video/mp4", fake.as_bytes()))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        body_json(res).await,
        serde_json::json!({"error": "invalid", "problem": "video_type"})
    );
    let draft = body_json(
        app.call(&author, "get_lesson_draft", &[("lesson_id", &lesson)])
            .await,
    )
    .await;
    assert_eq!(draft["video_src"], Value::Null, "nothing changed");

    let real = std::fs::read(demo_folder("javascript-foundations").join("media/console-tour.webm"))
        .unwrap();
    let stranger = app
        .user_with_roles("stranger@example.org", &["mentor"])
        .await;
    let res = upload(stranger.clone(), multipart("video/webm", &real))
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "a draft of someone else"
    );
    let res = upload(author.clone(), multipart("application/octet-stream", &real))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let src = body_json(res).await["src"].as_str().unwrap().to_string();
    assert!(
        src.starts_with("/media/") && src.ends_with(".webm"),
        "{src}"
    );

    // A draft's video is its authors' alone: its random name is not a permission.
    for who in [app.browser(), stranger.clone()] {
        let res = who.get(app.url(&src)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    let res = app
        .browser()
        .get(app.url("/media/..%2F..%2Fetc%2Fpasswd"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Players seek with Range requests.
    let res = author
        .get(app.url(&src))
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &real[..100]);
    assert_eq!(res_cache(&author, &app, &src).await, "private, no-store");
    // Published, it is everyone's, as its lesson pages are.
    let res = app
        .call(
            &author,
            "publish_course",
            &[("slug", "videos"), ("published", "true")],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let res = app
        .browser()
        .get(app.url(&src))
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &real[100..200]);

    // A new video replaces the old one, whose file is removed from the disk.
    let old_file = app.media_dir.join(src.trim_start_matches("/media/"));
    assert!(old_file.exists());
    let res = upload(author.clone(), multipart("video/webm", &real))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let newer = body_json(res).await["src"].as_str().unwrap().to_string();
    assert_ne!(newer, src);
    assert!(!old_file.exists(), "the replaced video is deleted");
    assert!(
        app.media_dir
            .join(newer.trim_start_matches("/media/"))
            .exists()
    );
    app.stop().await;
}
