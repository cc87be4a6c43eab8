//! `pairwise seed-history`: fills a database with a synthetic but realistic learning history
//! for the benchmarks: `courses` published courses of six lessons (two videos), `learners`
//! learners whose enrolments, completions and ratings come from
//! `progress::recommend::synthetic_interactions` (seeded, documented there), lesson progress
//! and points for their first two courses, and 14 days of score snapshots for those courses.
//! Every learner can sign in as `bench-learner-<n>@example.org` with `BENCH_PASSWORD`.
//!
//! Rows are written as SurrealQL literals in batches of 1,000 (every key is generated here, so
//! nothing user-typed reaches the query text).

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};

use app::{
    accounts::model::Password, progress::recommend::synthetic_interactions, state::AppState,
};

pub const BENCH_PASSWORD: &str = "bench passphrase for pairwise";
const LESSONS: u32 = 6;
const VIDEO_SECS: f64 = 600.0;
const DAYS: i64 = 14;
const BATCH: usize = 1_000;

fn at(t: DateTime<Utc>) -> String {
    format!(
        "d\"{}\"",
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

async fn insert(state: &AppState, head: &str, rows: &[String]) -> anyhow::Result<()> {
    for chunk in rows.chunks(BATCH) {
        let q = format!("{head} [{}];", chunk.join(","));
        state
            .db
            .query(q)
            .await
            .with_context(|| format!("seeding: {head}"))?
            .check()
            .with_context(|| format!("seeding: {head}"))?;
    }
    Ok(())
}

/// Writes the history; returns (learners, courses, enrolments, rows written).
pub async fn history(
    state: &AppState,
    learners: u32,
    courses: u32,
    seed: u64,
) -> anyhow::Result<(u32, u32, usize, usize)> {
    let now = state.clock.now();
    let topics = ["web", "data", "devops", "systems"];
    let mut written = 0;

    let mut rows = Vec::new();
    let mut sections = Vec::new();
    let mut lessons = Vec::new();
    for c in 0..courses {
        let topic = topics[((c / 5) % 4) as usize];
        rows.push(format!(
            "{{id: course:bc{c}, slug: 'bench-course-{c}', title: 'Bench course {c}', summary: '',
              description: '', tags: ['{topic}'], search_tags: '{topic}', level: 'beginner',
              language: 'en', published: true, authors: [], enrolled_count: 0,
              created_at: {t}, updated_at: {t}}}",
            t = at(now - Duration::days(60))
        ));
        sections.push(format!(
            "{{id: section:bc{c}s, course: course:bc{c}, title: 'Part one', position: 0}}"
        ));
        for l in 0..LESSONS {
            let video = l < 2;
            lessons.push(format!(
                "{{id: lesson:bc{c}l{l}, course: course:bc{c}, section: section:bc{c}s, position: {l},
                  title: 'Lesson {l}', kind: '{kind}', body: 'Synthetic lesson.'{secs}}}",
                kind = if video { "video" } else { "text" },
                secs = if video {
                    format!(", video_secs: {VIDEO_SECS:.1}")
                } else {
                    String::new()
                }
            ));
        }
    }
    insert(state, "INSERT INTO course", &rows).await?;
    insert(state, "INSERT INTO section", &sections).await?;
    insert(state, "INSERT INTO lesson", &lessons).await?;
    written += rows.len() + sections.len() + lessons.len();

    let password = Password::parse(BENCH_PASSWORD).map_err(|p| anyhow::anyhow!("{p:?}"))?;
    let hash = state
        .hasher
        .hash(&password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let users: Vec<String> = (0..learners)
        .map(|u| {
            format!(
                "{{id: user:bl{u}, email: 'bench-learner-{u}@example.org', display_name: 'Bench learner {u}',
                  password_hash: '{hash}', roles: ['learner'], email_verified: true,
                  created_at: {t}, updated_at: {t}}}",
                t = at(now - Duration::days(60))
            )
        })
        .collect();
    insert(state, "INSERT INTO user", &users).await?;
    written += users.len();

    let data = synthetic_interactions(seed, learners, courses);
    let mut enrolled = Vec::new();
    let mut rated = Vec::new();
    let mut progress = Vec::new();
    let mut awards = Vec::new();
    let mut days = Vec::new();
    let mut taken: Vec<u32> = vec![0; learners as usize];
    for (i, x) in data.iter().enumerate() {
        let (u, c) = (x.user, x.item);
        // Spread over 21 days, all at least 19 days ago (completions and ratings follow within 8).
        let enrolled_at = now - Duration::days(40) + Duration::minutes(i as i64 % 30_000);
        let completed = if x.engagement.completed {
            format!(", completed_at: {}", at(enrolled_at + Duration::days(7)))
        } else {
            String::new()
        };
        enrolled.push(format!(
            "{{in: user:bl{u}, out: course:bc{c}, at: {}{completed}}}",
            at(enrolled_at)
        ));
        if let Some(stars) = x.engagement.stars {
            rated.push(format!(
                "{{in: user:bl{u}, out: course:bc{c}, stars: {stars}, at: {}}}",
                at(enrolled_at + Duration::days(8))
            ));
        }
        // Detailed history for each learner's first two courses.
        let n = &mut taken[u as usize];
        *n += 1;
        if *n > 2 {
            continue;
        }
        // A completed course: every lesson, both videos (score 1.0); otherwise the first lesson
        // and its video only (score 0.5: half the video time, the only measure).
        let finished = if x.engagement.completed { LESSONS } else { 1 };
        let final_score = if x.engagement.completed { 1.0 } else { 0.5 };
        for l in 0..LESSONS {
            let done = l < finished;
            let watched = if l < 2 && done { VIDEO_SECS } else { 0.0 };
            let done_at = enrolled_at + Duration::days(i64::from(l));
            progress.push(format!(
                "{{id: lesson_progress:bl{u}c{c}l{l}, user: user:bl{u}, course: course:bc{c},
                  lesson: lesson:bc{c}l{l}, done: {done}{done_at}, watched_secs: {watched:.1},
                  updated_at: {t}}}",
                done_at = if done {
                    format!(", done_at: {}", at(done_at))
                } else {
                    String::new()
                },
                t = at(done_at)
            ));
            if done {
                awards.push(format!(
                    "{{id: award:lesson_bl{u}c{c}l{l}, user: user:bl{u}, kind: 'lesson',
                      points: 10, at: {}}}",
                    at(done_at)
                ));
            }
        }
        for d in 0..DAYS {
            let day = (now - Duration::days(DAYS - d))
                .format("%Y-%m-%d")
                .to_string();
            let share = ((d + 1) as f64 / DAYS as f64) * final_score;
            days.push(format!(
                "{{id: score_day:bl{u}_bc{c}_{key}, user: user:bl{u}, course: course:bc{c}, day: '{day}',
                  score: {share:.4}, watched: {w:.1}, watched_total: {total:.1}, passed: 0,
                  passed_total: 0, feedback: 0.0, feedback_total: 0.0, at: {t}}}",
                key = day.replace('-', ""),
                w = share * 2.0 * VIDEO_SECS,
                total = 2.0 * VIDEO_SECS,
                t = at(now - Duration::days(DAYS - d))
            ));
        }
    }
    insert(state, "INSERT RELATION INTO enrolled", &enrolled).await?;
    insert(state, "INSERT RELATION INTO rated", &rated).await?;
    insert(state, "INSERT INTO lesson_progress", &progress).await?;
    insert(state, "INSERT INTO award", &awards).await?;
    insert(state, "INSERT INTO score_day", &days).await?;
    written += enrolled.len() + rated.len() + progress.len() + awards.len() + days.len();
    state
        .db
        .query("UPDATE course SET enrolled_count = count(<-enrolled) WHERE string::starts_with(slug, 'bench-course-')")
        .await
        .context("counting enrolments")?
        .check()
        .context("counting enrolments")?;
    // The rows above bypass the writers that keep the progress aggregates: count them from
    // what was seeded, as the migration that made them does.
    app::courses::repo::recount_all(&state.db, false)
        .await
        .map_err(|e| anyhow::anyhow!("counting progress aggregates: {e}"))?;
    // The seeded points already match the seeded progress, and the history stands as if
    // today's jobs had run: the server's first job round then does not re-derive 10,000
    // learners' awards and snapshots while the benchmark measures the pages.
    for job in ["awards", "scores"] {
        app::progress::repo::set_job_mark(&state.db, job, now)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok((learners, courses, enrolled.len(), written))
}

