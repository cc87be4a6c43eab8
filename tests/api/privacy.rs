//! Privacy: the rule table covers the live schema; an export holds everything about its
//! person and nothing of anyone else's; a deleted account leaves no e-mail, name or address
//! behind while what others rely on still reads.

use std::{collections::BTreeSet, io::Read};

use app::privacy::rules::{Holds, RULES};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Browser, Received, TestApp, body_json, spawn_app};

const PASSWORD: &str = "a perfectly fine passphrase";

/// Every `(table, field)` of the migrated schema that refers to a user: a field whose type
/// names `record<user>` (alone, optional, in an array or among other tables), and the `in`
/// or `out` of a relation table from or to users.
async fn fields_referring_to_users(app: &TestApp) -> BTreeSet<(String, String)> {
    let mut res = app
        .state
        .db
        .query("INFO FOR DB")
        .await
        .expect("info for db");
    let info: Option<Value> = res.take(0).expect("db info");
    let tables = info.expect("db info")["tables"].clone();
    let tables = tables.as_object().expect("tables").clone();
    let mut found = BTreeSet::new();
    for (table, definition) in &tables {
        let definition = definition.as_str().unwrap_or_default();
        for (end, word) in [("in", "IN"), ("out", "OUT")] {
            let names_users = definition
                .split_whitespace()
                .collect::<Vec<_>>()
                .windows(2)
                .any(|w| w[0] == word && w[1].split('|').any(|t| t == "user"));
            if names_users {
                found.insert((table.clone(), end.to_string()));
            }
        }
        let mut res = app
            .state
            .db
            .query(format!("INFO FOR TABLE {table}"))
            .await
            .expect("info for table");
        let info: Option<Value> = res.take(0).expect("table info");
        let fields = info.expect("table info")["fields"].clone();
        for (field, definition) in fields.as_object().expect("fields") {
            // `skills[*].name` and the like are parts of a field already judged.
            if field.contains('[') || field.contains('.') {
                continue;
            }
            if holds_a_user(definition.as_str().unwrap_or_default()) {
                found.insert((table.clone(), field.clone()));
            }
        }
    }
    found
}

/// Whether a field definition's type can hold a user record (`record<user>`,
/// `option<record<user>>`, `array<record<user>>`, `record<user | course>`...).
fn holds_a_user(definition: &str) -> bool {
    let Some(ty) = definition.split(" TYPE ").nth(1) else {
        return false;
    };
    let ty = ty.split(" DEFAULT ").next().unwrap_or(ty);
    let ty = ty.split(" ASSERT ").next().unwrap_or(ty);
    ty.match_indices("record<").any(|(at, _)| {
        ty[at + "record<".len()..]
            .split('>')
            .next()
            .is_some_and(|tables| tables.split('|').any(|t| t.trim() == "user"))
    })
}

#[tokio::test]
async fn every_field_that_refers_to_a_person_has_a_privacy_rule() {
    let app = spawn_app().await;
    let in_schema = fields_referring_to_users(&app).await;
    let ruled: BTreeSet<(String, String)> = RULES
        .iter()
        .filter(|r| r.holds != Holds::Email)
        .map(|r| (r.table.to_string(), r.field.to_string()))
        .collect();
    let missing: Vec<_> = in_schema.difference(&ruled).collect();
    assert!(
        missing.is_empty(),
        "fields that refer to a user with no rule in app/src/privacy/rules.rs (say how each is exported and deleted): {missing:?}"
    );
    let stale: Vec<_> = ruled.difference(&in_schema).collect();
    assert!(
        stale.is_empty(),
        "rules for fields the schema does not have (or that no longer refer to a user): {stale:?}"
    );
    // A rule on an address names a real text field.
    for r in RULES.iter().filter(|r| r.holds == Holds::Email) {
        let mut res = app
            .state
            .db
            .query(format!("INFO FOR TABLE {}", r.table))
            .await
            .expect("info");
        let info: Option<Value> = res.take(0).expect("info");
        let def = info.expect("info")["fields"][r.field]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            ["TYPE string", "TYPE option<string>", "TYPE none | string"]
                .iter()
                .any(|t| def.contains(t)),
            "{}.{}: {def}",
            r.table,
            r.field
        );
    }
    app.stop().await;
}

