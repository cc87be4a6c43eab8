//! Progress: the evaluation score of a learner in a course (`score`), recommendations by
//! collaborative filtering with an offline evaluation (`recommend`), points, badges and
//! streaks (`engage`) — pure functions over plain data, unit-tested exactly — and the
//! dashboards that show them (`pages`, `api`), with the server side that reads their inputs,
//! snapshots scores daily, sweeps awards and retrains the recommender (`service`, `repo`).

pub mod api;
pub mod engage;
pub mod model;
pub mod pages;
pub mod recommend;
pub mod score;
pub mod text;

#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;
