//! Progress server functions. A learner's dashboard is seen by the learner, their current
//! mentors and admins; the mentor dashboard by mentors (about their own mentees); analytics
//! and the score weights by admins.

use leptos::prelude::*;

use crate::{
    error::AppError,
    progress::model::{AnalyticsView, LeaderboardView, LearnerProgress, MentorProgress},
};

#[cfg(feature = "ssr")]
mod backend {
    pub use chrono::{Duration, NaiveDate};
    pub use std::collections::BTreeMap;

    pub use crate::{
        accounts::{
            model::Role,
            session::{require_role, require_user},
        },
        error::Problem,
        ids::is_record_key,
        progress::{
            engage::{self, Standing},
            model::*,
            repo::{self, WeightsRow},
            score::Weights,
            service::{self, day_of, per_day, per_week, weights_of},
        },
        state::AppState,
    };
    // One definition of "is an admin" for every feature's access checks.
    pub use crate::mentoring::api::backend::is_admin;

    pub fn since(today: NaiveDate, range: Range) -> NaiveDate {
        today - Duration::days(i64::from(range.days()) - 1)
    }

    /// Mean score per day over a learner's courses.
    pub fn mean_per_day<'a>(rows: impl Iterator<Item = &'a repo::TrendRow>) -> Vec<Point> {
        let mut days: BTreeMap<&str, (f64, u32)> = BTreeMap::new();
        for r in rows {
            if let Some(s) = r.score {
                let d = days.entry(r.day.as_str()).or_default();
                d.0 += s;
                d.1 += 1;
            }
        }
        days.into_iter()
            .map(|(day, (sum, n))| Point {
                label: day.to_string(),
                value: sum / f64::from(n),
            })
            .collect()
    }

    pub fn mean(values: &[f64]) -> Option<f64> {
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    }
}

#[cfg(feature = "ssr")]
use backend::*;

/// A learner's dashboard. `learner` empty means the caller's own; someone else's is shown to
/// their current mentors and to admins, and refused to everyone else.
#[server(endpoint = "learner_dashboard")]
pub async fn learner_dashboard(
    #[server(default)] learner: String,
    #[server(default)] days: String,
) -> Result<LearnerProgress, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let me = who.user.id.0.clone();
    let learner = match learner.trim() {
        "" => me.clone(),
        id if is_record_key(id) => id.to_string(),
        _ => return Err(AppError::NotFound),
    };
    let own = learner == me;
    // A mentor's access lasts while both the mentorship and their mentor role do.
    let allowed = own
        || is_admin(&who)
        || (crate::accounts::model::Capabilities::can_mentor(who.user.roles.as_slice())
            && repo::mentees(&state.db, &me)
                .await?
                .iter()
                .any(|m| m.learner == learner));
    if !allowed {
        return Err(AppError::Forbidden);
    }
    let range = Range::parse(&days);
    let now = state.clock.now();
    let today = now.date_naive();
    // Reads only, in one query: the learner's aggregates, snapshots, points and badges (awards
    // are brought up to date by the writes that earn them and by the jobs, never by looking).
    let from = since(today, range).format("%Y-%m-%d").to_string();
    let facts = repo::dashboard(&state.db, &learner, &from)
        .await?
        .ok_or(AppError::NotFound)?;
    let courses = service::course_scores(&state, &learner, &facts.agg, facts.trends);
    let repo::DashboardFacts {
        name,
        opted_out,
        awards,
        badges,
        wanted,
        mentors,
        ..
    } = facts;

    let mut dash = LearnerProgress {
        learner: learner.clone(),
        name,
        own,
        range_days: range.days(),
        courses,
        points_total: 0,
        points_week: 0,
        weekly_streak: 0,
        badges: Vec::new(),
        courses_next: Vec::new(),
        mentors_next: Vec::new(),
        points_by_week: Vec::new(),
        leaderboard_opt_out: false,
    };
    // Points and badges are shown to the learner (and their mentors); recommendations only to
    // the learner.
    let week = engage::week_start(today);
    dash.points_total = awards
        .iter()
        .map(|a| u32::try_from(a.points).unwrap_or(0))
        .sum();
    dash.points_week = awards
        .iter()
        .filter(|a| a.at.date_naive() >= week)
        .map(|a| u32::try_from(a.points).unwrap_or(0))
        .sum();
    let days: Vec<NaiveDate> = awards.iter().map(|a| a.at.date_naive()).collect();
    dash.weekly_streak = engage::weekly_streak(&days, today);
    dash.points_by_week = per_week(
        awards.iter().map(|a| (a.at.date_naive(), a.points as f64)),
        today,
        12,
    );
    dash.badges = engage::BADGES
        .iter()
        .map(|b| BadgeView {
            key: b.key.to_string(),
            earned_on: badges
                .iter()
                .find(|e| e.badge == b.key)
                .map(|e| day_of(e.at)),
        })
        .collect();
    if own {
        dash.leaderboard_opt_out = opted_out;
        let model = state.recommender.get(&state).await?;
        let enrolled: Vec<String> = dash.courses.iter().map(|c| c.course.clone()).collect();
        dash.courses_next = model.courses_for(&learner, &enrolled, &wanted, 4);
        dash.mentors_next = model.mentors_for(&learner, &enrolled, &mentors, 3);
    }
    Ok(dash)
}

