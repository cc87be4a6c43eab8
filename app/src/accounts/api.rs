//! Account server functions: the public API of accounts. Each one authenticates, parses its
//! input into domain types, calls `repo`, and returns only what the caller may see.

use leptos::prelude::*;

use crate::{
    accounts::model::{CurrentUser, DemoAccount, Profile},
    error::AppError,
    i18n::Locale,
};

#[cfg(feature = "ssr")]
mod backend {
    pub use crate::{
        accounts::{
            model::{DisplayName, Email, Password, ProfileUpdate, Role},
            password::refuse_common,
            repo::{self, AuditEntry, AuditKind},
            session::{self, client_ip, require_role, require_user},
        },
        error::{AppError, Problem},
        i18n::{Locale, initial_locale},
        ids::UserId,
        state::{AppState, EndSockets},
    };
    pub use chrono::{DateTime, Duration, Utc};
    pub use http::header::{RETRY_AFTER, SET_COOKIE};
    pub use leptos_axum::ResponseOptions;

    /// Failed sign-ins allowed for one account from one address in [`ACCOUNT_WINDOW_MINUTES`]:
    /// the limit is per pair, so someone failing elsewhere never locks the owner out.
    pub const PAIR_FAILURES: i64 = 5;
    pub const ACCOUNT_WINDOW_MINUTES: i64 = 30;
    /// Failed sign-ins allowed per IP address (any accounts) in [`IP_WINDOW_MINUTES`].
    pub const IP_FAILURES: i64 = 30;
    pub const IP_WINDOW_MINUTES: i64 = 15;
    /// Past this many failures for an account (from anywhere) in the account window, every
    /// attempt at it is answered more slowly: a guesser spread over many addresses is slowed,
    /// and the owner still gets in, a little later.
    pub const ACCOUNT_SLOWDOWN_AFTER: i64 = 10;

    /// The pause before answering an attempt at an account with `failures` recent failures:
    /// none up to [`ACCOUNT_SLOWDOWN_AFTER`], then doubling from a quarter second to 4 s.
    pub fn slowdown(failures: i64) -> std::time::Duration {
        let over = failures - ACCOUNT_SLOWDOWN_AFTER;
        if over < 0 {
            return std::time::Duration::ZERO;
        }
        let ms = 250u64.saturating_mul(1 << over.min(4));
        std::time::Duration::from_millis(ms.min(4_000))
    }
    /// How long an email verification link works.
    pub const VERIFY_HOURS: i64 = 48;
    /// How long a password-reset link works.
    pub const RESET_HOURS: i64 = 1;

    pub fn set_cookie(value: http::HeaderValue) {
        if let Some(res) = leptos::prelude::use_context::<ResponseOptions>() {
            res.append_header(SET_COOKIE, value);
        }
    }

    /// Only local paths are followed after sign-in: never another site (open redirect).
    ///
    /// Judged the way the browser will read the `Location`, not as the text looks: a browser
    /// drops tabs and newlines and reads `\\` as `/`, so `/<TAB>/evil.example` or `/\\evil.example`
    /// would take it to `//evil.example`. The address is resolved against a stand-in origin by
    /// the WHATWG rules (the `url` crate) and kept only when it stays there; what is sent back
    /// is that resolved path, so what the browser follows is what was checked.
    pub fn safe_next(next: Option<String>) -> String {
        next.as_deref()
            .and_then(local_path)
            .unwrap_or_else(|| "/".into())
    }

    fn local_path(next: &str) -> Option<String> {
        const HOME: &str = "http://pairwise.invalid/";
        // Only absolute paths: a scheme, `//host` or a relative path is never ours to follow.
        let trimmed = next.trim_start_matches(|c: char| c.is_ascii_control() || c == ' ');
        if !trimmed.starts_with('/') && !trimmed.starts_with('\\') {
            return None;
        }
        let base = url::Url::parse(HOME).ok()?;
        let resolved = base.join(next).ok()?;
        if resolved.origin() != base.origin() {
            return None;
        }
        let path = &resolved[url::Position::BeforePath..];
        // A path that itself begins with `//` (from `/.//x`) would read as another host, and
        // so might one that does once decoded (`/%2F%2Fx`, `/%09/x`) behind a proxy that
        // decodes: after the first `/`, none of those.
        let second = path[1..].to_ascii_lowercase();
        let remote = ["/", "\\", "%2f", "%5c", "%09", "%0a", "%0d"]
            .iter()
            .any(|p| second.starts_with(p));
        (!remote).then(|| path.to_string())
    }

