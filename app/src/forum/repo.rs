//! Forum queries (server only). Counts a page shows (replies, votes, reputation) are kept by
//! the transactions that change them, so reading a list never adds anything up; checks that
//! decide between two writers run inside the transaction and refuse with `THROW 'pw:<problem>'`.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use crate::{
    accounts::repo::{AuditKind, audit_stmt},
    db::{Db, fail_on_errors, internal, new_key, transact_with_retry, user_record},
    error::{AppError, Problem},
    forum::model::{ACCEPT_REPUTATION, PAGE_SIZE, Sort, ThreadKind, vote_reputation},
    ids::UserId,
    notify::{
        model::{Notice, NoticeKind},
        repo::{bind_notice, notify_stmt},
    },
};

pub fn thread_rec(id: &str) -> RecordId {
    RecordId::new("forum_thread", id)
}

pub fn reply_rec(id: &str) -> RecordId {
    RecordId::new("forum_reply", id)
}

fn follow_rec(user: &UserId, thread: &str) -> RecordId {
    RecordId::new("forum_follow", format!("{}_{thread}", user.0))
}

/// Who is reading: hidden posts stay visible to their author and to moderators, drafts'
/// spaces to the course's authors and admins.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    pub me: Option<&'a UserId>,
    pub moderator: bool,
}

impl Reader<'_> {
    fn me(&self) -> Option<RecordId> {
        self.me.map(user_record)
    }
}

/// Where threads live: a general space's record key, or a course's.
#[derive(Clone, Debug)]
pub enum Place {
    Space(String),
    Course(String),
}

// ---------------------------------------------------------------------------------------------
// Spaces

#[derive(Clone, Debug, SurrealValue)]
pub struct SpaceRow {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub description: String,
}

// The number of threads in each space comes from the search index (`ForumIndex::counts`):
// counting them here read every thread of the space on every forum page.
const SPACE_FIELDS: &str = "record::id(id) AS id, slug, title, description";

pub async fn general_spaces(db: &Db) -> Result<Vec<SpaceRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {SPACE_FIELDS} FROM forum_space ORDER BY created_at ASC LIMIT 100"
        ))
        .await
        .map_err(internal("forum spaces"))?;
    res.take(0).map_err(internal("forum spaces"))
}

pub async fn space_by_slug(db: &Db, slug: &str) -> Result<Option<SpaceRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {SPACE_FIELDS} FROM forum_space WHERE slug = $slug LIMIT 1"
        ))
        .bind(("slug", slug.to_string()))
        .await
        .map_err(internal("forum space"))?;
    res.take(0).map_err(internal("forum space"))
}

pub async fn create_space(
    db: &Db,
    slug: &str,
    title: &str,
    description: &str,
    by: &UserId,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let res = db
        .query(
            "CREATE forum_space SET slug = $slug, title = $title, description = $description,
                created_by = $by, created_at = $now",
        )
        .bind(("slug", slug.to_string()))
        .bind(("title", title.to_string()))
        .bind(("description", description.to_string()))
        .bind(("by", user_record(by)))
        .bind(("now", now))
        .await
        .map_err(internal("create forum space"))?;
    fail_on_errors(res, "create forum space", Problem::SpaceTaken)
}

/// Threads per course, for the course spaces a reader is shown on the forum's home.
pub async fn course_spaces(db: &Db, reader: Reader<'_>) -> Result<Vec<SpaceRow>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(id) AS id, slug, title, summary AS description
             FROM course
             WHERE id IN (SELECT VALUE out FROM enrolled WHERE in = $me) OR $me IN authors
             ORDER BY title ASC LIMIT 50",
        )
        .bind(("me", reader.me()))
        .await
        .map_err(internal("course spaces"))?;
    res.take(0).map_err(internal("course spaces"))
}

// ---------------------------------------------------------------------------------------------
// Threads

#[derive(Clone, Debug, SurrealValue)]
pub struct ThreadRow {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub author: String,
    pub author_id: String,
    pub author_reputation: i64,
    pub tags: Vec<String>,
    pub score: i64,
    pub reply_count: i64,
    pub solved: bool,
    pub hidden: bool,
    pub locked: bool,
    pub created_at: DateTime<Utc>,
    pub space_kind: String,
    pub space_slug: String,
    pub space_title: String,
}

impl ThreadRow {
    pub fn kind(&self) -> ThreadKind {
        ThreadKind::parse(&self.kind).unwrap_or_default()
    }
}

