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

use std::{
    collections::HashMap,
    sync::{Mutex, RwLock},
};

use tantivy::{
    Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term,
    collector::TopDocs,
    query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery},
    schema::{FAST, Field, INDEXED, IndexRecordOption, Schema, TextFieldIndexing, TextOptions},
};

use crate::{
    courses::{
        model::{CatalogQuery, PER_PAGE, Sort},
        repo::{self, CardRow, IndexRow, MARK_CLOSE, MARK_OPEN},
    },
    db::Db,
    error::AppError,
    search,
};

/// Field boosts: a title match counts most, then tags and summary, then the description.
const BOOSTS: [(&str, f32); 4] = [
    ("title", 4.0),
    ("summary", 2.0),
    ("description", 1.0),
    ("tags", 2.0),
];

fn failed(what: &'static str) -> impl Fn(tantivy::TantivyError) -> AppError {
    move |e| {
        tracing::error!(error = %e, "catalog index: {what}");
        AppError::Internal
    }
}

struct Fields {
    /// The course's number in `Courses::by_key` (fast, for reading hits; indexed, for deletes).
    key: Field,
    text: [Field; 4],
}

#[derive(Default)]
struct Courses {
    by_key: HashMap<u64, IndexRow>,
    key_of: HashMap<String, u64>,
    next_key: u64,
    /// The filter menus' tags and languages, sorted; recomputed when a course changes rather
    /// than on every catalog page (gathering them from every row was a storm of allocations).
    facets: (Vec<String>, Vec<String>),
}

impl Courses {
    fn recount_facets(&mut self) {
        let mut tags: Vec<String> = self
            .by_key
            .values()
            .flat_map(|r| r.tags.iter().cloned())
            .collect();
        tags.sort();
        tags.dedup();
        let mut languages: Vec<String> = self.by_key.values().map(|r| r.language.clone()).collect();
        languages.sort();
        languages.dedup();
        self.facets = (tags, languages);
    }
}

/// See the module documentation.
pub struct CatalogIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    courses: RwLock<Courses>,
}

impl std::fmt::Debug for CatalogIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.courses.read().map_or(0, |c| c.by_key.len());
        write!(f, "CatalogIndex({n} courses)")
    }
}

impl CatalogIndex {
    /// An empty index; [`CatalogIndex::rebuild`] fills it.
    pub fn new() -> Result<Self, AppError> {
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(search::TEXT)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let mut schema = Schema::builder();
        let key = schema.add_u64_field("key", FAST | INDEXED);
        let text = BOOSTS.map(|(name, _)| schema.add_text_field(name, text.clone()));
        let index = Index::create_in_ram(schema.build());
        index
            .tokenizers()
            .register(search::TEXT, search::index_analyzer());
        // One indexing thread with tantivy's smallest budget: a course is a few KB.
        let writer = index
            .writer_with_num_threads(1, 15_000_000)
            .map_err(failed("writer"))?;
        // Reloaded by hand after each commit, so a change is visible to the next request.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(failed("reader"))?;
        Ok(Self {
            reader,
            writer: Mutex::new(writer),
            fields: Fields { key, text },
            courses: RwLock::default(),
        })
    }

    /// Replaces the whole index with the published courses in the database (at start-up,
    /// and whenever an update could not be applied).
    pub async fn rebuild(&self, db: &Db) -> Result<usize, AppError> {
        let rows = repo::index_rows(db, None).await?;
        let n = rows.len();
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        writer.delete_all_documents().map_err(failed("clear"))?;
        let mut courses = Courses::default();
        for row in rows {
            let key = courses.next_key;
            courses.next_key += 1;
            writer
                .add_document(self.document(key, &row))
                .map_err(failed("add"))?;
            courses.key_of.insert(row.id.clone(), key);
            courses.by_key.insert(key, row);
        }
        writer.commit().map_err(failed("commit"))?;
        self.reader.reload().map_err(failed("reload"))?;
        courses.recount_facets();
        *self.courses.write().unwrap_or_else(|e| e.into_inner()) = courses;
        Ok(n)
    }

