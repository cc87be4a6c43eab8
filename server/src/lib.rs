//! The Pairwise server: configuration, database, HTTP, security and operations.

pub mod assets;
pub mod backup;
pub mod calendar;
pub mod cluster;
pub mod config;
pub mod course_files;
pub mod db;
pub mod demo;
pub mod grading;
pub mod mail;
pub mod metrics;
pub mod page_cache;
pub mod privacy;
pub mod proxy;
pub mod realtime;
pub mod rooms;
pub mod sandbox;
pub mod security;
pub mod seed;
pub mod startup;
pub mod telemetry;
pub mod uploads;