const THREAD_FIELDS: &str = "record::id(id) AS id, title, kind, author.display_name AS author, \
     record::id(author) AS author_id, author.reputation ?? 0 AS author_reputation, tags, score, \
     reply_count, accepted != NONE AS solved, hidden, locked, created_at, \
     (IF space != NONE THEN 'spaces' ELSE 'courses' END) AS space_kind, \
     (IF space != NONE THEN space.slug ELSE course.slug END) AS space_slug, \
     (IF space != NONE THEN space.title ELSE course.title END) AS space_title";

/// Hidden posts only for their author and moderators, deleted ones for moderators alone.
const SEEN_BY_READER: &str = "(hidden = false OR (author = $me AND deleted = false) OR $moderator)";

/// One page of a space's threads, plus whether another page follows.
pub async fn threads_in(
    db: &Db,
    place: &Place,
    sort: Sort,
    page: u32,
    reader: Reader<'_>,
) -> Result<(Vec<ThreadRow>, bool), AppError> {
    let (field, key) = match place {
        Place::Space(id) => ("space", RecordId::new("forum_space", id.as_str())),
        Place::Course(id) => ("course", RecordId::new("course", id.as_str())),
    };
    let (filter, order) = match sort {
        Sort::Active => ("", "last_activity DESC"),
        Sort::Votes => ("", "score DESC, last_activity DESC"),
        Sort::Unanswered => (
            "AND kind = 'question' AND reply_count = 0",
            "created_at ASC",
        ),
    };
    let mut res = db
        .query(format!(
            "SELECT {THREAD_FIELDS}, last_activity FROM forum_thread
             WHERE {field} = $place AND {SEEN_BY_READER} {filter}
             ORDER BY {order} LIMIT $limit START $start"
        ))
        .bind(("place", key))
        .bind(("me", reader.me()))
        .bind(("moderator", reader.moderator))
        .bind(("limit", i64::from(PAGE_SIZE) + 1))
        .bind(("start", i64::from(page) * i64::from(PAGE_SIZE)))
        .await
        .map_err(internal("forum threads"))?;
    let mut rows: Vec<ThreadRow> = res.take(0).map_err(internal("forum threads"))?;
    let more = rows.len() > PAGE_SIZE as usize;
    rows.truncate(PAGE_SIZE as usize);
    Ok((rows, more))
}

/// The newest activity in every space the reader may see.
pub async fn recent_threads(
    db: &Db,
    reader: Reader<'_>,
    limit: i64,
) -> Result<Vec<ThreadRow>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {THREAD_FIELDS}, last_activity FROM forum_thread
             WHERE {SEEN_BY_READER}
                AND (space != NONE OR course.published = true OR $me IN course.authors OR $moderator)
             ORDER BY last_activity DESC LIMIT $limit"
        ))
        .bind(("me", reader.me()))
        .bind(("moderator", reader.moderator))
        .bind(("limit", limit))
        .await
        .map_err(internal("recent threads"))?;
    res.take(0).map_err(internal("recent threads"))
}

/// Unanswered questions in the courses `staff` authors, the longest-waiting first.
pub async fn waiting_questions(db: &Db, staff: &UserId) -> Result<Vec<ThreadRow>, AppError> {
    let mut res = db
        .query(format!(
            "LET $mine = (SELECT VALUE id FROM course WHERE $me IN authors);
             SELECT {THREAD_FIELDS} FROM forum_thread
             WHERE course IN $mine AND kind = 'question' AND reply_count = 0 AND hidden = false
             ORDER BY created_at ASC LIMIT 20"
        ))
        .bind(("me", user_record(staff)))
        .await
        .map_err(internal("waiting questions"))?;
    res.take(1).map_err(internal("waiting questions"))
}

