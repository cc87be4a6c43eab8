//! Account queries (server only). The only place with SurrealQL for accounts; every value is
//! bound, never formatted into the query text.

use chrono::{DateTime, Utc};
use surrealdb::types::{SerdeWrapper, SurrealValue};

use crate::{
    accounts::model::{CurrentUser, Email, Profile, ProfileUpdate, Role, Skill},
    db::{
        Db, LiveChanges, fail_on_errors, internal, is_unique_violation, live, transact_with_retry,
        user_record, write_with_retry,
    },
    error::{AppError, Problem},
    i18n::Locale,
    ids::UserId,
    notify::{
        model::NoticeKind,
        repo::{OutgoingMail, notify_stmt},
    },
};

#[derive(Debug, SurrealValue)]
struct UserRow {
    id: String,
    email: String,
    display_name: String,
    roles: Vec<String>,
    email_verified: bool,
}

impl UserRow {
    fn into_current(self) -> CurrentUser {
        CurrentUser {
            id: UserId(self.id),
            email: self.email,
            display_name: self.display_name,
            roles: roles_from(&self.roles),
            email_verified: self.email_verified,
        }
    }
}

fn roles_from(raw: &[String]) -> Vec<Role> {
    let mut roles: Vec<Role> = raw.iter().filter_map(|r| Role::parse(r)).collect();
    roles.sort();
    roles
}

const USER_FIELDS: &str = "record::id(id) AS id, email, display_name, roles, email_verified";

pub struct NewUser<'a> {
    pub email: &'a Email,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub roles: &'a [Role],
}

/// Creates a user for the operator (`pairwise admin create`, the demo accounts): the operator
/// vouches for the address, so it counts as confirmed. An email already in use gives
/// `EmailTaken` (the unique index decides).
pub async fn create_user(
    db: &Db,
    user: NewUser<'_>,
    now: DateTime<Utc>,
) -> Result<UserId, AppError> {
    let roles: Vec<String> = user.roles.iter().map(|r| r.key().to_string()).collect();
    let mut res = db
        .query(
            "CREATE ONLY user CONTENT {
                email: $email, display_name: $name, password_hash: $hash, roles: $roles,
                email_verified: true, created_at: $now, updated_at: $now
             } RETURN record::id(id) AS id",
        )
        .bind(("email", user.email.as_str().to_string()))
        .bind(("name", user.display_name.to_string()))
        .bind(("hash", user.password_hash.to_string()))
        .bind(("roles", roles))
        .bind(("now", now))
        .await
        .map_err(internal("create user"))?;
    match res.take::<Option<IdRow>>(0) {
        Ok(Some(row)) => Ok(UserId(row.id)),
        Ok(None) => Err(AppError::Internal),
        Err(e) if is_unique_violation(&e) => Err(Problem::EmailTaken.into()),
        Err(e) => Err(internal("create user")(e)),
    }
}

/// Everything a sign-up writes.
pub struct Registration<'a> {
    pub id: &'a UserId,
    pub email: &'a Email,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub roles: &'a [Role],
    pub verify_hash: &'a str,
    pub verify_expires: DateTime<Utc>,
    pub mail: &'a OutgoingMail,
    pub ip: Option<String>,
    /// The language the sign-up page was shown in: what reaches this person by e-mail is
    /// written in it until they choose another.
    pub locale: Locale,
    /// The versions of the terms and the privacy notice the form was accepted with.
    pub consent: Consent,
}

/// Which versions of the terms of use and the privacy notice someone accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Consent {
    pub terms: i64,
    pub privacy: i64,
}

/// The newest version of the terms and of the privacy notice (what a sign-up accepts).
pub async fn current_consent(db: &Db) -> Result<Consent, AppError> {
    let mut res = db
        .query(
            "RETURN (SELECT VALUE version FROM legal_text WHERE kind = 'terms'
                ORDER BY version DESC LIMIT 1)[0] ?? 0;
             RETURN (SELECT VALUE version FROM legal_text WHERE kind = 'privacy'
                ORDER BY version DESC LIMIT 1)[0] ?? 0;",
        )
        .await
        .map_err(internal("current consent"))?;
    let terms: Option<i64> = res.take(0).map_err(internal("current consent"))?;
    let privacy: Option<i64> = res.take(1).map_err(internal("current consent"))?;
    Ok(Consent {
        terms: terms.unwrap_or(0),
        privacy: privacy.unwrap_or(0),
    })
}

/// Who, if anyone, holds an address already, and whether they confirmed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holder {
    Nobody,
    Unverified(UserId),
    Verified(UserId),
}

#[derive(SurrealValue)]
struct HolderRow {
    id: String,
    email_verified: Option<bool>,
}

pub async fn holder(db: &Db, email: &Email) -> Result<Holder, AppError> {
    let mut res = db
        .query("SELECT record::id(id) AS id, email_verified FROM user WHERE email = $email LIMIT 1")
        .bind(("email", email.as_str().to_string()))
        .await
        .map_err(internal("address holder"))?;
    let row: Option<HolderRow> = res.take(0).map_err(internal("address holder"))?;
    Ok(match row {
        None => Holder::Nobody,
        Some(r) if r.email_verified == Some(true) => Holder::Verified(UserId(r.id)),
        Some(r) => Holder::Unverified(UserId(r.id)),
    })
}

