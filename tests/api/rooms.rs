//! Live rooms: who may open a room socket, signalling between participants, and a chat that
//! loses and repeats nothing (acks after commit, idempotency keys, resume since N).

use std::{
    collections::{BTreeMap, HashMap},
    time::{Duration, Instant},
};

use app::{
    error::AppError,
    rooms::model::{
        HistoryKind, MAX_ROOM_MESSAGE_BYTES, MAX_SDP_BYTES, MediaState, ROOM_MESSAGE_BURST,
        RoomClientMessage as C, RoomServerMessage as S, SdpKind, Signal, close,
    },
};
use reqwest::StatusCode;

use crate::helpers::{Browser, RoomReceived, RoomSocket, TestApp, body_json, spawn_app};

pub(crate) struct Room {
    pub(crate) id: String,
    pub(crate) host: Browser,
    pub(crate) guest: Browser,
}

async fn room_id_of(app: &TestApp, who: &Browser, title: &str) -> String {
    let rooms = body_json(app.call(who, "my_rooms", &[]).await).await;
    rooms
        .as_array()
        .expect("a list")
        .iter()
        .find(|r| r["title"] == title)
        .and_then(|r| r["id"].as_str())
        .expect("the room is listed")
        .to_string()
}

/// A mentor's room with one invited guest.
pub(crate) async fn room(app: &TestApp, tag: &str) -> Room {
    let host = app
        .user_with_roles(&format!("host-{tag}@pairwise.test"), &["mentor"])
        .await;
    let guest = app
        .user_with_roles(&format!("guest-{tag}@pairwise.test"), &[])
        .await;
    let title = format!("Session {tag}");
    let res = app.call(&host, "create_room", &[("title", &title)]).await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let id = room_id_of(app, &host, &title).await;
    invite(app, &host, &id, &format!("guest-{tag}@pairwise.test")).await;
    Room { id, host, guest }
}

async fn invite(app: &TestApp, host: &Browser, room: &str, email: &str) {
    let res = app
        .call(host, "invite_to_room", &[("room", room), ("email", email)])
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
}

pub(crate) async fn join(
    app: &TestApp,
    who: &Browser,
    room: &str,
    query: &str,
) -> (RoomSocket, String) {
    let mut ws = app
        .room_socket(who, room, query, None)
        .await
        .expect("the room socket opens");
    let me = ws
        .until(|m| match m {
            S::Welcome { peer_id, .. } => Some(peer_id.clone()),
            _ => None,
        })
        .await;
    (ws, me)
}