/// A thread's opening post and its facts, as the thread page needs them.
#[derive(Clone, Debug, SurrealValue)]
pub struct ThreadFull {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub author: String,
    pub author_id: String,
    pub author_reputation: i64,
    pub tags: Vec<String>,
    pub score: i64,
    pub reply_count: i64,
    pub solved: bool,
    pub hidden: bool,
    pub locked: bool,
    pub created_at: DateTime<Utc>,
    pub space_kind: String,
    pub space_slug: String,
    pub space_title: String,
    pub body: String,
    pub edited: bool,
    pub accepted: Option<String>,
    pub deleted: bool,
    pub removed_reason: Option<String>,
    /// The exercise the question was asked from.
    pub lesson: Option<String>,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct ReplyRow {
    pub id: String,
    pub body: String,
    pub author: String,
    pub author_id: String,
    pub author_reputation: i64,
    pub created_at: DateTime<Utc>,
    pub edited: bool,
    pub score: i64,
    pub hidden: bool,
    pub deleted: bool,
    pub removed_reason: Option<String>,
}

#[derive(Clone, Debug, SurrealValue)]
pub struct MyVote {
    pub post: String,
    pub value: i64,
}

/// A thread with its replies (hidden ones only for their author and moderators), the
/// reader's votes on it and the reader's time zone.
pub struct ThreadPageRows {
    pub thread: ThreadFull,
    pub replies: Vec<ReplyRow>,
    pub votes: Vec<MyVote>,
    pub zone: Option<String>,
}

pub async fn thread_page(
    db: &Db,
    id: &str,
    reader: Reader<'_>,
) -> Result<Option<ThreadPageRows>, AppError> {
    let mut res = db
        .query(format!(
            "SELECT {THREAD_FIELDS}, body, edited_at != NONE AS edited,
                (IF accepted != NONE THEN record::id(accepted) ELSE NONE END) AS accepted,
                deleted, removed_reason,
                (IF lesson != NONE THEN record::id(lesson) ELSE NONE END) AS lesson
             FROM ONLY $t;
             SELECT record::id(id) AS id, body, author.display_name AS author,
                record::id(author) AS author_id, author.reputation ?? 0 AS author_reputation,
                created_at, edited_at != NONE AS edited, score, hidden, deleted, removed_reason
             FROM forum_reply WHERE thread = $t AND {SEEN_BY_READER} ORDER BY created_at ASC;
             SELECT record::id(post) AS post, value FROM forum_vote WHERE thread = $t AND voter = $me;
             RETURN IF $me != NONE THEN $me.timezone ELSE NONE END;"
        ))
        .bind(("t", thread_rec(id)))
        .bind(("me", reader.me()))
        .bind(("moderator", reader.moderator))
        .await
        .map_err(internal("forum thread"))?;
    let thread: Option<ThreadFull> = res.take(0).map_err(internal("forum thread"))?;
    let Some(thread) = thread else {
        return Ok(None);
    };
    Ok(Some(ThreadPageRows {
        thread,
        replies: res.take(1).map_err(internal("forum replies"))?,
        votes: res.take(2).map_err(internal("forum votes"))?,
        zone: res.take(3).map_err(internal("forum reader zone"))?,
    }))
}

/// What a new thread says: its kind, title, body and tags, and the exercise it asks about.
pub struct NewThread<'a> {
    pub kind: ThreadKind,
    pub title: &'a str,
    pub body: &'a str,
    pub tags: &'a [String],
    pub lesson: Option<&'a str>,
}

/// A new thread, where `place` says; answers its id.
pub async fn create_thread(
    db: &Db,
    place: &Place,
    author: &UserId,
    new: NewThread<'_>,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let id = new_key();
    let (space, course) = match place {
        Place::Space(s) => (Some(RecordId::new("forum_space", s.as_str())), None),
        Place::Course(c) => (None, Some(RecordId::new("course", c.as_str()))),
    };
    let res = db
        .query(
            "BEGIN TRANSACTION;
             CREATE $t SET space = $space, course = $course, author = $author, kind = $kind,
                title = $title, body = $body, tags = $tags, lesson = $lesson,
                created_at = $now, last_activity = $now;
             CREATE $follow SET user = $author, thread = $t, at = $now;
             COMMIT TRANSACTION;",
        )
        .bind(("t", thread_rec(&id)))
        .bind(("follow", follow_rec(author, &id)))
        .bind(("space", space))
        .bind(("course", course))
        .bind(("author", user_record(author)))
        .bind(("kind", new.kind.key()))
        .bind(("title", new.title.to_string()))
        .bind(("body", new.body.to_string()))
        .bind(("tags", new.tags.to_vec()))
        .bind(("lesson", new.lesson.map(|l| RecordId::new("lesson", l))))
        .bind(("now", now))
        .await
        .map_err(internal("create thread"))?;
    fail_on_errors(res, "create thread", Problem::TryAgain)?;
    Ok(id)
}