    /// Reads course `id` again after a write and updates (or removes) its entry. A failure
    /// here cannot undo the committed write, so it rebuilds the index instead of leaving it
    /// wrong.
    pub async fn refresh(&self, db: &Db, id: &str) {
        let result = match repo::index_rows(db, Some(id)).await {
            Ok(rows) => self.apply(id, rows.into_iter().next()),
            Err(e) => Err(e),
        };
        if result.is_err() {
            tracing::warn!(course = id, "catalog index update failed: rebuilding it");
            if let Err(e) = self.rebuild(db).await {
                tracing::error!(error = ?e, "catalog index rebuild failed");
            }
        }
    }

    fn apply(&self, id: &str, row: Option<IndexRow>) -> Result<(), AppError> {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut courses = self.courses.write().unwrap_or_else(|e| e.into_inner());
        let old = courses.key_of.remove(id);
        if let Some(old) = old {
            courses.by_key.remove(&old);
            writer.delete_term(Term::from_field_u64(self.fields.key, old));
        }
        if let Some(row) = row {
            let key = courses.next_key;
            courses.next_key += 1;
            writer
                .add_document(self.document(key, &row))
                .map_err(failed("add"))?;
            courses.key_of.insert(row.id.clone(), key);
            courses.by_key.insert(key, row);
        } else if old.is_none() {
            return Ok(());
        }
        courses.recount_facets();
        writer.commit().map_err(failed("commit"))?;
        self.reader.reload().map_err(failed("reload"))
    }

    fn document(&self, key: u64, row: &IndexRow) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_u64(self.fields.key, key);
        let [title, summary, description, tags] = self.fields.text;
        doc.add_text(title, &row.title);
        doc.add_text(summary, &row.summary);
        doc.add_text(description, &row.description);
        doc.add_text(tags, row.tags.join(" "));
        doc
    }

    /// Course keys matching every term in at least one field, with their scores.
    fn matches(&self, terms: &[String]) -> Result<HashMap<u64, f32>, AppError> {
        let per_field: Vec<(Occur, Box<dyn Query>)> = BOOSTS
            .iter()
            .zip(self.fields.text)
            .map(|((_, boost), field)| {
                let all: Vec<Box<dyn Query>> = terms
                    .iter()
                    .map(|t| {
                        Box::new(TermQuery::new(
                            Term::from_field_text(field, t),
                            IndexRecordOption::WithFreqs,
                        )) as Box<dyn Query>
                    })
                    .collect();
                let query: Box<dyn Query> = Box::new(BoostQuery::new(
                    Box::new(BooleanQuery::intersection(all)),
                    *boost,
                ));
                (Occur::Should, query)
            })
            .collect();
        let query = BooleanQuery::new(per_field);
        let searcher = self.reader.searcher();
        let total = usize::try_from(searcher.num_docs())
            .unwrap_or(usize::MAX)
            .max(1);
        let hits = searcher
            .search(&query, &TopDocs::with_limit(total).order_by_score())
            .map_err(failed("search"))?;
        // One column reader per segment, not one per hit.
        let keys = searcher
            .segment_readers()
            .iter()
            .map(|segment| segment.fast_fields().u64("key"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(failed("keys"))?;
        let mut found = HashMap::with_capacity(hits.len());
        for (score, address) in hits {
            let key = keys
                .get(address.segment_ord as usize)
                .and_then(|column| column.first(address.doc_id));
            if let Some(key) = key {
                found.insert(key, score);
            }
        }
        Ok(found)
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
            Some(self.matches(&terms)?)
        };
        let courses = self.courses.read().unwrap_or_else(|e| e.into_inner());
        let mut hits: Vec<(&IndexRow, f32)> = courses
            .by_key
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
                title_hl: search::highlight(&row.title, &terms, MARK_OPEN, MARK_CLOSE),
                summary_hl: search::highlight(&row.summary, &terms, MARK_OPEN, MARK_CLOSE),
            })
            .collect();
        Ok((page, total))
    }

    /// The tags and languages of published courses, sorted, for the filter menus.
    pub fn facets(&self) -> (Vec<String>, Vec<String>) {
        let courses = self.courses.read().unwrap_or_else(|e| e.into_inner());
        courses.facets.clone()
    }

    pub fn len(&self) -> usize {
        self.courses.read().map_or(0, |c| c.by_key.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