    /// A random id for a new record, chosen before the transaction that creates it.
    pub fn new_id() -> String {
        session::new_token()[..20].to_string()
    }

    /// Signs `user` in on this browser: a fresh session replaces the one the browser presented
    /// (rotation), and its cookie is set.
    pub async fn start_session(
        state: &AppState,
        user: &UserId,
        ip: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let presented = session::cookie(
            &session::request_headers(),
            session::cookie_name(&state.auth),
        )
        .map(session::hash_token);
        let token = session::new_token();
        repo::create_session(
            &state.db,
            repo::NewSession {
                token_hash: &session::hash_token(&token),
                user,
                expires_at: now
                    + Duration::from_std(state.auth.session_absolute).unwrap_or_default(),
                ip,
                user_agent: session::request_headers()
                    .get(http::header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .map(|s| s.chars().take(300).collect()),
            },
            presented.as_deref(),
            now,
        )
        .await?;
        if let Some(old) = &presented {
            state.sessions.forget(old);
        }
        if let Some(cookie) = session::session_cookie(&state.auth, &token) {
            set_cookie(cookie);
        }
        // Mail and the live badge speak the language this person just signed in with; the
        // sign-in itself has succeeded whatever happens to this.
        if let Err(e) = crate::notify::repo::set_locale(&state.db, user, initial_locale()).await {
            tracing::warn!(error = %e, "could not remember the language of a sign-in");
        }
        Ok(())
    }

    /// To the owner of a confirmed account when someone signs up with its address, in the
    /// language the owner reads Pairwise in.
    pub fn existing_account_mail(
        state: &AppState,
        to: &str,
        locale: Locale,
    ) -> crate::notify::repo::OutgoingMail {
        let s = locale.strings();
        crate::notify::repo::OutgoingMail {
            to: to.to_string(),
            subject: s.mail_existing_subject.into(),
            body: s
                .mail_existing_body
                .replace("{link}", &format!("{}/signin", state.auth.public_origin)),
        }
    }

    /// The link that confirms an address, in the language of the page that asked for it.
    pub fn verification_mail(
        state: &AppState,
        to: &str,
        token: &str,
        locale: Locale,
    ) -> crate::notify::repo::OutgoingMail {
        let s = locale.strings();
        let link = format!("{}/verify-email?token={token}", state.auth.public_origin);
        crate::notify::repo::OutgoingMail {
            to: to.to_string(),
            subject: s.mail_verify_subject.into(),
            body: s
                .mail_verify_body
                .replace("{hours}", &VERIFY_HOURS.to_string())
                .replace("{link}", &link),
        }
    }
}
#[cfg(feature = "ssr")]
use backend::*;

/// Starts a sign-up. The answer is the same whether or not the address has an account, so
/// nobody learns who uses Pairwise from this form: the account (role learner) is created
/// unconfirmed and not signed in, and the link that confirms the address (and signs in)
/// goes to the address. An address whose account is confirmed gets a note saying so instead;
/// one whose account was never confirmed is claimed anew (see `repo::reclaim_unverified`).
/// Every path hashes the password, so none answers faster than the others.
#[server(endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    display_name: String,
    password: String,
    #[server(default)] accept: String,
    #[server(default)] terms_version: i64,
    #[server(default)] privacy_version: i64,
) -> Result<(), AppError> {
    let state = AppState::get()?;
    let email = Email::parse(&email)?;
    let name = DisplayName::parse(&display_name)?;
    let password = Password::parse(&password)?;
    refuse_common(&password)?;
    // The box reads "I accept the terms of use and the privacy notice"; a checked box posts
    // "yes" (a form without scripts posts the checkbox's value).
    if accept.trim() != "yes" {
        return Err(Problem::TermsNotAccepted.into());
    }
    let consent = repo::current_consent(&state.db).await?;
    // The page sends the versions it showed; if an admin published a new one meanwhile, the
    // person has not seen what they would be recorded as accepting. (A client that sends
    // none accepts the texts current as it signs up.)
    let shown = |v: i64, current: i64| v == 0 || v == current;
    if !shown(terms_version, consent.terms) || !shown(privacy_version, consent.privacy) {
        return Err(Problem::TermsChanged.into());
    }
    let hash = state.hasher.hash(&password).await?;
    let now = state.clock.now();
    let verify = session::new_token();
    let locale = initial_locale();
    let mail = verification_mail(&state, email.as_str(), &verify, locale);
    let verify_hash = session::hash_token(&verify);
    let ip = client_ip();
    let new_user = UserId(new_id());
    let claim = |id| repo::Registration {
        id,
        email: &email,
        display_name: name.as_str(),
        password_hash: &hash,
        roles: &[Role::Learner],
        verify_hash: &verify_hash,
        verify_expires: now + Duration::hours(VERIFY_HOURS),
        mail: &mail,
        ip: ip.clone(),
        locale,
        consent,
    };
    let existing = match repo::holder(&state.db, &email).await? {
        repo::Holder::Nobody => {
            match repo::register(&state.db, claim(&new_user), now).await {
                // Another sign-up for the address won the race: it is answered like any
                // address that has an account.
                Err(AppError::Invalid {
                    problem: Problem::EmailTaken,
                }) => repo::holder(&state.db, &email).await?,
                // A write conflict with a simultaneous sign-up for the address (the store
                // aborts one of two overlapping transactions): whoever won holds it now.
                Err(AppError::Internal) => match repo::holder(&state.db, &email).await? {
                    repo::Holder::Nobody => return Err(AppError::Internal),
                    held => held,
                },
                other => {
                    other?;
                    repo::Holder::Nobody
                }
            }
        }
        held => held,
    };
    match existing {
        repo::Holder::Nobody => {}
        repo::Holder::Unverified(user) => {
            if repo::reclaim_unverified(&state.db, &user, claim(&user), now).await? {
                // The old claim's sessions are gone from the database; drop them here too.
                state.sessions.forget_user(&user);
                state.live_sockets.end(&user.0, EndSockets::All);
            }
        }
        // Told at most three times an hour, like the links: nobody fills an inbox through us.
        repo::Holder::Verified(user)
            if repo::recent_mails_of_kind(&state.db, &user, AuditKind::SignUpExisting, now)
                .await?
                >= repo::VERIFY_MAILS_PER_HOUR => {}
        repo::Holder::Verified(user) => {
            let owner_locale = crate::notify::repo::locale_of(&state.db, &user).await?;
            let note = existing_account_mail(&state, email.as_str(), owner_locale);
            repo::queue_mail(
                &state.db,
                &note,
                AuditKind::SignUpExisting,
                Some(&user),
                ip,
                now,
            )
            .await?;
        }
    }
    leptos_axum::redirect("/signin?signed_up=1");
    Ok(())
}