/// A reply, counted on its thread; its writer then follows the thread; everyone else who
/// follows it is told, and the people `mentioned` who were not are told they were named —
/// all in one transaction. A locked or hidden thread refuses it inside that transaction, so
/// a lock that lands first always wins.
#[expect(
    clippy::too_many_arguments,
    reason = "the reply, and the two notices it sends"
)]
pub async fn add_reply(
    db: &Db,
    thread: &str,
    author: &UserId,
    body: &str,
    notice: &Notice,
    mentioned: &[String],
    mention: &Notice,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let id = new_key();
    let query = format!(
        "BEGIN TRANSACTION;
         LET $thread = (SELECT author, locked, hidden FROM ONLY $t);
         IF $thread = NONE OR $thread.hidden {{ THROW 'pw:try_again'; }};
         IF $thread.locked {{ THROW 'pw:thread_locked'; }};
         CREATE $r SET thread = $t, author = $author, body = $body, created_at = $now;
         UPDATE $t SET reply_count += 1, last_activity = $now;
         UPSERT $follow SET user = $author, thread = $t, at = $now;
         LET $followers = (SELECT VALUE user FROM forum_follow WHERE thread = $t AND user != $author);
         FOR $f IN $followers {{ {} }};
         FOR $m IN $mentioned {{
            IF $m != $author AND $m NOT IN $followers {{ {} }};
         }};
         COMMIT TRANSACTION;",
        notify_stmt("$f", NoticeKind::Forum, "$notice", "$link"),
        notify_stmt("$m", NoticeKind::Mention, "$mention", "$link"),
    );
    let mentioned: Vec<RecordId> = mentioned
        .iter()
        .map(|u| RecordId::new("user", u.as_str()))
        .collect();
    let res = transact_with_retry("add reply", Problem::TryAgain, || {
        db.query(query.as_str())
            .bind(("t", thread_rec(thread)))
            .bind(("r", reply_rec(&id)))
            .bind(("follow", follow_rec(author, thread)))
            .bind(("author", user_record(author)))
            .bind(("body", body.to_string()))
            .bind(("notice", bind_notice(notice)))
            .bind(("mention", bind_notice(mention)))
            .bind(("mentioned", mentioned.clone()))
            .bind(("link", format!("/forum/threads/{thread}#reply-{id}")))
            .bind(("now", now))
            .into_future()
    })
    .await;
    res.map(|_| id)
}

/// Starts or stops `user` following `thread`.
pub async fn set_follow(
    db: &Db,
    user: &UserId,
    thread: &str,
    follow: bool,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let query = if follow {
        "UPSERT $f SET user = $u, thread = $t, at = $now"
    } else {
        "DELETE $f"
    };
    let res = db
        .query(query)
        .bind(("f", follow_rec(user, thread)))
        .bind(("u", user_record(user)))
        .bind(("t", thread_rec(thread)))
        .bind(("now", now))
        .await
        .map_err(internal("follow thread"))?;
    fail_on_errors(res, "follow thread", Problem::TryAgain)
}

/// Who has written in a thread (its asker and everyone who answered), with their names, for
/// reading `@name` mentions; and whether `reader` follows it.
pub async fn participants(db: &Db, thread: &str) -> Result<Vec<Participant>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(id) AS id, display_name FROM array::distinct(array::concat(
                [(SELECT VALUE author FROM ONLY $t)],
                (SELECT VALUE author FROM forum_reply WHERE thread = $t AND hidden = false)
             ))",
        )
        .bind(("t", thread_rec(thread)))
        .await
        .map_err(internal("thread participants"))?;
    res.take(0).map_err(internal("thread participants"))
}

#[derive(Clone, Debug, SurrealValue)]
pub struct Participant {
    pub id: String,
    pub display_name: String,
}

pub async fn follows(db: &Db, user: &UserId, thread: &str) -> Result<bool, AppError> {
    let mut res = db
        .query("RETURN record::exists($f)")
        .bind(("f", follow_rec(user, thread)))
        .await
        .map_err(internal("follows"))?;
    Ok(res
        .take::<Option<bool>>(0)
        .map_err(internal("follows"))?
        .unwrap_or(false))
}

/// Posts `author` wrote since `since` (threads and replies), for the limit on new accounts.
pub async fn posts_since(db: &Db, author: &UserId, since: DateTime<Utc>) -> Result<i64, AppError> {
    let mut res = db
        .query(
            "RETURN count(SELECT VALUE id FROM forum_thread WHERE author = $a AND created_at > $since)
                + count(SELECT VALUE id FROM forum_reply WHERE author = $a AND created_at > $since);",
        )
        .bind(("a", user_record(author)))
        .bind(("since", since))
        .await
        .map_err(internal("posts since"))?;
    Ok(res
        .take::<Option<i64>>(0)
        .map_err(internal("posts since"))?
        .unwrap_or(0))
}

// ---------------------------------------------------------------------------------------------
// One post (a thread's opening post or a reply)

/// What decides who may do what to a post.
#[derive(Clone, Debug, SurrealValue)]
pub struct PostMeta {
    pub id: String,
    pub is_reply: bool,
    pub author: String,
    pub thread: String,
    pub thread_title: String,
    pub thread_author: String,
    pub thread_kind: String,
    pub locked: bool,
    pub hidden: bool,
    pub deleted: bool,
    pub thread_hidden: bool,
    pub thread_deleted: bool,
    pub space_kind: String,
    pub space_slug: String,
    pub title: Option<String>,
    pub body: String,
    pub tags: Vec<String>,
    /// The accepted answer of the post's thread.
    pub accepted: Option<String>,
    /// The exercise the post's thread was asked from.
    pub lesson: Option<String>,
    pub author_name: String,
}

