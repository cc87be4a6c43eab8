//! Courses: catalog with full-text search, course and lesson pages, enrolment, video watch
//! time, quizzes, progress, and courses as code (bundles).

pub mod api;
pub mod bundle;
pub mod editor;
#[cfg(feature = "ssr")]
pub mod index;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
pub mod text;
