//! Course queries (server only): the only place with SurrealQL for courses. Values are always
//! bound; the few query fragments chosen in Rust (sort order) come from fixed strings.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use crate::{
    courses::{
        bundle::{CourseBundle, LessonBundle, QuestionBundle, SectionBundle},
        model::{CourseProgress, Intervals, LessonKind},
    },
    db::{
        Db, course_record, fail_on_errors, internal, is_unique_violation, lesson_record, new_key,
        user_record, write_with_retry,
    },
    error::{AppError, Problem},
    ids::UserId,
};

fn section_record(id: &str) -> RecordId {
    RecordId::new("section", id)
}

pub use crate::search::{MARK_CLOSE, MARK_OPEN};

#[derive(Debug, SurrealValue)]
pub struct CardRow {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub tags: Vec<String>,
    pub level: String,
    pub language: String,
    pub enrolled_count: i64,
    pub rating_sum: i64,
    pub rating_count: i64,
    pub published: bool,
    pub title_hl: Option<String>,
    pub summary_hl: Option<String>,
}

const CARD_FIELDS: &str = "record::id(id) AS id, slug, title, summary, tags, level, language, \
     enrolled_count, rating_sum, rating_count, published, created_at, \
     (IF rating_count > 0 THEN rating_sum / rating_count ELSE 0 END) AS rating";

/// A published course as the catalog index keeps it.
#[derive(Clone, Debug, SurrealValue)]
pub struct IndexRow {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub tags: Vec<String>,
    pub level: String,
    pub language: String,
    pub created_at: DateTime<Utc>,
    pub enrolled_count: i64,
    pub rating_sum: i64,
    pub rating_count: i64,
}

/// Every published course for the catalog index (`only`: just that course, which comes back
/// empty if it is not published).
pub async fn index_rows(db: &Db, only: Option<&str>) -> Result<Vec<IndexRow>, AppError> {
    let sql = "SELECT record::id(id) AS id, slug, title, summary, description, tags, level,
            language, created_at, enrolled_count, rating_sum, rating_count
         FROM course WHERE published = true AND ($only = NONE OR id = $only)";
    let mut res = db
        .query(sql)
        .bind(("only", only.map(course_record)))
        .await
        .map_err(internal("catalog index rows"))?;
    res.take(0).map_err(internal("catalog index rows"))
}

#[derive(Clone, Debug, SurrealValue)]
pub struct CourseRow {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub tags: Vec<String>,
    pub level: String,
    pub language: String,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub published: bool,
    pub author_ids: Vec<String>,
    pub author_names: Vec<String>,
    pub author_emails: Vec<String>,
    pub enrolled_count: i64,
    pub rating_sum: i64,
    pub rating_count: i64,
}

impl CourseRow {
    /// Authors and admins edit a course; nobody else.
    pub fn editable_by(&self, who: &crate::accounts::session::Authenticated) -> bool {
        use crate::accounts::model::Capabilities;
        who.user.roles.can_administer() || self.author_ids.contains(&who.user.id.0)
    }
}

const COURSE_FIELDS: &str = "record::id(id) AS id, slug, title, summary, description, tags, \
     level, language, starts_on, ends_on, published, \
     authors.map(|$a| record::id($a)) AS author_ids, authors.display_name AS author_names, \
     authors.email AS author_emails, enrolled_count, rating_sum, rating_count";

pub async fn course_by_slug(db: &Db, slug: &str) -> Result<Option<CourseRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {COURSE_FIELDS} FROM course WHERE slug = $slug LIMIT 1"
        ))
        .bind(("slug", slug.to_string()))
        .await
        .map_err(internal("course by slug"))?;
    res.take(0).map_err(internal("course by slug"))
}

pub async fn course_by_id(db: &Db, id: &str) -> Result<Option<CourseRow>, AppError> {
    let mut res = db
        .query(format!("SELECT {COURSE_FIELDS} FROM ONLY $course"))
        .bind(("course", course_record(id)))
        .await
        .map_err(internal("course by id"))?;
    res.take(0).map_err(internal("course by id"))
}

#[derive(Clone, Debug, SurrealValue)]
pub struct SectionRow {
    pub id: String,
    pub title: String,
    pub position: i64,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct LessonRow {
    pub id: String,
    pub course: String,
    pub section: String,
    pub position: i64,
    pub title: String,
    pub kind: String,
    pub body: String,
    pub video_src: Option<String>,
    pub video_secs: Option<f64>,
    pub captions_src: Option<String>,
    /// A quiz's attempts before its answers are shown (`None`: as many as the learner likes).
    pub quiz_attempts: Option<i64>,
}

impl LessonRow {
    pub fn kind(&self) -> LessonKind {
        LessonKind::parse(&self.kind).unwrap_or(LessonKind::Text)
    }
}

const LESSON_FIELDS: &str = "record::id(id) AS id, record::id(course) AS course, \
     record::id(section) AS section, position, title, kind, body, video_src, video_secs, captions_src, \
     quiz_attempts";

/// Sections and lessons of a course, each in order.
pub async fn syllabus(
    db: &Db,
    course: &str,
) -> Result<(Vec<SectionRow>, Vec<LessonRow>), AppError> {
    let mut res = db
        .query(format!(
            "SELECT record::id(id) AS id, title, position FROM section
                WHERE course = $course ORDER BY position;
             SELECT {LESSON_FIELDS} FROM lesson WHERE course = $course ORDER BY position;"
        ))
        .bind(("course", course_record(course)))
        .await
        .map_err(internal("syllabus"))?;
    let sections: Vec<SectionRow> = res.take(0).map_err(internal("syllabus"))?;
    let mut lessons: Vec<LessonRow> = res.take(1).map_err(internal("syllabus"))?;
    // Reading order: by section position, then lesson position.
    lessons.sort_by_key(|l| {
        (
            sections
                .iter()
                .find(|s| s.id == l.section)
                .map_or(i64::MAX, |s| s.position),
            l.position,
        )
    });
    Ok((sections, lessons))
}

pub async fn lesson(db: &Db, id: &str) -> Result<Option<LessonRow>, AppError> {
    let mut res = db
        .query(format!("SELECT {LESSON_FIELDS} FROM ONLY $lesson"))
        .bind(("lesson", lesson_record(id)))
        .await
        .map_err(internal("lesson"))?;
    res.take(0).map_err(internal("lesson"))
}

#[derive(Clone, Debug, SurrealValue)]
pub struct QuestionRow {
    pub id: String,
    pub prompt: String,
    pub choices: Vec<String>,
    pub correct: Vec<i64>,
    pub explanation: String,
}

pub async fn questions(db: &Db, lesson: &str) -> Result<Vec<QuestionRow>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(id) AS id, prompt, choices, correct, explanation, position
             FROM question WHERE lesson = $lesson ORDER BY position",
        )
        .bind(("lesson", lesson_record(lesson)))
        .await
        .map_err(internal("questions"))?;
    res.take(0).map_err(internal("questions"))
}

