//! Notifications, a service on the floor under the features: exercises, rooms, pairing,
//! mentoring, progress and accounts all notify through it, and it knows none of them. A
//! notification is stored as a kind and a [`model::Notice`] (a message key with parameters)
//! and rendered in the reader's language wherever it is read: the page, the live badge,
//! e-mail. Also here: e-mail choices per kind, the mailer with its daily digest, and the
//! outbox every e-mail goes through.

pub mod api;
pub mod model;
pub mod pages;
pub mod text;

#[cfg(feature = "ssr")]
pub mod jobs;
#[cfg(feature = "ssr")]
pub mod repo;
