//! Forum server functions. Reading needs no account where the space is public (a general
//! space, a published course's space); every write checks the caller against the post and
//! its space, and a hidden post is "not found" to everyone but its author and moderators.

use leptos::prelude::*;

use crate::{
    error::AppError,
    forum::model::{
        ForumOverview, OpenedCode, PostEditView, QuestionDraft, ReportedPost, SearchResults,
        SimilarThread, SpaceListing, ThreadView,
    },
};

#[cfg(feature = "ssr")]
mod backend {
    use chrono::{DateTime, Utc};

    pub use crate::{
        accounts::{
            model::Capabilities,
            session::{Authenticated, current, require_user},
        },
        courses::model::LessonKind,
        error::{AppError, Problem},
        forum::{
            model::*,
            repo::{self, Place, PostMeta, Reader, ReplyRow, ThreadRow},
        },
        i18n::{Locale, initial_locale, person_name, time_label, zone_named},
        notify::model::Notice,
        state::AppState,
        ui::markdown,
    };

    /// How many posts a new account (under a day old, or its address unconfirmed) may write
    /// in a day, and anyone in a minute.
    pub const NEW_ACCOUNT_POSTS_PER_DAY: i64 = 5;
    pub const POSTS_PER_MINUTE: i64 = 5;

    /// Moderators keep the forum clean; admins are moderators.
    pub fn is_moderator(who: Option<&Authenticated>) -> bool {
        who.is_some_and(|a| a.user.roles.can_moderate())
    }

