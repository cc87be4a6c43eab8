//! Recommendations, offline: precision@5 and recall@5 of item-based collaborative filtering
//! against a popularity baseline on a held-out split (the last 20 % of each learner's courses)
//! of a synthetic interaction set generated with a fixed seed (`recommend::synthetic_interactions`
//! documents how), then the time of a full recomputation for 10,000 learners × 500 courses
//! (train the item model, then the top 10 for every learner; median of 10 runs).
//!
//! Run: `cargo run --release -p app --example recommend_eval`.

use std::time::{Duration, Instant};

use app::progress::recommend::{
    DEFAULT_NEIGHBOURS, ItemCf, Profile, evaluate, synthetic_interactions,
};

fn main() {
    for (users, items) in [(1_500, 150), (10_000, 500)] {
        let r = evaluate(42, users, items, 5);
        println!(
            "offline evaluation, seed 42, {users} learners × {items} courses ({} interactions, {} held out): \
             item-CF precision@5 {:.3}, recall@5 {:.3}; popularity precision@5 {:.3}, recall@5 {:.3}",
            r.interactions,
            r.held_out,
            r.item_cf.precision,
            r.item_cf.recall,
            r.popularity.precision,
            r.popularity.recall
        );
    }

    let (users, items) = (10_000u32, 500u32);
    let data = synthetic_interactions(42, users, items);
    let mut profiles: Vec<Profile<u32>> = vec![Profile::new(); users as usize];
    for x in &data {
        profiles[x.user as usize].add(x.item, x.engagement);
    }
    let mut runs: Vec<(Duration, Duration)> = Vec::new();
    for _ in 0..10 {
        let t0 = Instant::now();
        let model = ItemCf::train(&data, DEFAULT_NEIGHBOURS);
        let trained = t0.elapsed();
        let listed: usize = profiles.iter().map(|p| model.recommend(p, 10).len()).sum();
        assert!(listed > 0, "the model recommends something");
        runs.push((trained, t0.elapsed()));
    }
    runs.sort_by_key(|r| r.1);
    let (train, total) = runs[runs.len() / 2];
    println!(
        "full recomputation, {users} learners × {items} courses ({} interactions): train {:.0} ms, \
         with the top 10 for every learner {:.0} ms (median of 10)",
        data.len(),
        train.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3
    );
}
