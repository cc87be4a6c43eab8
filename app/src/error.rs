//! The one error type every server function returns and every page shows.
//!
//! Each variant carries enough to be shown in words in the reader's language; internal causes
//! (database, I/O) are logged where they happen and reach the client only as [`AppError::Internal`].

use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

use crate::i18n::{Locale, Strings};

/// Something the user typed that cannot be accepted, named so the page can say what to fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    EmailInvalid,
    EmailTaken,
    PasswordTooShort,
    PasswordTooLong,
    PasswordCommon,
    NameEmpty,
    NameTooLong,
    BioTooLong,
    SkillInvalid,
    TooManySkills,
    LanguageInvalid,
    TimezoneInvalid,
    WrongCurrentPassword,
    TokenInvalid,
    SlugInvalid,
    SlugTaken,
    TitleEmpty,
    TitleTooLong,
    SummaryTooLong,
    DescriptionTooLong,
    TagInvalid,
    TooManyTags,
    LevelInvalid,
    LessonKindInvalid,
    PlayedInvalid,
    AnswerMissing,
    ChoiceInvalid,
    RatingInvalid,
    NotEnrolled,
    VideoTooLarge,
    VideoType,
    DatesInvalid,
    CodeTooLong,
    CommentEmpty,
    CommentTooLong,
    LineInvalid,
    GradingBusy,
    GraderFull,
    ValidationBusy,
    RoomClosed,
    RoomFull,
    NoSuchUser,
    WindowsInvalid,
    CapacityInvalid,
    SessionLengthInvalid,
    GoalsEmpty,
    GoalsTooLong,
    SkillsMissing,
    MentorUnavailable,
    AlreadyMentored,
    RequestOpen,
    RequestClosed,
    MentorFull,
    SlotTaken,
    SlotUnavailable,
    NoticeTooShort,
    BookingCancelled,
    FeedbackTooEarly,
    AlreadyRated,
    StarsInvalid,
    PostEmpty,
    PostTooLong,
    MessageTooLong,
    NotMentored,
    NoAttemptsLeft,
    AttemptsInvalid,
    MentorshipEnded,
    EmailNotVerified,
    NoMentor,
    WeightsInvalid,
    TryAgain,
    /// The address was sent as many links as it may be in an hour.
    TooManyMails,
    ThreadTitleEmpty,
    ThreadTitleTooLong,
    ForumBodyEmpty,
    ForumBodyTooLong,
    ForumTagInvalid,
    ForumTooManyTags,
    ThreadKindInvalid,
    VoteInvalid,
    ThreadLocked,
    OwnPost,
    NotAQuestion,
    NewAccountLinks,
    NewAccountLimit,
    SpaceTaken,
    ReasonEmpty,
    SuspendReasonEmpty,
    SuspendReasonLong,
    SuspendSelf,
    TermsNotAccepted,
    TermsChanged,
    LegalEmpty,
    LegalTooLong,
    HeadlineEmpty,
    HeadlineTooLong,
    AboutEmpty,
    AboutTooLong,
    DecisionInvalid,
    AlreadyMentor,
    ApplicationPending,
    /// What a transaction was to change is not there (a check inside it, as `NotFound`).
    NotFound,
    ReasonTooLong,
    ModerationInvalid,
    LessonNotInSpace,
    DeleteNotConfirmed,
    EmailSame,
}

