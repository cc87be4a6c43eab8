//! Progress: the evaluation score of a learner in a course (`score`) and recommendations by
//! collaborative filtering with an offline evaluation (`recommend`). Both are pure functions
//! over plain data so they are unit-tested exactly and shared by the server and the browser;
//! the dashboards, the daily score snapshots and the engagement rules that use them come next
//! (issue 8).

pub mod recommend;
pub mod score;