// ---- enrolment and ratings ------------------------------------------------------------

#[derive(Debug, SurrealValue)]
pub struct EnrolmentRow {
    pub last_lesson: Option<String>,
}

/// The learner's enrolment in a course, if any.
pub async fn enrolment(
    db: &Db,
    user: &UserId,
    course: &str,
) -> Result<Option<EnrolmentRow>, AppError> {
    let mut res = db
        .query(
            "SELECT (IF last_lesson THEN record::id(last_lesson) ELSE NONE END) AS last_lesson
             FROM enrolled WHERE in = $user AND out = $course LIMIT 1",
        )
        .bind(("user", user_record(user)))
        .bind(("course", course_record(course)))
        .await
        .map_err(internal("enrolment"))?;
    res.take(0).map_err(internal("enrolment"))
}

/// Enrols the learner (idempotent) and counts them, in one transaction.
pub async fn enrol(
    db: &Db,
    user: &UserId,
    course: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    // Learners enrolling at once all count the course: the losers of that race retry.
    let result = write_with_retry("enrol", Problem::SlugTaken, || {
        db.query(
            "BEGIN TRANSACTION;
             IF (SELECT VALUE id FROM enrolled WHERE in = $user AND out = $course) = [] {
                RELATE $user->enrolled->$course SET at = $now;
                UPDATE $course SET enrolled_count += 1;
             };
             COMMIT TRANSACTION;",
        )
        .bind(("user", user_record(user)))
        .bind(("course", course_record(course)))
        .bind(("now", now))
        .into_future()
    })
    .await;
    already_ok(result)
}

/// Leaves a course; progress facts stay, so enrolling again continues where it stopped.
pub async fn unenrol(db: &Db, user: &UserId, course: &str) -> Result<(), AppError> {
    let res = db
        .query(
            "BEGIN TRANSACTION;
             LET $gone = (DELETE enrolled WHERE in = $user AND out = $course RETURN BEFORE);
             IF array::len($gone) > 0 { UPDATE $course SET enrolled_count -= 1; };
             COMMIT TRANSACTION;",
        )
        .bind(("user", user_record(user)))
        .bind(("course", course_record(course)))
        .await
        .map_err(internal("unenrol"))?;
    check(res, "unenrol")
}

pub async fn set_last_lesson(
    db: &Db,
    user: &UserId,
    course: &str,
    lesson: &str,
) -> Result<(), AppError> {
    db.query("UPDATE enrolled SET last_lesson = $lesson WHERE in = $user AND out = $course")
        .bind(("user", user_record(user)))
        .bind(("course", course_record(course)))
        .bind(("lesson", lesson_record(lesson)))
        .await
        .and_then(|r| r.check())
        .map_err(internal("last lesson"))?;
    Ok(())
}

/// Rates a course 1–5 (a second rating replaces the first), keeping the course's sums right.
pub async fn rate(
    db: &Db,
    user: &UserId,
    course: &str,
    stars: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let res = db
        .query(
            "BEGIN TRANSACTION;
             LET $old = (SELECT VALUE stars FROM rated WHERE in = $user AND out = $course)[0];
             IF $old = NONE {
                RELATE $user->rated->$course SET stars = $stars, at = $now;
                UPDATE $course SET rating_sum += $stars, rating_count += 1;
             } ELSE {
                UPDATE rated SET stars = $stars, at = $now WHERE in = $user AND out = $course;
                UPDATE $course SET rating_sum += $stars - $old;
             };
             COMMIT TRANSACTION;",
        )
        .bind(("user", user_record(user)))
        .bind(("course", course_record(course)))
        .bind(("stars", stars))
        .bind(("now", now))
        .await
        .map_err(internal("rate"))?;
    already_ok(check(res, "rate"))
}

/// Courses the learner is enrolled in, most recent first.
pub async fn enrolled_courses(db: &Db, user: &UserId) -> Result<Vec<CardRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {CARD_FIELDS}, NONE AS title_hl, NONE AS summary_hl FROM course
             WHERE id IN (SELECT VALUE out FROM enrolled WHERE in = $user)
             ORDER BY created_at DESC"
        ))
        .bind(("user", user_record(user)))
        .await
        .map_err(internal("enrolled courses"))?;
    res.take(0).map_err(internal("enrolled courses"))
}

// ---- progress ---------------------------------------------------------------------------

#[derive(Clone, Debug, SurrealValue)]
pub struct LessonProgressRow {
    pub lesson: String,
    pub done: bool,
    pub played: Vec<Vec<f64>>,
    pub watched_secs: f64,
    pub position_secs: f64,
    pub reported_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

const PROGRESS_FIELDS: &str = "record::id(lesson) AS lesson, done, played, watched_secs, \
     position_secs, reported_at, updated_at";

pub async fn course_progress_rows(
    db: &Db,
    user: &UserId,
    course: &str,
) -> Result<Vec<LessonProgressRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {PROGRESS_FIELDS} FROM lesson_progress WHERE user = $user AND course = $course"
        ))
        .bind(("user", user_record(user)))
        .bind(("course", course_record(course)))
        .await
        .map_err(internal("progress"))?;
    res.take(0).map_err(internal("progress"))
}

pub async fn lesson_progress(
    db: &Db,
    user: &UserId,
    lesson: &str,
) -> Result<Option<LessonProgressRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {PROGRESS_FIELDS} FROM lesson_progress WHERE user = $user AND lesson = $lesson LIMIT 1"
        ))
        .bind(("user", user_record(user)))
        .bind(("lesson", lesson_record(lesson)))
        .await
        .map_err(internal("lesson progress"))?;
    res.take(0).map_err(internal("lesson progress"))
}

#[derive(Debug, SurrealValue)]
struct QuizTotalsRow {
    correct: i64,
    total: i64,
}

/// The learner's best attempt per quiz of the course, summed.
pub async fn quiz_totals(db: &Db, user: &UserId, course: &str) -> Result<(i64, i64), AppError> {
    let mut res = db
        .query(
            "SELECT math::max(correct) AS correct, math::max(total) AS total, lesson
             FROM quiz_attempt WHERE user = $user AND course = $course GROUP BY lesson",
        )
        .bind(("user", user_record(user)))
        .bind(("course", course_record(course)))
        .await
        .map_err(internal("quiz totals"))?;
    let rows: Vec<QuizTotalsRow> = res.take(0).map_err(internal("quiz totals"))?;
    Ok(rows
        .iter()
        .fold((0, 0), |(c, t), r| (c + r.correct, t + r.total)))
}

