//! What the admin pages show, and the parsed inputs of their forms.

use serde::{Deserialize, Serialize};

use crate::{accounts::model::Role, courses::model::encode_component, error::Problem};

/// People per page of the user search.
pub const USERS_PER_PAGE: u32 = 25;
/// Entries per page of the audit log.
pub const AUDIT_PER_PAGE: u32 = 50;
/// The longest reason an admin may give for a suspension (what the person is shown).
pub const REASON_MAX_CHARS: usize = 500;

/// The user search's form: words of a name or an address, a role, a page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserQuery {
    /// Lower-cased, at most 100 characters; empty finds everyone.
    pub q: String,
    pub role: Option<Role>,
    pub page: u32,
}

impl UserQuery {
    /// Never fails: what cannot be a role is no role filter, an over-long text is cut.
    pub fn parse(q: &str, role: &str, page: u32) -> Self {
        Self {
            q: q.trim().to_lowercase().chars().take(100).collect(),
            role: Role::parse(role),
            page: page.min(10_000),
        }
    }

    /// The search page's address for `page` of the same search.
    pub fn href(&self, page: u32) -> String {
        let mut url = format!("/admin?page={page}");
        if !self.q.is_empty() {
            url.push_str("&q=");
            url.push_str(&encode_component(&self.q));
        }
        if let Some(role) = self.role {
            url.push_str("&role=");
            url.push_str(role.key());
        }
        url
    }
}

/// One person found by the search.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserItem {
    pub id: String,
    pub display_name: String,
    pub email: String,
    pub roles: Vec<Role>,
    pub suspended: bool,
    /// When they signed up, in the admin's language and zone.
    pub joined: String,
}

/// One page of the user search.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSearch {
    pub query: UserQuery,
    pub users: Vec<UserItem>,
    pub more: bool,
}

/// Why and since when an account is suspended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    pub since: String,
    pub reason: String,
}

/// One live sign-in of a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionItem {
    pub id: String,
    pub started: String,
    pub last_seen: String,
    pub address: Option<String>,
    pub device: Option<String>,
}

/// A course a person takes or wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourseItem {
    pub slug: String,
    pub title: String,
}

/// A mentorship a person is part of, seen from their side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MentorshipItem {
    /// The other person.
    pub other_id: String,
    pub other_name: String,
    /// Whether this person is the mentor in it.
    pub as_mentor: bool,
    pub active: bool,
    pub started: String,
}

/// One audit entry, its people named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditItem {
    pub id: String,
    pub kind: String,
    /// The kind in the reader's language.
    pub what: String,
    pub at: String,
    pub at_iso: String,
    pub user: Option<PersonRef>,
    pub actor: Option<PersonRef>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub detail: Option<String>,
}

/// A person an entry names, for a link to their page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRef {
    pub id: String,
    pub name: String,
}

/// Everything the admin's page about one person shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    pub id: String,
    pub display_name: String,
    pub email: String,
    pub email_verified: bool,
    pub roles: Vec<Role>,
    pub joined: String,
    pub suspended: Option<Suspension>,
    pub sessions: Vec<SessionItem>,
    pub audit: Vec<AuditItem>,
    pub enrolled: Vec<CourseItem>,
    pub authored: Vec<CourseItem>,
    pub mentorships: Vec<MentorshipItem>,
    /// The page is the admin's own: no suspending oneself.
    pub is_self: bool,
}

/// The audit log's filters: a kind, a person (their address or account key), a page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub kind: Option<String>,
    pub person: String,
    pub page: u32,
}

impl AuditQuery {
    /// Never fails: an unknown kind is no kind filter.
    pub fn parse(kind: &str, person: &str, page: u32) -> Self {
        let kind = kind.trim();
        Self {
            kind: AUDIT_KINDS
                .iter()
                .find(|k| **k == kind)
                .map(|k| (*k).to_string()),
            person: person.trim().chars().take(254).collect(),
            page: page.min(10_000),
        }
    }

    pub fn href(&self, page: u32) -> String {
        let mut url = format!("/admin/audit?page={page}");
        if let Some(kind) = &self.kind {
            url.push_str("&kind=");
            url.push_str(kind);
        }
        if !self.person.is_empty() {
            url.push_str("&person=");
            url.push_str(&encode_component(&self.person));
        }
        url
    }
}

/// One page of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub query: AuditQuery,
    pub entries: Vec<AuditItem>,
    pub more: bool,
}

/// Every kind of audit entry, as the schema allows them (`audit.kind`).
pub const AUDIT_KINDS: [&str; 27] = [
    "sign_up",
    "sign_in",
    "sign_in_failed",
    "sign_in_suspended",
    "sign_out",
    "password_changed",
    "password_reset_requested",
    "password_reset",
    "email_verified",
    "email_change_requested",
    "email_changed",
    "sign_up_existing",
    "unverified_purged",
    "role_granted",
    "role_revoked",
    "admin_created",
    "user_suspended",
    "user_unsuspended",
    "session_ended",
    "mentor_applied",
    "mentor_approved",
    "mentor_declined",
    "legal_published",
    "forum_reported",
    "forum_moderated",
    "data_exported",
    "account_deleted",
];

/// The words an admin gives for a suspension: what the person is told when they try to
/// sign in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuspendReason(String);

impl SuspendReason {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let reason = raw.trim();
        if reason.is_empty() {
            return Err(Problem::SuspendReasonEmpty);
        }
        if reason.chars().count() > REASON_MAX_CHARS {
            return Err(Problem::SuspendReasonLong);
        }
        Ok(Self(reason.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suspension_needs_words_and_not_too_many() {
        assert_eq!(SuspendReason::parse("  "), Err(Problem::SuspendReasonEmpty));
        assert_eq!(
            SuspendReason::parse(&"x".repeat(REASON_MAX_CHARS + 1)),
            Err(Problem::SuspendReasonLong)
        );
        assert_eq!(
            SuspendReason::parse(" Spam in the forum ").map(|r| r.as_str().to_string()),
            Ok("Spam in the forum".to_string())
        );
    }

    #[test]
    fn search_inputs_parse_leniently_and_round_trip_through_the_address() {
        let q = UserQuery::parse("  Ada@Example.org ", "mentor", 2);
        assert_eq!(q.q, "ada@example.org");
        assert_eq!(q.role, Some(Role::Mentor));
        assert_eq!(q.href(3), "/admin?page=3&q=ada%40example.org&role=mentor");
        assert_eq!(UserQuery::parse("", "wizard", 0).role, None);
        let a = AuditQuery::parse("user_suspended", "ada@example.org", 1);
        assert_eq!(a.kind.as_deref(), Some("user_suspended"));
        assert_eq!(
            a.href(0),
            "/admin/audit?page=0&kind=user_suspended&person=ada%40example.org"
        );
        assert_eq!(AuditQuery::parse("'; DROP", "", 0).kind, None);
    }
}
