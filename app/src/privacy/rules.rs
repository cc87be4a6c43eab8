//! What happens to each piece of data that refers to a person, when they ask for a copy of
//! their data and when they delete their account. One table for both, so export and
//! deletion can never disagree; a test reads the live schema and fails when a migration adds
//! a table or field that refers to a user and is not named here (`tests/api/privacy.rs`).

/// What deleting an account does to the rows a rule names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDelete {
    /// The rows are the person's own: deleted with the account.
    Erase,
    /// Others rely on the rows (a forum answer, a chat line, feedback given, a course they
    /// take): kept, shown under the erased account, whose name becomes "deleted user".
    Keep,
    /// Kept for others, with these fields (personal data about the person) emptied.
    Scrub(&'static [&'static str]),
}

/// How a rule's field holds the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holds {
    /// A `record<user>` (or an optional one).
    Record,
    /// An `array<record<user>>`.
    List,
    /// The person's e-mail address as text.
    Email,
}

/// One field of one table that refers to a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub table: &'static str,
    pub field: &'static str,
    pub holds: Holds,
    pub on_delete: OnDelete,
    /// Why, in a few words.
    pub why: &'static str,
}

const fn rule(
    table: &'static str,
    field: &'static str,
    holds: Holds,
    on_delete: OnDelete,
    why: &'static str,
) -> Rule {
    Rule {
        table,
        field,
        holds,
        on_delete,
        why,
    }
}

use Holds::{Email, List, Record};
use OnDelete::{Erase, Keep, Scrub};

/// Every field that refers to a person (besides the `user` record itself). Exported: every
/// row a rule matches. Deleted: as each rule says, in one transaction.
pub const RULES: &[Rule] = &[
    // Accounts.
    rule("session", "user", Record, Erase, "your sign-ins"),
    rule("email_token", "user", Record, Erase, "links mailed to you"),
    rule("outbox", "to", Email, Erase, "mail to you"),
    rule(
        "audit",
        "user",
        Record,
        Scrub(&["email", "ip", "detail"]),
        "security events: kept without your address or e-mail",
    ),
    rule(
        "audit",
        "email",
        Email,
        Scrub(&["email", "ip"]),
        "failed sign-ins at your address: kept without it",
    ),
    rule(
        "audit",
        "actor",
        Record,
        Scrub(&["ip"]),
        "what you did as an admin: kept without your address",
    ),
    // Courses.
    rule(
        "course",
        "authors",
        List,
        Keep,
        "courses you wrote: learners take them",
    ),
    rule("enrolled", "in", Record, Erase, "your enrolments"),
    rule("rated", "in", Record, Erase, "your course ratings"),
    rule("lesson_progress", "user", Record, Erase, "your progress"),
    rule("quiz_attempt", "user", Record, Erase, "your quiz answers"),
    // Exercises.
    rule(
        "submission",
        "learner",
        Record,
        Erase,
        "your code and its results",
    ),
    rule(
        "review_comment",
        "author",
        Record,
        Keep,
        "reviews you wrote on others' code",
    ),
    // Notifications.
    rule("notification", "user", Record, Erase, "your notifications"),
    rule("calendar_feed", "user", Record, Erase, "your calendar link"),
    // Live rooms and pair programming.
    rule(
        "room",
        "owner",
        Record,
        Keep,
        "rooms you opened: others were in them",
    ),
    rule(
        "room_member",
        "user",
        Record,
        Erase,
        "your room memberships",
    ),
    rule(
        "chat_message",
        "author",
        Record,
        Keep,
        "chat lines others read",
    ),
    rule(
        "pair_update",
        "author",
        Record,
        Keep,
        "edits in shared code",
    ),
    // Mentoring.
    rule(
        "mentor_profile",
        "user",
        Record,
        Erase,
        "your mentor profile",
    ),
    rule(
        "legal_text",
        "published_by",
        Record,
        Keep,
        "terms and privacy notices you published as an admin",
    ),
    rule(
        "mentor_application",
        "user",
        Record,
        Erase,
        "your application to mentor",
    ),
    rule(
        "mentor_application",
        "decided_by",
        Record,
        Keep,
        "applications to mentor you answered as an admin",
    ),
    rule(
        "mentoring_request",
        "learner",
        Record,
        Erase,
        "your requests for a mentor",
    ),
    rule(
        "mentoring_request",
        "mentor",
        Record,
        Erase,
        "requests made to you as a mentor",
    ),
    rule(
        "mentorship",
        "in",
        Record,
        Keep,
        "mentorships: ended, kept for the other side",
    ),
    rule(
        "mentorship",
        "out",
        Record,
        Keep,
        "mentorships: ended, kept for the other side",
    ),
    rule(
        "booking",
        "mentor",
        Record,
        Keep,
        "sessions: future ones cancelled",
    ),
    rule(
        "booking",
        "learner",
        Record,
        Keep,
        "sessions: future ones cancelled",
    ),
    rule("booking", "joined", List, Keep, "who joined a session"),
    rule(
        "booking",
        "cancelled_by",
        Record,
        Keep,
        "who cancelled a session",
    ),
    rule("feedback", "author", Record, Keep, "feedback you gave"),
    rule(
        "feedback",
        "subject",
        Record,
        Keep,
        "feedback you were given",
    ),
    rule(
        "mentorship_post",
        "author",
        Record,
        Keep,
        "notes in a shared mentorship",
    ),
    // Progress.
    rule("score_day", "user", Record, Erase, "your points"),
    rule("score_parts", "user", Record, Erase, "your course scores"),
    rule("exercise_best", "user", Record, Erase, "your best results"),
    rule("award", "user", Record, Erase, "your points"),
    rule("badge_award", "user", Record, Erase, "your badges"),
    // The forum.
    rule("forum_space", "created_by", Record, Keep, "spaces you made"),
    rule(
        "forum_thread",
        "author",
        Record,
        Keep,
        "your questions: others answered them",
    ),
    rule(
        "forum_reply",
        "author",
        Record,
        Keep,
        "your answers: others rely on them",
    ),
    rule(
        "forum_vote",
        "voter",
        Record,
        Erase,
        "your votes (the scores stay)",
    ),
    rule("forum_vote", "author", Record, Keep, "votes on your posts"),
    rule("forum_follow", "user", Record, Erase, "threads you follow"),
    rule(
        "forum_revision",
        "replaced_by",
        Record,
        Keep,
        "the edit history of posts",
    ),
    rule(
        "forum_report",
        "reporter",
        Record,
        Keep,
        "your reports, for the moderators",
    ),
];

/// The name an erased account shows under everything it left for others (stored in one
/// language, shown in the reader's: `i18n::person_name`).
pub use crate::i18n::DELETED_NAME;
