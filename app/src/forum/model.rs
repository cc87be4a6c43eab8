//! Forum types shared by the pages and the server: what a thread, a reply and a space look
//! like to a reader, and the parsers every form and server function go through.

use serde::{Deserialize, Serialize};

use crate::error::Problem;

pub const TITLE_MAX: usize = 150;
pub const BODY_MAX: usize = 20_000;
pub const TAGS_MAX: usize = 5;
/// Threads per page of a space.
pub const PAGE_SIZE: u32 = 20;

/// A question (which can be solved by accepting an answer) or a discussion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreadKind {
    #[default]
    Question,
    Discussion,
}

impl ThreadKind {
    pub fn key(self) -> &'static str {
        match self {
            ThreadKind::Question => "question",
            ThreadKind::Discussion => "discussion",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Problem> {
        match raw.trim() {
            "" | "question" => Ok(ThreadKind::Question),
            "discussion" => Ok(ThreadKind::Discussion),
            _ => Err(Problem::ThreadKindInvalid),
        }
    }
}

/// How a space lists its threads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// What moved last (a new thread or a reply).
    #[default]
    Active,
    Votes,
    /// Questions nobody has answered yet, the longest-waiting first.
    Unanswered,
}

impl Sort {
    pub const ALL: [Sort; 3] = [Sort::Active, Sort::Votes, Sort::Unanswered];

    pub fn key(self) -> &'static str {
        match self {
            Sort::Active => "active",
            Sort::Votes => "votes",
            Sort::Unanswered => "unanswered",
        }
    }

    /// Unknown values read as the default: a sort is a view, not data, so a stale link still
    /// shows the space.
    pub fn parse(raw: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.key() == raw.trim())
            .unwrap_or_default()
    }
}

/// A vote as a form sends it: `up`, `down`, or `none` (take the vote back).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vote {
    Up,
    Down,
    Withdrawn,
}

impl Vote {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        match raw.trim() {
            "up" => Ok(Vote::Up),
            "down" => Ok(Vote::Down),
            "none" => Ok(Vote::Withdrawn),
            _ => Err(Problem::VoteInvalid),
        }
    }

    /// The stored value (a withdrawn vote is no record at all).
    pub fn value(self) -> i64 {
        match self {
            Vote::Up => 1,
            Vote::Down => -1,
            Vote::Withdrawn => 0,
        }
    }
}

/// Reputation a post's author gets for each vote: an answer's up-vote is worth more than a
/// question's (answering is the harder work); a down-vote costs a little.
pub fn vote_reputation(on_reply: bool, value: i64) -> i64 {
    match (on_reply, value) {
        (true, 1) => 10,
        (false, 1) => 5,
        (_, -1) => -2,
        _ => 0,
    }
}

/// Reputation for an answer the asker accepted.
pub const ACCEPT_REPUTATION: i64 = 15;

