//! An application to mentor: the form it is made with, and how the applicant and the admins
//! see it.

use serde::{Deserialize, Serialize};

use crate::error::Problem;

pub const HEADLINE_MAX_CHARS: usize = 120;
pub const ABOUT_MAX_CHARS: usize = 2_000;
pub const NOTE_MAX_CHARS: usize = 500;

/// What a learner writes to apply: a one-line headline and a few paragraphs about what they
/// would mentor and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Application {
    pub headline: String,
    pub about: String,
}

impl Application {
    pub fn parse(headline: &str, about: &str) -> Result<Self, Problem> {
        let headline = headline.trim();
        let about = about.trim();
        if headline.is_empty() {
            return Err(Problem::HeadlineEmpty);
        }
        if headline.chars().count() > HEADLINE_MAX_CHARS || headline.contains('\n') {
            return Err(Problem::HeadlineTooLong);
        }
        if about.is_empty() {
            return Err(Problem::AboutEmpty);
        }
        if about.chars().count() > ABOUT_MAX_CHARS {
            return Err(Problem::AboutTooLong);
        }
        Ok(Self {
            headline: headline.to_string(),
            about: about.to_string(),
        })
    }
}

/// An admin's answer: yes, or no with an optional note the applicant reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Decline { note: String },
}

impl Decision {
    pub fn parse(decision: &str, note: &str) -> Result<Self, Problem> {
        let note = note.trim();
        if note.chars().count() > NOTE_MAX_CHARS {
            return Err(Problem::ReasonTooLong);
        }
        match decision.trim() {
            "approve" => Ok(Decision::Approve),
            "decline" => Ok(Decision::Decline {
                note: note.to_string(),
            }),
            _ => Err(Problem::DecisionInvalid),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Approved,
    Declined,
}

impl Status {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(Status::Pending),
            "approved" => Some(Status::Approved),
            "declined" => Some(Status::Declined),
            _ => None,
        }
    }
}

/// The applicant's own view of their application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyApplication {
    pub status: Status,
    pub headline: String,
    pub about: String,
    pub note: Option<String>,
    pub submitted: String,
}

/// `/mentoring/apply`: the caller's application, if any, and whether they may apply now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyPage {
    pub application: Option<MyApplication>,
    pub is_mentor: bool,
    /// Mentoring needs a confirmed address (the mentor's mail must reach them).
    pub verified: bool,
}

impl ApplyPage {
    /// The form is offered to learners with a confirmed address and no application waiting
    /// (someone approved once whose role was taken away may apply again).
    pub fn may_apply(&self) -> bool {
        !self.is_mentor
            && self.verified
            && self
                .application
                .as_ref()
                .is_none_or(|a| a.status != Status::Pending)
    }
}

/// An application waiting for an admin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingApplication {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub headline: String,
    pub about: String,
    pub submitted: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_application_needs_a_one_line_headline_and_some_words() {
        assert_eq!(Application::parse(" ", "x"), Err(Problem::HeadlineEmpty));
        assert_eq!(
            Application::parse("two\nlines", "x"),
            Err(Problem::HeadlineTooLong)
        );
        assert_eq!(
            Application::parse(&"h".repeat(HEADLINE_MAX_CHARS + 1), "x"),
            Err(Problem::HeadlineTooLong)
        );
        assert_eq!(Application::parse("Rust", "  "), Err(Problem::AboutEmpty));
        assert_eq!(
            Application::parse("Rust", &"a".repeat(ABOUT_MAX_CHARS + 1)),
            Err(Problem::AboutTooLong)
        );
        let ok = Application::parse(" Rust and SQL ", " Ten years of backends. ").unwrap();
        assert_eq!(ok.headline, "Rust and SQL");
        assert_eq!(ok.about, "Ten years of backends.");
    }

    #[test]
    fn a_decision_is_approve_or_decline_with_a_short_note() {
        assert_eq!(Decision::parse("approve", ""), Ok(Decision::Approve));
        assert_eq!(
            Decision::parse("decline", " Add examples "),
            Ok(Decision::Decline {
                note: "Add examples".into()
            })
        );
        assert_eq!(Decision::parse("maybe", ""), Err(Problem::DecisionInvalid));
        assert_eq!(
            Decision::parse("decline", &"n".repeat(NOTE_MAX_CHARS + 1)),
            Err(Problem::ReasonTooLong)
        );
    }

    #[test]
    fn the_form_is_offered_only_to_whoever_may_apply_now() {
        let mine = |status| MyApplication {
            status,
            headline: String::new(),
            about: String::new(),
            note: None,
            submitted: String::new(),
        };
        let page = |application, is_mentor, verified| ApplyPage {
            application,
            is_mentor,
            verified,
        };
        assert!(page(None, false, true).may_apply());
        assert!(!page(None, false, false).may_apply());
        assert!(!page(None, true, true).may_apply());
        assert!(!page(Some(mine(Status::Pending)), false, true).may_apply());
        assert!(page(Some(mine(Status::Declined)), false, true).may_apply());
        // Approved once, the role taken away since: may apply again.
        assert!(page(Some(mine(Status::Approved)), false, true).may_apply());
    }
}
