//! Mentoring server functions. Every one checks who is asking: a request is seen by its two
//! people, a mentorship, its bookings, rooms, feedback and questions by its mentor and learner
//! (and admins, who can read but not act for them).

use leptos::prelude::*;

use crate::{
    error::AppError,
    mentoring::model::{
        BookingView, MentorCard, MentorPageView, MentorSettingsView, MentoringOverview,
        MentorshipView, NeedsPrefill, RequestView, SlotView,
    },
};

#[cfg(feature = "ssr")]
pub mod backend {
    use chrono::{DateTime, Utc};
    use chrono_tz::Tz;

    pub use crate::{
        accounts::{
            model::Role,
            session::{Authenticated, require_role, require_user, require_verified_user},
        },
        error::{AppError, Problem},
        i18n::{initial_locale, time_label, weekday_short},
        ids::is_record_key,
        mentoring::{
            matching::{self, Availability, MentorFacts, RequestNeeds},
            model::*,
            repo::{self, BookingRow, MentorRow, MentorshipRow, RequestRow},
        },
        notify::model::Notice,
        state::AppState,
    };

    pub fn zone(name: &str) -> Tz {
        crate::i18n::zone_named(name)
    }

    pub async fn caller_zone(state: &AppState, who: &Authenticated) -> Result<Tz, AppError> {
        Ok(zone(&repo::zone_of(&state.db, &who.user.id.0).await?))
    }

    pub fn is_admin(who: &Authenticated) -> bool {
        who.user.roles.contains(&Role::Admin)
    }

    /// The mentor's weekly windows in their zone.
    pub fn availability(m: &MentorRow) -> Availability {
        Availability {
            timezone: zone(&m.timezone),
            windows: stored_windows(&m.windows),
        }
    }

    pub fn facts(m: &MentorRow) -> MentorFacts {
        let mut secs = m.response_secs.clone();
        secs.sort_unstable();
        let median_response_hours = (!secs.is_empty()).then(|| {
            let mid = secs.len() / 2;
            let s = if secs.len() % 2 == 1 {
                secs[mid] as f64
            } else {
                (secs[mid - 1] + secs[mid]) as f64 / 2.0
            };
            s / 3600.0
        });
        MentorFacts {
            id: m.id.clone(),
            skills: m.skills.0.clone(),
            languages: m.languages.clone(),
            availability: availability(m),
            rating_sum: m.stars.iter().sum::<i64>() as f64,
            rating_count: m.stars.len() as u32,
            active_mentees: u32::try_from(m.active_mentees).unwrap_or(0),
            capacity: u32::try_from(m.capacity).unwrap_or(0),
            median_response_hours,
            paused: m.paused,
        }
    }

    pub fn card(m: &MentorRow) -> MentorCard {
        let rating = (!m.stars.is_empty()).then(|| {
            (
                m.stars.iter().sum::<i64>() as f64 / m.stars.len() as f64,
                m.stars.len() as u32,
            )
        });
        MentorCard {
            id: m.id.clone(),
            name: m.name.clone(),
            headline: m.headline.clone(),
            skills: m.skills.0.clone(),
            languages: m.languages.clone(),
            timezone: m.timezone.clone(),
            rating,
            free_places: u32::try_from((m.capacity - m.active_mentees).max(0)).unwrap_or(0),
            paused: m.paused,
            score: None,
            reasons: String::new(),
        }
    }

    /// The windows of someone in `from` shown in the reader's zone, for the coming week.
    pub fn windows_in(avail: &Availability, reader: Tz, now: DateTime<Utc>) -> Vec<String> {
        use chrono::Datelike;
        let locale = initial_locale();
        let mut spans = avail.utc_intervals(now);
        spans.retain(|(_, e)| *e > now);
        spans.sort();
        spans.truncate(21);
        spans
            .into_iter()
            .map(|(s, e)| {
                let (s, e) = (s.with_timezone(&reader), e.with_timezone(&reader));
                format!(
                    "{} {}–{}",
                    weekday_short(locale, s.weekday()),
                    s.format("%H:%M"),
                    e.format("%H:%M")
                )
            })
            .collect()
    }

    /// A moment in the reader's zone and in the language of the page that asks.
    pub fn when(t: DateTime<Utc>, reader: Tz) -> String {
        time_label(initial_locale(), t, reader)
    }