/// Text without control characters but line breaks and tabs (they are invisible, and the
/// search highlights use two of them as markers).
fn without_controls(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

/// A thread title: trimmed, 1–150 characters, one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadTitle(String);

impl ThreadTitle {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let t = without_controls(raw)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if t.is_empty() {
            Err(Problem::ThreadTitleEmpty)
        } else if t.chars().count() > TITLE_MAX {
            Err(Problem::ThreadTitleTooLong)
        } else {
            Ok(Self(t))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A post's Markdown: trimmed, 1–20,000 characters, Windows line ends made plain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostBody(String);

impl PostBody {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let t = without_controls(&raw.replace("\r\n", "\n"))
            .trim()
            .to_string();
        if t.is_empty() {
            Err(Problem::ForumBodyEmpty)
        } else if t.chars().count() > BODY_MAX {
            Err(Problem::ForumBodyTooLong)
        } else {
            Ok(Self(t))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the text holds a link (which accounts still new may not post: spam's first
    /// move). Markdown links, autolinks and bare addresses all count.
    pub fn has_link(&self) -> bool {
        let lower = self.0.to_lowercase();
        // A Markdown link to a page of this site (`](/lessons/…)`, `](#…)`) leads nowhere
        // else; any other target counts.
        let outside = lower.match_indices("](").any(|(at, _)| {
            let target = &lower[at + 2..];
            !(target.starts_with('#') || (target.starts_with('/') && !target.starts_with("//")))
        });
        outside
            || lower.contains("http://")
            || lower.contains("https://")
            || lower.contains("www.")
            || lower.contains("mailto:")
    }

    /// The `@name` mentions in the text, lower-cased, each once, code spans and blocks
    /// left out (`@decorator` in Python is not a person).
    pub fn mentions(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let mut in_block = false;
        for line in self.0.lines() {
            if line.trim_start().starts_with("```") {
                in_block = !in_block;
                continue;
            }
            if in_block {
                continue;
            }
            let mut in_span = false;
            let chars: Vec<char> = line.chars().collect();
            let mut i = 0;
            while i < chars.len() {
                let c = chars[i];
                if c == '`' {
                    in_span = !in_span;
                } else if c == '@' && !in_span && (i == 0 || !chars[i - 1].is_alphanumeric()) {
                    let name: String = chars[i + 1..]
                        .iter()
                        .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
                        .collect();
                    let name = name.trim_end_matches('.').to_lowercase();
                    if !name.is_empty() && name.chars().count() <= 60 && !names.contains(&name) {
                        names.push(name);
                    }
                }
                i += 1;
            }
        }
        names.truncate(10);
        names
    }
}

/// Which of `people` (id and name) the `mentions` name: a mention matches a whole name
/// written without its spaces, or a first name, ignoring case (`@maya` and `@mayamentor`
/// both name Maya Mentor). Each person once.
pub fn mentioned_people(mentions: &[String], people: &[(String, String)]) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for (id, name) in people {
        let lower = name.to_lowercase();
        let whole: String = lower.split_whitespace().collect();
        let first = lower.split_whitespace().next().unwrap_or_default();
        if mentions.iter().any(|m| *m == whole || m == first) && !found.contains(id) {
            found.push(id.clone());
        }
    }
    found
}

/// Tags: comma-separated, lower-cased, up to five of 1–30 letters, digits, `-`, `+`, `#`, `.`.
pub fn parse_tags(raw: &str) -> Result<Vec<String>, Problem> {
    let mut tags: Vec<String> = Vec::new();
    for t in raw
        .split(',')
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
    {
        let ok = t.chars().count() <= 30
            && t.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '+' | '#' | '.'));
        if !ok {
            return Err(Problem::ForumTagInvalid);
        }
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    if tags.len() > TAGS_MAX {
        return Err(Problem::ForumTooManyTags);
    }
    Ok(tags)
}

/// Where a thread lives: a general space (by its slug) or a course's space (by the course's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "slug", rename_all = "snake_case")]
pub enum SpaceRef {
    General(String),
    Course(String),
}

impl SpaceRef {
    pub fn href(&self) -> String {
        match self {
            SpaceRef::General(slug) => format!("/forum/spaces/{slug}"),
            SpaceRef::Course(slug) => format!("/forum/courses/{slug}"),
        }
    }

    /// Reads a space as forms send it: `spaces/<slug>` or `courses/<slug>`.
    pub fn parse(raw: &str) -> Option<Self> {
        let (kind, slug) = raw.trim().trim_start_matches('/').split_once('/')?;
        let slug = crate::courses::model::Slug::parse(slug).ok()?;
        match kind {
            "spaces" => Some(SpaceRef::General(slug.as_str().to_string())),
            "courses" => Some(SpaceRef::Course(slug.as_str().to_string())),
            _ => None,
        }
    }

    /// The form value [`SpaceRef::parse`] reads.
    pub fn key(&self) -> String {
        match self {
            SpaceRef::General(slug) => format!("spaces/{slug}"),
            SpaceRef::Course(slug) => format!("courses/{slug}"),
        }
    }
}

/// A space in a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpaceSummary {
    pub space: SpaceRef,
    pub title: String,
    pub description: String,
    pub threads: i64,
}

/// A thread in a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreadSummary {
    pub id: String,
    pub title: String,
    pub kind: ThreadKind,
    pub author: String,
    pub tags: Vec<String>,
    pub score: i64,
    pub replies: i64,
    pub solved: bool,
    pub hidden: bool,
    pub locked: bool,
    /// When it was asked, in the reader's zone and language.
    pub asked: String,
    pub asked_at: String,
    /// For unanswered questions: how long it has waited, in words.
    pub waited: Option<String>,
    pub space: SpaceRef,
    pub space_title: String,
}

/// `/forum`: the spaces, what is new, and (for course staff) the questions waiting longest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForumOverview {
    pub spaces: Vec<SpaceSummary>,
    pub recent: Vec<ThreadSummary>,
    pub waiting: Vec<ThreadSummary>,
    pub signed_in: bool,
    pub can_create_space: bool,
}

/// One space's page of threads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpaceListing {
    pub space: SpaceRef,
    pub title: String,
    pub description: String,
    pub sort: Sort,
    pub page: u32,
    pub more: bool,
    pub threads: Vec<ThreadSummary>,
    pub signed_in: bool,
    /// Where the new-thread form's draft is kept in this browser.
    pub draft_key: String,
}

