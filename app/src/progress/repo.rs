//! Progress queries (server only): what the score is computed from, the daily snapshots,
//! awards and badges, the leaderboards, the dashboards' aggregates and the recommender's
//! training data. Aggregation mostly happens in Rust over narrow rows: the rows are few per
//! person, and it keeps the queries plain enough to use their indexes.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use crate::{
    db::{Db, internal, write_with_retry},
    error::{AppError, Problem},
    notify::{model::NoticeKind, repo::notify_stmt},
};

fn user_rec(id: &str) -> RecordId {
    RecordId::new("user", id)
}

fn course_rec(id: &str) -> RecordId {
    RecordId::new("course", id)
}

// ---------------------------------------------------------------------------------------------
// What the score is made of

#[derive(Clone, Debug, Default, PartialEq, SurrealValue)]
pub struct WeightsRow {
    pub watched: f64,
    pub passed: f64,
    pub feedback: f64,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct EnrolledRow {
    pub course: String,
    pub slug: String,
    pub title: String,
    pub weights: Option<WeightsRow>,
    pub at: DateTime<Utc>,
}

/// The learner's courses, oldest enrolment first.
pub async fn enrolled(db: &Db, user: &str) -> Result<Vec<EnrolledRow>, AppError> {
    let rows = enrolled_facts(db, user).await?;
    Ok(rows
        .into_iter()
        .map(|r| EnrolledRow {
            course: r.course,
            slug: r.c.slug,
            title: r.c.title,
            weights: r.c.weights,
            at: r.at,
        })
        .collect())
}

/// What a score needs from a course, read in one fetch of the course record (`out.{…}`):
/// `out.slug, out.title, …` would fetch and decode the whole record once per field.
#[derive(Clone, Debug, SurrealValue)]
struct CourseFacts {
    slug: String,
    title: String,
    weights: Option<WeightsRow>,
    video_secs_total: Option<f64>,
    tests_total: Option<i64>,
}

#[derive(Clone, Debug, SurrealValue)]
struct EnrolledFacts {
    course: String,
    at: DateTime<Utc>,
    c: CourseFacts,
}

const ENROLLED_FACTS: &str = "SELECT record::id(out) AS course, at,
        out.{slug, title, weights, video_secs_total, tests_total} AS c
     FROM enrolled WHERE in = $u ORDER BY at";

/// The learner's t and n per course (`PartsRow`), for the score and the dashboard.
const SCORE_PARTS: &str = "SELECT record::id(course) AS course, watched_secs, tests_passed
     FROM score_parts WHERE user = $u";

async fn enrolled_facts(db: &Db, user: &str) -> Result<Vec<EnrolledFacts>, AppError> {
    let mut res = db
        .query(ENROLLED_FACTS)
        .bind(("u", user_rec(user)))
        .await
        .map_err(internal("enrolled"))?;
    res.take(0).map_err(internal("enrolled"))
}

/// A course the learner is enrolled in, with its T and N (`*_total`, kept by the content
/// writers).
#[derive(Clone, Debug, SurrealValue)]
pub struct ScoredCourse {
    pub course: String,
    pub slug: String,
    pub title: String,
    pub weights: Option<WeightsRow>,
    pub at: DateTime<Utc>,
    pub video_total: Option<f64>,
    pub tests_total: Option<i64>,
}

impl From<EnrolledFacts> for ScoredCourse {
    fn from(r: EnrolledFacts) -> Self {
        ScoredCourse {
            course: r.course,
            slug: r.c.slug,
            title: r.c.title,
            weights: r.c.weights,
            at: r.at,
            video_total: r.c.video_secs_total,
            tests_total: r.c.tests_total,
        }
    }
}

/// The learner's t and n in one course (`score_parts`).
#[derive(Clone, Debug, SurrealValue)]
pub struct PartsRow {
    pub course: String,
    pub watched_secs: f64,
    pub tests_passed: i64,
}

#[derive(Clone, Debug, Default, SurrealValue)]
struct FeedbackTotals {
    feedback_stars: Option<i64>,
    feedback_count: Option<i64>,
}

/// What a learner's scores are computed from: their courses with T and N, their t and n per
/// course, and the stars and count of mentors' feedback about them (s and S/5). A few small
/// rows, whatever the size of their history.
#[derive(Clone, Debug, Default)]
pub struct Aggregates {
    pub courses: Vec<ScoredCourse>,
    pub parts: Vec<PartsRow>,
    pub feedback_stars: i64,
    pub feedback_count: i64,
}

pub async fn aggregates(db: &Db, user: &str) -> Result<Aggregates, AppError> {
    let mut res = db
        .query(format!(
            "{ENROLLED_FACTS};
             {SCORE_PARTS};
             SELECT feedback_stars, feedback_count FROM ONLY $u;"
        ))
        .bind(("u", user_rec(user)))
        .await
        .map_err(internal("score aggregates"))?;
    let courses: Vec<EnrolledFacts> = res.take(0).map_err(internal("score courses"))?;
    let courses = courses.into_iter().map(ScoredCourse::from).collect();
    let parts = res.take(1).map_err(internal("score parts"))?;
    let totals: Option<FeedbackTotals> = res.take(2).map_err(internal("score feedback"))?;
    let totals = totals.unwrap_or_default();
    Ok(Aggregates {
        courses,
        parts,
        feedback_stars: totals.feedback_stars.unwrap_or(0),
        feedback_count: totals.feedback_count.unwrap_or(0),
    })
}

/// Everything a learner's dashboard shows, read in one round trip.
#[derive(Clone, Debug, Default)]
pub struct DashboardFacts {
    pub name: String,
    pub opted_out: bool,
    pub agg: Aggregates,
    /// Their snapshots from the range's first day on, oldest first.
    pub trends: Vec<TrendRow>,
    pub awards: Vec<AwardRow>,
    pub badges: Vec<BadgeRow>,
    /// The skills of their newest mentoring request, and their current mentors (for the
    /// recommendations, which only the learner sees).
    pub wanted: Vec<String>,
    pub mentors: Vec<String>,
}

/// The dashboard's reads as one query of eight statements (`None` when there is no such user).
/// Issued one by one they were six round trips to the engine that read the user record twice;
/// on the dashboard benchmark the per-query cost (a session copy, a planner pass and a
/// transaction each) was most of the page.
pub async fn dashboard(
    db: &Db,
    user: &str,
    since: &str,
) -> Result<Option<DashboardFacts>, AppError> {
    #[derive(SurrealValue)]
    struct Person {
        display_name: String,
        leaderboard_opt_out: Option<bool>,
        feedback_stars: Option<i64>,
        feedback_count: Option<i64>,
    }
    let mut res = db
        .query(format!(
            "SELECT display_name, leaderboard_opt_out, feedback_stars, feedback_count
                FROM ONLY $u;
             {ENROLLED_FACTS};
             {SCORE_PARTS};
             SELECT record::id(user) AS user, record::id(course) AS course, day, score
                FROM score_day WHERE user = $u AND day >= $since ORDER BY day;
             SELECT record::id(id) AS key, kind, points, at FROM award WHERE user = $u;
             SELECT badge, at FROM badge_award WHERE user = $u;
             SELECT VALUE skills.map(|$s| $s.name) FROM mentoring_request
                WHERE learner = $u ORDER BY created_at DESC LIMIT 1;
             SELECT VALUE record::id(in) FROM mentorship WHERE out = $u AND active = true;"
        ))
        .bind(("u", user_rec(user)))
        .bind(("since", since.to_string()))
        .await
        .map_err(internal("dashboard"))?;
    let person: Option<Person> = res.take(0).map_err(internal("dashboard person"))?;
    let Some(person) = person else {
        return Ok(None);
    };
    let courses: Vec<EnrolledFacts> = res.take(1).map_err(internal("dashboard courses"))?;
    let wanted: Vec<Vec<String>> = res.take(6).map_err(internal("dashboard skills"))?;
    Ok(Some(DashboardFacts {
        name: person.display_name,
        opted_out: person.leaderboard_opt_out.unwrap_or(false),
        agg: Aggregates {
            courses: courses.into_iter().map(ScoredCourse::from).collect(),
            parts: res.take(2).map_err(internal("dashboard parts"))?,
            feedback_stars: person.feedback_stars.unwrap_or(0),
            feedback_count: person.feedback_count.unwrap_or(0),
        },
        trends: res.take(3).map_err(internal("dashboard trends"))?,
        awards: res.take(4).map_err(internal("dashboard points"))?,
        badges: res.take(5).map_err(internal("dashboard badges"))?,
        wanted: wanted.into_iter().next().unwrap_or_default(),
        mentors: res.take(7).map_err(internal("dashboard mentors"))?,
    }))
}

#[derive(Clone, Debug, SurrealValue)]
pub struct LessonFact {
    pub course: String,
    pub lesson: String,
    pub kind: String,
    pub video_secs: Option<f64>,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct ProgressFact {
    pub key: String,
    pub course: String,
    pub lesson: String,
    pub watched_secs: f64,
    pub done: bool,
    pub done_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct ExerciseFact {
    pub course: String,
    pub exercise: String,
    pub tests_json: String,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct SubmissionFact {
    pub exercise: String,
    pub tests_passed: i64,
    pub tests_total: i64,
    pub created_at: DateTime<Utc>,
}

/// Everything a learner's scores in `courses` are computed from.
#[derive(Clone, Debug, Default)]
pub struct ScoreInputs {
    pub lessons: Vec<LessonFact>,
    pub progress: Vec<ProgressFact>,
    pub exercises: Vec<ExerciseFact>,
    pub submissions: Vec<SubmissionFact>,
    /// Stars of mentors' feedback about the learner (`about = 'learner'`).
    pub stars: Vec<i64>,
}

pub async fn score_inputs(
    db: &Db,
    user: &str,
    courses: &[String],
) -> Result<ScoreInputs, AppError> {
    let courses: Vec<RecordId> = courses.iter().map(|c| course_rec(c)).collect();
    let mut res = db
        .query(
            "SELECT record::id(course) AS course, record::id(id) AS lesson, kind, video_secs
                FROM lesson WHERE course IN $courses;
             SELECT record::id(id) AS key, record::id(course) AS course,
                record::id(lesson) AS lesson, watched_secs, done, done_at
                FROM lesson_progress WHERE user = $u;
             SELECT record::id(course) AS course, record::id(id) AS exercise, tests_json
                FROM exercise WHERE course IN $courses;
             SELECT record::id(exercise) AS exercise, tests_passed, tests_total, created_at
                FROM submission WHERE learner = $u;
             SELECT VALUE stars FROM feedback WHERE subject = $u AND about = 'learner';",
        )
        .bind(("u", user_rec(user)))
        .bind(("courses", courses))
        .await
        .map_err(internal("score inputs"))?;
    Ok(ScoreInputs {
        lessons: res.take(0).map_err(internal("score lessons"))?,
        progress: res.take(1).map_err(internal("score progress"))?,
        exercises: res.take(2).map_err(internal("score exercises"))?,
        submissions: res.take(3).map_err(internal("score submissions"))?,
        stars: res.take(4).map_err(internal("score feedback"))?,
    })
}

// ---------------------------------------------------------------------------------------------
// Daily snapshots

#[derive(Clone, Debug, SurrealValue)]
pub struct DayRow {
    pub user: RecordId,
    pub course: RecordId,
    pub day: String,
    pub score: Option<f64>,
    pub watched: f64,
    pub watched_total: f64,
    pub passed: i64,
    pub passed_total: i64,
    pub feedback: f64,
    pub feedback_total: f64,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, SurrealValue)]
struct DayWrite {
    id: RecordId,
    row: DayRow,
}

/// The snapshot key: one row per learner, course and day.
pub fn day_key(user: &str, course: &str, day: &str) -> String {
    format!("{user}_{course}_{}", day.replace('-', ""))
}

/// Writes (or rewrites) today's snapshots. Idempotent: the key is the learner, the course and
/// the day, so running the daily job twice, or a dashboard visit after it, rewrites one row.
pub async fn save_days(db: &Db, rows: Vec<(String, DayRow)>) -> Result<(), AppError> {
    if rows.is_empty() {
        return Ok(());
    }
    let writes: Vec<DayWrite> = rows
        .into_iter()
        .map(|(key, row)| DayWrite {
            id: RecordId::new("score_day", key),
            row,
        })
        .collect();
    write_with_retry("score snapshots", Problem::TryAgain, || {
        db.query(
            "BEGIN TRANSACTION;
             FOR $w IN $writes { UPSERT $w.id CONTENT $w.row; };
             COMMIT TRANSACTION;",
        )
        .bind(("writes", writes.clone()))
        .into_future()
    })
    .await
}

#[derive(Clone, Debug, SurrealValue)]
pub struct TrendRow {
    pub user: String,
    pub course: String,
    pub day: String,
    pub score: Option<f64>,
}

/// Snapshots of `users` from `since` (`YYYY-MM-DD`) on, oldest first.
pub async fn trends(db: &Db, users: &[String], since: &str) -> Result<Vec<TrendRow>, AppError> {
    let users: Vec<RecordId> = users.iter().map(|u| user_rec(u)).collect();
    let mut res = db
        .query(
            "SELECT record::id(user) AS user, record::id(course) AS course, day, score
             FROM score_day WHERE user IN $users AND day >= $since ORDER BY day",
        )
        .bind(("users", users))
        .bind(("since", since.to_string()))
        .await
        .map_err(internal("trends"))?;
    res.take(0).map_err(internal("trends"))
}

/// A learner's snapshots on their first day at or after `from` (the baseline of a change).
pub async fn first_day_from(db: &Db, user: &str, from: &str) -> Result<Vec<TrendRow>, AppError> {
    let mut res = db
        .query(
            "LET $first = (SELECT VALUE day FROM score_day WHERE user = $u AND day >= $from
                 ORDER BY day LIMIT 1)[0];
             SELECT record::id(user) AS user, record::id(course) AS course, day, score
             FROM score_day WHERE user = $u AND day = $first;",
        )
        .bind(("u", user_rec(user)))
        .bind(("from", from.to_string()))
        .await
        .map_err(internal("first day"))?;
    res.take(1).map_err(internal("first day"))
}

/// Every learner with at least one enrolment (one pass over the edges; ids only, so 10,000
/// learners are a few hundred KB).
pub async fn enrolled_users(db: &Db) -> Result<Vec<String>, AppError> {
    let mut res = db
        .query("RETURN array::distinct(SELECT VALUE record::id(in) FROM enrolled)")
        .await
        .map_err(internal("enrolled users"))?;
    res.take(0).map_err(internal("enrolled users"))
}

// ---------------------------------------------------------------------------------------------
// Awards and badges

#[derive(Clone, Debug, SurrealValue)]
pub struct BookingFact {
    pub key: String,
    pub ends_at: DateTime<Utc>,
    pub learner: String,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct AnswerFact {
    pub key: String,
    /// The question it answers: one helpful answer per question earns points.
    pub question: String,
    pub helpful_at: Option<DateTime<Utc>>,
    pub asker: String,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct AwardRow {
    pub key: String,
    pub kind: String,
    pub points: i64,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct BadgeRow {
    pub badge: String,
    pub at: DateTime<Utc>,
}

/// What one person's awards and badges are derived from.
#[derive(Clone, Debug, Default)]
pub struct AwardInputs {
    /// Lessons of the courses they are enrolled in (to tell a finished course).
    pub lessons: Vec<LessonFact>,
    pub enrolled: Vec<String>,
    pub completed: Vec<String>,
    pub progress: Vec<ProgressFact>,
    pub submissions: Vec<SubmissionFact>,
    /// Sessions that ended and they joined, as the learner or as the mentor.
    pub sessions: Vec<BookingFact>,
    pub mentored: Vec<BookingFact>,
    pub answers: Vec<AnswerFact>,
    /// Their forum answers that an asker (not they themself) accepted.
    pub forum_accepted: Vec<ForumAcceptFact>,
    /// How many forum answers they wrote that are still shown.
    pub forum_answers: i64,
    pub awards: Vec<AwardRow>,
    pub badges: Vec<BadgeRow>,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct ForumAcceptFact {
    pub reply: String,
    pub at: DateTime<Utc>,
}

/// A person's award inputs: the records the score is read from (`base`, of the courses in
/// `enrolled`) plus what only awards need, read here.
pub async fn award_inputs(
    db: &Db,
    user: &str,
    now: DateTime<Utc>,
    enrolled: &[String],
    base: &ScoreInputs,
) -> Result<AwardInputs, AppError> {
    let mut res = db
        .query(
            "SELECT VALUE record::id(out) FROM enrolled WHERE in = $u AND completed_at != NONE;
             SELECT record::id(id) AS key, ends_at, record::id(learner) AS learner FROM booking
                WHERE learner = $u AND state = 'booked' AND ends_at <= $now AND $u IN joined;
             SELECT record::id(id) AS key, ends_at, record::id(learner) AS learner FROM booking
                WHERE mentor = $u AND state = 'booked' AND ends_at <= $now
                AND $u IN joined AND learner IN joined;
             SELECT record::id(id) AS key, record::id(parent) AS question, helpful_at,
                record::id(parent.author) AS asker
                FROM mentorship_post WHERE author = $u AND helpful = true ORDER BY helpful_at;
             SELECT record::id(id) AS key, kind, points, at FROM award WHERE user = $u;
             SELECT badge, at FROM badge_award WHERE user = $u;
             SELECT record::id(accepted) AS reply, accepted_at ?? created_at AS at
                FROM forum_thread WHERE accepted.author = $u AND author != $u AND hidden = false;
             RETURN count(SELECT VALUE id FROM forum_reply WHERE author = $u AND hidden = false);",
        )
        .bind(("u", user_rec(user)))
        .bind(("now", now))
        .await
        .map_err(internal("award inputs"))?;
    Ok(AwardInputs {
        lessons: base.lessons.clone(),
        enrolled: enrolled.to_vec(),
        completed: res.take(0).map_err(internal("award completed"))?,
        progress: base.progress.iter().filter(|p| p.done).cloned().collect(),
        submissions: base.submissions.clone(),
        sessions: res.take(1).map_err(internal("award sessions"))?,
        mentored: res.take(2).map_err(internal("award mentored"))?,
        answers: res.take(3).map_err(internal("award answers"))?,
        awards: res.take(4).map_err(internal("award rows"))?,
        badges: res.take(5).map_err(internal("award badges"))?,
        forum_accepted: res.take(6).map_err(internal("award forum accepts"))?,
        forum_answers: res
            .take::<Option<i64>>(7)
            .map_err(internal("award forum answers"))?
            .unwrap_or(0),
    })
}

#[derive(Clone, Debug, SurrealValue)]
pub struct NewAward {
    pub id: RecordId,
    pub key: String,
    pub user: RecordId,
    pub kind: String,
    pub points: i64,
    pub at: DateTime<Utc>,
}

impl NewAward {
    /// `key` names the rewarded event (see `progress::service`): the same event always makes
    /// the same record id.
    pub fn new(key: &str, user: &str, kind: &str, points: u32, at: DateTime<Utc>) -> Self {
        NewAward {
            id: RecordId::new("award", key),
            key: key.to_string(),
            user: user_rec(user),
            kind: kind.to_string(),
            points: i64::from(points),
            at,
        }
    }
}

#[derive(Clone, Debug, SurrealValue)]
pub struct NewBadge {
    pub id: RecordId,
    pub user: RecordId,
    pub badge: String,
}

impl NewBadge {
    pub fn new(user: &str, badge: &str) -> Self {
        NewBadge {
            id: RecordId::new("badge_award", format!("{user}_{badge}")),
            user: user_rec(user),
            badge: badge.to_string(),
        }
    }
}

#[derive(Clone, Debug, SurrealValue)]
struct Completed {
    course: RecordId,
    at: DateTime<Utc>,
}

/// Records awards, badges and finished courses in one transaction. Each is created only if
/// its record does not exist yet, so replaying an event (or two servers sweeping the same
/// person at once: the loser retries and finds the rows) never awards twice. A new badge
/// comes with a notification.
pub async fn record_awards(
    db: &Db,
    user: &str,
    awards: Vec<NewAward>,
    badges: Vec<NewBadge>,
    completed: Vec<(String, DateTime<Utc>)>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if awards.is_empty() && badges.is_empty() && completed.is_empty() {
        return Ok(());
    }
    let completed: Vec<Completed> = completed
        .into_iter()
        .map(|(c, at)| Completed {
            course: course_rec(&c),
            at,
        })
        .collect();
    // The badge's notice (`Notice::BadgeEarned` in its stored form) names the badge by key;
    // each reader sees its name in their language.
    let query = format!(
        "BEGIN TRANSACTION;
         FOR $a IN $awards {{
            IF !record::exists($a.id) {{
                CREATE $a.id SET user = $a.user, kind = $a.kind, points = $a.points, at = $a.at;
            }};
         }};
         FOR $b IN $badges {{
            IF !record::exists($b.id) {{
                CREATE $b.id SET user = $b.user, badge = $b.badge, at = $now;
                {}
            }};
         }};
         FOR $c IN $completed {{
            UPDATE enrolled SET completed_at = $c.at
            WHERE in = $u AND out = $c.course AND completed_at = NONE;
         }};
         COMMIT TRANSACTION;",
        notify_stmt(
            "$b.user",
            NoticeKind::Badge,
            "{ msg: 'badge_earned', badge: $b.badge }",
            "'/progress'"
        )
    );
    write_with_retry("record awards", Problem::TryAgain, || {
        db.query(query.as_str())
            .bind(("awards", awards.clone()))
            .bind(("badges", badges.clone()))
            .bind(("completed", completed.clone()))
            .bind(("u", user_rec(user)))
            .bind(("now", now))
            .into_future()
    })
    .await
}

/// People with something new to reward since `since`: a lesson finished, a submission, a
/// session that ended, an answer marked helpful.
pub async fn active_since(
    db: &Db,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    let mut res = db
        .query(
            "RETURN array::distinct(array::concat(
                (SELECT VALUE record::id(user) FROM lesson_progress
                    WHERE done = true AND done_at > $since),
                (SELECT VALUE record::id(learner) FROM submission WHERE created_at > $since),
                array::flatten(SELECT VALUE joined.map(|$u| record::id($u)) FROM booking
                    WHERE state = 'booked' AND ends_at > $since AND ends_at <= $now),
                (SELECT VALUE record::id(author) FROM mentorship_post
                    WHERE helpful = true AND helpful_at > $since)
             ));",
        )
        .bind(("since", since))
        .bind(("now", now))
        .await
        .map_err(internal("active since"))?;
    res.take(0).map_err(internal("active since"))
}

#[derive(Clone, Debug, SurrealValue)]
struct MarkRow {
    at: DateTime<Utc>,
}

pub async fn job_mark(db: &Db, job: &str) -> Result<Option<DateTime<Utc>>, AppError> {
    let mut res = db
        .query("SELECT at FROM ONLY $j")
        .bind(("j", RecordId::new("job_mark", job)))
        .await
        .map_err(internal("job mark"))?;
    let row: Option<MarkRow> = res.take(0).map_err(internal("job mark"))?;
    Ok(row.map(|r| r.at))
}

pub async fn set_job_mark(db: &Db, job: &str, at: DateTime<Utc>) -> Result<(), AppError> {
    db.query("UPSERT $j SET at = $at")
        .bind(("j", RecordId::new("job_mark", job)))
        .bind(("at", at))
        .await
        .map_err(internal("set job mark"))?
        .check()
        .map_err(internal("set job mark"))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Leaderboards

#[derive(Clone, Debug, SurrealValue)]
pub struct PointsRow {
    pub user: String,
    pub name: String,
    pub points: i64,
}

/// Points per person since `since` (all time when `None`), leaving out those who opted out.
pub async fn points_since(
    db: &Db,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<PointsRow>, AppError> {
    let since = since.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let mut res = db
        .query(
            "SELECT record::id(user) AS user, user.display_name AS name, points FROM (
                SELECT user, math::sum(points) AS points FROM award WHERE at >= $since
                GROUP BY user
             ) WHERE user.leaderboard_opt_out != true",
        )
        .bind(("since", since))
        .await
        .map_err(internal("points"))?;
    res.take(0).map_err(internal("points"))
}

pub async fn opted_out(db: &Db, user: &str) -> Result<bool, AppError> {
    let mut res = db
        .query("RETURN $u.leaderboard_opt_out ?? false")
        .bind(("u", user_rec(user)))
        .await
        .map_err(internal("opt out"))?;
    let v: Option<bool> = res.take(0).map_err(internal("opt out"))?;
    Ok(v.unwrap_or(false))
}

pub async fn set_opted_out(db: &Db, user: &str, out: bool) -> Result<(), AppError> {
    db.query("UPDATE $u SET leaderboard_opt_out = $out")
        .bind(("u", user_rec(user)))
        .bind(("out", out))
        .await
        .map_err(internal("set opt out"))?
        .check()
        .map_err(internal("set opt out"))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Who may see whom

#[derive(Clone, Debug, SurrealValue)]
pub struct MenteeFact {
    pub learner: String,
    pub name: String,
    pub started_at: DateTime<Utc>,
}

/// The mentor's current mentees.
pub async fn mentees(db: &Db, mentor: &str) -> Result<Vec<MenteeFact>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(out) AS learner, out.display_name AS name, started_at
             FROM mentorship WHERE in = $m AND active = true ORDER BY name",
        )
        .bind(("m", user_rec(mentor)))
        .await
        .map_err(internal("mentees"))?;
    res.take(0).map_err(internal("mentees"))
}

#[derive(Clone, Debug, SurrealValue)]
pub struct MentorFacts {
    pub stars: Vec<i64>,
    pub sessions: Vec<DateTime<Utc>>,
}

/// The mentor's ratings from learners and the sessions they held (ended, both joined).
pub async fn mentor_facts(
    db: &Db,
    mentor: &str,
    now: DateTime<Utc>,
) -> Result<MentorFacts, AppError> {
    let mut res = db
        .query(
            "SELECT VALUE stars FROM feedback WHERE subject = $m AND about = 'mentor';
             SELECT VALUE starts_at FROM booking WHERE mentor = $m AND state = 'booked'
                AND ends_at <= $now AND $m IN joined AND learner IN joined;",
        )
        .bind(("m", user_rec(mentor)))
        .bind(("now", now))
        .await
        .map_err(internal("mentor facts"))?;
    Ok(MentorFacts {
        stars: res.take(0).map_err(internal("mentor stars"))?,
        sessions: res.take(1).map_err(internal("mentor sessions"))?,
    })
}

// ---------------------------------------------------------------------------------------------
// Platform analytics and weights

#[derive(Clone, Debug, SurrealValue)]
pub struct DayUser {
    pub day: String,
    pub user: String,
}

#[derive(Clone, Debug, Default)]
pub struct PlatformFacts {
    pub active: Vec<DayUser>,
    pub enrolments: Vec<String>,
    pub gradings: Vec<String>,
    pub sessions: Vec<String>,
}

/// Raw day stamps since `since` for the analytics charts (counted per day by the caller).
pub async fn platform_facts(
    db: &Db,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<PlatformFacts, AppError> {
    let mut res = db
        .query(
            "SELECT time::format(at, '%Y-%m-%d') AS day, record::id(user) AS user
                FROM award WHERE at >= $since;
             SELECT time::format(created_at, '%Y-%m-%d') AS day, record::id(learner) AS user
                FROM submission WHERE created_at >= $since;
             SELECT VALUE time::format(at, '%Y-%m-%d') FROM enrolled WHERE at >= $since;
             SELECT VALUE time::format(created_at, '%Y-%m-%d') FROM submission
                WHERE created_at >= $since;
             SELECT VALUE time::format(starts_at, '%Y-%m-%d') FROM booking
                WHERE state = 'booked' AND starts_at >= $since AND starts_at <= $now;",
        )
        .bind(("since", since))
        .bind(("now", now))
        .await
        .map_err(internal("analytics"))?;
    let mut active: Vec<DayUser> = res.take(0).map_err(internal("analytics active"))?;
    let submitted: Vec<DayUser> = res.take(1).map_err(internal("analytics submitted"))?;
    active.extend(submitted);
    Ok(PlatformFacts {
        active,
        enrolments: res.take(2).map_err(internal("analytics enrolments"))?,
        gradings: res.take(3).map_err(internal("analytics gradings"))?,
        sessions: res.take(4).map_err(internal("analytics sessions"))?,
    })
}

#[derive(Clone, Debug, SurrealValue)]
pub struct CourseWeightsRow {
    pub course: String,
    pub slug: String,
    pub title: String,
    pub weights: Option<WeightsRow>,
    pub enrolled_count: i64,
}

pub async fn courses_with_weights(db: &Db) -> Result<Vec<CourseWeightsRow>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(id) AS course, slug, title, weights, enrolled_count
             FROM course ORDER BY title",
        )
        .await
        .map_err(internal("course weights"))?;
    res.take(0).map_err(internal("course weights"))
}

pub async fn set_weights(db: &Db, course: &str, w: Option<WeightsRow>) -> Result<bool, AppError> {
    let mut res = db
        .query("UPDATE $c SET weights = $w RETURN VALUE record::id(id)")
        .bind(("c", course_rec(course)))
        .bind(("w", w))
        .await
        .map_err(internal("set weights"))?;
    let ids: Vec<String> = res.take(0).map_err(internal("set weights"))?;
    Ok(!ids.is_empty())
}

#[derive(Clone, Debug, SurrealValue)]
pub struct FunnelLesson {
    pub lesson: String,
    pub title: String,
}

/// A course's lessons in syllabus order and, per lesson, how many learners finished it.
pub async fn funnel(
    db: &Db,
    course: &str,
) -> Result<(Vec<FunnelLesson>, Vec<String>, i64), AppError> {
    let mut res = db
        .query(
            "SELECT record::id(id) AS lesson, title, section.position AS sp, position
                FROM lesson WHERE course = $c ORDER BY sp, position;
             SELECT VALUE record::id(lesson) FROM lesson_progress WHERE course = $c AND done = true;
             RETURN $c.enrolled_count ?? 0;",
        )
        .bind(("c", course_rec(course)))
        .await
        .map_err(internal("funnel"))?;
    Ok((
        res.take(0).map_err(internal("funnel lessons"))?,
        res.take(1).map_err(internal("funnel done"))?,
        res.take::<Option<i64>>(2)
            .map_err(internal("funnel enrolled"))?
            .unwrap_or(0),
    ))
}

// ---------------------------------------------------------------------------------------------
// Recommender training data

#[derive(Clone, Debug, SurrealValue)]
pub struct EnrolmentFact {
    pub user: String,
    pub course: String,
    pub completed: bool,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct RatingFact {
    pub user: String,
    pub item: String,
    pub stars: i64,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct CatalogueFact {
    pub course: String,
    pub slug: String,
    pub title: String,
    pub tags: Vec<String>,
    pub learners: i64,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct MentorFact {
    pub mentor: String,
    pub name: String,
    pub headline: String,
    pub open: bool,
}

#[derive(Clone, Debug, Default)]
pub struct TrainingData {
    pub enrolments: Vec<EnrolmentFact>,
    pub course_ratings: Vec<RatingFact>,
    pub mentor_ratings: Vec<RatingFact>,
    pub catalogue: Vec<CatalogueFact>,
    pub mentors: Vec<MentorFact>,
    /// Enrolments plus ratings, to tell when the data changed.
    pub seen: i64,
}

/// Everything the recommender trains on: every enrolment (completed or not), course ratings,
/// learners' ratings of mentors, the published catalogue and the mentors taking mentees.
pub async fn training_data(db: &Db) -> Result<TrainingData, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(in) AS user, record::id(out) AS course,
                completed_at != NONE AS completed FROM enrolled;
             SELECT record::id(in) AS user, record::id(out) AS item, stars FROM rated;
             SELECT record::id(author) AS user, record::id(subject) AS item, stars
                FROM feedback WHERE about = 'mentor';
             SELECT record::id(id) AS course, slug, title, tags, enrolled_count AS learners
                FROM course WHERE published = true;
             SELECT record::id(user) AS mentor, user.display_name AS name, headline,
                paused = false AND 'mentor' IN user.roles AS open FROM mentor_profile;",
        )
        .await
        .map_err(internal("training data"))?;
    Ok(TrainingData {
        enrolments: res.take(0).map_err(internal("training enrolments"))?,
        course_ratings: res.take(1).map_err(internal("training ratings"))?,
        mentor_ratings: res.take(2).map_err(internal("training mentor ratings"))?,
        catalogue: res.take(3).map_err(internal("training catalogue"))?,
        mentors: res.take(4).map_err(internal("training mentors"))?,
        seen: 0,
    })
    .map(|mut d: TrainingData| {
        d.seen = (d.enrolments.len() + d.course_ratings.len() + d.mentor_ratings.len()) as i64;
        d
    })
}

/// Enrolments plus course and mentor ratings: when it differs from the trained model's, the
/// model is retrained.
pub async fn interaction_count(db: &Db) -> Result<i64, AppError> {
    let mut res = db
        .query(
            "RETURN ((SELECT count() AS n FROM enrolled GROUP ALL)[0].n ?? 0)
                + ((SELECT count() AS n FROM rated GROUP ALL)[0].n ?? 0)
                + ((SELECT count() AS n FROM feedback WHERE about = 'mentor' GROUP ALL)[0].n ?? 0)",
        )
        .await
        .map_err(internal("interaction count"))?;
    let n: Option<i64> = res.take(0).map_err(internal("interaction count"))?;
    Ok(n.unwrap_or(0))
}

// ---------------------------------------------------------------------------------------------
// Helpful answers

/// Marks an answer in a mentorship's questions helpful. Only the person who asked the
/// question it answers may, and not on their own reply: `Forbidden` otherwise, `NotFound`
/// when there is no such post.
pub async fn mark_helpful(
    db: &Db,
    post: &str,
    reader: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut res = db
        .query(
            "UPDATE $p SET helpful = true, helpful_at = helpful_at ?? $now
             WHERE parent != NONE AND parent.author = $u AND author != $u
             RETURN VALUE record::id(id);",
        )
        .bind(("p", RecordId::new("mentorship_post", post)))
        .bind(("u", user_rec(reader)))
        .bind(("now", now))
        .await
        .map_err(internal("mark helpful"))?;
    let updated: Vec<String> = res.take(0).map_err(internal("mark helpful"))?;
    if !updated.is_empty() {
        return Ok(());
    }
    let mut res = db
        .query("RETURN record::exists($p)")
        .bind(("p", RecordId::new("mentorship_post", post)))
        .await
        .map_err(internal("mark helpful"))?;
    let found: Option<bool> = res.take(0).map_err(internal("mark helpful"))?;
    Err(if found == Some(true) {
        AppError::Forbidden
    } else {
        AppError::NotFound
    })
}