    pub fn request_view(
        r: RequestRow,
        viewer: &str,
        reader: Tz,
        now: DateTime<Utc>,
    ) -> RequestView {
        let avail = Availability {
            timezone: zone(&r.timezone),
            windows: stored_windows(&r.windows),
        };
        let state = RequestState::parse(&r.state).unwrap_or(RequestState::Expired);
        RequestView {
            windows_local: windows_in(&avail, reader, now),
            mentorship: (state == RequestState::Accepted)
                .then(|| repo::mentorship_key(&r.mentor, &r.learner)),
            for_me: r.mentor == viewer,
            id: r.id,
            learner_id: r.learner,
            learner_name: r.learner_name,
            mentor_id: r.mentor,
            mentor_name: r.mentor_name,
            goals: r.goals,
            skills: r.skills.0,
            languages: r.languages,
            reasons: matching::reasons_from_store(&r.reasons, initial_locale()),
            state,
            message: r.message,
            waited_hours: (now - r.created_at).num_hours(),
            created_at: when(r.created_at, reader),
            expires_at: when(r.expires_at, reader),
        }
    }

    /// `row` if the caller is its mentor or its learner, or an admin (who may read, not act).
    /// Anyone else learns nothing, not even that it exists: 404.
    fn for_party<T>(
        row: Option<T>,
        people: impl Fn(&T) -> [&str; 2],
        who: &Authenticated,
    ) -> Result<T, AppError> {
        let row = row.ok_or(AppError::NotFound)?;
        if people(&row).contains(&who.user.id.0.as_str()) || is_admin(who) {
            Ok(row)
        } else {
            Err(AppError::NotFound)
        }
    }

    /// A request the caller sent or received.
    pub async fn visible_request(
        state: &AppState,
        id: &str,
        who: &Authenticated,
    ) -> Result<RequestRow, AppError> {
        if !is_record_key(id) {
            return Err(AppError::NotFound);
        }
        let row = repo::request(&state.db, id).await?;
        for_party(row, |r| [&r.mentor, &r.learner], who)
    }

    /// A mentorship the caller is in. The key is `<mentor>_<learner>`.
    pub async fn visible_mentorship(
        state: &AppState,
        key: &str,
        who: &Authenticated,
    ) -> Result<MentorshipRow, AppError> {
        let valid = key
            .split_once('_')
            .is_some_and(|(a, b)| is_record_key(a) && is_record_key(b));
        if !valid {
            return Err(AppError::NotFound);
        }
        let row = repo::mentorship(&state.db, key).await?;
        for_party(row, |m| [&m.mentor, &m.learner], who)
    }

    /// A session the caller takes part in.
    pub async fn visible_booking(
        state: &AppState,
        id: &str,
        who: &Authenticated,
    ) -> Result<BookingRow, AppError> {
        if !is_record_key(id) {
            return Err(AppError::NotFound);
        }
        let row = repo::booking(&state.db, id).await?;
        for_party(row, |b| [&b.mentor, &b.learner], who)
    }

    pub fn booking_view(
        state: &AppState,
        b: BookingRow,
        viewer: &str,
        reader: Tz,
        feedback: &[repo::FeedbackRow],
    ) -> BookingView {
        let now = state.clock.now();
        let cancelled = b.state != "booked";
        let fb = |pred: &dyn Fn(&repo::FeedbackRow) -> bool| {
            feedback.iter().find(|f| pred(f)).map(|f| FeedbackView {
                stars: u8::try_from(f.stars).unwrap_or(0),
                comment: f.comment.clone(),
                author_name: f.author_name.clone(),
            })
        };
        BookingView {
            my_feedback: fb(&|f| f.author == viewer),
            their_feedback: fb(&|f| {
                f.author != viewer && (b.mentor == viewer || b.learner == viewer)
            }),
            join_open: !cancelled
                && now >= b.starts_at - chrono::Duration::minutes(JOIN_EARLY_MINUTES)
                && now < b.ends_at,
            started: now >= b.starts_at || b.joined.iter().any(|u| u == viewer),
            ended: now >= b.ends_at,
            can_change: !cancelled && now + state.mentoring.change_notice <= b.starts_at,
            viewer_is_mentor: b.mentor == viewer,
            label: when(b.starts_at, reader),
            zone: reader.name().to_string(),
            start: b.starts_at.to_rfc3339(),
            end: b.ends_at.to_rfc3339(),
            cancelled,
            id: b.id,
            mentorship: b.mentorship,
            mentor_id: b.mentor,
            mentor_name: b.mentor_name,
            learner_id: b.learner,
            learner_name: b.learner_name,
            room: b.room,
        }
    }

