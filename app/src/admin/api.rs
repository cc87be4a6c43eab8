//! Admin server functions: every one needs the admin role. Suspending, lifting a suspension
//! and ending a session take effect at once: the sessions go in the same transaction as the
//! change, this process forgets them, and the person's open connections are closed.

use leptos::prelude::*;

use crate::{
    admin::model::{AuditPage, UserDetail, UserSearch},
    error::AppError,
};

#[cfg(feature = "ssr")]
mod backend {
    pub use crate::{
        accounts::{
            model::Role,
            session::{Authenticated, require_role},
        },
        admin::{model::*, repo},
        error::AppError,
        i18n::{Locale, initial_locale, time_label, zone_named},
        ids::UserId,
        state::AppState,
    };

    /// Dates as the admin reads them: their language, their time zone.
    pub struct AdminClock {
        pub locale: Locale,
        pub zone: chrono_tz::Tz,
    }

    impl AdminClock {
        pub async fn of(state: &AppState, admin: &Authenticated) -> Result<Self, AppError> {
            Ok(Self {
                locale: initial_locale(),
                zone: zone_named(&crate::db::zone_of(&state.db, &admin.user.id).await?),
            })
        }

        pub fn label(&self, at: chrono::DateTime<chrono::Utc>) -> String {
            time_label(self.locale, at, self.zone)
        }
    }

    pub fn roles(keys: Vec<String>) -> Vec<Role> {
        keys.iter().filter_map(|k| Role::parse(k)).collect()
    }

    pub fn audit_item(row: repo::AuditRow, clock: &AdminClock) -> AuditItem {
        let person = |id: Option<String>, name: Option<String>| {
            id.map(|id| PersonRef {
                name: name.unwrap_or_else(|| id.clone()),
                id,
            })
        };
        AuditItem {
            what: clock.locale.strings().admin.kind(&row.kind).to_string(),
            at: clock.label(row.at),
            at_iso: row.at.to_rfc3339(),
            user: person(row.user_id, row.user_name),
            actor: person(row.actor_id, row.actor_name),
            id: row.id,
            kind: row.kind,
            email: row.email,
            address: row.ip,
            detail: row.detail,
        }
    }

    /// An account key as the pages and forms send it; anything else names nobody.
    pub fn user_key(raw: &str) -> Result<UserId, AppError> {
        let raw = raw.trim();
        if crate::ids::is_record_key(raw) {
            Ok(UserId(raw.to_string()))
        } else {
            Err(AppError::NotFound)
        }
    }

    /// Whatever this process remembers of the person goes, and every connection they hold
    /// (pages, rooms) is closed now rather than at its next check.
    pub fn sign_out_everywhere(state: &AppState, user: &UserId) {
        use crate::{rooms::model::close, state::EndSockets};
        state.sessions.forget_user(user);
        state.live_sockets.end(&user.0, EndSockets::All);
        state.rooms.kick_everywhere(&user.0, close::REMOVED);
    }
}

#[cfg(feature = "ssr")]
use backend::*;

/// People by words of their name or address and by role, newest first, a page at a time.
#[server(endpoint = "admin_search_users")]
pub async fn search_users(
    #[server(default)] q: String,
    #[server(default)] role: String,
    #[server(default)] page: u32,
) -> Result<UserSearch, AppError> {
    let admin = require_role(Role::Admin).await?;
    let state = AppState::get()?;
    let query = UserQuery::parse(&q, &role, page);
    let rows = repo::search_users(
        &state.db,
        &query.q,
        query.role.map(Role::key),
        query.page.saturating_mul(USERS_PER_PAGE),
        USERS_PER_PAGE + 1,
    )
    .await?;
    let clock = AdminClock::of(&state, &admin).await?;
    let more = rows.len() > USERS_PER_PAGE as usize;
    let users = rows
        .into_iter()
        .take(USERS_PER_PAGE as usize)
        .map(|r| UserItem {
            joined: clock.label(r.created_at),
            roles: roles(r.roles),
            id: r.id,
            display_name: r.display_name,
            email: r.email,
            suspended: r.suspended,
        })
        .collect();
    Ok(UserSearch { query, users, more })
}

