//! Ranking mentors for a mentoring request: a pure function, so it is unit-tested without a
//! database and runs the same wherever it is called.
//!
//! Each mentor gets a score in [0, 1] from six parts, each in [0, 1], weighted by
//! [`Weights`] (configuration; the weights are normalised to sum to 1):
//! - **skills**: per wanted skill 1 if the mentor has it at the wanted level or above, ½ if
//!   at a lower level, 0 if not at all; averaged over the wanted skills;
//! - **availability**: hours per week both are free, computed in UTC for the coming week
//!   (so daylight-saving changes in either zone count), divided by the hours the learner asked
//!   for (capped at 1);
//! - **language**: 1 if the mentor speaks one of the learner's languages;
//! - **rating**: a Bayesian average, `(C·m + Σ stars) / (C + n)` with prior mean `m` = 4.0
//!   and weight `C` = 5 reviews, scaled from 1–5 to 0–1: one 5★ review (4.17) does not beat
//!   forty at 4.8★ (4.71);
//! - **capacity**: the share of the mentor's places still free (a full or paused mentor is not
//!   ranked at all);
//! - **responsiveness**: `1 / (1 + h / 24)` for a median first answer after `h` hours (none
//!   yet: ½).
//!
//! Every ranked mentor carries the reasons a learner reads ("4 of 5 skills · 6 h/week overlap
//! in your timezones · speaks Mandarin · 4.8★ from 23 sessions · usually answers within 5 h").

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::{accounts::model::Skill, i18n::Locale};

/// How much each part counts. Defaults are documented in the README.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    pub skills: f64,
    pub availability: f64,
    pub language: f64,
    pub rating: f64,
    pub capacity: f64,
    pub responsiveness: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            skills: 0.35,
            availability: 0.25,
            language: 0.10,
            rating: 0.15,
            capacity: 0.05,
            responsiveness: 0.10,
        }
    }
}

impl Weights {
    fn total(&self) -> f64 {
        self.skills
            + self.availability
            + self.language
            + self.rating
            + self.capacity
            + self.responsiveness
    }
}

/// A weekly recurring free time in someone's own timezone (may cross midnight).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyWindow {
    pub day: Weekday,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// Someone's free times and the zone they are written in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Availability {
    #[serde(with = "tz_name")]
    pub timezone: Tz,
    pub windows: Vec<WeeklyWindow>,
}

impl Availability {
    /// The windows as UTC intervals over the 7 days starting at `from`'s date (in this zone),
    /// with one extra day each side so windows crossing midnight or the week boundary count.
    /// A local time that does not exist (the spring-forward gap) moves to the first instant
    /// after it; one that exists twice (fall back) takes the earlier.
    pub fn utc_intervals(&self, from: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        self.utc_intervals_over(from, 7)
    }

    /// The same over `days` days (booking looks further ahead than a week).
    pub fn utc_intervals_over(
        &self,
        from: DateTime<Utc>,
        days: i64,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let first = from.with_timezone(&self.timezone).date_naive();
        let mut out = Vec::new();
        for offset in -1..=days {
            let date = first + Duration::days(offset);
            for w in self.windows.iter().filter(|w| w.day == date.weekday()) {
                let end_date = if w.end <= w.start {
                    date + Duration::days(1)
                } else {
                    date
                };
                if let (Some(a), Some(b)) = (
                    local_to_utc(self.timezone, date, w.start),
                    local_to_utc(self.timezone, end_date, w.end),
                ) && b > a
                {
                    out.push((a, b));
                }
            }
        }
        out
    }
}

/// A zone travels as its IANA name (`Europe/Berlin`).
mod tz_name {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(tz.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(d)?;
        name.parse()
            .map_err(|_| D::Error::custom(format!("unknown time zone {name}")))
    }
}

fn local_to_utc(tz: Tz, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    let naive = date.and_time(time);
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            // In a gap: the first valid local time after it (gaps are at most a few hours).
            (1..=180).find_map(|m| {
                tz.from_local_datetime(&(naive + Duration::minutes(m)))
                    .earliest()
            })
        })
        .map(|t| t.with_timezone(&Utc))
}