/// Every file of a zip archive, by name.
fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip archive");
    let mut files = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).expect("an entry");
        let mut text = String::new();
        f.read_to_string(&mut text).expect("text");
        files.push((f.name().to_string(), text));
    }
    files
}

async fn export(app: &TestApp, who: &Browser) -> reqwest::Response {
    who.post(app.url("/account/export"))
        .header("origin", app.url(""))
        .send()
        .await
        .expect("export")
}

/// A learner with an enrolment, a submission, a question someone else answered and an
/// answer in someone else's thread; and that someone else.
async fn learner_with_a_history(app: &TestApp) -> (Browser, String, Browser, String, String) {
    use crate::exercises::{enrolled_learner, exercise_course, submit, test_case};
    let lesson = exercise_course(
        app,
        "kept",
        None,
        vec![test_case("t", "answer()", serde_json::json!(42), false)],
        app::exercises::model::Limits::DEFAULT,
    )
    .await;
    let learner = enrolled_learner(app, "leaving@example.org", "kept").await;
    let other = enrolled_learner(app, "staying@example.org", "kept").await;
    // Renamed the way a person does it (the profile form), so every page and notice after
    // this carries the new name.
    crate::mentoring::profile(app, &learner, "Zebulon Quartz", "", "UTC").await;
    submit(
        app,
        &learner,
        &lesson,
        "function answer() { return 42; } // MY-OWN-CODE",
    )
    .await;
    let ask = |who: &Browser, title: &str| {
        let form = [
            ("space", "courses/kept".to_string()),
            ("title", title.to_string()),
            ("body", format!("{title}, in words.")),
        ];
        let (app, who) = (app, who.clone());
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let v = body_json(app.call(&who, "create_thread", &form).await).await;
            v.as_str().expect("thread").to_string()
        }
    };
    let mine = ask(&learner, "A question from the leaver").await;
    let theirs = ask(&other, "A question from the stayer").await;
    let res = app
        .call(
            &other,
            "post_reply",
            &[("thread", &mine), ("body", "An answer from the stayer")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .call(
            &learner,
            "post_reply",
            &[("thread", &theirs), ("body", "An answer from the leaver")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    (learner, mine, other, theirs, lesson)
}

#[tokio::test]
async fn an_export_holds_every_table_that_refers_to_me_and_nothing_of_anyone_else() {
    let app = spawn_app().await;
    let (learner, _, _, _, _) = learner_with_a_history(&app).await;

    let res = export(&app, &Browser::new()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Another site cannot start one.
    let res = learner
        .post(app.url("/account/export"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("export");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let res = export(&app, &learner).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let files = unzip(&res.bytes().await.expect("body"));
    let names: BTreeSet<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for table in RULES.iter().map(|r| r.table).chain(["user"]) {
        assert!(
            names.contains(format!("{table}.json").as_str()),
            "{table} missing: {names:?}"
        );
    }
    let file = |name: &str| -> Value {
        serde_json::from_str(
            &files
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.clone())
                .unwrap_or_default(),
        )
        .expect("json")
    };
    let me = file("user.json");
    assert_eq!(me[0]["email"], "leaving@example.org", "{me}");
    assert!(me[0].get("password_hash").is_none(), "{me}");
    assert!(file("submission.json").to_string().contains("MY-OWN-CODE"));
    assert!(
        file("forum_reply.json")
            .to_string()
            .contains("An answer from the leaver")
    );
    assert!(
        !file("forum_reply.json")
            .to_string()
            .contains("from the stayer")
    );
    assert_eq!(file("enrolled.json").as_array().map(Vec::len), Some(1));
    assert!(!file("session.json").to_string().is_empty());
    // Nothing of the other learner's: not their address, not their words.
    let everything: String = files.iter().map(|(_, t)| t.as_str()).collect();
    assert!(!everything.contains("staying@example.org"));
    assert!(!everything.contains("An answer from the stayer"));
    assert!(!everything.contains("A question from the stayer"));
    app.stop().await;
}

/// Every row of every table, as text.
async fn whole_database(app: &TestApp) -> String {
    let mut res = app.state.db.query("INFO FOR DB").await.expect("info");
    let info: Option<Value> = res.take(0).expect("info");
    let mut all = String::new();
    for table in info.expect("info")["tables"]
        .as_object()
        .expect("tables")
        .keys()
    {
        let mut res = app
            .state
            .db
            .query(format!("SELECT * FROM {table}"))
            .await
            .expect("rows");
        let rows: Vec<surrealdb::types::Value> = res.take(0).expect("rows");
        for row in rows {
            all.push_str(&row.into_json_value().to_string());
            all.push('\n');
        }
    }
    all
}

#[tokio::test]
async fn a_deleted_account_leaves_nothing_personal_and_others_still_read_what_it_wrote() {
    let app = spawn_app().await;
    let (learner, mine, other, theirs, _) = learner_with_a_history(&app).await;
    let leaver = body_json(app.call(&learner, "current_user", &[]).await).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let mut live = app.live(&learner, None).await.expect("a live socket");
    live.greeted().await;

    // Refused without the password, and without the confirmation; nothing changes.
    let res = app
        .call(
            &learner,
            "delete_account",
            &[("password", "not it"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .call(&learner, "delete_account", &[("password", PASSWORD)])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(res).await["problem"], "delete_not_confirmed");
    assert!(whole_database(&app).await.contains("leaving@example.org"));

    let res = app
        .call(
            &learner,
            "delete_account",
            &[("password", PASSWORD), ("confirm", "yes")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The open socket is closed at once; the session is dead.
    let closed = tokio::time::timeout(std::time::Duration::from_secs(1), live.recv())
        .await
        .expect("closed within a second");
    assert!(matches!(closed, Received::Closed(_)), "{closed:?}");
    let me = body_json(app.call(&learner, "current_user", &[]).await).await;
    assert_eq!(me, Value::Null);

    // No table holds the address, the name or the code; no row about the account keeps an
    // address it came from (the other learner's sign-ins come from 127.0.0.1 too).
    let all = whole_database(&app).await;
    for personal in ["leaving@example.org", "Zebulon Quartz", "MY-OWN-CODE"] {
        let holders: Vec<&str> = all.lines().filter(|l| l.contains(personal)).collect();
        assert!(holders.is_empty(), "{personal} still in: {holders:?}");
    }
    let addressed: Vec<&str> = all
        .lines()
        .filter(|l| l.contains(&leaver) && l.contains("127.0.0.1"))
        .collect();
    assert!(addressed.is_empty(), "{addressed:?}");

    // The other learner still reads both threads; the leaver's words are by "deleted user".
    let t = body_json(app.call(&other, "forum_thread", &[("id", &mine)]).await).await;
    assert_eq!(t["post"]["author"], "deleted user", "{t}");
    assert!(
        t["replies"][0]["body_html"]
            .as_str()
            .unwrap_or_default()
            .contains("from the stayer")
    );
    let t = body_json(app.call(&other, "forum_thread", &[("id", &theirs)]).await).await;
    assert_eq!(t["replies"][0]["author"], "deleted user", "{t}");
    let page = other
        .get(app.url(&format!("/forum/threads/{mine}")))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    // A reader in Chinese reads the name in Chinese, in the thread and in notifications.
    let res = app
        .call(&other, "set_locale", &[("locale", "zh-Hans")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let t = body_json(app.call(&other, "forum_thread", &[("id", &theirs)]).await).await;
    assert_eq!(t["replies"][0]["author"], "已删除的用户", "{t}");
    let notices = body_json(app.call(&other, "get_notifications", &[]).await).await;
    let texts: Vec<&str> = notices[0]
        .as_array()
        .expect("notifications")
        .iter()
        .filter_map(|n| n["text"].as_str())
        .collect();
    assert!(
        texts.iter().all(|t| !t.contains("deleted user"))
            && texts.iter().any(|t| t.contains("已删除的用户")),
        "{texts:?}"
    );
    // One audit entry says it happened, with nothing personal in it.
    let mut res = app
        .state
        .db
        .query("SELECT * FROM audit WHERE kind = 'account_deleted'")
        .await
        .expect("audit");
    let entries: Vec<surrealdb::types::Value> = res.take(0).expect("audit");
    assert_eq!(entries.len(), 1);
    // The old address and password open nothing (tried last: a failed sign-in is recorded
    // under the address typed, as the rate limiter's memory).
    let res = app
        .sign_in(&Browser::new(), "leaving@example.org", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Deleting again is not possible: the session is gone.
    let res = app
        .call(
            &learner,
            "delete_account",
            &[("password", PASSWORD), ("confirm", "yes")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn retention_purges_exactly_what_is_due() {
    let app = spawn_app().await;
    let owner = app.user_with_roles("host@example.org", &[]).await;
    let me = body_json(app.call(&owner, "current_user", &[]).await).await;
    let owner_id = me["id"].as_str().expect("id").to_string();
    let now = app.state.clock.now();
    let days = |n: i64| now - chrono::Duration::days(n);
    let hash = |c: char| c.to_string().repeat(64);
    // Defaults: addresses 90 days, mail 30, closed rooms 180, links 7.
    let mut res = app
        .state
        .db
        .query(
            "LET $u = type::record('user', $owner);
             CREATE audit:old CONTENT { kind: 'sign_in', ip: '10.0.0.1', email: 'x@example.org', at: $d91 };
             CREATE audit:recent CONTENT { kind: 'sign_in', ip: '10.0.0.2', at: $d89 };
             CREATE outbox:sent_old CONTENT { to: 'a@example.org', subject: 's', body: 'b', created_at: $d40, sent_at: $d31 };
             CREATE outbox:unsent_old CONTENT { to: 'a@example.org', subject: 's', body: 'b', created_at: $d40 };
             CREATE outbox:sent_recent CONTENT { to: 'a@example.org', subject: 's', body: 'b', created_at: $d40, sent_at: $d29 };
             CREATE room:closed_old CONTENT { owner: $u, title: 'old', state: 'closed', created_at: $d200, closed_at: $d181 };
             CREATE room:closed_recent CONTENT { owner: $u, title: 'recent', state: 'closed', created_at: $d200, closed_at: $d179 };
             CREATE room:open CONTENT { owner: $u, title: 'open', state: 'open', created_at: $d200 };
             FOR $r IN [room:closed_old, room:closed_recent, room:open] {
                CREATE chat_message CONTENT { room: $r, seq: 1, author: $u, client_key: 'key-00001', body: 'hi', created_at: $d200 };
                CREATE pair_update CONTENT { room: $r, seq: 1, author: $u, bytes: 'AAAA', at: $d200 };
             };
             CREATE email_token:expired CONTENT { token_hash: $h1, user: $u, purpose: 'verify_email', created_at: $d10, expires_at: $d8 };
             CREATE email_token:used_recently CONTENT { token_hash: $h2, user: $u, purpose: 'reset_password', created_at: $d6, expires_at: $d5, used_at: $d6 };
             CREATE email_token:open CONTENT { token_hash: $h3, user: $u, purpose: 'reset_password', created_at: $now, expires_at: $later };",
        )
        .bind(("owner", owner_id))
        .bind(("d91", days(91)))
        .bind(("d89", days(89)))
        .bind(("d40", days(40)))
        .bind(("d31", days(31)))
        .bind(("d29", days(29)))
        .bind(("d200", days(200)))
        .bind(("d181", days(181)))
        .bind(("d179", days(179)))
        .bind(("d10", days(10)))
        .bind(("d8", days(8)))
        .bind(("d6", days(6)))
        .bind(("d5", days(5)))
        .bind(("now", now))
        .bind(("later", now + chrono::Duration::hours(1)))
        .bind(("h1", hash('a')))
        .bind(("h2", hash('b')))
        .bind(("h3", hash('c')))
        .await
        .expect("seeded");
    assert!(res.take_errors().is_empty());

    let purged = server::startup::purge_expired(&app.state)
        .await
        .expect("purged");
    assert_eq!(
        purged,
        app::privacy::repo::Purged {
            addresses: 1,
            mails: 1,
            chat_lines: 1,
            code_steps: 1,
            links: 1,
        }
    );
    let ids = |table: &'static str| {
        let db = app.state.db.clone();
        async move {
            let mut res = db
                .query(format!("SELECT VALUE record::id(id) FROM {table}"))
                .await
                .expect("ids");
            let mut ids: Vec<String> = res.take(0).expect("ids");
            ids.sort();
            ids
        }
    };
    let mut res = app
        .state
        .db
        .query("SELECT VALUE [ip, email] FROM [audit:old, audit:recent]")
        .await
        .expect("audit");
    let audit: Vec<Vec<Option<String>>> = res.take(0).expect("audit");
    assert_eq!(
        audit,
        vec![vec![None, None], vec![Some("10.0.0.2".to_string()), None]]
    );
    let mails: Vec<String> = ids("outbox")
        .await
        .into_iter()
        .filter(|m| ["sent_old", "unsent_old", "sent_recent"].contains(&m.as_str()))
        .collect();
    assert_eq!(mails, vec!["sent_recent", "unsent_old"]);
    let mut res = app
        .state
        .db
        .query(
            "SELECT VALUE record::id(room) FROM chat_message ORDER BY room;
             SELECT VALUE record::id(room) FROM pair_update ORDER BY room;",
        )
        .await
        .expect("rooms");
    let chat: Vec<String> = res.take(0).expect("chat");
    let code: Vec<String> = res.take(1).expect("code");
    assert_eq!(chat, vec!["closed_recent", "open"]);
    assert_eq!(code, vec!["closed_recent", "open"]);
    let tokens: Vec<String> = ids("email_token")
        .await
        .into_iter()
        .filter(|t| ["expired", "used_recently", "open"].contains(&t.as_str()))
        .collect();
    assert_eq!(tokens, vec!["open", "used_recently"]);
    // A second pass finds nothing more.
    assert_eq!(
        server::startup::purge_expired(&app.state).await,
        Some(app::privacy::repo::Purged::default())
    );
    app.stop().await;
}

/// What the account of `email` accepted at sign-up: the terms' and the notice's versions.
async fn accepted(app: &TestApp, email: &str) -> (Option<i64>, Option<i64>, bool) {
    let mut res = app
        .state
        .db
        .query(
            "SELECT VALUE [terms_version, privacy_version, consented_at != NONE]
             FROM user WHERE email = $email",
        )
        .bind(("email", email.to_string()))
        .await
        .expect("user");
    let row: Option<(Option<i64>, Option<i64>, bool)> = res.take(0).expect("row");
    row.expect("an account")
}

#[tokio::test]
async fn sign_up_records_which_terms_and_notice_were_accepted_and_digests_wait_to_be_chosen() {
    let app = spawn_app().await;
    // Without the box ticked nothing is created, and the form says why.
    let res = app
        .call(
            &app.browser(),
            "sign_up",
            &[
                ("email", "unticked@example.org"),
                ("display_name", "Un Ticked"),
                ("password", "a perfectly fine passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(res).await["problem"], "terms_not_accepted");
    let mut res = app
        .state
        .db
        .query("SELECT VALUE email FROM user WHERE email = 'unticked@example.org'")
        .await
        .expect("users");
    let none: Vec<String> = res.take(0).expect("emails");
    assert!(none.is_empty());

    // Both texts are public, version 1 from the first start.
    for kind in ["terms", "privacy"] {
        let t = body_json(
            app.call(&Browser::new(), "legal_text", &[("kind", kind)])
                .await,
        )
        .await;
        assert_eq!(t["version"], 1, "{t}");
        assert!(t["body_html"].as_str().unwrap_or_default().contains("<h2>"));
    }
    let res = app
        .call(&Browser::new(), "legal_text", &[("kind", "cookies")])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // A reader in Chinese reads them in Chinese.
    let zh = Browser::new();
    let res = app.call(&zh, "set_locale", &[("locale", "zh-Hans")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let t = body_json(app.call(&zh, "legal_text", &[("kind", "terms")]).await).await;
    assert!(
        t["body_html"]
            .as_str()
            .unwrap_or_default()
            .contains("使用条款"),
        "{t}"
    );

    let first = app.user_with_roles("first@example.org", &[]).await;
    assert_eq!(
        accepted(&app, "first@example.org").await,
        (Some(1), Some(1), true)
    );
    // Mail that is not needed to act (summaries) is off until chosen.
    let prefs = body_json(app.call(&first, "get_email_prefs", &[]).await).await;
    let modes: Vec<(String, String)> = prefs["modes"]
        .as_array()
        .expect("modes")
        .iter()
        .map(|m| {
            (
                m[0].as_str().unwrap_or_default().to_string(),
                m[1].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for (kind, mode) in &modes {
        let expected = if ["request", "booking", "reminder"].contains(&kind.as_str()) {
            "immediate"
        } else {
            "off"
        };
        assert_eq!(mode, expected, "{kind}");
    }
    // The forum's kinds can be chosen too.
    let res = app
        .call(
            &first,
            "save_email_prefs",
            &[("forum", "daily"), ("mention", "immediate")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let prefs = body_json(app.call(&first, "get_email_prefs", &[]).await).await;
    assert!(
        prefs["modes"]
            .as_array()
            .unwrap_or_else(|| panic!("{prefs}"))
            .contains(&serde_json::json!(["forum", "daily"]))
    );
    assert!(
        prefs["modes"]
            .as_array()
            .expect("modes")
            .contains(&serde_json::json!(["mention", "immediate"]))
    );

    // An admin publishes new terms: a new version; the earlier acceptance stays as it was,
    // the next sign-up accepts the new one.
    let admin = app.admin().await;
    let res = app
        .call(
            &first,
            "publish_legal_text",
            &[("kind", "terms"), ("body", "Mine now")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .call(
            &admin,
            "publish_legal_text",
            &[("kind", "terms"), ("body", "  ")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(res).await["problem"], "legal_empty");
    let res = app
        .call(
            &admin,
            "publish_legal_text",
            &[
                ("kind", "terms"),
                ("body", "## Terms, second edition\n\nBe kind."),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_json(res).await, 2);
    let t = body_json(
        app.call(&Browser::new(), "legal_text", &[("kind", "terms")])
            .await,
    )
    .await;
    assert_eq!(t["version"], 2);
    assert_eq!(t["body"], "## Terms, second edition\n\nBe kind.");
    // Without a Chinese text in this version, readers in Chinese get the English one.
    let t = body_json(app.call(&zh, "legal_text", &[("kind", "terms")]).await).await;
    assert!(
        t["body_html"]
            .as_str()
            .unwrap_or_default()
            .contains("second edition"),
        "{t}"
    );
    // A form shown before the new version was published is not taken as accepting it.
    let res = app
        .call(
            &app.browser(),
            "sign_up",
            &[
                ("email", "slow.reader@example.org"),
                ("display_name", "Slow Reader"),
                ("password", "a perfectly fine passphrase"),
                ("accept", "yes"),
                ("terms_version", "1"),
                ("privacy_version", "1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(res).await["problem"], "terms_changed");
    let shown = body_json(app.call(&app.browser(), "consent_versions", &[]).await).await;
    assert_eq!(shown, serde_json::json!([2, 1]));
    app.user_with_roles("second@example.org", &[]).await;
    assert_eq!(
        accepted(&app, "second@example.org").await,
        (Some(2), Some(1), true)
    );
    assert_eq!(
        accepted(&app, "first@example.org").await,
        (Some(1), Some(1), true)
    );
    let log = body_json(
        app.call(&admin, "admin_audit_log", &[("kind", "legal_published")])
            .await,
    )
    .await;
    assert_eq!(log["entries"][0]["detail"], "terms 2", "{log}");

    // The pages: /terms and the notice on /privacy, signed out, titled in the HTML.
    let html = Browser::new()
        .get(app.url("/terms"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("<title>Terms of use"), "{html}");
    assert!(html.contains("Terms, second edition"));
    let html = Browser::new()
        .get(app.url("/privacy"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("data-testid=\"notice\""), "{html}");
    app.stop().await;
}