/// A post (the thread's opening post or a reply) as a reader sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PostView {
    pub id: String,
    pub body_html: String,
    pub author: String,
    pub author_reputation: i64,
    pub written: String,
    pub written_at: String,
    pub edited: bool,
    pub score: i64,
    /// The reader's own vote: 1, -1 or 0.
    pub my_vote: i64,
    pub accepted: bool,
    pub hidden: bool,
    /// Deleted by a moderator (only moderators see it), with the reason given.
    pub deleted: bool,
    pub removed_reason: Option<String>,
    pub can_edit: bool,
    pub can_vote: bool,
    pub can_accept: bool,
    pub can_report: bool,
    /// Code blocks the reader may open in the exercise the question was asked from.
    pub code_blocks: u32,
}

/// `/forum/threads/:id`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreadView {
    pub id: String,
    pub title: String,
    pub kind: ThreadKind,
    pub tags: Vec<String>,
    pub space: SpaceRef,
    pub space_title: String,
    pub solved: bool,
    pub locked: bool,
    pub post: PostView,
    pub replies: Vec<PostView>,
    pub signed_in: bool,
    pub can_reply: bool,
    /// The reader is told of each new answer.
    pub following: bool,
    /// The reader moderates: each post gets hide, restore and delete, the thread lock and
    /// move (to one of `move_to`).
    pub can_moderate: bool,
    pub move_to: Vec<SpaceSummary>,
    /// The exercise lesson the question was asked from ("Ask for help").
    pub lesson: Option<String>,
    /// Where the answer form's draft is kept in this browser.
    pub draft_key: String,
}

/// A question prefilled from a failing submission (`/forum/ask?submission=…`): the learner
/// reads and edits it before posting it in the course's space.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionDraft {
    pub space: SpaceRef,
    pub space_title: String,
    pub title: String,
    pub body: String,
    pub tags: String,
    /// The exercise's lesson, which the question remembers.
    pub lesson: String,
    pub draft_key: String,
}

/// Code from a post, to open in the editor of the exercise its question was asked from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpenedCode {
    pub lesson: String,
    pub thread: String,
    pub post: String,
    pub author: String,
    pub code: String,
}

/// A thread whose title is like the one being typed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimilarThread {
    pub id: String,
    /// The title, HTML-escaped, with the matched words in `<mark>`.
    pub title_html: String,
    pub solved: bool,
    pub replies: i64,
}

/// A fence for `code` in Markdown: longer than any run of backticks inside it, so the code
/// cannot close its own block.
pub fn code_fence(code: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in code.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// A reported post in the moderators' queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportedPost {
    pub post: String,
    pub thread: String,
    pub thread_title: String,
    pub excerpt: String,
    pub author: String,
    pub hidden: bool,
    pub reasons: Vec<String>,
    pub first_reported: String,
}

/// A report's reason: 1–500 characters.
pub fn parse_reason(raw: &str) -> Result<String, Problem> {
    let t = without_controls(raw).trim().to_string();
    if t.is_empty() {
        Err(Problem::ReasonEmpty)
    } else if t.chars().count() > 500 {
        Err(Problem::ReasonTooLong)
    } else {
        Ok(t)
    }
}

/// An earlier version of a post, in its edit history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RevisionView {
    pub title: Option<String>,
    pub body_html: String,
    pub replaced: String,
    pub replaced_by: String,
}

/// `/forum/posts/:id/edit` and `/forum/posts/:id/history`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PostEditView {
    pub id: String,
    pub thread: String,
    pub thread_title: String,
    /// Set for a thread's opening post (its title can change too).
    pub title: Option<String>,
    pub body: String,
    pub tags: String,
    pub revisions: Vec<RevisionView>,
    pub can_edit: bool,
    pub draft_key: String,
}

/// Results per page of a forum search.
pub const SEARCH_PAGE_SIZE: u32 = 20;

/// Whether to show solved questions, unsolved ones, or both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Solved {
    #[default]
    Any,
    Yes,
    No,
}

impl Solved {
    pub const ALL: [Solved; 3] = [Solved::Any, Solved::Yes, Solved::No];

    pub fn key(self) -> &'static str {
        match self {
            Solved::Any => "",
            Solved::Yes => "yes",
            Solved::No => "no",
        }
    }

    /// Unknown values read as "any": a filter is a view, so a stale link still searches.
    pub fn parse(raw: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.key() == raw.trim())
            .unwrap_or_default()
    }
}

/// A forum search as the address carries it (`/forum/search?q=…&space=…&tag=…`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchQuery {
    pub q: String,
    pub space: Option<SpaceRef>,
    pub tag: Option<String>,
    pub solved: Solved,
    /// Only the reader's own threads.
    pub mine: bool,
    pub page: u32,
}

impl SearchQuery {
    /// Reads the form's fields; what does not parse is left out (a filter is a view).
    pub fn parse(q: &str, space: &str, tag: &str, solved: &str, mine: &str, page: u32) -> Self {
        let tag = tag.trim().to_lowercase();
        SearchQuery {
            q: q.trim().chars().take(200).collect(),
            space: SpaceRef::parse(space),
            tag: parse_tags(&tag)
                .ok()
                .and_then(|t| t.into_iter().next())
                .filter(|_| !tag.contains(',')),
            solved: Solved::parse(solved),
            mine: matches!(mine.trim(), "true" | "on" | "1"),
            page: page.min(50),
        }
    }

