//! The forum's search index (server only): every thread, its title, tags, opening post and
//! visible replies indexed in memory, built from SurrealDB at start-up and put again after
//! each write to the thread (`refresh`). A search matches threads holding every term of the
//! query somewhere; a title match weighs most, then tags, the question, the replies.
//! Results keep the start of the question for their snippet; the replies are indexed only.

use crate::{
    db::Db,
    error::AppError,
    forum::{
        model::{SEARCH_PAGE_SIZE, SearchQuery, Solved, SpaceRef},
        repo::{self, IndexRow},
    },
    search::{
        self, MARK_CLOSE, MARK_OPEN,
        index::{Indexed, Matching, TextIndex},
    },
};

const FIELDS: [(&str, f32); 4] = [
    ("title", 4.0),
    ("tags", 2.0),
    ("body", 1.5),
    ("replies", 1.0),
];

/// How much of the question a result keeps for its snippet.
const KEPT_BODY_CHARS: usize = 1_000;
/// A snippet's length, and how much of it comes before the first match.
const SNIPPET_CHARS: usize = 220;
const SNIPPET_LEAD: usize = 60;

impl Indexed for IndexRow {
    fn id(&self) -> &str {
        &self.id
    }

    fn texts(&self) -> Vec<String> {
        vec![
            self.title.clone(),
            self.tags.join(" "),
            self.body.clone(),
            self.replies.join("\n"),
        ]
    }

    fn kept(mut self) -> Self {
        self.replies = Vec::new();
        if let Some((at, _)) = self.body.char_indices().nth(KEPT_BODY_CHARS) {
            self.body.truncate(at);
        }
        self
    }
}

/// A result: the thread's facts, its title with the matches marked (if any), and a snippet
/// of its question around the first match.
pub struct Found {
    pub row: IndexRow,
    pub title_marked: Option<String>,
    pub snippet: String,
}

/// Visible threads per general space (by slug) and per course (by key).
#[derive(Debug, Default)]
pub struct SpaceCounts {
    spaces: std::collections::HashMap<String, i64>,
    courses: std::collections::HashMap<String, i64>,
}

impl SpaceCounts {
    pub fn space(&self, slug: &str) -> i64 {
        self.spaces.get(slug).copied().unwrap_or(0)
    }

    pub fn course(&self, key: &str) -> i64 {
        self.courses.get(key).copied().unwrap_or(0)
    }
}

/// See the module documentation.
#[derive(Debug)]
pub struct ForumIndex {
    threads: TextIndex<IndexRow>,
}

impl ForumIndex {
    pub fn new() -> Result<Self, AppError> {
        Ok(Self {
            threads: TextIndex::new("forum", &FIELDS, Matching::EveryTermSomewhere)?,
        })
    }

    /// Replaces the whole index with the threads in the database.
    pub async fn rebuild(&self, db: &Db) -> Result<usize, AppError> {
        self.threads.replace_all(repo::index_rows(db, None).await?)
    }

    /// Reads thread `id` again after a write to it (or to one of its replies). A failure
    /// cannot undo the committed write, so it rebuilds the index instead of leaving it wrong.
    pub async fn refresh(&self, db: &Db, id: &str) {
        let result = match repo::index_rows(db, Some(id)).await {
            Ok(rows) => self.threads.put(id, rows.into_iter().next()),
            Err(e) => Err(e),
        };
        if result.is_err() {
            tracing::warn!(thread = id, "forum index update failed: rebuilding it");
            if let Err(e) = self.rebuild(db).await {
                tracing::error!(error = ?e, "forum index rebuild failed");
            }
        }
    }

    /// One page of the threads `q` finds among those `visible` lets the reader see, the
    /// best first (the newest first when there are no words to match), and how many in all.
    pub fn search(
        &self,
        q: &SearchQuery,
        visible: impl Fn(&IndexRow) -> bool,
    ) -> Result<(Vec<Found>, i64), AppError> {
        let per_page = SEARCH_PAGE_SIZE as usize;
        self.find(
            &q.q,
            Matching::EveryTermSomewhere,
            |row| wanted(q, row) && visible(row),
            (q.page as usize).saturating_mul(per_page),
            per_page,
        )
    }

