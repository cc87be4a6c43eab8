//! What a notification is: a kind (which decides the e-mail choice that applies) and a
//! [`Notice`] — a message key with its parameters, never a finished sentence — so each reader
//! sees it in their own language, on the page, in the live badge and in e-mail.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Kinds of notification, each with its own e-mail choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Request,
    Booking,
    Reminder,
    Feedback,
    Question,
    Review,
    Room,
    Badge,
    /// A reply in a forum thread the user asked or follows.
    Forum,
    /// Someone wrote the user's `@name` in a forum post.
    Mention,
}

impl NoticeKind {
    /// The kinds a user chooses e-mail for. The quiet ones (badges among them) are mailed
    /// only once their owner chooses it, at once or in the daily summary.
    pub const ALL: [NoticeKind; 10] = [
        NoticeKind::Request,
        NoticeKind::Booking,
        NoticeKind::Reminder,
        NoticeKind::Feedback,
        NoticeKind::Question,
        NoticeKind::Review,
        NoticeKind::Room,
        NoticeKind::Badge,
        NoticeKind::Forum,
        NoticeKind::Mention,
    ];

    pub fn key(self) -> &'static str {
        match self {
            NoticeKind::Request => "request",
            NoticeKind::Booking => "booking",
            NoticeKind::Reminder => "reminder",
            NoticeKind::Feedback => "feedback",
            NoticeKind::Question => "question",
            NoticeKind::Review => "review",
            NoticeKind::Room => "room",
            NoticeKind::Badge => "badge",
            NoticeKind::Forum => "forum",
            NoticeKind::Mention => "mention",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == raw)
    }

    /// Time-sensitive kinds (a request, a booking, a reminder: mail a person needs to act on)
    /// are mailed at once unless the user says otherwise. The rest are shown in the app and
    /// mailed only once the user chooses it (at once or in the daily summary): a digest is
    /// mail nobody asked for until they ask.
    pub fn default_mode(self) -> EmailMode {
        match self {
            NoticeKind::Request | NoticeKind::Booking | NoticeKind::Reminder => {
                EmailMode::Immediate
            }
            _ => EmailMode::Off,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailMode {
    Immediate,
    Daily,
    Off,
}

impl EmailMode {
    pub const ALL: [EmailMode; 3] = [EmailMode::Immediate, EmailMode::Daily, EmailMode::Off];

    pub fn key(self) -> &'static str {
        match self {
            EmailMode::Immediate => "immediate",
            EmailMode::Daily => "daily",
            EmailMode::Off => "off",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == raw)
    }
}

/// A user's e-mail choice per kind, stored as `kind=mode` strings.
pub fn email_mode(prefs: &[String], kind: NoticeKind) -> EmailMode {
    prefs
        .iter()
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == kind.key())
        .and_then(|(_, m)| EmailMode::parse(m))
        .unwrap_or(kind.default_mode())
}

/// How soon a reminded session starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Soon {
    #[serde(rename = "15m")]
    Minutes15,
    #[serde(rename = "24h")]
    Hours24,
}

