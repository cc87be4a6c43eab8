//! Mentoring: settings, ranking with reasons, requests through every state, expiry after 48
//! hours (moved clock), bookings that cannot be doubled under 50 concurrent attempts, who may
//! see a booking, its calendar file and its feedback, the calendar feed, live notification
//! pushes and notification mail.

use std::{sync::Arc, time::Duration};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{
    Browser, ManualClock, Received, TestApp, body_json, spawn_app_with, spawn_app_with_clock_and,
};

const FAST_JOBS: (&str, &str) = ("PAIRWISE_JOBS_INTERVAL", "1s");
const ALL_WEEK: &str = "mon 00:00-24:00\ntue 00:00-24:00\nwed 00:00-24:00\nthu 00:00-24:00\nfri 00:00-24:00\nsat 00:00-24:00\nsun 00:00-24:00";

async fn ok(res: reqwest::Response, what: &str) -> Value {
    let status = res.status();
    let body = res.text().await.unwrap_or_default();
    assert!(status.is_success(), "{what}: {status} {body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

async fn status_and_words(res: reqwest::Response) -> (StatusCode, String) {
    let status = res.status();
    (status, res.text().await.unwrap_or_default())
}

pub(crate) async fn profile(app: &TestApp, who: &Browser, name: &str, skills: &str, tz: &str) {
    let res = app
        .call(
            who,
            "update_profile",
            &[
                ("display_name", name),
                ("bio", ""),
                ("skills", skills),
                ("languages", "en, zh"),
                ("timezone", tz),
            ],
        )
        .await;
    ok(res, "update profile").await;
}

pub(crate) async fn user_id(app: &TestApp, who: &Browser) -> String {
    body_json(app.call(who, "current_user", &[]).await).await["id"]
        .as_str()
        .expect("id")
        .to_string()
}

/// A mentor (Berlin) free all week for 60-minute sessions, with `capacity` places.
pub(crate) async fn mentor(app: &TestApp, tag: &str, capacity: &str) -> (Browser, String) {
    let m = app
        .user_with_roles(&format!("{tag}@example.org"), &["mentor"])
        .await;
    profile(
        app,
        &m,
        "Mentor Mei",
        "Rust: expert\nSQL: advanced",
        "Europe/Berlin",
    )
    .await;
    let res = app
        .call(
            &m,
            "save_mentor_settings",
            &[
                ("headline", "Rust and databases"),
                ("capacity", capacity),
                ("session_minutes", "60"),
                ("windows", ALL_WEEK),
            ],
        )
        .await;
    ok(res, "save settings").await;
    let id = user_id(app, &m).await;
    (m, id)
}

pub(crate) async fn learner(app: &TestApp, tag: &str) -> Browser {
    let l = app
        .user_with_roles(&format!("{tag}@example.org"), &[])
        .await;
    profile(app, &l, "Learner Li", "", "Asia/Shanghai").await;
    l
}

pub(crate) fn request_form<'a>(mentor: &'a str, goals: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("mentor", mentor),
        ("goals", goals),
        ("skills", "Rust: intermediate"),
        ("languages", "zh"),
        ("windows", "mon 19:00-22:00\nsat 09:00-12:00"),
        ("timezone", "Asia/Shanghai"),
    ]
}

async fn home(app: &TestApp, who: &Browser) -> Value {
    ok(app.call(who, "mentoring_home", &[]).await, "mentoring home").await
}

/// The learner books `start` in the mentorship `ms`.
pub(crate) async fn book(app: &TestApp, who: &Browser, ms: &str, start: &str) -> reqwest::Response {
    app.call(who, "book_session", &[("mentorship", ms), ("start", start)])
        .await
}

/// Learner sends, mentor accepts: the mentorship key.
pub(crate) async fn mentored(app: &TestApp, m: &Browser, mentor_id: &str, l: &Browser) -> String {
    ok(
        app.call(
            l,
            "send_request",
            &request_form(mentor_id, "Learn async Rust"),
        )
        .await,
        "send request",
    )
    .await;
    let sent = home(app, l).await["sent"][0]["id"]
        .as_str()
        .expect("a sent request")
        .to_string();
    ok(
        app.call(m, "answer_request", &[("id", &sent), ("accept", "true")])
            .await,
        "accept",
    )
    .await;
    home(app, l).await["mentorships"][0]["id"]
        .as_str()
        .expect("a mentorship")
        .to_string()
}