/// Signs a new user up in one transaction: the user (unconfirmed, not signed in), the
/// verification token with its email, and the audit entry exist together or not at all. When
/// this returns Ok the sign-up is durable (SurrealKV syncs every commit). `EmailTaken` when
/// another sign-up for the address won a race.
pub async fn register(db: &Db, r: Registration<'_>, now: DateTime<Utc>) -> Result<(), AppError> {
    let roles: Vec<String> = r.roles.iter().map(|r| r.key().to_string()).collect();
    let res = db
        .query(
            "BEGIN TRANSACTION;
             CREATE $user CONTENT {
                email: $email, display_name: $name, password_hash: $hash, roles: $roles,
                locale: $locale, created_at: $now, updated_at: $now,
                terms_version: $terms_version, privacy_version: $privacy_version,
                consented_at: $now
             };
             CREATE email_token CONTENT {
                token_hash: $verify, user: $user, purpose: 'verify_email', created_at: $now,
                expires_at: $verify_expires
             };
             CREATE outbox CONTENT { to: $email, subject: $subject, body: $body, created_at: $now };
             CREATE audit CONTENT { kind: 'sign_up', user: $user, email: $email, ip: $ip, at: $now };
             COMMIT TRANSACTION;",
        )
        .bind(("user", user_record(r.id)))
        .bind(("email", r.email.as_str().to_string()))
        .bind(("name", r.display_name.to_string()))
        .bind(("hash", r.password_hash.to_string()))
        .bind(("roles", roles))
        .bind(("locale", r.locale.tag()))
        .bind(("terms_version", r.consent.terms))
        .bind(("privacy_version", r.consent.privacy))
        .bind(("verify", r.verify_hash.to_string()))
        .bind(("verify_expires", r.verify_expires))
        .bind(("subject", r.mail.subject.clone()))
        .bind(("body", r.mail.body.clone()))
        .bind(("ip", r.ip))
        .bind(("now", now))
        .await
        .map_err(internal("register"))?;
    fail_on_errors(res, "register", Problem::EmailTaken)
}

/// A new sign-up for an address whose account was never confirmed: nobody has proved they
/// own it, so the newest claim replaces the old one (password and name), the old claim's
/// sessions and links die, and a fresh link goes to the address. Only its owner can use it.
/// Refused (`Ok(false)`, nothing changed) if the account was confirmed meanwhile.
pub async fn reclaim_unverified(
    db: &Db,
    user: &UserId,
    r: Registration<'_>,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let res = db
        .query(
            format!(
            "BEGIN TRANSACTION;
             IF (SELECT VALUE email_verified FROM ONLY $user) = true {{ THROW 'confirmed' }};
             {VERIFY_MAILS_SPENT};
             UPDATE $user SET display_name = $name, password_hash = $hash, locale = $locale,
                terms_version = $terms_version, privacy_version = $privacy_version,
                consented_at = $now, updated_at = $now;
             DELETE session WHERE user = $user;
             UPDATE email_token SET used_at = $now WHERE user = $user AND used_at = NONE;
             CREATE email_token CONTENT {{
                token_hash: $verify, user: $user, purpose: 'verify_email', created_at: $now,
                expires_at: $verify_expires
             }};
             CREATE outbox CONTENT {{ to: $email, subject: $subject, body: $body, created_at: $now }};
             CREATE audit CONTENT {{ kind: 'sign_up', user: $user, email: $email, ip: $ip, at: $now }};
             COMMIT TRANSACTION;"
        ))
        .bind(("user", user_record(user)))
        .bind(("email", r.email.as_str().to_string()))
        .bind(("name", r.display_name.to_string()))
        .bind(("hash", r.password_hash.to_string()))
        .bind(("hour_ago", now - chrono::Duration::hours(1)))
        .bind(("max", VERIFY_MAILS_PER_HOUR))
        .bind(("locale", r.locale.tag()))
        .bind(("terms_version", r.consent.terms))
        .bind(("privacy_version", r.consent.privacy))
        .bind(("verify", r.verify_hash.to_string()))
        .bind(("verify_expires", r.verify_expires))
        .bind(("subject", r.mail.subject.clone()))
        .bind(("body", r.mail.body.clone()))
        .bind(("ip", r.ip))
        .bind(("now", now))
        .await
        .map_err(internal("reclaim"))?;
    match fail_on_errors(res, "reclaim", Problem::EmailTaken) {
        Ok(()) => Ok(true),
        // Confirmed meanwhile, or its links for this hour are spent: nothing changed.
        Err(
            AppError::Internal
            | AppError::Invalid {
                problem: Problem::TooManyMails,
            },
        ) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Queues `mail` with an audit entry: a sign-up for an address that has a confirmed account
/// tells the owner, not the person signing up.
pub async fn queue_mail(
    db: &Db,
    mail: &OutgoingMail,
    audit_kind: AuditKind,
    user: Option<&UserId>,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    db.query(
        "BEGIN TRANSACTION;
         CREATE outbox CONTENT { to: $to, subject: $subject, body: $body, created_at: $now };
         CREATE audit CONTENT { kind: $kind, user: $user, email: $to, ip: $ip, at: $now };
         COMMIT TRANSACTION;",
    )
    .bind(("to", mail.to.clone()))
    .bind(("subject", mail.subject.clone()))
    .bind(("body", mail.body.clone()))
    .bind(("kind", audit_kind.key()))
    .bind(("user", user.map(user_record)))
    .bind(("ip", ip))
    .bind(("now", now))
    .await
    .and_then(|r| r.check())
    .map_err(internal("queue mail"))?;
    Ok(())
}

#[derive(Debug, SurrealValue)]
struct IdRow {
    id: String,
}

#[derive(Debug, SurrealValue)]
struct CredentialRow {
    id: String,
    password_hash: String,
}

/// The user id and password hash for an email, if such a user exists.
pub async fn credentials(db: &Db, email: &Email) -> Result<Option<(UserId, String)>, AppError> {
    let mut res = db
        .query("SELECT record::id(id) AS id, password_hash FROM user WHERE email = $email LIMIT 1")
        .bind(("email", email.as_str().to_string()))
        .await
        .map_err(internal("credentials"))?;
    let row: Option<CredentialRow> = res.take(0).map_err(internal("credentials"))?;
    Ok(row.map(|r| (UserId(r.id), r.password_hash)))
}

pub async fn password_hash(db: &Db, user: &UserId) -> Result<Option<String>, AppError> {
    let mut res = db
        .query("SELECT VALUE password_hash FROM ONLY $user")
        .bind(("user", user_record(user)))
        .await
        .map_err(internal("password hash"))?;
    res.take::<Option<String>>(0)
        .map_err(internal("password hash"))
}

pub async fn current_user(db: &Db, user: &UserId) -> Result<Option<CurrentUser>, AppError> {
    let mut res = db
        .query(format!("SELECT {USER_FIELDS} FROM ONLY $user"))
        .bind(("user", user_record(user)))
        .await
        .map_err(internal("current user"))?;
    let row: Option<UserRow> = res.take(0).map_err(internal("current user"))?;
    Ok(row.map(UserRow::into_current))
}

pub async fn count_users(db: &Db) -> Result<i64, AppError> {
    let mut res = db
        .query("(SELECT count() AS n FROM user GROUP ALL)[0].n ?? 0")
        .await
        .map_err(internal("count users"))?;
    Ok(res
        .take::<Option<i64>>(0)
        .map_err(internal("count users"))?
        .unwrap_or(0))
}

/// Every user, for the admin page (newest first, bounded).
pub async fn list_users(db: &Db, limit: i64) -> Result<Vec<CurrentUser>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {USER_FIELDS}, created_at FROM user ORDER BY created_at DESC LIMIT $limit"
        ))
        .bind(("limit", limit))
        .await
        .map_err(internal("list users"))?;
    let rows: Vec<UserRow> = res.take(0).map_err(internal("list users"))?;
    Ok(rows.into_iter().map(UserRow::into_current).collect())
}