impl Problem {
    pub fn text(self, s: &Strings) -> &'static str {
        match self {
            Problem::EmailInvalid => s.err_email_invalid,
            Problem::EmailTaken => s.err_email_taken,
            Problem::PasswordTooShort => s.err_password_short,
            Problem::PasswordTooLong => s.err_password_long,
            Problem::PasswordCommon => s.err_password_common,
            Problem::NameEmpty => s.err_name_empty,
            Problem::NameTooLong => s.err_name_long,
            Problem::BioTooLong => s.err_bio_long,
            Problem::SkillInvalid => s.err_skill_invalid,
            Problem::TooManySkills => s.err_too_many_skills,
            Problem::LanguageInvalid => s.err_language_invalid,
            Problem::TimezoneInvalid => s.err_timezone_invalid,
            Problem::WrongCurrentPassword => s.err_wrong_current_password,
            Problem::TokenInvalid => s.err_token_invalid,
            Problem::SlugInvalid => s.courses.err_slug_invalid,
            Problem::SlugTaken => s.courses.err_slug_taken,
            Problem::TitleEmpty => s.courses.err_title_empty,
            Problem::TitleTooLong => s.courses.err_title_long,
            Problem::SummaryTooLong => s.courses.err_summary_long,
            Problem::DescriptionTooLong => s.courses.err_description_long,
            Problem::TagInvalid => s.courses.err_tag_invalid,
            Problem::TooManyTags => s.courses.err_too_many_tags,
            Problem::LevelInvalid => s.courses.err_level_invalid,
            Problem::LessonKindInvalid => s.courses.err_lesson_kind_invalid,
            Problem::PlayedInvalid => s.courses.err_played_invalid,
            Problem::AnswerMissing => s.courses.err_answer_missing,
            Problem::ChoiceInvalid => s.courses.err_choice_invalid,
            Problem::RatingInvalid => s.courses.err_rating_invalid,
            Problem::NotEnrolled => s.courses.err_not_enrolled,
            Problem::VideoTooLarge => s.courses.err_video_too_large,
            Problem::VideoType => s.courses.err_video_type,
            Problem::DatesInvalid => s.courses.err_dates_invalid,
            Problem::CodeTooLong => s.exercises.err_code_too_long,
            Problem::CommentEmpty => s.exercises.err_comment_empty,
            Problem::CommentTooLong => s.exercises.err_comment_too_long,
            Problem::LineInvalid => s.exercises.err_line_invalid,
            Problem::GradingBusy => s.exercises.err_grading_busy,
            Problem::GraderFull => s.exercises.err_grader_full,
            Problem::ValidationBusy => s.exercises.err_validation_busy,
            Problem::RoomClosed => s.rooms.err_room_closed,
            Problem::RoomFull => s.rooms.err_room_full,
            Problem::NoMentor => s.pairing.err_no_mentor,
            Problem::WeightsInvalid => s.progress.err_weights_invalid,
            Problem::TryAgain => s.progress.err_try_again,
            Problem::NoSuchUser => s.rooms.err_no_such_user,
            Problem::WindowsInvalid => s.mentoring.err_windows_invalid,
            Problem::CapacityInvalid => s.mentoring.err_capacity_invalid,
            Problem::SessionLengthInvalid => s.mentoring.err_session_length_invalid,
            Problem::GoalsEmpty => s.mentoring.err_goals_empty,
            Problem::GoalsTooLong => s.mentoring.err_goals_too_long,
            Problem::SkillsMissing => s.mentoring.err_skills_missing,
            Problem::MentorUnavailable => s.mentoring.err_mentor_unavailable,
            Problem::AlreadyMentored => s.mentoring.err_already_mentored,
            Problem::RequestOpen => s.mentoring.err_request_open,
            Problem::RequestClosed => s.mentoring.err_request_closed,
            Problem::MentorFull => s.mentoring.err_mentor_full,
            Problem::SlotTaken => s.mentoring.err_slot_taken,
            Problem::SlotUnavailable => s.mentoring.err_slot_unavailable,
            Problem::NoticeTooShort => s.mentoring.err_notice_too_short,
            Problem::BookingCancelled => s.mentoring.err_booking_cancelled,
            Problem::FeedbackTooEarly => s.mentoring.err_feedback_too_early,
            Problem::AlreadyRated => s.mentoring.err_already_rated,
            Problem::StarsInvalid => s.mentoring.err_stars_invalid,
            Problem::PostEmpty => s.mentoring.err_post_empty,
            Problem::PostTooLong => s.mentoring.err_post_too_long,
            Problem::MessageTooLong => s.mentoring.err_message_too_long,
            Problem::NotMentored => s.mentoring.err_not_mentored,
            Problem::MentorshipEnded => s.mentoring.err_mentorship_ended,
            Problem::EmailNotVerified => s.err_email_not_verified,
            Problem::TooManyMails => s.err_too_many_mails,
            Problem::ThreadTitleEmpty => s.forum.err_thread_title_empty,
            Problem::ThreadTitleTooLong => s.forum.err_thread_title_long,
            Problem::ForumBodyEmpty => s.forum.err_body_empty,
            Problem::ForumBodyTooLong => s.forum.err_body_long,
            Problem::ForumTagInvalid => s.forum.err_tag_invalid,
            Problem::ForumTooManyTags => s.forum.err_too_many_tags,
            Problem::ThreadKindInvalid => s.forum.err_kind_invalid,
            Problem::VoteInvalid => s.forum.err_vote_invalid,
            Problem::ThreadLocked => s.forum.err_locked,
            Problem::OwnPost => s.forum.err_own_post,
            Problem::NotAQuestion => s.forum.err_not_question,
            Problem::NewAccountLinks => s.forum.err_new_account_links,
            Problem::NewAccountLimit => s.forum.err_new_account_limit,
            Problem::SpaceTaken => s.forum.err_space_taken,
            Problem::ReasonEmpty => s.forum.err_reason_empty,
            Problem::SuspendReasonEmpty => s.admin.err_reason_empty,
            Problem::SuspendReasonLong => s.admin.err_reason_long,
            Problem::SuspendSelf => s.admin.err_suspend_self,
            Problem::TermsNotAccepted => s.privacy.err_terms_not_accepted,
            Problem::TermsChanged => s.privacy.err_terms_changed,
            Problem::LegalEmpty => s.privacy.err_legal_empty,
            Problem::LegalTooLong => s.privacy.err_legal_long,
            Problem::HeadlineEmpty => s.apply.err_headline_empty,
            Problem::HeadlineTooLong => s.apply.err_headline_long,
            Problem::AboutEmpty => s.apply.err_about_empty,
            Problem::AboutTooLong => s.apply.err_about_long,
            Problem::DecisionInvalid => s.apply.err_decision,
            Problem::AlreadyMentor => s.apply.err_already_mentor,
            Problem::ApplicationPending => s.apply.err_pending,
            Problem::NotFound => s.err_not_found,
            Problem::ReasonTooLong => s.forum.err_reason_long,
            Problem::ModerationInvalid => s.forum.err_moderation_invalid,
            Problem::LessonNotInSpace => s.forum.err_lesson_not_in_space,
            Problem::DeleteNotConfirmed => s.privacy.err_not_confirmed,
            Problem::EmailSame => s.err_email_same,
            Problem::NoAttemptsLeft => s.courses.err_no_attempts_left,
            Problem::AttemptsInvalid => s.courses.err_attempts_invalid,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum AppError {
    /// Input that does not parse; nothing was changed.
    #[error("{}", problem.text(&crate::i18n::EN))]
    Invalid { problem: Problem },
    /// The request needs a signed-in user.
    #[error("Sign in to continue.")]
    Unauthenticated,
    /// Signed in, but not allowed to do this (or to see this object).
    #[error("You do not have permission to do that.")]
    Forbidden,
    /// A state-changing request from another site (cross-site request forgery defence).
    #[error(
        "This request came from another site and was refused. Open Pairwise directly and try again."
    )]
    CrossOrigin,
    /// Too many writes in a short time from one address.
    #[error("Too many requests. Wait {retry_after_secs} seconds before trying again.")]
    RateLimited { retry_after_secs: u64 },
    #[error("We could not find that. It may have been removed.")]
    NotFound,
    /// Email and password do not match (the same words whichever was wrong).
    #[error("That email and password do not match. Check both and try again.")]
    WrongCredentials,
    #[error("Too many failed attempts. Wait {retry_after_secs} seconds before trying again.")]
    TooManyAttempts { retry_after_secs: u64 },
    /// The request could not be decoded (a broken client or a hand-made request).
    #[error("The request could not be understood: {detail}")]
    BadRequest { detail: String },
    /// An exercise an author wrote does not parse or breaks a rule; `detail` names where.
    #[error("The exercise cannot be saved: {detail}")]
    ExerciseInvalid { detail: String },
    /// The account was suspended by an admin, who gave `reason`.
    #[error("This account is suspended: {reason}")]
    Suspended { reason: String },
    #[error("Something went wrong on our side. Try again in a minute.")]
    Internal,
}

