//! Course server functions. Each authenticates where needed, parses its input, checks the
//! caller may see or change the object, calls `repo`, and returns only what the caller may see.

// A server function takes its form's fields as arguments, so a long form means many of them
// (the macro's generated client code cannot carry a per-function expectation).
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::{
    courses::model::{
        CatalogPage, CatalogQuery, CourseDetail, CourseDraft, LessonDraft, LessonView, MyCourse,
        QuizResult,
    },
    error::AppError,
};

#[cfg(feature = "ssr")]
pub(crate) mod backend {
    use crate::{courses::model::CourseCard, error::AppError};

    pub use crate::{
        accounts::{
            model::Role,
            session::{self, Authenticated, require_role, require_user},
        },
        courses::{
            model::{
                CourseInput, CourseProgress, Intervals, LessonItem, LessonKind, Level,
                QUIZ_PASS_FRACTION, QuestionResult, QuestionView, SectionView, Slug,
                VIDEO_DONE_FRACTION, VideoView, grade, parse_played,
            },
            repo::{self, CardRow, CourseRow, LessonRow},
        },
        error::Problem,
        state::AppState,
        ui::markdown,
    };

    pub use crate::search::marked_html;

    /// The syllabus as pages show it: sections in order, each with its lessons.
    pub fn section_views(
        sections: &[repo::SectionRow],
        lessons: &[LessonRow],
        done: &[String],
    ) -> Vec<SectionView> {
        sections
            .iter()
            .map(|s| SectionView {
                id: s.id.clone(),
                title: s.title.clone(),
                lessons: lessons
                    .iter()
                    .filter(|l| l.section == s.id)
                    .map(|l| LessonItem {
                        id: l.id.clone(),
                        title: l.title.clone(),
                        kind: l.kind(),
                        done: done.contains(&l.id),
                    })
                    .collect(),
            })
            .collect()
    }

    pub fn card(row: CardRow) -> CourseCard {
        CourseCard {
            title_html: marked_html(row.title_hl.as_deref().unwrap_or(&row.title)),
            summary_html: marked_html(row.summary_hl.as_deref().unwrap_or(&row.summary)),
            slug: row.slug,
            title: row.title,
            tags: row.tags,
            level: Level::parse(&row.level).unwrap_or(Level::Beginner),
            language: row.language,
            enrolled: row.enrolled_count,
            rating: (row.rating_count > 0).then(|| row.rating_sum as f64 / row.rating_count as f64),
            published: row.published,
        }
    }

    pub fn card_of(c: &CourseRow) -> CourseCard {
        card(CardRow {
            id: c.id.clone(),
            slug: c.slug.clone(),
            title: c.title.clone(),
            summary: c.summary.clone(),
            tags: c.tags.clone(),
            level: c.level.clone(),
            language: c.language.clone(),
            enrolled_count: c.enrolled_count,
            rating_sum: c.rating_sum,
            rating_count: c.rating_count,
            published: c.published,
            title_hl: None,
            summary_hl: None,
        })
    }

    pub fn can_edit(course: &CourseRow, who: Option<&Authenticated>) -> bool {
        who.is_some_and(|a| course.editable_by(a))
    }

    /// A course the caller may see: published, or they may edit it. Others get `NotFound`,
    /// so drafts do not even reveal that they exist.
    pub async fn visible_course(
        state: &AppState,
        slug: &str,
        who: Option<&Authenticated>,
    ) -> Result<CourseRow, AppError> {
        let slug = Slug::parse(slug).map_err(|_| AppError::NotFound)?;
        let course = repo::course_by_slug(&state.db, slug.as_str())
            .await?
            .ok_or(AppError::NotFound)?;
        if course.published || can_edit(&course, who) {
            Ok(course)
        } else {
            Err(AppError::NotFound)
        }
    }