/// The mentor's view of their mentees and of their own effectiveness.
#[server(endpoint = "mentor_dashboard")]
pub async fn mentor_dashboard(#[server(default)] days: String) -> Result<MentorProgress, AppError> {
    let state = AppState::get()?;
    let who = require_role(Role::Mentor).await?;
    let me = &who.user.id.0;
    let range = Range::parse(&days);
    let now = state.clock.now();
    let today = now.date_naive();
    let mentees = repo::mentees(&state.db, me).await?;
    let ids: Vec<String> = mentees.iter().map(|m| m.learner.clone()).collect();
    let from = since(today, range).format("%Y-%m-%d").to_string();
    let trends = repo::trends(&state.db, &ids, &from).await?;
    let mut rows = Vec::with_capacity(mentees.len());
    let today_label = day_of(now);
    for m in mentees {
        let theirs: Vec<&repo::TrendRow> = trends.iter().filter(|t| t.user == m.learner).collect();
        let trend = mean_per_day(theirs.iter().copied());
        let baseline = repo::first_day_from(&state.db, &m.learner, &day_of(m.started_at)).await?;
        let now_rows: Vec<&repo::TrendRow> = theirs
            .iter()
            .copied()
            .filter(|t| t.day == today_label)
            .collect();
        let score = mean(&now_rows.iter().filter_map(|t| t.score).collect::<Vec<_>>());
        // Per course present on both days, then averaged: a course joined since (scoring
        // near 0) or left does not count as a loss.
        let per_course: Vec<f64> = now_rows
            .iter()
            .filter_map(|t| {
                let then = baseline.iter().find(|b| b.course == t.course)?.score?;
                Some(t.score? - then)
            })
            .collect();
        rows.push(MenteeRow {
            learner: m.learner,
            name: m.name,
            score,
            change: mean(&per_course),
            trend,
        });
    }
    let changes: Vec<f64> = rows.iter().filter_map(|r| r.change).collect();
    let facts = repo::mentor_facts(&state.db, me, now).await?;
    let stars: Vec<f64> = facts.stars.iter().map(|s| *s as f64).collect();
    Ok(MentorProgress {
        range_days: range.days(),
        mentees: rows,
        average_change: mean(&changes),
        rating: mean(&stars),
        ratings: u32::try_from(stars.len()).unwrap_or(u32::MAX),
        sessions_held: u32::try_from(facts.sessions.len()).unwrap_or(u32::MAX),
        sessions_by_week: per_week(
            facts.sessions.iter().map(|s| (s.date_naive(), 1.0)),
            today,
            12,
        ),
    })
}