    pub fn reader(who: Option<&Authenticated>) -> Reader<'_> {
        Reader {
            me: who.map(|a| &a.user.id),
            moderator: is_moderator(who),
        }
    }

    /// A space the caller may read: a general space, or a course they may see. Answers where
    /// its threads live, its title and description, and whether the caller is its staff (a
    /// course's authors, and moderators), who may accept answers there.
    pub async fn visible_space(
        state: &AppState,
        space: &SpaceRef,
        who: Option<&Authenticated>,
    ) -> Result<(Place, String, String, bool), AppError> {
        match space {
            SpaceRef::General(slug) => {
                let row = repo::space_by_slug(&state.db, slug)
                    .await?
                    .ok_or(AppError::NotFound)?;
                Ok((
                    Place::Space(row.id),
                    row.title,
                    row.description,
                    is_moderator(who),
                ))
            }
            SpaceRef::Course(slug) => {
                let course = crate::courses::api::backend::visible_course(state, slug, who).await?;
                let staff = who.is_some_and(|a| course.editable_by(a));
                Ok((
                    Place::Course(course.id),
                    course.title,
                    course.summary,
                    staff,
                ))
            }
        }
    }

    pub fn space_of(kind: &str, slug: &str) -> SpaceRef {
        if kind == "spaces" {
            SpaceRef::General(slug.to_string())
        } else {
            SpaceRef::Course(slug.to_string())
        }
    }

    /// Dates in the reader's zone and language: the label, and the instant for `<time>`.
    pub struct Clock {
        pub locale: Locale,
        pub zone: chrono_tz::Tz,
        pub now: DateTime<Utc>,
    }

    impl Clock {
        pub async fn of(state: &AppState, who: Option<&Authenticated>) -> Result<Self, AppError> {
            let zone = repo::zone_of(&state.db, who.map(|a| &a.user.id)).await?;
            Ok(Clock {
                locale: initial_locale(),
                zone: zone_named(&zone),
                now: state.clock.now(),
            })
        }

        pub fn label(&self, at: DateTime<Utc>) -> String {
            time_label(self.locale, at, self.zone)
        }
    }

    pub fn summary(row: ThreadRow, clock: &Clock) -> ThreadSummary {
        let kind = row.kind();
        let waited = (kind == ThreadKind::Question && row.reply_count == 0).then(|| {
            clock
                .locale
                .strings()
                .forum
                .waited_for((clock.now - row.created_at).num_seconds())
        });
        ThreadSummary {
            kind,
            space: space_of(&row.space_kind, &row.space_slug),
            asked: clock.label(row.created_at),
            asked_at: row.created_at.to_rfc3339(),
            waited,
            id: row.id,
            title: row.title,
            author: person_name(&row.author, clock.locale),
            tags: row.tags,
            score: row.score,
            replies: row.reply_count,
            solved: row.solved,
            hidden: row.hidden,
            locked: row.locked,
            space_title: row.space_title,
        }
    }

    /// The checks every post goes through: not too often, and from a new account (under a
    /// day old, or unconfirmed) few a day and no links. Mentors and admins were vetted by an
    /// admin when given their role, so they are never new.
    /// The exercise a question from "Ask for help" is about: an exercise lesson of the
    /// course whose space the question goes to (anything else is refused, so a thread cannot
    /// point into another course).
    pub async fn asked_about(
        state: &AppState,
        place: &Place,
        lesson: &str,
    ) -> Result<Option<String>, AppError> {
        if lesson.is_empty() {
            return Ok(None);
        }
        let row = crate::courses::repo::lesson(&state.db, lesson).await?;
        match (row, place) {
            (Some(l), Place::Course(course))
                if &l.course == course && l.kind() == LessonKind::Exercise =>
            {
                Ok(Some(l.id))
            }
            _ => Err(Problem::LessonNotInSpace.into()),
        }
    }

    pub async fn may_post(
        state: &AppState,
        who: &Authenticated,
        body: &PostBody,
    ) -> Result<(), AppError> {
        let now = state.clock.now();
        let id = &who.user.id;
        if repo::posts_since(&state.db, id, now - chrono::Duration::minutes(1)).await?
            >= POSTS_PER_MINUTE
        {
            return Err(AppError::RateLimited {
                retry_after_secs: 60,
            });
        }
        let created = repo::account_age(&state.db, id).await?.unwrap_or(now);
        let vetted = who.user.roles.can_mentor();
        let new =
            !vetted && (!who.user.email_verified || now - created < chrono::Duration::hours(24));
        if new {
            if body.has_link() {
                return Err(Problem::NewAccountLinks.into());
            }
            if repo::posts_since(&state.db, id, now - chrono::Duration::hours(24)).await?
                >= NEW_ACCOUNT_POSTS_PER_DAY
            {
                return Err(Problem::NewAccountLimit.into());
            }
        }
        Ok(())
    }

    /// A post the caller may see, with whether they are staff of its space.
    pub async fn visible_post(
        state: &AppState,
        id: &str,
        who: Option<&Authenticated>,
    ) -> Result<(PostMeta, bool), AppError> {
        if !crate::ids::is_record_key(id) {
            return Err(AppError::NotFound);
        }
        let post = repo::post(&state.db, id).await?.ok_or(AppError::NotFound)?;
        let (_, _, _, staff) =
            visible_space(state, &space_of(&post.space_kind, &post.space_slug), who).await?;
        let mine = |author: &str| who.is_some_and(|a| a.user.id.0 == author);
        let seen = |hidden: bool, deleted: bool, author: &str| {
            !hidden || (mine(author) && !deleted) || is_moderator(who)
        };
        if !seen(post.thread_hidden, post.thread_deleted, &post.thread_author)
            || !seen(post.hidden, post.deleted, &post.author)
        {
            return Err(AppError::NotFound);
        }
        Ok((post, staff))
    }

    /// The spaces a reader is shown: the general ones, and for someone signed in the spaces
    /// of the courses they take or write.
    pub async fn spaces_for(
        state: &AppState,
        who: Option<&Authenticated>,
    ) -> Result<Vec<SpaceSummary>, AppError> {
        let counts = state.forum.counts();
        let mut spaces: Vec<SpaceSummary> = repo::general_spaces(&state.db)
            .await?
            .into_iter()
            .map(|s| SpaceSummary {
                threads: counts.space(&s.slug),
                space: SpaceRef::General(s.slug),
                title: s.title,
                description: s.description,
            })
            .collect();
        if who.is_some() {
            spaces.extend(
                repo::course_spaces(&state.db, reader(who))
                    .await?
                    .into_iter()
                    .map(|s| SpaceSummary {
                        threads: counts.course(&s.id),
                        space: SpaceRef::Course(s.slug),
                        title: s.title,
                        description: s.description,
                    }),
            );
        }
        Ok(spaces)
    }

    pub fn post_view(
        row: ReplyRow,
        accepted: bool,
        my_vote: i64,
        can_accept: bool,
        who: Option<&Authenticated>,
        locked: bool,
        clock: &Clock,
    ) -> PostView {
        let mine = who.is_some_and(|a| a.user.id.0 == row.author_id);
        PostView {
            body_html: markdown::render(&row.body),
            written: clock.label(row.created_at),
            written_at: row.created_at.to_rfc3339(),
            can_edit: mine && !locked,
            can_vote: who.is_some() && !mine && !locked,
            can_accept,
            can_report: who.is_some() && !mine,
            deleted: row.deleted,
            removed_reason: row.removed_reason,
            id: row.id,
            author: person_name(&row.author, clock.locale),
            author_reputation: row.author_reputation,
            edited: row.edited,
            score: row.score,
            my_vote,
            accepted,
            hidden: row.hidden,
            code_blocks: 0,
        }
    }

    /// Whether a reader (`me`, signed in or not) may find a thread of the search index.
    pub fn may_find(
        state: &AppState,
        me: Option<&str>,
        moderator: bool,
        row: &repo::IndexRow,
    ) -> bool {
        let mine = me == Some(row.author_id.as_str());
        (!row.hidden || (mine && !row.deleted) || moderator)
            // A draft course's threads: for moderators, and each for its own author.
            && row
                .course_id
                .as_deref()
                .is_none_or(|c| mine || moderator || state.catalog.is_published(c))
    }

    /// Where a form's unsent text is kept in the reader's browser: per person, so someone
    /// else signing in on a shared device never gets it.
    pub fn draft_key(who: Option<&Authenticated>, form: &str) -> String {
        format!(
            "pairwise:forum-draft:{}:{form}",
            who.map_or("anonymous", |w| w.user.id.0.as_str())
        )
    }
}