    /// A lesson the caller may see, with its course.
    pub async fn visible_lesson(
        state: &AppState,
        lesson_id: &str,
        who: Option<&Authenticated>,
    ) -> Result<(CourseRow, LessonRow), AppError> {
        if !crate::ids::is_record_key(lesson_id) {
            return Err(AppError::NotFound);
        }
        let lesson = repo::lesson(&state.db, lesson_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let course = repo::course_by_id(&state.db, &lesson.course)
            .await?
            .ok_or(AppError::NotFound)?;
        if course.published || can_edit(&course, who) {
            Ok((course, lesson))
        } else {
            Err(AppError::NotFound)
        }
    }

    /// The caller, who must be enrolled in `course` to record progress there.
    pub async fn enrolled_learner(
        state: &AppState,
        course: &CourseRow,
    ) -> Result<Authenticated, AppError> {
        let who = require_user().await?;
        if repo::enrolment(&state.db, &who.user.id, &course.id)
            .await?
            .is_none()
        {
            return Err(Problem::NotEnrolled.into());
        }
        Ok(who)
    }

    /// Public URL of a lesson's video: stored files live under `/media/`.
    pub fn video_url(src: &str) -> String {
        if src.starts_with("https://") {
            src.to_string()
        } else {
            format!("/media/{src}")
        }
    }

    /// The caller and a course they may edit. A course they may see but not edit is
    /// `Forbidden`; a draft they may not see stays `NotFound`.
    pub async fn editable_course(
        state: &AppState,
        slug: &str,
    ) -> Result<(Authenticated, CourseRow), AppError> {
        let who = require_user().await?;
        let slug = Slug::parse(slug).map_err(|_| AppError::NotFound)?;
        let course = repo::course_by_slug(&state.db, slug.as_str())
            .await?
            .ok_or(AppError::NotFound)?;
        if can_edit(&course, Some(&who)) {
            Ok((who, course))
        } else if course.published {
            Err(AppError::Forbidden)
        } else {
            Err(AppError::NotFound)
        }
    }

    /// A lesson whose course the caller may edit.
    pub async fn editable_lesson(
        state: &AppState,
        lesson_id: &str,
    ) -> Result<(CourseRow, LessonRow), AppError> {
        let who = require_user().await?;
        let (course, lesson) = visible_lesson(state, lesson_id, Some(&who)).await?;
        if can_edit(&course, Some(&who)) {
            Ok((course, lesson))
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Reads the quiz editor's TOML (`[[question]]` tables); errors say which line.
    pub fn parse_questions(
        text: &str,
    ) -> Result<Vec<crate::courses::bundle::QuestionBundle>, AppError> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Quiz {
            #[serde(default)]
            question: Vec<crate::courses::bundle::QuestionBundle>,
        }
        let quiz: Quiz = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            });
            AppError::BadRequest {
                detail: format!("questions, line {line}: {}", e.message().trim()),
            }
        })?;
        for (i, q) in quiz.question.iter().enumerate() {
            if q.choices.len() < 2
                || q.choices.len() > 10
                || q.correct.is_empty()
                || q.correct.iter().any(|c| *c as usize >= q.choices.len())
            {
                return Err(AppError::BadRequest {
                    detail: format!(
                        "question {}: give 2 to 10 choices and list the right ones in `correct`, counting from 0",
                        i + 1
                    ),
                });
            }
        }
        Ok(quiz.question)
    }

    pub fn questions_toml(questions: &[repo::QuestionRow]) -> String {
        #[derive(serde::Serialize)]
        struct Quiz {
            question: Vec<crate::courses::bundle::QuestionBundle>,
        }
        let quiz = Quiz {
            question: questions
                .iter()
                .map(|q| crate::courses::bundle::QuestionBundle {
                    prompt: q.prompt.clone(),
                    choices: q.choices.clone(),
                    correct: q
                        .correct
                        .iter()
                        .filter_map(|c| u32::try_from(*c).ok())
                        .collect(),
                    explanation: q.explanation.clone(),
                })
                .collect(),
        };
        toml::to_string_pretty(&quiz).unwrap_or_default()
    }

    /// Watched seconds one report may add: the wall time since the previous report at the
    /// fastest playback rate players offer, plus slack for timer jitter. A forged report
    /// claiming a whole video at once is cut down to what could really have been played.
    pub fn report_budget(since_last_secs: f64) -> f64 {
        since_last_secs.max(0.0) * 2.0 + 5.0
    }
}
#[cfg(feature = "ssr")]
use backend::*;

