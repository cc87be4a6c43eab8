//! Calendar files: one session as an `.ics` download (for its two people), and each user's
//! secret feed address that calendar apps poll (`/calendar/<secret>.ics`; rotating the secret
//! on the mentoring page cuts off the old address).

use app::{
    accounts::session,
    error::AppError,
    i18n::{Locale, locale_from_headers},
    ids::UserId,
    mentoring::{api::backend::visible_booking, repo},
    state::AppState,
};
use axum::{
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};

use crate::security::error_response;

/// One session as an event, in the reader's language.
fn event(state: &AppState, b: &repo::BookingRow, locale: Locale) -> Event {
    let origin = &state.auth.public_origin;
    let s = locale.strings().mentoring;
    let mut e = Event::new();
    e.uid(&format!("{}@pairwise", b.id))
        .summary(
            &s.ics_summary
                .replace("{mentor}", &b.mentor_name)
                .replace("{learner}", &b.learner_name),
        )
        .description(
            &s.ics_description
                .replace("{room}", &format!("{origin}/rooms/{}", b.room))
                .replace("{session}", &format!("{origin}/bookings/{}", b.id)),
        )
        .url(&format!("{origin}/bookings/{}", b.id))
        .location(&format!("{origin}/rooms/{}", b.room))
        .starts(b.starts_at)
        .ends(b.ends_at)
        .timestamp(state.clock.now())
        .status(if b.state == "booked" {
            EventStatus::Confirmed
        } else {
            EventStatus::Cancelled
        });
    e.done()
}

fn calendar_response(cal: Calendar, filename: &str) -> Response {
    let mut res = cal.to_string().into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

/// `GET /bookings/<id>/ics`: the session for its mentor, its learner or an admin.
pub async fn booking_ics(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let who = match session::authenticate(&state, &headers).await {
        Ok(Some(who)) => who,
        Ok(None) => return error_response(AppError::Unauthenticated),
        Err(e) => return error_response(e),
    };
    match visible_booking(&state, &id, &who).await {
        Ok(b) => {
            let mut cal = Calendar::new();
            cal.name("Pairwise")
                .push(event(&state, &b, locale_from_headers(&headers)));
            calendar_response(cal.done(), "pairwise-session.ics")
        }
        Err(e) => error_response(e),
    }
}

/// `GET /calendar/<secret>.ics`: the owner's sessions from 30 days ago on (cancelled ones
/// included, so calendar apps remove them).
pub async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    let valid =
        (20..=64).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric());
    if !valid {
        return error_response(AppError::NotFound);
    }
    let owner = match repo::feed_owner(&state.db, token).await {
        Ok(Some(owner)) => owner,
        Ok(None) => return error_response(AppError::NotFound),
        Err(e) => return error_response(e),
    };
    // A calendar app sends no language: the feed is in the one its owner chose.
    let locale = match app::notify::repo::locale_of(&state.db, &UserId(owner.clone())).await {
        Ok(l) => l,
        Err(e) => return error_response(e),
    };
    let since = state.clock.now() - chrono::Duration::days(30);
    match repo::bookings_of(&state.db, &owner, since, true).await {
        Ok(bookings) => {
            let mut cal = Calendar::new();
            cal.name(locale.strings().mentoring.ics_feed_name);
            for b in &bookings {
                cal.push(event(&state, b, locale));
            }
            calendar_response(cal.done(), "pairwise.ics")
        }
        Err(e) => error_response(e),
    }
}
