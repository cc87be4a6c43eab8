//! Server functions for applying to mentor (any signed-in learner with a confirmed address)
//! and deciding applications (admins).

use leptos::prelude::*;

use crate::{
    error::AppError,
    mentoring::applications::model::{ApplyPage, PendingApplication},
};

#[cfg(feature = "ssr")]
mod backend {
    pub use crate::{
        accounts::{
            model::Role,
            session::{require_role, require_user, require_verified_user},
        },
        error::AppError,
        i18n::{initial_locale, time_label, zone_named},
        ids::{UserId, is_record_key},
        mentoring::applications::{model::*, repo},
        notify::model::Notice,
        state::{AppState, EndSockets},
    };

    /// A stored status; anything else is a broken row.
    pub fn status(raw: &str) -> Result<Status, AppError> {
        Status::parse(raw).ok_or_else(|| {
            tracing::error!(status = raw, "mentor application with an unknown status");
            AppError::Internal
        })
    }
}

#[cfg(feature = "ssr")]
use backend::*;

/// The caller's application to mentor, if any, and whether they may apply now.
#[server(endpoint = "my_mentor_application")]
pub async fn my_mentor_application() -> Result<ApplyPage, AppError> {
    let who = require_user().await?;
    let state = AppState::get()?;
    let (row, is_mentor, verified) = repo::mine(&state.db, &who.user.id).await?;
    let zone = zone_named(&crate::db::zone_of(&state.db, &who.user.id).await?);
    let application = match row {
        Some(r) => Some(MyApplication {
            status: status(&r.status)?,
            submitted: time_label(initial_locale(), r.created_at, zone),
            headline: r.headline,
            about: r.about,
            note: r.note,
        }),
        None => None,
    };
    Ok(ApplyPage {
        application,
        is_mentor,
        verified,
    })
}

/// Applies to mentor: admins are told and decide. Needs a confirmed address; refused for a
/// mentor and while an earlier application waits.
#[server(endpoint = "apply_to_mentor")]
pub async fn apply_to_mentor(
    #[server(default)] headline: String,
    #[server(default)] about: String,
) -> Result<(), AppError> {
    let who = require_verified_user().await?;
    let state = AppState::get()?;
    let application = Application::parse(&headline, &about)?;
    let admins = repo::apply(
        &state.db,
        &who.user.id,
        &application.headline,
        &application.about,
        &Notice::MentorApplied {
            by: who.user.display_name.clone(),
        },
        state.clock.now(),
    )
    .await?;
    // Admins connected now see their badge change.
    state.notifier.poke(admins.iter().map(String::as_str));
    leptos_axum::redirect("/mentoring/apply");
    Ok(())
}

/// Applications waiting for an answer (admins).
#[server(endpoint = "mentor_applications")]
pub async fn mentor_applications() -> Result<Vec<PendingApplication>, AppError> {
    let admin = require_role(Role::Admin).await?;
    let state = AppState::get()?;
    let zone = zone_named(&crate::db::zone_of(&state.db, &admin.user.id).await?);
    Ok(repo::pending(&state.db)
        .await?
        .into_iter()
        .map(|r| PendingApplication {
            submitted: time_label(initial_locale(), r.created_at, zone),
            user_id: r.user_id,
            name: r.name,
            email: r.email,
            headline: r.headline,
            about: r.about,
        })
        .collect())
}

/// Approves (the mentor role is granted) or declines (with an optional note) a waiting
/// application; the applicant is told in their language. Admins only.
#[server(endpoint = "decide_mentor_application")]
pub async fn decide_mentor_application(
    user_id: String,
    decision: String,
    #[server(default)] note: String,
) -> Result<(), AppError> {
    let admin = require_role(Role::Admin).await?;
    let state = AppState::get()?;
    if !is_record_key(user_id.trim()) {
        return Err(AppError::NotFound);
    }
    let user = UserId(user_id.trim().to_string());
    let decision = Decision::parse(&decision, &note)?;
    let (approve, note, told) = match decision {
        Decision::Approve => (true, String::new(), Notice::MentorApproved),
        Decision::Decline { note } => (false, note.clone(), Notice::MentorDeclined { note }),
    };
    repo::decide(
        &state.db,
        &user,
        &admin.user.id,
        approve,
        &note,
        &told,
        state.clock.now(),
    )
    .await?;
    if approve {
        // Their sessions and sockets were authorised with the old roles.
        state.sessions.forget_user(&user);
        state.live_sockets.end(&user.0, EndSockets::All);
    } else {
        state.notifier.poke([user.0.as_str()]);
    }
    Ok(())
}
