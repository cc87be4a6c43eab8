//! Notifications are data rendered in each reader's language: one made by an English-speaking
//! learner reads in Chinese on the page, in the live badge and in the e-mail of a mentor who
//! reads Pairwise in Chinese, and in English for the same mentor on a page in English.

use std::time::Duration;

use serde_json::Value;

use crate::{
    helpers::{Browser, Received, body_json, spawn_app_with},
    mentoring::{learner, mentor, request_form},
};

const FAST_JOBS: (&str, &str) = ("PAIRWISE_JOBS_INTERVAL", "1s");

fn texts(list: &Value) -> Vec<String> {
    list[0]
        .as_array()
        .expect("notifications")
        .iter()
        .map(|n| n["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_notice_made_in_english_reads_in_the_readers_language_everywhere() {
    let app = spawn_app_with(&[FAST_JOBS]).await;
    let (m, mentor_id) = mentor(&app, "zh-mentor", "3").await;
    // The mentor switches to Chinese: the cookie for pages, the account for mail.
    let res = app.call(&m, "set_locale", &[("locale", "zh-Hans")]).await;
    assert!(res.status().is_success(), "{}", res.status());
    let res = app.call(&m, "set_locale", &[("locale", "klingon")]).await;
    assert_eq!(res.status(), reqwest::StatusCode::BAD_REQUEST);
    let mut live = app.live(&m, None).await.expect("mentor socket");
    live.greeted().await;

    let l = learner(&app, "en-learner").await;
    let res = app
        .call(&l, "send_request", &request_form(&mentor_id, "Rust 所有权"))
        .await;
    assert!(res.status().is_success(), "{}", res.status());

    // On the page, in Chinese, with the learner's own words inside.
    let list = body_json(app.call(&m, "get_notifications", &[]).await).await;
    let shown = texts(&list);
    assert_eq!(shown.len(), 1, "{list}");
    assert_eq!(
        shown[0], "Learner Li 请你做他们的导师：“Rust 所有权”",
        "{list}"
    );
    // Its time is in the reader's zone and language (the mentor is in Berlin).
    let when = list[0][0]["when"].as_str().unwrap_or_default();
    assert!(when.contains('月') && when.contains('日'), "{when}");

    // The same notification on a page shown in English (same account, no language cookie).
    let session_only: String = m
        .cookie_header()
        .split("; ")
        .filter(|c| !c.starts_with("pw_lang="))
        .collect::<Vec<_>>()
        .join("; ");
    let english = Browser::with_cookie_header(&session_only);
    let list = body_json(app.call(&english, "get_notifications", &[]).await).await;
    assert_eq!(
        texts(&list),
        vec!["Learner Li asks you to mentor them: “Rust 所有权”".to_string()]
    );

    // The live badge speaks the language of the page that opened its socket.
    let brief = loop {
        match live.recv().await {
            Received::Message(app::realtime::ServerMessage::Notifications {
                latest: Some(brief),
                ..
            }) => break brief,
            Received::Message(_) => continue,
            Received::Closed(code) => panic!("live socket closed ({code:?})"),
        }
    };
    assert!(brief.text.contains("请你做他们的导师"), "{}", brief.text);

    // The e-mail (requests are mailed at once by default) is in Chinese, and says in Chinese
    // where to change which e-mails come.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mail = loop {
        let mails = app::notify::repo::outbox_for(&app.state.db, "zh-mentor@example.org")
            .await
            .expect("outbox");
        if let Some(mail) = mails
            .into_iter()
            .find(|m| m.body.contains("请你做他们的导师"))
        {
            break mail;
        }
        assert!(tokio::time::Instant::now() < deadline, "no mail in Chinese");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(mail.subject.starts_with("Pairwise："), "{}", mail.subject);
    assert!(mail.body.contains("选择你要接收的邮件"), "{}", mail.body);
    assert!(!mail.body.contains("asks you"), "{}", mail.body);
    app.stop().await;
}
