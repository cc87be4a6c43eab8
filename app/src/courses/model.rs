//! Course types shared by the browser and the server, the parsers for course input, and the
//! pure rules of progress (watched time, quiz grading) that both sides compute the same way.

use serde::{Deserialize, Serialize};

use crate::error::Problem;

/// A video lesson counts as done once this share of it has really been played. Not 100 %:
/// players stop a fraction of a second early and credits are rarely watched.
pub const VIDEO_DONE_FRACTION: f64 = 0.9;
/// A quiz lesson counts as done once an attempt gets at least this share right.
pub const QUIZ_PASS_FRACTION: f64 = 0.7;
/// Results per catalog page.
pub const PER_PAGE: u32 = 12;
pub const TITLE_MAX: usize = 120;
pub const SUMMARY_MAX: usize = 300;
pub const DESCRIPTION_MAX: usize = 50_000;
pub const TAGS_MAX: usize = 10;
pub const QUERY_MAX: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Beginner,
    Intermediate,
    Advanced,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Beginner, Level::Intermediate, Level::Advanced];
    pub fn key(self) -> &'static str {
        match self {
            Level::Beginner => "beginner",
            Level::Intermediate => "intermediate",
            Level::Advanced => "advanced",
        }
    }
    pub fn parse(raw: &str) -> Result<Level, Problem> {
        Level::ALL
            .into_iter()
            .find(|l| l.key() == raw.trim())
            .ok_or(Problem::LevelInvalid)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LessonKind {
    Text,
    Video,
    Quiz,
    /// A slot the exercises capability fills.
    Exercise,
}

impl LessonKind {
    pub const ALL: [LessonKind; 4] = [
        LessonKind::Text,
        LessonKind::Video,
        LessonKind::Quiz,
        LessonKind::Exercise,
    ];
    pub fn key(self) -> &'static str {
        match self {
            LessonKind::Text => "text",
            LessonKind::Video => "video",
            LessonKind::Quiz => "quiz",
            LessonKind::Exercise => "exercise",
        }
    }
    pub fn parse(raw: &str) -> Result<LessonKind, Problem> {
        LessonKind::ALL
            .into_iter()
            .find(|k| k.key() == raw.trim())
            .ok_or(Problem::LessonKindInvalid)
    }
}

/// A course's address: 3–80 of `a-z`, `0-9` and single hyphens.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Slug, Problem> {
        let s = raw.trim();
        let ok = (3..=80).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        if ok {
            Ok(Slug(s.to_string()))
        } else {
            Err(Problem::SlugInvalid)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Trimmed text of 1..=`max` characters, or `empty`/`long` as the problem.
pub fn required_text(
    raw: &str,
    max: usize,
    empty: Problem,
    long: Problem,
) -> Result<String, Problem> {
    let t = raw.trim();
    if t.is_empty() {
        Err(empty)
    } else if t.chars().count() > max {
        Err(long)
    } else {
        Ok(t.to_string())
    }
}

/// A course, section or lesson title: 1–120 characters.
pub fn parse_title(raw: &str) -> Result<String, Problem> {
    required_text(raw, TITLE_MAX, Problem::TitleEmpty, Problem::TitleTooLong)
}

/// Tags: comma-separated, lower-cased, 1–30 characters of letters, digits, `-`, `+`, `#`, `.`.
pub fn parse_tags(raw: &str) -> Result<Vec<String>, Problem> {
    let mut tags: Vec<String> = Vec::new();
    for t in raw
        .split(',')
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
    {
        let ok = t.chars().count() <= 30
            && t.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '+' | '#' | '.' | ' '));
        if !ok {
            return Err(Problem::TagInvalid);
        }
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    if tags.len() > TAGS_MAX {
        return Err(Problem::TooManyTags);
    }
    Ok(tags)
}

/// A spoken language code (`en`, `zh`, `pt-br`).
pub fn parse_language(raw: &str) -> Result<String, Problem> {
    let l = raw.trim().to_lowercase();
    let ok = (2..=8).contains(&l.len())
        && l.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        && l.as_bytes()[..2].iter().all(u8::is_ascii_lowercase);
    if ok {
        Ok(l)
    } else {
        Err(Problem::LanguageInvalid)
    }
}

