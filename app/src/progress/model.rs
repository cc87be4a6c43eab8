//! Progress types shared by the pages and the server: what each dashboard shows.

use serde::{Deserialize, Serialize};

use crate::progress::engage::Standing;

/// One point of a chart: a label on the x axis (a day, a lesson, a person) and its value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub label: String,
    pub value: f64,
}

/// How far back the trend charts go. Parsed from the page's `?days=` (anything else is the
/// default), so a link or a typed URL cannot ask the server for years of rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range(u32);

impl Range {
    pub const CHOICES: [u32; 3] = [30, 90, 365];
    pub const DEFAULT: Range = Range(30);

    pub fn parse(raw: &str) -> Range {
        raw.trim()
            .parse::<u32>()
            .ok()
            .filter(|d| Range::CHOICES.contains(d))
            .map_or(Range::DEFAULT, Range)
    }

    pub fn days(self) -> u32 {
        self.0
    }
}

/// A learner's standing in one course, with what the score is made of.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseScore {
    pub course: String,
    pub slug: String,
    pub title: String,
    /// `None`: nothing measurable yet.
    pub score: Option<f64>,
    /// Seconds watched / seconds of video.
    pub watched: (f64, f64),
    /// Tests passed / tests.
    pub passed: (u32, u32),
    /// Feedback stars received / stars available.
    pub feedback: (f64, f64),
    /// α, β, γ as set for the course (before renormalisation).
    pub weights: (f64, f64, f64),
    /// The weight each term really had after the missing ones dropped out (`None`: dropped).
    pub effective: [Option<f64>; 3],
    /// Daily snapshots of the score, oldest first.
    pub trend: Vec<Point>,
}

/// A badge as shown: earned (with the day) or still to earn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadgeView {
    pub key: String,
    /// `YYYY-MM-DD` when earned.
    pub earned_on: Option<String>,
}

/// Why something is recommended, in data; the page puts it into words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Why {
    /// Learners who took `title` also took this.
    AlsoTook { title: String, learners: u32 },
    /// Taken by this many learners.
    Popular { learners: u32 },
    /// Teaches a skill the learner asked a mentor for.
    Skill { skill: String },
    /// Rated this well by learners whose courses resemble the reader's.
    RatedByLikeYou { learners: u32, stars: f64 },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// Where it leads: `/courses/<slug>` or `/mentors/<id>`.
    pub href: String,
    pub title: String,
    pub why: Why,
}

/// A learner's dashboard (their own, or a mentee's as their mentor sees it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnerProgress {
    pub learner: String,
    pub name: String,
    /// The reader is the learner (so engagement and recommendations are shown).
    pub own: bool,
    pub range_days: u32,
    pub courses: Vec<CourseScore>,
    pub points_total: u32,
    pub points_week: u32,
    pub weekly_streak: u32,
    pub badges: Vec<BadgeView>,
    pub courses_next: Vec<Suggestion>,
    pub mentors_next: Vec<Suggestion>,
    /// Points per week, the last 12 weeks (oldest first).
    pub points_by_week: Vec<Point>,
    pub leaderboard_opt_out: bool,
}

/// One mentee on the mentor's dashboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MenteeRow {
    pub learner: String,
    pub name: String,
    /// Their mean score over their courses today.
    pub score: Option<f64>,
    /// Change since the mentorship began (or since the first snapshot after it).
    pub change: Option<f64>,
    /// Mean score per day, oldest first.
    pub trend: Vec<Point>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MentorProgress {
    pub range_days: u32,
    pub mentees: Vec<MenteeRow>,
    /// Mean of the mentees' changes.
    pub average_change: Option<f64>,
    /// Mean stars from learners' feedback about the mentor, and how many.
    pub rating: Option<f64>,
    pub ratings: u32,
    pub sessions_held: u32,
    /// Sessions held per week, the last 12 weeks.
    pub sessions_by_week: Vec<Point>,
}

/// A course's weights as the admin form shows them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseWeights {
    pub course: String,
    pub slug: String,
    pub title: String,
    pub watched: f64,
    pub passed: f64,
    pub feedback: f64,
    /// Set by an admin (otherwise the defaults).
    pub custom: bool,
}

/// Lesson-by-lesson completion of one course: how many enrolled learners finished each
/// lesson. The drop between two bars is the drop-off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Funnel {
    pub slug: String,
    pub title: String,
    pub enrolled: u32,
    pub lessons: Vec<Point>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnalyticsView {
    pub range_days: u32,
    /// People who made real progress (a lesson, a submission, a session) per day.
    pub active_users: Vec<Point>,
    pub enrolments: Vec<Point>,
    pub gradings: Vec<Point>,
    pub sessions: Vec<Point>,
    pub funnel: Option<Funnel>,
    pub courses: Vec<CourseWeights>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Period {
    Week,
    AllTime,
}

impl Period {
    pub fn parse(raw: &str) -> Period {
        if raw.trim() == "all" {
            Period::AllTime
        } else {
            Period::Week
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Week => "week",
            Period::AllTime => "all",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeaderboardView {
    pub period: Period,
    pub top: Vec<Standing>,
    /// The reader's own place when they are not in `top` (and not opted out).
    pub me: Option<Standing>,
    pub opted_out: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_accepts_only_the_offered_choices() {
        assert_eq!(Range::parse("90").days(), 90);
        assert_eq!(Range::parse(" 365 ").days(), 365);
        assert_eq!(Range::parse("100000").days(), 30);
        assert_eq!(Range::parse("-1").days(), 30);
        assert_eq!(Range::parse("").days(), 30);
        assert_eq!(Period::parse("all"), Period::AllTime);
        assert_eq!(Period::parse("anything"), Period::Week);
    }
}