/// Platform analytics for admins, with the lesson funnel of one course (`course` is its slug;
/// empty: the course with the most learners) and every course's score weights.
#[server(endpoint = "analytics")]
pub async fn analytics(
    #[server(default)] days: String,
    #[server(default)] course: String,
) -> Result<AnalyticsView, AppError> {
    let state = AppState::get()?;
    require_role(Role::Admin).await?;
    let range = Range::parse(&days);
    let now = state.clock.now();
    let today = now.date_naive();
    let from = since(today, range);
    let start = from
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now);
    let facts = repo::platform_facts(&state.db, start, now).await?;
    let mut active: Vec<(&str, &str)> = facts
        .active
        .iter()
        .map(|d| (d.day.as_str(), d.user.as_str()))
        .collect();
    active.sort_unstable();
    active.dedup();
    let n = range.days();
    let courses = repo::courses_with_weights(&state.db).await?;
    let chosen = courses
        .iter()
        .find(|c| c.slug == course.trim())
        .or_else(|| courses.iter().max_by_key(|c| c.enrolled_count));
    let funnel = match chosen {
        Some(c) => {
            let (lessons, done, enrolled) = repo::funnel(&state.db, &c.course).await?;
            Some(Funnel {
                slug: c.slug.clone(),
                title: c.title.clone(),
                enrolled: u32::try_from(enrolled.max(0)).unwrap_or(0),
                lessons: lessons
                    .into_iter()
                    .map(|l| Point {
                        value: done.iter().filter(|d| **d == l.lesson).count() as f64,
                        label: l.title,
                    })
                    .collect(),
            })
        }
        None => None,
    };
    Ok(AnalyticsView {
        range_days: n,
        active_users: per_day(active.iter().map(|(d, _)| *d), today, n),
        enrolments: per_day(facts.enrolments.iter().map(String::as_str), today, n),
        gradings: per_day(facts.gradings.iter().map(String::as_str), today, n),
        sessions: per_day(facts.sessions.iter().map(String::as_str), today, n),
        funnel,
        courses: courses
            .into_iter()
            .map(|c| {
                let w = weights_of(c.weights.as_ref());
                use crate::progress::score::Measure;
                CourseWeights {
                    custom: c.weights.is_some(),
                    course: c.course,
                    slug: c.slug,
                    title: c.title,
                    watched: w.get(Measure::Watched),
                    passed: w.get(Measure::Passed),
                    feedback: w.get(Measure::Feedback),
                }
            })
            .collect(),
    })
}

/// Sets a course's α, β, γ (each a number in [0, 1], not all 0), or back to the defaults
/// with `reset`. Scores use them from the next view; past snapshots keep what they were.
#[server(endpoint = "set_course_weights")]
pub async fn set_course_weights(
    course: String,
    #[server(default)] watched: String,
    #[server(default)] passed: String,
    #[server(default)] feedback: String,
    #[server(default)] reset: Option<String>,
) -> Result<(), AppError> {
    let state = AppState::get()?;
    require_role(Role::Admin).await?;
    if !is_record_key(course.trim()) {
        return Err(AppError::NotFound);
    }
    let weights = if reset.is_some() {
        None
    } else {
        let num = |s: &str| {
            s.trim()
                .replace(',', ".")
                .parse::<f64>()
                .unwrap_or(f64::NAN)
        };
        let w = Weights::new(num(&watched), num(&passed), num(&feedback))
            .map_err(|_| AppError::from(Problem::WeightsInvalid))?;
        use crate::progress::score::Measure;
        Some(WeightsRow {
            watched: w.get(Measure::Watched),
            passed: w.get(Measure::Passed),
            feedback: w.get(Measure::Feedback),
        })
    };
    if repo::set_weights(&state.db, course.trim(), weights).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The week's (or all time's) top ten, and the reader's own place.
#[server(endpoint = "leaderboard")]
pub async fn leaderboard(#[server(default)] period: String) -> Result<LeaderboardView, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let period = Period::parse(&period);
    let now = state.clock.now();
    let since = match period {
        Period::Week => engage::week_start(now.date_naive())
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc()),
        Period::AllTime => None,
    };
    let rows = repo::points_since(&state.db, since).await?;
    let ranked = engage::rank(
        rows.into_iter()
            .map(|r| (r.user, r.name, u32::try_from(r.points).unwrap_or(0)))
            .collect(),
    );
    let opted_out = repo::opted_out(&state.db, &who.user.id.0).await?;
    // Shown below the ten when the reader is not among them (a tie can put rank 10 at
    // position 12, so it is the position that counts).
    let me = ranked
        .iter()
        .position(|s| s.user == who.user.id.0)
        .filter(|i| *i >= 10)
        .map(|i| ranked[i].clone());
    let top: Vec<Standing> = ranked.into_iter().take(10).collect();
    Ok(LeaderboardView {
        period,
        top,
        me,
        opted_out,
    })
}

/// Shows or hides the caller on the leaderboards (`hide` present: hide).
#[server(endpoint = "set_leaderboard_visibility")]
pub async fn set_leaderboard_visibility(
    #[server(default)] hide: Option<String>,
) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    repo::set_opted_out(&state.db, &who.user.id.0, hide.is_some()).await
}

/// Marks an answer in a mentorship's questions helpful: only the person who asked may.
#[server(endpoint = "mark_helpful")]
pub async fn mark_helpful(post: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    if !is_record_key(post.trim()) {
        return Err(AppError::NotFound);
    }
    repo::mark_helpful(&state.db, post.trim(), &who.user.id.0, state.clock.now()).await
}