    /// The starts a learner can book with this mentor now: inside the mentor's windows,
    /// after the booking notice, within the horizon, clear of both people's sessions.
    pub async fn free_starts(
        state: &AppState,
        mentor: &MentorRow,
        learner: &str,
        ignore_booking: Option<&str>,
    ) -> Result<Vec<DateTime<Utc>>, AppError> {
        let now = state.clock.now();
        let from = now + state.mentoring.booking_notice;
        let until = now + chrono::Duration::days(BOOKING_HORIZON_DAYS);
        let mut busy = Vec::new();
        for user in [mentor.id.as_str(), learner] {
            for b in repo::bookings_of(&state.db, user, now, false).await? {
                if Some(b.id.as_str()) != ignore_booking {
                    busy.push((b.starts_at, b.ends_at));
                }
            }
        }
        Ok(open_slots(
            &availability(mentor),
            u32::try_from(mentor.session_minutes).unwrap_or(60),
            from,
            until,
            &busy,
        ))
    }

    /// A start the form sent back, accepted only if it is one of the free starts now.
    pub fn chosen_start(raw: &str, free: &[DateTime<Utc>]) -> Result<DateTime<Utc>, AppError> {
        let t = DateTime::parse_from_rfc3339(raw.trim())
            .map_err(|_| AppError::from(Problem::SlotUnavailable))?
            .with_timezone(&Utc);
        if free.contains(&t) {
            Ok(t)
        } else {
            Err(Problem::SlotUnavailable.into())
        }
    }

    pub fn star_count(raw: &str) -> Result<u8, AppError> {
        raw.trim()
            .parse::<u8>()
            .ok()
            .filter(|s| (1..=5).contains(s))
            .ok_or_else(|| Problem::StarsInvalid.into())
    }

    pub fn bounded_text(raw: &str, max: usize, too_long: Problem) -> Result<String, AppError> {
        let t = raw.trim().replace("\r\n", "\n");
        if t.chars().count() > max {
            Err(too_long.into())
        } else {
            Ok(t)
        }
    }
}

#[cfg(feature = "ssr")]
use backend::*;

/// The caller's mentor settings (for the form), with their zone.
#[server(endpoint = "my_mentor_settings")]
pub async fn my_mentor_settings() -> Result<MentorSettingsView, AppError> {
    let state = AppState::get()?;
    let who = require_role(Role::Mentor).await?;
    let me = &who.user.id.0;
    let tz = repo::zone_of(&state.db, me).await?;
    let has_skills = repo::mentor(&state.db, me)
        .await?
        .is_some_and(|m| !m.skills.0.is_empty());
    Ok(match repo::mentor_settings(&state.db, me).await? {
        Some(s) => MentorSettingsView {
            headline: s.headline,
            capacity: u32::try_from(s.capacity).unwrap_or(1),
            session_minutes: u32::try_from(s.session_minutes).unwrap_or(60),
            windows: format_windows(&stored_windows(&s.windows)),
            paused: s.paused,
            timezone: tz,
            has_skills,
        },
        None => MentorSettingsView {
            capacity: 3,
            session_minutes: 60,
            timezone: tz,
            ..Default::default()
        },
    })
}

/// Saves the caller's mentor settings. Pausing declines their open requests, each learner told.
#[server(endpoint = "save_mentor_settings")]
pub async fn save_mentor_settings(
    #[server(default)] headline: String,
    capacity: String,
    session_minutes: String,
    #[server(default)] windows: String,
    #[server(default)] paused: Option<String>,
) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_role(Role::Mentor).await?;
    let settings = MentorSettings::parse(
        &headline,
        &capacity,
        &session_minutes,
        &windows,
        paused.is_some(),
    )?;
    let name = &who.user.display_name;
    let message = format!("{name} has paused mentoring for now and cannot take new mentees.");
    let notice = Notice::MentorPaused {
        mentor: name.clone(),
    };
    let open_before = if settings.paused {
        repo::requests_of(&state.db, &who.user.id.0, state.clock.now())
            .await?
            .1
            .into_iter()
            .filter(|r| RequestState::parse(&r.state).is_some_and(RequestState::is_open))
            .map(|r| r.learner)
            .collect()
    } else {
        Vec::new()
    };
    repo::save_mentor_settings(
        &state.db,
        &who.user.id.0,
        &settings,
        &message,
        &notice,
        state.clock.now(),
    )
    .await?;
    state.notifier.poke(open_before.iter().map(String::as_str));
    Ok(())
}