#[derive(SurrealValue)]
struct ProfileRow {
    id: String,
    email: String,
    display_name: String,
    bio: String,
    skills: SerdeWrapper<Vec<Skill>>,
    languages: Vec<String>,
    timezone: String,
    roles: Vec<String>,
    email_verified: bool,
}

pub async fn profile(db: &Db, user: &UserId) -> Result<Option<Profile>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(id) AS id, email, display_name, bio, skills, languages, timezone,
                    roles, email_verified FROM ONLY $user",
        )
        .bind(("user", user_record(user)))
        .await
        .map_err(internal("profile"))?;
    let row: Option<ProfileRow> = res.take(0).map_err(internal("profile"))?;
    Ok(row.map(|r| Profile {
        id: UserId(r.id),
        email: r.email,
        display_name: r.display_name,
        bio: r.bio,
        skills: r.skills.0,
        languages: r.languages,
        timezone: r.timezone,
        roles: roles_from(&r.roles),
        email_verified: r.email_verified,
    }))
}

pub async fn update_profile(
    db: &Db,
    user: &UserId,
    update: &ProfileUpdate,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    db.query(
        "UPDATE $user MERGE {
            display_name: $name, bio: $bio, skills: $skills, languages: $languages,
            timezone: $timezone, updated_at: $now
         }",
    )
    .bind(("user", user_record(user)))
    .bind(("name", update.display_name.as_str().to_string()))
    .bind(("bio", update.bio.clone()))
    .bind(("skills", SerdeWrapper(update.skills.clone())))
    .bind(("languages", update.languages.clone()))
    .bind(("timezone", update.timezone.as_str().to_string()))
    .bind(("now", now))
    .await
    .and_then(|r| r.check())
    .map_err(internal("update profile"))?;
    Ok(())
}

/// Replaces the password hash and ends every other session of the user, all or nothing.
pub async fn change_password(
    db: &Db,
    user: &UserId,
    new_hash: &str,
    keep_session: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    db.query(
        "BEGIN TRANSACTION;
         UPDATE $user SET password_hash = $hash, updated_at = $now;
         DELETE session WHERE user = $user AND token_hash != $keep;
         UPDATE email_token SET used_at = $now
            WHERE user = $user AND purpose = 'reset_password' AND used_at = NONE;
         COMMIT TRANSACTION;",
    )
    .bind(("user", user_record(user)))
    .bind(("hash", new_hash.to_string()))
    .bind(("keep", keep_session.to_string()))
    .bind(("now", now))
    .await
    .and_then(|r| r.check())
    .map_err(internal("change password"))?;
    Ok(())
}

/// Grants or revokes a role. A user always keeps at least one role (learner by default).
pub async fn set_role(db: &Db, user: &UserId, role: Role, granted: bool) -> Result<bool, AppError> {
    let query = if granted {
        "UPDATE ONLY $user SET roles = array::union(roles, [$role]) RETURN record::id(id) AS id"
    } else {
        "UPDATE ONLY $user SET roles = IF array::len(array::complement(roles, [$role])) = 0
            THEN ['learner'] ELSE array::complement(roles, [$role]) END RETURN record::id(id) AS id"
    };
    let mut res = db
        .query(format!(
            "IF record::exists($user) {{ {query} }} ELSE {{ NONE }}"
        ))
        .bind(("user", user_record(user)))
        .bind(("role", role.key().to_string()))
        .await
        .map_err(internal("set role"))?;
    let row: Option<IdRow> = res.take(0).map_err(internal("set role"))?;
    Ok(row.is_some())
}

