//! The community forum: general spaces and one space per course, threads (questions and
//! discussions) with replies, votes, an accepted answer, edit history and reputation. Reading
//! and posting are plain pages and forms, so they work without JavaScript.

pub mod api;
pub mod islands;
pub mod model;
pub mod pages;
pub mod text;

#[cfg(feature = "ssr")]
pub mod index;
#[cfg(feature = "ssr")]
pub mod repo;
