//! `surreal start …`: the SurrealDB server, built from crates.io for the tests that run several
//! app servers on one database (tests/api/scaleout.rs).

// The server's command-line and router types nest deeply enough to need more than the default.
#![recursion_limit = "256"]

use std::process::ExitCode;

fn main() -> ExitCode {
    surrealdb_server::init(surrealdb_core::CommunityComposer())
}
