//! Code exercises: the shared model and grading rules, the learner's exercise panel with the
//! editor and the browser Run, submissions graded by the server, review comments, authoring.

pub mod api;
#[cfg(feature = "ssr")]
pub mod grading;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
pub mod run;
pub mod text;
