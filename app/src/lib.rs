//! Pairwise's shared crate: pages, types and rules used by both the server (feature `ssr`)
//! and the browser (feature `hydrate`).

#![recursion_limit = "256"]

pub mod accounts;
pub mod admin;
pub mod app;
pub mod courses;
#[cfg(feature = "ssr")]
pub mod db;
pub mod error;
pub mod exercises;
pub mod forum;
pub mod i18n;
pub mod ids;
pub mod mentoring;
pub mod notify;
pub mod privacy;
pub mod progress;
pub mod realtime;
pub mod rooms;
#[cfg(feature = "ssr")]
pub mod search;
#[cfg(feature = "ssr")]
pub mod state;
pub mod ui;

pub use app::App;
#[cfg(feature = "ssr")]
pub use app::shell;
