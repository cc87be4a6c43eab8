//! The outbox relay: mail queued by a request reaches an SMTP server, and mail that cannot be
//! delivered stays queued with its error.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use app::notify::repo;
use reqwest::StatusCode;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

use crate::helpers::{free_port, spawn_app_with};

#[derive(Clone, Debug)]
struct Received {
    to: Vec<String>,
    data: String,
}

/// A minimal SMTP server on loopback that accepts every message and keeps it: it stands in
/// for the operator's mail provider, which is not on this machine.
async fn smtp_sink() -> (SocketAddr, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let inbox: Arc<Mutex<Vec<Received>>> = Arc::default();
    let kept = inbox.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let inbox = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut to = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.to_ascii_uppercase();
                    let reply: &[u8] = if verb.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if verb.starts_with("RCPT TO:") {
                        to.push(line[8..].trim_matches(['<', '>', ' ']).to_string());
                        b"250 ok\r\n"
                    } else if verb == "DATA" {
                        write.write_all(b"354 go on\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        inbox.lock().unwrap().push(Received {
                            to: std::mem::take(&mut to),
                            data,
                        });
                        b"250 queued\r\n"
                    } else if verb == "QUIT" {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (addr, inbox)
}

/// Decodes quoted-printable text (soft line breaks and `=XX` escapes), as mail clients do.
fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn the_verification_email_is_delivered_over_smtp_and_its_link_verifies() {
    let (smtp, inbox) = smtp_sink().await;
    let url = format!("smtp://{smtp}");
    let app = spawn_app_with(&[
        ("PAIRWISE_SMTP_URL", &url),
        ("PAIRWISE_MAIL_FROM", "Pairwise <no-reply@pairwise.test>"),
        ("PAIRWISE_MAIL_POLL", "1s"),
    ])
    .await;
    let browser = app.browser();
    let res = app
        .sign_up_unconfirmed(
            &browser,
            "mailme@pairwise.test",
            "a perfectly fine passphrase",
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let mut delivered = None;
    for _ in 0..100 {
        if let Some(m) = inbox.lock().unwrap().first().cloned() {
            delivered = Some(m);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mail = delivered.expect("the email reached the SMTP server within 10 s");
    assert_eq!(mail.to, ["mailme@pairwise.test"]);
    assert!(
        mail.data
            .contains("Subject: Confirm your email address for Pairwise")
    );
    // The body may be quoted-printable (the link is longer than a mail line): decode it.
    let body = quoted_printable(&mail.data);
    let token = body
        .split("/verify-email?token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a verification link")
        .to_string();

    let queued = repo::outbox_for(&app.state.db, "mailme@pairwise.test")
        .await
        .unwrap();
    let status = repo::mail_status(&app.state.db, &queued[0].id)
        .await
        .unwrap()
        .unwrap();
    assert!(status.sent, "the outbox row is marked sent");

    let res = app
        .call(&browser, "verify_email", &[("token", &token)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let me = crate::helpers::body_json(app.call(&browser, "current_user", &[]).await).await;
    assert_eq!(me["email_verified"], true);
    assert_eq!(inbox.lock().unwrap().len(), 1, "sent once, not again");
    app.stop().await;
}

#[tokio::test]
async fn mail_that_cannot_be_delivered_stays_queued_with_its_error() {
    // Nothing listens on this port: every delivery fails.
    let url = format!("smtp://127.0.0.1:{}", free_port());
    let app = spawn_app_with(&[("PAIRWISE_SMTP_URL", &url), ("PAIRWISE_MAIL_POLL", "1s")]).await;
    let browser = app.browser();
    app.sign_up(
        &browser,
        "nomail@pairwise.test",
        "a perfectly fine passphrase",
    )
    .await;
    let queued = repo::outbox_for(&app.state.db, "nomail@pairwise.test")
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    let mut status = None;
    for _ in 0..100 {
        let s = repo::mail_status(&app.state.db, &queued[0].id)
            .await
            .unwrap()
            .unwrap();
        if s.attempts > 0 {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = status.expect("a delivery was attempted within 10 s");
    assert!(!status.sent);
    // Polled every second, but the retry waits a minute.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let later = repo::mail_status(&app.state.db, &queued[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(later.attempts, 1, "backed off: not retried every second");
    assert!(
        status.last_error.is_some_and(|e| e.contains("SMTP")),
        "the error is kept for the operator"
    );
    app.stop().await;
}
