//! Exercise queries (server only): exercises, submissions, review comments.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use crate::{
    courses::repo::MARK_DONE,
    db::{
        Db, course_record, fail_on_errors, internal, lesson_record, user_record, write_with_retry,
    },
    error::{AppError, Problem},
    exercises::model::{ExerciseSpec, Language, Limits, StoredResult, TestCase},
    ids::UserId,
    notify::{
        model::{Notice, NoticeKind},
        repo::{bind_notice, notify_stmt},
    },
};

fn exercise_record(id: &str) -> RecordId {
    RecordId::new("exercise", id)
}
fn submission_record(id: &str) -> RecordId {
    RecordId::new("submission", id)
}
fn comment_record(id: &str) -> RecordId {
    RecordId::new("review_comment", id)
}

fn check(res: surrealdb::IndexedResults, context: &'static str) -> Result<(), AppError> {
    // The only unique index here is one exercise per lesson, which writes never race on.
    fail_on_errors(res, context, Problem::TitleEmpty)
}

/// An exercise as the import transaction writes it.
#[derive(Clone, Debug, SurrealValue)]
pub struct ExerciseIn {
    /// `exercise:<lesson key>`: one exercise per lesson, found again after a re-import.
    pub id: RecordId,
    pub language: String,
    pub starter: String,
    pub solution: String,
    pub tests_json: String,
    pub test_ms: i64,
    pub total_ms: i64,
}

impl ExerciseIn {
    pub fn of(lesson: &str, spec: &ExerciseSpec) -> Self {
        ExerciseIn {
            id: exercise_record(lesson),
            language: spec.language.key().into(),
            starter: spec.starter.clone(),
            solution: spec.solution.clone(),
            tests_json: serde_json::to_string(&spec.tests).unwrap_or_else(|_| "[]".into()),
            test_ms: spec.limits.test_ms.into(),
            total_ms: spec.limits.total_ms.into(),
        }
    }
}

#[derive(Clone, Debug, SurrealValue)]
struct ExerciseRowDb {
    id: String,
    lesson: String,
    course: String,
    language: String,
    starter: String,
    solution: String,
    tests_json: String,
    test_ms: i64,
    total_ms: i64,
    validated_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
pub struct ExerciseRow {
    pub id: String,
    pub lesson: String,
    pub course: String,
    pub spec: ExerciseSpec,
    pub validated_at: Option<DateTime<Utc>>,
}

impl ExerciseRowDb {
    fn parse(self) -> Result<ExerciseRow, AppError> {
        let tests: Vec<TestCase> = serde_json::from_str(&self.tests_json).map_err(|e| {
            tracing::error!(error = %e, exercise = %self.id, "stored tests do not parse");
            AppError::Internal
        })?;
        let limits = Limits::parse(
            u32::try_from(self.test_ms).unwrap_or(0),
            u32::try_from(self.total_ms).unwrap_or(0),
        )
        .unwrap_or_default();
        let language = Language::from_key(&self.language).ok_or_else(|| {
            tracing::error!(exercise = %self.id, language = %self.language, "unknown language");
            AppError::Internal
        })?;
        Ok(ExerciseRow {
            id: self.id,
            lesson: self.lesson,
            course: self.course,
            spec: ExerciseSpec {
                language,
                starter: self.starter,
                solution: self.solution,
                tests,
                limits,
            },
            validated_at: self.validated_at,
        })
    }
}

const EXERCISE_FIELDS: &str = "record::id(id) AS id, record::id(lesson) AS lesson, \
    record::id(course) AS course, language, starter, solution, tests_json, test_ms, total_ms, \
    validated_at";

pub async fn exercise_of_lesson(db: &Db, lesson: &str) -> Result<Option<ExerciseRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {EXERCISE_FIELDS} FROM exercise WHERE lesson = $lesson LIMIT 1"
        ))
        .bind(("lesson", lesson_record(lesson)))
        .await
        .map_err(internal("exercise of lesson"))?;
    let row: Option<ExerciseRowDb> = res.take(0).map_err(internal("exercise of lesson"))?;
    row.map(ExerciseRowDb::parse).transpose()
}

pub async fn spec_of_lesson(db: &Db, lesson: &str) -> Result<Option<ExerciseSpec>, AppError> {
    Ok(exercise_of_lesson(db, lesson).await?.map(|e| e.spec))
}