/// The directory: active mentors, filtered by skill, language, a day they are available on
/// (in the reader's zone) and a minimum rating.
#[server(endpoint = "mentor_directory")]
pub async fn mentor_directory(
    #[server(default)] skill: String,
    #[server(default)] language: String,
    #[server(default)] day: String,
    #[server(default)] min_rating: String,
) -> Result<Vec<MentorCard>, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let reader = caller_zone(&state, &who).await?;
    let now = state.clock.now();
    let skill = skill.trim().to_lowercase();
    let language = language.trim().to_lowercase();
    let day: Option<chrono::Weekday> = day.trim().parse().ok();
    let min_rating: f64 = min_rating.trim().parse().unwrap_or(0.0);
    let mut cards: Vec<MentorCard> = repo::mentors(&state.db)
        .await?
        .iter()
        .filter(|m| !m.paused)
        .filter(|m| {
            skill.is_empty()
                || m.skills
                    .0
                    .iter()
                    .any(|s| s.name.to_lowercase().contains(&skill))
        })
        .filter(|m| {
            language.is_empty()
                || m.languages
                    .iter()
                    .any(|l| l.to_lowercase().split('-').next() == language.split('-').next())
        })
        .filter(|m| {
            day.is_none_or(|d| {
                let avail = availability(m);
                avail.utc_intervals(now).iter().any(|(s, e)| {
                    use chrono::Datelike;
                    s.with_timezone(&reader).weekday() == d
                        || e.with_timezone(&reader).weekday() == d
                })
            })
        })
        .map(card)
        .filter(|c| min_rating <= 0.0 || c.rating.is_some_and(|(avg, _)| avg >= min_rating))
        .collect();
    cards.sort_by(|a, b| {
        let r = |c: &MentorCard| {
            c.rating.map_or(0.0, |(avg, n)| {
                matching::bayesian_rating(avg * f64::from(n), n)
            })
        };
        r(b).total_cmp(&r(a)).then_with(|| a.name.cmp(&b.name))
    });
    Ok(cards)
}

/// A mentor's public page.
#[server(endpoint = "mentor_page")]
pub async fn mentor_page(id: String) -> Result<MentorPageView, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    if !is_record_key(&id) {
        return Err(AppError::NotFound);
    }
    let m = repo::mentor(&state.db, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let reader = caller_zone(&state, &who).await?;
    let me = &who.user.id.0;
    let mentorship = repo::is_mentor_of(&state.db, &m.id, me)
        .await?
        .then(|| repo::mentorship_key(&m.id, me));
    Ok(MentorPageView {
        windows_local: windows_in(&availability(&m), reader, state.clock.now()),
        viewer_zone: reader.name().to_string(),
        bio: m.bio.clone(),
        session_minutes: u32::try_from(m.session_minutes).unwrap_or(60),
        is_self: &m.id == me,
        mentorship,
        card: card(&m),
    })
}

/// What the find form starts with: the caller's profile, or a request being sent again.
#[server(endpoint = "needs_defaults")]
pub async fn needs_defaults(#[server(default)] again: String) -> Result<NeedsPrefill, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    if !again.is_empty()
        && let Ok(r) = visible_request(&state, &again, &who).await
        && r.learner == who.user.id.0
    {
        return Ok(NeedsPrefill {
            goals: r.goals,
            skills: crate::accounts::model::format_skills(&r.skills.0),
            languages: r.languages.join(", "),
            windows: format_windows(&stored_windows(&r.windows)),
            timezone: r.timezone,
            exclude: Some(r.mentor),
        });
    }
    let p = crate::accounts::repo::profile(&state.db, &who.user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(NeedsPrefill {
        goals: String::new(),
        skills: crate::accounts::model::format_skills(&p.skills),
        languages: p.languages.join(", "),
        windows: String::new(),
        timezone: p.timezone,
        exclude: None,
    })
}

/// Mentors ranked for what the learner needs, best first, each with its reasons.
#[server(endpoint = "find_mentors")]
pub async fn find_mentors(
    skills: String,
    #[server(default)] languages: String,
    windows: String,
    timezone: String,
    #[server(default)] exclude: String,
) -> Result<Vec<MentorCard>, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let needs = NeedsForm::parse("", &skills, &languages, &windows, &timezone)?;
    let rows = repo::mentors(&state.db).await?;
    let me = &who.user.id.0;
    let candidates: Vec<&MentorRow> = rows
        .iter()
        .filter(|m| &m.id != me && m.id != exclude)
        .collect();
    let all_facts: Vec<MentorFacts> = candidates.iter().map(|m| facts(m)).collect();
    let ranked = matching::rank(
        &RequestNeeds {
            skills: needs.skills.clone(),
            languages: needs.languages.clone(),
            availability: needs.availability(),
        },
        &all_facts,
        &state.mentoring.weights,
        state.clock.now(),
    );
    Ok(ranked
        .into_iter()
        .take(20)
        .filter_map(|r| {
            let m = candidates.iter().find(|m| m.id == r.mentor_id)?;
            let mut c = card(m);
            c.score = Some(r.score);
            c.reasons = matching::reasons_line(&r.reasons, initial_locale());
            Some(c)
        })
        .collect())
}

