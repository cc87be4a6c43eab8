//! The terms of use and the privacy notice: versioned texts an admin publishes. A new version
//! is a new record, so the words someone accepted at sign-up stay readable.

use serde::{Deserialize, Serialize};

use crate::error::Problem;

/// The longest text an admin may publish.
pub const LEGAL_MAX_CHARS: usize = 50_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LegalKind {
    Terms,
    Privacy,
}

impl LegalKind {
    pub const ALL: [LegalKind; 2] = [LegalKind::Terms, LegalKind::Privacy];

    pub fn key(self) -> &'static str {
        match self {
            LegalKind::Terms => "terms",
            LegalKind::Privacy => "privacy",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == raw.trim())
    }
}

/// A published text as its readers get it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalTextView {
    pub kind: LegalKind,
    pub version: i64,
    /// The Markdown an admin wrote, in English and in Simplified Chinese (empty when not
    /// given): their edit form starts from them.
    pub body: String,
    pub body_zh: String,
    /// The reader's language's text (English when there is none in theirs), rendered and
    /// sanitised.
    pub body_html: String,
    /// When it was published, in the reader's language.
    pub published: String,
}

/// A text an admin is about to publish: not empty, not huge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegalBody(String);

impl LegalBody {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let body = raw.trim();
        if body.is_empty() {
            return Err(Problem::LegalEmpty);
        }
        if body.chars().count() > LEGAL_MAX_CHARS {
            return Err(Problem::LegalTooLong);
        }
        Ok(Self(body.replace("\r\n", "\n")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_text_has_words_and_a_known_kind() {
        assert_eq!(LegalBody::parse("  "), Err(Problem::LegalEmpty));
        assert_eq!(
            LegalBody::parse(&"x".repeat(LEGAL_MAX_CHARS + 1)),
            Err(Problem::LegalTooLong)
        );
        assert_eq!(
            LegalBody::parse("a\r\nb").map(|b| b.as_str().to_string()),
            Ok("a\nb".to_string())
        );
        assert_eq!(LegalKind::parse("terms"), Some(LegalKind::Terms));
        assert_eq!(LegalKind::parse("cookies"), None);
    }
}
