//! Engagement: points for real progress, badges with their rules in one table, streaks and
//! the leaderboard order. Pure functions over plain facts; the server reads the facts and
//! writes awards keyed by the event they reward, so a replayed event finds its award already
//! there and nothing is counted twice.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

/// What earns points. Each is "real progress": visiting a page earns nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AwardKind {
    /// A lesson finished (each lesson once).
    Lesson,
    /// An exercise passed, all tests green (the first pass only).
    Exercise,
    /// A review comment the learner marked resolved: an answer that helped.
    Answer,
    /// A live session attended (both people, each booking once).
    Session,
    /// A forum answer its asker accepted (each answer once; answering oneself earns nothing).
    Forum,
}

impl AwardKind {
    pub const ALL: [AwardKind; 5] = [
        AwardKind::Lesson,
        AwardKind::Exercise,
        AwardKind::Answer,
        AwardKind::Session,
        AwardKind::Forum,
    ];

    pub fn points(self) -> u32 {
        match self {
            AwardKind::Lesson => 10,
            AwardKind::Exercise => 20,
            AwardKind::Answer => 15,
            AwardKind::Session => 25,
            AwardKind::Forum => 15,
        }
    }

    /// The stored name (`award.kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            AwardKind::Lesson => "lesson",
            AwardKind::Exercise => "exercise",
            AwardKind::Answer => "answer",
            AwardKind::Session => "session",
            AwardKind::Forum => "forum",
        }
    }

    pub fn parse(s: &str) -> Option<AwardKind> {
        AwardKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What the badge rules look at: counts and streaks derived from a person's awards and
/// courses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// Exercise submissions made (passing or not).
    pub submissions: u32,
    pub lessons_finished: u32,
    pub exercises_passed: u32,
    /// Courses with every lesson finished.
    pub courses_finished: u32,
    /// Different learners this person's resolved review comments or attended sessions (as the
    /// mentor) helped.
    pub learners_helped: u32,
    pub sessions_attended: u32,
    /// Longest run of consecutive UTC days with real progress.
    pub best_daily_streak: u32,
    /// Forum answers written (still shown), and how many of them their askers accepted.
    pub forum_answers: u32,
    pub forum_accepted: u32,
}

/// A badge and its rule: one row of [`BADGES`].
pub struct Badge {
    /// Stored key (`badge_award`); never renamed.
    pub key: &'static str,
    pub rule: fn(&Facts) -> bool,
}

/// Every badge, in the order they are shown. The names and descriptions are in the
/// interface text (`text::badge_words`), keyed by `key`.
pub const BADGES: &[Badge] = &[
    Badge {
        key: "first-submission",
        rule: |f| f.submissions >= 1,
    },
    Badge {
        key: "first-pass",
        rule: |f| f.exercises_passed >= 1,
    },
    Badge {
        key: "ten-lessons",
        rule: |f| f.lessons_finished >= 10,
    },
    Badge {
        key: "streak-7-days",
        rule: |f| f.best_daily_streak >= 7,
    },
    Badge {
        key: "course-finished",
        rule: |f| f.courses_finished >= 1,
    },
    Badge {
        key: "first-session",
        rule: |f| f.sessions_attended >= 1,
    },
    Badge {
        key: "helped-10",
        rule: |f| f.learners_helped >= 10,
    },
    Badge {
        key: "first-answer",
        rule: |f| f.forum_answers >= 1,
    },
    Badge {
        key: "first-accepted",
        rule: |f| f.forum_accepted >= 1,
    },
    Badge {
        key: "ten-accepted",
        rule: |f| f.forum_accepted >= 10,
    },
];

/// The keys of the badges `facts` earn, in table order.
pub fn earned(facts: &Facts) -> Vec<&'static str> {
    BADGES
        .iter()
        .filter(|b| (b.rule)(facts))
        .map(|b| b.key)
        .collect()
}

/// The Monday starting the ISO week of `day`.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// The weekly streak on `today`: consecutive ISO weeks (Monday to Sunday, UTC), each with at
/// least one day of real progress, ending with this week — or with last week, because a
/// streak is not lost until a whole week passes without progress.
pub fn weekly_streak(progress_days: &[NaiveDate], today: NaiveDate) -> u32 {
    let weeks: std::collections::BTreeSet<NaiveDate> =
        progress_days.iter().map(|d| week_start(*d)).collect();
    let this_week = week_start(today);
    let mut week = if weeks.contains(&this_week) {
        this_week
    } else {
        this_week - Duration::weeks(1)
    };
    let mut streak = 0;
    while weeks.contains(&week) {
        streak += 1;
        week -= Duration::weeks(1);
    }
    streak
}

