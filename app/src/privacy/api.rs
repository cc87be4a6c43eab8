//! Privacy server functions. The export itself is a plain download (the server's
//! `POST /account/export`), not a server function.

use leptos::prelude::*;

use crate::{error::AppError, privacy::retention::Retention};

/// How long this server keeps short-lived personal data (for the privacy page).
#[server(endpoint = "retention_policy")]
pub async fn retention_policy() -> Result<Retention, AppError> {
    Ok(crate::state::AppState::get()?.retention)
}

/// Deletes the caller's account after checking their password and that they ticked the
/// confirmation: erased as `privacy::rules` says, signed out everywhere, every live
/// connection closed.
#[server(endpoint = "delete_account")]
pub async fn delete_account(
    password: String,
    #[server(default)] confirm: String,
) -> Result<(), AppError> {
    use crate::{
        accounts::{
            repo as accounts_repo,
            session::{self, require_user},
        },
        error::Problem,
        privacy::repo,
        rooms::model::close,
        state::{AppState, EndSockets},
    };
    let state = AppState::get()?;
    let who = require_user().await?;
    if confirm.trim() != "yes" {
        return Err(Problem::DeleteNotConfirmed.into());
    }
    let stored = accounts_repo::password_hash(&state.db, &who.user.id).await?;
    if !state.hasher.verify(&password, stored).await? {
        return Err(Problem::WrongCurrentPassword.into());
    }
    repo::erase(
        &state.db,
        &who.user.id,
        repo::Erasure::Requested,
        state.clock.now(),
    )
    .await?;
    // Sessions are gone from the database; what this process remembers goes too, and every
    // socket of the account (pages, rooms) is closed now rather than at its next check.
    state.sessions.forget_user(&who.user.id);
    state.live_sockets.end(&who.user.id.0, EndSockets::All);
    state.rooms.kick_everywhere(&who.user.id.0, close::REMOVED);
    // Names in the forum's index change to "deleted user".
    let (db, forum) = (state.db.clone(), state.forum.clone());
    tokio::spawn(async move {
        if let Err(e) = forum.rebuild(&db).await {
            tracing::error!(error = ?e, "forum index after an account was erased");
        }
    });
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.append_header(http::header::SET_COOKIE, session::clear_cookie(&state.auth));
    }
    leptos_axum::redirect("/privacy?deleted=1");
    Ok(())
}