/// One page of the catalog: search, filters, sorting and page all come from the URL.
#[server(endpoint = "search_courses")]
pub async fn search_courses(query: CatalogQuery) -> Result<CatalogPage, AppError> {
    let state = AppState::get()?;
    let mut query = query;
    query.page = query.page.clamp(1, 10_000);
    query.q = query
        .q
        .chars()
        .take(crate::courses::model::QUERY_MAX)
        .collect();
    // The in-process index answers the whole page: no database query.
    let (rows, total) = state.catalog.search(&query)?;
    let (all_tags, all_languages) = state.catalog.facets();
    Ok(CatalogPage {
        query,
        cards: rows.into_iter().map(card).collect(),
        total,
        all_tags,
        all_languages,
    })
}

/// A course page: description, syllabus with per-lesson state, and the caller's progress.
#[server(endpoint = "get_course")]
pub async fn get_course(slug: String) -> Result<CourseDetail, AppError> {
    let state = AppState::get()?;
    let who = session::current().await?;
    let course = visible_course(&state, &slug, who.as_ref()).await?;
    let (sections, lessons) = repo::syllabus(&state.db, &course.id).await?;
    let enrolment = match &who {
        Some(w) => repo::enrolment(&state.db, &w.user.id, &course.id).await?,
        None => None,
    };
    let (progress, done) = match (&who, &enrolment) {
        (Some(w), Some(_)) => {
            let (p, d) = repo::course_progress(&state.db, &w.user.id, &course.id, &lessons).await?;
            (Some(p), d)
        }
        _ => (None, Vec::new()),
    };
    let resume = enrolment.as_ref().and_then(|e| {
        e.last_lesson
            .clone()
            .filter(|id| lessons.iter().any(|l| l.id == *id))
            .or_else(|| {
                lessons
                    .iter()
                    .find(|l| !done.contains(&l.id))
                    .map(|l| l.id.clone())
            })
    });
    Ok(CourseDetail {
        card: card_of(&course),
        description_html: markdown::render(&course.description),
        starts_on: course.starts_on.clone(),
        ends_on: course.ends_on.clone(),
        authors: course.author_names.clone(),
        sections: section_views(&sections, &lessons, &done),
        enrolled: enrolment.is_some(),
        can_edit: can_edit(&course, who.as_ref()),
        progress,
        resume: resume.or_else(|| lessons.first().map(|l| l.id.clone())),
    })
}

/// Enrols the caller in a published course.
#[server(endpoint = "enrol_course")]
pub async fn enrol_course(slug: String) -> Result<(), AppError> {
    let who = require_user().await?;
    let state = AppState::get()?;
    let course = visible_course(&state, &slug, Some(&who)).await?;
    repo::enrol(&state.db, &who.user.id, &course.id, state.clock.now()).await?;
    state.catalog.refresh(&state.db, &course.id).await;
    Ok(())
}

/// Leaves a course. Progress is kept for when the learner comes back.
#[server(endpoint = "leave_course")]
pub async fn leave_course(slug: String) -> Result<(), AppError> {
    let who = require_user().await?;
    let state = AppState::get()?;
    let course = visible_course(&state, &slug, Some(&who)).await?;
    repo::unenrol(&state.db, &who.user.id, &course.id).await?;
    state.catalog.refresh(&state.db, &course.id).await;
    Ok(())
}

/// Rates a course the caller is enrolled in, 1 to 5.
#[server(endpoint = "rate_course")]
pub async fn rate_course(slug: String, stars: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let course = visible_course(&state, &slug, Some(&who)).await?;
    let stars: i64 = stars
        .trim()
        .parse()
        .ok()
        .filter(|s| (1..=5).contains(s))
        .ok_or(Problem::RatingInvalid)?;
    let who = enrolled_learner(&state, &course).await?;
    repo::rate(
        &state.db,
        &who.user.id,
        &course.id,
        stars,
        state.clock.now(),
    )
    .await?;
    state.catalog.refresh(&state.db, &course.id).await;
    Ok(())
}