/// Sends a mentoring request; the mentor is notified and has 48 hours to answer.
#[server(endpoint = "send_request")]
pub async fn send_request(
    mentor: String,
    goals: String,
    skills: String,
    #[server(default)] languages: String,
    windows: String,
    timezone: String,
) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_verified_user().await?;
    let needs = NeedsForm::parse(&goals, &skills, &languages, &windows, &timezone)?;
    if needs.goals.is_empty() {
        return Err(Problem::GoalsEmpty.into());
    }
    if !is_record_key(&mentor) || mentor == who.user.id.0 {
        return Err(Problem::MentorUnavailable.into());
    }
    let m = repo::mentor(&state.db, &mentor)
        .await?
        .ok_or(Problem::MentorUnavailable)?;
    let f = facts(&m);
    if f.active_mentees >= f.capacity {
        return Err(Problem::MentorFull.into());
    }
    let now = state.clock.now();
    let ranked = matching::rank(
        &RequestNeeds {
            skills: needs.skills.clone(),
            languages: needs.languages.clone(),
            availability: needs.availability(),
        },
        std::slice::from_ref(&f),
        &state.mentoring.weights,
        now,
    );
    let reasons = ranked
        .first()
        .map(|r| matching::stored_reasons(&r.reasons))
        .unwrap_or_default();
    let notice = Notice::RequestReceived {
        learner: who.user.display_name.clone(),
        goals: needs.goals.chars().take(80).collect(),
    };
    repo::create_request(
        &state.db,
        &who.user.id.0,
        &mentor,
        &needs,
        &reasons,
        &notice,
        now,
        chrono::Duration::hours(REQUEST_TTL_HOURS),
    )
    .await?;
    state.notifier.poke([mentor.as_str()]);
    leptos_axum::redirect("/mentoring?sent=1");
    Ok(())
}

/// One request, as its learner or its mentor sees it. Reading changes nothing: the mentor's
/// page marks it seen with [`mark_request_viewed`] once it runs in their browser.
#[server(endpoint = "get_request")]
pub async fn get_request(id: String) -> Result<RequestView, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let r = visible_request(&state, &id, &who).await?;
    let now = state.clock.now();
    let reader = caller_zone(&state, &who).await?;
    Ok(request_view(r, &who.user.id.0, reader, now))
}

/// The mentor has opened the request: `sent` → `viewed`, and the learner is told (once). A
/// POST the request page sends after it loads, so that a link preview, a prefetch or a
/// crawler fetching the page never marks it seen.
#[server(endpoint = "mark_request_viewed")]
pub async fn mark_request_viewed(id: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let r = visible_request(&state, &id, &who).await?;
    if r.mentor != who.user.id.0 {
        return Err(AppError::Forbidden);
    }
    if r.state == "sent" {
        let notice = Notice::RequestSeen {
            mentor: who.user.display_name.clone(),
        };
        repo::mark_viewed(&state.db, &r.id, &notice, state.clock.now()).await?;
        state.notifier.poke([r.learner.as_str()]);
    }
    Ok(())
}

/// The mentor accepts or declines (with an optional message to the learner).
#[server(endpoint = "answer_request")]
pub async fn answer_request(
    id: String,
    accept: String,
    #[server(default)] message: String,
) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let r = visible_request(&state, &id, &who).await?;
    if r.mentor != who.user.id.0 {
        return Err(AppError::Forbidden);
    }
    let accept = match accept.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return Err(AppError::BadRequest {
                detail: "accept must be true or false".into(),
            });
        }
    };
    let message = bounded_text(&message, MAX_MESSAGE_CHARS, Problem::MessageTooLong)?;
    let name = &who.user.display_name;
    let notice = if accept {
        Notice::RequestAccepted {
            mentor: name.clone(),
        }
    } else {
        Notice::RequestDeclined {
            mentor: name.clone(),
        }
    };
    repo::answer_request(
        &state.db,
        &r.id,
        accept,
        (!message.is_empty()).then_some(message.as_str()),
        &notice,
        state.clock.now(),
    )
    .await?;
    state.notifier.poke([r.learner.as_str()]);
    if accept {
        leptos_axum::redirect(&format!(
            "/mentorships/{}",
            repo::mentorship_key(&r.mentor, &r.learner)
        ));
    }
    Ok(())
}