/// Confirms the address and, in the same transaction, turns the room invitations waiting for
/// it into memberships (each guest is told, as an invitation to a confirmed account is).
pub async fn mark_email_verified(
    db: &Db,
    user: &UserId,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    // The invitation's notice is written as an object literal: the room's title is only
    // known inside the transaction. It is `Notice::RoomInvite` in its stored form.
    let query = format!(
        "BEGIN TRANSACTION;
         UPDATE $user SET email_verified = true, updated_at = $now;
         LET $email = (SELECT VALUE email FROM ONLY $user);
         FOR $invite IN (SELECT * FROM room_invite WHERE email = $email) {{
            LET $member = type::record('room_member',
                record::id($invite.room) + '_' + record::id($user));
            IF !record::exists($member) {{
                CREATE $member SET room = $invite.room, user = $user, host = false,
                    added_at = $now, invited_as = $email, joined = false;
                {}
            }};
            DELETE $invite.id;
         }};
         COMMIT TRANSACTION;",
        notify_stmt(
            "$user",
            NoticeKind::Room,
            "{ msg: 'room_invite', title: $invite.room.title }",
            "'/rooms/' + record::id($invite.room)"
        )
    );
    db.query(query.as_str())
        .bind(("user", user_record(user)))
        .bind(("now", now))
        .await
        .and_then(|r| r.check())
        .map_err(internal("verify email"))?;
    Ok(())
}

/// Accounts still unconfirmed, made before `before`, with no role but learner: what the
/// hourly clean-up erases (`privacy::repo::erase`, which checks each again).
pub async fn unconfirmed_before(db: &Db, before: DateTime<Utc>) -> Result<Vec<UserId>, AppError> {
    let mut res = db
        .query(
            "SELECT VALUE record::id(id) FROM user
             WHERE email_verified = false AND created_at < $before AND roles = ['learner']
                AND deleted_at = NONE
             LIMIT 500",
        )
        .bind(("before", before))
        .await
        .map_err(internal("unverified accounts"))?;
    let users: Vec<String> = res.take(0).map_err(internal("unverified accounts"))?;
    Ok(users.into_iter().map(UserId).collect())
}

// ---- sessions ---------------------------------------------------------------------------

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user: &'a UserId,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Stores a new session, deleting the one it replaces (rotation at sign-in) in the same
/// transaction, so the old token is dead the moment the new one exists.
pub async fn create_session(
    db: &Db,
    session: NewSession<'_>,
    replaces: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    db.query(
        "BEGIN TRANSACTION;
         DELETE session WHERE token_hash = $old;
         CREATE session CONTENT {
            token_hash: $hash, user: $user, created_at: $now, last_seen_at: $now,
            expires_at: $expires, ip: $ip, user_agent: $ua
         };
         COMMIT TRANSACTION;",
    )
    .bind(("old", replaces.unwrap_or_default().to_string()))
    .bind(("hash", session.token_hash.to_string()))
    .bind(("user", user_record(session.user)))
    .bind(("now", now))
    .bind(("expires", session.expires_at))
    .bind(("ip", session.ip))
    .bind(("ua", session.user_agent))
    .await
    .and_then(|r| r.check())
    .map_err(internal("create session"))?;
    Ok(())
}

#[derive(Debug, SurrealValue)]
struct SessionRow {
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    user: Option<UserRow>,
    suspended: bool,
}

pub struct StoredSession {
    pub user: CurrentUser,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn find_session(db: &Db, token_hash: &str) -> Result<Option<StoredSession>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT last_seen_at, expires_at, (SELECT {USER_FIELDS} FROM ONLY $parent.user) AS user,
                user.suspended_at != NONE AS suspended
             FROM session WHERE token_hash = $hash LIMIT 1"
        ))
        .bind(("hash", token_hash.to_string()))
        .await
        .map_err(internal("find session"))?;
    let row: Option<SessionRow> = res.take(0).map_err(internal("find session"))?;
    // Suspending deletes the account's sessions; one started in the same instant (a sign-in
    // that checked just before) is refused here.
    Ok(row.filter(|r| !r.suspended).and_then(|r| {
        r.user.map(|u| StoredSession {
            user: u.into_current(),
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
        })
    }))
}

/// Moves a session's last use forward. Two requests of one session may race here; the loser's
/// error is returned for the caller to ignore (it is not logged as a failure).
pub async fn touch_session(
    db: &Db,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), surrealdb::Error> {
    db.query("UPDATE session SET last_seen_at = $now WHERE token_hash = $hash")
        .bind(("hash", token_hash.to_string()))
        .bind(("now", now))
        .await
        .and_then(|r| r.check())
        .map(drop)
}

/// A session that ended (signed out, replaced, expired, or ended by a change to its account).
#[derive(Clone, Debug, SurrealValue)]
pub struct EndedSession {
    pub token_hash: String,
    pub user: String,
}

/// Sessions as they end, on whichever app server ended them: each server forgets its cached
/// copy and closes that session's sockets at once.
pub async fn watch_ended_sessions(db: &Db) -> Result<LiveChanges<EndedSession>, AppError> {
    live(
        db,
        "LIVE SELECT token_hash, record::id(user) AS user FROM session WHERE $event = 'DELETE'",
    )
    .await
    .map_err(internal("watching sessions"))
}