/// A date as courses store it (`2026-03-01`), or nothing for an empty field.
pub fn parse_date(raw: &str) -> Result<Option<String>, Problem> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let ok = t.len() == 10
        && t.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
        && matches!(t[5..7].parse::<u32>(), Ok(1..=12))
        && matches!(t[8..10].parse::<u32>(), Ok(1..=31));
    if ok {
        Ok(Some(t.to_string()))
    } else {
        Err(Problem::DatesInvalid)
    }
}

/// Everything an author edits about a course, parsed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseInput {
    pub title: String,
    pub summary: String,
    pub description: String,
    pub tags: Vec<String>,
    pub level: Level,
    pub language: String,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
}

impl CourseInput {
    #[expect(clippy::too_many_arguments)]
    pub fn parse(
        title: &str,
        summary: &str,
        description: &str,
        tags: &str,
        level: &str,
        language: &str,
        starts_on: &str,
        ends_on: &str,
    ) -> Result<Self, Problem> {
        let title = parse_title(title)?;
        let summary = summary.trim().to_string();
        if summary.chars().count() > SUMMARY_MAX {
            return Err(Problem::SummaryTooLong);
        }
        if description.chars().count() > DESCRIPTION_MAX {
            return Err(Problem::DescriptionTooLong);
        }
        let (starts_on, ends_on) = (parse_date(starts_on)?, parse_date(ends_on)?);
        if let (Some(a), Some(b)) = (&starts_on, &ends_on)
            && b < a
        {
            return Err(Problem::DatesInvalid);
        }
        Ok(CourseInput {
            title,
            summary,
            description: description.to_string(),
            tags: parse_tags(tags)?,
            level: Level::parse(level)?,
            language: parse_language(language)?,
            starts_on,
            ends_on,
        })
    }
}

/// What the course editor shows: the course as stored, its syllabus, and its status.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseDraft {
    pub slug: String,
    pub input: CourseInput,
    pub published: bool,
    pub sections: Vec<SectionView>,
}

/// What the lesson editor shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LessonDraft {
    pub id: String,
    pub course_slug: String,
    pub title: String,
    pub kind: LessonKind,
    pub body: String,
    pub video_src: Option<String>,
    pub video_secs: Option<f64>,
    /// The quiz as TOML `[[question]]` tables, the same format as course folders use.
    pub questions_toml: String,
    /// Attempts before a quiz's answers are shown (`None`: unlimited, shown after passing).
    pub quiz_attempts: Option<u32>,
}

/// How the catalog orders results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Best search match first (newest first when there is no search).
    #[default]
    Relevance,
    Newest,
    MostEnrolled,
    BestRated,
}

impl Sort {
    pub const ALL: [Sort; 4] = [
        Sort::Relevance,
        Sort::Newest,
        Sort::MostEnrolled,
        Sort::BestRated,
    ];
    pub fn key(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::Newest => "newest",
            Sort::MostEnrolled => "enrolled",
            Sort::BestRated => "rated",
        }
    }
    pub fn parse(raw: &str) -> Sort {
        Sort::ALL
            .into_iter()
            .find(|s| s.key() == raw)
            .unwrap_or_default()
    }
}

/// A catalog search, exactly as the URL query carries it (`?q=&tag=&level=&lang=&sort=&page=`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CatalogQuery {
    pub q: String,
    pub tag: Option<String>,
    pub level: Option<Level>,
    pub language: Option<String>,
    pub sort: Sort,
    /// 1-based.
    pub page: u32,
}

