//! Exercise server functions: the learner's view, submissions graded by the server, review
//! comments and authoring. Hidden tests and reference solutions leave the server
//! only for the course's authors and admins.

use leptos::prelude::*;

use crate::{
    error::AppError,
    exercises::model::{ExerciseDraft, ExerciseView, SubmissionView, Validation},
};

#[cfg(feature = "ssr")]
pub mod backend {
    pub use crate::{
        accounts::session::{self, Authenticated, require_user},
        courses::{
            api::backend::{can_edit, visible_lesson},
            model::LessonKind,
            repo::{self as course_repo, CourseRow, LessonRow},
        },
        error::{AppError, Problem},
        exercises::{
            grading::{grade, grade_solution},
            model::{
                CODE_CAP, COMMENT_MAX, CommentView, ExerciseSpec, StoredResult, SubmissionSummary,
                diff_lines,
            },
            repo::{self, ExerciseRow, NewSubmission, SubmissionRow, SummaryRow},
        },
        state::AppState,
        ui::markdown,
    };

    /// A submission's summary; the grading time only for reviewers (see `grading_ms`).
    pub fn summary_for(row: &SummaryRow, reviewer: bool) -> SubmissionSummary {
        let mut s = summary(row);
        if !reviewer {
            s.grading_ms = 0;
        }
        s
    }

    pub fn summary(row: &SummaryRow) -> SubmissionSummary {
        SubmissionSummary {
            id: row.id.clone(),
            created_at: row.created_at.to_rfc3339(),
            passed: u32::try_from(row.passed).unwrap_or(0),
            total: u32::try_from(row.total).unwrap_or(0),
            tests_passed: u32::try_from(row.tests_passed).unwrap_or(0),
            tests_total: u32::try_from(row.tests_total).unwrap_or(0),
            grading_ms: u64::try_from(row.grading_ms).unwrap_or(0),
        }
    }

    pub fn summary_of(row: &SubmissionRow, reviewer: bool) -> SubmissionSummary {
        summary_for(
            &SummaryRow {
                id: row.id.clone(),
                grading_ms: row.grading_ms,
                passed: row.passed,
                total: row.total,
                tests_passed: row.tests_passed,
                tests_total: row.tests_total,
                created_at: row.created_at,
            },
            reviewer,
        )
    }