/// The versions of the terms of use and the privacy notice a sign-up accepts now (the form
/// sends them back, so a version published meanwhile is not accepted unseen).
#[server(endpoint = "consent_versions")]
pub async fn consent_versions() -> Result<(i64, i64), AppError> {
    let state = AppState::get()?;
    let c = repo::current_consent(&state.db).await?;
    Ok((c.terms, c.privacy))
}

/// Signs in with email and password; always issues a fresh session token.
#[server(endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    #[server(default)] next: Option<String>,
) -> Result<CurrentUser, AppError> {
    let state = AppState::get()?;
    let now = state.clock.now();
    let ip = client_ip();
    // An email that does not parse is still counted and answered like a wrong password, so
    // the answer never tells which accounts exist.
    let email_key = email.trim().to_lowercase();
    // An account many have guessed at answers slowly, to everyone (never a lock-out). The
    // pause comes before this address's turn, so it never queues others behind it.
    let pause = slowdown(
        repo::recent_failures_for(
            &state.db,
            &email_key,
            now - Duration::minutes(ACCOUNT_WINDOW_MINUTES),
        )
        .await?,
    );
    if !pause.is_zero() {
        tokio::time::sleep(pause).await;
    }
    // One attempt per address at a time, from counting to recording (see accounts::throttle).
    let _turn = state
        .sign_in_turns
        .take(ip.as_deref().unwrap_or_default())
        .await;
    let failures = repo::recent_failures(
        &state.db,
        &email_key,
        now - Duration::minutes(ACCOUNT_WINDOW_MINUTES),
        ip.as_deref(),
        now - Duration::minutes(IP_WINDOW_MINUTES),
    )
    .await?;
    let limited = [
        (
            failures.by_pair >= PAIR_FAILURES,
            failures.oldest_by_pair,
            ACCOUNT_WINDOW_MINUTES,
        ),
        (
            failures.by_ip >= IP_FAILURES,
            failures.oldest_by_ip,
            IP_WINDOW_MINUTES,
        ),
    ];
    for (over, oldest, window) in limited {
        if over {
            let frees_at = oldest.unwrap_or(now) + Duration::minutes(window);
            let retry_after_secs = (frees_at - now).num_seconds().max(1) as u64;
            if let Some(res) = use_context::<ResponseOptions>()
                && let Ok(v) = http::HeaderValue::from_str(&retry_after_secs.to_string())
            {
                res.insert_header(RETRY_AFTER, v);
            }
            return Err(AppError::TooManyAttempts { retry_after_secs });
        }
    }
    let found = match Email::parse(&email) {
        Ok(e) => repo::credentials(&state.db, &e).await?,
        Err(_) => None,
    };
    let (user_id, stored) = match found {
        Some((id, hash)) => (Some(id), Some(hash)),
        None => (None, None),
    };
    if !state.hasher.verify(&password, stored).await? {
        let entry = AuditEntry {
            user: user_id,
            email: Some(email_key),
            ip,
            ..Default::default()
        };
        repo::audit(&state.db, AuditKind::SignInFailed, entry, now).await?;
        return Err(AppError::WrongCredentials);
    }
    let Some(user_id) = user_id else {
        return Err(AppError::WrongCredentials);
    };
    // Only the right password learns that the account is suspended, and why.
    if let Some(reason) = repo::suspension(&state.db, &user_id).await? {
        let entry = AuditEntry {
            user: Some(user_id),
            ip,
            ..Default::default()
        };
        repo::audit(&state.db, AuditKind::SignInSuspended, entry, now).await?;
        return Err(AppError::Suspended { reason });
    }
    start_session(&state, &user_id, ip.clone(), now).await?;
    let entry = AuditEntry {
        user: Some(user_id.clone()),
        email: Some(email_key),
        ip,
        ..Default::default()
    };
    repo::audit(&state.db, AuditKind::SignIn, entry, now).await?;
    let user = repo::current_user(&state.db, &user_id)
        .await?
        .ok_or(AppError::Internal)?;
    leptos_axum::redirect(&safe_next(next));
    Ok(user)
}