/// An account whose signed-in view changed (what a cached session holds), and whether its
/// access did (roles, suspension, deletion), which ends its sockets.
#[derive(Clone, Debug, SurrealValue)]
pub struct AccountChange {
    pub user: String,
    pub access: bool,
}

/// Changes to accounts that a cached session or an open socket depends on, on whichever app
/// server made them.
pub async fn watch_account_changes(db: &Db) -> Result<LiveChanges<AccountChange>, AppError> {
    live(
        db,
        "LIVE SELECT record::id(id) AS user,
            ($event = 'DELETE' OR $before.roles != $after.roles
                OR $before.suspended_at != $after.suspended_at
                OR $before.deleted_at != $after.deleted_at) AS access
         FROM user
         WHERE $event = 'DELETE' OR $before.roles != $after.roles
            OR $before.suspended_at != $after.suspended_at
            OR $before.deleted_at != $after.deleted_at
            OR $before.password_hash != $after.password_hash
            OR $before.email != $after.email OR $before.display_name != $after.display_name
            OR $before.email_verified != $after.email_verified",
    )
    .await
    .map_err(internal("watching accounts"))
}

pub async fn delete_session(db: &Db, token_hash: &str) -> Result<(), AppError> {
    db.query("DELETE session WHERE token_hash = $hash")
        .bind(("hash", token_hash.to_string()))
        .await
        .and_then(|r| r.check())
        .map_err(internal("delete session"))?;
    Ok(())
}

/// Removes sessions that can no longer be used (run from a periodic job).
pub async fn delete_expired_sessions(
    db: &Db,
    now: DateTime<Utc>,
    idle_cutoff: DateTime<Utc>,
) -> Result<(), AppError> {
    db.query("DELETE session WHERE expires_at <= $now OR last_seen_at <= $idle")
        .bind(("now", now))
        .bind(("idle", idle_cutoff))
        .await
        .and_then(|r| r.check())
        .map_err(internal("expire sessions"))?;
    Ok(())
}

// ---- email tokens and the outbox -------------------------------------------------------

/// Stores a verification token and queues the email carrying it, together.
pub async fn create_verification(
    db: &Db,
    user: &UserId,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    mail: &OutgoingMail,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    write_with_retry("create verification", Problem::TryAgain, || {
        db.query(format!(
            "BEGIN TRANSACTION;
             -- Touches the account, so two requests at once conflict and one retries (and
             -- then counts the other's link): the hourly allowance holds under a burst.
             UPDATE $user SET updated_at = updated_at;
             {VERIFY_MAILS_SPENT};
             CREATE email_token CONTENT {{
                token_hash: $hash, user: $user, purpose: 'verify_email', created_at: $now,
                expires_at: $expires
             }};
             CREATE outbox CONTENT {{ to: $to, subject: $subject, body: $body, created_at: $now }};
             COMMIT TRANSACTION;"
        ))
        .bind(("hash", token_hash.to_string()))
        .bind(("user", user_record(user)))
        .bind(("expires", expires_at))
        .bind(("to", mail.to.clone()))
        .bind(("subject", mail.subject.clone()))
        .bind(("body", mail.body.clone()))
        .bind(("hour_ago", now - chrono::Duration::hours(1)))
        .bind(("max", VERIFY_MAILS_PER_HOUR))
        .bind(("now", now))
        .into_future()
    })
    .await
}

/// Links confirming an address one account may be sent in an hour, whoever asks (the owner
/// resending, or anyone signing up again with an unconfirmed address): nobody can fill an
/// inbox through Pairwise.
pub const VERIFY_MAILS_PER_HOUR: i64 = 3;

/// Throws `TooManyMails` inside a transaction when `$user` was sent `$max` confirmation links
/// since `$hour_ago`.
const VERIFY_MAILS_SPENT: &str = "IF count(SELECT id FROM email_token
        WHERE user = $user AND purpose = 'verify_email' AND created_at > $hour_ago) >= $max
        { THROW 'pw:too_many_mails' }";

/// How many mails of `kind` (as audited) the account was sent in the hour before `now`; sign-up
/// uses it for "someone tried to sign up with your confirmed address".
pub async fn recent_mails_of_kind(
    db: &Db,
    user: &UserId,
    kind: AuditKind,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let mut res = db
        .query("count(SELECT id FROM audit WHERE user = $user AND kind = $kind AND at > $hour_ago)")
        .bind(("user", user_record(user)))
        .bind(("kind", kind.key()))
        .bind(("hour_ago", now - chrono::Duration::hours(1)))
        .await
        .map_err(internal("recent mails"))?;
    let n: Option<i64> = res.take(0).map_err(internal("recent mails"))?;
    Ok(n.unwrap_or(0))
}