impl AppError {
    /// The HTTP status the server sends with this error.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::Invalid {
                problem: Problem::EmailTaken | Problem::SlugTaken | Problem::SpaceTaken,
            } => 409,
            AppError::Invalid {
                problem: Problem::VideoTooLarge | Problem::CodeTooLong,
            } => 413,
            AppError::Invalid {
                problem: Problem::NotEnrolled,
            } => 403,
            AppError::Invalid {
                problem: Problem::VideoType,
            } => 415,
            AppError::Invalid {
                problem: Problem::GradingBusy | Problem::GraderFull | Problem::ValidationBusy,
            } => 429,
            AppError::Invalid {
                problem:
                    Problem::RoomClosed
                    | Problem::RoomFull
                    | Problem::MentorUnavailable
                    | Problem::AlreadyMentored
                    | Problem::RequestOpen
                    | Problem::RequestClosed
                    | Problem::MentorFull
                    | Problem::SlotTaken
                    | Problem::NoticeTooShort
                    | Problem::BookingCancelled
                    | Problem::FeedbackTooEarly
                    | Problem::AlreadyRated
                    | Problem::NoMentor
                    | Problem::MentorshipEnded
                    | Problem::NoAttemptsLeft
                    | Problem::ThreadLocked
                    | Problem::SuspendSelf
                    | Problem::TermsChanged
                    | Problem::AlreadyMentor
                    | Problem::ApplicationPending
                    | Problem::TryAgain,
            } => 409,
            AppError::Invalid {
                problem: Problem::NotMentored | Problem::EmailNotVerified,
            } => 403,
            AppError::Invalid {
                problem: Problem::NotFound,
            } => 404,
            AppError::Invalid {
                problem: Problem::TooManyMails | Problem::NewAccountLimit,
            } => 429,
            AppError::Invalid { .. } | AppError::ExerciseInvalid { .. } => 422,
            AppError::Unauthenticated | AppError::WrongCredentials => 401,
            AppError::Forbidden | AppError::CrossOrigin | AppError::Suspended { .. } => 403,
            AppError::RateLimited { .. } => 429,
            AppError::NotFound => 404,
            AppError::TooManyAttempts { .. } => 429,
            AppError::BadRequest { .. } => 400,
            AppError::Internal => 500,
        }
    }

    /// The message in the reader's language.
    pub fn message(&self, locale: Locale) -> String {
        let s = locale.strings();
        match self {
            AppError::Invalid { problem } => problem.text(s).to_string(),
            AppError::Unauthenticated => s.err_unauthenticated.to_string(),
            AppError::Forbidden => s.err_forbidden.to_string(),
            AppError::CrossOrigin => s.err_cross_origin.to_string(),
            AppError::RateLimited { .. } => s.err_rate_limited.to_string(),
            AppError::NotFound => s.err_not_found.to_string(),
            AppError::WrongCredentials => s.err_wrong_credentials.to_string(),
            AppError::TooManyAttempts { retry_after_secs } => {
                let minutes = retry_after_secs.div_ceil(60).max(1);
                match locale {
                    Locale::En => format!(
                        "{} (about {minutes} min)",
                        s.err_too_many_attempts.trim_end_matches('.')
                    ),
                    Locale::ZhHans => format!("{}（约 {minutes} 分钟）", s.err_too_many_attempts),
                }
            }
            AppError::BadRequest { detail } => format!("{} ({detail})", s.err_bad_request),
            AppError::ExerciseInvalid { detail } => {
                format!("{} {detail}", s.exercises.err_exercise_invalid)
            }
            AppError::Suspended { reason } => s.admin.err_suspended.replace("{reason}", reason),
            AppError::Internal => s.err_internal.to_string(),
        }
    }

    /// The problem to show beside a particular form field, if this error is about one.
    pub fn problem(&self) -> Option<Problem> {
        match self {
            AppError::Invalid { problem } => Some(*problem),
            _ => None,
        }
    }
}

