//! The Pairwise server: configuration, database, HTTP, security and operations.

pub mod backup;
pub mod config;
pub mod db;
pub mod demo;
pub mod metrics;
pub mod security;
pub mod startup;
pub mod telemetry;