    /// The exercise of a lesson the caller may see.
    pub async fn visible_exercise(
        state: &AppState,
        lesson_id: &str,
        who: Option<&Authenticated>,
    ) -> Result<(CourseRow, ExerciseRow), AppError> {
        let (course, lesson) = visible_lesson(state, lesson_id, who).await?;
        if lesson.kind() != LessonKind::Exercise {
            return Err(AppError::NotFound);
        }
        let exercise = repo::exercise_of_lesson(&state.db, &lesson.id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok((course, exercise))
    }

    /// A submission the caller may see: their own, or any in a course they author (mentors of
    /// the course) or as an admin. Others get `NotFound`: ids reveal nothing.
    pub async fn visible_submission(
        state: &AppState,
        id: &str,
        who: &Authenticated,
    ) -> Result<(SubmissionRow, Reviewer), AppError> {
        if !crate::ids::is_record_key(id) {
            return Err(AppError::NotFound);
        }
        let row = repo::submission(&state.db, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let course = course_repo::course_by_id(&state.db, &row.course)
            .await?
            .ok_or(AppError::NotFound)?;
        // The course's authors review; so does the learner's own mentor (a mentorship, while
        // they still hold the mentor role), who sees hidden tests only in courses they author.
        let author = can_edit(&course, Some(who));
        let reviewer = author
            || (crate::accounts::model::Capabilities::can_mentor(who.user.roles.as_slice())
                && crate::mentoring::repo::is_mentor_of(&state.db, &who.user.id.0, &row.learner)
                    .await?);
        if row.learner == who.user.id.0 || reviewer {
            Ok((row, Reviewer { reviewer, author }))
        } else {
            Err(AppError::NotFound)
        }
    }

    /// What the caller may do with a submission they can see.
    #[derive(Clone, Copy, Debug)]
    pub struct Reviewer {
        /// Comment on it and see its grading time (authors and the learner's mentor).
        pub reviewer: bool,
        /// See its hidden tests (the course's authors and admins).
        pub author: bool,
    }

    pub fn stored_results(row: &SubmissionRow) -> Result<Vec<StoredResult>, AppError> {
        serde_json::from_str(&row.results_json).map_err(|e| {
            tracing::error!(error = %e, submission = %row.id, "stored results do not parse");
            AppError::Internal
        })
    }

    /// An exercise lesson of a course the caller authors (or any, for an admin).
    pub async fn authored_exercise_lesson(
        state: &AppState,
        lesson_id: &str,
    ) -> Result<(CourseRow, LessonRow), AppError> {
        let who = require_user().await?;
        let (course, lesson) = visible_lesson(state, lesson_id, Some(&who)).await?;
        if !can_edit(&course, Some(&who)) {
            return Err(AppError::Forbidden);
        }
        if lesson.kind() != LessonKind::Exercise {
            return Err(AppError::NotFound);
        }
        Ok((course, lesson))
    }

    pub fn comment_body(body: &str) -> Result<String, AppError> {
        let body = body.trim();
        if body.is_empty() {
            return Err(Problem::CommentEmpty.into());
        }
        if body.chars().count() > COMMENT_MAX {
            return Err(Problem::CommentTooLong.into());
        }
        Ok(body.to_string())
    }
}

#[cfg(feature = "ssr")]
use backend::*;

/// The exercise of a lesson as the caller may see it: prompt data, starter code, visible tests,
/// and the caller's attempts.
#[server(endpoint = "get_exercise")]
pub async fn get_exercise(lesson_id: String) -> Result<ExerciseView, AppError> {
    let state = AppState::get()?;
    let who = session::current().await?;
    let (course, exercise) = visible_exercise(&state, &lesson_id, who.as_ref()).await?;
    let enrolled = match &who {
        Some(w) => course_repo::enrolment(&state.db, &w.user.id, &course.id)
            .await?
            .is_some(),
        None => false,
    };
    let (last_code, submissions) = match &who {
        Some(w) => (
            repo::last_code(&state.db, &w.user.id, &exercise.id).await?,
            repo::attempts(&state.db, &w.user.id, &exercise.id, 50)
                .await?
                .iter()
                .map(|r| summary_for(r, false))
                .collect(),
        ),
        None => (None, Vec::new()),
    };
    let spec = &exercise.spec;
    Ok(ExerciseView {
        lesson_id: exercise.lesson.clone(),
        language: spec.language,
        starter: spec.starter.clone(),
        visible: spec.visible_tests(),
        hidden_count: spec.tests.iter().filter(|t| t.hidden).count(),
        limits: spec.limits,
        can_submit: enrolled,
        can_author: can_edit(&course, who.as_ref()),
        last_code,
        draft_key: format!(
            "pairwise:draft:{}:{}",
            who.as_ref().map_or("anonymous", |w| w.user.id.0.as_str()),
            exercise.lesson
        ),
        submissions,
    })
}

/// Grades `code` against every test, hidden ones too, in the server's grader, stores the
/// verdicts with the submission, and opens the submission's page.
#[server(endpoint = "submit_exercise")]
pub async fn submit_exercise(lesson_id: String, code: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let (course, exercise) = visible_exercise(&state, &lesson_id, Some(&who)).await?;
    if course_repo::enrolment(&state.db, &who.user.id, &course.id)
        .await?
        .is_none()
    {
        return Err(Problem::NotEnrolled.into());
    }
    if code.len() > CODE_CAP {
        return Err(Problem::CodeTooLong.into());
    }
    let Some(_slot) = state.grading_per_user.enter(&who.user.id.0) else {
        return Err(Problem::GradingBusy.into());
    };
    let spec = &exercise.spec;
    let graded = grade(
        state.grader.as_ref(),
        &who.user.id.0,
        spec.language,
        &code,
        &spec.tests,
        spec.limits,
    )
    .await?;
    let id = repo::create_submission(
        &state.db,
        NewSubmission {
            learner: &who.user.id,
            exercise: &exercise,
            code: &code,
            results: &graded.results,
            passed: graded.passed,
            total: graded.total,
            grading_ms: graded.millis,
            now: state.clock.now(),
        },
    )
    .await?;
    state.awards.earned(&state, &who.user.id.0).await;
    leptos_axum::redirect(&format!("/submissions/{id}"));
    Ok(())
}

/// A submission with its verdicts (hidden tests redacted for the learner), line comments, the
/// learner's other attempts, and optionally the diff from attempt `against`.
#[server(endpoint = "get_submission")]
pub async fn get_submission(id: String, against: String) -> Result<SubmissionView, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let (row, access) = visible_submission(&state, &id, &who).await?;
    let reviewer = access.reviewer;
    let lesson = course_repo::lesson(&state.db, &row.lesson).await?;
    let results = stored_results(&row)?
        .iter()
        .enumerate()
        .map(|(i, r)| r.view(i, access.author))
        .collect();
    let comments = repo::comments(&state.db, &row.id)
        .await?
        .into_iter()
        .map(|c| CommentView {
            mine: c.author == who.user.id.0,
            id: c.id,
            line: u32::try_from(c.line).unwrap_or(1),
            body_html: markdown::render(&c.body),
            body: c.body,
            author_name: c.author_name,
            resolved: c.resolved,
            created_at: c.created_at.to_rfc3339(),
        })
        .collect();
    let learner = crate::ids::UserId(row.learner.clone());
    let attempts: Vec<SubmissionSummary> = repo::attempts(&state.db, &learner, &row.exercise, 50)
        .await?
        .iter()
        .map(|r| summary_for(r, reviewer))
        .collect();
    let diff = match against.trim() {
        "" => None,
        other => {
            // Only another attempt of the same learner at the same exercise.
            let (base, _) = visible_submission(&state, other, &who).await?;
            if base.learner != row.learner || base.exercise != row.exercise {
                return Err(AppError::NotFound);
            }
            Some((base.id.clone(), diff_lines(&base.code, &row.code)))
        }
    };
    Ok(SubmissionView {
        summary: summary_of(&row, reviewer),
        lesson_id: row.lesson.clone(),
        lesson_title: lesson.map(|l| l.title).unwrap_or_default(),
        learner_name: row.learner_name.clone(),
        code: row.code.clone(),
        results,
        comments,
        can_review: reviewer,
        mine: row.learner == who.user.id.0,
        attempts,
        diff,
    })
}

/// A mentor of the course (or an admin) comments on one line of a submission; the learner is
/// notified in the same transaction.
#[server(endpoint = "add_review_comment")]
pub async fn add_review_comment(
    submission_id: String,
    line: String,
    body: String,
) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let (row, Reviewer { reviewer, .. }) = visible_submission(&state, &submission_id, &who).await?;
    if !reviewer {
        return Err(AppError::Forbidden);
    }
    let lines = row.code.lines().count().max(1);
    let line: u32 = line
        .trim()
        .parse()
        .ok()
        .filter(|l| (1..=lines).contains(&(*l as usize)))
        .ok_or(Problem::LineInvalid)?;
    let body = comment_body(&body)?;
    let notice = crate::notify::model::Notice::ReviewComment {
        by: who.user.display_name.clone(),
        line,
    };
    repo::add_comment(
        &state.db,
        &row,
        &who.user.id,
        line,
        &body,
        &notice,
        state.clock.now(),
    )
    .await?;
    leptos_axum::redirect(&format!("/submissions/{}#line-{line}", row.id));
    Ok(())
}