/// Uses a verification token once: marks it used and returns its user, or `None` when the
/// token is unknown, used or expired.
pub async fn consume_verification(
    db: &Db,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<UserId>, AppError> {
    let mut res = db
        .query(
            "UPDATE email_token SET used_at = $now
             WHERE token_hash = $hash AND purpose = 'verify_email' AND used_at = NONE
                AND expires_at > $now
             RETURN record::id(user) AS id",
        )
        .bind(("hash", token_hash.to_string()))
        .bind(("now", now))
        .await
        .map_err(internal("consume verification"))?;
    let rows: Vec<IdRow> = res.take(0).map_err(internal("consume verification"))?;
    Ok(rows.into_iter().next().map(|r| UserId(r.id)))
}

// ---- password reset --------------------------------------------------------------------------

/// Reset links one account may be sent in an hour: a stranger cannot fill its owner's inbox.
pub const RESETS_PER_HOUR: i64 = 3;

/// Mails a password-reset link: the token (only its hash stored, valid until `expires_at`),
/// the mail and the audit entry, in one transaction; the account's older unused links stop
/// working. Refused with `TryAgain`, changing nothing, when the account was sent
/// [`RESETS_PER_HOUR`] links in the last hour.
pub async fn create_reset(
    db: &Db,
    user: &UserId,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    mail: &OutgoingMail,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    write_with_retry("create reset", Problem::TryAgain, || {
        db.query(
            "BEGIN TRANSACTION;
             -- Touches the account, so two requests at once conflict and one retries (and
             -- then counts the other's link): the hourly allowance holds under a burst.
             UPDATE $user SET updated_at = updated_at;
             LET $recent = count(SELECT id FROM email_token
                WHERE user = $user AND purpose = 'reset_password' AND created_at > $hour_ago);
             IF $recent >= $max { THROW 'pw:try_again' };
             UPDATE email_token SET used_at = $now
                WHERE user = $user AND purpose = 'reset_password' AND used_at = NONE;
             CREATE email_token CONTENT {
                token_hash: $hash, user: $user, purpose: 'reset_password', created_at: $now,
                expires_at: $expires
             };
             CREATE outbox CONTENT { to: $to, subject: $subject, body: $body, created_at: $now };
             CREATE audit CONTENT {
                kind: 'password_reset_requested', user: $user, email: $to, ip: $ip, at: $now
             };
             COMMIT TRANSACTION;",
        )
        .bind(("user", user_record(user)))
        .bind(("hash", token_hash.to_string()))
        .bind(("expires", expires_at))
        .bind(("hour_ago", now - chrono::Duration::hours(1)))
        .bind(("max", RESETS_PER_HOUR))
        .bind(("to", mail.to.clone()))
        .bind(("subject", mail.subject.clone()))
        .bind(("body", mail.body.clone()))
        .bind(("ip", ip.clone()))
        .bind(("now", now))
        .into_future()
    })
    .await
}

/// True while a reset link can still be used (known, unused, unexpired).
pub async fn reset_link_open(
    db: &Db,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let mut res = db
        .query(
            "RETURN count(SELECT id FROM email_token WHERE token_hash = $hash
                AND purpose = 'reset_password' AND used_at = NONE AND expires_at > $now) > 0",
        )
        .bind(("hash", token_hash.to_string()))
        .bind(("now", now))
        .await
        .map_err(internal("reset link"))?;
    let open: Option<bool> = res.take(0).map_err(internal("reset link"))?;
    Ok(open.unwrap_or(false))
}

/// Uses a reset link once: sets the new password, ends every session of the account and
/// audits it, in one transaction. `TokenInvalid` (nothing changed) for an unknown, used or
/// expired link.
pub async fn reset_password(
    db: &Db,
    token_hash: &str,
    new_hash: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> Result<UserId, AppError> {
    let mut res = transact_with_retry("reset password", Problem::TokenInvalid, || {
        db.query(
            "BEGIN TRANSACTION;
             LET $used = (UPDATE email_token SET used_at = $now
                WHERE token_hash = $hash AND purpose = 'reset_password' AND used_at = NONE
                    AND expires_at > $now
                RETURN VALUE user);
             IF array::len($used) = 0 { THROW 'pw:token_invalid' };
             LET $user = $used[0];
             UPDATE $user SET password_hash = $new_hash, updated_at = $now;
             DELETE session WHERE user = $user;
             CREATE audit CONTENT { kind: 'password_reset', user: $user, ip: $ip, at: $now };
             SELECT VALUE record::id(id) FROM ONLY $user;
             COMMIT TRANSACTION;",
        )
        .bind(("hash", token_hash.to_string()))
        .bind(("new_hash", new_hash.to_string()))
        .bind(("ip", ip.clone()))
        .bind(("now", now))
        .into_future()
    })
    .await?;
    // BEGIN and COMMIT count as statements: the SELECT is the one before COMMIT.
    let select = res.num_statements().saturating_sub(2);
    let user: Option<String> = res.take(select).map_err(internal("reset password"))?;
    user.map(UserId).ok_or(AppError::Internal)
}

// ---- changing the e-mail address -------------------------------------------------------

/// Links to change the address one account may ask for in an hour.
pub const EMAIL_CHANGES_PER_HOUR: i64 = 3;

/// Queues the mails of a change request and, when the new address is free, its single-use
/// link (any earlier open link of the account is spent): all in one transaction, audited.
/// `TooManyMails` past the hourly allowance.
#[expect(clippy::too_many_arguments, reason = "one transaction's inputs")]
pub async fn create_email_change(
    db: &Db,
    user: &UserId,
    token_hash: Option<&str>,
    new_email: &str,
    expires_at: DateTime<Utc>,
    mails: &[OutgoingMail],
    ip: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mails: Vec<serde_json::Value> = mails
        .iter()
        .map(|m| serde_json::json!({ "to": m.to, "subject": m.subject, "body": m.body }))
        .collect();
    write_with_retry("create email change", Problem::TryAgain, || {
        db.query(
            "BEGIN TRANSACTION;
             -- Touches the account, so two requests at once conflict and one retries.
             UPDATE $user SET updated_at = updated_at;
             LET $recent = count(SELECT id FROM audit
                WHERE user = $user AND kind = 'email_change_requested' AND at > $hour_ago);
             IF $recent >= $max { THROW 'pw:too_many_mails' };
             UPDATE email_token SET used_at = $now
                WHERE user = $user AND purpose = 'change_email' AND used_at = NONE;
             IF $hash != NONE {
                CREATE email_token CONTENT {
                    token_hash: $hash, user: $user, purpose: 'change_email', new_email: $new,
                    created_at: $now, expires_at: $expires
                };
             };
             FOR $m IN $mails {
                CREATE outbox CONTENT { to: $m.to, subject: $m.subject, body: $m.body, created_at: $now };
             };
             CREATE audit CONTENT { kind: 'email_change_requested', user: $user, ip: $ip, at: $now };
             COMMIT TRANSACTION;",
        )
        .bind(("user", user_record(user)))
        .bind(("hash", token_hash.map(str::to_string)))
        .bind(("new", new_email.to_string()))
        .bind(("expires", expires_at))
        .bind(("hour_ago", now - chrono::Duration::hours(1)))
        .bind(("max", EMAIL_CHANGES_PER_HOUR))
        .bind(("mails", mails.clone()))
        .bind(("ip", ip.clone()))
        .bind(("now", now))
        .into_future()
    })
    .await
}

/// An open change link: whose, the address it moves them to, and their present address and
/// language (for the mail to the old address).
#[derive(Clone, Debug, SurrealValue)]
pub struct EmailChange {
    pub user: String,
    pub new_email: String,
    pub old_email: String,
    pub locale: String,
}

pub async fn open_email_change(
    db: &Db,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<EmailChange>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(user) AS user, new_email, user.email AS old_email,
                user.locale ?? 'en' AS locale
             FROM ONLY email_token WHERE token_hash = $hash AND purpose = 'change_email'
                AND used_at = NONE AND expires_at > $now LIMIT 1",
        )
        .bind(("hash", token_hash.to_string()))
        .bind(("now", now))
        .await
        .map_err(internal("email change link"))?;
    res.take(0).map_err(internal("email change link"))
}

/// Uses a change link once: the account takes the new address (confirmed by the link), the
/// old address is told, and it is audited, in one transaction. `TokenInvalid` for a used or
/// expired link, `EmailTaken` when another account took the address meanwhile.
pub async fn confirm_email_change(
    db: &Db,
    token_hash: &str,
    mail: &OutgoingMail,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    write_with_retry("confirm email change", Problem::EmailTaken, || {
        db.query(
            "BEGIN TRANSACTION;
             LET $used = (UPDATE email_token SET used_at = $now
                WHERE token_hash = $hash AND purpose = 'change_email' AND used_at = NONE
                    AND expires_at > $now
                RETURN AFTER);
             IF array::len($used) = 0 { THROW 'pw:token_invalid' };
             LET $user = $used[0].user;
             UPDATE $user SET email = $used[0].new_email, email_verified = true, updated_at = $now;
             -- Links mailed to the old address are of no use any more.
             UPDATE email_token SET used_at = $now WHERE user = $user AND used_at = NONE;
             CREATE outbox CONTENT { to: $to, subject: $subject, body: $body, created_at: $now };
             CREATE audit CONTENT { kind: 'email_changed', user: $user, ip: $ip, at: $now };
             COMMIT TRANSACTION;",
        )
        .bind(("hash", token_hash.to_string()))
        .bind(("to", mail.to.clone()))
        .bind(("subject", mail.subject.clone()))
        .bind(("body", mail.body.clone()))
        .bind(("ip", ip.clone()))
        .bind(("now", now))
        .into_future()
    })
    .await
}

// ---- audit log and sign-in limits -------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditKind {
    SignUp,
    SignIn,
    SignInFailed,
    SignOut,
    PasswordChanged,
    RoleGranted,
    RoleRevoked,
    EmailVerified,
    AdminCreated,
    /// A sign-up for an address whose account is confirmed: its owner was told by mail.
    SignUpExisting,
    /// An unconfirmed account removed after its grace period.
    UnverifiedPurged,
    /// A password-reset link was mailed.
    PasswordResetRequested,
    /// A password was set through a reset link (every session ended).
    PasswordReset,
    /// A forum post was reported (`detail`: the post and the reason).
    ForumReported,
    /// A moderator acted on a forum post (`detail`: the post, the action and the reason).
    ForumModerated,
    /// Someone downloaded everything Pairwise holds about them.
    DataExported,
    /// An account was erased by its owner (the entry names only the emptied account).
    AccountDeleted,
    /// An admin suspended an account (`detail`: the reason).
    UserSuspended,
    /// An admin lifted a suspension.
    UserUnsuspended,
    /// An admin ended one of an account's sessions.
    SessionEnded,
    /// The right password for a suspended account: refused.
    SignInSuspended,
    /// A learner applied to mentor.
    MentorApplied,
    /// An admin approved an application to mentor (the role granted with it).
    MentorApproved,
    /// An admin declined an application to mentor (`detail`: the note).
    MentorDeclined,
    /// An admin published a new version of the terms or the privacy notice (`detail`:
    /// which, and its version).
    LegalPublished,
}

