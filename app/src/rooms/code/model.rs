//! Pair-programming types the browser and the server share.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The shared document's language: its highlighting in every editor, and what Run runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeLanguage {
    #[default]
    Javascript,
    Python,
    Rust,
    Html,
    Css,
    Sql,
    Text,
}

impl CodeLanguage {
    pub const ALL: [CodeLanguage; 7] = [
        CodeLanguage::Javascript,
        CodeLanguage::Python,
        CodeLanguage::Rust,
        CodeLanguage::Html,
        CodeLanguage::Css,
        CodeLanguage::Sql,
        CodeLanguage::Text,
    ];

    pub fn key(self) -> &'static str {
        match self {
            CodeLanguage::Javascript => "javascript",
            CodeLanguage::Python => "python",
            CodeLanguage::Rust => "rust",
            CodeLanguage::Html => "html",
            CodeLanguage::Css => "css",
            CodeLanguage::Sql => "sql",
            CodeLanguage::Text => "text",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CodeLanguage::Javascript => "JavaScript",
            CodeLanguage::Python => "Python",
            CodeLanguage::Rust => "Rust",
            CodeLanguage::Html => "HTML",
            CodeLanguage::Css => "CSS",
            CodeLanguage::Sql => "SQL",
            CodeLanguage::Text => "Plain text",
        }
    }

    pub fn parse(key: &str) -> Result<Self, AppError> {
        Self::ALL
            .into_iter()
            .find(|l| l.key() == key)
            .ok_or_else(|| AppError::BadRequest {
                detail: "the language must be one of javascript, python, rust, html, css, sql \
                         or text"
                    .into(),
            })
    }

    /// JavaScript and Python run in the browser's sandbox (Python through Pyodide).
    pub fn runs(self) -> bool {
        matches!(self, CodeLanguage::Javascript | CodeLanguage::Python)
    }
}

/// A room's shared code as the page starts from (the editor then syncs live).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CodeView {
    pub text: String,
    pub language: CodeLanguage,
    /// The exercise (its lesson) the code came from, and its visible tests for Run.
    pub exercise: Option<String>,
    pub tests: Vec<crate::exercises::model::TestCase>,
    pub limits: Option<crate::exercises::model::Limits>,
    /// Changes stored so far (0: nothing to replay).
    pub changes: u64,
    /// Where Pyodide is, for a Python Run (set by the room page, which knows the site).
    #[serde(default)]
    pub python: Option<crate::exercises::model::PythonFiles>,
}

/// The replay page's data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplayView {
    pub room_id: String,
    pub title: String,
    pub language: CodeLanguage,
    pub final_text: String,
    pub steps: Vec<ReplayStep>,
    /// When older changes are left out: the document before the first step (base64 update).
    pub base: Option<String>,
}

/// One line of a Run's result as the runner's browser judged it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunLine {
    pub name: String,
    pub passed: bool,
    /// What it returned or threw, shortened.
    pub detail: String,
}

/// A Run in a room, shared with everyone there. Made in the runner's browser: advice, like
/// any Run (the server grades submissions itself).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub lines: Vec<RunLine>,
    /// What the code printed (console), shortened.
    pub console: String,
}

pub const MAX_RUN_LINES: usize = 50;
pub const MAX_RUN_DETAIL_CHARS: usize = 500;
pub const MAX_RUN_CONSOLE_CHARS: usize = 4000;

impl RunReport {
    /// A report as it may be relayed: within the sizes above, or refused in words.
    pub fn checked(self) -> Result<Self, AppError> {
        let too_big = |what: &str| AppError::BadRequest {
            detail: format!("the run result has {what}; shorten it"),
        };
        if self.lines.len() > MAX_RUN_LINES {
            return Err(too_big("too many tests"));
        }
        if self.console.chars().count() > MAX_RUN_CONSOLE_CHARS {
            return Err(too_big("too much console output"));
        }
        for line in &self.lines {
            if line.name.chars().count() > 200 || line.detail.chars().count() > MAX_RUN_DETAIL_CHARS
            {
                return Err(too_big("a test with too long a name or result"));
            }
        }
        Ok(self)
    }

    pub fn passed(&self) -> usize {
        self.lines.iter().filter(|l| l.passed).count()
    }
}

/// One step of the replay timeline: an update as it was stored, with who made it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplayStep {
    pub seq: u64,
    /// RFC 3339.
    pub at: String,
    /// `None`: the server's own edit (the code an exercise seeded).
    pub author_id: Option<String>,
    pub author_name: String,
    /// base64 of the Yjs update.
    pub update: String,
}

/// The most steps one replay loads (about an hour of steady typing by two people).
pub const MAX_REPLAY_STEPS: usize = 20_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_round_trip_and_unknown_ones_are_refused() {
        for l in CodeLanguage::ALL {
            assert_eq!(CodeLanguage::parse(l.key()).ok(), Some(l));
        }
        assert!(CodeLanguage::parse("cobol").is_err());
    }

    #[test]
    fn oversized_run_reports_are_refused() {
        let line = RunLine {
            name: "t".into(),
            passed: true,
            detail: "1".into(),
        };
        let ok = RunReport {
            lines: vec![line.clone(); 3],
            console: "hi".into(),
        };
        assert_eq!(ok.clone().checked().map(|r| r.passed()).ok(), Some(3));
        let many = RunReport {
            lines: vec![line.clone(); MAX_RUN_LINES + 1],
            ..ok.clone()
        };
        assert!(many.checked().is_err());
        let loud = RunReport {
            console: "x".repeat(MAX_RUN_CONSOLE_CHARS + 1),
            ..ok.clone()
        };
        assert!(loud.checked().is_err());
        let long = RunReport {
            lines: vec![RunLine {
                detail: "d".repeat(MAX_RUN_DETAIL_CHARS + 1),
                ..line
            }],
            ..ok
        };
        assert!(long.checked().is_err());
    }
}
