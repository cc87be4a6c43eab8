//! Pair programming, the room's shared code: one document per room, synced with the Yjs protocol.
//!
//! The server keeps each room's document (`doc`) while anyone is connected (`live`), speaks
//! y-protocols' sync and awareness messages in binary frames on the room's socket
//! (`protocol`), and logs every update for the replay with a periodic snapshot (`repo`).
//! Every client update passes a strict check before the CRDT library sees it (`validate`). yrs 0.28 can be made to recurse without
//! bound, loop forever, panic later or touch freed memory by crafted update bytes (reproducers
//! in `doc`'s tests), so only plain text inserts and deletes into the one shared text, whose
//! every reference the server already holds, ever reach it.

pub mod api;
#[cfg(feature = "hydrate")]
pub mod client;
#[cfg(feature = "ssr")]
pub mod doc;
#[cfg(feature = "ssr")]
pub mod live;
pub mod model;
pub mod pages;
pub mod protocol;
#[cfg(feature = "ssr")]
pub mod repo;
pub mod text;
pub mod validate;
