//! Upgrades keep data: databases written by earlier schemas (backups in `tests/fixtures/`, one
//! per schema version, written by `make fixture`) are restored, migrated to the newest schema,
//! and every page their users reach still renders.

use std::{
    collections::{BTreeSet, VecDeque},
    path::{Path, PathBuf},
};

use app::rooms::model::{RoomClientMessage as C, RoomServerMessage as S};
use reqwest::StatusCode;
use server::{config::DatabaseConfig, db};

use crate::{
    exercises,
    helpers::{Browser, TestApp, body_json, spawn_app_with},
    mentoring,
};

const PASSWORD: &str = "a perfectly fine passphrase";
const LEARNER: &str = "fixture-learner@example.org";
const MENTOR: &str = "fixture-mentor@example.org";
const ADMIN: (&str, &str) = ("admin@pairwise.test", "pairwise-admin-demo");

fn fixtures_dir() -> PathBuf {
    crate::helpers::checkout_path("tests/fixtures")
}

/// `schema-0008.surql` → 8.
fn fixture_version(path: &Path) -> Option<i64> {
    path.file_name()?
        .to_str()?
        .strip_prefix("schema-")?
        .strip_suffix(".surql")?
        .parse()
        .ok()
}

fn fixtures() -> Vec<(i64, PathBuf)> {
    let mut found: Vec<(i64, PathBuf)> = std::fs::read_dir(fixtures_dir())
        .expect("tests/fixtures exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| fixture_version(&p).map(|v| (v, p)))
        .collect();
    found.sort();
    found
}

async fn ok(res: reqwest::Response, what: &str) -> serde_json::Value {
    let status = res.status();
    let body = res.text().await.unwrap_or_default();
    assert!(status.is_success(), "{what}: {status} {body}");
    serde_json::from_str(&body).unwrap_or(serde_json::Value::Null)
}

/// Writes a backup of a database holding what people really do (demo courses, enrolments,
/// lessons read, a quiz and exercise attempts, a mentorship with a booking, questions, a
/// room's chat and shared code, dashboards with snapshots, notifications) under the newest
/// schema. `make fixture` runs it when a migration is added; the file is committed.
#[tokio::test]
#[ignore = "writes tests/fixtures/schema-NNNN.surql; run through `make fixture`"]
async fn write_upgrade_fixture() {
    let app = spawn_app_with(&[("PAIRWISE_DEMO", "true")]).await;

    let learner = app.user_with_roles(LEARNER, &[]).await;
    mentoring::profile(
        &app,
        &learner,
        "Fixture Learner",
        "JavaScript: beginner",
        "Europe/Berlin",
    )
    .await;
    ok(
        app.call(
            &learner,
            "enrol_course",
            &[("slug", "javascript-foundations")],
        )
        .await,
        "enrol",
    )
    .await;
    let course = ok(
        app.call(
            &learner,
            "get_course",
            &[("slug", "javascript-foundations")],
        )
        .await,
        "course",
    )
    .await;
    let lessons: Vec<(String, String)> = course["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .flat_map(|s| s["lessons"].as_array().cloned().unwrap_or_default())
        .map(|l| {
            (
                l["kind"].as_str().unwrap_or_default().to_string(),
                l["id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let first = |kind: &str| {
        lessons
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, id)| id.clone())
            .unwrap_or_else(|| panic!("the demo course has a {kind} lesson"))
    };
    ok(
        app.call(
            &learner,
            "complete_lesson",
            &[("lesson_id", &first("text"))],
        )
        .await,
        "read",
    )
    .await;
    // A quiz attempt: the first choice of every question.
    let quiz = first("quiz");
    let lesson = ok(
        app.call(&learner, "get_lesson", &[("lesson_id", &quiz)])
            .await,
        "quiz lesson",
    )
    .await;
    let questions = lesson["questions"].as_array().map_or(0, Vec::len);
    let answers: Vec<(String, String)> = (0..questions)
        .map(|i| (format!("answers[{i}]"), format!("{i}:0")))
        .collect();
    let mut form: Vec<(&str, &str)> = vec![("lesson_id", &quiz)];
    form.extend(answers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    ok(app.call(&learner, "submit_quiz", &form).await, "quiz").await;
    let exercise = first("exercise");
    exercises::submit(
        &app,
        &learner,
        &exercise,
        "function fizzbuzz(n) { return []; }",
    )
    .await;
    exercises::submit(
        &app,
        &learner,
        &exercise,
        "function fizzbuzz(n) { const o = []; for (let i = 1; i <= n; i++) \
         o.push(i % 15 === 0 ? 'FizzBuzz' : i % 3 === 0 ? 'Fizz' : i % 5 === 0 ? 'Buzz' : i); return o; }",
    )
    .await;

    // A mentorship with a booked session, a question and its answer, and the exercise's code
    // opened in a live room where both people chat.
    let (mentor, mentor_id) = mentoring::mentor(&app, "fixture-mentor", "3").await;
    let ms = mentoring::mentored(&app, &mentor, &mentor_id, &learner).await;
    let page = ok(
        app.call(&learner, "get_mentorship", &[("id", &ms)]).await,
        "mentorship",
    )
    .await;
    let start = page["slots"][0]["start"]
        .as_str()
        .expect("a free start")
        .to_string();
    ok(
        app.call(
            &learner,
            "book_session",
            &[("mentorship", &ms), ("start", &start)],
        )
        .await,
        "book",
    )
    .await;
    ok(
        app.call(&learner, "rotate_calendar_feed", &[]).await,
        "calendar feed",
    )
    .await;
    ok(
        app.call(
            &learner,
            "post_question",
            &[
                ("mentorship", &ms),
                ("body", "Why is `this` undefined here?"),
            ],
        )
        .await,
        "question",
    )
    .await;
    let res = app
        .call(
            &learner,
            "open_in_session",
            &[
                ("lesson_id", &exercise),
                ("code", "function fizzbuzz(n) {}"),
            ],
        )
        .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    let rooms = body_json(app.call(&learner, "my_rooms", &[]).await).await;
    let room = rooms[0]["id"].as_str().expect("a room").to_string();
    for (who, key, text) in [
        (&learner, "fixture-chat-1", "Can you look at my loop?"),
        (&mentor, "fixture-chat-2", "Sure, `i <= n` is the fix."),
    ] {
        let mut ws = app
            .room_socket(who, &room, "?since=0", None)
            .await
            .expect("the room socket opens");
        ws.send(&C::Chat {
            key: key.into(),
            body: text.into(),
        })
        .await;
        ws.until(|m| matches!(m, S::Ack { key: k, .. } if k == key).then_some(()))
            .await;
    }

    // Dashboards write today's snapshot and bring points and badges up to date.
    for who in [&learner, &mentor] {
        let res = who.get(app.url("/progress")).send().await.expect("sent");
        assert_eq!(res.status(), StatusCode::OK);
    }
    ok(
        app.call(&mentor, "mentor_dashboard", &[("days", "30")])
            .await,
        "mentor dashboard",
    )
    .await;

    let path = fixtures_dir().join(format!("schema-{:04}.surql", db::latest_version()));
    server::backup::export_surql(&app.state.db, &path)
        .await
        .expect("backup written");
    eprintln!("fixture written to {}", path.display());
    app.stop().await;
}

/// Same-origin page links in `html` (not API calls, assets or downloads).
fn page_links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|href| href.replace("&amp;", "&"))
        .filter(|href| href.starts_with('/') && !href.starts_with("//"))
        .filter(|href| {
            let path = href.split(['?', '#']).next().unwrap_or_default();
            ![
                "/api/",
                "/pkg/",
                "/media/",
                "/editor/",
                "/calendar/",
                "/sandbox/",
            ]
            .iter()
            .any(|p| path.starts_with(p))
                && !path.contains('.')
                && !path.ends_with("/ics")
        })
        .collect()
}

fn title_of(html: &str) -> Option<&str> {
    let start = html.find("<title>")? + "<title>".len();
    let end = html[start..].find("</title>")? + start;
    Some(html[start..end].trim()).filter(|t| !t.is_empty())
}

/// Visits every page reachable by links from `/` as `who` (at most `limit`), asserting each
/// answers 200 with a server-rendered `<title>`. Returns the paths visited.
async fn crawl(app: &TestApp, who: &Browser, limit: usize) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from(["/".to_string()]);
    let mut failures = Vec::new();
    while let Some(path) = queue.pop_front() {
        if seen.len() >= limit || !seen.insert(path.clone()) {
            continue;
        }
        let res = who.get(app.url(&path)).send().await.expect("sent");
        let status = res.status();
        let html = res.text().await.unwrap_or_default();
        if status != StatusCode::OK {
            failures.push(format!("{path}: {status}"));
            continue;
        }
        if title_of(&html).is_none() {
            failures.push(format!("{path}: no <title>"));
        }
        queue.extend(page_links(&html).into_iter().filter(|l| !seen.contains(l)));
    }
    assert!(
        failures.is_empty(),
        "pages that broke:\n{}",
        failures.join("\n")
    );
    eprintln!("{} pages render", seen.len());
    seen
}

async fn signed_in(app: &TestApp, email: &str, password: &str) -> Browser {
    let who = app.browser();
    let res = app.sign_in(&who, email, password).await;
    assert_eq!(res.status(), StatusCode::OK, "signing in {email}");
    who
}

#[test]
fn the_newest_schema_has_a_fixture() {
    let newest = fixtures().last().map(|(v, _)| *v);
    assert_eq!(
        newest,
        Some(db::latest_version()),
        "migration {:04} has no upgrade fixture: run `make fixture` and commit \
         tests/fixtures/schema-{:04}.surql",
        db::latest_version(),
        db::latest_version()
    );
}

// Each fixture takes about 18 s in the debug build (restore, migrate, crawl four users' pages),
// so one test over all of them outgrew the per-test limit (.config/nextest.toml) at 14 fixtures.
// The fixtures are dealt round-robin into four tests instead: new fixtures join a share by
// themselves, and the shares run side by side with the rest of the suite.
const SHARES: usize = 4;

#[tokio::test]
async fn fixtures_share_0_migrate_to_the_newest_schema_and_their_pages_render() {
    upgrade_share(0).await;
}

#[tokio::test]
async fn fixtures_share_1_migrate_to_the_newest_schema_and_their_pages_render() {
    upgrade_share(1).await;
}

#[tokio::test]
async fn fixtures_share_2_migrate_to_the_newest_schema_and_their_pages_render() {
    upgrade_share(2).await;
}

#[tokio::test]
async fn fixtures_share_3_migrate_to_the_newest_schema_and_their_pages_render() {
    upgrade_share(3).await;
}

fn share(k: usize) -> Vec<(i64, PathBuf)> {
    fixtures().into_iter().skip(k).step_by(SHARES).collect()
}

/// Restores each fixture of share `k` into a fresh database, starts the newest server on it and
/// crawls its pages as each kind of user.
async fn upgrade_share(k: usize) {
    let mine = share(k);
    assert!(
        !mine.is_empty(),
        "share {k} of {SHARES} has no fixture in {}",
        fixtures_dir().display()
    );
    for (version, file) in mine {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("surrealkv://{}/db", dir.path().display());
        let cfg = DatabaseConfig {
            url: url.clone(),
            user: None,
            password: None,
            namespace: "pairwise".into(),
            name: "main".into(),
        };
        // What an operator does: restore the old backup, then start the new version, which
        // migrates at start-up.
        let old = db::connect_db(&cfg).await.expect("database opens");
        server::backup::restore(
            &old,
            &tempfile::tempdir().expect("dir").path().join("media"),
            &file,
        )
        .await
        .unwrap_or_else(|e| panic!("restoring {}: {e:#}", file.display()));
        server::startup::close_db(old).await;
        let app = spawn_app_with(&[
            ("PAIRWISE_DATABASE_URL", &url),
            ("PAIRWISE_DATABASE_NAMESPACE", "pairwise"),
            ("PAIRWISE_DATABASE_NAME", "main"),
        ])
        .await;
        let mut res = app
            .state
            .db
            .query("SELECT VALUE version FROM migration ORDER BY version")
            .await
            .expect("migrations read");
        let applied: Vec<i64> = res.take(0).expect("versions");
        assert_eq!(
            applied.last().copied(),
            Some(db::latest_version()),
            "schema {version} was migrated to the newest"
        );

        // Signed out, and as each kind of user the fixture holds.
        let visited = crawl(&app, &app.browser(), 60).await;
        assert!(visited.contains("/courses"), "{visited:?}");
        let learner = signed_in(&app, LEARNER, PASSWORD).await;
        let visited = crawl(&app, &learner, 120).await;
        assert!(
            visited.len() >= 15,
            "the learner reaches their pages: {visited:?}"
        );
        for page in ["/progress", "/my/courses", "/notifications", "/rooms"] {
            assert!(
                visited.contains(page),
                "learner reached {page}: {visited:?}"
            );
        }
        // The learner's history came through: their course, their attempts, their room.
        let mine = learner
            .get(app.url("/my/courses"))
            .send()
            .await
            .expect("sent")
            .text()
            .await
            .expect("html");
        assert!(mine.contains("JavaScript foundations"), "{mine}");
        let rooms = body_json(app.call(&learner, "my_rooms", &[]).await).await;
        let room = rooms[0]["id"]
            .as_str()
            .expect("the room survived")
            .to_string();
        let page = learner
            .get(app.url(&format!("/rooms/{room}")))
            .send()
            .await
            .expect("sent")
            .text()
            .await
            .expect("html");
        assert!(page.contains("is the fix"), "the room's chat survived");
        assert!(
            page.contains("function fizzbuzz"),
            "the room's code survived"
        );

        let mentor = signed_in(&app, MENTOR, PASSWORD).await;
        let visited = crawl(&app, &mentor, 120).await;
        assert!(visited.contains("/mentoring"), "{visited:?}");
        let admin = signed_in(&app, ADMIN.0, ADMIN.1).await;
        let visited = crawl(&app, &admin, 120).await;
        assert!(visited.contains("/admin/analytics"), "{visited:?}");
        app.stop().await;
    }
}