#[cfg(feature = "ssr")]
use backend::*;

/// `/forum`: the spaces the caller can use, the newest activity, and for course authors the
/// questions in their courses nobody has answered, the longest-waiting first.
#[server(endpoint = "forum_home")]
pub async fn forum_home() -> Result<ForumOverview, AppError> {
    let state = AppState::get()?;
    let who = current().await?;
    let who = who.as_ref();
    let clock = Clock::of(&state, who).await?;
    let spaces = spaces_for(&state, who).await?;
    let recent = repo::recent_threads(&state.db, reader(who), 15)
        .await?
        .into_iter()
        .map(|r| summary(r, &clock))
        .collect();
    let waiting = match who {
        Some(a) => repo::waiting_questions(&state.db, &a.user.id)
            .await?
            .into_iter()
            .map(|r| summary(r, &clock))
            .collect(),
        None => Vec::new(),
    };
    Ok(ForumOverview {
        spaces,
        recent,
        waiting,
        signed_in: who.is_some(),
        can_create_space: is_moderator(who),
    })
}

/// One page of a space's threads, sorted as asked.
#[server(endpoint = "forum_space")]
pub async fn space_page(
    space: String,
    #[server(default)] sort: String,
    #[server(default)] page: u32,
) -> Result<SpaceListing, AppError> {
    let state = AppState::get()?;
    let who = current().await?;
    let who = who.as_ref();
    let space = SpaceRef::parse(&space).ok_or(AppError::NotFound)?;
    let (place, title, description, _) = visible_space(&state, &space, who).await?;
    let sort = Sort::parse(&sort);
    // Deep pages are a crawler's, not a reader's: beyond 500 threads, search.
    let page = page.min(25);
    let clock = Clock::of(&state, who).await?;
    let (rows, more) = repo::threads_in(&state.db, &place, sort, page, reader(who)).await?;
    Ok(SpaceListing {
        draft_key: draft_key(who, &format!("new:{}", space.key())),
        space,
        title,
        description,
        sort,
        page,
        more,
        threads: rows.into_iter().map(|r| summary(r, &clock)).collect(),
        signed_in: who.is_some(),
    })
}