    /// The address of page `page` of this search.
    pub fn href(&self, page: u32) -> String {
        use crate::courses::model::encode_component as enc;
        let space = self.space.as_ref().map(SpaceRef::key).unwrap_or_default();
        let mut href = format!(
            "/forum/search?q={}&space={}&tag={}&solved={}&page={page}",
            enc(&self.q),
            enc(&space),
            enc(self.tag.as_deref().unwrap_or_default()),
            self.solved.key(),
        );
        if self.mine {
            href.push_str("&mine=true");
        }
        href
    }
}

/// A thread a search found: its summary, its title with the matched words marked, and the
/// part of its text where they are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub thread: ThreadSummary,
    pub title_html: String,
    pub snippet_html: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub query: SearchQuery,
    pub hits: Vec<SearchHit>,
    pub total: i64,
    pub more: bool,
    /// The spaces the reader can filter by (for the form's menu).
    pub spaces: Vec<SpaceSummary>,
    pub signed_in: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_is_one_trimmed_line_of_at_most_150_characters() {
        assert_eq!(
            ThreadTitle::parse("  Why does\n my loop   stop? ")
                .unwrap()
                .as_str(),
            "Why does my loop stop?"
        );
        assert_eq!(ThreadTitle::parse(" \n"), Err(Problem::ThreadTitleEmpty));
        assert_eq!(
            ThreadTitle::parse(&"x".repeat(151)),
            Err(Problem::ThreadTitleTooLong)
        );
        assert!(ThreadTitle::parse(&"循".repeat(150)).is_ok());
    }

    #[test]
    fn tags_are_few_lower_case_words() {
        assert_eq!(
            parse_tags("Rust, async , rust,c++").unwrap(),
            vec!["rust", "async", "c++"]
        );
        assert_eq!(parse_tags("<script>"), Err(Problem::ForumTagInvalid));
        assert_eq!(parse_tags("a b"), Err(Problem::ForumTagInvalid));
        assert_eq!(parse_tags("a,b,c,d,e,f"), Err(Problem::ForumTooManyTags));
        assert_eq!(parse_tags(" , ").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn mentions_skip_code_and_e_mail_addresses() {
        let body = PostBody::parse(
            "Thanks @Ada and @lin.wei. — see `@property` and\n```py\n@decorator\n```\nmail me at x@example.org, @ada again",
        )
        .unwrap();
        assert_eq!(body.mentions(), vec!["ada", "lin.wei"]);
    }

    #[test]
    fn a_mention_names_a_participant_by_first_or_whole_name() {
        let people = vec![
            ("m".to_string(), "Maya Mentor".to_string()),
            ("l".to_string(), "Lin".to_string()),
            ("x".to_string(), "Max Mustermann".to_string()),
        ];
        let body = PostBody::parse("Thanks @maya, and @MayaMentor again; @lin? @ma").unwrap();
        assert_eq!(mentioned_people(&body.mentions(), &people), vec!["m", "l"]);
    }

    #[test]
    fn links_in_any_form_are_found() {
        for text in [
            "see https://x.io",
            "[here](x.example)",
            "[here](//evil.example)",
            "www.spam.example",
            "<mailto:a@b.c>",
        ] {
            assert!(PostBody::parse(text).unwrap().has_link(), "{text}");
        }
        for text in ["no links, just `a.b()`", "see [the exercise](/lessons/abc)"] {
            assert!(!PostBody::parse(text).unwrap().has_link(), "{text}");
        }
    }

    #[test]
    fn a_space_reads_back_from_its_form_value_and_nothing_else() {
        for s in [
            SpaceRef::General("general".into()),
            SpaceRef::Course("rust-basics".into()),
        ] {
            assert_eq!(SpaceRef::parse(&s.key()), Some(s.clone()));
        }
        assert_eq!(SpaceRef::parse("users/abc"), None);
        assert_eq!(SpaceRef::parse("spaces/../x"), None);
        assert_eq!(SpaceRef::parse("general"), None);
    }

    #[test]
    fn a_fence_is_longer_than_any_backticks_in_the_code() {
        assert_eq!(code_fence("let x = 1;"), "```");
        assert_eq!(code_fence("const s = `a ${b}`; // ```"), "````");
    }

    #[test]
    fn votes_give_reputation_to_the_author() {
        assert_eq!(vote_reputation(true, 1), 10);
        assert_eq!(vote_reputation(false, 1), 5);
        assert_eq!(vote_reputation(true, -1), -2);
        assert_eq!(vote_reputation(false, 0), 0);
    }
}