/// The courses the caller is enrolled in, each with their progress.
#[server(endpoint = "my_courses")]
pub async fn my_courses() -> Result<Vec<MyCourse>, AppError> {
    let who = require_user().await?;
    let state = AppState::get()?;
    let mut out = Vec::new();
    for row in repo::enrolled_courses(&state.db, &who.user.id).await? {
        let (_, lessons) = repo::syllabus(&state.db, &row.id).await?;
        let (progress, _) =
            repo::course_progress(&state.db, &who.user.id, &row.id, &lessons).await?;
        out.push(MyCourse {
            card: card(row),
            progress,
        });
    }
    Ok(out)
}

/// An enrolled learner has opened a lesson (posted by the page once it runs, never by
/// loading it): their place in the course is remembered, and for a video the moment is
/// recorded that watch reports may claim playback since.
#[server(endpoint = "visit_lesson")]
pub async fn visit_lesson(lesson_id: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let (course, lesson) = visible_lesson(&state, &lesson_id, Some(&who)).await?;
    if repo::enrolment(&state.db, &who.user.id, &course.id)
        .await?
        .is_none()
    {
        return Err(Problem::NotEnrolled.into());
    }
    repo::set_last_lesson(&state.db, &who.user.id, &course.id, &lesson.id).await?;
    if lesson.kind() == LessonKind::Video {
        repo::start_viewing(
            &state.db,
            &who.user.id,
            &course.id,
            &lesson.id,
            state.clock.now(),
        )
        .await?;
    }
    Ok(())
}

/// A lesson page. Anyone may read a published course's lessons; progress is shown when they
/// are enrolled. Loading it changes nothing (see [`visit_lesson`]).
#[server(endpoint = "get_lesson")]
pub async fn get_lesson(lesson_id: String) -> Result<LessonView, AppError> {
    let state = AppState::get()?;
    let who = session::current().await?;
    let (course, lesson) = visible_lesson(&state, &lesson_id, who.as_ref()).await?;
    let (_, lessons) = repo::syllabus(&state.db, &course.id).await?;
    let at = lessons.iter().position(|l| l.id == lesson.id);
    let prev = at
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| lessons.get(i))
        .map(|l| l.id.clone());
    let next = at.and_then(|i| lessons.get(i + 1)).map(|l| l.id.clone());
    let enrolled = match &who {
        Some(w) => repo::enrolment(&state.db, &w.user.id, &course.id)
            .await?
            .is_some(),
        None => false,
    };
    let mut progress = CourseProgress::default();
    let mut mine = None;
    let mut last_result = None;
    if let (Some(w), true) = (&who, enrolled) {
        // Reading changes nothing: the page's `LessonVisit` posts `visit_lesson` for that.
        progress = repo::course_progress(&state.db, &w.user.id, &course.id, &lessons)
            .await?
            .0;
        mine = repo::lesson_progress(&state.db, &w.user.id, &lesson.id).await?;
        if lesson.kind() == LessonKind::Quiz
            && let Some(attempt) = repo::last_attempt(&state.db, &w.user.id, &lesson.id).await?
        {
            let questions = repo::questions(&state.db, &lesson.id).await?;
            let answers: Vec<Vec<u32>> = attempt
                .answers
                .iter()
                .map(|a| a.iter().filter_map(|c| u32::try_from(*c).ok()).collect())
                .collect();
            let attempts = repo::attempts(&state.db, &w.user.id, &lesson.id).await?;
            last_result = Some(quiz_result(
                &questions,
                &answers,
                attempts,
                attempts_allowed(&lesson),
            ));
        }
    }
    let questions = if lesson.kind() == LessonKind::Quiz {
        repo::questions(&state.db, &lesson.id)
            .await?
            .into_iter()
            .map(|q| QuestionView {
                id: q.id,
                prompt_html: markdown::render(&q.prompt),
                multiple: q.correct.len() > 1,
                choices: q.choices,
            })
            .collect()
    } else {
        Vec::new()
    };
    let video = match (lesson.kind(), &lesson.video_src, lesson.video_secs) {
        (LessonKind::Video, Some(src), Some(secs)) => Some(VideoView {
            src: video_url(src),
            duration_secs: secs,
            captions: lesson.captions_src.as_deref().map(video_url),
            watched_secs: mine.as_ref().map_or(0.0, |m| m.watched_secs),
            position_secs: mine.as_ref().map_or(0.0, |m| m.position_secs),
        }),
        _ => None,
    };
    Ok(LessonView {
        id: lesson.id.clone(),
        course_slug: course.slug.clone(),
        course_title: course.title.clone(),
        title: lesson.title.clone(),
        kind: lesson.kind(),
        body_html: markdown::render(&lesson.body),
        video,
        questions,
        last_result,
        done: mine.as_ref().is_some_and(|m| m.done),
        prev,
        next,
        enrolled,
        progress,
    })
}

