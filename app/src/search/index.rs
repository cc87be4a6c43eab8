//! An in-memory full-text index over rows of one kind (server only), shared by the catalog
//! and the forum: tantivy scores the text (fields weighed by their boosts, analysed by
//! [`super::index_analyzer`]), and the rows themselves are kept here, so a search reads no
//! database and filters and orders on plain fields.
//!
//! SurrealDB stays the only store: an index is filled from it at start-up
//! ([`TextIndex::replace_all`]) and each row is put again after a write commits
//! ([`TextIndex::put`]).

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

use crate::error::AppError;

/// A row an index can hold: its id, and its text per field (in the order of the index's
/// fields).
pub trait Indexed: Send + Sync + Sized {
    fn id(&self) -> &str;
    fn texts(&self) -> Vec<String>;
    /// What is kept once the text is indexed: text only searched, never shown, can go.
    fn kept(self) -> Self {
        self
    }
}

/// Which rows a query's terms match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Matching {
    /// One field holds every term (a catalog entry is about the whole query).
    AllTermsInOneField,
    /// Every term is somewhere in the row (a question's words spread over title and body).
    EveryTermSomewhere,
    /// At least half the terms are somewhere in the row (what is like a title being typed:
    /// the more words shared, the higher it ranks; one common word alone is not enough).
    MostTermsSomewhere,
}

struct Rows<R> {
    by_key: HashMap<u64, R>,
    key_of: HashMap<String, u64>,
    next_key: u64,
}

impl<R> Default for Rows<R> {
    fn default() -> Self {
        Self {
            by_key: HashMap::new(),
            key_of: HashMap::new(),
            next_key: 0,
        }
    }
}

impl<R: Indexed> Rows<R> {
    fn insert(&mut self, row: R) -> u64 {
        let row = row.kept();
        let key = self.next_key;
        self.next_key += 1;
        self.key_of.insert(row.id().to_string(), key);
        self.by_key.insert(key, row);
        key
    }
}

/// See the module documentation.
pub struct TextIndex<R> {
    name: &'static str,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    /// The row's number in `Rows::by_key` (fast, for reading hits; indexed, for deletes).
    key: Field,
    fields: Vec<(Field, f32)>,
    matching: Matching,
    rows: RwLock<Rows<R>>,
}

impl<R> std::fmt::Debug for TextIndex<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.rows.read().map_or(0, |r| r.by_key.len());
        write!(f, "TextIndex({}, {n} rows)", self.name)
    }
}

impl<R: Indexed> TextIndex<R> {
    /// An empty index over `fields` (name and boost).
    pub fn new(
        name: &'static str,
        fields: &[(&str, f32)],
        matching: Matching,
    ) -> Result<Self, AppError> {
        let failed = failed(name);
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(super::TEXT)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let mut schema = Schema::builder();
        let key = schema.add_u64_field("key", FAST | INDEXED);
        let fields = fields
            .iter()
            .map(|(field, boost)| (schema.add_text_field(field, text.clone()), *boost))
            .collect();
        let index = Index::create_in_ram(schema.build());
        index
            .tokenizers()
            .register(super::TEXT, super::index_analyzer());
        // One indexing thread with tantivy's smallest budget: rows are a few KB.
        let writer = index
            .writer_with_num_threads(1, 15_000_000)
            .map_err(&failed)?;
        // Reloaded by hand after each commit, so a change is visible to the next request.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(&failed)?;
        Ok(Self {
            name,
            reader,
            writer: Mutex::new(writer),
            key,
            fields,
            matching,
            rows: RwLock::new(Rows::default()),
        })
    }

    /// Replaces everything with `rows`; answers how many there are.
    pub fn replace_all(&self, rows: Vec<R>) -> Result<usize, AppError> {
        let failed = failed(self.name);
        let n = rows.len();
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        writer.delete_all_documents().map_err(&failed)?;
        let mut kept = Rows::default();
        for row in rows {
            let doc = self.document(&row);
            let key = kept.insert(row);
            writer
                .add_document(with_key(doc, self.key, key))
                .map_err(&failed)?;
        }
        writer.commit().map_err(&failed)?;
        self.reader.reload().map_err(&failed)?;
        *self.rows.write().unwrap_or_else(|e| e.into_inner()) = kept;
        Ok(n)
    }