/// The comment's author edits it, or any reviewer marks it resolved (or open again).
#[server(endpoint = "update_review_comment")]
pub async fn update_review_comment(
    comment_id: String,
    body: String,
    resolved: Option<String>,
) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    if !crate::ids::is_record_key(&comment_id) {
        return Err(AppError::NotFound);
    }
    let comment = repo::comment(&state.db, &comment_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (row, Reviewer { reviewer, .. }) =
        visible_submission(&state, &comment.submission, &who).await?;
    if !reviewer {
        return Err(AppError::Forbidden);
    }
    let body = if body.trim().is_empty() || body.trim() == comment.body {
        comment.body.clone()
    } else if comment.author == who.user.id.0 {
        comment_body(&body)?
    } else {
        // Only the author rewrites their words; others may only resolve.
        return Err(AppError::Forbidden);
    };
    repo::update_comment(
        &state.db,
        &comment.id,
        &body,
        resolved.is_some(),
        state.clock.now(),
    )
    .await?;
    leptos_axum::redirect(&format!("/submissions/{}#line-{}", row.id, comment.line));
    Ok(())
}

/// The exercise of a lesson in its TOML form, for its authors.
#[server(endpoint = "get_exercise_draft")]
pub async fn get_exercise_draft(lesson_id: String) -> Result<ExerciseDraft, AppError> {
    let state = AppState::get()?;
    let (course, lesson) = authored_exercise_lesson(&state, &lesson_id).await?;
    let existing = repo::exercise_of_lesson(&state.db, &lesson.id).await?;
    let toml = match &existing {
        Some(e) => toml::to_string(&e.spec.to_file()).map_err(|_| AppError::Internal)?,
        None => NEW_EXERCISE.to_string(),
    };
    Ok(ExerciseDraft {
        lesson_id: lesson.id,
        lesson_title: lesson.title,
        course_slug: course.slug,
        toml,
        validated_at: existing.and_then(|e| e.validated_at.map(|t| t.to_rfc3339())),
    })
}