impl AuditKind {
    fn key(self) -> &'static str {
        match self {
            AuditKind::SignUp => "sign_up",
            AuditKind::SignIn => "sign_in",
            AuditKind::SignInFailed => "sign_in_failed",
            AuditKind::SignOut => "sign_out",
            AuditKind::PasswordChanged => "password_changed",
            AuditKind::RoleGranted => "role_granted",
            AuditKind::RoleRevoked => "role_revoked",
            AuditKind::EmailVerified => "email_verified",
            AuditKind::AdminCreated => "admin_created",
            AuditKind::SignUpExisting => "sign_up_existing",
            AuditKind::UnverifiedPurged => "unverified_purged",
            AuditKind::PasswordResetRequested => "password_reset_requested",
            AuditKind::PasswordReset => "password_reset",
            AuditKind::ForumReported => "forum_reported",
            AuditKind::DataExported => "data_exported",
            AuditKind::UserSuspended => "user_suspended",
            AuditKind::UserUnsuspended => "user_unsuspended",
            AuditKind::SessionEnded => "session_ended",
            AuditKind::SignInSuspended => "sign_in_suspended",
            AuditKind::MentorApplied => "mentor_applied",
            AuditKind::MentorApproved => "mentor_approved",
            AuditKind::MentorDeclined => "mentor_declined",
            AuditKind::LegalPublished => "legal_published",
            AuditKind::AccountDeleted => "account_deleted",
            AuditKind::ForumModerated => "forum_moderated",
        }
    }
}