impl PostMeta {
    /// `forum_thread:<key>` or `forum_reply:<key>`, as the audit log names a post.
    pub fn name(&self) -> String {
        let table = if self.is_reply {
            "forum_reply"
        } else {
            "forum_thread"
        };
        format!("{table}:{}", self.id)
    }

    pub fn record(&self) -> RecordId {
        if self.is_reply {
            reply_rec(&self.id)
        } else {
            thread_rec(&self.id)
        }
    }
}

/// A post by its key: thread keys and reply keys are random, so one key names one post.
pub async fn post(db: &Db, id: &str) -> Result<Option<PostMeta>, AppError> {
    let mut res = db
        .query(
            "LET $thread = (SELECT * FROM ONLY $t);
             LET $reply = (SELECT * FROM ONLY $r);
             LET $th = IF $thread != NONE THEN $thread ELSE IF $reply != NONE THEN (SELECT * FROM ONLY $reply.thread) ELSE NONE END;
             RETURN IF $th = NONE THEN NONE ELSE {
                id: $id,
                is_reply: $thread = NONE,
                author: record::id(IF $thread != NONE THEN $thread.author ELSE $reply.author END),
                thread: record::id($th.id),
                thread_title: $th.title,
                thread_author: record::id($th.author),
                thread_kind: $th.kind,
                locked: $th.locked,
                hidden: IF $thread != NONE THEN $thread.hidden ELSE $reply.hidden END,
                deleted: IF $thread != NONE THEN $thread.deleted ELSE $reply.deleted END,
                thread_hidden: $th.hidden,
                thread_deleted: $th.deleted,
                space_kind: IF $th.space != NONE THEN 'spaces' ELSE 'courses' END,
                space_slug: IF $th.space != NONE THEN $th.space.slug ELSE $th.course.slug END,
                title: IF $thread != NONE THEN $thread.title ELSE NONE END,
                body: IF $thread != NONE THEN $thread.body ELSE $reply.body END,
                tags: IF $thread != NONE THEN $thread.tags ELSE [] END,
                accepted: IF $th.accepted != NONE THEN record::id($th.accepted) ELSE NONE END,
                lesson: IF $th.lesson != NONE THEN record::id($th.lesson) ELSE NONE END,
                author_name: (IF $thread != NONE THEN $thread.author ELSE $reply.author END).display_name,
             } END;",
        )
        .bind(("id", id.to_string()))
        .bind(("t", thread_rec(id)))
        .bind(("r", reply_rec(id)))
        .await
        .map_err(internal("forum post"))?;
    res.take(3).map_err(internal("forum post"))
}

/// Replaces a post's text (and a thread's title and tags), keeping what it said before in
/// its edit history, in one transaction.
pub async fn edit_post(
    db: &Db,
    post: &PostMeta,
    title: Option<&str>,
    body: &str,
    tags: Option<&[String]>,
    editor: &UserId,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let res = db
        .query(
            "BEGIN TRANSACTION;
             LET $old = (SELECT * FROM ONLY $p);
             CREATE forum_revision SET post = $p, title = $old.title, body = $old.body,
                written_at = $old.edited_at ?? $old.created_at, replaced_at = $now,
                replaced_by = $editor;
             UPDATE $p SET body = $body, edited_at = $now;
             IF $title != NONE { UPDATE $p SET title = $title, tags = $tags; };
             COMMIT TRANSACTION;",
        )
        .bind(("p", post.record()))
        .bind(("title", title.map(str::to_string)))
        .bind(("tags", tags.map(<[String]>::to_vec)))
        .bind(("body", body.to_string()))
        .bind(("editor", user_record(editor)))
        .bind(("now", now))
        .await
        .map_err(internal("edit post"))?;
    fail_on_errors(res, "edit post", Problem::TryAgain)
}

#[derive(Clone, Debug, SurrealValue)]
pub struct RevisionRow {
    pub title: Option<String>,
    pub body: String,
    pub replaced_at: DateTime<Utc>,
    pub replaced_by: String,
}

pub async fn revisions(db: &Db, post: &PostMeta) -> Result<Vec<RevisionRow>, AppError> {
    let mut res = db
        .query(
            "SELECT title, body, replaced_at, replaced_by.display_name AS replaced_by
             FROM forum_revision WHERE post = $p ORDER BY replaced_at DESC LIMIT 100",
        )
        .bind(("p", post.record()))
        .await
        .map_err(internal("post revisions"))?;
    res.take(0).map_err(internal("post revisions"))
}

