//! Becoming a mentor: a learner applies with a short profile (`/mentoring/apply`); admins are
//! told and decide at `/admin/mentor-applications`; approving grants the mentor role in the
//! same transaction; the applicant is told either way, in their language.

pub mod api;
pub mod model;
pub mod pages;
pub mod text;

#[cfg(feature = "ssr")]
pub mod repo;