#[server(endpoint = "withdraw_request")]
pub async fn withdraw_request(id: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let r = visible_request(&state, &id, &who).await?;
    if r.learner != who.user.id.0 {
        return Err(AppError::Forbidden);
    }
    let notice = Notice::RequestWithdrawn {
        learner: who.user.display_name.clone(),
    };
    repo::withdraw_request(&state.db, &r.id, &notice, state.clock.now()).await?;
    state.notifier.poke([r.mentor.as_str()]);
    Ok(())
}

/// The mentoring overview: requests both ways, mentorships, upcoming sessions, the feed URL.
#[server(endpoint = "mentoring_home")]
pub async fn mentoring_home() -> Result<MentoringOverview, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let me = who.user.id.0.clone();
    let now = state.clock.now();
    let reader = caller_zone(&state, &who).await?;
    let (sent, received) = repo::requests_of(&state.db, &me, now).await?;
    let upcoming: Vec<BookingView> = repo::bookings_of(&state.db, &me, now, false)
        .await?
        .into_iter()
        .map(|b| booking_view(&state, b, &me, reader, &[]))
        .collect();
    let mentorships = repo::mentorships_of(&state.db, &me)
        .await?
        .into_iter()
        .map(|m| {
            let mentor_side = m.mentor == me;
            MentorshipSummary {
                next_session: upcoming
                    .iter()
                    .find(|b| b.mentorship == m.id)
                    .map(|b| b.label.clone()),
                other_name: if mentor_side {
                    m.learner_name
                } else {
                    m.mentor_name
                },
                viewer_is_mentor: mentor_side,
                id: m.id,
            }
        })
        .collect();
    let has_feed = repo::has_feed(&state.db, &me).await?;
    Ok(MentoringOverview {
        sent: sent
            .into_iter()
            .map(|r| request_view(r, &me, reader, now))
            .collect(),
        received: received
            .into_iter()
            .map(|r| request_view(r, &me, reader, now))
            .collect(),
        mentorships,
        upcoming,
        is_mentor: who.user.roles.contains(&Role::Mentor),
        has_calendar_feed: has_feed,
        calendar_base: format!("{}/calendar/", state.auth.public_origin),
    })
}

/// A mentorship: the free slots (for its learner), its sessions, and its questions.
#[server(endpoint = "get_mentorship")]
pub async fn get_mentorship(id: String) -> Result<MentorshipView, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let m = visible_mentorship(&state, &id, &who).await?;
    let me = &who.user.id.0;
    let reader = caller_zone(&state, &who).await?;
    let mentor = repo::mentor(&state.db, &m.mentor).await?;
    let slots = match (&mentor, m.active && &m.learner == me) {
        (Some(mentor), true) => free_starts(&state, mentor, &m.learner, None)
            .await?
            .into_iter()
            .map(|t| SlotView {
                start: t.to_rfc3339(),
                label: when(t, reader),
            })
            .collect(),
        _ => Vec::new(),
    };
    let bookings = repo::bookings_of_mentorship(&state.db, &m.id)
        .await?
        .into_iter()
        .map(|b| booking_view(&state, b, me, reader, &[]))
        .collect();
    let rows = repo::posts(&state.db, &m.id).await?;
    let post = |p: &repo::PostRow| PostView {
        id: p.id.clone(),
        author_name: p.author_name.clone(),
        body_html: crate::ui::markdown::render(&p.body),
        at: when(p.created_at, reader),
        replies: Vec::new(),
        helpful: p.helpful,
        can_mark_helpful: false,
    };
    let posts = rows
        .iter()
        .filter(|p| p.parent.is_none())
        .map(|q| {
            let mut v = post(q);
            v.replies = rows
                .iter()
                .filter(|r| r.parent.as_deref() == Some(q.id.as_str()))
                .map(|r| PostView {
                    can_mark_helpful: &q.author == me && &r.author != me && !r.helpful,
                    ..post(r)
                })
                .collect();
            v
        })
        .collect();
    Ok(MentorshipView {
        session_minutes: mentor
            .as_ref()
            .map_or(60, |x| u32::try_from(x.session_minutes).unwrap_or(60)),
        zone: reader.name().to_string(),
        viewer_is_mentor: &m.mentor == me,
        active: m.active,
        id: m.id,
        mentor_id: m.mentor,
        mentor_name: m.mentor_name,
        learner_name: m.learner_name,
        slots,
        bookings,
        posts,
    })
}

