//! Benchmark: ranking one mentoring request against 10,000 mentors (`matching::rank`).
//! Mentors are generated with a fixed seed: 1–6 skills at random levels from 30, 1–3 of 8
//! languages, one of 12 time zones, 3–10 weekly windows, ratings, capacities, answer times.
//! Run: `cargo run --release -p app --example rank_mentors` — prints p50/p95 over 200 runs.

use std::time::Instant;

use app::{
    accounts::model::{Level, Skill},
    mentoring::matching::{Availability, MentorFacts, RequestNeeds, WeeklyWindow, Weights, rank},
};
use chrono::{NaiveTime, TimeZone, Utc, Weekday};

/// A small deterministic generator (the benchmark must not depend on `rand`).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const ZONES: [chrono_tz::Tz; 12] = [
    chrono_tz::UTC,
    chrono_tz::Europe::Berlin,
    chrono_tz::Europe::London,
    chrono_tz::America::New_York,
    chrono_tz::America::Los_Angeles,
    chrono_tz::America::Sao_Paulo,
    chrono_tz::Asia::Shanghai,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Asia::Tokyo,
    chrono_tz::Australia::Sydney,
    chrono_tz::Africa::Lagos,
    chrono_tz::Europe::Moscow,
];
const LANGS: [&str; 8] = ["en", "zh", "es", "fr", "de", "pt", "hi", "ja"];
const DAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn skills(rng: &mut Lcg, n: u64) -> Vec<Skill> {
    let mut out: Vec<Skill> = Vec::new();
    while (out.len() as u64) < n {
        let name = format!("skill-{}", rng.below(30));
        if out.iter().all(|s| s.name != name) {
            out.push(Skill {
                name,
                level: Level::ALL[rng.below(4) as usize],
            });
        }
    }
    out
}

fn availability(rng: &mut Lcg) -> Availability {
    let windows = (0..3 + rng.below(8))
        .map(|_| {
            let start = rng.below(22) as u32;
            let len = 1 + rng.below(4) as u32;
            WeeklyWindow {
                day: DAYS[rng.below(7) as usize],
                start: NaiveTime::from_hms_opt(start, 0, 0).unwrap_or_default(),
                end: NaiveTime::from_hms_opt((start + len) % 24, 0, 0).unwrap_or_default(),
            }
        })
        .collect();
    Availability {
        timezone: ZONES[rng.below(12) as usize],
        windows,
    }
}

fn main() {
    let mut rng = Lcg(20261127);
    let mentors: Vec<MentorFacts> = (0..10_000)
        .map(|i| {
            let count = rng.below(60) as u32;
            let capacity = 1 + rng.below(6) as u32;
            MentorFacts {
                id: format!("m{i:05}"),
                skills: {
                    let n = 1 + rng.below(6);
                    skills(&mut rng, n)
                },
                languages: (0..1 + rng.below(3))
                    .map(|_| LANGS[rng.below(8) as usize].to_string())
                    .collect(),
                availability: availability(&mut rng),
                rating_sum: f64::from(count) * (3.0 + rng.below(200) as f64 / 100.0),
                rating_count: count,
                active_mentees: rng.below(u64::from(capacity) + 1) as u32,
                capacity,
                median_response_hours: (rng.below(4) > 0).then(|| rng.below(72) as f64),
                paused: rng.below(20) == 0,
            }
        })
        .collect();
    let needs = RequestNeeds {
        skills: skills(&mut rng, 5),
        languages: vec!["zh".into(), "en".into()],
        availability: Availability {
            timezone: chrono_tz::Asia::Shanghai,
            windows: DAYS[..5]
                .iter()
                .map(|&day| WeeklyWindow {
                    day,
                    start: NaiveTime::from_hms_opt(19, 0, 0).unwrap_or_default(),
                    end: NaiveTime::from_hms_opt(22, 0, 0).unwrap_or_default(),
                })
                .collect(),
        },
    };
    let now = Utc
        .with_ymd_and_hms(2026, 3, 9, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let weights = Weights::default();
    let mut times = Vec::new();
    let mut best = String::new();
    for _ in 0..200 {
        let t0 = Instant::now();
        let ranked = rank(&needs, &mentors, &weights, now);
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
        best = ranked
            .first()
            .map(|r| r.mentor_id.clone())
            .unwrap_or_default();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "ranking 1 request against 10,000 mentors: p50 {:.1} ms, p95 {:.1} ms (200 runs; best {best})",
        times[times.len() / 2],
        times[times.len() * 95 / 100]
    );
}