/// A statement that audits `kind` inside the caller's transaction: `$audit_user` (whom it
/// concerns), `$audit_actor` (who did it) and `$audit_detail` must be bound, `$now` too.
pub fn audit_stmt(kind: AuditKind) -> String {
    format!(
        "CREATE audit SET kind = '{}', user = $audit_user, actor = $audit_actor,
            detail = $audit_detail, at = $now;",
        kind.key()
    )
}

#[derive(Default)]
pub struct AuditEntry {
    pub user: Option<UserId>,
    pub actor: Option<UserId>,
    pub email: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

pub async fn audit(
    db: &Db,
    kind: AuditKind,
    entry: AuditEntry,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    db.query(
        "CREATE audit CONTENT { kind: $kind, user: $user, actor: $actor, email: $email, ip: $ip,
            detail: $detail, at: $now }",
    )
    .bind(("kind", kind.key().to_string()))
    .bind(("user", entry.user.as_ref().map(user_record)))
    .bind(("actor", entry.actor.as_ref().map(user_record)))
    .bind(("email", entry.email))
    .bind(("ip", entry.ip))
    .bind(("detail", entry.detail))
    .bind(("now", now))
    .await
    .and_then(|r| r.check())
    .map_err(internal("audit"))?;
    Ok(())
}

/// Failed sign-ins for an email from one address (since `email_since`) and from that address
/// for any email (since `ip_since`), with the oldest of each (so the caller can say when the
/// window frees up).
pub struct FailureCounts {
    pub by_pair: i64,
    pub oldest_by_pair: Option<DateTime<Utc>>,
    pub by_ip: i64,
    pub oldest_by_ip: Option<DateTime<Utc>>,
}

#[derive(Debug, SurrealValue)]
struct FailureRow {
    n: i64,
    oldest: Option<DateTime<Utc>>,
}

/// Failed sign-ins for an email from anywhere since `since`.
pub async fn recent_failures_for(
    db: &Db,
    email: &str,
    since: DateTime<Utc>,
) -> Result<i64, AppError> {
    let mut res = db
        .query(
            "SELECT count() AS n, time::min(at) AS oldest FROM audit
                WHERE kind = 'sign_in_failed' AND email = $email AND at > $since GROUP ALL",
        )
        .bind(("email", email.to_string()))
        .bind(("since", since))
        .await
        .map_err(internal("recent failures"))?;
    let row: Option<FailureRow> = res.take(0).map_err(internal("recent failures"))?;
    Ok(row.map_or(0, |r| r.n))
}

pub async fn recent_failures(
    db: &Db,
    email: &str,
    email_since: DateTime<Utc>,
    ip: Option<&str>,
    ip_since: DateTime<Utc>,
) -> Result<FailureCounts, AppError> {
    let mut res = db
        .query(
            "SELECT count() AS n, time::min(at) AS oldest FROM audit
                WHERE kind = 'sign_in_failed' AND email = $email AND ip = $ip
                AND at > $email_since GROUP ALL;
             SELECT count() AS n, time::min(at) AS oldest FROM audit
                WHERE kind = 'sign_in_failed' AND ip = $ip AND at > $ip_since GROUP ALL;",
        )
        .bind(("email", email.to_string()))
        .bind(("email_since", email_since))
        .bind(("ip", ip.map(str::to_string)))
        .bind(("ip_since", ip_since))
        .await
        .map_err(internal("recent failures"))?;
    let by_pair: Option<FailureRow> = res.take(0).map_err(internal("recent failures"))?;
    let by_ip: Option<FailureRow> = if ip.is_some() {
        res.take(1).map_err(internal("recent failures"))?
    } else {
        None
    };
    Ok(FailureCounts {
        by_pair: by_pair.as_ref().map_or(0, |r| r.n),
        oldest_by_pair: by_pair.and_then(|r| r.oldest),
        by_ip: by_ip.as_ref().map_or(0, |r| r.n),
        oldest_by_ip: by_ip.and_then(|r| r.oldest),
    })
}

/// Why an account is suspended, when it is.
pub async fn suspension(db: &Db, user: &UserId) -> Result<Option<String>, AppError> {
    let mut res = db
        .query("SELECT VALUE suspended_reason FROM ONLY $u")
        .bind(("u", user_record(user)))
        .await
        .map_err(internal("suspension"))?;
    let reason: Option<String> = res.take(0).map_err(internal("suspension"))?;
    Ok(reason)
}
