//! Live mentoring rooms: participants, WebRTC calls (signalled over the room's socket), a
//! chat that never loses or repeats a message, and the shared code editor (`code`).
//!
//! The shared code is a part of the room, not a feature beside it: it rides the room's socket
//! (`call` carries its binary frames in the browser; each room's `hub` entry holds the live
//! document that `code::live` keeps) and its panel lives on the room page. Everything outside
//! `rooms/` reaches it through `rooms::code` only.

pub mod api;
#[cfg(feature = "hydrate")]
pub mod call;
pub mod code;
#[cfg(feature = "ssr")]
pub mod hub;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
pub mod text;