/// A thread with its replies, as the caller may see it.
#[server(endpoint = "forum_thread")]
pub async fn get_thread(id: String) -> Result<ThreadView, AppError> {
    let state = AppState::get()?;
    let who = current().await?;
    let who = who.as_ref();
    let (meta, staff) = visible_post(&state, &id, who).await?;
    if meta.is_reply {
        return Err(AppError::NotFound);
    }
    let rows = repo::thread_page(&state.db, &id, reader(who))
        .await?
        .ok_or(AppError::NotFound)?;
    let clock = Clock {
        locale: initial_locale(),
        zone: zone_named(rows.zone.as_deref().unwrap_or("UTC")),
        now: state.clock.now(),
    };
    let t = rows.thread;
    let votes: std::collections::HashMap<&str, i64> = rows
        .votes
        .iter()
        .map(|v| (v.post.as_str(), v.value))
        .collect();
    let vote_on = |post: &str| votes.get(post).copied().unwrap_or(0);
    let kind = ThreadKind::parse(&t.kind).unwrap_or_default();
    let asker = who.is_some_and(|a| a.user.id.0 == t.author_id);
    let may_accept = kind == ThreadKind::Question && (asker || staff) && !t.locked;
    let accepted = t.accepted.clone();
    let opening = ReplyRow {
        id: t.id.clone(),
        body: t.body,
        author: t.author,
        author_id: t.author_id,
        author_reputation: t.author_reputation,
        created_at: t.created_at,
        edited: t.edited,
        score: t.score,
        hidden: t.hidden,
        deleted: t.deleted,
        removed_reason: t.removed_reason,
    };
    // Code in a question asked from an exercise opens in that exercise's editor; counting
    // the blocks parses each post once more, so only there.
    let blocks = |body: &str| match (&t.lesson, who) {
        (Some(_), Some(_)) => u32::try_from(markdown::code_blocks(body).len()).unwrap_or(0),
        _ => 0,
    };
    let opening_blocks = blocks(&opening.body);
    let mut post = post_view(opening, false, vote_on(&t.id), false, who, t.locked, &clock);
    post.code_blocks = opening_blocks;
    let mut replies: Vec<PostView> = rows
        .replies
        .into_iter()
        .map(|r| {
            let is_accepted = accepted.as_deref() == Some(r.id.as_str());
            let vote = vote_on(&r.id);
            let can_accept = may_accept && !r.hidden;
            let code_blocks = blocks(&r.body);
            PostView {
                code_blocks,
                ..post_view(r, is_accepted, vote, can_accept, who, t.locked, &clock)
            }
        })
        .collect();
    // The accepted answer first, then the rest in the order they were written.
    replies.sort_by_key(|r| !r.accepted);
    let following = match who {
        Some(a) => repo::follows(&state.db, &a.user.id, &t.id).await?,
        None => false,
    };
    let can_moderate = is_moderator(who);
    let move_to = if can_moderate {
        spaces_for(&state, who).await?
    } else {
        Vec::new()
    };
    Ok(ThreadView {
        following,
        can_moderate,
        move_to,
        title: t.title,
        kind,
        tags: t.tags,
        space: space_of(&t.space_kind, &t.space_slug),
        space_title: t.space_title,
        solved: t.solved,
        locked: t.locked,
        post,
        replies,
        signed_in: who.is_some(),
        can_reply: who.is_some() && !t.locked,
        draft_key: draft_key(who, &format!("reply:{}", t.id)),
        lesson: t.lesson,
        id: t.id,
    })
}

/// Creates a general space (moderators) and opens it.
#[server(endpoint = "create_forum_space")]
pub async fn create_space(
    slug: String,
    title: String,
    #[server(default)] description: String,
) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    if !is_moderator(Some(&who)) {
        return Err(AppError::Forbidden);
    }
    let slug = crate::courses::model::Slug::parse(&slug)?;
    let title = crate::courses::model::parse_title(&title)?;
    let description = description.trim();
    if description.chars().count() > 2000 {
        return Err(Problem::DescriptionTooLong.into());
    }
    repo::create_space(
        &state.db,
        slug.as_str(),
        &title,
        description,
        &who.user.id,
        state.clock.now(),
    )
    .await?;
    leptos_axum::redirect(&SpaceRef::General(slug.as_str().to_string()).href());
    Ok(())
}

/// Starts a thread in a space the caller can see, and opens it.
#[server(endpoint = "create_thread")]
pub async fn create_thread(
    space: String,
    #[server(default)] kind: String,
    title: String,
    body: String,
    #[server(default)] tags: String,
    #[server(default)] lesson: String,
) -> Result<String, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let space = SpaceRef::parse(&space).ok_or(AppError::NotFound)?;
    let (place, ..) = visible_space(&state, &space, Some(&who)).await?;
    let kind = ThreadKind::parse(&kind)?;
    let title = ThreadTitle::parse(&title)?;
    let body = PostBody::parse(&body)?;
    let tags = parse_tags(&tags)?;
    let lesson = asked_about(&state, &place, lesson.trim()).await?;
    may_post(&state, &who, &body).await?;
    let new = repo::NewThread {
        kind,
        title: title.as_str(),
        body: body.as_str(),
        tags: &tags,
        lesson: lesson.as_deref(),
    };
    let id = repo::create_thread(&state.db, &place, &who.user.id, new, state.clock.now()).await?;
    state.forum.refresh(&state.db, &id).await;
    leptos_axum::redirect(&format!("/forum/threads/{id}"));
    Ok(id)
}

