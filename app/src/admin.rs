//! Admin tools: find anyone by name, address or role; a person's page (roles, sessions,
//! recent audit entries, courses, mentorships) where an admin suspends them or ends one of
//! their sessions; and the audit log with filters. Every change an admin makes is audited.

pub mod api;
pub mod model;
pub mod pages;
pub mod text;

#[cfg(feature = "ssr")]
pub mod repo;
