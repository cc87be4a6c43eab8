//! Pair programming: a shared code document per room, synced with the Yjs protocol.
//!
//! So far the server's document (`doc`) and the strict check every client update passes
//! before the CRDT library sees it (`validate`). yrs 0.28 can be made to recurse without
//! bound, loop forever, panic later or touch freed memory by crafted update bytes (reproducers
//! in `doc`'s tests), so only plain text inserts and deletes into the one shared text, whose
//! every reference the server already holds, ever reach it.

#[cfg(feature = "ssr")]
pub mod doc;
pub mod validate;
