//! The forum: questions asked, answered, voted on and accepted; who may do what; what a
//! hostile post can and cannot put on a page; limits on new accounts.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Browser, ManualClock, TestApp, body_json, spawn_app, spawn_app_with_clock};

const PASSWORD: &str = "a perfectly fine passphrase";

/// A general space made by an admin (moderators make spaces).
async fn general_space(app: &TestApp, slug: &str) {
    let admin = app.admin().await;
    let res = app
        .call(
            &admin,
            "create_forum_space",
            &[
                ("slug", slug),
                ("title", "General"),
                ("description", "Anything"),
            ],
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
}

async fn ask(app: &TestApp, who: &Browser, space: &str, title: &str, body: &str) -> String {
    let res = app
        .call(
            who,
            "create_thread",
            &[
                ("space", space),
                ("kind", "question"),
                ("title", title),
                ("body", body),
                ("tags", "rust, loops"),
            ],
        )
        .await;
    let status = res.status();
    let v = body_json(res).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v.as_str().expect("thread id").to_string()
}

async fn answer(app: &TestApp, who: &Browser, thread: &str, body: &str) -> String {
    let res = app
        .call(who, "post_reply", &[("thread", thread), ("body", body)])
        .await;
    let status = res.status();
    let v = body_json(res).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v.as_str().expect("reply id").to_string()
}

async fn thread(app: &TestApp, who: &Browser, id: &str) -> Value {
    let res = app.call(who, "forum_thread", &[("id", id)]).await;
    let status = res.status();
    let v = body_json(res).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

async fn vote(app: &TestApp, who: &Browser, post: &str, how: &str) -> StatusCode {
    app.call(who, "vote_forum_post", &[("id", post), ("vote", how)])
        .await
        .status()
}

#[tokio::test]
async fn a_question_is_answered_voted_on_and_accepted_and_reputation_follows() {
    let app = spawn_app().await;
    general_space(&app, "general").await;
    let asker = app.user_with_roles("asker@example.org", &[]).await;
    let helper = app.user_with_roles("helper@example.org", &[]).await;
    let other = app.user_with_roles("other@example.org", &[]).await;

    let q = ask(
        &app,
        &asker,
        "spaces/general",
        "Why does my loop never stop?",
        "```rust\nloop {}\n```",
    )
    .await;
    let a = answer(&app, &helper, &q, "A `loop` needs a `break`.").await;

    // The asker is told, in words, with a link to the answer.
    let list = body_json(app.call(&asker, "get_notifications", &[]).await).await;
    let first = &list[0][0];
    assert_eq!(
        first["text"], "Test User replied to “Why does my loop never stop?”.",
        "{list}"
    );
    assert_eq!(first["link"], format!("/forum/threads/{q}#reply-{a}"));

    // Votes: one per person and post, changeable, never on one's own post.
    assert_eq!(vote(&app, &helper, &q, "up").await, StatusCode::OK);
    assert_eq!(vote(&app, &helper, &q, "up").await, StatusCode::OK);
    let t = thread(&app, &other, &q).await;
    assert_eq!(t["post"]["score"], 1);
    assert_eq!(t["post"]["author_reputation"], 5);
    assert_eq!(vote(&app, &helper, &q, "down").await, StatusCode::OK);
    let t = thread(&app, &helper, &q).await;
    assert_eq!(t["post"]["score"], -1);
    assert_eq!(t["post"]["my_vote"], -1);
    assert_eq!(t["post"]["author_reputation"], -2);
    assert_eq!(vote(&app, &helper, &q, "none").await, StatusCode::OK);
    let t = thread(&app, &helper, &q).await;
    assert_eq!(
        (
            t["post"]["score"].clone(),
            t["post"]["author_reputation"].clone()
        ),
        (0.into(), 0.into())
    );
    let res = app
        .call(&asker, "vote_forum_post", &[("id", &q), ("vote", "up")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(res).await["problem"], "own_post");
    assert_eq!(
        vote(&app, &asker, &q, "sideways").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(vote(&app, &asker, &a, "up").await, StatusCode::OK);

    // Only the asker (or the space's staff) accepts; a bystander cannot.
    let res = app
        .call(&other, "accept_answer", &[("thread", &q), ("reply", &a)])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let t = thread(&app, &other, &q).await;
    assert_eq!(t["solved"], false);

    let res = app
        .call(&asker, "accept_answer", &[("thread", &q), ("reply", &a)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Accepting twice changes nothing more.
    let res = app
        .call(&asker, "accept_answer", &[("thread", &q), ("reply", &a)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let t = thread(&app, &other, &q).await;
    assert_eq!(t["solved"], true);
    let reply = &t["replies"][0];
    assert_eq!(reply["accepted"], true);
    // 10 for the asker's up-vote, 15 for the accepted answer.
    assert_eq!(reply["author_reputation"], 25, "{t}");
    // The writer is told (beside the badges the answer earned).
    assert!(notices(&app, &helper).await.contains(
        &"Test User accepted your answer to “Why does my loop never stop?”.".to_string()
    ));
    // Points in the progress engine (15, once) and the badges for a first answer and a
    // first accepted one; accepting the same answer again adds nothing.
    let d = body_json(
        app.call(&helper, "learner_dashboard", &[("days", "30")])
            .await,
    )
    .await;
    assert_eq!(d["points_total"], 15, "{d}");
    let earned: Vec<&str> = d["badges"]
        .as_array()
        .expect("badges")
        .iter()
        .filter(|b| !b["earned_on"].is_null())
        .filter_map(|b| b["key"].as_str())
        .collect();
    assert_eq!(earned, vec!["first-answer", "first-accepted"], "{d}");

    // Undoing the accept takes its reputation back.
    let res = app
        .call(&asker, "accept_answer", &[("thread", &q), ("reply", "")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let t = thread(&app, &other, &q).await;
    assert_eq!(t["solved"], false);
    assert_eq!(t["replies"][0]["author_reputation"], 10);

    // The space lists it, with its answer counted; unanswered leaves it out.
    let space = body_json(
        app.call(&other, "forum_space", &[("space", "spaces/general")])
            .await,
    )
    .await;
    assert_eq!(space["threads"][0]["id"], q.as_str());
    assert_eq!(space["threads"][0]["replies"], 1);
    let unanswered = body_json(
        app.call(
            &other,
            "forum_space",
            &[("space", "spaces/general"), ("sort", "unanswered")],
        )
        .await,
    )
    .await;
    assert_eq!(unanswered["threads"].as_array().map(Vec::len), Some(0));
    app.stop().await;
}

#[tokio::test]
async fn votes_count_once_per_person_even_when_sent_at_once() {
    let app = spawn_app().await;
    general_space(&app, "general").await;
    let asker = app.user_with_roles("asker@example.org", &[]).await;
    let q = ask(&app, &asker, "spaces/general", "Counting", "How many?").await;
    let mut voters = Vec::new();
    for n in 0..4 {
        voters.push(
            app.user_with_roles(&format!("voter{n}@example.org"), &[])
                .await,
        );
    }
    // Each voter presses "up" five times at once; four voters at the same moment.
    let mut presses = Vec::new();
    for v in &voters {
        for _ in 0..5 {
            presses.push(vote(&app, v, &q, "up"));
        }
    }
    for status in futures_util::future::join_all(presses).await {
        assert_eq!(status, StatusCode::OK);
    }
    let t = thread(&app, &asker, &q).await;
    assert_eq!(t["post"]["score"], 4, "{t}");
    assert_eq!(t["post"]["author_reputation"], 20, "{t}");
    let stored: Vec<i64> = app
        .state
        .db
        .query("SELECT VALUE value FROM forum_vote")
        .await
        .expect("votes")
        .take(0)
        .expect("values");
    assert_eq!(stored, vec![1, 1, 1, 1]);
    app.stop().await;
}

#[tokio::test]
async fn hostile_markup_in_a_post_never_reaches_the_page() {
    let app = spawn_app().await;
    general_space(&app, "general").await;
    // A mentor: an account new enough to be limited could not post links at all.
    let asker = app.user_with_roles("asker@example.org", &["mentor"]).await;
    let corpus = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "<svg onload=alert(1)><circle/></svg>",
        "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
        "<div style=\"background:url(javascript:alert(1))\">styled</div>",
        "<iframe src=//evil.example></iframe>",
        "@<script>alert(1)</script>",
    ];
    let body = corpus.join("\n\n");
    let q = ask(
        &app,
        &asker,
        "spaces/general",
        "<script>alert('title')</script> \" onmouseover=alert(1) x=\"",
        &body,
    )
    .await;
    let page = asker
        .get(app.url(&format!("/forum/threads/{q}")))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html").to_lowercase();
    let main = &html[html.find("<main").expect("main")..];
    // What a browser would act on is inside tags: text that merely reads like an attack
    // (escaped, between tags) is harmless and expected.
    let tags: Vec<&str> = main
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap_or_default())
        .collect();
    for tag in &tags {
        for bad in [
            "onerror",
            "onload",
            "onmouseover",
            "javascript:",
            "data:text/html",
            "style=",
        ] {
            assert!(!tag.contains(bad), "<{tag}> reached the page");
        }
        // The page's own scripts carry the response's CSP nonce, which no post can know.
        if tag.starts_with("script nonce=") {
            continue;
        }
        for element in ["script", "iframe", "svg"] {
            assert!(!tag.starts_with(element), "<{tag}> reached the page");
        }
    }
    // The title is shown as text, in the page's <title> too.
    assert!(html.contains("&lt;script&gt;alert('title')&lt;/script&gt;"));

    // A tag cannot carry markup at all.
    let res = app
        .call(
            &asker,
            "create_thread",
            &[
                ("space", "spaces/general"),
                ("title", "Tags"),
                ("body", "body"),
                ("tags", "<b>x</b>"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(res).await["problem"], "forum_tag_invalid");
    app.stop().await;
}

#[tokio::test]
async fn only_the_author_edits_and_the_history_keeps_what_it_said() {
    let app = spawn_app().await;
    general_space(&app, "general").await;
    let asker = app.user_with_roles("asker@example.org", &[]).await;
    let other = app.user_with_roles("other@example.org", &[]).await;
    let q = ask(&app, &asker, "spaces/general", "First title", "First words").await;
    let a = answer(&app, &other, &q, "An answer").await;

    let res = app
        .call(
            &other,
            "edit_forum_post",
            &[("id", &q), ("title", "Hijacked"), ("body", "Hijacked")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .call(
            &asker,
            "edit_forum_post",
            &[("id", &a), ("body", "Mine now")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .call(
            &asker,
            "edit_forum_post",
            &[("id", &q), ("title", ""), ("body", "x")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(res).await["problem"], "thread_title_empty");

    let res = app
        .call(
            &asker,
            "edit_forum_post",
            &[
                ("id", &q),
                ("title", "Second title"),
                ("body", "Second words"),
                ("tags", "rust"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let t = thread(&app, &other, &q).await;
    assert_eq!(t["title"], "Second title");
    assert_eq!(t["post"]["edited"], true);
    assert_eq!(t["tags"], serde_json::json!(["rust"]));
    assert!(
        t["post"]["body_html"]
            .as_str()
            .unwrap_or_default()
            .contains("Second words")
    );
    // Everyone who can read the thread can read how it changed; only its author may edit.
    let history = body_json(app.call(&other, "forum_post_source", &[("id", &q)]).await).await;
    assert_eq!(history["can_edit"], false);
    assert_eq!(history["revisions"][0]["title"], "First title", "{history}");
    assert!(
        history["revisions"][0]["body_html"]
            .as_str()
            .unwrap_or_default()
            .contains("First words")
    );
    let mine = body_json(app.call(&asker, "forum_post_source", &[("id", &q)]).await).await;
    assert_eq!(mine["can_edit"], true);
    assert_eq!(mine["body"], "Second words");
    app.stop().await;
}

#[tokio::test]
async fn a_draft_courses_space_is_not_found_by_those_who_cannot_see_the_course() {
    let app = spawn_app().await;
    let author = app.user_with_roles("writer@example.org", &["mentor"]).await;
    let learner = app.user_with_roles("pupil@example.org", &[]).await;
    let res = app
        .call(
            &author,
            "create_course",
            &[
                ("slug", "secret-course"),
                ("title", "Secret"),
                ("level", "beginner"),
                ("language", "en"),
                ("tags", "rust"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let q = ask(
        &app,
        &author,
        "courses/secret-course",
        "Draft notes",
        "Not yet public",
    )
    .await;

    let res = app.call(&learner, "forum_thread", &[("id", &q)]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .call(
            &learner,
            "forum_space",
            &[("space", "courses/secret-course")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .call(&learner, "post_reply", &[("thread", &q), ("body", "peek")])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    for path in [
        format!("/forum/threads/{q}"),
        "/forum/courses/secret-course".to_string(),
        "/forum/threads/nosuchthread".to_string(),
        "/forum/spaces/nosuchspace".to_string(),
    ] {
        let page = learner.get(app.url(&path)).send().await.expect("page");
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let home = body_json(app.call(&learner, "forum_home", &[]).await).await;
    assert_eq!(home["recent"].as_array().map(Vec::len), Some(0), "{home}");

    // Published, the space and the thread are there for everyone, signed in or not.
    let res = app
        .call(
            &author,
            "publish_course",
            &[("slug", "secret-course"), ("published", "true")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = app
        .browser()
        .get(app.url(&format!("/forum/threads/{q}")))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap_or_default();
    assert!(
        html.contains("<title>Draft notes · Pairwise</title>"),
        "{html}"
    );
    app.stop().await;
}

#[tokio::test]
async fn new_accounts_post_a_few_times_a_day_without_links_and_everyone_a_few_a_minute() {
    let clock = ManualClock::new();
    let app = spawn_app_with_clock(clock.clone()).await;
    general_space(&app, "general").await;
    let fresh = app.user_with_roles("fresh@example.org", &[]).await;
    let q = ask(&app, &fresh, "spaces/general", "One", "first").await;

    let res = app
        .call(
            &fresh,
            "post_reply",
            &[("thread", &q), ("body", "buy at https://spam.example")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(res).await["problem"], "new_account_links");
    for n in 0..4 {
        clock.advance(61);
        answer(&app, &fresh, &q, &format!("reply {n}")).await;
    }
    clock.advance(61);
    let res = app
        .call(&fresh, "post_reply", &[("thread", &q), ("body", "sixth")])
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body_json(res).await["problem"], "new_account_limit");

    // A day later the account is no longer new: links are fine, but not a flood.
    clock.advance(25 * 3600);
    let res = app.sign_in(&fresh, "fresh@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    answer(&app, &fresh, &q, "see https://doc.rust-lang.org").await;
    for n in 0..4 {
        answer(&app, &fresh, &q, &format!("burst {n}")).await;
    }
    let res = app
        .call(
            &fresh,
            "post_reply",
            &[("thread", &q), ("body", "too fast")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let t = thread(&app, &fresh, &q).await;
    assert_eq!(t["replies"].as_array().map(Vec::len), Some(9));
    app.stop().await;
}

async fn search(app: &TestApp, who: &Browser, form: &[(&str, &str)]) -> Vec<String> {
    let res = app.call(who, "search_forum", form).await;
    let status = res.status();
    let v = body_json(res).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| {
            h["thread"]["title"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn search_ranks_titles_first_reads_replies_and_chinese_and_filters() {
    let app = spawn_app().await;
    general_space(&app, "general").await;
    let author = app.user_with_roles("writer@example.org", &["mentor"]).await;
    let learner = app.user_with_roles("pupil@example.org", &[]).await;
    let body_match = ask(
        &app,
        &learner,
        "spaces/general",
        "A question about moving values",
        "What are the ownership rules when a value moves?",
    )
    .await;
    let title_match = ask(
        &app,
        &author,
        "spaces/general",
        "Ownership rules in practice",
        "Some words.",
    )
    .await;
    ask(
        &app,
        &learner,
        "spaces/general",
        "数据库连接池怎么配置",
        "连接总是超时。",
    )
    .await;
    let solved = ask(&app, &learner, "spaces/general", "Failing tests", "Help").await;
    let a = answer(&app, &author, &solved, "Run the borrowck with --verbose").await;
    let res = app
        .call(
            &learner,
            "accept_answer",
            &[("thread", &solved), ("reply", &a)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // A draft course's thread is for its authors only.
    app.call(
        &author,
        "create_course",
        &[
            ("slug", "draft-course"),
            ("title", "Draft"),
            ("level", "beginner"),
            ("language", "en"),
            ("tags", "rust"),
        ],
    )
    .await;
    ask(
        &app,
        &author,
        "courses/draft-course",
        "Ownership in the draft",
        "Secret",
    )
    .await;

    let anyone = app.browser();
    // A title match ranks above a match in the question; the draft course stays hidden.
    assert_eq!(
        search(&app, &anyone, &[("q", "ownership")]).await,
        vec![
            "Ownership rules in practice",
            "A question about moving values"
        ]
    );
    let res = body_json(
        app.call(&anyone, "search_forum", &[("q", "ownership")])
            .await,
    )
    .await;
    assert_eq!(
        res["hits"][0]["title_html"],
        "<mark>Ownership</mark> rules in practice"
    );
    assert!(
        res["hits"][1]["snippet_html"]
            .as_str()
            .unwrap_or_default()
            .contains("the <mark>ownership</mark> rules"),
        "{res}"
    );
    assert_eq!(res["hits"][0]["thread"]["id"], title_match.as_str());
    assert_eq!(res["hits"][1]["thread"]["id"], body_match.as_str());
    // Stemming, replies, Chinese.
    assert_eq!(
        search(&app, &anyone, &[("q", "test")]).await,
        vec!["Failing tests"]
    );
    assert_eq!(
        search(&app, &anyone, &[("q", "borrowck verbose")]).await,
        vec!["Failing tests"]
    );
    assert_eq!(
        search(&app, &anyone, &[("q", "数据库")]).await,
        vec!["数据库连接池怎么配置"]
    );
    // Filters: solved, unsolved, tag, mine.
    assert_eq!(
        search(&app, &anyone, &[("solved", "yes")]).await,
        vec!["Failing tests"]
    );
    let unsolved = search(&app, &anyone, &[("solved", "no")]).await;
    assert_eq!(unsolved.len(), 3, "{unsolved:?}");
    assert!(!unsolved.contains(&"Failing tests".to_string()));
    let mut mine = search(&app, &author, &[("q", "ownership"), ("mine", "true")]).await;
    mine.sort();
    assert_eq!(
        mine,
        vec!["Ownership in the draft", "Ownership rules in practice"]
    );
    assert_eq!(
        search(&app, &anyone, &[("tag", "nosuchtag")]).await.len(),
        0
    );
    assert_eq!(search(&app, &anyone, &[("tag", "rust")]).await.len(), 4);
    // Nothing to search for in punctuation; a plain GET page works without JavaScript.
    assert_eq!(search(&app, &anyone, &[("q", "?!")]).await.len(), 0);
    let page = anyone
        .get(app.url("/forum/search?q=ownership&solved="))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap_or_default();
    assert!(
        html.contains("<mark>Ownership</mark> rules in practice"),
        "{html}"
    );
    app.stop().await;
}

#[tokio::test]
async fn moderators_hide_lock_move_and_delete_and_a_hidden_post_is_gone_for_others() {
    let app = spawn_app().await;
    general_space(&app, "general").await;
    let admin = app.admin().await;
    let res = app
        .call(
            &admin,
            "create_forum_space",
            &[("slug", "off-topic"), ("title", "Off topic")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let moderator = app
        .user_with_roles("moderator@example.org", &["moderator"])
        .await;
    let asker = app.user_with_roles("asker@example.org", &[]).await;
    let spammer = app.user_with_roles("spammer@example.org", &[]).await;
    let reader = app.user_with_roles("reader@example.org", &[]).await;
    let q = ask(&app, &asker, "spaces/general", "Honest question", "Why?").await;
    let spam = answer(&app, &spammer, &q, "cheap watches buy now").await;

    // A reader reports it; only moderators see the queue.
    let res = app
        .call(
            &reader,
            "report_forum_post",
            &[("id", &spam), ("reason", "")],
        )
        .await;
    assert_eq!(body_json(res).await["problem"], "reason_empty");
    let res = app
        .call(
            &reader,
            "report_forum_post",
            &[("id", &spam), ("reason", "Advertising")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    for who in [&reader, &spammer, &asker] {
        let res = app.call(who, "moderation_queue", &[]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app
            .call(
                who,
                "moderate_forum_post",
                &[("id", &spam), ("action", "hide")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    let queue = body_json(app.call(&moderator, "moderation_queue", &[]).await).await;
    assert_eq!(queue[0]["post"], spam.as_str(), "{queue}");
    assert_eq!(queue[0]["reasons"], serde_json::json!(["Advertising"]));

    // Hidden: gone for others (thread, count, search, notifications), kept for its author
    // and moderators; the report is closed.
    let res = app
        .call(
            &moderator,
            "moderate_forum_post",
            &[("id", &spam), ("action", "hide")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let t = thread(&app, &reader, &q).await;
    assert_eq!(t["replies"].as_array().map(Vec::len), Some(0), "{t}");
    let space = body_json(
        app.call(&reader, "forum_space", &[("space", "spaces/general")])
            .await,
    )
    .await;
    assert_eq!(space["threads"][0]["replies"], 0);
    assert_eq!(search(&app, &reader, &[("q", "watches")]).await.len(), 0);
    let list = body_json(app.call(&asker, "get_notifications", &[]).await).await;
    assert_eq!(list[0].as_array().map(Vec::len), Some(0), "{list}");
    let own = thread(&app, &spammer, &q).await;
    assert_eq!(own["replies"][0]["hidden"], true);
    let seen = thread(&app, &moderator, &q).await;
    assert_eq!(seen["replies"][0]["hidden"], true);
    let queue = body_json(app.call(&moderator, "moderation_queue", &[]).await).await;
    assert_eq!(queue.as_array().map(Vec::len), Some(0), "{queue}");
    let res = app
        .call(&reader, "vote_forum_post", &[("id", &spam), ("vote", "up")])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Deleted: not even its author sees it; a moderator sees why.
    let res = app
        .call(
            &moderator,
            "moderate_forum_post",
            &[("id", &spam), ("action", "delete"), ("reason", "")],
        )
        .await;
    assert_eq!(body_json(res).await["problem"], "reason_empty");
    let res = app
        .call(
            &moderator,
            "moderate_forum_post",
            &[("id", &spam), ("action", "delete"), ("reason", "Spam")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let own = thread(&app, &spammer, &q).await;
    assert_eq!(own["replies"].as_array().map(Vec::len), Some(0));
    let seen = thread(&app, &moderator, &q).await;
    assert_eq!(seen["replies"][0]["removed_reason"], "Spam");

    // Locked: no replies; unlocked: replies again.
    let res = app
        .call(
            &moderator,
            "moderate_forum_post",
            &[("id", &q), ("action", "lock")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .call(&reader, "post_reply", &[("thread", &q), ("body", "late")])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(res).await["problem"], "thread_locked");
    let res = app
        .call(
            &moderator,
            "moderate_forum_post",
            &[("id", &q), ("action", "unlock")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    answer(&app, &reader, &q, "in time").await;

    // Moved: the thread now lives in the other space.
    let res = app
        .call(
            &moderator,
            "move_forum_thread",
            &[("id", &q), ("space", "spaces/off-topic")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let t = thread(&app, &reader, &q).await;
    assert_eq!(
        t["space"],
        serde_json::json!({"kind": "general", "slug": "off-topic"})
    );
    assert_eq!(
        search(&app, &reader, &[("space", "spaces/off-topic")]).await,
        vec!["Honest question"]
    );
    // The spaces' thread counts follow the move, and a hidden thread is not counted.
    let counts = |home: serde_json::Value| -> Vec<(String, i64)> {
        home["spaces"]
            .as_array()
            .expect("spaces")
            .iter()
            .map(|s| {
                let slug = s["space"]["slug"].as_str().unwrap_or_default().to_string();
                (slug, s["threads"].as_i64().unwrap_or(-1))
            })
            .collect()
    };
    let home = body_json(app.call(&reader, "forum_home", &[]).await).await;
    assert_eq!(
        counts(home),
        vec![("general".to_string(), 0), ("off-topic".to_string(), 1)]
    );
    let res = app
        .call(
            &moderator,
            "moderate_forum_post",
            &[("id", &q), ("action", "hide")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let home = body_json(app.call(&reader, "forum_home", &[]).await).await;
    assert_eq!(
        counts(home),
        vec![("general".to_string(), 0), ("off-topic".to_string(), 0)]
    );

    // Every action is in the audit log, with who did it.
    let kinds: Vec<String> = app
        .state
        .db
        .query("SELECT VALUE kind FROM audit WHERE string::starts_with(kind, 'forum_') ORDER BY at")
        .await
        .expect("audit")
        .take(0)
        .expect("kinds");
    assert_eq!(
        kinds,
        vec![
            "forum_reported",
            "forum_moderated",
            "forum_moderated",
            "forum_moderated",
            "forum_moderated",
            "forum_moderated",
            "forum_moderated"
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn help_from_a_failing_submission_carries_the_code_and_visible_failures_only() {
    use crate::exercises::{enrolled_learner, exercise_course, submit, test_case};
    let app = spawn_app().await;
    let lesson = exercise_course(
        &app,
        "helped",
        None,
        vec![
            test_case("visible", "answer()", serde_json::json!(42), false),
            test_case(
                "secret",
                "answer() * 1 /* SECRET-CALL */",
                serde_json::json!(42),
                true,
            ),
        ],
        app::exercises::model::Limits::DEFAULT,
    )
    .await;
    let learner = enrolled_learner(&app, "stuck@example.org", "helped").await;
    let code = "function answer() { return `41`; } // ``` inside";
    let submission = submit(&app, &learner, &lesson, code).await;
    let id = submission["summary"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(submission["mine"], true);

    // Nobody else can draft a question from it.
    let other = enrolled_learner(&app, "nosy@example.org", "helped").await;
    let res = app
        .call(&other, "forum_help_draft", &[("submission", &id)])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let draft = body_json(
        app.call(&learner, "forum_help_draft", &[("submission", &id)])
            .await,
    )
    .await;
    assert_eq!(
        draft["space"],
        serde_json::json!({"kind": "course", "slug": "helped"})
    );
    assert_eq!(draft["title"], "Stuck on “Answer”");
    let body = draft["body"].as_str().expect("body");
    // The code in a fence its own backticks cannot close, the visible failure, a link back.
    assert!(body.contains(&format!("````js\n{code}\n````")), "{body}");
    assert!(
        body.contains("- `answer()` — expected `42`, got `\"41\"`"),
        "{body}"
    );
    assert!(body.contains(&format!("](/lessons/{lesson})")), "{body}");
    assert!(body.contains("and 1 hidden tests"), "{body}");
    assert!(!body.contains("SECRET-CALL"), "{body}");

    // Posted as it is by an account made today: the link back is to this site, so allowed.
    let q = ask(&app, &learner, "courses/helped", "Stuck on “Answer”", body).await;
    let t = thread(&app, &learner, &q).await;
    assert!(
        t["post"]["body_html"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("href=\"/lessons/{lesson}\"")),
        "{t}"
    );
    // The submission page offers it to its learner only.
    let page = learner
        .get(app.url(&format!("/submissions/{id}")))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .unwrap_or_default();
    assert!(page.contains(&format!("/forum/ask?submission={id}")));
    let ask_page = learner
        .get(app.url(&format!("/forum/ask?submission={id}")))
        .send()
        .await
        .expect("page");
    assert_eq!(ask_page.status(), StatusCode::OK);
    app.stop().await;
}

async fn notices(app: &TestApp, who: &Browser) -> Vec<String> {
    let list = body_json(app.call(who, "get_notifications", &[]).await).await;
    list[0]
        .as_array()
        .expect("notifications")
        .iter()
        .map(|n| n["text"].as_str().unwrap_or_default().to_string())
        // Badges earned on the way (a first answer) are told too; not what is tested here.
        .filter(|t| !t.starts_with("Badge earned"))
        .collect()
}

#[tokio::test]
async fn followers_hear_of_each_answer_and_a_mention_reaches_a_participant_once() {
    let app = spawn_app().await;
    general_space(&app, "general").await;
    let asker = app.user_with_roles("asker@example.org", &[]).await;
    let first = app.user_with_roles("first@example.org", &[]).await;
    let second = app.user_with_roles("second@example.org", &[]).await;
    let stranger = app.user_with_roles("stranger@example.org", &[]).await;
    let q = ask(&app, &asker, "spaces/general", "Follow me", "Anyone?").await;
    let replied = "Test User replied to “Follow me”.";

    answer(&app, &first, &q, "One").await;
    assert_eq!(notices(&app, &asker).await, vec![replied]);
    answer(&app, &second, &q, "Two").await;
    // The asker and the first answerer follow it now; the writer is not told of their own.
    assert_eq!(notices(&app, &asker).await.len(), 2);
    assert_eq!(notices(&app, &first).await, vec![replied]);
    assert_eq!(notices(&app, &second).await.len(), 0);

    // The asker stops following: the next answer is not theirs to hear of, unless it names
    // them. Everyone here is "Test User", so `@test` names every participant: the followers
    // hear of it once, as an answer; the stranger, who never wrote here, not at all.
    let res = app
        .call(
            &asker,
            "follow_forum_thread",
            &[("id", &q), ("follow", "false")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(thread(&app, &asker, &q).await["following"], false);
    answer(&app, &first, &q, "Three, for nobody").await;
    assert_eq!(notices(&app, &asker).await.len(), 2);
    answer(&app, &second, &q, "Thanks @test and @stranger").await;
    let mine = notices(&app, &asker).await;
    assert_eq!(
        mine[0], "Test User mentioned you in “Follow me”.",
        "{mine:?}"
    );
    assert_eq!(mine.len(), 3);
    let firsts = notices(&app, &first).await;
    assert_eq!(firsts.len(), 2, "{firsts:?}");
    assert!(firsts.iter().all(|n| n == replied));
    assert_eq!(notices(&app, &stranger).await.len(), 0);

    // Following again brings the answers back.
    let res = app
        .call(
            &asker,
            "follow_forum_thread",
            &[("id", &q), ("follow", "true")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(thread(&app, &asker, &q).await["following"], true);
    answer(&app, &first, &q, "Four").await;
    assert_eq!(notices(&app, &asker).await.len(), 4);
    app.stop().await;
}

/// A moderator (made for the purpose) hides `post`.
async fn hidden_by_a_moderator(app: &TestApp, post: &str) {
    let moderator = app
        .user_with_roles("moderator@example.org", &["moderator"])
        .await;
    let res = app
        .call(
            &moderator,
            "moderate_forum_post",
            &[("id", post), ("action", "hide")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// The question "Ask for help" posts, in the `helped` course's space, about `lesson`.
async fn ask_about(app: &TestApp, who: &Browser, lesson: &str) -> reqwest::Response {
    let form = [
        ("space", "courses/helped"),
        ("title", "Stuck on Answer"),
        ("body", "```js\nfunction answer() {}\n```"),
        ("lesson", lesson),
    ];
    app.call(who, "create_thread", &form).await
}

#[tokio::test]
async fn code_in_an_answer_opens_in_the_exercise_the_question_was_asked_from() {
    use crate::exercises::{enrolled_learner, exercise_course, test_case};
    let app = spawn_app().await;
    let case = || vec![test_case("t", "answer()", serde_json::json!(42), false)];
    let limits = app::exercises::model::Limits::DEFAULT;
    let lesson = exercise_course(&app, "helped", None, case(), limits).await;
    let elsewhere = exercise_course(&app, "elsewhere", None, case(), limits).await;
    let learner = enrolled_learner(&app, "stuck@example.org", "helped").await;
    let helper = enrolled_learner(&app, "helper@example.org", "helped").await;
    // A question can only point at an exercise of its own space's course.
    let res = ask_about(&app, &learner, &elsewhere).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(res).await["problem"], "lesson_not_in_space");
    let res = ask_about(&app, &learner, &lesson).await;
    assert_eq!(res.status(), StatusCode::OK);
    let q = body_json(res).await.as_str().expect("id").to_string();

    let a = answer(
        &app,
        &helper,
        &q,
        "Two ways:\n\n```js\nfunction answer() { return 42; }\n```\n\nor\n\n```js\nconst answer = () => 6 * 7;\n```",
    )
    .await;
    let plain = answer(&app, &helper, &q, "No code in this one.").await;
    let t = thread(&app, &learner, &q).await;
    assert_eq!(t["lesson"], lesson.as_str(), "{t}");
    let blocks = |id: &str| {
        t["replies"]
            .as_array()
            .and_then(|r| r.iter().find(|p| p["id"] == id))
            .map(|p| p["code_blocks"].clone())
    };
    assert_eq!(blocks(&a), Some(2.into()));
    assert_eq!(blocks(&plain), Some(0.into()));
    assert_eq!(t["post"]["code_blocks"], 1);

    let open = |post: &str, block: &str| {
        let (post, block) = (post.to_string(), block.to_string());
        let app = &app;
        let learner = &learner;
        async move {
            app.call(
                learner,
                "forum_answer_code",
                &[("post", post.as_str()), ("block", block.as_str())],
            )
            .await
        }
    };
    let code = body_json(open(&a, "1").await).await;
    assert_eq!(code["code"], "const answer = () => 6 * 7;\n", "{code}");
    assert_eq!(code["lesson"], lesson.as_str());
    assert_eq!(code["thread"], q.as_str());
    assert_eq!(open(&a, "2").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(open(&plain, "0").await.status(), StatusCode::NOT_FOUND);

    // A question that names no exercise has nothing to open; nor has a hidden answer.
    general_space(&app, "general").await;
    let loose = ask(&app, &learner, "spaces/general", "Loose", "```js\nx()\n```").await;
    assert_eq!(open(&loose, "0").await.status(), StatusCode::NOT_FOUND);
    hidden_by_a_moderator(&app, &a).await;
    assert_eq!(open(&a, "0").await.status(), StatusCode::NOT_FOUND);

    // The exercise page opens it: the answer's code is in the editor, server-rendered.
    let page = learner
        .get(app.url(&format!("/lessons/{lesson}?answer={q}&block=0")))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .unwrap_or_default();
    assert!(page.contains("data-testid=\"answer-code\""), "{page}");
    assert!(page.contains("function answer() {}"), "{page}");
    let page = learner
        .get(app.url(&format!("/lessons/{elsewhere}?answer={q}&block=0")))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .unwrap_or_default();
    assert!(page.contains("answer-code-missing"), "{page}");
    app.stop().await;
}

async fn similar(app: &TestApp, who: &Browser, title: &str) -> Vec<String> {
    let res = app.call(who, "forum_similar", &[("title", title)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    body_json(res)
        .await
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn similar_questions_share_most_words_and_never_show_a_hidden_thread() {
    let app = spawn_app().await;
    general_space(&app, "general").await;
    let asker = app.user_with_roles("asker@example.org", &[]).await;
    let other = app.user_with_roles("other@example.org", &[]).await;
    let close = ask(
        &app,
        &asker,
        "spaces/general",
        "How do I reverse a string in JavaScript?",
        "Nothing works.",
    )
    .await;
    let half = ask(
        &app,
        &asker,
        "spaces/general",
        "Reverse the order of an array",
        "Arrays, not text.",
    )
    .await;
    ask(
        &app,
        &asker,
        "spaces/general",
        "Why is my loop slow?",
        "It takes ages.",
    )
    .await;
    // Most words shared first; one shared word of three is not enough to be listed.
    assert_eq!(
        similar(&app, &other, "reverse a string javascript").await,
        vec![close.clone()]
    );
    assert_eq!(
        similar(&app, &other, "reverse string").await,
        vec![close.clone(), half.clone()]
    );
    assert!(similar(&app, &other, "rev").await.is_empty());
    // Signed out it works too (the form is for the signed in, the list is public data).
    assert_eq!(
        similar(&app, &Browser::new(), "reverse a string javascript").await,
        vec![close.clone()]
    );

    hidden_by_a_moderator(&app, &close).await;
    assert_eq!(
        similar(&app, &other, "reverse string").await,
        vec![half.clone()]
    );
    // Its author still finds it.
    assert_eq!(
        similar(&app, &asker, "reverse string").await,
        vec![close.clone(), half]
    );
    app.stop().await;
}