impl CatalogQuery {
    /// Reads the URL query leniently: an unknown filter value is dropped, not an error, so an
    /// old or hand-edited link still shows a catalog.
    pub fn from_pairs<'a>(get: impl Fn(&str) -> Option<&'a str>) -> CatalogQuery {
        let non_empty = |k: &str| get(k).map(str::trim).filter(|v| !v.is_empty());
        CatalogQuery {
            q: non_empty("q")
                .map(|q| q.chars().take(QUERY_MAX).collect())
                .unwrap_or_default(),
            tag: non_empty("tag").map(str::to_lowercase),
            level: non_empty("level").and_then(|l| Level::parse(l).ok()),
            language: non_empty("lang").and_then(|l| parse_language(l).ok()),
            sort: non_empty("sort").map(Sort::parse).unwrap_or_default(),
            page: non_empty("page")
                .and_then(|p| p.parse().ok())
                .filter(|p| *p >= 1 && *p <= 10_000)
                .unwrap_or(1),
        }
    }

    /// The URL query for this search (for links: pagination, removing a filter).
    pub fn to_query_string(&self) -> String {
        let mut parts: Vec<(&str, String)> = Vec::new();
        if !self.q.is_empty() {
            parts.push(("q", self.q.clone()));
        }
        if let Some(t) = &self.tag {
            parts.push(("tag", t.clone()));
        }
        if let Some(l) = self.level {
            parts.push(("level", l.key().into()));
        }
        if let Some(l) = &self.language {
            parts.push(("lang", l.clone()));
        }
        if self.sort != Sort::Relevance {
            parts.push(("sort", self.sort.key().into()));
        }
        if self.page > 1 {
            parts.push(("page", self.page.to_string()));
        }
        parts
            .iter()
            .map(|(k, v)| format!("{k}={}", encode_component(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes a URL query value.
pub fn encode_component(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One course as a catalog card shows it. `*_html` fields carry search highlights and are
/// escaped by the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseCard {
    pub slug: String,
    pub title: String,
    pub title_html: String,
    pub summary_html: String,
    pub tags: Vec<String>,
    pub level: Level,
    pub language: String,
    pub enrolled: i64,
    /// Mean rating 1–5, when anyone rated.
    pub rating: Option<f64>,
    pub published: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogPage {
    pub query: CatalogQuery,
    pub cards: Vec<CourseCard>,
    pub total: i64,
    /// Tags and languages present in published courses, for the filter menus.
    pub all_tags: Vec<String>,
    pub all_languages: Vec<String>,
}

impl CatalogPage {
    pub fn pages(&self) -> u32 {
        u32::try_from((self.total.max(0) + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE))
            .unwrap_or(1)
            .max(1)
    }
}

/// A course on the learner's own page, with how far they are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MyCourse {
    pub card: CourseCard,
    pub progress: CourseProgress,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LessonItem {
    pub id: String,
    pub title: String,
    pub kind: LessonKind,
    pub done: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SectionView {
    pub id: String,
    pub title: String,
    pub lessons: Vec<LessonItem>,
}

/// A learner's progress in one course. Stored facts only (lessons done, t and T, quiz
/// results), so the evaluation score can be computed from them later.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CourseProgress {
    pub lessons_done: u32,
    pub lessons_total: u32,
    /// t: seconds of video really watched (union of played intervals, per video).
    pub watched_secs: f64,
    /// T: total duration of the course's videos.
    pub video_secs: f64,
    pub quiz_correct: u32,
    pub quiz_total: u32,
}

impl CourseProgress {
    /// Lessons done, in whole percent.
    pub fn percent(&self) -> u32 {
        (self.lessons_done * 100)
            .checked_div(self.lessons_total)
            .unwrap_or(0)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseDetail {
    pub card: CourseCard,
    pub description_html: String,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub authors: Vec<String>,
    pub sections: Vec<SectionView>,
    pub enrolled: bool,
    pub can_edit: bool,
    pub progress: Option<CourseProgress>,
    /// Where to continue: the last lesson opened, else the first not done.
    pub resume: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VideoView {
    pub src: String,
    pub duration_secs: f64,
    pub captions: Option<String>,
    /// Seconds already counted for this learner.
    pub watched_secs: f64,
    /// Where playback stopped last time.
    pub position_secs: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionView {
    pub id: String,
    pub prompt_html: String,
    pub choices: Vec<String>,
    pub multiple: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionResult {
    pub question_id: String,
    pub chosen: Vec<u32>,
    pub correct: Vec<u32>,
    pub right: bool,
    pub explanation_html: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuizResult {
    pub correct: u32,
    pub total: u32,
    pub passed: bool,
    pub questions: Vec<QuestionResult>,
    /// The right choices and explanations are in `questions` (the learner passed, or used
    /// every attempt the quiz allows); otherwise only right/wrong per question.
    pub revealed: bool,
    pub attempts_used: u32,
    /// `None`: as many attempts as the learner likes.
    pub attempts_allowed: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LessonView {
    pub id: String,
    pub course_slug: String,
    pub course_title: String,
    pub title: String,
    pub kind: LessonKind,
    pub body_html: String,
    pub video: Option<VideoView>,
    pub questions: Vec<QuestionView>,
    pub last_result: Option<QuizResult>,
    pub done: bool,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub enrolled: bool,
    pub progress: CourseProgress,
}

/// Played intervals of one video, in seconds, kept sorted and disjoint: their total length is
/// the honest watched time (replays do not add, skipped parts are not there).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Intervals(pub Vec<(f64, f64)>);

impl Intervals {
    /// Adds `[start, end)`, clamped to `[0, duration]`; returns the seconds that were new.
    pub fn add(&mut self, start: f64, end: f64, duration: f64) -> f64 {
        if !(start.is_finite() && end.is_finite()) {
            return 0.0;
        }
        let (start, end) = (start.clamp(0.0, duration), end.clamp(0.0, duration));
        if end <= start {
            return 0.0;
        }
        let before = self.total();
        let mut merged = Vec::with_capacity(self.0.len() + 1);
        let (mut s, mut e) = (start, end);
        for &(a, b) in &self.0 {
            if b < s || a > e {
                merged.push((a, b));
            } else {
                s = s.min(a);
                e = e.max(b);
            }
        }
        merged.push((s, e));
        merged.sort_by(|x, y| x.0.total_cmp(&y.0));
        self.0 = merged;
        self.total() - before
    }

    pub fn total(&self) -> f64 {
        self.0.iter().map(|(a, b)| b - a).sum()
    }
}

/// Parses a report of played intervals sent by the player: `start-end` pairs separated by
/// commas (`0-4.5,10-12`), at most 200 of them.
pub fn parse_played(raw: &str) -> Result<Vec<(f64, f64)>, Problem> {
    let mut out = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').ok_or(Problem::PlayedInvalid)?;
        let a: f64 = a.trim().parse().map_err(|_| Problem::PlayedInvalid)?;
        let b: f64 = b.trim().parse().map_err(|_| Problem::PlayedInvalid)?;
        if !a.is_finite() || !b.is_finite() || a < 0.0 || b < a {
            return Err(Problem::PlayedInvalid);
        }
        out.push((a, b));
    }
    if out.len() > 200 {
        return Err(Problem::PlayedInvalid);
    }
    Ok(out)
}

/// The player's side of watch time: turns the stream of `timeupdate` positions into
/// intervals of continuous playback. A jump (seek, or a gap larger than playback could cover)
/// closes the current interval, so skipped parts are never reported as played.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlayTracker {
    open: Option<(f64, f64)>,
    closed: Vec<(f64, f64)>,
}

impl PlayTracker {
    /// Largest step between two time updates that still counts as playing through (players
    /// fire every 250 ms or so; this leaves room for 2x speed and a busy main thread).
    pub const MAX_STEP: f64 = 3.0;

    /// The media element reports it is at `t` while playing.
    pub fn on_time(&mut self, t: f64) {
        if !t.is_finite() {
            return;
        }
        self.open = match self.open {
            Some((start, last)) if t >= last && t - last <= Self::MAX_STEP => Some((start, t)),
            Some((start, last)) => {
                self.push(start, last);
                Some((t, t))
            }
            None => Some((t, t)),
        };
    }

    /// Paused, seeking or ended: the current interval is over.
    pub fn on_stop(&mut self) {
        if let Some((start, last)) = self.open.take() {
            self.push(start, last);
        }
    }

    fn push(&mut self, start: f64, end: f64) {
        if end > start {
            self.closed.push((start, end));
        }
    }

    /// What to report now, as `parse_played` reads it; empty when nothing was played since
    /// the last report. Playback in progress is reported up to here and continues after.
    pub fn take_report(&mut self) -> String {
        if let Some((start, last)) = self.open {
            self.push(start, last);
            self.open = Some((last, last));
        }
        let report = self
            .closed
            .iter()
            .map(|(a, b)| format!("{a:.2}-{b:.2}"))
            .collect::<Vec<_>>()
            .join(",");
        self.closed.clear();
        report
    }
}

/// Grades one question: right only when exactly the correct choices were chosen.
pub fn grade(chosen: &[u32], correct: &[u32]) -> bool {
    let mut a = chosen.to_vec();
    let mut b = correct.to_vec();
    a.sort_unstable();
    a.dedup();
    b.sort_unstable();
    b.dedup();
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaying_a_part_does_not_count_twice() {
        let mut w = Intervals::default();
        assert_eq!(w.add(0.0, 10.0, 60.0), 10.0);
        assert_eq!(w.add(5.0, 10.0, 60.0), 0.0);
        assert_eq!(w.add(8.0, 15.0, 60.0), 5.0);
        assert_eq!(w.total(), 15.0);
        assert_eq!(w.0, vec![(0.0, 15.0)]);
    }

    #[test]
    fn seeking_ahead_leaves_a_gap_that_does_not_count() {
        let mut w = Intervals::default();
        w.add(0.0, 5.0, 60.0);
        w.add(55.0, 60.0, 60.0);
        assert_eq!(w.total(), 10.0);
        w.add(4.0, 56.0, 60.0);
        assert_eq!(w.0, vec![(0.0, 60.0)]);
    }

    #[test]
    fn intervals_beyond_the_duration_are_clamped() {
        let mut w = Intervals::default();
        assert_eq!(w.add(50.0, 500.0, 60.0), 10.0);
        assert_eq!(w.add(-20.0, 1.0, 60.0), 1.0);
        assert_eq!(w.add(f64::NAN, 1.0, 60.0), 0.0);
    }

    #[test]
    fn played_reports_parse_or_are_refused_in_words() {
        assert_eq!(
            parse_played("0-4.5, 10-12").unwrap(),
            vec![(0.0, 4.5), (10.0, 12.0)]
        );
        assert_eq!(parse_played("").unwrap(), vec![]);
        assert_eq!(parse_played("5-1"), Err(Problem::PlayedInvalid));
        assert_eq!(parse_played("a-b"), Err(Problem::PlayedInvalid));
        assert_eq!(parse_played("inf-inf"), Err(Problem::PlayedInvalid));
    }

    #[test]
    fn the_tracker_reports_continuous_playback_and_not_a_seek_ahead() {
        let mut t = PlayTracker::default();
        for i in 0..=20 {
            t.on_time(f64::from(i) * 0.25);
        }
        // The learner drags the playhead to the end: no seeking event, just a jump.
        t.on_time(58.0);
        t.on_time(58.25);
        assert_eq!(t.take_report(), "0.00-5.00,58.00-58.25");
        assert_eq!(t.take_report(), "");
        t.on_time(58.5);
        t.on_stop();
        t.on_time(10.0);
        assert_eq!(t.take_report(), "58.25-58.50");
    }

    #[test]
    fn a_question_is_right_only_with_exactly_the_correct_choices() {
        assert!(grade(&[2, 0], &[0, 2]));
        assert!(!grade(&[0], &[0, 2]));
        assert!(!grade(&[0, 1, 2], &[0, 2]));
        assert!(!grade(&[], &[1]));
    }

    #[test]
    fn slugs_tags_and_languages_parse_or_say_what_is_wrong() {
        assert!(Slug::parse("git-for-teams").is_ok());
        for bad in ["Git", "a", "-x-", "a--b", "über-kurs", "with space"] {
            assert_eq!(Slug::parse(bad), Err(Problem::SlugInvalid), "{bad}");
        }
        assert_eq!(
            parse_tags(" Rust, async,rust ").unwrap(),
            vec!["rust", "async"]
        );
        assert_eq!(parse_tags("<script>"), Err(Problem::TagInvalid));
        assert_eq!(parse_language("EN").unwrap(), "en");
        assert_eq!(parse_language("e"), Err(Problem::LanguageInvalid));
    }

    #[test]
    fn course_input_checks_every_field_and_the_date_order() {
        let ok = CourseInput::parse(
            "T",
            "",
            "",
            "a, b",
            "advanced",
            "en",
            "2026-01-01",
            "2026-02-01",
        );
        assert_eq!(
            ok.map(|c| c.tags),
            Ok(vec!["a".to_string(), "b".to_string()])
        );
        let cases = [
            (("", "beginner", "2026-01-01", ""), Problem::TitleEmpty),
            (("T", "expert", "", ""), Problem::LevelInvalid),
            (("T", "beginner", "2026-13-01", ""), Problem::DatesInvalid),
            (
                ("T", "beginner", "2026-02-01", "2026-01-01"),
                Problem::DatesInvalid,
            ),
        ];
        for ((title, level, start, end), problem) in cases {
            assert_eq!(
                CourseInput::parse(title, "", "", "", level, "en", start, end),
                Err(problem)
            );
        }
    }

    #[test]
    fn the_catalog_query_round_trips_through_the_url_and_drops_unknown_values() {
        let pairs = [
            ("q", "async rust"),
            ("level", "expert"),
            ("lang", "en"),
            ("sort", "enrolled"),
            ("page", "2"),
        ];
        let get = |k: &str| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
        let q = CatalogQuery::from_pairs(get);
        assert_eq!(q.level, None);
        assert_eq!(q.sort, Sort::MostEnrolled);
        assert_eq!(
            q.to_query_string(),
            "q=async%20rust&lang=en&sort=enrolled&page=2"
        );
    }
}