/// Computes a learner's progress facts in a course from the stored rows.
pub async fn course_progress(
    db: &Db,
    user: &UserId,
    course: &str,
    lessons: &[LessonRow],
) -> Result<(CourseProgress, Vec<String>), AppError> {
    let rows = course_progress_rows(db, user, course).await?;
    let (quiz_correct, quiz_total) = quiz_totals(db, user, course).await?;
    let done: Vec<String> = rows
        .iter()
        .filter(|r| r.done && lessons.iter().any(|l| l.id == r.lesson))
        .map(|r| r.lesson.clone())
        .collect();
    let video_secs = lessons
        .iter()
        .filter(|l| l.kind() == LessonKind::Video)
        .filter_map(|l| l.video_secs)
        .sum();
    let watched_secs = rows.iter().map(|r| r.watched_secs).sum();
    let progress = CourseProgress {
        lessons_done: u32::try_from(done.len()).unwrap_or(u32::MAX),
        lessons_total: u32::try_from(lessons.len()).unwrap_or(u32::MAX),
        watched_secs,
        video_secs,
        quiz_correct: u32::try_from(quiz_correct).unwrap_or(0),
        quiz_total: u32::try_from(quiz_total).unwrap_or(0),
    };
    Ok((progress, done))
}

/// Marks `$lesson` done for `$user` in `$course` at `$now` (one statement, so a caller can put
/// it inside a larger transaction, as grading does).
pub const MARK_DONE: &str =
    "IF (SELECT VALUE id FROM lesson_progress WHERE user = $user AND lesson = $lesson) = [] {
        CREATE lesson_progress SET user = $user, course = $course, lesson = $lesson,
            done = true, done_at = $now, updated_at = $now;
     } ELSE {
        UPDATE lesson_progress SET done_at = done_at ?? $now, done = true, updated_at = $now
        WHERE user = $user AND lesson = $lesson;
     };";

/// Marks a lesson done (idempotent).
pub async fn mark_done(
    db: &Db,
    user: &UserId,
    course: &str,
    lesson: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    // If a concurrent request creates the row between our check and our CREATE, the unique
    // index refuses ours; the second round then takes the UPDATE branch.
    let mut result = Ok(());
    for _ in 0..2 {
        let res = db
            .query(MARK_DONE)
            .bind(("user", user_record(user)))
            .bind(("course", course_record(course)))
            .bind(("lesson", lesson_record(lesson)))
            .bind(("now", now))
            .await
            .map_err(internal("mark done"))?;
        result = check(res, "mark done");
        if result.is_ok() {
            break;
        }
    }
    result
}

/// Records that the learner opened a video lesson now: the start of the time their next
/// watch report may account for.
pub async fn start_viewing(
    db: &Db,
    user: &UserId,
    course: &str,
    lesson: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let res = db
        .query(
            "IF (SELECT VALUE id FROM lesson_progress WHERE user = $user AND lesson = $lesson) = [] {
                CREATE lesson_progress SET user = $user, course = $course, lesson = $lesson,
                    reported_at = $now, updated_at = $now;
             } ELSE {
                UPDATE lesson_progress SET reported_at = $now, updated_at = $now
                WHERE user = $user AND lesson = $lesson;
             };",
        )
        .bind(("user", user_record(user)))
        .bind(("course", course_record(course)))
        .bind(("lesson", lesson_record(lesson)))
        .bind(("now", now))
        .await
        .map_err(internal("start viewing"))?;
    // Two tabs opening at once: the other one created the row, which is what we wanted.
    already_ok(check(res, "start viewing"))
}

/// Stores a video's merged play intervals, only if nobody else wrote since `seen` (compare
/// and swap: two reports racing from two tabs cannot lose each other's intervals).
/// Returns false when the caller must re-read and retry.
#[expect(clippy::too_many_arguments)]
pub async fn store_played(
    db: &Db,
    user: &UserId,
    course: &str,
    lesson: &str,
    seen: Option<DateTime<Utc>>,
    played: &Intervals,
    position: f64,
    done: bool,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let played_rows: Vec<Vec<f64>> = played.0.iter().map(|(a, b)| vec![*a, *b]).collect();
    let watched = played.total();
    // The learner's watched time in the course moves by what this report adds to the lesson,
    // each side capped at the lesson's length, in the same transaction as the report.
    let write = match seen {
        Some(_) => {
            "LET $old = (SELECT VALUE watched_secs FROM lesson_progress
                WHERE user = $user AND lesson = $lesson AND updated_at = $seen)[0];
             LET $ids = IF $old = NONE { [] } ELSE {
                (UPDATE lesson_progress SET played = $played, watched_secs = $watched,
                    position_secs = $position, reported_at = $now, updated_at = $now,
                    done_at = done_at ?? (IF $done THEN $now ELSE NONE END), done = done OR $done
                 WHERE user = $user AND lesson = $lesson AND updated_at = $seen
                 RETURN VALUE id)
             };"
        }
        None => {
            "LET $old = 0f;
             LET $ids = (CREATE lesson_progress SET user = $user, course = $course,
                lesson = $lesson, played = $played, watched_secs = $watched,
                position_secs = $position, reported_at = $now, updated_at = $now, done = $done,
                done_at = IF $done THEN $now ELSE NONE END
             RETURN VALUE id);"
        }
    };
    let query = format!(
        "BEGIN TRANSACTION;
         {write}
         IF array::len($ids) > 0 {{
            LET $cap = (SELECT VALUE video_secs FROM ONLY $lesson) ?? 0f;
            UPSERT $parts SET user = $user, course = $course,
                watched_secs = (watched_secs ?? 0f)
                    + math::min([$watched, $cap]) - math::min([$old ?? 0f, $cap]);
         }};
         SELECT VALUE id FROM $ids;
         COMMIT TRANSACTION;"
    );
    let mut res = db
        .query(query)
        .bind(("seen", seen))
        .bind(("user", user_record(user)))
        .bind(("course", course_record(course)))
        .bind(("lesson", lesson_record(lesson)))
        .bind(("parts", score_parts_record(user, course)))
        .bind(("played", played_rows))
        .bind(("watched", watched))
        .bind(("position", position))
        .bind(("done", done))
        .bind(("now", now))
        .await
        .map_err(internal("store played"))?;
    let errors = res.take_errors();
    // A concurrent first report created the row (the unique index refused ours) or a
    // concurrent write won: the caller re-reads and retries.
    if errors
        .values()
        .any(|e| is_unique_violation(e) || e.message().contains("can be retried"))
    {
        return Ok(false);
    }
    if let Some(e) = errors.into_values().next() {
        return Err(internal("store played")(e));
    }
    // BEGIN and COMMIT count as statements: the SELECT is the one before COMMIT.
    let select = res.num_statements().saturating_sub(2);
    let ids: Vec<RecordId> = res.take(select).map_err(internal("store played"))?;
    Ok(!ids.is_empty())
}