    /// Up to `limit` threads `visible` lets the reader see that share most of the words of
    /// `text` (a title being typed), the most alike first.
    pub fn similar(
        &self,
        text: &str,
        visible: impl Fn(&IndexRow) -> bool,
        limit: usize,
    ) -> Result<Vec<Found>, AppError> {
        if search::query_terms(text).is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .find(text, Matching::MostTermsSomewhere, visible, 0, limit)?
            .0)
    }

    fn find(
        &self,
        text: &str,
        matching: Matching,
        keep: impl Fn(&IndexRow) -> bool,
        skip: usize,
        take: usize,
    ) -> Result<(Vec<Found>, i64), AppError> {
        let terms = search::query_terms(text);
        let scores = if terms.is_empty() {
            None
        } else {
            Some(self.threads.scores_as(&terms, matching)?)
        };
        // Words that hold no searchable term (punctuation only) match nothing.
        let words_but_no_terms = terms.is_empty() && !text.trim().is_empty();
        Ok(self.threads.read(|threads| {
            let mut hits: Vec<(&IndexRow, f32)> = threads
                .iter()
                .filter_map(|(key, row)| match &scores {
                    Some(scores) => scores.get(key).map(|s| (row, *s)),
                    None if words_but_no_terms => None,
                    None => Some((row, 0.0)),
                })
                .filter(|(row, _)| keep(row))
                .collect();
            hits.sort_by(|(a, sa), (b, sb)| {
                sb.total_cmp(sa)
                    .then(b.created_at.cmp(&a.created_at))
                    .then_with(|| a.id.cmp(&b.id))
            });
            let total = i64::try_from(hits.len()).unwrap_or(i64::MAX);
            let page = hits
                .into_iter()
                .skip(skip)
                .take(take)
                .map(|(row, _)| Found {
                    title_marked: search::highlight(&row.title, &terms, MARK_OPEN, MARK_CLOSE),
                    snippet: snippet(&row.body, &terms),
                    row: row.clone(),
                })
                .collect();
            (page, total)
        }))
    }

    /// How many threads each space shows to everyone (not hidden), by general space slug
    /// and by course key.
    pub fn counts(&self) -> SpaceCounts {
        self.threads.read(|threads| {
            let mut counts = SpaceCounts::default();
            for row in threads.values().filter(|r| !r.hidden && !r.deleted) {
                let (map, key) = match &row.course_id {
                    Some(course) => (&mut counts.courses, course),
                    None => (&mut counts.spaces, &row.space_slug),
                };
                *map.entry(key.clone()).or_default() += 1;
            }
            counts
        })
    }

    pub fn len(&self) -> usize {
        self.threads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }
}

/// The filters of the search form (who may see a thread is the caller's `visible`).
fn wanted(q: &SearchQuery, row: &IndexRow) -> bool {
    let space = match &q.space {
        None => true,
        Some(SpaceRef::General(slug)) => row.space_kind == "spaces" && row.space_slug == *slug,
        Some(SpaceRef::Course(slug)) => row.space_kind == "courses" && row.space_slug == *slug,
    };
    let solved = match q.solved {
        Solved::Any => true,
        Solved::Yes => row.solved,
        Solved::No => row.kind == "question" && !row.solved,
    };
    space && solved && q.tag.as_ref().is_none_or(|t| row.tags.contains(t))
}

/// A stretch of `text` around its first match, with the matches marked; the start of the
/// text when nothing in it matches. Markdown's markup characters are dropped so the snippet
/// reads as text.
fn snippet(text: &str, terms: &[String]) -> String {
    let plain: String = text
        .replace("```", " ")
        .chars()
        .filter(|c| !matches!(c, '`' | '#' | '*' | '>' | '_'))
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let marked = search::highlight(&plain, terms, MARK_OPEN, MARK_CLOSE).unwrap_or(plain);
    let chars: Vec<(usize, char)> = marked.char_indices().collect();
    let first = chars.iter().position(|(_, c)| *c == '\u{2}').unwrap_or(0);
    let start = first.saturating_sub(SNIPPET_LEAD);
    let end = (start + SNIPPET_CHARS).min(chars.len());
    let byte = |i: usize| chars.get(i).map_or(marked.len(), |(b, _)| *b);
    let mut cut = String::new();
    if start > 0 {
        cut.push('…');
    }
    cut.push_str(&marked[byte(start)..byte(end)]);
    // A mark cut in two is closed, so the page's <mark> pairs stay balanced.
    let opened = cut.matches('\u{2}').count();
    let closed = cut.matches('\u{3}').count();
    if opened > closed {
        cut.push('\u{3}');
    }
    if end < chars.len() {
        cut.push('…');
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_shows_the_first_match_in_context_and_balances_its_marks() {
        let text = format!(
            "{} the borrow checker rejects this {}",
            "word ".repeat(40),
            "tail ".repeat(60)
        );
        let terms = search::query_terms("borrow");
        let s = snippet(&text, &terms);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("the \u{2}borrow\u{3} checker"), "{s}");
        assert!(s.chars().count() <= SNIPPET_CHARS + 2);
        // A match cut at the end is closed.
        let long = format!("{}borrowing", "x ".repeat(109));
        let s = snippet(&long, &search::query_terms("x borrowing"));
        assert_eq!(
            s.matches('\u{2}').count(),
            s.matches('\u{3}').count(),
            "{s}"
        );
    }

    #[test]
    fn markdown_markup_is_left_out_of_snippets() {
        let s = snippet("```rust\nlet **x** = `1`;\n```", &[]);
        assert_eq!(s, "rust let x = 1;");
    }
}