/// Hours both are free during the week starting at `from`.
pub fn overlap_hours(a: &Availability, b: &Availability, from: DateTime<Utc>) -> f64 {
    let week_end = from + Duration::days(7);
    let clip = |v: Vec<(DateTime<Utc>, DateTime<Utc>)>| -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        v.into_iter()
            .map(|(s, e)| (s.max(from), e.min(week_end)))
            .filter(|(s, e)| e > s)
            .collect()
    };
    let (xs, ys) = (clip(a.utc_intervals(from)), clip(b.utc_intervals(from)));
    let mut seconds = 0i64;
    for (xs_, xe) in &xs {
        for (ys_, ye) in &ys {
            let s = (*xs_).max(*ys_);
            let e = (*xe).min(*ye);
            if e > s {
                seconds += (e - s).num_seconds();
            }
        }
    }
    seconds as f64 / 3600.0
}

/// What a learner asks for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestNeeds {
    pub skills: Vec<Skill>,
    /// Language tags the learner can be mentored in (`en`, `zh`, …).
    pub languages: Vec<String>,
    pub availability: Availability,
}

/// What ranking needs to know about a mentor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MentorFacts {
    pub id: String,
    pub skills: Vec<Skill>,
    pub languages: Vec<String>,
    pub availability: Availability,
    pub rating_sum: f64,
    pub rating_count: u32,
    pub active_mentees: u32,
    pub capacity: u32,
    /// Median hours from a request to the mentor's answer, if they answered any.
    pub median_response_hours: Option<f64>,
    pub paused: bool,
}

/// Why a mentor ranks where they do, in words the page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Reason {
    Skills { matched: u32, wanted: u32 },
    Overlap { hours_per_week: f64 },
    Speaks { language: String },
    Rating { average: f64, count: u32 },
    Responds { hours: f64 },
    Places { free: u32 },
}

impl Reason {
    /// The reason in words, in the reader's language.
    pub fn text(&self, locale: Locale) -> String {
        if locale == Locale::ZhHans {
            return match self {
                Reason::Skills { matched, wanted } => format!("{matched}/{wanted} 项技能匹配"),
                Reason::Overlap { hours_per_week } => {
                    format!("你们的时区每周重叠 {} 小时", hours_per_week.round())
                }
                Reason::Speaks { language } => format!("会说{}", language_name(language, locale)),
                Reason::Rating { average, count } => {
                    format!("{average:.1}★，来自 {count} 次会话")
                }
                Reason::Responds { hours } => {
                    format!("通常在 {} 小时内回复", hours.ceil().max(1.0))
                }
                Reason::Places { free } => format!("还有 {free} 个名额"),
            };
        }
        match self {
            Reason::Skills { matched, wanted } => format!("{matched} of {wanted} skills"),
            Reason::Overlap { hours_per_week } => {
                format!(
                    "{} h/week overlap in your timezones",
                    hours_per_week.round()
                )
            }
            Reason::Speaks { language } => format!("speaks {}", language_name(language, locale)),
            Reason::Rating { average, count } => {
                format!(
                    "{average:.1}★ from {count} session{}",
                    if *count == 1 { "" } else { "s" }
                )
            }
            Reason::Responds { hours } => {
                format!("usually answers within {} h", hours.ceil().max(1.0))
            }
            Reason::Places { free } => {
                format!("{free} place{} free", if *free == 1 { "" } else { "s" })
            }
        }
    }
}

/// A few language names for reasons, in English and Chinese; other tags are shown as written.
const LANGUAGE_NAMES: [(&str, &str, &str); 10] = [
    ("en", "English", "英语"),
    ("zh", "Mandarin", "普通话"),
    ("es", "Spanish", "西班牙语"),
    ("fr", "French", "法语"),
    ("de", "German", "德语"),
    ("pt", "Portuguese", "葡萄牙语"),
    ("ja", "Japanese", "日语"),
    ("hi", "Hindi", "印地语"),
    ("ar", "Arabic", "阿拉伯语"),
    ("ru", "Russian", "俄语"),
];

fn language_name(tag: &str, locale: Locale) -> String {
    let primary = tag.split('-').next().unwrap_or(tag).to_ascii_lowercase();
    LANGUAGE_NAMES
        .iter()
        .find(|(key, _, _)| *key == primary)
        .map_or_else(
            || tag.to_string(),
            |(_, en, zh)| match locale {
                Locale::En => en.to_string(),
                Locale::ZhHans => zh.to_string(),
            },
        )
}

