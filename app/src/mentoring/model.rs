//! Mentoring types shared by the pages and the server, and the pure rules both apply: weekly
//! windows as people type them, mentor settings, request states, the bookable slots of a
//! mentor, the quarter-hour holds that make double booking impossible, and times shown in the
//! reader's zone.

use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::{
    accounts::model::Skill,
    error::Problem,
    mentoring::matching::{Availability, WeeklyWindow},
};

/// A request nobody answers expires after this long.
pub const REQUEST_TTL_HOURS: i64 = 48;
/// How far ahead a learner can book.
pub const BOOKING_HORIZON_DAYS: i64 = 14;
/// Bookings start on quarter hours; holds are per quarter hour.
pub const QUARTER_SECS: i64 = 15 * 60;
pub const MAX_WINDOWS: usize = 40;
pub const MAX_GOALS_CHARS: usize = 2000;
pub const MAX_MESSAGE_CHARS: usize = 1000;
pub const MAX_COMMENT_CHARS: usize = 2000;
pub const MAX_POST_CHARS: usize = 4000;
pub const MAX_HEADLINE_CHARS: usize = 120;
pub const SESSION_LENGTHS: [u32; 6] = [15, 30, 45, 60, 90, 120];
/// The room link is shown this long before a session starts.
pub const JOIN_EARLY_MINUTES: i64 = 15;

const DAYS: [(Weekday, &str); 7] = [
    (Weekday::Mon, "mon"),
    (Weekday::Tue, "tue"),
    (Weekday::Wed, "wed"),
    (Weekday::Thu, "thu"),
    (Weekday::Fri, "fri"),
    (Weekday::Sat, "sat"),
    (Weekday::Sun, "sun"),
];

fn day_key(d: Weekday) -> &'static str {
    DAYS.iter().find(|(w, _)| *w == d).map_or("mon", |(_, k)| k)
}

/// `mon`, `Mon`, `monday`, `Tues`: any prefix of an English day name of 3 letters or more.
fn parse_day(raw: &str) -> Option<Weekday> {
    const FULL: [(Weekday, &str); 7] = [
        (Weekday::Mon, "monday"),
        (Weekday::Tue, "tuesday"),
        (Weekday::Wed, "wednesday"),
        (Weekday::Thu, "thursday"),
        (Weekday::Fri, "friday"),
        (Weekday::Sat, "saturday"),
        (Weekday::Sun, "sunday"),
    ];
    let raw = raw.to_ascii_lowercase();
    if raw.len() < 3 {
        return None;
    }
    FULL.iter()
        .find(|(_, name)| name.starts_with(raw.as_str()))
        .map(|(w, _)| *w)
}

/// `HH:MM` on a quarter hour; `24:00` is midnight at the end of the day.
fn parse_quarter_time(raw: &str) -> Option<NaiveTime> {
    let (h, m) = raw.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    if h == 24 && m == 0 {
        return NaiveTime::from_hms_opt(0, 0, 0);
    }
    if m % 15 != 0 {
        return None;
    }
    NaiveTime::from_hms_opt(h, m, 0)
}

/// One window per line, `Mon 18:00-21:00` (day names in English, full or short; times on
/// quarter hours; a window may cross midnight, `Fri 22:00-01:00`). Blank lines are skipped.
/// The error names the first line that does not read.
pub fn parse_windows(raw: &str) -> Result<Vec<WeeklyWindow>, WindowError> {
    let mut out = Vec::new();
    for (n, line) in raw.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = || WindowError {
            line: n as u32 + 1,
            text: line.chars().take(40).collect(),
        };
        let (day, span) = line.split_once(char::is_whitespace).ok_or_else(bad)?;
        let day = parse_day(day.trim_end_matches([',', ':'])).ok_or_else(bad)?;
        let span = span.replace(['–', '—'], "-");
        let (a, b) = span.split_once('-').ok_or_else(bad)?;
        let (start, end) = (
            parse_quarter_time(a).ok_or_else(bad)?,
            parse_quarter_time(b).ok_or_else(bad)?,
        );
        // `00:00-24:00` is the whole day; otherwise equal ends would be an empty window.
        if start == end && !(b.trim() == "24:00" && start == NaiveTime::MIN) {
            return Err(bad());
        }
        let w = WeeklyWindow { day, start, end };
        if !out.contains(&w) {
            out.push(w);
        }
    }
    if out.len() > MAX_WINDOWS {
        return Err(WindowError {
            line: MAX_WINDOWS as u32 + 1,
            text: String::new(),
        });
    }
    Ok(out)
}