/// Marks a reading lesson as read.
#[server(endpoint = "complete_lesson")]
pub async fn complete_lesson(lesson_id: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let (course, lesson) = visible_lesson(&state, &lesson_id, Some(&who)).await?;
    let who = enrolled_learner(&state, &course).await?;
    if !matches!(lesson.kind(), LessonKind::Text | LessonKind::Exercise) {
        // Videos complete by watching and quizzes by passing, never by a click.
        return Err(AppError::BadRequest {
            detail: "this lesson completes by watching or by passing its quiz".into(),
        });
    }
    repo::mark_done(
        &state.db,
        &who.user.id,
        &course.id,
        &lesson.id,
        state.clock.now(),
    )
    .await?;
    state.awards.earned(&state, &who.user.id.0).await;
    Ok(())
}

/// The player's report of what was really played since the last report: intervals of
/// continuous playback as `start-end` seconds (`0-4.5,10-12`) and where playback is now.
/// Returns the seconds of this video now counted as watched.
#[server(endpoint = "report_watch")]
pub async fn report_watch(
    lesson_id: String,
    #[server(default)] played: String,
    position: f64,
) -> Result<f64, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let (course, lesson) = visible_lesson(&state, &lesson_id, Some(&who)).await?;
    let who = enrolled_learner(&state, &course).await?;
    let intervals = parse_played(&played)?;
    let duration = match (lesson.kind(), lesson.video_secs) {
        (LessonKind::Video, Some(d)) => d,
        _ => {
            return Err(AppError::BadRequest {
                detail: "this lesson has no video".into(),
            });
        }
    };
    let position = if position.is_finite() {
        position.clamp(0.0, duration)
    } else {
        0.0
    };
    // Compare-and-swap: re-read and retry if another report wrote in between.
    for _ in 0..5 {
        let now = state.clock.now();
        let mine = repo::lesson_progress(&state.db, &who.user.id, &lesson.id).await?;
        let mut watched = Intervals(
            mine.as_ref()
                .map(|m| {
                    m.played
                        .iter()
                        .filter_map(|p| match p.as_slice() {
                            [a, b] => Some((*a, *b)),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default(),
        );
        let since = mine
            .as_ref()
            .and_then(|m| m.reported_at)
            .map_or(f64::INFINITY, |at| {
                (now - at).num_milliseconds() as f64 / 1000.0
            });
        // The page's visit starts the clock (see `visit_lesson`); without that, only
        // the slack counts.
        let mut budget = report_budget(if since.is_finite() { since } else { 0.0 });
        for (start, end) in &intervals {
            if budget <= 0.0 {
                break;
            }
            // Only the budget's worth of each claimed interval counts.
            let end = end.min(start + budget);
            budget -= watched.add(*start, end, duration);
        }
        let done = watched.total() >= duration * VIDEO_DONE_FRACTION;
        let stored = repo::store_played(
            &state.db,
            &who.user.id,
            &course.id,
            &lesson.id,
            mine.as_ref().map(|m| m.updated_at),
            &watched,
            position,
            done || mine.as_ref().is_some_and(|m| m.done),
            now,
        )
        .await?;
        if stored {
            // The report that finishes a video finishes its lesson.
            if done && !mine.as_ref().is_some_and(|m| m.done) {
                state.awards.earned(&state, &who.user.id.0).await;
            }
            return Ok(watched.total());
        }
    }
    Err(AppError::RateLimited {
        retry_after_secs: 1,
    })
}

#[cfg(feature = "ssr")]
/// Attempts a quiz allows before its answers are shown (`None`: unlimited).
fn attempts_allowed(lesson: &repo::LessonRow) -> Option<u32> {
    lesson.quiz_attempts.and_then(|n| u32::try_from(n).ok())
}

#[cfg(feature = "ssr")]
/// Grades `answers` and says what the learner may see: the right choices and explanations
/// only once they have passed or used every attempt (else a wrong answer would hand them the
/// right one for the next try).
fn quiz_result(
    questions: &[repo::QuestionRow],
    answers: &[Vec<u32>],
    attempts: repo::Attempts,
    allowed: Option<u32>,
) -> QuizResult {
    let results: Vec<QuestionResult> = questions
        .iter()
        .zip(answers)
        .map(|(q, chosen)| {
            let correct: Vec<u32> = q
                .correct
                .iter()
                .filter_map(|c| u32::try_from(*c).ok())
                .collect();
            QuestionResult {
                question_id: q.id.clone(),
                chosen: chosen.clone(),
                right: grade(chosen, &correct),
                correct,
                explanation_html: markdown::render(&q.explanation),
            }
        })
        .collect();
    let total = u32::try_from(questions.len()).unwrap_or(u32::MAX);
    let correct = u32::try_from(results.iter().filter(|r| r.right).count()).unwrap_or(0);
    let passed = total > 0 && f64::from(correct) >= f64::from(total) * QUIZ_PASS_FRACTION;
    let revealed = passed || attempts.passed || allowed.is_some_and(|n| attempts.used >= n);
    let questions = if revealed {
        results
    } else {
        results
            .into_iter()
            .map(|r| QuestionResult {
                correct: Vec::new(),
                explanation_html: String::new(),
                ..r
            })
            .collect()
    };
    QuizResult {
        correct,
        total,
        passed,
        questions,
        revealed,
        attempts_used: attempts.used,
        attempts_allowed: allowed,
    }
}

/// Grades a quiz attempt on the server and stores it. Each answer is `question:choice`
/// (`2:0` = third question, first choice); a question may get several for multiple choice.
#[server(endpoint = "submit_quiz")]
pub async fn submit_quiz(
    lesson_id: String,
    #[server(default)] answers: Vec<String>,
) -> Result<QuizResult, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let (course, lesson) = visible_lesson(&state, &lesson_id, Some(&who)).await?;
    let who = enrolled_learner(&state, &course).await?;
    if lesson.kind() != LessonKind::Quiz {
        return Err(AppError::BadRequest {
            detail: "this lesson is not a quiz".into(),
        });
    }
    let questions = repo::questions(&state.db, &lesson.id).await?;
    let mut chosen: Vec<Vec<u32>> = vec![Vec::new(); questions.len()];
    for answer in &answers {
        let (q, c) = answer
            .split_once(':')
            .and_then(|(q, c)| {
                Some((
                    q.trim().parse::<usize>().ok()?,
                    c.trim().parse::<u32>().ok()?,
                ))
            })
            .ok_or(Problem::ChoiceInvalid)?;
        let question = questions.get(q).ok_or(Problem::ChoiceInvalid)?;
        if c as usize >= question.choices.len() {
            return Err(Problem::ChoiceInvalid.into());
        }
        if !chosen[q].contains(&c) {
            chosen[q].push(c);
        }
    }
    if chosen.iter().any(Vec::is_empty) {
        return Err(Problem::AnswerMissing.into());
    }
    let allowed = attempts_allowed(&lesson);
    let before = repo::attempts(&state.db, &who.user.id, &lesson.id).await?;
    if allowed.is_some_and(|n| before.used >= n) && !before.passed {
        return Err(Problem::NoAttemptsLeft.into());
    }
    // This attempt counts: graded as the one after those already made.
    let after = repo::Attempts {
        used: before.used.saturating_add(1),
        passed: before.passed,
    };
    let result = quiz_result(&questions, &chosen, after, allowed);
    repo::save_attempt(
        &state.db,
        &who.user.id,
        &course.id,
        &lesson.id,
        &chosen,
        result.correct,
        result.total,
        result.passed,
        allowed,
        state.clock.now(),
    )
    .await?;
    if result.passed {
        state.awards.earned(&state, &who.user.id.0).await;
    }
    Ok(result)
}

// ---- authoring (mentors and admins; a course is edited only by its authors and admins) ----

/// Creates a draft course; the caller becomes its author, and lands on its editor.
#[server(endpoint = "create_course")]
pub async fn create_course(
    slug: String,
    title: String,
    #[server(default)] summary: String,
    level: String,
    language: String,
    #[server(default)] tags: String,
) -> Result<String, AppError> {
    let who = require_role(Role::Mentor).await?;
    let state = AppState::get()?;
    let slug = Slug::parse(&slug)?;
    let input = CourseInput::parse(&title, &summary, "", &tags, &level, &language, "", "")?;
    repo::create_course(
        &state.db,
        slug.as_str(),
        &input,
        &who.user.id,
        state.clock.now(),
    )
    .await?;
    leptos_axum::redirect(&format!("/courses/{}/edit", slug.as_str()));
    Ok(slug.as_str().to_string())
}

/// The course editor's data.
#[server(endpoint = "get_course_draft")]
pub async fn get_course_draft(slug: String) -> Result<CourseDraft, AppError> {
    let state = AppState::get()?;
    let (_, course) = editable_course(&state, &slug).await?;
    let (sections, lessons) = repo::syllabus(&state.db, &course.id).await?;
    Ok(CourseDraft {
        slug: course.slug.clone(),
        input: CourseInput {
            title: course.title.clone(),
            summary: course.summary.clone(),
            description: course.description.clone(),
            tags: course.tags.clone(),
            level: Level::parse(&course.level).unwrap_or(Level::Beginner),
            language: course.language.clone(),
            starts_on: course.starts_on.clone(),
            ends_on: course.ends_on.clone(),
        },
        published: course.published,
        sections: section_views(&sections, &lessons, &[]),
    })
}

/// Saves the course's own fields (one form, one argument per field).
#[server(endpoint = "update_course")]
pub async fn update_course(
    slug: String,
    title: String,
    #[server(default)] summary: String,
    #[server(default)] description: String,
    #[server(default)] tags: String,
    level: String,
    language: String,
    #[server(default)] starts_on: String,
    #[server(default)] ends_on: String,
) -> Result<(), AppError> {
    let state = AppState::get()?;
    let (_, course) = editable_course(&state, &slug).await?;
    let input = CourseInput::parse(
        &title,
        &summary,
        &description,
        &tags,
        &level,
        &language,
        &starts_on,
        &ends_on,
    )?;
    repo::update_course(&state.db, &course.id, &input, state.clock.now()).await?;
    state.catalog.refresh(&state.db, &course.id).await;
    Ok(())
}

/// Publishes or unpublishes a course.
#[server(endpoint = "publish_course")]
pub async fn publish_course(slug: String, published: bool) -> Result<(), AppError> {
    let state = AppState::get()?;
    let (_, course) = editable_course(&state, &slug).await?;
    repo::set_published(&state.db, &course.id, published).await?;
    state.catalog.refresh(&state.db, &course.id).await;
    Ok(())
}

#[server(endpoint = "add_section")]
pub async fn add_section(slug: String, title: String) -> Result<String, AppError> {
    let state = AppState::get()?;
    let (_, course) = editable_course(&state, &slug).await?;
    let title = crate::courses::model::parse_title(&title)?;
    repo::add_section(&state.db, &course.id, &title).await
}

#[server(endpoint = "add_lesson")]
pub async fn add_lesson(
    slug: String,
    section_id: String,
    title: String,
    kind: String,
) -> Result<String, AppError> {
    let state = AppState::get()?;
    let (_, course) = editable_course(&state, &slug).await?;
    let title = crate::courses::model::parse_title(&title)?;
    let kind = LessonKind::parse(&kind)?;
    let (sections, _) = repo::syllabus(&state.db, &course.id).await?;
    // The section must belong to this course, whatever id the form sent.
    if !sections.iter().any(|s| s.id == section_id) {
        return Err(AppError::NotFound);
    }
    let id = repo::add_lesson(&state.db, &course.id, &section_id, &title, kind).await?;
    repo::recount_course(&state.db, &course.id).await?;
    leptos_axum::redirect(&format!("/lessons/{id}/edit"));
    Ok(id)
}

/// The lesson editor's data.
#[server(endpoint = "get_lesson_draft")]
pub async fn get_lesson_draft(lesson_id: String) -> Result<LessonDraft, AppError> {
    let state = AppState::get()?;
    let (course, lesson) = editable_lesson(&state, &lesson_id).await?;
    let questions = repo::questions(&state.db, &lesson.id).await?;
    Ok(LessonDraft {
        id: lesson.id.clone(),
        course_slug: course.slug.clone(),
        title: lesson.title.clone(),
        kind: lesson.kind(),
        body: lesson.body.clone(),
        video_src: lesson.video_src.as_deref().map(video_url),
        video_secs: lesson.video_secs,
        questions_toml: questions_toml(&questions),
        quiz_attempts: attempts_allowed(&lesson),
    })
}

/// Saves a lesson: title, Markdown, video duration, and (for a quiz) its questions.
#[server(endpoint = "update_lesson")]
pub async fn update_lesson(
    lesson_id: String,
    title: String,
    #[server(default)] body: String,
    #[server(default)] video_secs: String,
    #[server(default)] questions: String,
    #[server(default)] attempts: String,
) -> Result<(), AppError> {
    let state = AppState::get()?;
    let (_, lesson) = editable_lesson(&state, &lesson_id).await?;
    let title = crate::courses::model::parse_title(&title)?;
    if body.chars().count() > crate::courses::model::DESCRIPTION_MAX {
        return Err(Problem::DescriptionTooLong.into());
    }
    let video_secs = match video_secs.trim() {
        "" => None,
        v => Some(
            v.parse::<f64>()
                .ok()
                .filter(|d| d.is_finite() && *d > 0.0 && *d < 86_400.0)
                .ok_or(AppError::BadRequest {
                    detail: "the duration is a number of seconds, such as 95.5".into(),
                })?,
        ),
    };
    let questions = if lesson.kind() == LessonKind::Quiz {
        let attempts = match attempts.trim() {
            "" => None,
            n => Some(
                n.parse::<u32>()
                    .ok()
                    .filter(|n| (1..=20).contains(n))
                    .ok_or(Problem::AttemptsInvalid)?,
            ),
        };
        Some((parse_questions(&questions)?, attempts))
    } else {
        None
    };
    repo::update_lesson(
        &state.db,
        &lesson.id,
        &title,
        &body,
        video_secs,
        questions.as_ref().map(|(q, a)| (q.as_slice(), *a)),
    )
    .await?;
    // A video's length is T in its learners' scores.
    repo::recount_course(&state.db, &lesson.course).await
}

/// Moves a lesson one place up or down within its section.
#[server(endpoint = "move_lesson")]
pub async fn move_lesson(lesson_id: String, direction: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let (course, lesson) = editable_lesson(&state, &lesson_id).await?;
    let (_, lessons) = repo::syllabus(&state.db, &course.id).await?;
    let siblings: Vec<&LessonRow> = lessons
        .iter()
        .filter(|l| l.section == lesson.section)
        .collect();
    let at = siblings
        .iter()
        .position(|l| l.id == lesson.id)
        .ok_or(AppError::NotFound)?;
    let other = match direction.as_str() {
        "up" => at.checked_sub(1),
        "down" => Some(at + 1),
        _ => {
            return Err(AppError::BadRequest {
                detail: "direction is up or down".into(),
            });
        }
    };
    match other.and_then(|i| siblings.get(i)) {
        Some(other) => repo::swap_lessons(&state.db, siblings[at], other).await,
        // Already first or last: nothing to do.
        None => Ok(()),
    }
}

#[server(endpoint = "delete_lesson")]
pub async fn delete_lesson(lesson_id: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let (course, lesson) = editable_lesson(&state, &lesson_id).await?;
    repo::delete_lesson(&state.db, &lesson.id).await?;
    repo::recount_course(&state.db, &course.id).await?;
    leptos_axum::redirect(&format!("/courses/{}/edit", course.slug));
    Ok(())
}

/// Renders Markdown exactly as a lesson will show it (the editor's live preview).
#[server(endpoint = "preview_markdown")]
pub async fn preview_markdown(text: String) -> Result<String, AppError> {
    require_role(Role::Mentor).await?;
    if text.chars().count() > crate::courses::model::DESCRIPTION_MAX {
        return Err(Problem::DescriptionTooLong.into());
    }
    Ok(markdown::render(&text))
}
