//! The mentoring background work, run every few seconds by the server (and safe to run on
//! several app servers at once: every step is a conditional write that happens once):
//! expiring requests after 48 hours, and reminders 24 hours and 15 minutes before a session.
//! The notification mailer (`notify::jobs`) runs in the same round.

use chrono::Duration;

use crate::{
    error::AppError,
    mentoring::repo,
    notify::model::{Notice, Soon},
    state::AppState,
};

/// One round of every job. Errors are returned after trying the others.
pub async fn run_once(state: &AppState) -> Result<(), AppError> {
    let a = expire_requests(state).await;
    let b = remind(state).await;
    let c = crate::notify::jobs::mail(state).await;
    a.and(b).and(c)
}

async fn expire_requests(state: &AppState) -> Result<(), AppError> {
    let now = state.clock.now();
    for r in repo::due_requests(&state.db, now).await? {
        let to_learner = Notice::RequestExpired {
            mentor: r.mentor_name.clone(),
        };
        let to_mentor = Notice::RequestLapsed {
            learner: r.learner_name.clone(),
        };
        repo::expire_request(&state.db, &r.id, &to_learner, &to_mentor, now).await?;
        state.notifier.poke([r.learner.as_str(), r.mentor.as_str()]);
    }
    Ok(())
}

async fn remind(state: &AppState) -> Result<(), AppError> {
    let now = state.clock.now();
    // The 15-minute reminder first: a session booked 10 minutes ahead gets only that one.
    for (soon, within) in [
        (Soon::Minutes15, Duration::minutes(15)),
        (Soon::Hours24, Duration::hours(24)),
    ] {
        let tag = match soon {
            Soon::Minutes15 => "15m",
            Soon::Hours24 => "24h",
        };
        for b in repo::due_reminders(&state.db, now, within, tag).await? {
            if soon == Soon::Hours24 && b.reminded.iter().any(|t| t == "15m") {
                continue;
            }
            // Each person reads the time in their own zone.
            let to_mentor = Notice::SessionSoon {
                with: b.learner_name.clone(),
                at: b.starts_at,
                zone: repo::zone_of(&state.db, &b.mentor).await?,
                soon,
            };
            let to_learner = Notice::SessionSoon {
                with: b.mentor_name.clone(),
                at: b.starts_at,
                zone: repo::zone_of(&state.db, &b.learner).await?,
                soon,
            };
            repo::remind(&state.db, &b, tag, &to_mentor, &to_learner, now).await?;
            state.notifier.poke([b.mentor.as_str(), b.learner.as_str()]);
        }
    }
    Ok(())
}