/// One ranked mentor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    pub mentor_id: String,
    pub score: f64,
    pub reasons: Vec<Reason>,
}

const PRIOR_MEAN: f64 = 4.0;
const PRIOR_WEIGHT: f64 = 5.0;

/// The Bayesian average rating (1–5).
pub fn bayesian_rating(sum: f64, count: u32) -> f64 {
    (PRIOR_WEIGHT * PRIOR_MEAN + sum) / (PRIOR_WEIGHT + f64::from(count))
}

fn same_language(a: &str, b: &str) -> bool {
    let primary = |t: &str| t.split('-').next().unwrap_or(t).to_ascii_lowercase();
    primary(a) == primary(b)
}

/// Ranks the mentors for `needs` during the week starting at `now`, best first; full and
/// paused mentors are left out. Ties keep a stable order (by id).
pub fn rank(
    needs: &RequestNeeds,
    mentors: &[MentorFacts],
    weights: &Weights,
    now: DateTime<Utc>,
) -> Vec<Ranked> {
    let total = weights.total();
    let w = |x: f64| if total > 0.0 { x / total } else { 0.0 };
    let wanted_hours: f64 = needs
        .availability
        .utc_intervals(now)
        .iter()
        .map(|(s, e)| (*e - *s).num_seconds() as f64 / 3600.0)
        .sum::<f64>()
        .max(1.0);
    let mut out: Vec<Ranked> = mentors
        .iter()
        .filter(|m| !m.paused && m.active_mentees < m.capacity)
        .map(|m| {
            let mut reasons = Vec::new();
            // Skills.
            let wanted = needs.skills.len() as u32;
            let (mut fit, mut matched) = (0.0, 0u32);
            for want in &needs.skills {
                match m
                    .skills
                    .iter()
                    .find(|s| s.name.eq_ignore_ascii_case(&want.name))
                {
                    Some(s) if s.level >= want.level => {
                        fit += 1.0;
                        matched += 1;
                    }
                    Some(_) => fit += 0.5,
                    None => {}
                }
            }
            let skills = if wanted == 0 {
                1.0
            } else {
                fit / f64::from(wanted)
            };
            if wanted > 0 && matched > 0 {
                reasons.push(Reason::Skills { matched, wanted });
            }
            // Availability.
            let hours = overlap_hours(&needs.availability, &m.availability, now);
            if hours >= 0.5 {
                reasons.push(Reason::Overlap {
                    hours_per_week: hours,
                });
            }
            let availability = (hours / wanted_hours).min(1.0);
            // Language.
            let spoken = needs
                .languages
                .iter()
                .find(|l| m.languages.iter().any(|ml| same_language(l, ml)));
            if let Some(l) = spoken {
                reasons.push(Reason::Speaks {
                    language: l.clone(),
                });
            }
            let language = if spoken.is_some() { 1.0 } else { 0.0 };
            // Rating.
            let average = bayesian_rating(m.rating_sum, m.rating_count);
            if m.rating_count > 0 {
                reasons.push(Reason::Rating {
                    average: m.rating_sum / f64::from(m.rating_count),
                    count: m.rating_count,
                });
            }
            let rating = ((average - 1.0) / 4.0).clamp(0.0, 1.0);
            // Responsiveness.
            let responsiveness = match m.median_response_hours {
                Some(h) => {
                    reasons.push(Reason::Responds { hours: h });
                    1.0 / (1.0 + h.max(0.0) / 24.0)
                }
                None => 0.5,
            };
            // Capacity.
            let free = m.capacity - m.active_mentees;
            let capacity = f64::from(free) / f64::from(m.capacity.max(1));
            if free <= 2 {
                reasons.push(Reason::Places { free });
            }
            let score = w(weights.skills) * skills
                + w(weights.availability) * availability
                + w(weights.language) * language
                + w(weights.rating) * rating
                + w(weights.capacity) * capacity
                + w(weights.responsiveness) * responsiveness;
            Ranked {
                mentor_id: m.id.clone(),
                score,
                reasons,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.mentor_id.cmp(&b.mentor_id))
    });
    out
}