/// Replies in a thread; its author is told (unless they wrote the reply).
#[server(endpoint = "post_reply")]
pub async fn post_reply(thread: String, body: String) -> Result<String, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let (meta, _) = visible_post(&state, &thread, Some(&who)).await?;
    if meta.is_reply {
        return Err(AppError::NotFound);
    }
    if meta.locked {
        return Err(Problem::ThreadLocked.into());
    }
    let body = PostBody::parse(&body)?;
    may_post(&state, &who, &body).await?;
    let by = who.user.display_name.clone();
    let title = meta.thread_title.clone();
    // One read serves both the mentions (`@name` reaches the people who wrote in this
    // thread, not anyone on the site) and the live badges to refresh after the write.
    let people: Vec<(String, String)> = repo::participants(&state.db, &meta.id)
        .await?
        .into_iter()
        .map(|p| (p.id, p.display_name))
        .collect();
    let mentioned = mentioned_people(&body.mentions(), &people);
    let id = repo::add_reply(
        &state.db,
        &meta.id,
        &who.user.id,
        body.as_str(),
        &Notice::ForumReplied {
            by: by.clone(),
            title: title.clone(),
        },
        &mentioned,
        &Notice::ForumMentioned { by, title },
        state.clock.now(),
    )
    .await?;
    state.forum.refresh(&state.db, &meta.id).await;
    // Whoever is connected sees the count change; the rows decide who was really told.
    let mut poke: Vec<String> = people
        .into_iter()
        .map(|(id, _)| id)
        .chain(mentioned)
        .filter(|u| *u != who.user.id.0)
        .collect();
    poke.sort();
    poke.dedup();
    state.notifier.poke(poke.iter().map(String::as_str));
    // A first answer earns a badge.
    state.awards.earned(&state, &who.user.id.0).await;
    leptos_axum::redirect(&format!("/forum/threads/{}#reply-{id}", meta.id));
    Ok(id)
}

/// A post's text for its edit form, with its edit history (anyone who can see the post can
/// read how it changed; only its author gets the form).
#[server(endpoint = "forum_post_source")]
pub async fn post_source(id: String) -> Result<PostEditView, AppError> {
    let state = AppState::get()?;
    let who = current().await?;
    let who = who.as_ref();
    let (post, _) = visible_post(&state, &id, who).await?;
    let clock = Clock::of(&state, who).await?;
    let revisions = repo::revisions(&state.db, &post)
        .await?
        .into_iter()
        .map(|r| RevisionView {
            title: r.title,
            body_html: markdown::render(&r.body),
            replaced: clock.label(r.replaced_at),
            replaced_by: person_name(&r.replaced_by, clock.locale),
        })
        .collect();
    Ok(PostEditView {
        draft_key: draft_key(who, &format!("edit:{}", post.id)),
        can_edit: who.is_some_and(|a| a.user.id.0 == post.author) && !post.locked,
        id: post.id,
        thread: post.thread,
        thread_title: post.thread_title,
        title: post.title,
        body: post.body,
        tags: post.tags.join(", "),
        revisions,
    })
}

/// Changes a post (its author only); what it said before stays in its history.
#[server(endpoint = "edit_forum_post")]
pub async fn edit_post(
    id: String,
    #[server(default)] title: String,
    body: String,
    #[server(default)] tags: String,
) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let (post, _) = visible_post(&state, &id, Some(&who)).await?;
    if post.author != who.user.id.0 {
        return Err(AppError::Forbidden);
    }
    if post.locked {
        return Err(Problem::ThreadLocked.into());
    }
    let body = PostBody::parse(&body)?;
    let (title, tags) = if post.is_reply {
        (None, None)
    } else {
        (Some(ThreadTitle::parse(&title)?), Some(parse_tags(&tags)?))
    };
    may_post(&state, &who, &body).await?;
    repo::edit_post(
        &state.db,
        &post,
        title.as_ref().map(ThreadTitle::as_str),
        body.as_str(),
        tags.as_deref(),
        &who.user.id,
        state.clock.now(),
    )
    .await?;
    state.forum.refresh(&state.db, &post.thread).await;
    let anchor = if post.is_reply {
        format!("#reply-{}", post.id)
    } else {
        String::new()
    };
    leptos_axum::redirect(&format!("/forum/threads/{}{anchor}", post.thread));
    Ok(())
}

