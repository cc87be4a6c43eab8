//! Mentoring: mentor profiles and the directory, requests that expire, the ranking of mentors
//! with its reasons (`matching`, a pure function), mentorships, bookings that cannot overlap,
//! feedback, questions between sessions, and the notification mail and reminders (`jobs`).

pub mod api;
pub mod applications;
pub mod matching;
pub mod model;
pub mod pages;
pub mod text;

#[cfg(feature = "ssr")]
pub mod jobs;
#[cfg(feature = "ssr")]
pub mod repo;
