//! Text analysis for the in-process search indexes (server only): how course text (and any
//! other searchable text) is cut into terms, for indexing, for queries and for highlights.
//!
//! Words are lower-cased, folded to ASCII (`café` finds `cafe`) and stemmed with the same
//! Snowball English stemmer SurrealDB's analyzers used (`tests` finds `test`). Chinese,
//! Japanese and Korean text has no spaces between words: it is indexed as single characters
//! and overlapping pairs of characters, and a query of several characters looks for its pairs
//! (the approach of Lucene's CJK analyzer), so `数据库` finds text containing `数据库` without
//! a dictionary.

pub mod index;

use std::{ops::Range, sync::LazyLock};

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenFilter,
    TokenStream, Tokenizer,
};

/// Search highlights are wrapped in these control characters, which no stored text holds
/// (they are stripped on write); the page escapes the text, then turns them into `<mark>`.
pub const MARK_OPEN: &str = "\u{2}";
pub const MARK_CLOSE: &str = "\u{3}";

/// Escapes text for HTML and turns the search markers into `<mark>`.
pub fn marked_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in text.split(['\u{2}', '\u{3}']).enumerate() {
        if i > 0 {
            // Markers alternate: open, close, open...
            out.push_str(if i % 2 == 1 { "<mark>" } else { "</mark>" });
        }
        crate::ui::highlight::escape_into(&mut out, part);
    }
    out
}

/// The analyzer name under which an index registers [`index_analyzer`].
pub const TEXT: &str = "pairwise_text";

/// Words longer than this are dropped (base64 blobs, hashes): nobody searches for them.
const LONGEST_WORD: usize = 40;

pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x2FA1F) // CJK extensions B–F, compatibility supplement
}

/// What to emit for a run of CJK characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Grams {
    /// Every character and every pair: any query, one character or more, can match.
    Index,
    /// The pairs (a lone character stays itself): what a query must find.
    Query,
}

/// Cuts text into words (runs of letters and digits) and CJK grams.
#[derive(Clone, Debug)]
pub struct WordsAndGrams {
    grams: Grams,
}

/// The tokens of one text, computed up front (texts here are short: titles, summaries,
/// posts).
pub struct Tokens {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for Tokens {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

fn push(tokens: &mut Vec<Token>, text: &str, range: Range<usize>) {
    tokens.push(Token {
        offset_from: range.start,
        offset_to: range.end,
        position: tokens.len(),
        text: text[range].to_string(),
        position_length: 1,
    });
}

impl Tokenizer for WordsAndGrams {
    type TokenStream<'a> = Tokens;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens {
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let end_of = |i: usize| chars.get(i).map_or(text.len(), |(at, _)| *at);
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let start = i;
            let c = chars[i].1;
            if is_cjk(c) {
                while i < chars.len() && is_cjk(chars[i].1) {
                    i += 1;
                }
                let run = start..i;
                if run.len() == 1 {
                    push(&mut tokens, text, chars[start].0..end_of(i));
                    continue;
                }
                for k in run {
                    if self.grams == Grams::Index {
                        push(&mut tokens, text, chars[k].0..end_of(k + 1));
                    }
                    if k + 1 < i {
                        push(&mut tokens, text, chars[k].0..end_of(k + 2));
                    }
                }
            } else if c.is_alphanumeric() {
                while i < chars.len() && chars[i].1.is_alphanumeric() && !is_cjk(chars[i].1) {
                    i += 1;
                }
                push(&mut tokens, text, chars[start].0..end_of(i));
            } else {
                i += 1;
            }
        }
        Tokens { tokens, next: 0 }
    }
}

static ENGLISH: LazyLock<rust_stemmers::Stemmer> =
    LazyLock::new(|| rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English));

/// Stems words of ASCII letters with the Snowball English stemmer; leaves everything else.
#[derive(Clone, Debug)]
pub struct EnglishStem;

impl TokenFilter for EnglishStem {
    type Tokenizer<T: Tokenizer> = EnglishStemFilter<T>;
    fn transform<T: Tokenizer>(self, tokenizer: T) -> EnglishStemFilter<T> {
        EnglishStemFilter { inner: tokenizer }
    }
}