/// Sets `voter`'s vote on `post` (0 takes it back): the vote, the post's score and its
/// author's reputation change together. The vote's id is made of the voter and the post, so
/// two votes at once by one person are one record; the transaction reads the old value
/// itself, so whichever of two such writes commits second adjusts from the first's value.
pub async fn vote(
    db: &Db,
    voter: &UserId,
    post: &PostMeta,
    value: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let table = if post.is_reply {
        "forum_reply"
    } else {
        "forum_thread"
    };
    let vote_id = RecordId::new("forum_vote", format!("{}_{table}_{}", voter.0, post.id));
    let up = vote_reputation(post.is_reply, 1);
    let down = vote_reputation(post.is_reply, -1);
    let query = "BEGIN TRANSACTION;
         LET $old = (SELECT VALUE value FROM ONLY $v) ?? 0;
         IF $value = 0 { DELETE $v; } ELSE {
            UPSERT $v SET voter = $voter, post = $p, thread = $t, author = $author,
                value = $value, at = $now;
         };
         UPDATE $p SET score += $value - $old;
         LET $gain = IF $value = 1 THEN $up ELSE IF $value = -1 THEN $down ELSE 0 END;
         LET $loss = IF $old = 1 THEN $up ELSE IF $old = -1 THEN $down ELSE 0 END;
         UPDATE $author SET reputation = (reputation ?? 0) + $gain - $loss;
         COMMIT TRANSACTION;";
    transact_with_retry("vote", Problem::TryAgain, || {
        db.query(query)
            .bind(("v", vote_id.clone()))
            .bind(("voter", user_record(voter)))
            .bind(("p", post.record()))
            .bind(("t", thread_rec(&post.thread)))
            .bind(("author", RecordId::new("user", post.author.as_str())))
            .bind(("value", value))
            .bind(("up", up))
            .bind(("down", down))
            .bind(("now", now))
            .into_future()
    })
    .await
    .map(drop)
}

/// Marks `reply` as the thread's accepted answer (or none): the reputation for an accepted
/// answer moves from the previous one's author to the new one's (never to the asker for
/// answering themself), and the new answer's author is told.
pub async fn accept(
    db: &Db,
    thread: &str,
    reply: Option<&str>,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let query = format!(
        "BEGIN TRANSACTION;
         LET $asker = (SELECT VALUE author FROM ONLY $t);
         LET $prev = (SELECT VALUE accepted FROM ONLY $t);
         IF $r != NONE AND (SELECT VALUE thread FROM ONLY $r) != $t {{ THROW 'pw:not_a_question'; }};
         IF $prev != $r {{
            IF $prev != NONE {{
                LET $pa = (SELECT VALUE author FROM ONLY $prev);
                IF $pa != $asker {{ UPDATE $pa SET reputation = (reputation ?? 0) - $rep; }};
            }};
            IF $r != NONE {{
                LET $na = (SELECT VALUE author FROM ONLY $r);
                IF $na != $asker {{
                    UPDATE $na SET reputation = (reputation ?? 0) + $rep;
                    {}
                }};
            }};
            UPDATE $t SET accepted = $r, accepted_at = IF $r != NONE THEN $now ELSE NONE END;
         }};
         COMMIT TRANSACTION;",
        notify_stmt("$na", NoticeKind::Forum, "$notice", "$link")
    );
    transact_with_retry("accept answer", Problem::TryAgain, || {
        db.query(query.as_str())
            .bind(("t", thread_rec(thread)))
            .bind(("r", reply.map(reply_rec)))
            .bind(("rep", ACCEPT_REPUTATION))
            .bind(("notice", bind_notice(notice)))
            .bind((
                "link",
                format!(
                    "/forum/threads/{thread}#reply-{}",
                    reply.unwrap_or_default()
                ),
            ))
            .bind(("now", now))
            .into_future()
    })
    .await
    .map(drop)
}

/// A reader's time zone (UTC for someone signed out or unknown).
pub async fn zone_of(db: &Db, user: Option<&UserId>) -> Result<String, AppError> {
    match user {
        Some(user) => crate::db::zone_of(db, user).await,
        None => Ok("UTC".into()),
    }
}

/// When the account was made and whether its address is confirmed (new accounts post less).
pub async fn account_age(db: &Db, user: &UserId) -> Result<Option<DateTime<Utc>>, AppError> {
    let mut res = db
        .query("SELECT VALUE created_at FROM ONLY $u")
        .bind(("u", user_record(user)))
        .await
        .map_err(internal("account age"))?;
    res.take(0).map_err(internal("account age"))
}

// ---------------------------------------------------------------------------------------------
// The search index's source

