//! Privacy: a copy of everything Pairwise holds about a person, and erasing their account,
//! both driven by one table of rules over every field that refers to a person
//! ([`rules::RULES`], checked against the live schema by a test). The public privacy page
//! says what is kept and what deleting an account does; the terms of use and the privacy
//! notice are versioned texts an admin publishes and sign-up accepts ([`legal`]).

pub mod api;
pub mod legal;
pub mod pages;
pub mod retention;
pub mod rules;
pub mod text;

#[cfg(feature = "ssr")]
pub mod repo;