/// Ends the current session: the token is deleted, so the old cookie is dead everywhere.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let state = AppState::get()?;
    if let Some(auth) = session::current().await? {
        repo::delete_session(&state.db, &auth.token_hash).await?;
        state.sessions.forget(&auth.token_hash);
        state
            .live_sockets
            .end(&auth.user.id.0, EndSockets::Session(&auth.token_hash));
        let entry = AuditEntry {
            user: Some(auth.user.id),
            ip: client_ip(),
            ..Default::default()
        };
        repo::audit(&state.db, AuditKind::SignOut, entry, state.clock.now()).await?;
    }
    set_cookie(session::clear_cookie(&state.auth));
    leptos_axum::redirect("/");
    Ok(())
}

/// The signed-in user, or `None`.
#[server(endpoint = "current_user")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    Ok(session::current().await?.map(|a| a.user))
}

/// The caller's own profile.
#[server(endpoint = "get_profile")]
pub async fn get_profile() -> Result<Profile, AppError> {
    let auth = require_user().await?;
    let state = AppState::get()?;
    repo::profile(&state.db, &auth.user.id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Edits the caller's own profile (never anyone else's: there is no id parameter).
#[server(endpoint = "update_profile")]
pub async fn update_profile(
    display_name: String,
    #[server(default)] bio: String,
    #[server(default)] skills: String,
    #[server(default)] languages: String,
    timezone: String,
) -> Result<Profile, AppError> {
    let auth = require_user().await?;
    let state = AppState::get()?;
    let update = ProfileUpdate::parse(&display_name, &bio, &skills, &languages, &timezone)?;
    repo::update_profile(&state.db, &auth.user.id, &update, state.clock.now()).await?;
    // The name is part of the signed-in user every page shows.
    state.sessions.forget_user(&auth.user.id);
    repo::profile(&state.db, &auth.user.id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Changes the password after checking the current one; every other session is signed out.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    let auth = require_user().await?;
    let state = AppState::get()?;
    let new_password = Password::parse(&new_password)?;
    refuse_common(&new_password)?;
    let stored = repo::password_hash(&state.db, &auth.user.id).await?;
    if !state.hasher.verify(&current_password, stored).await? {
        return Err(Problem::WrongCurrentPassword.into());
    }
    let hash = state.hasher.hash(&new_password).await?;
    let now = state.clock.now();
    repo::change_password(&state.db, &auth.user.id, &hash, &auth.token_hash, now).await?;
    state.sessions.forget_user(&auth.user.id);
    state
        .live_sockets
        .end(&auth.user.id.0, EndSockets::AllBut(&auth.token_hash));
    let entry = AuditEntry {
        user: Some(auth.user.id),
        ip: client_ip(),
        ..Default::default()
    };
    repo::audit(&state.db, AuditKind::PasswordChanged, entry, now).await?;
    Ok(())
}

/// Queues a new verification email for the caller: at most
/// [`repo::VERIFY_MAILS_PER_HOUR`] links an hour (sign-ups included), then 429 in words.
#[server(endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<(), AppError> {
    let auth = require_user().await?;
    let state = AppState::get()?;
    if auth.user.email_verified {
        return Ok(());
    }
    let now = state.clock.now();
    let token = session::new_token();
    let mail = verification_mail(&state, &auth.user.email, &token, initial_locale());
    let expires = now + Duration::hours(VERIFY_HOURS);
    repo::create_verification(
        &state.db,
        &auth.user.id,
        &session::hash_token(&token),
        expires,
        &mail,
        now,
    )
    .await
}

/// Confirms an email address from the link in the verification email and signs its owner in
/// (opening the link proves they hold the address). Works signed out; the page posts it, so a
/// link scanner that only fetches pages does not use the link up.
#[server(endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let now = state.clock.now();
    let token = token.trim();
    if token.len() != 64 {
        return Err(Problem::TokenInvalid.into());
    }
    let user = repo::consume_verification(&state.db, &session::hash_token(token), now)
        .await?
        .ok_or(AppError::from(Problem::TokenInvalid))?;
    repo::mark_email_verified(&state.db, &user, now).await?;
    state.sessions.forget_user(&user);
    let ip = client_ip();
    repo::audit(
        &state.db,
        AuditKind::EmailVerified,
        AuditEntry {
            user: Some(user.clone()),
            ip: ip.clone(),
            ..Default::default()
        },
        now,
    )
    .await?;
    start_session(&state, &user, ip, now).await?;
    leptos_axum::redirect("/profile");
    Ok(())
}