/// Creates or replaces the exercise of a lesson (one statement: two authors saving at once
/// leave one of their versions, never an error); the caller has just seen its reference
/// solution pass every test.
pub async fn save_exercise(
    db: &Db,
    lesson: &str,
    course: &str,
    spec: &ExerciseSpec,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let e = ExerciseIn::of(lesson, spec);
    let res = db
        .query(
            "BEGIN TRANSACTION;
             UPSERT $e.id SET lesson = $lesson, course = $course, language = $e.language,
                starter = $e.starter, solution = $e.solution, tests_json = $e.tests_json,
                test_count = $count, test_ms = $e.test_ms, total_ms = $e.total_ms,
                validated_at = $now, updated_at = $now;
             -- N changed: the course's learners are counted again (see recount_course).
             UPDATE $course SET recount = true;
             COMMIT TRANSACTION;",
        )
        .bind(("count", crate::courses::repo::test_count(&e.tests_json)))
        .bind(("lesson", lesson_record(lesson)))
        .bind(("course", course_record(course)))
        .bind(("e", e))
        .bind(("now", now))
        .await
        .map_err(internal("save exercise"))?;
    check(res, "save exercise")
}

/// A graded submission to store.
pub struct NewSubmission<'a> {
    pub learner: &'a UserId,
    pub exercise: &'a ExerciseRow,
    pub code: &'a str,
    pub results: &'a [StoredResult],
    pub passed: u32,
    pub total: u32,
    pub grading_ms: u64,
    pub now: DateTime<Utc>,
}

#[derive(Clone, Debug, SurrealValue)]
struct SubmissionIn {
    learner: RecordId,
    exercise: RecordId,
    lesson: RecordId,
    course: RecordId,
    code: String,
    results_json: String,
    passed: i64,
    total: i64,
    tests_passed: i64,
    tests_total: i64,
    grading_ms: i64,
    created_at: DateTime<Utc>,
}

/// Stores the submission with its verdicts, and marks the lesson done when every test passed,
/// in one transaction: a score is never recorded without its submission or the reverse.
/// Concurrent submissions of one learner can collide on the lesson's progress row; the losing
/// transaction changed nothing and is retried, so a graded submission is never dropped.
pub async fn create_submission(db: &Db, s: NewSubmission<'_>) -> Result<String, AppError> {
    let id = crate::db::new_key();
    let tests_passed = s.results.iter().filter(|r| r.verdict.passed).count() as i64;
    let all_passed = tests_passed == s.results.len() as i64;
    let row = SubmissionIn {
        learner: user_record(s.learner),
        exercise: exercise_record(&s.exercise.id),
        lesson: lesson_record(&s.exercise.lesson),
        course: course_record(&s.exercise.course),
        code: s.code.to_string(),
        results_json: serde_json::to_string(s.results).map_err(|_| AppError::Internal)?,
        passed: i64::from(s.passed),
        total: i64::from(s.total),
        tests_passed,
        tests_total: s.results.len() as i64,
        grading_ms: i64::try_from(s.grading_ms).unwrap_or(i64::MAX),
        created_at: s.now,
    };
    // The learner's best attempt at the exercise, and n in their course's score, move
    // with this submission when it beats the best (capped at the exercise's tests).
    let query = format!(
        "BEGIN TRANSACTION;
         CREATE $id CONTENT $row;
         IF $all_passed {{ {MARK_DONE} }};
         LET $prev = (SELECT VALUE best FROM ONLY $best) ?? 0;
         IF $row.tests_passed > $prev {{
            LET $count = (SELECT VALUE test_count FROM ONLY $row.exercise) ?? 0;
            UPSERT $best SET user = $user, exercise = $row.exercise, course = $course,
                best = $row.tests_passed;
            UPSERT $parts SET user = $user, course = $course,
                tests_passed = (tests_passed ?? 0)
                    + math::min([$row.tests_passed, $count]) - math::min([$prev, $count]);
         }};
         COMMIT TRANSACTION;"
    );
    write_with_retry("create submission", Problem::GradingBusy, || {
        db.query(query.as_str())
            .bind(("id", submission_record(&id)))
            .bind(("row", row.clone()))
            .bind(("all_passed", all_passed))
            .bind(("user", row.learner.clone()))
            .bind(("lesson", row.lesson.clone()))
            .bind(("course", row.course.clone()))
            .bind(("now", row.created_at))
            .bind((
                "best",
                RecordId::new(
                    "exercise_best",
                    format!("{}_{}", s.learner.0, s.exercise.id),
                ),
            ))
            .bind((
                "parts",
                crate::courses::repo::score_parts_record(s.learner, &s.exercise.course),
            ))
            .into_future()
    })
    .await?;
    Ok(id)
}