/// A learner's aggregate row in a course: `score_parts:⟨user_course⟩`.
pub fn score_parts_record(user: &UserId, course: &str) -> RecordId {
    RecordId::new("score_parts", format!("{}_{course}", user.0))
}

#[derive(Debug, SurrealValue)]
struct CapRow {
    id: String,
    video_secs: Option<f64>,
}

#[derive(Debug, SurrealValue)]
struct TestsRow {
    id: String,
    tests_json: String,
}

#[derive(Debug, SurrealValue)]
struct WatchRow {
    user: String,
    lesson: String,
    watched_secs: f64,
}

#[derive(Debug, SurrealValue)]
struct SubmittedRow {
    user: String,
    exercise: String,
    tests_passed: i64,
}

#[derive(Clone, Debug, SurrealValue)]
struct CountWrite {
    id: RecordId,
    count: i64,
}

#[derive(Clone, Debug, SurrealValue)]
struct BestWrite {
    id: RecordId,
    user: RecordId,
    exercise: RecordId,
    course: RecordId,
    best: i64,
}

#[derive(Clone, Debug, SurrealValue)]
struct PartsWrite {
    id: RecordId,
    user: RecordId,
    course: RecordId,
    watched_secs: f64,
    tests_passed: i64,
}

/// An exercise's tests, counted from its stored JSON (hidden ones too).
pub fn test_count(tests_json: &str) -> i64 {
    serde_json::from_str::<Vec<serde_json::Value>>(tests_json)
        .map(|v| i64::try_from(v.len()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A course's aggregates counted from its records (see [`recount_course`]).
struct Tally<'a> {
    /// Each video lesson's length (T is their sum).
    caps: std::collections::HashMap<&'a str, f64>,
    /// Each exercise's tests (N is their sum).
    counts: std::collections::HashMap<&'a str, i64>,
    /// The best attempt per (learner, exercise).
    best: std::collections::BTreeMap<(&'a str, &'a str), i64>,
    /// Per learner: t (watched, each video capped at its length) and n (best attempts, each
    /// capped at its exercise's tests).
    parts: std::collections::BTreeMap<&'a str, (f64, i64)>,
}

fn tally<'a>(
    videos: &'a [CapRow],
    exercises: &'a [TestsRow],
    watches: &'a [WatchRow],
    attempts: &'a [SubmittedRow],
) -> Tally<'a> {
    let caps: std::collections::HashMap<&str, f64> = videos
        .iter()
        .map(|v| (v.id.as_str(), v.video_secs.unwrap_or(0.0).max(0.0)))
        .collect();
    let counts: std::collections::HashMap<&str, i64> = exercises
        .iter()
        .map(|e| (e.id.as_str(), test_count(&e.tests_json)))
        .collect();
    let mut best: std::collections::BTreeMap<(&str, &str), i64> = Default::default();
    for a in attempts {
        let b = best
            .entry((a.user.as_str(), a.exercise.as_str()))
            .or_insert(0);
        *b = (*b).max(a.tests_passed);
    }
    let mut parts: std::collections::BTreeMap<&str, (f64, i64)> = Default::default();
    for w in watches {
        if let Some(cap) = caps.get(w.lesson.as_str()) {
            parts.entry(w.user.as_str()).or_default().0 += w.watched_secs.clamp(0.0, *cap);
        }
    }
    for ((user, exercise), b) in &best {
        if let Some(count) = counts.get(exercise) {
            parts.entry(user).or_default().1 += (*b).clamp(0, *count);
        }
    }
    Tally {
        caps,
        counts,
        best,
        parts,
    }
}

/// Counts a course's T and N and its learners' aggregates (`score_parts`, `exercise_best`)
/// again from the records, and clears its `recount` mark. Run after a change to the course's
/// content (a video's length, an exercise's tests, lessons added or removed), by the jobs for
/// a course still marked (a crash between the change and its recount), once a day for every
/// course, and to fill the aggregates after the migration that made them.
pub async fn recount_course(db: &Db, course: &str) -> Result<(), AppError> {
    let mut res = db
        .query(
            "SELECT record::id(id) AS id, video_secs FROM lesson
                WHERE course = $c AND kind = 'video';
             SELECT record::id(id) AS id, tests_json FROM exercise WHERE course = $c;
             SELECT record::id(user) AS user, record::id(lesson) AS lesson, watched_secs
                FROM lesson_progress WHERE course = $c;
             SELECT record::id(learner) AS user, record::id(exercise) AS exercise, tests_passed
                FROM submission WHERE course = $c;",
        )
        .bind(("c", course_record(course)))
        .await
        .map_err(internal("recount read"))?;
    let videos: Vec<CapRow> = res.take(0).map_err(internal("recount videos"))?;
    let exercises: Vec<TestsRow> = res.take(1).map_err(internal("recount exercises"))?;
    let watches: Vec<WatchRow> = res.take(2).map_err(internal("recount progress"))?;
    let attempts: Vec<SubmittedRow> = res.take(3).map_err(internal("recount attempts"))?;

    let Tally {
        caps,
        counts,
        best,
        parts,
    } = tally(&videos, &exercises, &watches, &attempts);
    let counts_w: Vec<CountWrite> = counts
        .iter()
        .map(|(id, count)| CountWrite {
            id: RecordId::new("exercise", *id),
            count: *count,
        })
        .collect();
    let best_w: Vec<BestWrite> = best
        .iter()
        .map(|((user, exercise), b)| BestWrite {
            id: RecordId::new("exercise_best", format!("{user}_{exercise}")),
            user: RecordId::new("user", *user),
            exercise: RecordId::new("exercise", *exercise),
            course: course_record(course),
            best: *b,
        })
        .collect();
    let parts_w: Vec<PartsWrite> = parts
        .iter()
        .map(|(user, (watched, passed))| PartsWrite {
            id: score_parts_record(&UserId((*user).to_string()), course),
            user: RecordId::new("user", *user),
            course: course_record(course),
            watched_secs: *watched,
            tests_passed: *passed,
        })
        .collect();
    let t: f64 = caps.values().sum();
    let n: i64 = counts.values().sum();
    write_with_retry("recount", Problem::TryAgain, || {
        db.query(
            "BEGIN TRANSACTION;
             UPDATE $c SET video_secs_total = $t, tests_total = $n, recount = false;
             FOR $e IN $counts { UPDATE $e.id SET test_count = $e.count; };
             DELETE exercise_best WHERE course = $c;
             FOR $b IN $best {
                UPSERT $b.id SET user = $b.user, exercise = $b.exercise, course = $b.course,
                    best = $b.best;
             };
             DELETE score_parts WHERE course = $c;
             FOR $p IN $parts {
                UPSERT $p.id SET user = $p.user, course = $p.course,
                    watched_secs = $p.watched_secs, tests_passed = $p.tests_passed;
             };
             COMMIT TRANSACTION;",
        )
        .bind(("c", course_record(course)))
        .bind(("t", t))
        .bind(("n", n))
        .bind(("counts", counts_w.clone()))
        .bind(("best", best_w.clone()))
        .bind(("parts", parts_w.clone()))
        .into_future()
    })
    .await
}