/// A window line that does not read: which line, and what it said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowError {
    pub line: u32,
    pub text: String,
}

impl From<WindowError> for Problem {
    fn from(_: WindowError) -> Problem {
        Problem::WindowsInvalid
    }
}

/// The stored and displayed form of a window: `mon 18:00-21:00`.
pub fn format_window(w: &WeeklyWindow) -> String {
    // Midnight as an end is written 24:00, so `00:00-24:00` reads back as the whole day.
    let end = if w.end == NaiveTime::MIN {
        "24:00".to_string()
    } else {
        w.end.format("%H:%M").to_string()
    };
    format!("{} {}-{end}", day_key(w.day), w.start.format("%H:%M"))
}

pub fn format_windows(ws: &[WeeklyWindow]) -> String {
    ws.iter().map(format_window).collect::<Vec<_>>().join("\n")
}

/// Windows read back from the database (written by `format_window`, so they parse).
pub fn stored_windows(lines: &[String]) -> Vec<WeeklyWindow> {
    parse_windows(&lines.join("\n")).unwrap_or_default()
}

pub fn parse_zone(raw: &str) -> Result<Tz, Problem> {
    raw.trim().parse().map_err(|_| Problem::TimezoneInvalid)
}

/// A mentor's own settings, parsed from the profile form.
#[derive(Clone, Debug, PartialEq)]
pub struct MentorSettings {
    pub headline: String,
    pub capacity: u32,
    pub session_minutes: u32,
    pub windows: Vec<WeeklyWindow>,
    pub paused: bool,
}

impl MentorSettings {
    pub fn parse(
        headline: &str,
        capacity: &str,
        session_minutes: &str,
        windows: &str,
        paused: bool,
    ) -> Result<Self, Problem> {
        let headline = headline.trim().to_string();
        if headline.chars().count() > MAX_HEADLINE_CHARS {
            return Err(Problem::TitleTooLong);
        }
        let capacity: u32 = capacity
            .trim()
            .parse()
            .ok()
            .filter(|c| (1..=50).contains(c))
            .ok_or(Problem::CapacityInvalid)?;
        let session_minutes: u32 = session_minutes
            .trim()
            .parse()
            .ok()
            .filter(|m| SESSION_LENGTHS.contains(m))
            .ok_or(Problem::SessionLengthInvalid)?;
        Ok(MentorSettings {
            headline,
            capacity,
            session_minutes,
            windows: parse_windows(windows)?,
            paused,
        })
    }
}

/// Where a mentoring request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    Sent,
    Viewed,
    Accepted,
    Declined,
    Expired,
    Withdrawn,
}

impl RequestState {
    pub fn key(self) -> &'static str {
        match self {
            RequestState::Sent => "sent",
            RequestState::Viewed => "viewed",
            RequestState::Accepted => "accepted",
            RequestState::Declined => "declined",
            RequestState::Expired => "expired",
            RequestState::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            RequestState::Sent,
            RequestState::Viewed,
            RequestState::Accepted,
            RequestState::Declined,
            RequestState::Expired,
            RequestState::Withdrawn,
        ]
        .into_iter()
        .find(|s| s.key() == raw)
    }

    /// Still waiting for the mentor.
    pub fn is_open(self) -> bool {
        matches!(self, RequestState::Sent | RequestState::Viewed)
    }
}

/// What a learner fills in to find mentors and send a request, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct NeedsForm {
    pub goals: String,
    pub skills: Vec<Skill>,
    pub languages: Vec<String>,
    pub windows: Vec<WeeklyWindow>,
    pub timezone: Tz,
}

