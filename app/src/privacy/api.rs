//! Privacy server functions. The export itself is a plain download (the server's
//! `POST /account/export`), not a server function.

use leptos::prelude::*;

use crate::{
    error::AppError,
    privacy::{legal::LegalTextView, retention::Retention},
};

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
    // Names in the forum's index change to "deleted user", and the courses the person took
    // count one learner (and maybe one rating) less in the catalog.
    let (db, forum, catalog) = (state.db.clone(), state.forum.clone(), state.catalog.clone());
    tokio::spawn(async move {
        if let Err(e) = forum.rebuild(&db).await {
            tracing::error!(error = ?e, "forum index after an account was erased");
        }
        if let Err(e) = catalog.rebuild(&db).await {
            tracing::error!(error = ?e, "catalog index after an account was erased");
        }
    });
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.append_header(http::header::SET_COOKIE, session::clear_cookie(&state.auth));
    }
    leptos_axum::redirect("/privacy?deleted=1");
    Ok(())
}

#[cfg(feature = "ssr")]
async fn newest(
    state: &crate::state::AppState,
    kind: crate::privacy::legal::LegalKind,
) -> Result<LegalTextView, AppError> {
    use crate::{
        i18n::{initial_locale, time_label, zone_named},
        privacy::repo,
        ui::markdown,
    };
    let row = repo::latest_legal(&state.db, kind.key())
        .await?
        .ok_or(AppError::NotFound)?;
    let locale = initial_locale();
    let shown = match (&row.body_zh, locale) {
        (Some(zh), crate::i18n::Locale::ZhHans) => zh.as_str(),
        _ => row.body.as_str(),
    };
    Ok(LegalTextView {
        kind,
        version: row.version,
        body_html: markdown::render(shown),
        body: row.body,
        body_zh: row.body_zh.unwrap_or_default(),
        published: time_label(locale, row.published_at, zone_named("UTC")),
    })
}

/// The newest terms of use (`kind` = `terms`) or privacy notice (`privacy`), for anyone.
#[server(endpoint = "legal_text")]
pub async fn legal_text(kind: String) -> Result<LegalTextView, AppError> {
    use crate::privacy::legal::LegalKind;
    let state = crate::state::AppState::get()?;
    let kind = LegalKind::parse(&kind).ok_or(AppError::NotFound)?;
    newest(&state, kind).await
}

/// Both texts, for the admins' page that publishes new versions of them.
#[server(endpoint = "admin_legal_texts")]
pub async fn admin_legal_texts() -> Result<Vec<LegalTextView>, AppError> {
    use crate::{
        accounts::{model::Role, session::require_role},
        privacy::legal::LegalKind,
    };
    require_role(Role::Admin).await?;
    let state = crate::state::AppState::get()?;
    let mut all = Vec::new();
    for kind in LegalKind::ALL {
        all.push(newest(&state, kind).await?);
    }
    Ok(all)
}

/// Publishes a new version of the terms or the privacy notice (admins), in English and
/// optionally Simplified Chinese, audited.
#[server(endpoint = "publish_legal_text")]
pub async fn publish_legal_text(
    kind: String,
    body: String,
    #[server(default)] body_zh: String,
) -> Result<i64, AppError> {
    use crate::{
        accounts::{model::Role, session::require_role},
        privacy::{
            legal::{LegalBody, LegalKind},
            repo,
        },
        state::AppState,
    };
    let admin = require_role(Role::Admin).await?;
    let state = AppState::get()?;
    let kind = LegalKind::parse(&kind).ok_or(AppError::NotFound)?;
    let body = LegalBody::parse(&body)?;
    // The Chinese text is optional: readers in Chinese get the English one without it.
    let body_zh = match body_zh.trim() {
        "" => None,
        zh => Some(LegalBody::parse(zh)?),
    };
    repo::publish_legal(
        &state.db,
        kind.key(),
        body.as_str(),
        body_zh.as_ref().map(LegalBody::as_str),
        &admin.user.id,
        state.clock.now(),
    )
    .await
}