/// Every course [`recount_course`]d, and every learner's feedback total counted again: fills
/// the aggregates after the migration that made them (or after a bulk import), and repairs
/// them once a day. Returns how many courses.
pub async fn recount_all(db: &Db, only_marked: bool) -> Result<usize, AppError> {
    let mut res = db
        .query("SELECT VALUE record::id(id) FROM course WHERE $all OR recount = true")
        .bind(("all", !only_marked))
        .await
        .map_err(internal("courses to recount"))?;
    let courses: Vec<String> = res.take(0).map_err(internal("courses to recount"))?;
    for course in &courses {
        recount_course(db, course).await?;
    }
    if !only_marked {
        write_with_retry("recount feedback", Problem::TryAgain, || {
            db.query(
                "UPDATE user SET
                    feedback_stars = math::sum((SELECT VALUE stars FROM feedback
                        WHERE subject = $parent.id AND about = 'learner')),
                    feedback_count = array::len((SELECT VALUE stars FROM feedback
                        WHERE subject = $parent.id AND about = 'learner'));",
            )
            .into_future()
        })
        .await?;
    }
    Ok(courses.len())
}

/// A learner's attempts at a quiz so far: how many, and whether one passed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attempts {
    pub used: u32,
    pub passed: bool,
}

pub async fn attempts(db: &Db, user: &UserId, lesson: &str) -> Result<Attempts, AppError> {
    let mut res = db
        .query("SELECT VALUE passed FROM quiz_attempt WHERE user = $user AND lesson = $lesson")
        .bind(("user", user_record(user)))
        .bind(("lesson", lesson_record(lesson)))
        .await
        .map_err(internal("attempts"))?;
    let tries: Vec<bool> = res.take(0).map_err(internal("attempts"))?;
    Ok(Attempts {
        used: u32::try_from(tries.len()).unwrap_or(u32::MAX),
        passed: tries.contains(&true),
    })
}

/// Stores a graded quiz attempt and, when it passed, marks the lesson done — together. With
/// `limit`, a learner who has used that many attempts without passing gets no more
/// (`NoAttemptsLeft`; their answers are shown by then), checked in the same transaction so
/// parallel submissions cannot slip past it.
#[expect(clippy::too_many_arguments)]
pub async fn save_attempt(
    db: &Db,
    user: &UserId,
    course: &str,
    lesson: &str,
    answers: &[Vec<u32>],
    correct: u32,
    total: u32,
    passed: bool,
    limit: Option<u32>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let answers: Vec<Vec<i64>> = answers
        .iter()
        .map(|a| a.iter().map(|c| i64::from(*c)).collect())
        .collect();
    let res = db
        .query(
            "BEGIN TRANSACTION;
             LET $tries = (SELECT VALUE passed FROM quiz_attempt
                WHERE user = $user AND lesson = $lesson);
             IF $limit != NONE AND array::len($tries) >= $limit AND !($tries CONTAINS true) {
                THROW 'pw:no_attempts_left';
             };
             CREATE quiz_attempt SET user = $user, course = $course, lesson = $lesson,
                answers = $answers, correct = $correct, total = $total, passed = $passed, at = $now;
             IF $passed {
                IF (SELECT VALUE id FROM lesson_progress WHERE user = $user AND lesson = $lesson) = [] {
                    CREATE lesson_progress SET user = $user, course = $course, lesson = $lesson,
                        done = true, done_at = $now, updated_at = $now;
                } ELSE {
                    UPDATE lesson_progress SET done = true, done_at = done_at ?? $now, updated_at = $now
                    WHERE user = $user AND lesson = $lesson;
                };
             };
             COMMIT TRANSACTION;",
        )
        .bind(("user", user_record(user)))
        .bind(("course", course_record(course)))
        .bind(("lesson", lesson_record(lesson)))
        .bind(("answers", answers))
        .bind(("correct", i64::from(correct)))
        .bind(("total", i64::from(total)))
        .bind(("passed", passed))
        .bind(("limit", limit.map(i64::from)))
        .bind(("now", now))
        .await
        .map_err(internal("save attempt"))?;
    check(res, "save attempt")
}

#[derive(Debug, SurrealValue)]
pub struct AttemptRow {
    pub answers: Vec<Vec<i64>>,
}

pub async fn last_attempt(
    db: &Db,
    user: &UserId,
    lesson: &str,
) -> Result<Option<AttemptRow>, AppError> {
    let mut res = db
        .query(
            "SELECT answers, at FROM quiz_attempt WHERE user = $user AND lesson = $lesson
             ORDER BY at DESC LIMIT 1",
        )
        .bind(("user", user_record(user)))
        .bind(("lesson", lesson_record(lesson)))
        .await
        .map_err(internal("last attempt"))?;
    res.take(0).map_err(internal("last attempt"))
}

// ---- courses as code ----------------------------------------------------------------------

/// Strips the highlight markers from text before it is stored.
fn clean(text: &str) -> String {
    text.replace([MARK_OPEN.chars().next().unwrap_or('\u{2}'), '\u{3}'], "")
}