impl From<Problem> for AppError {
    fn from(problem: Problem) -> Self {
        AppError::Invalid { problem }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments that do not decode are the caller's fault, and say nothing internal.
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::Deserialization(msg) => {
                AppError::BadRequest {
                    detail: first_line(&msg),
                }
            }
            ServerFnErrorErr::MissingArg(arg) => AppError::BadRequest {
                detail: format!("missing {arg}"),
            },
            ServerFnErrorErr::UnsupportedRequestMethod(m) => AppError::BadRequest {
                detail: format!("method {m} not allowed"),
            },
            // Network failures on the client, or anything unexpected on the server.
            _ => AppError::Internal,
        }
    }
}

fn first_line(msg: &str) -> String {
    msg.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_words_in_both_languages_and_a_client_or_server_status() {
        let all = [
            Problem::EmailInvalid.into(),
            Problem::EmailTaken.into(),
            AppError::Unauthenticated,
            AppError::Forbidden,
            AppError::CrossOrigin,
            AppError::RateLimited {
                retry_after_secs: 3,
            },
            AppError::NotFound,
            AppError::WrongCredentials,
            AppError::TooManyAttempts {
                retry_after_secs: 90,
            },
            AppError::BadRequest { detail: "x".into() },
            AppError::Internal,
        ];
        for e in all {
            for l in Locale::ALL {
                assert!(!e.message(l).is_empty());
            }
            assert!((400..600).contains(&e.status_code()));
        }
    }

    #[test]
    fn errors_travel_as_tagged_json() {
        let e = AppError::TooManyAttempts {
            retry_after_secs: 12,
        };
        let json = serde_json::to_string(&e).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"error":"too_many_attempts","retry_after_secs":12}"#
        );
        assert_eq!(serde_json::from_str::<AppError>(&json).ok(), Some(e));
        let json =
            serde_json::to_string(&AppError::from(Problem::PasswordCommon)).unwrap_or_default();
        assert_eq!(json, r#"{"error":"invalid","problem":"password_common"}"#);
    }
}