/// Votes a post up or down, or takes the vote back (`up`, `down`, `none`): one vote per
/// person and post, never on one's own.
#[server(endpoint = "vote_forum_post")]
pub async fn vote_post(id: String, vote: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let vote = Vote::parse(&vote)?;
    let (post, _) = visible_post(&state, &id, Some(&who)).await?;
    if post.author == who.user.id.0 {
        return Err(Problem::OwnPost.into());
    }
    if post.locked {
        return Err(Problem::ThreadLocked.into());
    }
    repo::vote(
        &state.db,
        &who.user.id,
        &post,
        vote.value(),
        state.clock.now(),
    )
    .await?;
    state.forum.refresh(&state.db, &post.thread).await;
    Ok(())
}

/// Accepts an answer to a question (its asker, or the course's authors and moderators), or
/// with an empty `reply`, takes the acceptance back.
#[server(endpoint = "accept_answer")]
pub async fn accept_answer(
    thread: String,
    #[server(default)] reply: String,
) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let (meta, staff) = visible_post(&state, &thread, Some(&who)).await?;
    if meta.is_reply {
        return Err(AppError::NotFound);
    }
    if !(staff || meta.thread_author == who.user.id.0) {
        return Err(AppError::Forbidden);
    }
    if ThreadKind::parse(&meta.thread_kind).unwrap_or_default() != ThreadKind::Question {
        return Err(Problem::NotAQuestion.into());
    }
    if meta.locked {
        return Err(Problem::ThreadLocked.into());
    }
    let reply = reply.trim();
    let answer = if reply.is_empty() {
        None
    } else {
        let (answer, _) = visible_post(&state, reply, Some(&who)).await?;
        if !answer.is_reply || answer.thread != meta.id || answer.hidden {
            return Err(AppError::NotFound);
        }
        Some(answer)
    };
    let notice = Notice::ForumAccepted {
        by: who.user.display_name.clone(),
        title: meta.thread_title.clone(),
    };
    repo::accept(
        &state.db,
        &meta.id,
        answer.as_ref().map(|a| a.id.as_str()),
        &notice,
        state.clock.now(),
    )
    .await?;
    state.forum.refresh(&state.db, &meta.id).await;
    if let Some(a) = answer
        && a.author != meta.thread_author
    {
        state.notifier.poke([a.author.as_str()]);
        state.awards.earned(&state, &a.author).await;
    }
    Ok(())
}

/// Searches every thread the caller may see: titles, tags, questions and replies, with
/// filters by space, tag, solved state and "mine", the best matches first.
#[server(endpoint = "search_forum")]
pub async fn search_forum(
    #[server(default)] q: String,
    #[server(default)] space: String,
    #[server(default)] tag: String,
    #[server(default)] solved: String,
    #[server(default)] mine: String,
    #[server(default)] page: u32,
) -> Result<SearchResults, AppError> {
    let state = AppState::get()?;
    let who = current().await?;
    let who = who.as_ref();
    let query = SearchQuery::parse(&q, &space, &tag, &solved, &mine, page);
    let me = who.map(|a| a.user.id.0.as_str());
    let moderator = is_moderator(who);
    let (found, total) = state.forum.search(&query, |row| {
        may_find(&state, me, moderator, row) && (!query.mine || me == Some(row.author_id.as_str()))
    })?;
    let clock = Clock::of(&state, who).await?;
    let shown = i64::from(query.page + 1) * i64::from(SEARCH_PAGE_SIZE);
    let hits = found
        .into_iter()
        .map(|f| {
            let row = f.row;
            SearchHit {
                title_html: crate::search::marked_html(
                    f.title_marked.as_deref().unwrap_or(&row.title),
                ),
                snippet_html: crate::search::marked_html(&f.snippet),
                thread: summary(
                    ThreadRow {
                        id: row.id,
                        title: row.title,
                        kind: row.kind,
                        author: row.author,
                        author_id: row.author_id,
                        author_reputation: 0,
                        tags: row.tags,
                        score: row.score,
                        reply_count: row.reply_count,
                        solved: row.solved,
                        hidden: row.hidden,
                        locked: row.locked,
                        created_at: row.created_at,
                        space_kind: row.space_kind,
                        space_slug: row.space_slug,
                        space_title: row.space_title,
                    },
                    &clock,
                ),
            }
        })
        .collect();
    Ok(SearchResults {
        more: total > shown,
        query,
        hits,
        total,
        spaces: spaces_for(&state, who).await?,
        signed_in: who.is_some(),
    })
}