impl NeedsForm {
    pub fn parse(
        goals: &str,
        skills: &str,
        languages: &str,
        windows: &str,
        timezone: &str,
    ) -> Result<Self, Problem> {
        let goals = goals.trim().replace("\r\n", "\n");
        if goals.chars().count() > MAX_GOALS_CHARS {
            return Err(Problem::GoalsTooLong);
        }
        let skills = crate::accounts::model::parse_skills(skills)?;
        if skills.is_empty() {
            return Err(Problem::SkillsMissing);
        }
        let windows = parse_windows(windows)?;
        if windows.is_empty() {
            return Err(Problem::WindowsInvalid);
        }
        Ok(NeedsForm {
            goals,
            skills,
            languages: crate::accounts::model::parse_languages(languages)?,
            windows,
            timezone: parse_zone(timezone)?,
        })
    }

    pub fn availability(&self) -> Availability {
        Availability {
            timezone: self.timezone,
            windows: self.windows.clone(),
        }
    }
}

/// The free session starts of a mentor between `from` and `until`: on quarter hours inside
/// their weekly windows (in their zone, through DST changes), the whole session inside the
/// window, not before `from`, and not overlapping `busy` (booked sessions, any side).
pub fn open_slots(
    availability: &Availability,
    session_minutes: u32,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    busy: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Vec<DateTime<Utc>> {
    let len = Duration::minutes(i64::from(session_minutes));
    let days = (until - from).num_days() + 1;
    let mut starts: Vec<DateTime<Utc>> = Vec::new();
    for (a, b) in availability.utc_intervals_over(from, days) {
        let mut t = ceil_quarter(a.max(from));
        while t + len <= b && t < until {
            let end = t + len;
            if !busy.iter().any(|(s, e)| *s < end && t < *e) {
                starts.push(t);
            }
            t += Duration::seconds(QUARTER_SECS);
        }
    }
    starts.sort();
    starts.dedup();
    starts
}

fn ceil_quarter(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp();
    let up = secs.div_euclid(QUARTER_SECS) * QUARTER_SECS
        + if secs.rem_euclid(QUARTER_SECS) == 0 && t.nanosecond() == 0 {
            0
        } else {
            QUARTER_SECS
        };
    DateTime::from_timestamp(up, 0).unwrap_or(t)
}

/// The keys a booking holds: one per quarter hour it covers, for each person in it. Two
/// bookings that overlap for anyone share a key.
pub fn hold_keys(users: &[&str], start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<String> {
    let (first, last) = (
        start.timestamp().div_euclid(QUARTER_SECS),
        (end.timestamp() - 1).div_euclid(QUARTER_SECS),
    );
    users
        .iter()
        .flat_map(|u| (first..=last).map(move |q| format!("{u}:{q}")))
        .collect()
}

/// A time as the reader sees it, in their zone: `Mon 30 Nov, 18:00`.
pub fn local_label(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%a %-d %b, %H:%M").to_string()
}

// ---------------------------------------------------------------------------------------------
// Views: what the pages receive.

/// A mentor in the directory or the ranking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MentorCard {
    pub id: String,
    pub name: String,
    pub headline: String,
    pub skills: Vec<Skill>,
    pub languages: Vec<String>,
    pub timezone: String,
    /// Mean stars and how many sessions were rated.
    pub rating: Option<(f64, u32)>,
    pub free_places: u32,
    pub paused: bool,
    /// Filled in the ranking: the score (0–1) and the reasons in words.
    pub score: Option<f64>,
    pub reasons: String,
}

/// A mentor's public page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MentorPageView {
    pub card: MentorCard,
    pub bio: String,
    pub session_minutes: u32,
    /// The weekly windows shown in the reader's zone (`Mon 18:00–21:00`).
    pub windows_local: Vec<String>,
    pub viewer_zone: String,
    /// The reader's mentorship with this mentor, if any.
    pub mentorship: Option<String>,
    pub is_self: bool,
}