#[tokio::test]
async fn only_signed_in_participants_from_our_origin_get_in() {
    let app = spawn_app().await;
    let r = room(&app, "gate").await;
    let outsider = app.user_with_roles("outsider@pairwise.test", &[]).await;

    let (status, body) = app
        .room_socket(&app.browser(), &r.id, "", None)
        .await
        .err()
        .expect("no cookie");
    assert_eq!(status, 401, "{body}");
    let (status, body) = app
        .room_socket(&r.guest, &r.id, "", Some("https://evil.example"))
        .await
        .err()
        .expect("wrong origin");
    assert_eq!(status, 403);
    assert!(body.contains("cross_origin"), "{body}");
    let (status, body) = app
        .room_socket(&outsider, &r.id, "", None)
        .await
        .err()
        .expect("not a participant");
    assert_eq!(status, 403);
    assert!(body.contains("forbidden"), "{body}");
    let (status, _) = app
        .room_socket(&r.guest, "nosuchroom", "", None)
        .await
        .err()
        .expect("no such room");
    assert_eq!(status, 404);

    // The page says so in words, with 403, and names no participant.
    let page = outsider
        .get(app.url(&format!("/rooms/{}", r.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let html = page.text().await.unwrap();
    assert!(html.contains("room-refused"), "{html}");
    assert!(!html.contains("guest-gate@"), "no participant is revealed");
    // The guest sees the room, its host and themselves.
    let page = r
        .guest
        .get(app.url(&format!("/rooms/{}", r.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Session gate"));
    let (_ws, _) = join(&app, &r.guest, &r.id, "").await;
    app.stop().await;
}

#[tokio::test]
async fn hosting_is_for_mentors_and_only_the_host_invites_removes_and_closes() {
    let app = spawn_app().await;
    let learner = app.user_with_roles("learner-room@pairwise.test", &[]).await;
    let res = app
        .call(&learner, "create_room", &[("title", "Mine")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let r = room(&app, "rights").await;
    // A guest cannot invite, remove or close.
    let res = app
        .call(
            &r.guest,
            "invite_to_room",
            &[("room", &r.id), ("email", "x@pairwise.test")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .call(
            &r.guest,
            "set_room_open",
            &[("room", &r.id), ("open", "false")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Inviting an email nobody signed up with says so.
    let res = app
        .call(
            &r.host,
            "invite_to_room",
            &[("room", &r.id), ("email", "nobody@pairwise.test")],
        )
        .await;
    // Answered like any invitation: it never tells whether an address has an account.
    assert_eq!(res.status(), StatusCode::OK);
    // The invited guest was notified with the room's link.
    let notes = body_json(app.call(&r.guest, "get_notifications", &[]).await).await;
    assert!(
        notes.to_string().contains(&format!("/rooms/{}", r.id)),
        "{notes}"
    );

    // Removing a guest who is connected ends their socket with "removed" at once.
    let (mut guest_ws, _) = join(&app, &r.guest, &r.id, "").await;
    let me = body_json(app.call(&r.guest, "current_user", &[]).await).await;
    let guest_id = me["id"].as_str().unwrap().to_string();
    let res = app
        .call(
            &r.host,
            "remove_from_room",
            &[("room", &r.id), ("user", &guest_id)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(guest_ws.closed().await, Some(close::REMOVED));
    let (status, _) = app
        .room_socket(&r.guest, &r.id, "", None)
        .await
        .err()
        .expect("gone");
    assert_eq!(status, 403);

    // Closing ends every socket and refuses new ones until reopened.
    let (mut host_ws, _) = join(&app, &r.host, &r.id, "").await;
    let res = app
        .call(
            &r.host,
            "set_room_open",
            &[("room", &r.id), ("open", "false")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(host_ws.closed().await, Some(close::ROOM_CLOSED));
    let (status, body) = app
        .room_socket(&r.host, &r.id, "", None)
        .await
        .err()
        .expect("closed");
    assert_eq!(status, 409);
    assert!(body.contains("room_closed"), "{body}");
    // Nor does the chat form post into a closed room.
    let res = app
        .call(
            &r.host,
            "send_chat",
            &[("room", &r.id), ("key", "closedroom1"), ("body", "anyone?")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("room_closed"));
    let res = app
        .call(
            &r.host,
            "set_room_open",
            &[("room", &r.id), ("open", "true")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    join(&app, &r.host, &r.id, "").await;
    app.stop().await;
}

fn offer(sdp: &str) -> Signal {
    Signal::Description {
        sdp_type: SdpKind::Offer,
        sdp: sdp.into(),
    }
}

/// Both join the call (signals are relayed only between people in it).
async fn enter_call(a: &mut RoomSocket, b: &mut RoomSocket) {
    let call = C::Media {
        media: MediaState {
            in_call: true,
            audio: true,
            video: true,
            screen: false,
        },
    };
    a.send(&call).await;
    b.until(|m| matches!(m, S::PeerMedia { .. }).then_some(()))
        .await;
    b.send(&call).await;
    a.until(|m| matches!(m, S::PeerMedia { .. }).then_some(()))
        .await;
}

/// A negotiates with B through the server: offer, answer and candidates both ways.
pub(crate) async fn negotiate(a: &mut RoomSocket, a_id: &str, b: &mut RoomSocket, b_id: &str) {
    enter_call(a, b).await;
    a.send(&C::Signal {
        to: b_id.into(),
        signal: offer("v=0 offer"),
    })
    .await;
    let got = b
        .until(|m| match m {
            S::Signal { from, signal } => Some((from.clone(), signal.clone())),
            _ => None,
        })
        .await;
    assert_eq!(got, (a_id.to_string(), offer("v=0 offer")));
    let answer = Signal::Description {
        sdp_type: SdpKind::Answer,
        sdp: "v=0 answer".into(),
    };
    b.send(&C::Signal {
        to: a_id.into(),
        signal: answer.clone(),
    })
    .await;
    for i in 0..5u16 {
        let cand = Signal::Candidate {
            candidate: format!("candidate:{i} 1 udp 2122260223 127.0.0.1 5000{i} typ host"),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
        };
        a.send(&C::Signal {
            to: b_id.into(),
            signal: cand.clone(),
        })
        .await;
        b.send(&C::Signal {
            to: a_id.into(),
            signal: cand,
        })
        .await;
    }
    let mut a_got = Vec::new();
    while a_got.len() < 6 {
        a_got.push(
            a.until(|m| match m {
                S::Signal { signal, .. } => Some(signal.clone()),
                _ => None,
            })
            .await,
        );
    }
    assert_eq!(a_got[0], answer);
    let mut b_candidates = 0;
    while b_candidates < 5 {
        b.until(|m| matches!(m, S::Signal { .. }).then_some(()))
            .await;
        b_candidates += 1;
    }
}

#[tokio::test]
async fn participants_see_each_other_arrive_signal_and_leave() {
    let app = spawn_app().await;
    let r = room(&app, "signal").await;
    let (mut a, a_id) = join(&app, &r.host, &r.id, "").await;
    let mut b = app.room_socket(&r.guest, &r.id, "", None).await.unwrap();
    let (b_id, peers) = b
        .until(|m| match m {
            S::Welcome { peer_id, peers, .. } => Some((peer_id.clone(), peers.clone())),
            _ => None,
        })
        .await;
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0].peer_id, a_id);
    assert!(peers[0].host);
    let joined = a
        .until(|m| match m {
            S::PeerJoined { peer } => Some(peer.clone()),
            _ => None,
        })
        .await;
    assert_eq!(joined.peer_id, b_id);
    assert!(!joined.host);

    negotiate(&mut a, &a_id, &mut b, &b_id).await;

    // Mute shows on the other side.
    let media = MediaState {
        in_call: true,
        audio: false,
        video: true,
        screen: false,
    };
    b.send(&C::Media { media }).await;
    let seen = a
        .until(|m| match m {
            S::PeerMedia { peer_id, media } => Some((peer_id.clone(), *media)),
            _ => None,
        })
        .await;
    assert_eq!(seen, (b_id.clone(), media));

    // A signal to someone not in the room is refused in words; nothing is relayed.
    a.send(&C::Signal {
        to: "pnobody".into(),
        signal: offer("x"),
    })
    .await;
    let err = a
        .until(|m| match m {
            S::Error { error, .. } => Some(error.clone()),
            _ => None,
        })
        .await;
    assert!(err.to_string().contains("no longer in the call"), "{err}");

    // Someone in the room but not in the call reaches nobody in it.
    let third = app.user_with_roles("third-signal@pairwise.test", &[]).await;
    invite(&app, &r.host, &r.id, "third-signal@pairwise.test").await;
    let (mut c, _) = join(&app, &third, &r.id, "").await;
    c.send(&C::Signal {
        to: a_id.clone(),
        signal: offer("uninvited"),
    })
    .await;
    c.until(|m| matches!(m, S::Error { .. }).then_some(()))
        .await;
    drop(c);

    drop(b);
    a.until(|m| match m {
        S::Signal { .. } => panic!("a signal from outside the call was relayed"),
        S::PeerLeft { peer_id } if *peer_id == b_id => Some(()),
        _ => None,
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn malformed_and_oversized_messages_close_the_socket_and_the_server_carries_on() {
    let app = spawn_app().await;
    let r = room(&app, "bad").await;

    let (mut ws, _) = join(&app, &r.guest, &r.id, "").await;
    ws.send_text(r#"{"type":"signal","to":7}"#.into()).await;
    let err = ws
        .until(|m| match m {
            S::Error { error, .. } => Some(error.clone()),
            _ => None,
        })
        .await;
    assert!(matches!(err, AppError::BadRequest { .. }), "{err:?}");
    assert_eq!(ws.closed().await, Some(close::POLICY));

    // An SDP over 16 KiB inside a message under the frame limit: refused in words.
    let (mut ws, _) = join(&app, &r.guest, &r.id, "").await;
    ws.send(&C::Signal {
        to: "pany".into(),
        signal: offer(&"a".repeat(MAX_SDP_BYTES + 1)),
    })
    .await;
    let err = ws
        .until(|m| match m {
            S::Error { error, .. } => Some(error.to_string()),
            _ => None,
        })
        .await;
    assert!(err.contains("at most 16384"), "{err}");
    assert_eq!(ws.closed().await, Some(close::POLICY));

    // A frame over the limit never reaches the parser.
    let (mut ws, _) = join(&app, &r.guest, &r.id, "").await;
    ws.send_text("x".repeat(MAX_ROOM_MESSAGE_BYTES + 1)).await;
    let code = ws.closed().await;
    assert!(matches!(code, Some(close::TOO_BIG) | None), "{code:?}");

    // The server is fine: a new socket works.
    let (mut ws, _) = join(&app, &r.host, &r.id, "").await;
    ws.send(&C::Ping { seq: 9 }).await;
    ws.until(|m| matches!(m, S::Pong { seq: 9 }).then_some(()))
        .await;
    app.stop().await;
}

#[tokio::test]
async fn a_flooding_client_is_cut_off_while_two_others_negotiate() {
    let app = spawn_app().await;
    let r = room(&app, "flood").await;
    let third = app.user_with_roles("third-flood@pairwise.test", &[]).await;
    invite(&app, &r.host, &r.id, "third-flood@pairwise.test").await;
    let (mut a, a_id) = join(&app, &r.host, &r.id, "").await;
    let (mut b, b_id) = join(&app, &r.guest, &r.id, "").await;
    let (mut flood, _) = join(&app, &third, &r.id, "").await;

    let flooding = tokio::spawn(async move {
        for seq in 0..(ROOM_MESSAGE_BURST as u32 * 4) {
            flood.send(&C::Ping { seq }).await;
        }
        let mut limited = false;
        loop {
            match flood.recv().await {
                RoomReceived::Message(S::Error {
                    error: AppError::RateLimited { .. },
                    ..
                }) => limited = true,
                RoomReceived::Message(_) => {}
                RoomReceived::Closed(code) => return (limited, code),
            }
        }
    });
    negotiate(&mut a, &a_id, &mut b, &b_id).await;
    let (limited, code) = flooding.await.unwrap();
    assert!(limited, "the flood was told it was rate-limited");
    assert_eq!(code, Some(close::POLICY));
    app.stop().await;
}

/// Resident memory of this test process (the server runs in it).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_within_ten_seconds_and_memory_stays_flat() {
    let app = spawn_app().await;
    let r = room(&app, "slow").await;
    let (mut a, _) = join(&app, &r.host, &r.id, "?since=0").await;
    let (slow, slow_id) = join(&app, &r.guest, &r.id, "?since=0").await;
    // Warm up the chat path so allocator growth from first use is not counted.
    for i in 0..20 {
        a.send(&C::Chat {
            key: format!("warmup-{i:04}"),
            body: "warm".into(),
        })
        .await;
        a.until(|m| matches!(m, S::Ack { .. }).then_some(())).await;
    }
    let before = rss_kib();
    let stopped = Instant::now();
    // `slow` is never read again; `a` keeps talking (large messages fill its queue faster).
    let body = "x".repeat(3000);
    let mut sent = 0;
    let left = 'talk: loop {
        if sent < 400 {
            a.send(&C::Chat {
                key: format!("flood-{sent:05}"),
                body: body.clone(),
            })
            .await;
            sent += 1;
        }
        // About 20 messages a second, under the rate limit; read everything that came.
        let pace = Instant::now() + Duration::from_millis(50);
        while let Some(got) = a
            .recv_within(pace.saturating_duration_since(Instant::now()).as_secs_f64())
            .await
        {
            match got {
                RoomReceived::Message(S::PeerLeft { peer_id }) if peer_id == slow_id => {
                    break 'talk stopped.elapsed();
                }
                RoomReceived::Closed(code) => panic!("the talker was closed: {code:?}"),
                RoomReceived::Message(_) => {}
            }
        }
        assert!(stopped.elapsed() < Duration::from_secs(15), "never dropped");
    };
    let after = rss_kib();
    eprintln!(
        "slow reader dropped after {:.1} s; RSS {} → {} KiB",
        left.as_secs_f64(),
        before,
        after
    );
    assert!(left <= Duration::from_secs(10), "dropped after {left:?}");
    assert!(
        after.saturating_sub(before) < 64 * 1024,
        "memory grew by {} KiB",
        after - before
    );
    // The talker was never held up: it still gets answers at once.
    a.send(&C::Ping { seq: 1 }).await;
    a.until(|m| matches!(m, S::Pong { seq: 1 }).then_some(()))
        .await;
    assert_eq!(app.state.rooms.connections(), 1);
    drop(slow);
    app.stop().await;
}

/// A participant removed where this server did not see it (another app server took the
/// membership away: here, the record is deleted directly) cannot chat: the message's own
/// transaction finds them gone, stores nothing and ends their socket with "removed" at once,
/// long before the sockets' periodic membership check (10 s).
#[tokio::test]
async fn a_chat_message_from_someone_removed_elsewhere_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    let r = room(&app, "elsewhere").await;
    let (mut b, _) = join(&app, &r.guest, &r.id, "?since=0").await;
    b.send(&C::Chat {
        key: "key-before-1".into(),
        body: "still here".into(),
    })
    .await;
    b.until(|m| matches!(m, S::Ack { .. }).then_some(())).await;
    app.state
        .db
        .query("DELETE room_member WHERE room = $room AND host = false")
        .bind((
            "room",
            surrealdb::types::RecordId::new("room", r.id.as_str()),
        ))
        .await
        .expect("membership deleted")
        .check()
        .expect("membership deleted");
    let sent = std::time::Instant::now();
    b.send(&C::Chat {
        key: "key-after-1".into(),
        body: "after removal".into(),
    })
    .await;
    assert_eq!(b.closed().await, Some(close::REMOVED));
    assert!(sent.elapsed() < std::time::Duration::from_secs(5));
    let mut res = app
        .state
        .db
        .query("SELECT VALUE body FROM chat_message WHERE room = $room ORDER BY seq")
        .bind((
            "room",
            surrealdb::types::RecordId::new("room", r.id.as_str()),
        ))
        .await
        .expect("chat read");
    let bodies: Vec<String> = res.take(0).expect("bodies");
    assert_eq!(bodies, vec!["still here".to_string()]);
}

#[tokio::test]
async fn chat_is_acked_after_commit_stored_once_per_key_and_resumed_since_n() {
    let app = spawn_app().await;
    let r = room(&app, "chat").await;
    let (mut a, _) = join(&app, &r.host, &r.id, "?since=0").await;
    let (mut b, _) = join(&app, &r.guest, &r.id, "?since=0").await;

    a.send(&C::Chat {
        key: "key-one-1".into(),
        body: "use `map` here".into(),
    })
    .await;
    let seq = a
        .until(|m| match m {
            S::Ack { key, seq } if key == "key-one-1" => Some(*seq),
            _ => None,
        })
        .await;
    assert_eq!(seq, 1);
    let got = b
        .until(|m| match m {
            S::Chat { message } => Some(message.clone()),
            _ => None,
        })
        .await;
    assert_eq!((got.seq, got.body.as_str()), (1, "use `map` here"));

    // The same key again (a resend after a reconnect): the same sequence number, stored once,
    // not delivered again.
    a.send(&C::Chat {
        key: "key-one-1".into(),
        body: "use `map` here".into(),
    })
    .await;
    let again = a
        .until(|m| match m {
            S::Ack { seq, .. } => Some(*seq),
            S::Chat { .. } => panic!("a resend is not delivered twice"),
            _ => None,
        })
        .await;
    assert_eq!(again, 1);
    // Bad messages are refused in words, tied to their key; the socket stays open.
    a.send(&C::Chat {
        key: "key-empty-1".into(),
        body: "   ".into(),
    })
    .await;
    let (key, err) = a
        .until(|m| match m {
            S::Error { error, key } => Some((key.clone(), error.to_string())),
            _ => None,
        })
        .await;
    assert_eq!(key.as_deref(), Some("key-empty-1"));
    assert!(err.contains("empty"), "{err}");
    for i in 2..=5 {
        a.send(&C::Chat {
            key: format!("key-more-{i}"),
            body: format!("message {i}"),
        })
        .await;
        a.until(|m| matches!(m, S::Ack { .. }).then_some(())).await;
    }
    // B comes back having seen up to 2: it gets 3, 4, 5 and nothing else, in order.
    drop(b);
    let mut b = app
        .room_socket(&r.guest, &r.id, "?since=2", None)
        .await
        .unwrap();
    let pages = {
        let mut pages = Vec::new();
        loop {
            match b.recv().await {
                RoomReceived::Message(S::History {
                    kind,
                    messages,
                    more,
                }) => {
                    assert_eq!(kind, HistoryKind::Resume);
                    pages.extend(messages.into_iter().map(|m| m.seq));
                    if !more {
                        break pages;
                    }
                }
                RoomReceived::Message(_) => {}
                RoomReceived::Closed(c) => panic!("closed {c:?}"),
            }
        }
    };
    assert_eq!(pages, vec![3, 4, 5]);
    // Older pages for scrolling back.
    b.send(&C::History { before: 3 }).await;
    let older = b
        .until(|m| match m {
            S::History {
                kind: HistoryKind::Older,
                messages,
                more,
            } => Some((messages.iter().map(|m| m.seq).collect::<Vec<_>>(), *more)),
            _ => None,
        })
        .await;
    assert_eq!(older, (vec![1, 2], false));
    app.stop().await;
}

/// 200 clients in 20 rooms chat for a bounded time; 10 % of them drop their connection
/// mid-stream and come back with "since N", resending what was not acked. Every acked message
/// reaches every member exactly once, in order, and nothing is stored twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_survives_reconnects_exactly_once_in_order_across_200_clients() {
    const ROOMS: usize = 20;
    const PER_ROOM: usize = 10;
    let app = std::sync::Arc::new(spawn_app().await);
    let busy = busy_rooms(&app, "many", ROOMS, PER_ROOM).await;
    let total_acked = chat_exactly_once(&app, &busy, Duration::from_secs(6), false).await;
    eprintln!(
        "{total_acked} messages acked in {ROOMS} rooms by {} clients",
        ROOMS * PER_ROOM
    );
    match std::sync::Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("a client still holds the app"),
    }
}

/// Rooms with one host and the same members in each.
pub(crate) struct BusyRooms {
    host: Browser,
    members: Vec<Browser>,
    rooms: Vec<String>,
}

/// `rooms` rooms of one host and `per_room - 1` members, all invited everywhere.
pub(crate) async fn busy_rooms(
    app: &TestApp,
    tag: &str,
    rooms: usize,
    per_room: usize,
) -> BusyRooms {
    let host = app
        .user_with_roles(&format!("host-{tag}@pairwise.test"), &["mentor"])
        .await;
    let mut members = Vec::new();
    for u in 0..per_room - 1 {
        members.push(
            app.user_with_roles(&format!("member-{tag}-{u}@pairwise.test"), &[])
                .await,
        );
    }
    let mut ids = Vec::new();
    for i in 0..rooms {
        let title = format!("Busy {tag} {i}");
        app.call(&host, "create_room", &[("title", &title)]).await;
        let id = room_id_of(app, &host, &title).await;
        for u in 0..per_room - 1 {
            invite(app, &host, &id, &format!("member-{tag}-{u}@pairwise.test")).await;
        }
        ids.push(id);
    }
    BusyRooms {
        host,
        members,
        rooms: ids,
    }
}

/// Everyone in `busy` chats for `run` through `app` (each connection wherever `app` sends
/// it); every tenth client drops its connection twice without a close and comes back with
/// "since N", resending what was not acked. Checks that every acked message reached every
/// member exactly once, in order, and was stored once; returns how many were acked.
pub(crate) async fn chat_exactly_once(
    app: &std::sync::Arc<TestApp>,
    busy: &BusyRooms,
    run: Duration,
    servers_may_die: bool,
) -> usize {
    let per_room = busy.members.len() + 1;
    let start = Instant::now() + Duration::from_millis(500);
    // Clients still sending or waiting for acks: nobody stops listening before every message
    // anywhere has been acked (its fan-out was queued before its ack).
    let clients = busy.rooms.len() * per_room;
    let pending = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(clients));
    let mut tasks = Vec::new();
    for (r, room) in busy.rooms.iter().enumerate() {
        for c in 0..per_room {
            let who = if c == 0 {
                busy.host.clone()
            } else {
                busy.members[c - 1].clone()
            };
            let app = app.clone();
            let room = room.clone();
            let flaky = (r * per_room + c) % 10 == 3;
            let pending = pending.clone();
            tasks.push(tokio::spawn(async move {
                chat_client(
                    &app,
                    &who,
                    &room,
                    r * 100 + c,
                    flaky,
                    start,
                    run,
                    &pending,
                    servers_may_die,
                )
                .await
            }));
        }
    }
    let mut outcomes: HashMap<String, Vec<ClientOutcome>> = HashMap::new();
    for (t, task) in tasks.into_iter().enumerate() {
        outcomes
            .entry(busy.rooms[t / per_room].clone())
            .or_default()
            .push(task.await.unwrap());
    }
    let mut total_acked = 0;
    for (room, clients) in &outcomes {
        // Everything acked anywhere in the room, by sequence number.
        let mut acked: BTreeMap<u64, String> = BTreeMap::new();
        for c in clients {
            for (seq, body) in &c.acked {
                assert!(
                    acked.insert(*seq, body.clone()).is_none(),
                    "seq {seq} acked twice"
                );
            }
        }
        total_acked += acked.len();
        let highest = *acked.keys().last().expect("messages were sent");
        for c in clients {
            // Exactly once and in order: 1, 2, 3, … with no gap and no repeat.
            let expected: Vec<u64> = (1..=c.received.len() as u64).collect();
            let seqs: Vec<u64> = c.received.iter().map(|(s, _)| *s).collect();
            assert_eq!(
                seqs, expected,
                "room {room}: member {} saw a gap or a repeat; it got: {:?}",
                c.id, c.story
            );
            assert!(
                c.received.len() as u64 >= highest,
                "a member missed acked messages"
            );
            for (seq, body) in &c.received {
                if let Some(sent) = acked.get(seq) {
                    assert_eq!(sent, body);
                }
            }
        }
        let stored = body_json(app.call(&busy.host, "get_room", &[("id", room)]).await).await;
        let last = stored["Member"]["recent"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["seq"].as_u64())
            .unwrap_or(0);
        assert_eq!(
            last, highest,
            "room {room}: stored more than was acked once"
        );
    }
    assert!(
        total_acked > busy.rooms.len() * 10,
        "the test sent enough to mean something"
    );
    total_acked
}

struct ClientOutcome {
    id: usize,
    acked: Vec<(u64, String)>,
    received: Vec<(u64, String)>,
    /// What reached it, in order (for the message when a check fails).
    story: Vec<String>,
}

#[allow(clippy::too_many_arguments)]
async fn chat_client(
    app: &TestApp,
    who: &Browser,
    room: &str,
    id: usize,
    flaky: bool,
    start: Instant,
    run: Duration,
    busy: &std::sync::atomic::AtomicUsize,
    servers_may_die: bool,
) -> ClientOutcome {
    use std::sync::atomic::Ordering;
    let mut done = false;
    let mut received: Vec<(u64, String)> = Vec::new();
    let mut story = Vec::new();
    let mut acked = Vec::new();
    let mut pending: BTreeMap<String, String> = BTreeMap::new();
    let mut n = 0u32;
    let mut drops_left = if flaky { 2 } else { 0 };
    let mut ws = app.room_socket(who, room, "?since=0", None).await.unwrap();
    tokio::time::sleep_until(start.into()).await;
    let end = start + run;
    let mut next_send = Instant::now();
    let mut quiet_since: Option<Instant> = None;
    loop {
        let now = Instant::now();
        assert!(
            now < end + Duration::from_secs(60),
            "client {id}: {} messages never acked (or another client's)",
            pending.len()
        );
        if now < end && now >= next_send {
            n += 1;
            let key = format!("c{id:04}-m{n:05}");
            let body = format!("hello {n} from {id}");
            pending.insert(key.clone(), body.clone());
            ws.send(&C::Chat { key, body }).await;
            next_send = now + Duration::from_millis(700 + (id as u64 * 37) % 300);
        }
        if drops_left > 0 && now > start + run / 3 * (3 - drops_left) {
            drops_left -= 1;
            // Drop the TCP connection without a close handshake, with messages in flight.
            drop(ws);
            story.push("dropped".into());
            ws = resume(app, who, room, &received, &pending).await;
            continue;
        }
        let msg = match ws.recv_within(0.2).await {
            Some(RoomReceived::Message(m)) => m,
            // Its server went away (killed): back through `app` to another, as a browser does.
            Some(RoomReceived::Closed(None)) if servers_may_die => {
                story.push("lost its server".into());
                ws = resume(app, who, room, &received, &pending).await;
                continue;
            }
            Some(RoomReceived::Closed(code)) => panic!("client {id} closed: {code:?}"),
            None => {
                if now > end && pending.is_empty() && !done {
                    done = true;
                    busy.fetch_sub(1, Ordering::SeqCst);
                }
                if done && busy.load(Ordering::SeqCst) == 0 {
                    let q = *quiet_since.get_or_insert(now);
                    if now.duration_since(q) > Duration::from_millis(1500) {
                        break;
                    }
                }
                continue;
            }
        };
        quiet_since = None;
        match msg {
            S::Chat { message } => {
                story.push(format!("{}", message.seq));
                received.push((message.seq, message.body));
            }
            S::History { messages, kind, .. } => {
                story.push(format!(
                    "{kind:?} {:?}",
                    messages.iter().map(|m| m.seq).collect::<Vec<_>>()
                ));
                received.extend(messages.into_iter().map(|m| (m.seq, m.body)));
            }
            S::Welcome { last_seq, .. } => story.push(format!("welcome at {last_seq}")),
            S::Ack { key, seq } => {
                if let Some(body) = pending.remove(&key) {
                    acked.push((seq, body));
                }
            }
            S::Error { error, .. } => panic!("client {id}: {error}"),
            _ => {}
        }
    }
    ClientOutcome {
        id,
        acked,
        received,
        story,
    }
}

/// A new connection asking for what came after the last message received, then every message
/// not yet acked sent again with its key (tried for up to 10 s: a killed server's connections
/// fail until the proxy takes it out).
async fn resume(
    app: &TestApp,
    who: &Browser,
    room: &str,
    received: &[(u64, String)],
    pending: &BTreeMap<String, String>,
) -> RoomSocket {
    let since = received.last().map_or(0, |(s, _)| *s);
    let mut tries = 0;
    let mut ws = loop {
        match app
            .room_socket(who, room, &format!("?since={since}"), None)
            .await
        {
            Ok(ws) => break ws,
            Err(_) if tries < 100 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("could not reconnect: {e:?}"),
        }
    };
    for (key, body) in pending {
        ws.send(&C::Chat {
            key: key.clone(),
            body: body.clone(),
        })
        .await;
    }
    ws
}