#[cfg(feature = "ssr")]
const NEW_EXERCISE: &str = r#"language = "javascript"
test_time_limit_ms = 2000
total_time_limit_ms = 10000
starter = '''
function double(n) {
  // your code here
}
'''
solution = '''
function double(n) {
  return n * 2;
}
'''

[[test]]
name = "doubles 2"
call = "double(2)"
expected = '4'

[[test]]
name = "doubles a negative number"
call = "double(-3)"
expected = '-6'
hidden = true
"#;

/// Runs the reference solution through the server grader. With `save`, stores the exercise,
/// but only when the solution passes every test: an exercise nobody can pass is never published.
#[server(endpoint = "validate_exercise")]
pub async fn validate_exercise(
    lesson_id: String,
    toml: String,
    save: Option<String>,
) -> Result<Validation, AppError> {
    let state = AppState::get()?;
    let (course, lesson) = authored_exercise_lesson(&state, &lesson_id).await?;
    if toml.len() > 4 * CODE_CAP {
        return Err(Problem::CodeTooLong.into());
    }
    let spec =
        ExerciseSpec::from_toml(&toml).map_err(|detail| AppError::ExerciseInvalid { detail })?;
    // One check of a reference solution per author at a time, beside their one submission.
    let who = require_user().await?;
    let Some(_slot) = state
        .grading_per_user
        .enter(&format!("{}:validation", who.user.id.0))
    else {
        return Err(Problem::ValidationBusy.into());
    };
    let graded = grade_solution(state.grader.as_ref(), &who.user.id.0, &spec).await?;
    let all_passed = graded.all_passed();
    let saved = all_passed && save.is_some();
    if saved {
        repo::save_exercise(&state.db, &lesson.id, &course.id, &spec, state.clock.now()).await?;
        crate::courses::repo::recount_course(&state.db, &course.id).await?;
    }
    Ok(Validation {
        results: graded
            .results
            .iter()
            .enumerate()
            .map(|(i, r)| r.view(i, true))
            .collect(),
        all_passed,
        saved,
    })
}
