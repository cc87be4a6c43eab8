//! Mentoring: mentor profiles, requests, matching, bookings and feedback. So far: the ranking
//! of mentors for a request (`matching`), a pure function the rest builds on.

pub mod matching;
