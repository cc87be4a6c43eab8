//! Identifier newtypes, so a user id can never be passed where a course id is expected.

use serde::{Deserialize, Serialize};

/// A user's id: the key part of the `user` record id (never the email).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub String);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `key` could be a record key this app made (random hex, or a short alphanumeric
/// id): anything else is refused as "not found" before it reaches a query.
pub fn is_record_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 40 && key.bytes().all(|b| b.is_ascii_alphanumeric())
}