/// A thread as the search index holds it: its text to index (the replies only indexed, not
/// kept) and the facts search results are filtered and shown by.
#[derive(Clone, Debug, SurrealValue)]
pub struct IndexRow {
    pub id: String,
    pub title: String,
    pub body: String,
    pub replies: Vec<String>,
    pub tags: Vec<String>,
    pub kind: String,
    pub solved: bool,
    pub hidden: bool,
    pub deleted: bool,
    pub locked: bool,
    pub author_id: String,
    pub author: String,
    pub score: i64,
    pub reply_count: i64,
    pub created_at: DateTime<Utc>,
    pub space_kind: String,
    pub space_slug: String,
    pub space_title: String,
    pub course_id: Option<String>,
}

/// Every thread (`only`: just that one), with its visible replies' text. The replies are read
/// in one pass and matched to their threads here: a subquery per thread rescanned every reply
/// for each thread, and the index of 100,000 posts took minutes to build at start-up.
pub async fn index_rows(db: &Db, only: Option<&str>) -> Result<Vec<IndexRow>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(id) AS id, title, body, tags, kind, accepted != NONE AS solved,
                hidden, deleted, locked, record::id(author) AS author_id,
                author.display_name AS author, score, reply_count, created_at,
                (IF space != NONE THEN 'spaces' ELSE 'courses' END) AS space_kind,
                (IF space != NONE THEN space.slug ELSE course.slug END) AS space_slug,
                (IF space != NONE THEN space.title ELSE course.title END) AS space_title,
                (IF course != NONE THEN record::id(course) ELSE NONE END) AS course_id,
                [] AS replies
             FROM forum_thread WHERE $only = NONE OR id = $only;
             IF $only = NONE {
                SELECT record::id(thread) AS thread, body FROM forum_reply WHERE hidden = false
             } ELSE {
                SELECT record::id(thread) AS thread, body FROM forum_reply
                WHERE thread = $only AND hidden = false ORDER BY created_at
             };",
        )
        .bind(("only", only.map(thread_rec)))
        .await
        .map_err(internal("forum index rows"))?;
    let mut rows: Vec<IndexRow> = res.take(0).map_err(internal("forum index rows"))?;
    let replies: Vec<ReplyText> = res.take(1).map_err(internal("forum index replies"))?;
    let at: std::collections::HashMap<String, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect();
    for reply in replies {
        if let Some(&i) = at.get(&reply.thread) {
            rows[i].replies.push(reply.body);
        }
    }
    Ok(rows)
}

#[derive(Clone, Debug, SurrealValue)]
struct ReplyText {
    thread: String,
    body: String,
}

// ---------------------------------------------------------------------------------------------
// Reports and moderation

/// Reports `post` for moderators (one open report per person and post: a second one
/// replaces the first's reason), audited.
pub async fn report(
    db: &Db,
    reporter: &UserId,
    post: &PostMeta,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let res = db
        .query(format!(
            "BEGIN TRANSACTION;
             UPSERT $id SET post = $p, thread = $t, reporter = $audit_actor, reason = $reason,
                open = true, created_at = $now;
             {}
             COMMIT TRANSACTION;",
            audit_stmt(AuditKind::ForumReported)
        ))
        .bind((
            "id",
            RecordId::new("forum_report", format!("{}_{}", reporter.0, post.id)),
        ))
        .bind(("p", post.record()))
        .bind(("t", thread_rec(&post.thread)))
        .bind(("reason", reason.to_string()))
        .bind(("audit_user", RecordId::new("user", post.author.as_str())))
        .bind(("audit_actor", user_record(reporter)))
        .bind(("audit_detail", format!("{}: {reason}", post.name())))
        .bind(("now", now))
        .await
        .map_err(internal("report post"))?;
    fail_on_errors(res, "report post", Problem::TryAgain)
}

/// What a moderator does to a post.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moderation {
    Hide,
    Restore,
    Delete,
    Lock,
    Unlock,
}

impl Moderation {
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw.trim() {
            "hide" => Moderation::Hide,
            "restore" => Moderation::Restore,
            "delete" => Moderation::Delete,
            "lock" => Moderation::Lock,
            "unlock" => Moderation::Unlock,
            _ => return None,
        })
    }

    pub fn key(self) -> &'static str {
        match self {
            Moderation::Hide => "hide",
            Moderation::Restore => "restore",
            Moderation::Delete => "delete",
            Moderation::Lock => "lock",
            Moderation::Unlock => "unlock",
        }
    }
}

