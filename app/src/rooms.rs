//! Live mentoring rooms: participants, WebRTC calls (signalled over the room's socket), and a
//! chat that never loses or repeats a message.

pub mod api;
#[cfg(feature = "hydrate")]
pub mod call;
#[cfg(feature = "ssr")]
pub mod hub;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
pub mod text;