#[derive(Clone, Debug)]
pub struct EnglishStemFilter<T> {
    inner: T,
}

pub struct EnglishStemStream<S> {
    inner: S,
}

impl<T: Tokenizer> Tokenizer for EnglishStemFilter<T> {
    type TokenStream<'a> = EnglishStemStream<T::TokenStream<'a>>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        EnglishStemStream {
            inner: self.inner.token_stream(text),
        }
    }
}

impl<S: TokenStream> TokenStream for EnglishStemStream<S> {
    fn advance(&mut self) -> bool {
        if !self.inner.advance() {
            return false;
        }
        let token = self.inner.token_mut();
        if token.text.bytes().all(|b| b.is_ascii_alphabetic())
            && let std::borrow::Cow::Owned(stem) = ENGLISH.stem(&token.text)
        {
            token.text = stem;
        }
        true
    }
    fn token(&self) -> &Token {
        self.inner.token()
    }
    fn token_mut(&mut self) -> &mut Token {
        self.inner.token_mut()
    }
}

fn analyzer(grams: Grams) -> TextAnalyzer {
    TextAnalyzer::builder(WordsAndGrams { grams })
        .filter(RemoveLongFilter::limit(LONGEST_WORD))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(EnglishStem)
        .build()
}

/// How stored text is indexed (register it as [`TEXT`]).
pub fn index_analyzer() -> TextAnalyzer {
    analyzer(Grams::Index)
}

/// The distinct terms a query looks for, in the order typed.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    analyzer(Grams::Query)
        .token_stream(query)
        .process(&mut |t: &Token| {
            if !terms.contains(&t.text) {
                terms.push(t.text.clone());
            }
        });
    terms
}

/// `text` with every stretch that matches one of `terms` wrapped in `open` … `close`
/// (overlapping matches, such as neighbouring CJK pairs, become one stretch).
pub fn highlight(text: &str, terms: &[String], open: &str, close: &str) -> Option<String> {
    let mut ranges: Vec<Range<usize>> = Vec::new();
    index_analyzer()
        .token_stream(text)
        .process(&mut |t: &Token| {
            if terms.contains(&t.text) {
                ranges.push(t.offset_from..t.offset_to);
            }
        });
    if ranges.is_empty() {
        return None;
    }
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    let mut out = String::with_capacity(text.len() + merged.len() * 2);
    let mut at = 0;
    for r in merged {
        out.push_str(&text[at..r.start]);
        out.push_str(open);
        out.push_str(&text[r.clone()]);
        out.push_str(close);
        at = r.end;
    }
    out.push_str(&text[at..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_terms(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        index_analyzer()
            .token_stream(text)
            .process(&mut |t: &Token| out.push(t.text.clone()));
        out
    }

    #[test]
    fn english_words_are_lowered_folded_and_stemmed_like_the_old_analyzer() {
        assert_eq!(
            index_terms("Testing Cafés, async-Rust!"),
            ["test", "cafe", "async", "rust"]
        );
        assert_eq!(query_terms("tests tests CAFE"), ["test", "cafe"]);
    }

    #[test]
    fn chinese_is_indexed_as_characters_and_pairs_and_queried_by_pairs() {
        assert_eq!(index_terms("数据库"), ["数", "数据", "据", "据库", "库"]);
        assert_eq!(query_terms("数据库"), ["数据", "据库"]);
        // One character alone still finds the text.
        assert_eq!(query_terms("库"), ["库"]);
        // Mixed text: words and grams side by side.
        assert_eq!(query_terms("Rust 入门"), ["rust", "入门"]);
    }

    #[test]
    fn highlights_mark_whole_matches_and_join_overlapping_pairs() {
        let terms = query_terms("database 数据库");
        assert_eq!(
            highlight("Databases and 数据库设计", &terms, "[", "]").as_deref(),
            Some("[Databases] and [数据库]设计")
        );
        assert_eq!(highlight("nothing here", &terms, "[", "]"), None);
    }
}