/// Demo accounts to show on the home page (empty unless demo mode is on).
#[server(endpoint = "demo_accounts")]
pub async fn demo_accounts() -> Result<Vec<DemoAccount>, AppError> {
    Ok(AppState::get()?.demo_accounts.as_ref().clone())
}

/// Admins only: every user with their roles.
#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<CurrentUser>, AppError> {
    require_role(Role::Admin).await?;
    let state = AppState::get()?;
    repo::list_users(&state.db, 500).await
}

/// Admins only: grants or revokes a role.
#[server(endpoint = "set_user_role")]
pub async fn set_user_role(user_id: String, role: String, granted: bool) -> Result<(), AppError> {
    let admin = require_role(Role::Admin).await?;
    let state = AppState::get()?;
    let role = Role::parse(&role).ok_or_else(|| AppError::BadRequest {
        detail: "unknown role".into(),
    })?;
    let user = UserId(user_id);
    if !repo::set_role(&state.db, &user, role, granted).await? {
        return Err(AppError::NotFound);
    }
    state.sessions.forget_user(&user);
    // Their live sockets were authorised with the old roles: they reconnect with the new.
    state.live_sockets.end(&user.0, EndSockets::All);
    let kind = if granted {
        AuditKind::RoleGranted
    } else {
        AuditKind::RoleRevoked
    };
    let entry = AuditEntry {
        user: Some(user),
        actor: Some(admin.user.id),
        ip: client_ip(),
        detail: Some(role.key().to_string()),
        ..Default::default()
    };
    repo::audit(&state.db, kind, entry, state.clock.now()).await
}