/// The longest run of consecutive days in `progress_days` (any order, repeats allowed).
pub fn best_daily_streak(progress_days: &[NaiveDate]) -> u32 {
    let days: std::collections::BTreeSet<NaiveDate> = progress_days.iter().copied().collect();
    let mut best = 0;
    let mut run = 0;
    let mut previous: Option<NaiveDate> = None;
    for d in days {
        run = match previous {
            Some(p) if d - p == Duration::days(1) => run + 1,
            _ => 1,
        };
        best = best.max(run);
        previous = Some(d);
    }
    best
}

/// A leaderboard row as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    /// 1-based; people with equal points share a rank ("1, 2, 2, 4").
    pub rank: u32,
    pub user: String,
    pub name: String,
    pub points: u32,
}

/// Ranks `(user, name, points)` rows: most points first, ties by name then id so the order
/// never depends on the database's.
pub fn rank(mut rows: Vec<(String, String, u32)>) -> Vec<Standing> {
    rows.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)).then(a.0.cmp(&b.0)));
    let mut out: Vec<Standing> = Vec::with_capacity(rows.len());
    for (i, (user, name, points)) in rows.into_iter().enumerate() {
        let rank = match out.last() {
            Some(prev) if prev.points == points => prev.rank,
            _ => u32::try_from(i + 1).unwrap_or(u32::MAX),
        };
        out.push(Standing {
            rank,
            user,
            name,
            points,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn every_badge_key_is_unique_and_fixed() {
        let mut keys: Vec<&str> = BADGES.iter().map(|b| b.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), BADGES.len());
        assert!(earned(&Facts::default()).is_empty());
    }

    #[test]
    fn badges_follow_their_rules() {
        let f = Facts {
            submissions: 1,
            best_daily_streak: 6,
            learners_helped: 10,
            ..Default::default()
        };
        assert_eq!(earned(&f), vec!["first-submission", "helped-10"]);
        let f = Facts {
            best_daily_streak: 7,
            courses_finished: 1,
            ..f
        };
        assert_eq!(
            earned(&f),
            vec![
                "first-submission",
                "streak-7-days",
                "course-finished",
                "helped-10"
            ]
        );
    }

    #[test]
    fn weekly_streak_counts_weeks_with_progress_up_to_now() {
        // 2026-11-30 is a Monday.
        assert_eq!(week_start(day("2026-12-06")), day("2026-11-30"));
        assert_eq!(week_start(day("2026-11-30")), day("2026-11-30"));
        let days = [
            day("2026-11-12"), // week of 9 Nov
            day("2026-11-17"), // week of 16 Nov
            day("2026-11-18"),
            day("2026-11-23"), // week of 23 Nov
            day("2026-12-01"), // week of 30 Nov
        ];
        assert_eq!(weekly_streak(&days, day("2026-12-03")), 4);
        // Nothing yet this week: last week's streak still stands.
        assert_eq!(weekly_streak(&days[..4], day("2026-12-03")), 3);
        // A whole week without progress ends it.
        assert_eq!(weekly_streak(&days[..4], day("2026-12-08")), 0);
        assert_eq!(weekly_streak(&[], day("2026-12-08")), 0);
    }

    #[test]
    fn daily_streak_is_the_longest_run() {
        let mut days: Vec<NaiveDate> = (1..=7).map(|d| day(&format!("2026-11-0{d}"))).collect();
        days.push(day("2026-11-03")); // repeats count once
        days.push(day("2026-11-20"));
        assert_eq!(best_daily_streak(&days), 7);
        days.remove(3);
        assert_eq!(best_daily_streak(&days), 3);
        assert_eq!(best_daily_streak(&[]), 0);
    }

    #[test]
    fn ties_share_a_rank() {
        let ranked = rank(vec![
            ("b".into(), "Bo".into(), 30),
            ("a".into(), "Al".into(), 50),
            ("c".into(), "Cy".into(), 30),
            ("d".into(), "Di".into(), 10),
        ]);
        let got: Vec<(u32, &str)> = ranked.iter().map(|s| (s.rank, s.name.as_str())).collect();
        assert_eq!(got, vec![(1, "Al"), (2, "Bo"), (2, "Cy"), (4, "Di")]);
    }

    #[test]
    fn points_per_kind() {
        for k in AwardKind::ALL {
            assert_eq!(AwardKind::parse(k.as_str()), Some(k));
            assert!(k.points() > 0);
        }
    }
}