/// Reports a post to the moderators, with a reason (once per person and post).
#[server(endpoint = "report_forum_post")]
pub async fn report_post(id: String, reason: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let (post, _) = visible_post(&state, &id, Some(&who)).await?;
    let reason = parse_reason(&reason)?;
    repo::report(&state.db, &who.user.id, &post, &reason, state.clock.now()).await
}

/// The moderators' queue: reported posts, the longest-waiting first.
#[server(endpoint = "moderation_queue")]
pub async fn moderation_queue() -> Result<Vec<ReportedPost>, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    if !is_moderator(Some(&who)) {
        return Err(AppError::Forbidden);
    }
    let clock = Clock::of(&state, Some(&who)).await?;
    Ok(repo::open_reports(&state.db)
        .await?
        .into_iter()
        .map(|r| ReportedPost {
            excerpt: r.body.chars().take(300).collect(),
            first_reported: clock.label(r.first_at),
            post: r.post,
            thread: r.thread,
            thread_title: r.thread_title,
            author: person_name(&r.author, clock.locale),
            hidden: r.hidden,
            reasons: r.reasons,
        })
        .collect())
}

/// A moderator's action on a post: `hide`, `restore`, `delete` (with a reason the author is
/// given), or on its thread `lock` and `unlock`. Audited; closes the post's reports.
#[server(endpoint = "moderate_forum_post")]
pub async fn moderate_post(
    id: String,
    action: String,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    if !is_moderator(Some(&who)) {
        return Err(AppError::Forbidden);
    }
    let action = repo::Moderation::parse(&action).ok_or(Problem::ModerationInvalid)?;
    let (post, _) = visible_post(&state, &id, Some(&who)).await?;
    let reason = match action {
        repo::Moderation::Delete => parse_reason(&reason)?,
        _ => reason.trim().chars().take(500).collect(),
    };
    repo::moderate(
        &state.db,
        &post,
        action,
        &reason,
        &who.user.id,
        state.clock.now(),
    )
    .await?;
    state.forum.refresh(&state.db, &post.thread).await;
    Ok(())
}

/// Moves a thread to another space (moderators), audited.
#[server(endpoint = "move_forum_thread")]
pub async fn move_thread(id: String, space: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    if !is_moderator(Some(&who)) {
        return Err(AppError::Forbidden);
    }
    let (post, _) = visible_post(&state, &id, Some(&who)).await?;
    if post.is_reply {
        return Err(AppError::NotFound);
    }
    let to = SpaceRef::parse(&space).ok_or(AppError::NotFound)?;
    let (place, ..) = visible_space(&state, &to, Some(&who)).await?;
    repo::move_thread(&state.db, &post, &place, &who.user.id, state.clock.now()).await?;
    state.forum.refresh(&state.db, &post.id).await;
    Ok(())
}