/// What happened, in data: a message key (`msg`) and the names, titles and times it speaks
/// of. Names are the ones people chose; times are instants shown in `zone` (the recipient's
/// IANA zone when the notice was made) in the reader's language.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum Notice {
    /// To a learner: the mentor paused, which declined their open request.
    MentorPaused {
        mentor: String,
    },
    /// To a mentor: a new request, with the learner's goals.
    RequestReceived {
        learner: String,
        goals: String,
    },
    RequestSeen {
        mentor: String,
    },
    RequestAccepted {
        mentor: String,
    },
    RequestDeclined {
        mentor: String,
    },
    RequestWithdrawn {
        learner: String,
    },
    /// To a learner: nobody answered in 48 hours.
    RequestExpired {
        mentor: String,
    },
    /// To a mentor: the request they did not answer expired.
    RequestLapsed {
        learner: String,
    },
    MentorshipEnded {
        by: String,
    },
    /// The other side of a mentorship deleted their account (the mentorship has ended).
    PartnerLeft,
    /// The other side of a booked session deleted their account (the session is cancelled).
    SessionPartnerLeft {
        at: DateTime<Utc>,
        zone: String,
    },
    SessionBooked {
        learner: String,
        at: DateTime<Utc>,
        zone: String,
    },
    SessionCancelled {
        by: String,
        at: DateTime<Utc>,
        zone: String,
    },
    SessionMoved {
        by: String,
        at: DateTime<Utc>,
        zone: String,
    },
    SessionSoon {
        with: String,
        at: DateTime<Utc>,
        zone: String,
        soon: Soon,
    },
    SessionRated {
        by: String,
        stars: u8,
    },
    QuestionAsked {
        by: String,
    },
    QuestionAnswered {
        by: String,
    },
    /// To a learner: a line comment on their submission.
    ReviewComment {
        by: String,
        line: u32,
    },
    /// To a mentor: a learner opened their code in a live room with them.
    PairRoomOpened {
        learner: String,
        title: String,
    },
    RoomInvite {
        title: String,
    },
    /// A reply in a forum thread (to its asker and its followers).
    ForumReplied {
        by: String,
        title: String,
    },
    /// `by` wrote the reader's `@name` in a post of the thread `title`.
    ForumMentioned {
        by: String,
        title: String,
    },
    /// The asker accepted the reader's answer.
    ForumAccepted {
        by: String,
        title: String,
    },
    /// To admins: `by` applied to mentor.
    MentorApplied {
        by: String,
    },
    /// To the applicant: they are a mentor now.
    MentorApproved,
    /// To the applicant: not this time, and the admin's note (may be empty).
    MentorDeclined {
        note: String,
    },
    /// A badge key from the progress engine (its name is looked up in the reader's language).
    BadgeEarned {
        badge: String,
    },
    /// A notification stored before notices were data: its English text as it was written.
    Legacy {
        text: String,
    },
}

impl Notice {
    /// Reads a stored notice; a row from before notices were data (or with a key this
    /// version does not know) keeps its old text.
    pub fn from_stored(notice: Option<serde_json::Value>, legacy_text: Option<&str>) -> Notice {
        notice
            .and_then(|n| serde_json::from_value(n).ok())
            .unwrap_or_else(|| Notice::Legacy {
                text: legacy_text.unwrap_or_default().to_string(),
            })
    }
}

/// A notification as the page shows it, already in the reader's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationView {
    pub id: String,
    pub text: String,
    pub link: String,
    pub read: bool,
    /// The instant (RFC 3339), for `<time datetime>`.
    pub created_at: String,
    /// The same instant as the reader reads it: their language, their zone.
    pub when: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailPrefsView {
    pub modes: Vec<(NoticeKind, EmailMode)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_round_trip_through_their_stored_form() {
        let n = Notice::SessionSoon {
            with: "Ada".into(),
            at: DateTime::parse_from_rfc3339("2026-12-07T18:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            zone: "Asia/Shanghai".into(),
            soon: Soon::Minutes15,
        };
        let stored = serde_json::to_value(&n).unwrap();
        assert_eq!(stored["msg"], "session_soon");
        assert_eq!(stored["soon"], "15m");
        assert_eq!(Notice::from_stored(Some(stored), None), n);
    }

    #[test]
    fn old_rows_and_unknown_messages_keep_their_text() {
        assert_eq!(
            Notice::from_stored(None, Some("Ada booked a session.")),
            Notice::Legacy {
                text: "Ada booked a session.".into()
            }
        );
        assert_eq!(
            Notice::from_stored(
                Some(serde_json::json!({"msg": "from_the_future"})),
                Some("")
            ),
            Notice::Legacy {
                text: String::new()
            }
        );
    }

    #[test]
    fn email_choices_fall_back_to_each_kinds_default() {
        let prefs = vec!["booking=off".to_string(), "room=nonsense".to_string()];
        assert_eq!(email_mode(&prefs, NoticeKind::Booking), EmailMode::Off);
        // Summaries are off until chosen.
        assert_eq!(email_mode(&prefs, NoticeKind::Room), EmailMode::Off);
        assert_eq!(
            email_mode(&prefs, NoticeKind::Request),
            EmailMode::Immediate
        );
        assert_eq!(email_mode(&[], NoticeKind::Question), EmailMode::Off);
        let prefs = vec!["question=daily".to_string()];
        assert_eq!(email_mode(&prefs, NoticeKind::Question), EmailMode::Daily);
        let prefs = vec!["question=immediate".to_string()];
        assert_eq!(
            email_mode(&prefs, NoticeKind::Question),
            EmailMode::Immediate
        );
    }
}