    /// Puts row `id` again (`None`: removes it). Answers whether anything changed.
    pub fn put(&self, id: &str, row: Option<R>) -> Result<bool, AppError> {
        let failed = failed(self.name);
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut rows = self.rows.write().unwrap_or_else(|e| e.into_inner());
        let old = rows.key_of.remove(id);
        if let Some(old) = old {
            rows.by_key.remove(&old);
            writer.delete_term(Term::from_field_u64(self.key, old));
        }
        match row {
            Some(row) => {
                let doc = self.document(&row);
                let key = rows.insert(row);
                writer
                    .add_document(with_key(doc, self.key, key))
                    .map_err(&failed)?;
            }
            None if old.is_none() => return Ok(false),
            None => {}
        }
        writer.commit().map_err(&failed)?;
        self.reader.reload().map_err(&failed)?;
        Ok(true)
    }

    fn document(&self, row: &R) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        for ((field, _), text) in self.fields.iter().zip(row.texts()) {
            doc.add_text(*field, text);
        }
        doc
    }

    /// The rows `terms` match (see [`Matching`]), by key, with their scores.
    pub fn scores(&self, terms: &[String]) -> Result<HashMap<u64, f32>, AppError> {
        self.scores_as(terms, self.matching)
    }

    /// [`TextIndex::scores`], matching as `matching` says rather than as the index usually
    /// does.
    pub fn scores_as(
        &self,
        terms: &[String],
        matching: Matching,
    ) -> Result<HashMap<u64, f32>, AppError> {
        let failed = failed(self.name);
        let term_in = |field: Field, t: &String| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, t),
                IndexRecordOption::WithFreqs,
            ))
        };
        let query: Box<dyn Query> = match matching {
            Matching::AllTermsInOneField => Box::new(BooleanQuery::new(
                self.fields
                    .iter()
                    .map(|&(field, boost)| {
                        let all = terms.iter().map(|t| term_in(field, t)).collect();
                        let q: Box<dyn Query> = Box::new(BoostQuery::new(
                            Box::new(BooleanQuery::intersection(all)),
                            boost,
                        ));
                        (Occur::Should, q)
                    })
                    .collect(),
            )),
            Matching::EveryTermSomewhere | Matching::MostTermsSomewhere => {
                let anywhere = |t: &String| -> Box<dyn Query> {
                    Box::new(BooleanQuery::new(
                        self.fields
                            .iter()
                            .map(|&(field, boost)| {
                                let q: Box<dyn Query> =
                                    Box::new(BoostQuery::new(term_in(field, t), boost));
                                (Occur::Should, q)
                            })
                            .collect(),
                    ))
                };
                if matching == Matching::EveryTermSomewhere {
                    Box::new(BooleanQuery::new(
                        terms.iter().map(|t| (Occur::Must, anywhere(t))).collect(),
                    ))
                } else {
                    Box::new(BooleanQuery::with_minimum_required_clauses(
                        terms.iter().map(|t| (Occur::Should, anywhere(t))).collect(),
                        terms.len().div_ceil(2),
                    ))
                }
            }
        };
        let searcher = self.reader.searcher();
        let total = usize::try_from(searcher.num_docs())
            .unwrap_or(usize::MAX)
            .max(1);
        let hits = searcher
            .search(&query, &TopDocs::with_limit(total).order_by_score())
            .map_err(&failed)?;
        // One column reader per segment, not one per hit.
        let keys = searcher
            .segment_readers()
            .iter()
            .map(|segment| segment.fast_fields().u64("key"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(&failed)?;
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

    /// Reads the rows (by key, as [`TextIndex::scores`] names them).
    pub fn read<T>(&self, f: impl FnOnce(&HashMap<u64, R>) -> T) -> T {
        f(&self.rows.read().unwrap_or_else(|e| e.into_inner()).by_key)
    }

    /// Whether row `id` is held.
    pub fn contains(&self, id: &str) -> bool {
        self.rows.read().is_ok_and(|r| r.key_of.contains_key(id))
    }

    pub fn len(&self) -> usize {
        self.rows.read().map_or(0, |r| r.by_key.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn with_key(mut doc: TantivyDocument, field: Field, key: u64) -> TantivyDocument {
    doc.add_u64(field, key);
    doc
}

fn failed(name: &'static str) -> impl Fn(tantivy::TantivyError) -> AppError {
    move |e| {
        tracing::error!(error = %e, "{name} index");
        AppError::Internal
    }
}