/// Remembers the chosen interface language for a year (a cookie; no account needed) and, for
/// someone signed in, on their account: e-mail and the live badge follow it.
#[server(endpoint = "set_locale")]
pub async fn set_locale(locale: String) -> Result<Locale, AppError> {
    let locale = Locale::from_tag(&locale).ok_or_else(|| AppError::BadRequest {
        detail: "unknown language: use en or zh-Hans".into(),
    })?;
    let cookie = format!(
        "{}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        crate::i18n::LOCALE_COOKIE,
        locale.tag()
    );
    if let Ok(v) = http::HeaderValue::from_str(&cookie) {
        set_cookie(v);
    }
    if let Some(who) = session::current().await? {
        let state = AppState::get()?;
        crate::notify::repo::set_locale(&state.db, &who.user.id, locale).await?;
    }
    Ok(locale)
}

/// Sends a link to choose a new password. The answer is the same whether or not the address
/// has an account (and whether or not its hourly allowance of links is spent), so nobody
/// learns who uses Pairwise from this form.
#[server(endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let email = Email::parse(&email)?;
    let ip = client_ip();
    // The answer does not wait for the work: how long it took would tell whether the
    // address has an account. The link is made and queued (or not) in the background.
    tokio::spawn(async move {
        if let Err(e) = send_reset_link(&state, &email, ip).await {
            tracing::warn!(error = %e, "could not send a password-reset link");
        }
    });
    leptos_axum::redirect("/forgot-password?sent=1");
    Ok(())
}

/// The work behind [`request_password_reset`], for an address that has an account.
#[cfg(feature = "ssr")]
async fn send_reset_link(
    state: &AppState,
    email: &Email,
    ip: Option<String>,
) -> Result<(), AppError> {
    let now = state.clock.now();
    let user = match repo::holder(&state.db, email).await? {
        repo::Holder::Nobody => return Ok(()),
        repo::Holder::Unverified(user) | repo::Holder::Verified(user) => user,
    };
    let token = session::new_token();
    let s = crate::notify::repo::locale_of(&state.db, &user)
        .await?
        .strings();
    let link = format!("{}/reset-password?token={token}", state.auth.public_origin);
    let mail = crate::notify::repo::OutgoingMail {
        to: email.as_str().to_string(),
        subject: s.mail_reset_subject.into(),
        body: s.mail_reset_body.replace("{link}", &link),
    };
    let expires = now + Duration::hours(RESET_HOURS);
    let hash = session::hash_token(&token);
    match repo::create_reset(&state.db, &user, &hash, expires, &mail, ip, now).await {
        // Its links for this hour are spent.
        Err(AppError::Invalid {
            problem: Problem::TryAgain,
        }) => Ok(()),
        other => other,
    }
}

