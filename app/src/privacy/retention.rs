//! How long personal data that only serves a while is kept (set by the operator, see the
//! README; shown on the privacy page). The hourly clean-up (`privacy::repo::purge_expired`)
//! removes what is older.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// The network addresses (and typed e-mail addresses) in the security log
    /// (`PAIRWISE_RETAIN_ADDRESSES_DAYS`).
    pub addresses_days: u32,
    /// Mail once sent: its address and text (`PAIRWISE_RETAIN_MAIL_DAYS`).
    pub mail_days: u32,
    /// The chat and the shared code's history of a room once it is closed
    /// (`PAIRWISE_RETAIN_ROOMS_DAYS`).
    pub rooms_days: u32,
    /// Used or expired links (sign-up, reset, address change) (`PAIRWISE_RETAIN_TOKENS_DAYS`).
    pub tokens_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            addresses_days: 90,
            mail_days: 30,
            rooms_days: 180,
            tokens_days: 7,
        }
    }
}
