//! Integration tests: the real Pairwise app on a free port with a real database, driven over
//! HTTP like a browser or a script would.

// A failed expectation in a test should stop the test with its message: that is the point.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod accounts;
mod admin;
mod attacks;
mod authz;
mod confinement;
mod courses;
mod durability;
mod email_change;
mod exercises;
mod forum;
mod hardening;
mod helpers;
mod mail;
mod mentor_applications;
mod mentoring;
mod nginx;
mod notify;
mod operations;
mod pairing;
mod privacy;
mod progress;
mod proxy;
mod python;
mod realtime;
mod reset;
mod rooms;
mod scaleout;
mod security;
mod upgrade;
mod verification;