/// Ends a mentorship; either side may. See [`repo::end_mentorship`] for what goes with it.
#[server(endpoint = "end_mentorship")]
pub async fn end_mentorship(mentorship: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let m = visible_mentorship(&state, &mentorship, &who).await?;
    let me = &who.user.id.0;
    if !m.active {
        return Err(Problem::MentorshipEnded.into());
    }
    let (other, by) = if &m.mentor == me {
        (&m.learner, &m.mentor_name)
    } else {
        (&m.mentor, &m.learner_name)
    };
    let notice = Notice::MentorshipEnded { by: by.clone() };
    let rooms =
        repo::end_mentorship(&state.db, &m.id, me, other, &notice, state.clock.now()).await?;
    state.notifier.poke([other.as_str()]);
    for room in rooms {
        if let Some(live) = state.rooms.get(&room) {
            live.kick(None, crate::rooms::model::close::ROOM_CLOSED);
        }
    }
    leptos_axum::redirect("/mentoring?ended=1");
    Ok(())
}

/// Books a session with the caller's mentor; the session gets its own room.
#[server(endpoint = "book_session")]
pub async fn book_session(mentorship: String, start: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_verified_user().await?;
    let m = visible_mentorship(&state, &mentorship, &who).await?;
    if m.learner != who.user.id.0 {
        return Err(AppError::Forbidden);
    }
    if !m.active {
        return Err(Problem::NotMentored.into());
    }
    let mentor = repo::mentor(&state.db, &m.mentor)
        .await?
        .ok_or(Problem::MentorUnavailable)?;
    let free = free_starts(&state, &mentor, &m.learner, None).await?;
    let start = chosen_start(&start, &free)?;
    let end = start + chrono::Duration::minutes(mentor.session_minutes);
    let mentor_zone = zone(&mentor.timezone);
    let id = repo::create_booking(
        &state.db,
        &repo::NewBooking {
            mentorship: &m.id,
            mentor: &m.mentor,
            learner: &m.learner,
            start,
            end,
            holds: hold_keys(&[m.mentor.as_str(), m.learner.as_str()], start, end),
            room_title: format!("{} · {}", m.learner_name, local_label(start, mentor_zone)),
            notice: Notice::SessionBooked {
                learner: m.learner_name.clone(),
                at: start,
                zone: mentor_zone.name().to_string(),
            },
        },
        state.clock.now(),
    )
    .await?;
    state.notifier.poke([m.mentor.as_str()]);
    leptos_axum::redirect(&format!("/bookings/{id}"));
    Ok(())
}

/// One session as the caller sees it, with its feedback.
#[server(endpoint = "get_booking")]
pub async fn get_booking(id: String) -> Result<BookingView, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let b = visible_booking(&state, &id, &who).await?;
    let reader = caller_zone(&state, &who).await?;
    let feedback = repo::feedback_of(&state.db, &b.id).await?;
    Ok(booking_view(&state, b, &who.user.id.0, reader, &feedback))
}

/// Cancels a session (either side), no later than the minimum notice before it.
#[server(endpoint = "cancel_session")]
pub async fn cancel_session(id: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let b = visible_booking(&state, &id, &who).await?;
    let me = &who.user.id.0;
    if &b.mentor != me && &b.learner != me {
        return Err(AppError::Forbidden);
    }
    if b.state != "booked" {
        return Err(Problem::BookingCancelled.into());
    }
    if state.clock.now() + state.mentoring.change_notice > b.starts_at {
        return Err(Problem::NoticeTooShort.into());
    }
    let other = if &b.mentor == me {
        &b.learner
    } else {
        &b.mentor
    };
    let notice = Notice::SessionCancelled {
        by: who.user.display_name.clone(),
        at: b.starts_at,
        zone: repo::zone_of(&state.db, other).await?,
    };
    repo::cancel_booking(&state.db, &b.id, me, other, &notice, state.clock.now()).await?;
    state.notifier.poke([other.as_str()]);
    if let Some(live) = state.rooms.get(&b.room) {
        live.kick(None, crate::rooms::model::close::ROOM_CLOSED);
    }
    Ok(())
}

/// Moves a session to another free start (the learner chooses), within the notice.
#[server(endpoint = "reschedule_session")]
pub async fn reschedule_session(id: String, start: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_verified_user().await?;
    let b = visible_booking(&state, &id, &who).await?;
    if b.learner != who.user.id.0 {
        return Err(AppError::Forbidden);
    }
    if b.state != "booked" {
        return Err(Problem::BookingCancelled.into());
    }
    let now = state.clock.now();
    if now + state.mentoring.change_notice > b.starts_at {
        return Err(Problem::NoticeTooShort.into());
    }
    let mentor = repo::mentor(&state.db, &b.mentor)
        .await?
        .ok_or(Problem::MentorUnavailable)?;
    let free = free_starts(&state, &mentor, &b.learner, Some(&b.id)).await?;
    let start = chosen_start(&start, &free)?;
    let end = start + chrono::Duration::minutes(mentor.session_minutes);
    // Only the learner moves a session: the mentor is told, in the mentor's zone.
    let notice = Notice::SessionMoved {
        by: who.user.display_name.clone(),
        at: start,
        zone: mentor.timezone.clone(),
    };
    repo::reschedule_booking(
        &state.db,
        &b.id,
        start,
        end,
        &hold_keys(&[b.mentor.as_str(), b.learner.as_str()], start, end),
        &b.mentor,
        &notice,
        now,
    )
    .await?;
    state.notifier.poke([b.mentor.as_str()]);
    Ok(())
}