/// The mentor settings form's current values.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MentorSettingsView {
    pub headline: String,
    pub capacity: u32,
    pub session_minutes: u32,
    pub windows: String,
    pub paused: bool,
    pub timezone: String,
    pub has_skills: bool,
}

/// The learner's needs as the find form shows them (prefilled from the profile).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NeedsPrefill {
    pub goals: String,
    pub skills: String,
    pub languages: String,
    pub windows: String,
    pub timezone: String,
    /// The mentor of the request being sent again (left out of the ranking).
    pub exclude: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestView {
    pub id: String,
    pub learner_id: String,
    pub learner_name: String,
    pub mentor_id: String,
    pub mentor_name: String,
    pub goals: String,
    pub skills: Vec<Skill>,
    pub languages: Vec<String>,
    pub windows_local: Vec<String>,
    pub reasons: String,
    pub state: RequestState,
    pub message: Option<String>,
    pub created_at: String,
    /// Hours since it was sent (for "waiting 5 h").
    pub waited_hours: i64,
    pub expires_at: String,
    /// The viewer is its mentor (and may answer it).
    pub for_me: bool,
    pub mentorship: Option<String>,
}

/// One bookable start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotView {
    /// RFC 3339 in UTC: what the form sends back.
    pub start: String,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingView {
    pub id: String,
    pub mentorship: String,
    pub mentor_id: String,
    pub mentor_name: String,
    pub learner_id: String,
    pub learner_name: String,
    pub start: String,
    pub end: String,
    pub label: String,
    pub zone: String,
    pub cancelled: bool,
    pub room: String,
    /// The room link is shown (from 15 minutes before the start until the session is over).
    pub join_open: bool,
    pub started: bool,
    pub ended: bool,
    /// Cancel and reschedule are still allowed (the minimum notice has not passed).
    pub can_change: bool,
    pub viewer_is_mentor: bool,
    /// The viewer's own rating of this session, if given.
    pub my_feedback: Option<FeedbackView>,
    /// The other side's rating of the viewer.
    pub their_feedback: Option<FeedbackView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackView {
    pub stars: u8,
    pub comment: String,
    pub author_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostView {
    pub id: String,
    pub author_name: String,
    pub body_html: String,
    pub at: String,
    pub replies: Vec<PostView>,
    /// The person who asked marked this answer helpful.
    pub helpful: bool,
    /// The reader asked the question this answers (and did not write the answer).
    pub can_mark_helpful: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MentorshipSummary {
    pub id: String,
    pub other_name: String,
    pub viewer_is_mentor: bool,
    pub next_session: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MentorshipView {
    pub id: String,
    pub mentor_id: String,
    pub mentor_name: String,
    pub learner_name: String,
    pub viewer_is_mentor: bool,
    /// False once either side ended it: the page keeps its history, read-only.
    pub active: bool,
    pub session_minutes: u32,
    pub zone: String,
    pub slots: Vec<SlotView>,
    pub bookings: Vec<BookingView>,
    pub posts: Vec<PostView>,
}

/// The "mentoring" overview page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MentoringOverview {
    pub sent: Vec<RequestView>,
    pub received: Vec<RequestView>,
    pub mentorships: Vec<MentorshipSummary>,
    pub upcoming: Vec<BookingView>,
    pub is_mentor: bool,
    /// The caller has a calendar-feed address (its secret is shown only when it is made).
    pub has_calendar_feed: bool,
    /// Where feed addresses start (`https://host/calendar/`), to show a new one.
    pub calendar_base: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
    }

    #[test]
    fn windows_read_as_people_type_them_and_name_the_bad_line() {
        let ws = parse_windows(
            "Mon 18:00-21:00\n\n  tuesday 09:15–10:45 \nFri 22:00-01:00\nsat 10:00-24:00",
        )
        .unwrap_or_default();
        assert_eq!(ws.len(), 4);
        assert_eq!(
            ws[0],
            WeeklyWindow {
                day: Weekday::Mon,
                start: t(18, 0),
                end: t(21, 0)
            }
        );
        assert_eq!(ws[1].day, Weekday::Tue);
        assert_eq!(ws[3].end, t(0, 0));
        let whole = parse_windows("sun 00:00-24:00").unwrap_or_default();
        assert_eq!(stored_windows(&[format_windows(&whole)]), whole);
        assert_eq!(whole.len(), 1);
        assert_eq!(format_window(&ws[2]), "fri 22:00-01:00");
        assert_eq!(stored_windows(&[format_windows(&ws)]), ws);
        for (bad, line) in [
            ("Mon 18:00-21:00\nmonkey 10:00-11:00", 2),
            ("Mon 18:10-21:00", 1),
            ("Mon 18:00", 1),
            ("Mon 25:00-26:00", 1),
            ("Mon 10:00-10:00", 1),
        ] {
            assert_eq!(parse_windows(bad).map_err(|e| e.line), Err(line), "{bad}");
        }
    }

    #[test]
    fn slots_fall_on_quarter_hours_inside_windows_and_skip_busy_times() {
        // Berlin, Monday 30 Nov 2026 09:00–11:00 local = 08:00–10:00 UTC; 60-minute sessions.
        let avail = Availability {
            timezone: chrono_tz::Europe::Berlin,
            windows: vec![WeeklyWindow {
                day: Weekday::Mon,
                start: t(9, 0),
                end: t(11, 0),
            }],
        };
        let from = Utc.with_ymd_and_hms(2026, 11, 30, 7, 50, 0).unwrap();
        let until = from + Duration::days(1);
        let slots = open_slots(&avail, 60, from, until, &[]);
        let hm: Vec<String> = slots
            .iter()
            .map(|s| s.format("%H:%M").to_string())
            .collect();
        assert_eq!(hm, ["08:00", "08:15", "08:30", "08:45", "09:00"]);
        // A booking 08:30–09:30 blocks every start that would overlap it.
        let busy = [(
            Utc.with_ymd_and_hms(2026, 11, 30, 8, 30, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 30, 9, 30, 0).unwrap(),
        )];
        let left: Vec<String> = open_slots(&avail, 60, from, until, &busy)
            .iter()
            .map(|s| s.format("%H:%M").to_string())
            .collect();
        assert!(left.is_empty(), "{left:?}");
        // Starting later than the window's start: only what is still ahead.
        let late = Utc.with_ymd_and_hms(2026, 11, 30, 8, 20, 0).unwrap();
        assert_eq!(open_slots(&avail, 60, late, until, &[]).len(), 3);
    }

    #[test]
    fn overlapping_bookings_share_a_hold_and_adjacent_ones_do_not() {
        let at = |h, m| Utc.with_ymd_and_hms(2026, 11, 30, h, m, 0).unwrap();
        let a = hold_keys(&["m", "l1"], at(10, 0), at(11, 0));
        assert_eq!(a.len(), 8);
        let overlapping = hold_keys(&["m", "l2"], at(10, 45), at(11, 45));
        assert!(overlapping.iter().any(|k| a.contains(k)));
        let adjacent = hold_keys(&["m", "l2"], at(11, 0), at(12, 0));
        assert!(!adjacent.iter().any(|k| a.contains(k)));
        // The same learner with another mentor at an overlapping time collides too.
        let other_mentor = hold_keys(&["m2", "l1"], at(10, 30), at(11, 0));
        assert!(other_mentor.iter().any(|k| a.contains(k)));
    }

    #[test]
    fn mentor_settings_refuse_what_cannot_be_booked() {
        assert!(MentorSettings::parse("", "3", "45", "mon 10:00-12:00", false).is_ok());
        assert_eq!(
            MentorSettings::parse("", "0", "45", "", false),
            Err(Problem::CapacityInvalid)
        );
        assert_eq!(
            MentorSettings::parse("", "3", "50", "", false),
            Err(Problem::SessionLengthInvalid)
        );
        assert_eq!(
            MentorSettings::parse("", "3", "60", "someday", false),
            Err(Problem::WindowsInvalid)
        );
    }
}
