//! The live socket: who may open it, and what happens to bad or excessive traffic.

use app::{
    error::AppError,
    realtime::{ClientMessage, MAX_MESSAGE_BYTES, MESSAGE_BURST, ServerMessage, close},
};

use crate::helpers::{Received, spawn_app};

#[tokio::test]
async fn a_signed_in_user_is_welcomed_by_name_and_pings_are_answered() {
    let app = spawn_app().await;
    let browser = app.user_with_roles("live@pairwise.test", &[]).await;
    let mut live = app.live(&browser, None).await.expect("socket opens");
    let Received::Message(ServerMessage::Welcome { display_name, .. }) = live.recv().await else {
        panic!("the first message is the welcome");
    };
    assert_eq!(display_name, "Test User");
    assert_eq!(
        live.recv().await,
        Received::Message(ServerMessage::Notifications {
            unread: 0,
            latest: None
        }),
        "then the unread count"
    );
    live.send(&ClientMessage::Ping { seq: 41 }).await;
    assert_eq!(
        live.recv().await,
        Received::Message(ServerMessage::Pong { seq: 41 })
    );
    app.stop().await;
}

#[tokio::test]
async fn a_socket_without_a_session_or_from_another_origin_is_refused() {
    let app = spawn_app().await;
    let (status, body) = app.live(&app.browser(), None).await.err().expect("refused");
    assert_eq!(status, 401);
    assert!(body.contains("unauthenticated"), "{body}");

    let browser = app.user_with_roles("origin@pairwise.test", &[]).await;
    let (status, body) = app
        .live(&browser, Some("https://evil.example"))
        .await
        .err()
        .expect("refused");
    assert_eq!(status, 403);
    assert!(body.contains("cross_origin"), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn after_sign_out_the_old_cookie_cannot_open_a_socket() {
    let app = spawn_app().await;
    let browser = app.user_with_roles("gone@pairwise.test", &[]).await;
    let cookie = browser.cookie_header();
    assert!(app.live(&browser, None).await.is_ok());
    app.call(&browser, "sign_out", &[]).await;
    // Sign-out emptied the jar: replay the old cookie the way a thief would.
    let replay = crate::helpers::Browser::with_cookie_header(&cookie);
    let (status, _) = app.live(&replay, None).await.err().expect("refused");
    assert_eq!(status, 401);
    app.stop().await;
}

#[tokio::test]
async fn an_unreadable_message_gets_an_error_in_words_and_the_socket_stays_open() {
    let app = spawn_app().await;
    let browser = app.user_with_roles("garbled@pairwise.test", &[]).await;
    let mut live = app.live(&browser, None).await.expect("socket opens");
    live.greeted().await;
    live.send_text(r#"{"type":"launch_missiles"}"#.into()).await;
    match live.recv().await {
        Received::Message(ServerMessage::Error {
            error: AppError::BadRequest { detail },
        }) => assert!(detail.contains("could not be read"), "{detail}"),
        other => panic!("expected an error, got {other:?}"),
    }
    live.send(&ClientMessage::Ping { seq: 1 }).await;
    assert_eq!(
        live.recv().await,
        Received::Message(ServerMessage::Pong { seq: 1 })
    );
    app.stop().await;
}

#[tokio::test]
async fn a_message_over_the_size_limit_closes_the_socket() {
    let app = spawn_app().await;
    let browser = app.user_with_roles("big@pairwise.test", &[]).await;
    let mut live = app.live(&browser, None).await.expect("socket opens");
    live.greeted().await;
    let padding = "x".repeat(MAX_MESSAGE_BYTES + 1);
    live.send_text(format!(r#"{{"type":"ping","seq":1,"pad":"{padding}"}}"#))
        .await;
    let got = live.recv().await;
    assert!(
        matches!(
            got,
            Received::Closed(Some(close::TOO_BIG)) | Received::Closed(None)
        ),
        "{got:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn flooding_the_socket_is_answered_with_429_words_and_a_policy_close() {
    let app = spawn_app().await;
    let browser = app.user_with_roles("flood@pairwise.test", &[]).await;
    let mut live = app.live(&browser, None).await.expect("socket opens");
    live.greeted().await;
    let burst = MESSAGE_BURST as u32;
    for seq in 0..burst + 20 {
        live.send(&ClientMessage::Ping { seq }).await;
    }
    let mut pongs = 0;
    loop {
        match live.recv().await {
            Received::Message(ServerMessage::Pong { .. }) => pongs += 1,
            Received::Message(ServerMessage::Error {
                error: AppError::RateLimited { retry_after_secs },
            }) => assert!(retry_after_secs >= 1),
            Received::Closed(code) => {
                assert_eq!(code, Some(close::POLICY));
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // The burst (plus whatever refilled while sending) was served, the rest was not.
    assert!(pongs >= burst && pongs < burst + 20, "{pongs} pongs");
    app.stop().await;
}
