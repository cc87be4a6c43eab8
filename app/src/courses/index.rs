//! The catalog's search index (server only): every published course, held in memory with a
//! tantivy full-text index over its title, summary, description and tags.
//!
//! SurrealDB stays the only store: the index is built from it at start-up and every write
//! that changes a course's catalog entry refreshes that course from the database right after
//! it commits (`refresh`). Catalog pages never touch the database: text matching and scoring
//! are tantivy's, filters and orderings are applied to the rows kept here (a catalog is
//! thousands of courses at most), and highlights are cut from the kept text.
//!
//! Relevance follows the rules the catalog had with SurrealDB's full-text search: a course
//! matches when one of its fields contains every term of the query; BM25 scores weigh a title
//! match 4, summary and tags 2, description 1; ties go to the course more people took.

use std::sync::{
    RwLock,
    atomic::{AtomicU64, Ordering},
};

use crate::{
    courses::{
        model::{CatalogQuery, PER_PAGE, Sort},
        repo::{self, CardRow, IndexRow, MARK_CLOSE, MARK_OPEN},
    },
    db::Db,
    error::AppError,
    search::{
        self,
        index::{Indexed, Matching, TextIndex},
    },
};

/// Field boosts: a title match counts most, then tags and summary, then the description.
const BOOSTS: [(&str, f32); 4] = [
    ("title", 4.0),
    ("summary", 2.0),
    ("description", 1.0),
    ("tags", 2.0),
];

impl Indexed for IndexRow {
    fn id(&self) -> &str {
        &self.id
    }

    fn texts(&self) -> Vec<String> {
        vec![
            self.title.clone(),
            self.summary.clone(),
            self.description.clone(),
            self.tags.join(" "),
        ]
    }
}

/// See the module documentation.
#[derive(Debug)]
pub struct CatalogIndex {
    courses: TextIndex<IndexRow>,
    /// The filter menus' tags and languages, sorted; recomputed when a course changes rather
    /// than on every catalog page (gathering them from every row was a storm of allocations).
    facets: RwLock<(Vec<String>, Vec<String>)>,
    version: AtomicU64,
}

impl CatalogIndex {
    /// An empty index; [`CatalogIndex::rebuild`] fills it.
    pub fn new() -> Result<Self, AppError> {
        Ok(Self {
            courses: TextIndex::new("catalog", &BOOSTS, Matching::AllTermsInOneField)?,
            facets: RwLock::default(),
            version: AtomicU64::new(0),
        })
    }

    /// Replaces the whole index with the published courses in the database (at start-up,
    /// and whenever an update could not be applied).
    pub async fn rebuild(&self, db: &Db) -> Result<usize, AppError> {
        let n = self
            .courses
            .replace_all(repo::index_rows(db, None).await?)?;
        self.recount_facets();
        self.version.fetch_add(1, Ordering::Release);
        Ok(n)
    }

    /// Reads course `id` again after a write and updates (or removes) its entry. A failure
    /// here cannot undo the committed write, so it rebuilds the index instead of leaving it
    /// wrong.
    pub async fn refresh(&self, db: &Db, id: &str) {
        let result = match repo::index_rows(db, Some(id)).await {
            Ok(rows) => self.courses.put(id, rows.into_iter().next()),
            Err(e) => Err(e),
        };
        match result {
            Ok(true) => {
                self.recount_facets();
                self.version.fetch_add(1, Ordering::Release);
            }
            Ok(false) => {}
            Err(_) => {
                tracing::warn!(course = id, "catalog index update failed: rebuilding it");
                if let Err(e) = self.rebuild(db).await {
                    tracing::error!(error = ?e, "catalog index rebuild failed");
                }
            }
        }
    }

    fn recount_facets(&self) {
        let facets = self.courses.read(|rows| {
            let mut tags: Vec<String> =
                rows.values().flat_map(|r| r.tags.iter().cloned()).collect();
            tags.sort();
            tags.dedup();
            let mut languages: Vec<String> = rows.values().map(|r| r.language.clone()).collect();
            languages.sort();
            languages.dedup();
            (tags, languages)
        });
        *self.facets.write().unwrap_or_else(|e| e.into_inner()) = facets;
    }

