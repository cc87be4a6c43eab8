//! Notification server functions: the caller's notifications in the language of the page
//! that asks, marking them read, and the e-mail choice per kind.
// The e-mail form posts one plain field per kind (it works without JavaScript), so its server
// function takes one argument per kind, in the server and the browser build alike.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::{
    error::AppError,
    notify::model::{EmailPrefsView, NotificationView},
};

#[cfg(feature = "ssr")]
use crate::{
    accounts::session::require_user,
    i18n::{initial_locale, time_label, zone_named},
    ids::is_record_key,
    notify::{
        model::{EmailMode, NoticeKind, email_mode},
        repo, text,
    },
    state::AppState,
};

/// The caller's latest notifications and how many are unread. Each is rendered now, in the
/// language this page is shown in, whatever language its sender used.
#[server(endpoint = "get_notifications")]
pub async fn get_notifications() -> Result<(Vec<NotificationView>, u32), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let locale = initial_locale();
    let (rows, zone) = repo::notifications(&state.db, &who.user.id).await?;
    let tz = zone_named(&zone);
    let list = rows
        .into_iter()
        .map(|n| NotificationView {
            text: text::render(&n.notice(), locale),
            when: time_label(locale, n.created_at, tz),
            id: n.id,
            link: n.link,
            read: n.read,
            created_at: n.created_at.to_rfc3339(),
        })
        .collect();
    let unread = repo::unread_count(&state.db, &who.user.id).await?;
    Ok((list, u32::try_from(unread).unwrap_or(u32::MAX)))
}

#[server(endpoint = "mark_notifications_read")]
pub async fn mark_notifications_read() -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    repo::mark_all_read(&state.db, &who.user.id).await?;
    state.notifier.poke([who.user.id.0.as_str()]);
    Ok(())
}

/// Marks one of the caller's notifications read.
#[server(endpoint = "mark_notification_read")]
pub async fn mark_notification_read(id: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    if !is_record_key(&id) {
        return Err(AppError::NotFound);
    }
    repo::mark_read(&state.db, &who.user.id, &id).await?;
    state.notifier.poke([who.user.id.0.as_str()]);
    Ok(())
}

/// The caller's e-mail choice per notification kind.
#[server(endpoint = "get_email_prefs")]
pub async fn get_email_prefs() -> Result<EmailPrefsView, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let prefs = repo::email_prefs(&state.db, &who.user.id).await?;
    Ok(EmailPrefsView {
        modes: NoticeKind::ALL
            .into_iter()
            .map(|k| (k, email_mode(&prefs, k)))
            .collect(),
    })
}

/// Saves the e-mail choices: one field per kind, `immediate` / `daily` / `off` (a kind left
/// out keeps its default).
#[server(endpoint = "save_email_prefs")]
pub async fn save_email_prefs(
    #[server(default)] request: String,
    #[server(default)] booking: String,
    #[server(default)] reminder: String,
    #[server(default)] feedback: String,
    #[server(default)] question: String,
    #[server(default)] review: String,
    #[server(default)] room: String,
    #[server(default)] badge: String,
    #[server(default)] forum: String,
    #[server(default)] mention: String,
) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let given = [
        request, booking, reminder, feedback, question, review, room, badge, forum, mention,
    ];
    let mut prefs = Vec::new();
    for (kind, raw) in NoticeKind::ALL.into_iter().zip(given) {
        let mode = if raw.is_empty() {
            kind.default_mode()
        } else {
            EmailMode::parse(&raw).ok_or_else(|| AppError::BadRequest {
                detail: format!(
                    "unknown e-mail choice “{raw}” for {}: use immediate, daily or off",
                    kind.key()
                ),
            })?
        };
        prefs.push(format!("{}={}", kind.key(), mode.key()));
    }
    repo::save_email_prefs(&state.db, &who.user.id, prefs).await
}