/// The starts a session could move to (for the reschedule form).
#[server(endpoint = "reschedule_options")]
pub async fn reschedule_options(id: String) -> Result<Vec<SlotView>, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let b = visible_booking(&state, &id, &who).await?;
    if b.learner != who.user.id.0 || b.state != "booked" {
        return Ok(Vec::new());
    }
    let Some(mentor) = repo::mentor(&state.db, &b.mentor).await? else {
        return Ok(Vec::new());
    };
    let reader = caller_zone(&state, &who).await?;
    Ok(free_starts(&state, &mentor, &b.learner, Some(&b.id))
        .await?
        .into_iter()
        .map(|t| SlotView {
            start: t.to_rfc3339(),
            label: when(t, reader),
        })
        .collect())
}

/// Rates a session once it has begun: the learner rates the mentor, the mentor the learner.
#[server(endpoint = "rate_session")]
pub async fn rate_session(
    id: String,
    stars: String,
    #[server(default)] comment: String,
) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let b = visible_booking(&state, &id, &who).await?;
    let me = &who.user.id.0;
    if &b.mentor != me && &b.learner != me {
        return Err(AppError::Forbidden);
    }
    if b.state != "booked" {
        return Err(Problem::BookingCancelled.into());
    }
    if state.clock.now() < b.starts_at && !b.joined.contains(me) {
        return Err(Problem::FeedbackTooEarly.into());
    }
    let stars = star_count(&stars)?;
    let comment = bounded_text(&comment, MAX_COMMENT_CHARS, Problem::CommentTooLong)?;
    let about_mentor = &b.learner == me;
    let subject = if about_mentor { &b.mentor } else { &b.learner };
    let notice = Notice::SessionRated {
        by: who.user.display_name.clone(),
        stars,
    };
    repo::rate(
        &state.db,
        &b.id,
        me,
        subject,
        about_mentor,
        stars,
        &comment,
        &notice,
        state.clock.now(),
    )
    .await?;
    state.notifier.poke([subject.as_str()]);
    Ok(())
}

/// Asks a question on a mentorship, or answers one (`parent`).
#[server(endpoint = "post_question")]
pub async fn post_question(
    mentorship: String,
    #[server(default)] parent: String,
    body: String,
) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_verified_user().await?;
    let m = visible_mentorship(&state, &mentorship, &who).await?;
    let me = &who.user.id.0;
    if &m.mentor != me && &m.learner != me {
        return Err(AppError::Forbidden);
    }
    if !m.active {
        return Err(Problem::MentorshipEnded.into());
    }
    let body = bounded_text(&body, MAX_POST_CHARS, Problem::PostTooLong)?;
    if body.is_empty() {
        return Err(Problem::PostEmpty.into());
    }
    let parent = parent.trim();
    if !parent.is_empty() && !is_record_key(parent) {
        return Err(Problem::PostEmpty.into());
    }
    let other = if &m.mentor == me {
        &m.learner
    } else {
        &m.mentor
    };
    let by = who.user.display_name.clone();
    let notice = if parent.is_empty() {
        Notice::QuestionAsked { by }
    } else {
        Notice::QuestionAnswered { by }
    };
    repo::add_post(
        &state.db,
        &m.id,
        me,
        other,
        (!parent.is_empty()).then_some(parent),
        &body,
        &notice,
        state.clock.now(),
    )
    .await?;
    state.notifier.poke([other.as_str()]);
    Ok(())
}

/// Creates (or replaces, cutting off the old address) the caller's calendar-feed address and
/// answers it. Only its hash is stored, so this is the one time it can be shown: a form
/// without JavaScript is sent back to the page with it (`/mentoring?feed=<secret>`).
#[server(endpoint = "rotate_calendar_feed")]
pub async fn rotate_calendar_feed() -> Result<String, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let token = format!("{}{}", crate::db::new_key(), crate::db::new_key());
    repo::rotate_feed(&state.db, &who.user.id.0, &token, state.clock.now()).await?;
    leptos_axum::redirect(&format!("/mentoring?feed={token}#calendar"));
    Ok(format!("{}/calendar/{token}.ics", state.auth.public_origin))
}