/// The keys of the stored calendar-feed records (hashes, never the secrets).
pub(crate) async fn feed_keys(app: &TestApp) -> Vec<String> {
    let mut res = app
        .state
        .db
        .query("SELECT VALUE record::id(id) FROM calendar_feed")
        .await
        .unwrap();
    res.take(0).unwrap()
}

async fn sent_state(app: &TestApp, l: &Browser) -> String {
    home(app, l).await["sent"][0]["state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn unread(app: &TestApp, who: &Browser) -> u64 {
    // get_notifications answers (latest, unread count).
    ok(app.call(who, "get_notifications", &[]).await, "unread").await[1]
        .as_u64()
        .unwrap_or(0)
}

async fn notices(app: &TestApp, who: &Browser) -> Vec<(String, String)> {
    let v = ok(
        app.call(who, "get_notifications", &[]).await,
        "notifications",
    )
    .await;
    v[0].as_array()
        .expect("a list")
        .iter()
        .map(|n| {
            (
                n["text"].as_str().unwrap_or_default().to_string(),
                n["link"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_request_goes_from_ranking_to_a_booked_rated_session_and_only_its_people_see_it() {
    let clock = ManualClock::new();
    let app = spawn_app_with_clock_and(clock.clone(), &[FAST_JOBS]).await;
    let (m, mentor_id) = mentor(&app, "mentor-flow", "2").await;
    let l = learner(&app, "learner-flow").await;
    let stranger = learner(&app, "stranger-flow").await;
    let admin = app.admin().await;

    // Ranking: the mentor is listed with reasons in words.
    let ranked = ok(
        app.call(
            &l,
            "find_mentors",
            &[
                ("skills", "Rust: intermediate\nGo: beginner"),
                ("languages", "zh"),
                ("windows", "mon 19:00-22:00"),
                ("timezone", "Asia/Shanghai"),
            ],
        )
        .await,
        "find",
    )
    .await;
    let first = &ranked[0];
    assert_eq!(first["id"], mentor_id.as_str());
    let reasons = first["reasons"].as_str().unwrap_or_default();
    assert!(reasons.contains("1 of 2 skills"), "{reasons}");
    assert!(reasons.contains("h/week overlap"), "{reasons}");
    assert!(reasons.contains("speaks Mandarin"), "{reasons}");

    // Bad input is refused in words and changes nothing.
    let (status, words) = status_and_words(
        app.call(
            &l,
            "find_mentors",
            &[
                ("skills", "Rust: beginner"),
                ("windows", "someday"),
                ("timezone", "UTC"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{words}");
    assert!(words.contains("windows_invalid"), "{words}");
    let (status, _) = status_and_words(
        app.call(&l, "send_request", &request_form(&mentor_id, "  "))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The mentor's socket is told live when the request arrives.
    let mut live = app.live(&m, None).await.expect("mentor socket");
    let mut saw_zero = false;
    for _ in 0..2 {
        if let Received::Message(app::realtime::ServerMessage::Notifications { unread, .. }) =
            live.recv().await
        {
            saw_zero = unread == 0;
        }
    }
    assert!(saw_zero, "the socket starts with the unread count");
    ok(
        app.call(
            &l,
            "send_request",
            &request_form(&mentor_id, "Learn async Rust"),
        )
        .await,
        "send",
    )
    .await;
    match tokio::time::timeout(Duration::from_secs(5), live.recv()).await {
        Ok(Received::Message(app::realtime::ServerMessage::Notifications { unread, latest })) => {
            assert_eq!(unread, 1);
            assert!(latest.expect("latest").text.contains("asks you to mentor"));
        }
        other => panic!("no live notification: {:?}", other.is_ok()),
    }
    // A second open request to the same mentor is refused.
    let (status, words) = status_and_words(
        app.call(&l, "send_request", &request_form(&mentor_id, "Again"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{words}");

    let req = home(&app, &m).await["received"][0].clone();
    let req_id = req["id"].as_str().expect("id").to_string();
    assert_eq!(req["state"], "sent");
    // Strangers do not see it. Reading it changes nothing (nor does loading its page); the
    // mentor's page then says it was opened, which marks it seen and tells the learner. Only
    // its mentor may.
    let (status, _) =
        status_and_words(app.call(&stranger, "get_request", &[("id", &req_id)]).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let read = ok(
        app.call(&m, "get_request", &[("id", &req_id)]).await,
        "view",
    )
    .await;
    assert_eq!(read["state"], "sent");
    let page = m
        .get(app.url(&format!("/requests/{req_id}")))
        .send()
        .await
        .expect("request page");
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(sent_state(&app, &l).await, "sent", "a GET changes nothing");
    let (status, _) = status_and_words(
        app.call(&l, "mark_request_viewed", &[("id", &req_id)])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    ok(
        app.call(&m, "mark_request_viewed", &[("id", &req_id)])
            .await,
        "mark viewed",
    )
    .await;
    let seen = ok(
        app.call(&m, "get_request", &[("id", &req_id)]).await,
        "view",
    )
    .await;
    assert_eq!(seen["state"], "viewed");
    assert!(
        notices(&app, &l)
            .await
            .iter()
            .any(|(t, _)| t.contains("has seen"))
    );
    // Only the mentor answers.
    let (status, _) = status_and_words(
        app.call(&l, "answer_request", &[("id", &req_id), ("accept", "true")])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    ok(
        app.call(&m, "answer_request", &[("id", &req_id), ("accept", "true")])
            .await,
        "accept",
    )
    .await;
    let (status, _) = status_and_words(
        app.call(
            &m,
            "answer_request",
            &[("id", &req_id), ("accept", "false")],
        )
        .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "an answered request stays answered"
    );
    let ms_id = home(&app, &l).await["mentorships"][0]["id"]
        .as_str()
        .expect("mentorship")
        .to_string();

    // Booking: the first free start (shown in the learner's zone) becomes a session.
    let page = ok(
        app.call(&l, "get_mentorship", &[("id", &ms_id)]).await,
        "mentorship",
    )
    .await;
    assert_eq!(page["zone"], "Asia/Shanghai");
    let slot = page["slots"][0].clone();
    let start = slot["start"].as_str().expect("a free start").to_string();
    let start_utc = chrono::DateTime::parse_from_rfc3339(&start).expect("rfc3339");
    let shanghai =
        start_utc.with_timezone(&"Asia/Shanghai".parse::<chrono_tz::Tz>().expect("zone"));
    assert!(
        slot["label"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&shanghai.format("%H:%M").to_string()),
        "label {slot} in the learner's zone"
    );
    let (status, _) = status_and_words(
        app.call(&stranger, "get_mentorship", &[("id", &ms_id)])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = status_and_words(book(&app, &l, &ms_id, "2020-01-01T10:00:00Z").await).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a past start is refused"
    );
    ok(book(&app, &l, &ms_id, &start).await, "book").await;
    let (status, _) = status_and_words(book(&app, &l, &ms_id, &start).await).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the same start is no longer free"
    );
    let booking = home(&app, &m).await["upcoming"][0].clone();
    let booking_id = booking["id"].as_str().expect("booking").to_string();
    assert_eq!(booking["start"].as_str(), Some(start.as_str()));
    let room = booking["room"].as_str().expect("room").to_string();

    // Who sees the booking, its room and its calendar file.
    for (who, expected) in [
        (&l, StatusCode::OK),
        (&m, StatusCode::OK),
        (&admin, StatusCode::OK),
        (&stranger, StatusCode::NOT_FOUND),
    ] {
        let (status, _) =
            status_and_words(app.call(who, "get_booking", &[("id", &booking_id)]).await).await;
        assert_eq!(status, expected);
        let ics = who
            .get(app.url(&format!("/bookings/{booking_id}/ics")))
            .send()
            .await
            .expect("ics");
        assert_eq!(ics.status(), expected);
    }
    let ics = l
        .get(app.url(&format!("/bookings/{booking_id}/ics")))
        .send()
        .await
        .expect("ics");
    assert!(
        ics.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/calendar")
    );
    let text = ics.text().await.unwrap_or_default();
    assert!(text.contains("BEGIN:VEVENT"), "{text}");
    assert!(
        text.contains(&format!("DTSTART:{}", start_utc.format("%Y%m%dT%H%M%SZ"))),
        "{text}"
    );
    let room_status = app.call(&stranger, "get_room", &[("id", &room)]).await;
    assert_eq!(body_json(room_status).await, "NotInvited");
    let room_l = ok(app.call(&l, "get_room", &[("id", &room)]).await, "room").await;
    assert!(room_l.get("Member").is_some(), "{room_l}");

    // Feedback only once the session has begun, once per side, on the two people.
    let (status, _) = status_and_words(
        app.call(&l, "rate_session", &[("id", &booking_id), ("stars", "5")])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "too early");
    let until_start =
        (start_utc.with_timezone(&chrono::Utc) - app::state::Clock::now(&*clock)).num_seconds();
    clock.advance(until_start + 60);
    let (status, _) = status_and_words(
        app.call(&l, "rate_session", &[("id", &booking_id), ("stars", "9")])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = status_and_words(
        app.call(
            &stranger,
            "rate_session",
            &[("id", &booking_id), ("stars", "1")],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    ok(
        app.call(
            &l,
            "rate_session",
            &[
                ("id", &booking_id),
                ("stars", "5"),
                ("comment", "Clear and kind"),
            ],
        )
        .await,
        "rate",
    )
    .await;
    ok(
        app.call(&m, "rate_session", &[("id", &booking_id), ("stars", "4")])
            .await,
        "mentor rates",
    )
    .await;
    let (status, _) = status_and_words(
        app.call(&l, "rate_session", &[("id", &booking_id), ("stars", "1")])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "rated once");
    let seen_by_mentor = ok(
        app.call(&m, "get_booking", &[("id", &booking_id)]).await,
        "b",
    )
    .await;
    assert_eq!(seen_by_mentor["their_feedback"]["stars"], 5);
    assert_eq!(
        seen_by_mentor["their_feedback"]["comment"],
        "Clear and kind"
    );
    // The rating counts in the directory (a Bayesian average ranks; the card shows the mean).
    let dir = ok(app.call(&l, "mentor_directory", &[]).await, "directory").await;
    assert_eq!(dir[0]["rating"][0], 5.0);
    // Too late to cancel a session that has begun.
    let (status, _) =
        status_and_words(app.call(&l, "cancel_session", &[("id", &booking_id)]).await).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Questions between sessions: the other side is told.
    ok(
        app.call(
            &l,
            "post_question",
            &[("mentorship", &ms_id), ("body", "How do I pin a future?")],
        )
        .await,
        "ask",
    )
    .await;
    let (status, _) = status_and_words(
        app.call(
            &stranger,
            "post_question",
            &[("mentorship", &ms_id), ("body", "hi")],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        notices(&app, &m)
            .await
            .iter()
            .any(|(t, _)| t.contains("asked a question"))
    );

    // The calendar feed: a secret address, shown once; a new one cuts off the old. The
    // database keeps only its hash.
    let url = ok(app.call(&l, "rotate_calendar_feed", &[]).await, "feed").await;
    let url = url.as_str().expect("feed url").to_string();
    assert_eq!(home(&app, &l).await["has_calendar_feed"], true);
    let path = &url[url.find("/calendar/").expect("path")..];
    let secret = path
        .trim_start_matches("/calendar/")
        .trim_end_matches(".ics")
        .to_string();
    let stored = feed_keys(&app).await;
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], secret, "the secret itself is not stored");
    assert!(!stored[0].contains(&secret));
    let feed = app.browser().get(app.url(path)).send().await.expect("feed");
    assert_eq!(feed.status(), StatusCode::OK);
    assert!(
        feed.text()
            .await
            .unwrap_or_default()
            .contains(&format!("{booking_id}@pairwise"))
    );
    ok(app.call(&l, "rotate_calendar_feed", &[]).await, "rotate").await;
    let old = app.browser().get(app.url(path)).send().await.expect("feed");
    assert_eq!(old.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_attempts_at_one_slot_make_exactly_one_booking() {
    let app = spawn_app_with(&[]).await;
    let (m, mentor_id) = mentor(&app, "mentor-race", "50").await;
    let mut learners = Vec::new();
    for i in 0..50 {
        let l = learner(&app, &format!("racer{i}")).await;
        let ms = mentored(&app, &m, &mentor_id, &l).await;
        learners.push((l, ms));
    }
    let page = ok(
        app.call(&learners[0].0, "get_mentorship", &[("id", &learners[0].1)])
            .await,
        "slots",
    )
    .await;
    let start = page["slots"][0]["start"]
        .as_str()
        .expect("slot")
        .to_string();
    let app = Arc::new(app);
    let attempts = learners.into_iter().map(|(l, ms)| {
        let (app, start) = (app.clone(), start.clone());
        tokio::spawn(async move { book(&app, &l, &ms, &start).await.status() })
    });
    let mut statuses = Vec::new();
    for a in attempts {
        statuses.push(a.await.expect("joined"));
    }
    let booked = statuses.iter().filter(|s| s.is_success()).count();
    assert_eq!(booked, 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| s.is_success()
            || *s == StatusCode::CONFLICT
            || *s == StatusCode::UNPROCESSABLE_ENTITY),
        "the others are refused in words: {statuses:?}"
    );
    let mut res = app
        .state
        .db
        .query(
            "RETURN array::len((SELECT VALUE id FROM booking WHERE state = 'booked'));
             RETURN array::len((SELECT VALUE id FROM slot_hold));",
        )
        .await
        .expect("count");
    let bookings: Option<i64> = res.take(0).expect("n");
    let holds: Option<i64> = res.take(1).expect("n");
    assert_eq!(bookings, Some(1));
    assert_eq!(
        holds,
        Some(8),
        "4 quarter hours for the mentor and 4 for the learner"
    );
    match Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("app still shared"),
    }
}

#[tokio::test]
async fn an_unanswered_request_expires_after_48_hours_and_both_sides_are_told() {
    let clock = ManualClock::new();
    let app = spawn_app_with_clock_and(clock.clone(), &[FAST_JOBS]).await;
    let (m, mentor_id) = mentor(&app, "mentor-expiry", "3").await;
    let l = learner(&app, "learner-expiry").await;
    ok(
        app.call(&l, "send_request", &request_form(&mentor_id, "Databases"))
            .await,
        "send",
    )
    .await;
    clock.advance(47 * 3600);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(sent_state(&app, &l).await, "sent", "still open at 47 h");
    clock.advance(3600 + 1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while sent_state(&app, &l).await != "expired" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not expired after 48 h"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let to_learner = notices(&app, &l).await;
    assert!(
        to_learner
            .iter()
            .any(|(t, link)| t.contains("expired") && link.starts_with("/mentors/find?again=")),
        "{to_learner:?}"
    );
    assert!(
        notices(&app, &m)
            .await
            .iter()
            .any(|(t, _)| t.contains("expired"))
    );
    // Answering it now is refused.
    let id = home(&app, &l).await["sent"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let (status, _) = status_and_words(
        app.call(&m, "answer_request", &[("id", &id), ("accept", "true")])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // The learner can send again; the ranking leaves out the mentor who did not answer.
    let again = ok(
        app.call(&l, "needs_defaults", &[("again", &id)]).await,
        "defaults",
    )
    .await;
    assert_eq!(again["exclude"], mentor_id.as_str());
    assert!(
        again["windows"]
            .as_str()
            .unwrap_or_default()
            .contains("mon 19:00-22:00")
    );
    app.stop().await;
}

#[tokio::test]
async fn pausing_declines_open_requests_with_a_message_and_hides_the_mentor() {
    let clock = ManualClock::new();
    let app = spawn_app_with_clock_and(clock.clone(), &[FAST_JOBS]).await;
    let (m, mentor_id) = mentor(&app, "mentor-pause", "3").await;
    let l = learner(&app, "learner-pause").await;
    ok(
        app.call(&l, "send_request", &request_form(&mentor_id, "Rust"))
            .await,
        "send",
    )
    .await;
    ok(
        app.call(
            &m,
            "save_mentor_settings",
            &[
                ("capacity", "3"),
                ("session_minutes", "60"),
                ("windows", ALL_WEEK),
                ("paused", "on"),
            ],
        )
        .await,
        "pause",
    )
    .await;
    let sent = home(&app, &l).await["sent"][0].clone();
    assert_eq!(sent["state"], "declined");
    assert!(
        sent["message"]
            .as_str()
            .unwrap_or_default()
            .contains("paused")
    );
    assert!(unread(&app, &l).await >= 1);
    let ranked = ok(
        app.call(
            &l,
            "find_mentors",
            &[
                ("skills", "Rust: beginner"),
                ("windows", "mon 10:00-12:00"),
                ("timezone", "UTC"),
            ],
        )
        .await,
        "find",
    )
    .await;
    assert!(ranked.as_array().is_some_and(Vec::is_empty), "{ranked}");
    let (status, _) = status_and_words(
        app.call(&l, "send_request", &request_form(&mentor_id, "Rust again"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // A capacity outside 1–50 is refused in words.
    let (status, words) = status_and_words(
        app.call(
            &m,
            "save_mentor_settings",
            &[
                ("capacity", "0"),
                ("session_minutes", "60"),
                ("windows", ""),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(words.contains("capacity_invalid"), "{words}");
    app.stop().await;
}

#[tokio::test]
async fn notifications_are_mailed_as_each_user_chose() {
    let clock = ManualClock::new();
    let app = spawn_app_with_clock_and(clock.clone(), &[FAST_JOBS]).await;
    let (_m, mentor_id) = mentor(&app, "mentor-mail", "3").await;
    let (m2, mentor2_id) = mentor(&app, "mentor-mail-off", "3").await;
    ok(
        app.call(&m2, "save_email_prefs", &[("request", "off")])
            .await,
        "prefs",
    )
    .await;
    let (status, _) = status_and_words(
        app.call(&m2, "save_email_prefs", &[("request", "hourly")])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let l = learner(&app, "learner-mail").await;
    ok(
        app.call(&l, "send_request", &request_form(&mentor_id, "Rust"))
            .await,
        "send",
    )
    .await;
    ok(
        app.call(&l, "send_request", &request_form(&mentor2_id, "Rust"))
            .await,
        "send",
    )
    .await;
    let outbox = |to: &'static str| {
        let db = app.state.db.clone();
        async move {
            let email = app::accounts::model::Email::parse(to).expect("email");
            app::notify::repo::outbox_for(&db, email.as_str())
                .await
                .expect("outbox")
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mails = outbox("mentor-mail@example.org").await;
        if let Some(mail) = mails
            .iter()
            .find(|m| m.subject.contains("asks you to mentor"))
        {
            assert!(
                mail.subject.contains("asks you to mentor"),
                "{}",
                mail.subject
            );
            assert!(mail.body.contains("/requests/"), "{}", mail.body);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no immediate mail");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        !outbox("mentor-mail-off@example.org")
            .await
            .iter()
            .any(|m| m.subject.contains("asks you to mentor")),
        "mail was off"
    );
    app.stop().await;
}

#[tokio::test]
async fn both_people_are_reminded_a_day_and_a_quarter_hour_before_once_each() {
    let clock = ManualClock::new();
    let app = spawn_app_with_clock_and(clock.clone(), &[FAST_JOBS]).await;
    let (m, mentor_id) = mentor(&app, "mentor-remind", "3").await;
    let l = learner(&app, "learner-remind").await;
    let ms = mentored(&app, &m, &mentor_id, &l).await;
    // A start about a day and a half ahead: no reminder yet.
    let page = ok(
        app.call(&l, "get_mentorship", &[("id", &ms)]).await,
        "slots",
    )
    .await;
    let now = app::state::Clock::now(&*clock);
    let start = page["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .filter_map(|s| s["start"].as_str())
        .find(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .is_ok_and(|t| (t.with_timezone(&chrono::Utc) - now).num_hours() >= 36)
        })
        .expect("a start 36 h ahead")
        .to_string();
    ok(book(&app, &l, &ms, &start).await, "book").await;
    let reminders = |who: &Browser| {
        let (app, who) = (&app, who.clone());
        async move {
            notices(app, &who)
                .await
                .into_iter()
                .filter(|(t, _)| t.contains("starts "))
                .map(|(t, _)| t)
                .collect::<Vec<_>>()
        }
    };
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(reminders(&l).await.is_empty(), "too early for a reminder");
    let until = (chrono::DateTime::parse_from_rfc3339(&start)
        .expect("start")
        .with_timezone(&chrono::Utc)
        - now)
        .num_seconds();
    clock.advance(until - 23 * 3600);
    let wait_for = |who: &Browser, n: usize| {
        let who = who.clone();
        let reminders = &reminders;
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                let got = reminders(&who).await;
                if got.len() >= n {
                    return got;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "reminder {n} missing: {got:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    let day = wait_for(&l, 1).await;
    assert!(day[0].contains("within 24 hours"), "{day:?}");
    assert_eq!(wait_for(&m, 1).await.len(), 1);
    clock.advance(23 * 3600 - 10 * 60);
    let both = wait_for(&l, 2).await;
    assert!(both.iter().any(|t| t.contains("in 15 minutes")), "{both:?}");
    // Jobs keep running: nobody is reminded twice.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(reminders(&l).await.len(), 2);
    assert_eq!(reminders(&m).await.len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn daily_summaries_go_out_once_a_day_and_concurrent_mailers_send_each_mail_once() {
    let clock = ManualClock::new();
    let app = spawn_app_with_clock_and(clock.clone(), &[FAST_JOBS]).await;
    let (m, mentor_id) = mentor(&app, "mentor-digest", "3").await;
    let l = learner(&app, "learner-digest").await;
    let ms = mentored(&app, &m, &mentor_id, &l).await;
    let summaries = || {
        let db = app.state.db.clone();
        async move {
            app::notify::repo::outbox_for(&db, "learner-digest@example.org")
                .await
                .expect("outbox")
                .into_iter()
                .filter(|m| m.subject.contains("daily summary"))
                .count()
        }
    };
    let wait_for = |n: usize| async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while summaries().await < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "summary {n} missing"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    // Questions are mailed only once chosen (summaries are off until then): the learner
    // chooses the daily summary, and the first one goes out at once.
    ok(
        app.call(&l, "save_email_prefs", &[("question", "daily")])
            .await,
        "choose the summary",
    )
    .await;
    for q in ["Is `Pin` needed here?", "And for `Box<dyn Future>`?"] {
        ok(
            app.call(&m, "post_question", &[("mentorship", &ms), ("body", q)])
                .await,
            "ask",
        )
        .await;
    }
    wait_for(1).await;
    ok(
        app.call(
            &m,
            "post_question",
            &[("mentorship", &ms), ("body", "One more")],
        )
        .await,
        "ask",
    )
    .await;
    // A booking notifies the mentor, by mail at once; then several mailers run at once (as
    // on several app servers) besides the server's own job.
    let page = ok(
        app.call(&l, "get_mentorship", &[("id", &ms)]).await,
        "slots",
    )
    .await;
    let start = page["slots"][0]["start"]
        .as_str()
        .expect("slot")
        .to_string();
    ok(book(&app, &l, &ms, &start).await, "book").await;
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let state = app.state.clone();
            tokio::spawn(async move { app::mentoring::jobs::run_once(&state).await })
        })
        .collect();
    for r in runs {
        r.await.expect("joined").expect("a round");
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(summaries().await, 1, "the next summary waits a day");
    clock.advance(24 * 3600 + 60);
    wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(summaries().await, 2, "each summary once");
    // Immediate mail (the request to the mentor) went out exactly once.
    let to_mentor = app::notify::repo::outbox_for(&app.state.db, "mentor-digest@example.org")
        .await
        .expect("outbox")
        .into_iter()
        .filter(|m| m.subject.contains("asks you to mentor"))
        .count();
    assert_eq!(to_mentor, 1);
    let booked = app::notify::repo::outbox_for(&app.state.db, "mentor-digest@example.org")
        .await
        .expect("outbox")
        .into_iter()
        .filter(|m| m.subject.contains("booked a session"))
        .count();
    assert_eq!(
        booked, 1,
        "one mail for the booking, whatever ran the mailer"
    );
    app.stop().await;
}
