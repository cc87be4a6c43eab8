//! Pair-programming server functions: a room's code for its page, the replay log, and "Open
//! in a session" from an exercise. The live editing itself runs over the room socket.

use leptos::prelude::*;

use crate::{
    error::AppError,
    rooms::code::model::{CodeView, ReplayView},
};

#[cfg(feature = "ssr")]
pub mod backend {
    use crate::{
        accounts::session::Authenticated,
        error::AppError,
        exercises::repo as exercise_repo,
        rooms::code::{live, model::CodeView},
        state::AppState,
    };

    /// The room's code now, with the visible tests of the exercise it came from. The caller
    /// has been checked to be a participant.
    pub async fn code_view(state: &AppState, room: &str) -> Result<CodeView, AppError> {
        let (text, language, exercise, changes) = live::current_text(state, room).await?;
        let spec = match &exercise {
            Some(lesson) => exercise_repo::spec_of_lesson(&state.db, lesson).await?,
            None => None,
        };
        Ok(CodeView {
            text,
            language,
            tests: spec.as_ref().map(|s| s.visible_tests()).unwrap_or_default(),
            limits: spec.as_ref().map(|s| s.limits),
            exercise,
            changes,
            python: None,
        })
    }

    /// The room for a learner and their mentor: the newest open room they are both in, or a
    /// new one hosted by the mentor.
    pub async fn room_for_pair(
        state: &AppState,
        learner: &Authenticated,
        title: &str,
    ) -> Result<String, AppError> {
        let mentorships = crate::mentoring::repo::mentorships_of(&state.db, &learner.user.id.0)
            .await?
            .into_iter()
            .filter(|m| m.learner == learner.user.id.0)
            .collect::<Vec<_>>();
        let Some(first) = mentorships.first() else {
            return Err(crate::error::Problem::NoMentor.into());
        };
        let mentors: Vec<&str> = mentorships.iter().map(|m| m.mentor.as_str()).collect();
        if let Some(room) =
            crate::rooms::code::repo::shared_open_room(&state.db, &learner.user.id, &mentors)
                .await?
        {
            return Ok(room);
        }
        let notice = crate::notify::model::Notice::PairRoomOpened {
            learner: learner.user.display_name.clone(),
            title: title.to_string(),
        };
        crate::rooms::code::repo::create_pair_room(
            &state.db,
            &crate::ids::UserId(first.mentor.clone()),
            &learner.user.id,
            title,
            &notice,
            state.clock.now(),
        )
        .await
    }
}

/// The room's shared code for its page (participants only).
#[server(endpoint = "room_code")]
pub async fn room_code(room: String) -> Result<CodeView, AppError> {
    use crate::{accounts::session::require_user, rooms::api::backend::participant_room};
    let state = crate::state::AppState::get()?;
    let who = require_user().await?;
    let (row, _) = participant_room(&state, &room, &who).await?;
    backend::code_view(&state, &row.id).await
}

/// The stored changes of a room's shared code, for the replay (participants only).
#[server(endpoint = "room_replay")]
pub async fn room_replay(room: String) -> Result<ReplayView, AppError> {
    use crate::{accounts::session::require_user, rooms::api::backend::participant_room};
    let state = crate::state::AppState::get()?;
    let who = require_user().await?;
    let (row, _) = participant_room(&state, &room, &who).await?;
    let code = backend::code_view(&state, &row.id).await?;
    let (steps, base) = crate::rooms::code::repo::replay(&state.db, &row.id).await?;
    Ok(ReplayView {
        room_id: row.id,
        title: row.title,
        language: code.language,
        final_text: code.text,
        steps,
        base,
    })
}

/// "Open in a session": the learner's current code for an exercise, with its visible tests,
/// goes into the shared editor of a room with their mentor, and the learner goes there.
#[server(endpoint = "open_in_session")]
pub async fn open_in_session(lesson_id: String, code: String) -> Result<(), AppError> {
    use crate::{
        accounts::session::require_user,
        exercises::{api::backend::visible_exercise, model::CODE_CAP},
        rooms::code::{live, model::CodeLanguage},
    };
    let state = crate::state::AppState::get()?;
    let who = require_user().await?;
    if code.len() > CODE_CAP {
        return Err(crate::error::Problem::CodeTooLong.into());
    }
    let (_course, exercise) = visible_exercise(&state, &lesson_id, Some(&who)).await?;
    let lesson = crate::courses::repo::lesson(&state.db, &exercise.lesson)
        .await?
        .ok_or(AppError::NotFound)?;
    let room = backend::room_for_pair(&state, &who, &lesson.title).await?;
    let python = exercise.spec.language == crate::exercises::model::Language::Python;
    let text = seeded_text(&code, &exercise.spec.visible_tests(), python);
    let language = if python {
        CodeLanguage::Python
    } else {
        CodeLanguage::Javascript
    };
    live::seed(&state, &room, &text, language, Some(&exercise.lesson)).await?;
    leptos_axum::redirect(&format!("/rooms/{room}"));
    Ok(())
}

/// The learner's code followed by the visible tests as a comment (`#` lines in Python), so
/// both people read what Run checks.
#[cfg(feature = "ssr")]
pub fn seeded_text(
    code: &str,
    tests: &[crate::exercises::model::TestCase],
    python: bool,
) -> String {
    let mut text = code.trim_end().to_string();
    if python && !tests.is_empty() {
        text.push_str("\n\n# Visible tests (Run checks these):\n");
        for t in tests {
            // One line each: a newline in a call cannot leave the comment.
            let line = format!("#   {}: {} → {}", t.name, t.call, t.expected).replace('\n', " ");
            text.push_str(&line);
            text.push('\n');
        }
    } else if !tests.is_empty() {
        text.push_str("\n\n/* Visible tests (Run checks these):\n");
        for t in tests {
            // A test cannot end the comment early.
            let line = format!("   {}: {} → {}\n", t.name, t.call, t.expected);
            text.push_str(&line.replace("*/", "* /"));
        }
        text.push_str("*/\n");
    }
    text
}