    /// Changes to the catalog so far. Read it before reading the catalog: what was made
    /// from what was read is current while the version stays the same (it grows only after
    /// the rows and the facets changed). The server's page cache relies on it.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// One page of the catalog for `q`, and how many courses match in all.
    pub fn search(&self, q: &CatalogQuery) -> Result<(Vec<CardRow>, i64), AppError> {
        let text = !q.q.trim().is_empty();
        let terms = if text {
            search::query_terms(&q.q)
        } else {
            Vec::new()
        };
        let scores = if terms.is_empty() {
            None
        } else {
            Some(self.courses.scores(&terms)?)
        };
        self.courses
            .read(|courses| Self::page_of(q, &terms, text, scores, courses))
    }

    /// The page `q` asks for, from every course `scores` matched (every course when there
    /// is no text to match).
    fn page_of(
        q: &CatalogQuery,
        terms: &[String],
        text: bool,
        scores: Option<std::collections::HashMap<u64, f32>>,
        courses: &std::collections::HashMap<u64, IndexRow>,
    ) -> Result<(Vec<CardRow>, i64), AppError> {
        let mut hits: Vec<(&IndexRow, f32)> = courses
            .iter()
            .filter_map(|(key, row)| match &scores {
                Some(scores) => scores.get(key).map(|s| (row, *s)),
                // Text that holds no searchable term matches nothing.
                None if text => None,
                None => Some((row, 0.0)),
            })
            .filter(|(row, _)| {
                q.tag.as_ref().is_none_or(|t| row.tags.contains(t))
                    && q.level.is_none_or(|l| row.level == l.key())
                    && q.language.as_ref().is_none_or(|l| row.language == *l)
            })
            .collect();
        let newest = |a: &IndexRow, b: &IndexRow| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.id.cmp(&b.id))
        };
        match (q.sort, text) {
            (Sort::Relevance, true) => hits.sort_by(|(a, sa), (b, sb)| {
                sb.total_cmp(sa)
                    .then(b.enrolled_count.cmp(&a.enrolled_count))
                    .then_with(|| newest(a, b))
            }),
            (Sort::Relevance, false) | (Sort::Newest, _) => {
                hits.sort_by(|(a, _), (b, _)| newest(a, b))
            }
            (Sort::MostEnrolled, _) => hits.sort_by(|(a, _), (b, _)| {
                b.enrolled_count
                    .cmp(&a.enrolled_count)
                    .then_with(|| newest(a, b))
            }),
            (Sort::BestRated, _) => hits.sort_by(|(a, _), (b, _)| {
                b.rating()
                    .total_cmp(&a.rating())
                    .then(b.rating_count.cmp(&a.rating_count))
                    .then_with(|| newest(a, b))
            }),
        }
        let total = i64::try_from(hits.len()).unwrap_or(i64::MAX);
        let per_page = usize::try_from(PER_PAGE).unwrap_or(12);
        let start = usize::try_from(q.page.saturating_sub(1))
            .unwrap_or(usize::MAX)
            .saturating_mul(per_page);
        let page = hits
            .into_iter()
            .skip(start)
            .take(per_page)
            .map(|(row, _)| CardRow {
                id: row.id.clone(),
                slug: row.slug.clone(),
                title: row.title.clone(),
                summary: row.summary.clone(),
                tags: row.tags.clone(),
                level: row.level.clone(),
                language: row.language.clone(),
                enrolled_count: row.enrolled_count,
                rating_sum: row.rating_sum,
                rating_count: row.rating_count,
                published: true,
                title_hl: search::highlight(&row.title, terms, MARK_OPEN, MARK_CLOSE),
                summary_hl: search::highlight(&row.summary, terms, MARK_OPEN, MARK_CLOSE),
            })
            .collect();
        Ok((page, total))
    }

    /// The tags and languages of published courses, sorted, for the filter menus.
    pub fn facets(&self) -> (Vec<String>, Vec<String>) {
        self.facets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether course `id` is published (the index holds exactly the published courses).
    pub fn is_published(&self, id: &str) -> bool {
        self.courses.contains(id)
    }

    pub fn len(&self) -> usize {
        self.courses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.courses.is_empty()
    }
}

impl IndexRow {
    fn rating(&self) -> f64 {
        if self.rating_count > 0 {
            self.rating_sum as f64 / self.rating_count as f64
        } else {
            0.0
        }
    }
}