/// The reasons joined the way the page shows them.
pub fn reasons_line(reasons: &[Reason], locale: Locale) -> String {
    reasons
        .iter()
        .map(|r| r.text(locale))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Reasons as a request stores them (so the mentor reads them in their own language).
pub fn stored_reasons(reasons: &[Reason]) -> String {
    serde_json::to_string(reasons).unwrap_or_default()
}

/// A request's stored reasons in words: the stored list rendered in `locale`, or, for a
/// request made before reasons were stored as data, its English line as it was written.
pub fn reasons_from_store(stored: &str, locale: Locale) -> String {
    match serde_json::from_str::<Vec<Reason>>(stored) {
        Ok(reasons) => reasons_line(&reasons, locale),
        Err(_) => stored.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::model::Level;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn every_weekday(tz: Tz, start: NaiveTime, end: NaiveTime) -> Availability {
        Availability {
            timezone: tz,
            windows: [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ]
            .into_iter()
            .map(|day| WeeklyWindow { day, start, end })
            .collect(),
        }
    }

    fn skill(name: &str, level: Level) -> Skill {
        Skill {
            name: name.into(),
            level,
        }
    }

    fn mentor(id: &str, availability: Availability) -> MentorFacts {
        MentorFacts {
            id: id.into(),
            skills: vec![skill("Rust", Level::Expert), skill("Git", Level::Advanced)],
            languages: vec!["en".into()],
            availability,
            rating_sum: 0.0,
            rating_count: 0,
            active_mentees: 0,
            capacity: 3,
            median_response_hours: None,
            paused: false,
        }
    }

    fn utc(y: i32, mo: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn overlap_is_computed_in_utc_and_follows_daylight_saving() {
        // Berlin 17:00–20:00 and New York 11:00–14:00 on weekdays.
        let berlin = every_weekday(chrono_tz::Europe::Berlin, t(17, 0), t(20, 0));
        let new_york = every_weekday(chrono_tz::America::New_York, t(11, 0), t(14, 0));
        // January: 6 hours apart, so 17–20 Berlin is 11–14 New York: 3 h × 5 days.
        assert_eq!(overlap_hours(&berlin, &new_york, utc(2026, 1, 12)), 15.0);
        // 9–13 March 2026: New York is on summer time (since 8 March), Berlin not yet (29 March):
        // 5 hours apart, 17–20 Berlin is 12–15 New York, overlapping 12–14: 2 h × 5 days.
        assert_eq!(overlap_hours(&berlin, &new_york, utc(2026, 3, 9)), 10.0);
        // April: both on summer time, 6 hours apart again.
        assert_eq!(overlap_hours(&berlin, &new_york, utc(2026, 4, 6)), 15.0);
    }

    #[test]
    fn a_window_across_midnight_and_a_spring_forward_gap_are_handled() {
        let late = Availability {
            timezone: chrono_tz::Europe::Berlin,
            windows: vec![WeeklyWindow {
                day: Weekday::Sat,
                start: t(22, 0),
                end: t(3, 0),
            }],
        };
        let utc_night = Availability {
            timezone: chrono_tz::UTC,
            windows: vec![WeeklyWindow {
                day: Weekday::Sun,
                start: t(0, 0),
                end: t(12, 0),
            }],
        };
        // 28→29 March 2026 (Berlin springs forward at 02:00): Sat 22:00 CET = 21:00 UTC, Sun
        // 03:00 CEST = 01:00 UTC; overlap with Sunday 00:00–12:00 UTC is one hour.
        assert_eq!(overlap_hours(&late, &utc_night, utc(2026, 3, 23)), 1.0);
        // A window that starts inside the gap (02:30 does not exist) starts at 03:00 CEST.
        let gap = Availability {
            timezone: chrono_tz::Europe::Berlin,
            windows: vec![WeeklyWindow {
                day: Weekday::Sun,
                start: t(2, 30),
                end: t(4, 0),
            }],
        };
        assert_eq!(overlap_hours(&gap, &utc_night, utc(2026, 3, 23)), 1.0);
    }

    #[test]
    fn no_common_time_means_no_overlap_reason_and_a_lower_rank() {
        let learner = every_weekday(chrono_tz::Asia::Shanghai, t(9, 0), t(11, 0));
        let needs = RequestNeeds {
            skills: vec![skill("Rust", Level::Intermediate)],
            languages: vec!["en".into()],
            availability: learner.clone(),
        };
        let apart = mentor(
            "apart",
            every_weekday(chrono_tz::America::Los_Angeles, t(9, 0), t(11, 0)),
        );
        let together = mentor("together", learner);
        let now = utc(2026, 1, 12);
        assert_eq!(
            overlap_hours(&needs.availability, &apart.availability, now),
            0.0
        );
        let ranked = rank(&needs, &[apart, together], &Weights::default(), now);
        assert_eq!(ranked[0].mentor_id, "together");
        assert!(
            ranked[1]
                .reasons
                .iter()
                .all(|r| !matches!(r, Reason::Overlap { .. }))
        );
        assert!(
            reasons_line(&ranked[0].reasons, Locale::En)
                .contains("10 h/week overlap in your timezones")
        );
    }

    #[test]
    fn a_mentor_at_capacity_or_paused_is_not_ranked() {
        let a = every_weekday(chrono_tz::UTC, t(9, 0), t(17, 0));
        let needs = RequestNeeds {
            skills: vec![],
            languages: vec![],
            availability: a.clone(),
        };
        let mut full = mentor("full", a.clone());
        full.active_mentees = 3;
        let mut paused = mentor("paused", a.clone());
        paused.paused = true;
        let open = mentor("open", a);
        let ranked = rank(
            &needs,
            &[full, paused, open],
            &Weights::default(),
            utc(2026, 1, 12),
        );
        assert_eq!(ranked.len(), 1);
        assert_eq!(ranked[0].mentor_id, "open");
    }

    #[test]
    fn one_five_star_review_does_not_beat_forty_at_four_point_eight() {
        assert!((bayesian_rating(5.0, 1) - 25.0 / 6.0).abs() < 1e-9);
        assert!((bayesian_rating(192.0, 40) - 212.0 / 45.0).abs() < 1e-9);
        let a = every_weekday(chrono_tz::UTC, t(9, 0), t(17, 0));
        let needs = RequestNeeds {
            skills: vec![skill("Rust", Level::Advanced)],
            languages: vec!["en".into()],
            availability: a.clone(),
        };
        let mut lucky = mentor("lucky", a.clone());
        lucky.rating_sum = 5.0;
        lucky.rating_count = 1;
        let mut proven = mentor("proven", a);
        proven.rating_sum = 192.0;
        proven.rating_count = 40;
        let ranked = rank(
            &needs,
            &[lucky, proven],
            &Weights::default(),
            utc(2026, 1, 12),
        );
        assert_eq!(ranked[0].mentor_id, "proven");
        assert!(reasons_line(&ranked[0].reasons, Locale::En).contains("4.8★ from 40 sessions"));
    }

    #[test]
    fn skill_levels_count_and_reasons_read_like_the_brief() {
        let a = every_weekday(chrono_tz::UTC, t(9, 0), t(11, 0));
        let needs = RequestNeeds {
            skills: vec![
                skill("Rust", Level::Advanced),
                skill("Git", Level::Expert),
                skill("SQL", Level::Beginner),
            ],
            languages: vec!["zh-Hans".into(), "en".into()],
            availability: a.clone(),
        };
        let mut m = mentor("m", a);
        m.languages = vec!["zh".into()];
        m.median_response_hours = Some(4.2);
        m.rating_sum = 110.4;
        m.rating_count = 23;
        let ranked = rank(&needs, &[m], &Weights::default(), utc(2026, 1, 12));
        // Rust at expert ≥ advanced: full; Git advanced < expert: half; SQL missing.
        assert_eq!(
            reasons_line(&ranked[0].reasons, Locale::En),
            "1 of 3 skills · 10 h/week overlap in your timezones · speaks Mandarin · 4.8★ from 23 sessions · usually answers within 5 h"
        );
        // The same reasons, stored with a request, read in Chinese by a Chinese reader; a
        // request stored before reasons were data keeps its words.
        let stored = stored_reasons(&ranked[0].reasons);
        assert_eq!(
            reasons_from_store(&stored, Locale::ZhHans),
            "1/3 项技能匹配 · 你们的时区每周重叠 10 小时 · 会说普通话 · 4.8★，来自 23 次会话 · 通常在 5 小时内回复"
        );
        assert_eq!(
            reasons_from_store("2 of 2 skills", Locale::ZhHans),
            "2 of 2 skills"
        );
        let s = ranked[0].score;
        assert!(s > 0.0 && s <= 1.0, "{s}");
    }
}