/// Creates (or, with the same slug, replaces) a course from a bundle, in one transaction:
/// the course with all its sections, lessons and questions exists whole or not at all.
/// `authors` are user ids; lesson videos and captions are already stored media names.
pub async fn import_bundle(
    db: &Db,
    bundle: &CourseBundle,
    authors: &[UserId],
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let existing = course_by_slug(db, &bundle.slug).await?;
    let course_key = existing.as_ref().map_or_else(new_key, |c| c.id.clone());
    let course = course_record(&course_key);
    // Replacing a course keeps every lesson whose kind and title are unchanged under its id
    // (and its exercise under the id derived from it), so learners' progress, submissions and
    // reviews stay attached across re-imports and reorders.
    let mut reusable: Vec<(String, String, String)> = match &existing {
        Some(c) => syllabus(db, &c.id)
            .await?
            .1
            .into_iter()
            .map(|l| (l.id, l.kind, l.title))
            .collect(),
        None => Vec::new(),
    };
    let mut key_for = |kind: &str, title: &str| -> String {
        let title = clean(title);
        match reusable
            .iter()
            .position(|(_, k, t)| k == kind && *t == title)
        {
            Some(i) => reusable.remove(i).0,
            None => new_key(),
        }
    };
    let sections: Vec<SectionIn> = bundle
        .sections
        .iter()
        .enumerate()
        .map(|(si, section)| SectionIn {
            id: section_record(&new_key()),
            title: clean(&section.title),
            position: si as i64,
            lessons: section
                .lessons
                .iter()
                .enumerate()
                .map(|(li, lesson)| (li, lesson, key_for(&lesson.kind, &lesson.title)))
                .map(|(li, lesson, key)| LessonIn {
                    id: lesson_record(&key),
                    position: li as i64,
                    title: clean(&lesson.title),
                    kind: lesson.kind.clone(),
                    body: clean(&lesson.body),
                    video_src: lesson.video.clone(),
                    video_secs: lesson.video_secs,
                    captions_src: lesson.captions.clone(),
                    quiz_attempts: lesson.attempts.map(i64::from),
                    exercise: lesson
                        .exercise_spec
                        .as_ref()
                        .map(|spec| crate::exercises::repo::ExerciseIn::of(&key, spec)),
                    questions: lesson
                        .questions
                        .iter()
                        .enumerate()
                        .map(|(qi, q)| QuestionIn {
                            position: qi as i64,
                            prompt: clean(&q.prompt),
                            choices: q.choices.iter().map(|c| clean(c)).collect(),
                            correct: q.correct.iter().map(|c| i64::from(*c)).collect(),
                            explanation: clean(&q.explanation),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    // Replacing keeps the course id (so enrolments and progress stay) but rebuilds content.
    let res = db
        .query(
            "BEGIN TRANSACTION;
             DELETE question WHERE lesson.course = $course;
             DELETE exercise WHERE course = $course;
             DELETE lesson WHERE course = $course;
             DELETE section WHERE course = $course;
             UPSERT $course SET slug = $slug, title = $title, summary = $summary,
                description = $description, tags = $tags, search_tags = $search_tags,
                level = $level, language = $language, starts_on = $starts_on, ends_on = $ends_on,
                published = $published, authors = $authors,
                enrolled_count = enrolled_count ?? 0, rating_sum = rating_sum ?? 0,
                rating_count = rating_count ?? 0,
                created_at = created_at ?? $now, updated_at = $now;
             FOR $s IN $sections {
                LET $sid = $s.id;
                CREATE $sid SET course = $course, title = $s.title, position = $s.position;
                FOR $l IN $s.lessons {
                    LET $lid = $l.id;
                    CREATE $lid SET course = $course, section = $sid, position = $l.position,
                        title = $l.title, kind = $l.kind, body = $l.body, video_src = $l.video_src,
                        video_secs = $l.video_secs, captions_src = $l.captions_src,
                        quiz_attempts = $l.quiz_attempts;
                    FOR $q IN $l.questions {
                        CREATE question SET lesson = $lid, position = $q.position,
                            prompt = $q.prompt, choices = $q.choices, correct = $q.correct,
                            explanation = $q.explanation;
                    };
                    IF $l.exercise != NONE {
                        LET $eid = $l.exercise.id;
                        CREATE $eid SET lesson = $lid, course = $course,
                            language = $l.exercise.language, starter = $l.exercise.starter,
                            solution = $l.exercise.solution, tests_json = $l.exercise.tests_json,
                            test_ms = $l.exercise.test_ms, total_ms = $l.exercise.total_ms,
                            validated_at = $now, updated_at = $now;
                    };
                };
             };
             COMMIT TRANSACTION;",
        )
        .bind(("course", course))
        .bind(("slug", bundle.slug.clone()))
        .bind(("title", clean(&bundle.title)))
        .bind(("summary", clean(&bundle.summary)))
        .bind(("description", clean(&bundle.description)))
        .bind(("tags", bundle.tags.clone()))
        .bind(("search_tags", bundle.tags.join(" ")))
        .bind(("level", bundle.level.clone()))
        .bind(("language", bundle.language.clone()))
        .bind(("starts_on", bundle.starts_on.clone()))
        .bind(("ends_on", bundle.ends_on.clone()))
        .bind(("published", bundle.published))
        .bind((
            "authors",
            authors.iter().map(user_record).collect::<Vec<_>>(),
        ))
        .bind(("sections", sections))
        .bind(("now", now))
        .await
        .map_err(internal("import course"))?;
    check(res, "import course")?;
    // The content may have changed every T and N: count the course's learners again.
    recount_course(db, &course_key).await?;
    Ok(course_key)
}

#[derive(Debug, SurrealValue)]
struct SectionIn {
    id: RecordId,
    title: String,
    position: i64,
    lessons: Vec<LessonIn>,
}

#[derive(Debug, SurrealValue)]
struct LessonIn {
    id: RecordId,
    position: i64,
    title: String,
    kind: String,
    body: String,
    video_src: Option<String>,
    video_secs: Option<f64>,
    captions_src: Option<String>,
    quiz_attempts: Option<i64>,
    exercise: Option<crate::exercises::repo::ExerciseIn>,
    questions: Vec<QuestionIn>,
}

#[derive(Debug, SurrealValue)]
struct QuestionIn {
    position: i64,
    prompt: String,
    choices: Vec<String>,
    correct: Vec<i64>,
    explanation: String,
}

/// Reads a whole course back as a bundle (lesson `file` names are assigned by the caller).
pub async fn export_bundle(db: &Db, slug: &str) -> Result<Option<CourseBundle>, AppError> {
    let Some(course) = course_by_slug(db, slug).await? else {
        return Ok(None);
    };
    let (sections, lessons) = syllabus(db, &course.id).await?;
    let mut out = Vec::new();
    for s in &sections {
        let mut lessons_out = Vec::new();
        for l in lessons.iter().filter(|l| l.section == s.id) {
            let questions = questions(db, &l.id)
                .await?
                .into_iter()
                .map(|q| QuestionBundle {
                    prompt: q.prompt,
                    choices: q.choices,
                    correct: q
                        .correct
                        .into_iter()
                        .filter_map(|c| u32::try_from(c).ok())
                        .collect(),
                    explanation: q.explanation,
                })
                .collect();
            lessons_out.push(LessonBundle {
                title: l.title.clone(),
                kind: l.kind.clone(),
                file: String::new(),
                video: l.video_src.clone(),
                video_secs: l.video_secs,
                captions: l.captions_src.clone(),
                questions,
                attempts: l.quiz_attempts.and_then(|n| u32::try_from(n).ok()),
                exercise: None,
                body: l.body.clone(),
                exercise_spec: crate::exercises::repo::spec_of_lesson(db, &l.id).await?,
            });
        }
        out.push(SectionBundle {
            title: s.title.clone(),
            lessons: lessons_out,
        });
    }
    Ok(Some(CourseBundle {
        slug: course.slug,
        title: course.title,
        summary: course.summary,
        tags: course.tags,
        level: course.level,
        language: course.language,
        starts_on: course.starts_on,
        ends_on: course.ends_on,
        published: course.published,
        authors: course.author_emails,
        description: course.description,
        sections: out,
    }))
}

// ---- authoring ---------------------------------------------------------------------------

/// Creates a draft course with `author` as its author; a slug in use gives `SlugTaken`.
pub async fn create_course(
    db: &Db,
    slug: &str,
    input: &crate::courses::model::CourseInput,
    author: &UserId,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let res = db
        .query(
            "CREATE $course SET slug = $slug, title = $title, summary = $summary,
                description = $description, tags = $tags, search_tags = $search_tags,
                level = $level, language = $language, starts_on = $starts_on,
                ends_on = $ends_on, published = false, authors = [$author],
                created_at = $now, updated_at = $now;",
        )
        .bind(("course", course_record(&new_key())))
        .bind(("slug", slug.to_string()))
        .bind(("author", user_record(author)))
        .bind(("now", now));
    let res = bind_input(res, input)
        .await
        .map_err(internal("create course"))?;
    check(res, "create course")
}

fn bind_input<'a>(
    q: surrealdb::method::Query<'a, surrealdb::engine::any::Any>,
    input: &crate::courses::model::CourseInput,
) -> surrealdb::method::Query<'a, surrealdb::engine::any::Any> {
    q.bind(("title", clean(&input.title)))
        .bind(("summary", clean(&input.summary)))
        .bind(("description", clean(&input.description)))
        .bind(("tags", input.tags.clone()))
        .bind(("search_tags", input.tags.join(" ")))
        .bind(("level", input.level.key().to_string()))
        .bind(("language", input.language.clone()))
        .bind(("starts_on", input.starts_on.clone()))
        .bind(("ends_on", input.ends_on.clone()))
}

pub async fn update_course(
    db: &Db,
    course: &str,
    input: &crate::courses::model::CourseInput,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let res = db
        .query(
            "UPDATE $course SET title = $title, summary = $summary, description = $description,
                tags = $tags, search_tags = $search_tags, level = $level, language = $language,
                starts_on = $starts_on, ends_on = $ends_on, updated_at = $now;",
        )
        .bind(("course", course_record(course)))
        .bind(("now", now));
    let res = bind_input(res, input)
        .await
        .map_err(internal("update course"))?;
    check(res, "update course")
}

pub async fn set_published(db: &Db, course: &str, published: bool) -> Result<(), AppError> {
    db.query("UPDATE $course SET published = $published")
        .bind(("course", course_record(course)))
        .bind(("published", published))
        .await
        .and_then(|r| r.check())
        .map_err(internal("publish"))?;
    Ok(())
}

/// Appends a section at the end of the course.
pub async fn add_section(db: &Db, course: &str, title: &str) -> Result<String, AppError> {
    let key = new_key();
    let res = db
        .query(
            "BEGIN TRANSACTION;
             LET $n = (SELECT count() AS n FROM section WHERE course = $course GROUP ALL)[0].n ?? 0;
             CREATE $section SET course = $course, title = $title, position = $n;
             COMMIT TRANSACTION;",
        )
        .bind(("course", course_record(course)))
        .bind(("section", section_record(&key)))
        .bind(("title", clean(title)))
        .await
        .map_err(internal("add section"))?;
    check(res, "add section")?;
    Ok(key)
}

/// Appends a lesson at the end of a section.
pub async fn add_lesson(
    db: &Db,
    course: &str,
    section: &str,
    title: &str,
    kind: LessonKind,
) -> Result<String, AppError> {
    let key = new_key();
    let res = db
        .query(
            "BEGIN TRANSACTION;
             LET $n = (SELECT count() AS n FROM lesson WHERE section = $section GROUP ALL)[0].n ?? 0;
             CREATE $lesson SET course = $course, section = $section, position = $n,
                title = $title, kind = $kind, body = '';
             UPDATE $course SET recount = true;
             COMMIT TRANSACTION;",
        )
        .bind(("course", course_record(course)))
        .bind(("section", section_record(section)))
        .bind(("lesson", lesson_record(&key)))
        .bind(("title", clean(title)))
        .bind(("kind", kind.key().to_string()))
        .await
        .map_err(internal("add lesson"))?;
    check(res, "add lesson")?;
    Ok(key)
}

/// Saves a lesson's text (and, for a quiz, replaces its questions), in one transaction.
pub async fn update_lesson(
    db: &Db,
    lesson: &str,
    title: &str,
    body: &str,
    video_secs: Option<f64>,
    questions: Option<(&[QuestionBundle], Option<u32>)>,
) -> Result<(), AppError> {
    let attempts = questions.and_then(|(_, a)| a).map(i64::from);
    let questions = questions.map(|(q, _)| q);
    let questions: Option<Vec<QuestionIn>> = questions.map(|qs| {
        qs.iter()
            .enumerate()
            .map(|(qi, q)| QuestionIn {
                position: qi as i64,
                prompt: clean(&q.prompt),
                choices: q.choices.iter().map(|c| clean(c)).collect(),
                correct: q.correct.iter().map(|c| i64::from(*c)).collect(),
                explanation: clean(&q.explanation),
            })
            .collect()
    });
    let res = db
        .query(
            "BEGIN TRANSACTION;
             UPDATE $lesson SET title = $title, body = $body, video_secs = $video_secs;
             UPDATE (SELECT VALUE course FROM ONLY $lesson) SET recount = true;
             IF $questions != NONE {
                UPDATE $lesson SET quiz_attempts = $attempts;
                DELETE question WHERE lesson = $lesson;
                FOR $q IN $questions {
                    CREATE question SET lesson = $lesson, position = $q.position,
                        prompt = $q.prompt, choices = $q.choices, correct = $q.correct,
                        explanation = $q.explanation;
                };
             };
             COMMIT TRANSACTION;",
        )
        .bind(("lesson", lesson_record(lesson)))
        .bind(("title", clean(title)))
        .bind(("body", clean(body)))
        .bind(("video_secs", video_secs))
        .bind(("questions", questions))
        .bind(("attempts", attempts))
        .await
        .map_err(internal("update lesson"))?;
    check(res, "update lesson")
}

/// Sets a lesson's video; returns the one it replaced (whose file the caller removes).
pub async fn set_video(db: &Db, lesson: &str, src: &str) -> Result<Option<String>, AppError> {
    let mut res = db
        .query("UPDATE $lesson SET video_src = $src RETURN VALUE $before.video_src")
        .bind(("lesson", lesson_record(lesson)))
        .bind(("src", src.to_string()))
        .await
        .map_err(internal("set video"))?;
    let before: Vec<Option<String>> = res.take(0).map_err(internal("set video"))?;
    Ok(before.into_iter().flatten().next())
}

/// Who may fetch a stored lesson file (`/media/<name>`).
#[derive(Clone, Debug, SurrealValue)]
pub struct MediaAccess {
    pub published: bool,
    pub author_ids: Vec<String>,
}

/// The course facts that decide who may fetch the stored file `name` (a lesson's video or
/// captions); `None` when no lesson uses it.
pub async fn media_access(db: &Db, name: &str) -> Result<Option<MediaAccess>, AppError> {
    const FIELDS: &str = "course.published AS published, \
        course.authors.map(|$a| record::id($a)) AS author_ids";
    let mut res = db
        .query(format!(
            "SELECT {FIELDS} FROM lesson WHERE video_src = $name LIMIT 1;
             SELECT {FIELDS} FROM lesson WHERE captions_src = $name LIMIT 1;"
        ))
        .bind(("name", name.to_string()))
        .await
        .map_err(internal("media access"))?;
    let video: Vec<MediaAccess> = res.take(0).map_err(internal("media access"))?;
    let captions: Vec<MediaAccess> = res.take(1).map_err(internal("media access"))?;
    Ok(video.into_iter().chain(captions).next())
}

/// Swaps two lessons' places (both in one section), atomically.
pub async fn swap_lessons(db: &Db, a: &LessonRow, b: &LessonRow) -> Result<(), AppError> {
    let res = db
        .query(
            "BEGIN TRANSACTION;
             UPDATE $a SET position = $pb;
             UPDATE $b SET position = $pa;
             COMMIT TRANSACTION;",
        )
        .bind(("a", lesson_record(&a.id)))
        .bind(("b", lesson_record(&b.id)))
        .bind(("pa", a.position))
        .bind(("pb", b.position))
        .await
        .map_err(internal("swap lessons"))?;
    check(res, "swap lessons")
}

pub async fn delete_lesson(db: &Db, lesson: &str) -> Result<(), AppError> {
    let res = db
        .query(
            "BEGIN TRANSACTION;
             UPDATE (SELECT VALUE course FROM ONLY $lesson) SET recount = true;
             DELETE question WHERE lesson = $lesson;
             DELETE exercise WHERE lesson = $lesson;
             DELETE $lesson;
             COMMIT TRANSACTION;",
        )
        .bind(("lesson", lesson_record(lesson)))
        .await
        .map_err(internal("delete lesson"))?;
    check(res, "delete lesson")
}

/// Users by email (for import), skipping unknown addresses.
pub async fn users_by_email(db: &Db, emails: &[String]) -> Result<Vec<UserId>, AppError> {
    let mut res = db
        .query("SELECT VALUE record::id(id) FROM user WHERE email IN $emails")
        .bind(("emails", emails.to_vec()))
        .await
        .map_err(internal("users by email"))?;
    let ids: Vec<String> = res.take(0).map_err(internal("users by email"))?;
    Ok(ids.into_iter().map(UserId).collect())
}

#[derive(Debug, SurrealValue)]
struct CountRow {
    count: i64,
}

pub async fn course_count(db: &Db) -> Result<i64, AppError> {
    let mut res = db
        .query("SELECT count() AS count FROM course GROUP ALL")
        .await
        .map_err(internal("course count"))?;
    let row: Option<CountRow> = res.take(0).map_err(internal("course count"))?;
    Ok(row.map_or(0, |r| r.count))
}

/// A unique index refused a second copy of a row a concurrent request just wrote: the
/// outcome the caller wanted already holds.
fn already_ok(result: Result<(), AppError>) -> Result<(), AppError> {
    match result {
        Err(AppError::Invalid {
            problem: Problem::SlugTaken,
        }) => Ok(()),
        other => other,
    }
}

/// Statement errors as an `AppError`; a unique index refusing a write means the slug is taken
/// (or, for the callers that use [`already_ok`], that a concurrent request wrote the row).
fn check(res: surrealdb::IndexedResults, context: &'static str) -> Result<(), AppError> {
    fail_on_errors(res, context, Problem::SlugTaken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recount_caps_each_video_and_exercise_and_keeps_the_best_attempt() {
        let videos = vec![
            CapRow {
                id: "v1".into(),
                video_secs: Some(100.0),
            },
            CapRow {
                id: "v2".into(),
                video_secs: Some(300.0),
            },
        ];
        let exercises = vec![
            TestsRow {
                id: "e1".into(),
                tests_json: "[{},{},{}]".into(),
            },
            TestsRow {
                id: "e2".into(),
                tests_json: "[{},{}]".into(),
            },
        ];
        let watches = vec![
            // Watched past the end (seeking back and forth): capped at the length.
            WatchRow {
                user: "u".into(),
                lesson: "v1".into(),
                watched_secs: 150.0,
            },
            WatchRow {
                user: "u".into(),
                lesson: "v2".into(),
                watched_secs: 100.0,
            },
            // A reading: no video time.
            WatchRow {
                user: "u".into(),
                lesson: "t1".into(),
                watched_secs: 30.0,
            },
        ];
        let attempts = vec![
            SubmittedRow {
                user: "u".into(),
                exercise: "e1".into(),
                tests_passed: 1,
            },
            SubmittedRow {
                user: "u".into(),
                exercise: "e1".into(),
                tests_passed: 3,
            },
            SubmittedRow {
                user: "u".into(),
                exercise: "e1".into(),
                tests_passed: 2,
            },
            SubmittedRow {
                user: "w".into(),
                exercise: "e2".into(),
                tests_passed: 2,
            },
        ];
        let t = tally(&videos, &exercises, &watches, &attempts);
        assert_eq!(t.caps.values().sum::<f64>(), 400.0);
        assert_eq!(t.counts.values().sum::<i64>(), 5);
        assert_eq!(t.parts["u"], (200.0, 3));
        assert_eq!(t.parts["w"], (0.0, 2));
        assert_eq!(t.best[&("u", "e1")], 3);
    }
}