/// `pairwise seed-room`: a room whose shared code was typed in `steps` keystrokes (one
/// update each, in the log as a live room stores them), or with `paste_bytes`, made of
/// `steps` pastes that each replace the whole text with that many new bytes; hosted by
/// `bench-host@example.org` (password [`BENCH_PASSWORD`]). Beyond the log's caps (steps and
/// bytes) the oldest steps are folded into its base, as a live room folds them. The largest
/// room allowed has a full log and a base: what `bench/replay.mjs` times the replay of.
/// Returns the room's key.
pub async fn room(
    state: &AppState,
    steps: u64,
    paste_bytes: Option<usize>,
) -> anyhow::Result<String> {
    use app::{
        accounts::{model::Role, repo as accounts},
        rooms::code::{doc::SharedDoc, repo as pairing},
    };
    let email = "bench-host@example.org";
    if let Err(e) =
        crate::demo::create_account(state, email, "Bench Host", BENCH_PASSWORD, &[Role::Mentor])
            .await
    {
        // Seeded before: the host is there already.
        tracing::info!(error = %e, "bench host not created");
    }
    let address = app::accounts::model::Email::parse(email)
        .map_err(|p| anyhow::anyhow!("{}", app::error::AppError::from(p)))?;
    let (host, _) = accounts::credentials(&state.db, &address)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .context("the bench host has no account")?;
    let now = state.clock.now();
    let room = app::rooms::repo::create_room(&state.db, &host, "Replay benchmark", now)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    pairing::load(&state.db, &room, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut doc = SharedDoc::default();
    let line = "let answer = compute(input, 42); // typed one key at a time\n";
    let updates: Vec<Vec<u8>> = match paste_bytes {
        None => line
            .chars()
            .cycle()
            .take(steps as usize)
            .map(|ch| doc.type_at_end(&ch.to_string()))
            .collect(),
        Some(size) => (0..steps)
            .map(|i| {
                let text: String = format!("// paste {i}\n{line}")
                    .chars()
                    .cycle()
                    .take(size)
                    .collect();
                doc.replace_text(&text)
            })
            .collect(),
    };
    // Fold as a live room does: past the step cap, and past the byte cap counted from the
    // newest step back.
    let by_steps = steps.saturating_sub(state.rooms.code_log_steps);
    let mut kept = 0u64;
    let mut by_bytes = 0u64;
    for (i, u) in updates.iter().enumerate().rev() {
        kept += app::rooms::code::live::base64_len(u.len());
        if kept > state.rooms.code_log_bytes {
            by_bytes = i as u64 + 1;
            break;
        }
    }
    let folded = by_steps.max(by_bytes);
    let mut base = SharedDoc::default();
    for (i, update) in updates.iter().enumerate() {
        if (i as u64) < folded {
            base.apply(update).map_err(|r| anyhow::anyhow!(r.0))?;
        }
        pairing::append(&state.db, &room, Some(&host), update, now)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    if folded > 0 {
        pairing::fold(&state.db, &room, 0, folded, &base.snapshot())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    pairing::save_snapshot(&state.db, &room, &doc.snapshot(), steps, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(room)
}

/// `pairwise seed-forum`: a general space (`bench-forum`) with `threads` questions of
/// `replies` answers each, written by 200 accounts (`bench-writer-<n>@example.org`), plus one
/// thread with `big` answers; the text is made of programming words picked from `seed`, a
/// quarter of the questions solved. Answers the big thread's key and the posts written.
pub async fn forum(
    state: &AppState,
    threads: u32,
    replies: u32,
    big: u32,
    seed: u64,
) -> anyhow::Result<(String, usize)> {
    const WRITERS: u32 = 200;
    const WORDS: [&str; 48] = [
        "async",
        "await",
        "borrow",
        "checker",
        "lifetime",
        "closure",
        "iterator",
        "vector",
        "string",
        "slice",
        "trait",
        "generic",
        "macro",
        "module",
        "crate",
        "cargo",
        "test",
        "panic",
        "error",
        "result",
        "option",
        "match",
        "struct",
        "enum",
        "thread",
        "mutex",
        "channel",
        "socket",
        "request",
        "response",
        "database",
        "query",
        "index",
        "cache",
        "promise",
        "callback",
        "array",
        "object",
        "function",
        "loop",
        "recursion",
        "sort",
        "git",
        "branch",
        "merge",
        "rebase",
        "数据库",
        "并发",
    ];
    let now = state.clock.now();
    let mut text = Words {
        state: seed.max(1),
        words: &WORDS,
    };
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();

    let password = Password::parse(BENCH_PASSWORD).map_err(|p| anyhow::anyhow!("{p:?}"))?;
    let hash = state
        .hasher
        .hash(&password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let users: Vec<String> = (0..WRITERS)
        .map(|u| {
            format!(
                "{{id: user:bf{u}, email: 'bench-writer-{u}@example.org', display_name: 'Bench writer {u}',
                  password_hash: '{hash}', roles: ['learner'], email_verified: true,
                  created_at: {t}, updated_at: {t}}}",
                t = at(now - Duration::days(90))
            )
        })
        .collect();
    insert(state, "INSERT INTO user", &users).await?;
    state
        .db
        .query(format!(
            "CREATE forum_space:bench SET slug = 'bench-forum', title = 'Bench forum',
                description = '', created_by = user:bf0, created_at = {}",
            at(now)
        ))
        .await
        .context("seeding the forum space")?
        .check()
        .context("seeding the forum space")?;

    let mut thread_rows = Vec::new();
    let mut reply_rows = Vec::new();
    let counts = (0..threads).map(|_| replies).chain(std::iter::once(big));
    for (t, n) in counts.enumerate() {
        let asked = now - Duration::minutes(i64::try_from(t).unwrap_or(0) * 7 + 600);
        let accepted = (t % 4 == 0 && n > 0).then(|| format!("forum_reply:bt{t}r0"));
        thread_rows.push(format!(
            "{{id: forum_thread:bt{t}, space: forum_space:bench, author: user:bf{a},
              kind: 'question', title: {title}, body: {body}, tags: [{tag}],
              created_at: {c}, last_activity: {c}, reply_count: {n}, score: {score},
              accepted: {acc}}}",
            a = t as u32 % WRITERS,
            title = quote(&format!("How do I use {}?", text.sentence(6))),
            body = quote(&format!(
                "{}\n\n```rust\nfn main() {{ {} }}\n```\n\n{}",
                text.sentence(30),
                text.sentence(4),
                text.sentence(20)
            )),
            tag = quote(text.words[text.pick(20)]),
            c = at(asked),
            score = text.pick(7),
            acc = accepted.unwrap_or_else(|| "NONE".into()),
        ));
        for r in 0..n {
            reply_rows.push(format!(
                "{{id: forum_reply:bt{t}r{r}, thread: forum_thread:bt{t}, author: user:bf{a},
                  body: {body}, created_at: {c}, score: {score}}}",
                a = (t as u32 + r + 1) % WRITERS,
                body = quote(&format!(
                    "{}\n\n`{}` {}",
                    text.sentence(25),
                    text.sentence(2),
                    text.sentence(15)
                )),
                c = at(asked + Duration::minutes(i64::from(r) + 1)),
                score = text.pick(4),
            ));
        }
    }
    insert(state, "INSERT INTO forum_thread", &thread_rows).await?;
    insert(state, "INSERT INTO forum_reply", &reply_rows).await?;
    Ok((format!("bt{threads}"), thread_rows.len() + reply_rows.len()))
}

/// Deterministic text for a seed (xorshift64*: no dependency, the same forum every run).
struct Words<'a> {
    state: u64,
    words: &'a [&'a str],
}

impl Words<'_> {
    fn pick(&mut self, n: usize) -> usize {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        (self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }

    fn sentence(&mut self, words: usize) -> String {
        (0..words)
            .map(|_| self.words[self.pick(self.words.len())])
            .collect::<Vec<_>>()
            .join(" ")
    }
}
