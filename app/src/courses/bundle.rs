//! A whole course as plain data: what `course.toml` and the Markdown files of a course folder
//! hold ("courses as code"). The server reads and writes folders; the repo stores bundles.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseBundle {
    pub slug: String,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub level: String,
    pub language: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_on: Option<String>,
    #[serde(default)]
    pub published: bool,
    /// Authors by email; on import, those that exist here become the course's authors.
    #[serde(default)]
    pub authors: Vec<String>,
    /// Markdown of `description.md`.
    #[serde(skip)]
    pub description: String,
    #[serde(default, rename = "section")]
    pub sections: Vec<SectionBundle>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionBundle {
    pub title: String,
    #[serde(default, rename = "lesson")]
    pub lessons: Vec<LessonBundle>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LessonBundle {
    pub title: String,
    pub kind: String,
    /// The lesson's Markdown file, relative to the course folder.
    pub file: String,
    /// A video: `media/<file>` in the folder, or an `https://` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_secs: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captions: Option<String>,
    #[serde(default, rename = "question", skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<QuestionBundle>,
    /// A quiz's attempts before its answers are shown (1–20; none: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// An exercise lesson's `exercises/<name>.toml`, relative to the course folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exercise: Option<String>,
    /// The Markdown of `file`.
    #[serde(skip)]
    pub body: String,
    /// The parsed exercise file.
    #[serde(skip)]
    pub exercise_spec: Option<crate::exercises::model::ExerciseSpec>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionBundle {
    pub prompt: String,
    pub choices: Vec<String>,
    /// 0-based indexes of the right choices.
    pub correct: Vec<u32>,
    #[serde(default)]
    pub explanation: String,
}