/// Sets a new password with a mailed link: once, within its hour; every session of the
/// account ends (signed out everywhere, live sockets closed), and the person signs in anew.
#[server(endpoint = "reset_password")]
pub async fn reset_password(token: String, new_password: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let token = token.trim();
    if token.len() != 64 {
        return Err(Problem::TokenInvalid.into());
    }
    let password = Password::parse(&new_password)?;
    refuse_common(&password)?;
    let now = state.clock.now();
    let token_hash = session::hash_token(token);
    // A cheap look first, so a made-up link costs no password hash (the transaction below
    // checks again: this is not what decides).
    if !repo::reset_link_open(&state.db, &token_hash, now).await? {
        return Err(Problem::TokenInvalid.into());
    }
    let hash = state.hasher.hash(&password).await?;
    let user = repo::reset_password(&state.db, &token_hash, &hash, client_ip(), now).await?;
    state.sessions.forget_user(&user);
    state.live_sockets.end(&user.0, EndSockets::All);
    // The link reached its address: that confirms it, as the confirmation link would have.
    repo::mark_email_verified(&state.db, &user, now).await?;
    leptos_axum::redirect("/signin?reset=1");
    Ok(())
}

/// Asks to move the caller's account to `new_email` (their password confirms it is them):
/// a single-use link, valid one hour, goes to the new address; the old address is told. If
/// another account has the new address, the new address is told that instead and no link is
/// made, while the caller gets the same answer either way (it never says who has an account).
#[server(endpoint = "request_email_change")]
pub async fn request_email_change(new_email: String, password: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let auth = require_user().await?;
    let new_email = Email::parse(&new_email)?;
    if new_email.as_str() == auth.user.email {
        return Err(Problem::EmailSame.into());
    }
    let stored = repo::password_hash(&state.db, &auth.user.id).await?;
    if !state.hasher.verify(&password, stored).await? {
        return Err(Problem::WrongCurrentPassword.into());
    }
    let now = state.clock.now();
    let s = crate::notify::repo::locale_of(&state.db, &auth.user.id)
        .await?
        .strings();
    let origin = &state.auth.public_origin;
    let taken = !matches!(
        repo::holder(&state.db, &new_email).await?,
        repo::Holder::Nobody
    );
    let token = session::new_token();
    let to_new = crate::notify::repo::OutgoingMail {
        to: new_email.as_str().to_string(),
        subject: s.mail_change_subject.into(),
        body: if taken {
            s.mail_change_taken_body.to_string()
        } else {
            s.mail_change_body
                .replace("{link}", &format!("{origin}/confirm-email?token={token}"))
        },
    };
    let to_old = crate::notify::repo::OutgoingMail {
        to: auth.user.email.clone(),
        subject: s.mail_change_notice_subject.into(),
        body: s
            .mail_change_notice_body
            .replace("{new}", new_email.as_str())
            .replace("{link}", &format!("{origin}/profile")),
    };
    let hash = session::hash_token(&token);
    repo::create_email_change(
        &state.db,
        &auth.user.id,
        (!taken).then_some(hash.as_str()),
        new_email.as_str(),
        now + Duration::hours(RESET_HOURS),
        &[to_new, to_old],
        client_ip(),
        now,
    )
    .await
}

/// Uses a change link (from the mail to the new address): the account signs in with the new
/// address from now on, and the old one is told. Works signed out; the page posts it.
#[server(endpoint = "confirm_email_change")]
pub async fn confirm_email_change(token: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let token = token.trim();
    if token.len() != 64 {
        return Err(Problem::TokenInvalid.into());
    }
    let now = state.clock.now();
    let hash = session::hash_token(token);
    let change = repo::open_email_change(&state.db, &hash, now)
        .await?
        .ok_or(Problem::TokenInvalid)?;
    let s = Locale::from_tag(&change.locale)
        .unwrap_or_default()
        .strings();
    let mail = crate::notify::repo::OutgoingMail {
        to: change.old_email,
        subject: s.mail_changed_subject.into(),
        body: s.mail_changed_body.replace("{new}", &change.new_email),
    };
    repo::confirm_email_change(&state.db, &hash, &mail, client_ip(), now).await?;
    // Pages cached with the old address show the new one.
    state.sessions.forget_user(&UserId(change.user));
    Ok(())
}