/// One person as an admin sees them (404 when there is no such account).
#[server(endpoint = "admin_user")]
pub async fn admin_user(id: String) -> Result<UserDetail, AppError> {
    let admin = require_role(Role::Admin).await?;
    let state = AppState::get()?;
    let user = user_key(&id)?;
    let rows = repo::account(&state.db, &user)
        .await?
        .ok_or(AppError::NotFound)?;
    let clock = AdminClock::of(&state, &admin).await?;
    let a = rows.account;
    let course = |c: repo::CourseRow| CourseItem {
        slug: c.slug,
        title: c.title,
    };
    Ok(UserDetail {
        is_self: a.id == admin.user.id.0,
        suspended: a.suspended_at.map(|at| Suspension {
            since: clock.label(at),
            reason: a.suspended_reason.unwrap_or_default(),
        }),
        joined: clock.label(a.created_at),
        roles: roles(a.roles),
        id: a.id,
        display_name: a.display_name,
        email: a.email,
        email_verified: a.email_verified,
        sessions: rows
            .sessions
            .into_iter()
            .map(|s| SessionItem {
                started: clock.label(s.created_at),
                last_seen: clock.label(s.last_seen_at),
                id: s.id,
                address: s.ip,
                device: s.user_agent,
            })
            .collect(),
        mentorships: rows
            .mentorships
            .into_iter()
            .map(|m| {
                let as_mentor = m.mentor_id == id;
                let (other_id, other_name) = if as_mentor {
                    (m.learner_id, m.learner)
                } else {
                    (m.mentor_id, m.mentor)
                };
                MentorshipItem {
                    other_id,
                    other_name,
                    as_mentor,
                    active: m.active,
                    started: clock.label(m.started_at),
                }
            })
            .collect(),
        audit: rows
            .audit
            .into_iter()
            .map(|r| audit_item(r, &clock))
            .collect(),
        enrolled: rows.enrolled.into_iter().map(course).collect(),
        authored: rows.authored.into_iter().map(course).collect(),
    })
}

/// Suspends an account: it is signed out everywhere at once and cannot sign in; when its
/// owner tries, they are shown `reason`. Never one's own account.
#[server(endpoint = "suspend_user")]
pub async fn suspend_user(
    user_id: String,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    let admin = require_role(Role::Admin).await?;
    let state = AppState::get()?;
    let user = user_key(&user_id)?;
    let reason = SuspendReason::parse(&reason)?;
    repo::suspend(
        &state.db,
        &user,
        &admin.user.id,
        reason.as_str(),
        state.clock.now(),
    )
    .await?;
    sign_out_everywhere(&state, &user);
    Ok(())
}

/// Lifts a suspension: the person may sign in again.
#[server(endpoint = "unsuspend_user")]
pub async fn unsuspend_user(user_id: String) -> Result<(), AppError> {
    let admin = require_role(Role::Admin).await?;
    let state = AppState::get()?;
    let user = user_key(&user_id)?;
    repo::unsuspend(&state.db, &user, &admin.user.id, state.clock.now()).await?;
    state.sessions.forget_user(&user);
    Ok(())
}

/// Ends one of a person's sessions (a lost phone, a shared computer): that sign-in is gone
/// and its open connections close; their other sessions go on.
#[server(endpoint = "end_user_session")]
pub async fn end_user_session(user_id: String, session: String) -> Result<(), AppError> {
    use crate::state::EndSockets;
    let admin = require_role(Role::Admin).await?;
    let state = AppState::get()?;
    let user = user_key(&user_id)?;
    if !crate::ids::is_record_key(session.trim()) {
        return Err(AppError::NotFound);
    }
    let token_hash = repo::end_session(
        &state.db,
        &user,
        session.trim(),
        &admin.user.id,
        state.clock.now(),
    )
    .await?;
    state.sessions.forget(&token_hash);
    state
        .live_sockets
        .end(&user.0, EndSockets::Session(&token_hash));
    Ok(())
}

/// The audit log, newest first, by kind and by person (an e-mail address or an account key).
#[server(endpoint = "admin_audit_log")]
pub async fn audit_log(
    #[server(default)] kind: String,
    #[server(default)] person: String,
    #[server(default)] page: u32,
) -> Result<AuditPage, AppError> {
    let admin = require_role(Role::Admin).await?;
    let state = AppState::get()?;
    let query = AuditQuery::parse(&kind, &person, page);
    let who = if query.person.is_empty() {
        None
    } else if query.person.contains('@') {
        match repo::user_by_email(&state.db, &query.person.to_lowercase()).await? {
            Some(id) => Some(id),
            // Nobody has that address: no entries, rather than every entry.
            None => {
                return Ok(AuditPage {
                    query,
                    entries: Vec::new(),
                    more: false,
                });
            }
        }
    } else if crate::ids::is_record_key(&query.person) {
        Some(UserId(query.person.clone()))
    } else {
        return Ok(AuditPage {
            query,
            entries: Vec::new(),
            more: false,
        });
    };
    let rows = repo::audit_log(
        &state.db,
        query.kind.as_deref(),
        who.as_ref(),
        query.page.saturating_mul(AUDIT_PER_PAGE),
        AUDIT_PER_PAGE + 1,
    )
    .await?;
    let clock = AdminClock::of(&state, &admin).await?;
    let more = rows.len() > AUDIT_PER_PAGE as usize;
    let entries = rows
        .into_iter()
        .take(AUDIT_PER_PAGE as usize)
        .map(|r| audit_item(r, &clock))
        .collect();
    Ok(AuditPage {
        query,
        entries,
        more,
    })
}