/// A question prefilled from the caller's own failing submission, for the course's space:
/// the code as a fenced block, the visible tests it fails with what they expected and what
/// came back, and a link back to the exercise. Hidden tests are only counted, never shown.
#[server(endpoint = "forum_help_draft")]
pub async fn help_draft(submission: String) -> Result<QuestionDraft, AppError> {
    use crate::exercises::{
        api::backend::{stored_results, visible_submission},
        model::Outcome,
    };
    let state = AppState::get()?;
    let who = require_user().await?;
    let (row, _) = visible_submission(&state, &submission, &who).await?;
    // A reviewer may read a learner's submission; only the learner asks about it.
    if row.learner != who.user.id.0 {
        return Err(AppError::NotFound);
    }
    let course = crate::courses::repo::course_by_id(&state.db, &row.course)
        .await?
        .ok_or(AppError::NotFound)?;
    let lesson = crate::courses::repo::lesson(&state.db, &row.lesson)
        .await?
        .ok_or(AppError::NotFound)?;
    let words = initial_locale().strings().forum;
    let results = stored_results(&row)?;
    let mut failing = String::new();
    for r in results
        .iter()
        .filter(|r| !r.test.hidden && !r.verdict.passed)
    {
        let got = match &r.verdict.outcome {
            Outcome::Returned { value } => format!("`{value}`"),
            Outcome::Threw { message } => format!("{} `{message}`", words.help_threw),
            Outcome::TimedOut => words.help_timed_out.to_string(),
        };
        failing.push_str(&format!(
            "- `{}` — {} `{}`, {} {got}\n",
            r.test.call, words.help_expected, r.test.expected, words.help_got
        ));
    }
    let hidden_failing = results
        .iter()
        .filter(|r| r.test.hidden && !r.verdict.passed)
        .count();
    if hidden_failing > 0 {
        failing.push_str(&format!(
            "- {}\n",
            words
                .help_hidden_failing
                .replace("{n}", &hidden_failing.to_string())
        ));
    }
    let fence = code_fence(&row.code);
    let body = format!(
        "{} [{}](/lessons/{}).\n\n{fence}js\n{}\n{fence}\n\n{}\n{failing}\n{}",
        words.help_intro,
        lesson.title,
        row.lesson,
        row.code.trim_end(),
        words.help_failing,
        words.help_tried,
    );
    Ok(QuestionDraft {
        space: SpaceRef::Course(course.slug),
        space_title: course.title,
        title: words.help_title.replace("{lesson}", &lesson.title),
        body,
        tags: "javascript".into(),
        draft_key: draft_key(Some(&who), &format!("ask:{submission}")),
        lesson: row.lesson,
    })
}

/// The `block`-th code block (from 0) of a post the caller can see, in a question asked from
/// an exercise: what "open in the exercise" puts in that exercise's editor.
#[server(endpoint = "forum_answer_code")]
pub async fn answer_code(post: String, block: u32) -> Result<OpenedCode, AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let (meta, _) = visible_post(&state, &post, Some(&who)).await?;
    let lesson = meta.lesson.clone().ok_or(AppError::NotFound)?;
    let code = markdown::code_blocks(&meta.body)
        .into_iter()
        .nth(usize::try_from(block).unwrap_or(usize::MAX))
        .ok_or(AppError::NotFound)?;
    Ok(OpenedCode {
        lesson,
        thread: meta.thread,
        post: meta.id,
        author: meta.author_name,
        code,
    })
}

/// Up to five threads the caller can see whose titles and text are most like `title`, for
/// the "similar questions" list beside a new question's title.
#[server(endpoint = "forum_similar")]
pub async fn similar_threads(title: String) -> Result<Vec<SimilarThread>, AppError> {
    let state = AppState::get()?;
    let who = current().await?;
    let me = who.as_ref().map(|a| a.user.id.0.as_str());
    let moderator = is_moderator(who.as_ref());
    // Cut to a thread title's length; a title of a few letters finds nothing useful yet.
    let title: String = title.chars().take(TITLE_MAX).collect();
    if title.trim().chars().count() < 4 {
        return Ok(Vec::new());
    }
    let found = state
        .forum
        .similar(&title, |row| may_find(&state, me, moderator, row), 5)?;
    Ok(found
        .into_iter()
        .map(|f| SimilarThread {
            title_html: crate::search::marked_html(
                f.title_marked.as_deref().unwrap_or(&f.row.title),
            ),
            id: f.row.id,
            solved: f.row.solved,
            replies: f.row.reply_count,
        })
        .collect())
}

/// Follows a thread (`follow=true`: told of each new answer) or stops following it.
#[server(endpoint = "follow_forum_thread")]
pub async fn follow_thread(id: String, follow: String) -> Result<(), AppError> {
    let state = AppState::get()?;
    let who = require_user().await?;
    let (post, _) = visible_post(&state, &id, Some(&who)).await?;
    if post.is_reply {
        return Err(AppError::NotFound);
    }
    repo::set_follow(
        &state.db,
        &who.user.id,
        &post.id,
        follow.trim() == "true",
        state.clock.now(),
    )
    .await
}