#[derive(Clone, Debug, SurrealValue)]
pub struct SubmissionRow {
    pub id: String,
    pub grading_ms: i64,
    pub learner: String,
    pub learner_name: String,
    pub lesson: String,
    pub course: String,
    pub exercise: String,
    pub code: String,
    pub results_json: String,
    pub passed: i64,
    pub total: i64,
    pub tests_passed: i64,
    pub tests_total: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct SummaryRow {
    pub id: String,
    pub grading_ms: i64,
    pub passed: i64,
    pub total: i64,
    pub tests_passed: i64,
    pub tests_total: i64,
    pub created_at: DateTime<Utc>,
}

/// A learner's attempts at an exercise, newest first.
pub async fn attempts(
    db: &Db,
    learner: &UserId,
    exercise: &str,
    limit: i64,
) -> Result<Vec<SummaryRow>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(id) AS id, grading_ms, passed, total, tests_passed, tests_total,
                created_at
             FROM submission WHERE learner = $learner AND exercise = $exercise
             ORDER BY created_at DESC LIMIT $limit",
        )
        .bind(("learner", user_record(learner)))
        .bind(("exercise", exercise_record(exercise)))
        .bind(("limit", limit))
        .await
        .map_err(internal("attempts"))?;
    res.take(0).map_err(internal("attempts"))
}

pub async fn submission(db: &Db, id: &str) -> Result<Option<SubmissionRow>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(id) AS id, record::id(learner) AS learner,
                learner.display_name AS learner_name, record::id(lesson) AS lesson,
                record::id(course) AS course, record::id(exercise) AS exercise, code, grading_ms,
                results_json, passed, total, tests_passed, tests_total, created_at
             FROM ONLY $id",
        )
        .bind(("id", submission_record(id)))
        .await
        .map_err(internal("submission"))?;
    res.take(0).map_err(internal("submission"))
}

/// The code of the learner's latest attempt, to start from.
pub async fn last_code(
    db: &Db,
    learner: &UserId,
    exercise: &str,
) -> Result<Option<String>, AppError> {
    let mut res = db
        .query(
            "SELECT VALUE code FROM submission WHERE learner = $learner AND exercise = $exercise
             ORDER BY created_at DESC LIMIT 1",
        )
        .bind(("learner", user_record(learner)))
        .bind(("exercise", exercise_record(exercise)))
        .await
        .map_err(internal("last code"))?;
    let rows: Vec<String> = res.take(0).map_err(internal("last code"))?;
    Ok(rows.into_iter().next())
}

#[derive(Clone, Debug, SurrealValue)]
pub struct CommentRow {
    pub id: String,
    pub submission: String,
    pub author: String,
    pub author_name: String,
    pub line: i64,
    pub body: String,
    pub resolved: bool,
    pub created_at: DateTime<Utc>,
}

const COMMENT_FIELDS: &str = "record::id(id) AS id, record::id(submission) AS submission, \
    record::id(author) AS author, author.display_name AS author_name, line, body, resolved, created_at";

pub async fn comments(db: &Db, submission: &str) -> Result<Vec<CommentRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {COMMENT_FIELDS} FROM review_comment WHERE submission = $s
             ORDER BY line, created_at"
        ))
        .bind(("s", submission_record(submission)))
        .await
        .map_err(internal("comments"))?;
    res.take(0).map_err(internal("comments"))
}

pub async fn comment(db: &Db, id: &str) -> Result<Option<CommentRow>, AppError> {
    let mut res = db
        .query(format!("SELECT {COMMENT_FIELDS} FROM ONLY $id"))
        .bind(("id", comment_record(id)))
        .await
        .map_err(internal("comment"))?;
    res.take(0).map_err(internal("comment"))
}

/// Adds a line comment and tells the learner, in one transaction.
pub async fn add_comment(
    db: &Db,
    submission: &SubmissionRow,
    author: &UserId,
    line: u32,
    body: &str,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let query = format!(
        "BEGIN TRANSACTION;
         CREATE review_comment SET submission = $s, author = $author, line = $line,
            body = $body, resolved = false, created_at = $now, updated_at = $now;
         {}
         COMMIT TRANSACTION;",
        notify_stmt("$learner", NoticeKind::Review, "$notice", "$link")
    );
    let res = db
        .query(query.as_str())
        .bind(("s", submission_record(&submission.id)))
        .bind(("author", user_record(author)))
        .bind(("line", i64::from(line)))
        .bind(("body", body.to_string()))
        .bind((
            "learner",
            RecordId::new("user", submission.learner.as_str()),
        ))
        .bind(("notice", bind_notice(notice)))
        .bind((
            "link",
            format!("/submissions/{}#line-{line}", submission.id),
        ))
        .bind(("now", now))
        .await
        .map_err(internal("add comment"))?;
    check(res, "add comment")
}

pub async fn update_comment(
    db: &Db,
    id: &str,
    body: &str,
    resolved: bool,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let res = db
        .query("UPDATE $id SET body = $body, resolved = $resolved, updated_at = $now")
        .bind(("id", comment_record(id)))
        .bind(("body", body.to_string()))
        .bind(("resolved", resolved))
        .bind(("now", now))
        .await
        .map_err(internal("update comment"))?;
    check(res, "update comment")
}