/// Applies `action` to `post`, closes its open reports and audits it, in one transaction.
/// Hiding or deleting takes the post out of everyone's notifications, out of its thread's
/// answer count and, if it was the accepted answer, out of the accepted place (with the
/// reputation that earned).
pub async fn moderate(
    db: &Db,
    post: &PostMeta,
    action: Moderation,
    reason: &str,
    moderator: &UserId,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let change = match action {
        Moderation::Hide | Moderation::Delete => {
            "LET $was = (SELECT * FROM ONLY $p);
             IF $is_reply AND !$was.hidden { UPDATE $t SET reply_count -= 1; };
             UPDATE $p SET hidden = true, deleted = $delete,
                removed_reason = IF $delete THEN $reason ELSE NONE END;
             IF $is_reply AND (SELECT VALUE accepted FROM ONLY $t) = $p {
                UPDATE $t SET accepted = NONE;
                IF $was.author != (SELECT VALUE author FROM ONLY $t) {
                    UPDATE $was.author SET reputation = (reputation ?? 0) - $rep;
                };
             };
             DELETE notification WHERE string::starts_with(link, $link);"
        }
        Moderation::Restore => {
            "LET $was = (SELECT * FROM ONLY $p);
             IF $is_reply AND $was.hidden { UPDATE $t SET reply_count += 1; };
             UPDATE $p SET hidden = false, deleted = false, removed_reason = NONE;"
        }
        Moderation::Lock => "UPDATE $t SET locked = true;",
        Moderation::Unlock => "UPDATE $t SET locked = false;",
    };
    let link = if post.is_reply {
        format!("/forum/threads/{}#reply-{}", post.thread, post.id)
    } else {
        format!("/forum/threads/{}", post.thread)
    };
    let res = db
        .query(format!(
            "BEGIN TRANSACTION;
             {change}
             UPDATE forum_report SET open = false WHERE post = $p AND open = true;
             {}
             COMMIT TRANSACTION;",
            audit_stmt(AuditKind::ForumModerated)
        ))
        .bind(("p", post.record()))
        .bind(("t", thread_rec(&post.thread)))
        .bind(("is_reply", post.is_reply))
        .bind(("delete", action == Moderation::Delete))
        .bind(("reason", reason.to_string()))
        .bind(("rep", ACCEPT_REPUTATION))
        .bind(("link", link))
        .bind(("audit_user", RecordId::new("user", post.author.as_str())))
        .bind(("audit_actor", user_record(moderator)))
        .bind((
            "audit_detail",
            format!("{} {}: {reason}", action.key(), post.name()),
        ))
        .bind(("now", now))
        .await
        .map_err(internal("moderate post"))?;
    fail_on_errors(res, "moderate post", Problem::TryAgain)
}

/// Moves a thread to another space, audited.
pub async fn move_thread(
    db: &Db,
    post: &PostMeta,
    to: &Place,
    moderator: &UserId,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let (space, course) = match to {
        Place::Space(s) => (Some(RecordId::new("forum_space", s.as_str())), None),
        Place::Course(c) => (None, Some(RecordId::new("course", c.as_str()))),
    };
    let res = db
        .query(format!(
            "BEGIN TRANSACTION;
             UPDATE $t SET space = $space, course = $course;
             {}
             COMMIT TRANSACTION;",
            audit_stmt(AuditKind::ForumModerated)
        ))
        .bind(("t", thread_rec(&post.thread)))
        .bind(("space", space))
        .bind(("course", course))
        .bind(("audit_user", RecordId::new("user", post.author.as_str())))
        .bind(("audit_actor", user_record(moderator)))
        .bind(("audit_detail", format!("move {}", post.name())))
        .bind(("now", now))
        .await
        .map_err(internal("move thread"))?;
    fail_on_errors(res, "move thread", Problem::TryAgain)
}

/// An open report in the queue, grouped by post: how many people reported it and why.
#[derive(Clone, Debug, SurrealValue)]
pub struct ReportRow {
    pub post: String,
    pub thread: String,
    pub thread_title: String,
    pub body: String,
    pub author: String,
    pub hidden: bool,
    pub reasons: Vec<String>,
    pub first_at: DateTime<Utc>,
}

/// The open reports, the posts reported longest ago first.
pub async fn open_reports(db: &Db) -> Result<Vec<ReportRow>, AppError> {
    let mut res = db
        .query(
            "SELECT record::id(post) AS post, record::id(thread) AS thread,
                thread.title AS thread_title, post.body AS body,
                post.author.display_name AS author, post.hidden AS hidden,
                array::group(reason) AS reasons, time::min(created_at) AS first_at
             FROM forum_report WHERE open = true
             GROUP BY post, thread, thread_title, body, author, hidden
             ORDER BY first_at ASC LIMIT 100",
        )
        .await
        .map_err(internal("open reports"))?;
    res.take(0).map_err(internal("open reports"))
}
