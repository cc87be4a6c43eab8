//! Progress on the server: scores from the stored records, the daily snapshots, awards and
//! badges derived from real progress, the trained recommender, and the background jobs that
//! keep them current. The arithmetic is in `score`, `engage` and `recommend`; this module
//! gathers their inputs and stores their outputs.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::{
    error::AppError,
    progress::{
        engage::{self, AwardKind, Facts},
        model::{CourseScore, Point, Suggestion, Why},
        recommend::{
            self, CourseFacts, DEFAULT_NEIGHBOURS, Engagement, Interaction, ItemCf, MentorRating,
            Profile, Reason,
        },
        repo::{self, Aggregates, AwardInputs, DayRow, EnrolledRow, ScoreInputs, WeightsRow},
        score::{Fraction, Parts, Weights, score},
    },
    state::AppState,
};

pub fn day_of(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

pub fn weights_of(row: Option<&WeightsRow>) -> Weights {
    row.and_then(|w| Weights::new(w.watched, w.passed, w.feedback).ok())
        .unwrap_or_default()
}

/// `t/T`, `n/N` and `s/S` per course from the learner's aggregates:
///
/// - `T` is the length of the course's video lessons, `t` what the learner watched of each
///   (the player's merged played ranges), capped per lesson at its length;
/// - `N` counts every test of the course's exercises, `n` the learner's best attempt at each
///   exercise (capped at its tests, should the exercise have lost tests since);
/// - `S` is 5 stars per piece of mentor feedback about the learner, `s` the stars given.
///   Mentor feedback is about the learner, not about one course, so it counts in each of
///   their courses.
///
/// The sums are kept by the writes that change them (see migration 0009), so this reads a
/// few rows however long the learner's history is.
pub fn parts_by_course(agg: &Aggregates) -> HashMap<String, Parts> {
    let feedback = Fraction::new(agg.feedback_stars as f64, 5.0 * agg.feedback_count as f64);
    agg.courses
        .iter()
        .map(|c| {
            let mine = agg.parts.iter().find(|p| p.course == c.course);
            let total_secs = c.video_total.unwrap_or(0.0).max(0.0);
            let tests = u32::try_from(c.tests_total.unwrap_or(0).max(0)).unwrap_or(u32::MAX);
            let watched = mine.map_or(0.0, |p| p.watched_secs.clamp(0.0, total_secs));
            let passed = mine.map_or(0, |p| {
                u32::try_from(p.tests_passed.max(0)).unwrap_or(0).min(tests)
            });
            (
                c.course.clone(),
                Parts {
                    watched: Fraction::new(watched, total_secs),
                    passed: Fraction::new(passed, tests),
                    feedback,
                },
            )
        })
        .collect()
}

/// A learner's enrolments and the raw records their awards are derived from (the awards
/// sweep and the event writers read these; the dashboard does not).
pub type Records = (Vec<EnrolledRow>, ScoreInputs);

pub async fn records(state: &AppState, user: &str) -> Result<Records, AppError> {
    let enrolled = repo::enrolled(&state.db, user).await?;
    let courses: Vec<String> = enrolled.iter().map(|e| e.course.clone()).collect();
    let inputs = repo::score_inputs(&state.db, user, &courses).await?;
    Ok((enrolled, inputs))
}

fn scored(agg: &Aggregates) -> Vec<(Parts, Weights)> {
    let parts = parts_by_course(agg);
    agg.courses
        .iter()
        .map(|c| {
            let p = parts.get(&c.course).copied().unwrap_or(Parts {
                watched: Fraction::new(0.0, 0.0),
                passed: Fraction::new(0, 0),
                feedback: Fraction::new(0.0, 0.0),
            });
            (p, weights_of(c.weights.as_ref()))
        })
        .collect()
}

/// The learner's score in each enrolled course with its trend: `trends` are their stored
/// snapshots over the range (`repo::dashboard`), and the trend's last point is today's score as
/// computed now (the daily job stores it). Reads nothing.
pub fn course_scores(
    state: &AppState,
    user: &str,
    agg: &Aggregates,
    trends: Vec<repo::TrendRow>,
) -> Vec<CourseScore> {
    let now = state.clock.now();
    let today = day_of(now);
    let scored = scored(agg);
    let trends: Vec<repo::TrendRow> = trends
        .into_iter()
        .filter(|t| t.day != today)
        .chain(
            agg.courses
                .iter()
                .zip(&scored)
                .map(|(e, (p, w))| repo::TrendRow {
                    user: user.to_string(),
                    course: e.course.clone(),
                    day: today.clone(),
                    score: score(p, *w).map(|s| s.value),
                }),
        )
        .collect();
    agg.courses
        .iter()
        .zip(scored)
        .map(|(e, (parts, weights))| {
            let s = score(&parts, weights);
            let trend = trends
                .iter()
                .filter(|t| t.course == e.course)
                .filter_map(|t| {
                    Some(Point {
                        label: t.day.clone(),
                        value: t.score?,
                    })
                })
                .collect();
            use crate::progress::score::Measure;
            CourseScore {
                course: e.course.clone(),
                slug: e.slug.clone(),
                title: e.title.clone(),
                score: s.map(|s| s.value),
                watched: (parts.watched.done, parts.watched.total),
                passed: (parts.passed.done, parts.passed.total),
                feedback: (parts.feedback.done, parts.feedback.total),
                weights: (
                    weights.get(Measure::Watched),
                    weights.get(Measure::Passed),
                    weights.get(Measure::Feedback),
                ),
                effective: Measure::ALL.map(|m| s.and_then(|s| s.term(m)).map(|t| t.weight)),
                trend,
            }
        })
        .collect()
}

/// Stores one learner's snapshot rows for `day` (their score in each course at its end).
async fn snapshot(state: &AppState, user: &str, day: &str) -> Result<(), AppError> {
    let now = state.clock.now();
    let agg = repo::aggregates(&state.db, user).await?;
    let rows = agg
        .courses
        .iter()
        .zip(scored(&agg))
        .map(|(e, (p, w))| {
            (
                repo::day_key(user, &e.course, day),
                DayRow {
                    user: surrealdb::types::RecordId::new("user", user),
                    course: surrealdb::types::RecordId::new("course", e.course.as_str()),
                    day: day.to_string(),
                    score: score(&p, w).map(|s| s.value),
                    watched: p.watched.done,
                    watched_total: p.watched.total,
                    passed: i64::from(p.passed.done),
                    passed_total: i64::from(p.passed.total),
                    feedback: p.feedback.done,
                    feedback_total: p.feedback.total,
                    at: now,
                },
            )
        })
        .collect();
    repo::save_days(&state.db, rows).await
}

/// Snapshots every enrolled learner's scores under `day` (the daily job passes the day that
/// just ended: its row is the score at the end of that day). A learner whose records cannot be
/// read is logged and skipped, not allowed to stop everyone else's snapshot.
pub async fn snapshot_everyone(state: &AppState, day: &str) -> Result<u32, AppError> {
    let mut done = 0u32;
    for user in repo::enrolled_users(&state.db).await? {
        match snapshot(state, &user, day).await {
            Ok(()) => done += 1,
            Err(e) => tracing::warn!(%user, error = %e, "score snapshot skipped"),
        }
    }
    Ok(done)
}

// ---------------------------------------------------------------------------------------------
// Awards

/// What a person's records earn: awards, finished courses with when, and the badge facts.
pub type Due = (Vec<repo::NewAward>, Vec<(String, DateTime<Utc>)>, Facts);

/// The awards a person's records earn, each keyed by the event it rewards, and the courses
/// they have finished (every lesson done) with when.
pub fn due_awards(user: &str, inputs: &AwardInputs) -> Due {
    let mut awards = Vec::new();
    for p in &inputs.progress {
        if let Some(at) = p.done_at {
            let kind = AwardKind::Lesson;
            awards.push(repo::NewAward::new(
                &format!("lesson_{}", p.key),
                user,
                kind.as_str(),
                kind.points(),
                at,
            ));
        }
    }
    // First passing submission per exercise.
    let mut first_pass: BTreeMap<&str, DateTime<Utc>> = BTreeMap::new();
    for s in inputs
        .submissions
        .iter()
        .filter(|s| s.tests_total > 0 && s.tests_passed == s.tests_total)
    {
        let at = first_pass
            .entry(s.exercise.as_str())
            .or_insert(s.created_at);
        *at = (*at).min(s.created_at);
    }
    for (exercise, at) in &first_pass {
        let kind = AwardKind::Exercise;
        awards.push(repo::NewAward::new(
            &format!("exercise_{user}_{exercise}"),
            user,
            kind.as_str(),
            kind.points(),
            *at,
        ));
    }
    let mut sessions: HashSet<&str> = HashSet::new();
    for b in inputs.sessions.iter().chain(&inputs.mentored) {
        if sessions.insert(b.key.as_str()) {
            let kind = AwardKind::Session;
            awards.push(repo::NewAward::new(
                &format!("session_{}_{user}", b.key),
                user,
                kind.as_str(),
                kind.points(),
                b.ends_at,
            ));
        }
    }
    // One helpful answer per question earns points (an asker marking every reply helpful
    // cannot inflate the board): keyed by the question, the first marked wins.
    let mut questions: HashSet<&str> = HashSet::new();
    for a in &inputs.answers {
        let kind = AwardKind::Answer;
        if let Some(at) = a
            .helpful_at
            .filter(|_| questions.insert(a.question.as_str()))
        {
            awards.push(repo::NewAward::new(
                &format!("answer_{}_{user}", a.question),
                user,
                kind.as_str(),
                kind.points(),
                at,
            ));
        }
    }
    for a in &inputs.forum_accepted {
        let kind = AwardKind::Forum;
        awards.push(repo::NewAward::new(
            &format!("forum_{}_{user}", a.reply),
            user,
            kind.as_str(),
            kind.points(),
            a.at,
        ));
    }

    // Finished courses: every lesson of the course done.
    let done: HashMap<&str, DateTime<Utc>> = inputs
        .progress
        .iter()
        .filter_map(|p| Some((p.lesson.as_str(), p.done_at?)))
        .collect();
    let mut finished = Vec::new();
    for course in &inputs.enrolled {
        let lessons: Vec<&str> = inputs
            .lessons
            .iter()
            .filter(|l| &l.course == course)
            .map(|l| l.lesson.as_str())
            .collect();
        if lessons.is_empty() {
            continue;
        }
        let last = lessons
            .iter()
            .map(|l| done.get(l).copied())
            .collect::<Option<Vec<_>>>()
            .and_then(|ats| ats.into_iter().max());
        if let Some(at) = last {
            finished.push((course.clone(), at));
        }
    }

    let helped: HashSet<&str> = inputs
        .mentored
        .iter()
        .map(|b| b.learner.as_str())
        .chain(inputs.answers.iter().map(|a| a.asker.as_str()))
        .filter(|l| *l != user)
        .collect();
    let progress_days: Vec<NaiveDate> = awards.iter().map(|a| a.at.date_naive()).collect();
    let facts = Facts {
        submissions: u32::try_from(inputs.submissions.len()).unwrap_or(u32::MAX),
        lessons_finished: u32::try_from(inputs.progress.len()).unwrap_or(u32::MAX),
        exercises_passed: u32::try_from(first_pass.len()).unwrap_or(u32::MAX),
        courses_finished: u32::try_from(finished.len().max(inputs.completed.len()))
            .unwrap_or(u32::MAX),
        learners_helped: u32::try_from(helped.len()).unwrap_or(u32::MAX),
        sessions_attended: u32::try_from(sessions.len()).unwrap_or(u32::MAX),
        best_daily_streak: engage::best_daily_streak(&progress_days),
        forum_answers: u32::try_from(inputs.forum_answers).unwrap_or(u32::MAX),
        forum_accepted: u32::try_from(inputs.forum_accepted.len()).unwrap_or(u32::MAX),
    };
    (awards, finished, facts)
}

/// Brings one person's points, badges and finished courses up to date with their records.
/// Safe to run any number of times, concurrently too: every award is keyed by its event.
/// Returns what the person has now.
pub async fn sync_awards(state: &AppState, user: &str) -> Result<AwardInputs, AppError> {
    sync_awards_from(state, user, &records(state, user).await?).await
}

/// The [`crate::state::Awards`] the app runs with: [`sync_awards`], logged on failure (the
/// write that earned the award has committed; the jobs' sweep catches up).
#[derive(Debug)]
pub struct AwardSync;

impl crate::state::Awards for AwardSync {
    fn earned<'a>(
        &'a self,
        state: &'a AppState,
        user: &'a str,
    ) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            if let Err(e) = sync_awards(state, user).await {
                tracing::warn!(%user, error = %e, "awards after a write failed; the sweep retries");
            }
        })
    }
}

/// [`sync_awards`] over records already read.
pub async fn sync_awards_from(
    state: &AppState,
    user: &str,
    (enrolled, base): &Records,
) -> Result<AwardInputs, AppError> {
    let now = state.clock.now();
    let courses: Vec<String> = enrolled.iter().map(|e| e.course.clone()).collect();
    let inputs = repo::award_inputs(&state.db, user, now, &courses, base).await?;
    let (awards, finished, facts) = due_awards(user, &inputs);
    let known: HashSet<&str> = inputs.awards.iter().map(|a| a.key.as_str()).collect();
    let awards: Vec<repo::NewAward> = awards
        .into_iter()
        .filter(|a| !known.contains(a.key.as_str()))
        .collect();
    let have: HashSet<&str> = inputs.badges.iter().map(|b| b.badge.as_str()).collect();
    let badges: Vec<repo::NewBadge> = engage::earned(&facts)
        .into_iter()
        .filter(|b| !have.contains(b))
        .map(|b| repo::NewBadge::new(user, b))
        .collect();
    let already: HashSet<String> = inputs.completed.iter().cloned().collect();
    let finished: Vec<(String, DateTime<Utc>)> = finished
        .into_iter()
        .filter(|(c, _)| !already.contains(c))
        .collect();
    if awards.is_empty() && badges.is_empty() && finished.is_empty() {
        return Ok(inputs);
    }
    let new_badge = !badges.is_empty();
    repo::record_awards(&state.db, user, awards, badges, finished, now).await?;
    if new_badge {
        state.notifier.poke([user]);
    }
    repo::award_inputs(&state.db, user, now, &courses, base).await
}

// ---------------------------------------------------------------------------------------------
// Recommendations

/// The trained recommender: item-CF over every learner's courses, every learner's row for
/// "learners like you", and what the suggestions are labelled with.
pub struct Trained {
    pub cf: ItemCf<String>,
    pub learners: Vec<(String, Profile<String>)>,
    by_user: HashMap<String, usize>,
    mentor_ratings: Vec<MentorRating<String, String>>,
    catalogue: Vec<CourseFacts<String>>,
    courses: HashMap<String, (String, String)>,
    mentors: HashMap<String, (String, String, bool)>,
    pub trained_at: DateTime<Utc>,
    /// Enrolments and ratings seen at training: a change retrains before the schedule does.
    pub seen: i64,
    /// "Mentors for you" per learner (and their courses and mentors), for this model's life:
    /// finding the learners most like one compares them with every learner, too much to do
    /// on every dashboard view when the answer cannot change until the next training.
    mentor_memo: std::sync::Mutex<HashMap<String, Vec<Suggestion>>>,
}

/// At most this many learners' mentor suggestions are kept per model.
const MENTOR_MEMO_MAX: usize = 50_000;

impl Trained {
    pub fn build(data: repo::TrainingData, at: DateTime<Utc>) -> Trained {
        let stars: HashMap<(&str, &str), u8> = data
            .course_ratings
            .iter()
            .map(|r| {
                (
                    (r.user.as_str(), r.item.as_str()),
                    u8::try_from(r.stars.clamp(1, 5)).unwrap_or(3),
                )
            })
            .collect();
        let interactions: Vec<Interaction<String, String>> = data
            .enrolments
            .iter()
            .map(|e| Interaction {
                user: e.user.clone(),
                item: e.course.clone(),
                engagement: Engagement {
                    completed: e.completed,
                    stars: stars.get(&(e.user.as_str(), e.course.as_str())).copied(),
                },
            })
            .collect();
        let cf = ItemCf::train(&interactions, DEFAULT_NEIGHBOURS);
        let mut rows: BTreeMap<String, Profile<String>> = BTreeMap::new();
        for x in &interactions {
            rows.entry(x.user.clone())
                .or_default()
                .add(x.item.clone(), x.engagement);
        }
        let learners: Vec<(String, Profile<String>)> = rows.into_iter().collect();
        let by_user = learners
            .iter()
            .enumerate()
            .map(|(i, (u, _))| (u.clone(), i))
            .collect();
        Trained {
            cf,
            learners,
            by_user,
            mentor_ratings: data
                .mentor_ratings
                .iter()
                .map(|r| MentorRating {
                    learner: r.user.clone(),
                    mentor: r.item.clone(),
                    stars: u8::try_from(r.stars.clamp(1, 5)).unwrap_or(3),
                })
                .collect(),
            catalogue: data
                .catalogue
                .iter()
                .map(|c| CourseFacts {
                    item: c.course.clone(),
                    skills: c.tags.clone(),
                    learners: u32::try_from(c.learners.max(0)).unwrap_or(0),
                })
                .collect(),
            courses: data
                .catalogue
                .into_iter()
                .map(|c| (c.course, (c.slug, c.title)))
                .collect(),
            mentors: data
                .mentors
                .into_iter()
                .map(|m| (m.mentor, (m.name, m.headline, m.open)))
                .collect(),
            trained_at: at,
            seen: data.seen,
            mentor_memo: std::sync::Mutex::default(),
        }
    }

    /// The learner's row: as trained, plus courses enrolled in since.
    fn profile(&self, user: &str, enrolled: &[String]) -> Profile<String> {
        let mut p = self
            .by_user
            .get(user)
            .map(|i| self.learners[*i].1.clone())
            .unwrap_or_default();
        for c in enrolled {
            p.add(c.clone(), Engagement::ENROLLED);
        }
        p
    }

    /// "Recommended next" courses, each with its reason.
    pub fn courses_for(
        &self,
        user: &str,
        enrolled: &[String],
        wanted: &[String],
        n: usize,
    ) -> Vec<Suggestion> {
        let profile = self.profile(user, enrolled);
        // Only published courses are suggested (the model may know unpublished ones).
        let picks =
            recommend::recommend_courses(&self.cf, &profile, wanted, &self.catalogue, n * 2);
        picks
            .into_iter()
            .filter_map(|r| {
                let (slug, title) = self.courses.get(&r.item)?;
                let why = match r.reason {
                    Reason::BecauseYouTook {
                        item,
                        similar_learners,
                    } => Why::AlsoTook {
                        title: self.courses.get(&item).map(|c| c.1.clone())?,
                        learners: similar_learners,
                    },
                    Reason::Popular { learners } => Why::Popular { learners },
                    Reason::MatchesSkill { skill } => Why::Skill { skill },
                };
                Some(Suggestion {
                    href: format!("/courses/{slug}"),
                    title: title.clone(),
                    why,
                })
            })
            .take(n)
            .collect()
    }

    /// Mentors rated well by the learners most like this one, who take mentees and are not
    /// already theirs.
    pub fn mentors_for(
        &self,
        user: &str,
        enrolled: &[String],
        exclude: &[String],
        n: usize,
    ) -> Vec<Suggestion> {
        let key = format!("{user}|{}|{}|{n}", enrolled.join(","), exclude.join(","));
        if let Some(known) = self
            .mentor_memo
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return known;
        }
        let found = self.find_mentors(user, enrolled, exclude, n);
        if let Ok(mut memo) = self.mentor_memo.lock() {
            if memo.len() >= MENTOR_MEMO_MAX {
                memo.clear();
            }
            memo.insert(key, found.clone());
        }
        found
    }

    fn find_mentors(
        &self,
        user: &str,
        enrolled: &[String],
        exclude: &[String],
        n: usize,
    ) -> Vec<Suggestion> {
        let profile = self.profile(user, enrolled);
        // The learner's own row is among the learners (most similar to itself): leaving out
        // their own ratings keeps them from recommending their mentors to themselves, without
        // copying 10,000 rows per request.
        let ratings: Vec<MentorRating<String, String>> = self
            .mentor_ratings
            .iter()
            .filter(|r| r.learner != user)
            .cloned()
            .collect();
        recommend::recommend_mentors(&profile, &self.learners, &ratings, 50, n * 3)
            .into_iter()
            .filter(|m| m.mentor != user && !exclude.contains(&m.mentor))
            .filter_map(|m| {
                let (name, _, open) = self.mentors.get(&m.mentor)?;
                if !open {
                    return None;
                }
                let recommend::MentorReason::RatedByLearnersLikeYou {
                    learners,
                    average_stars,
                } = m.reason;
                Some(Suggestion {
                    href: format!("/mentors/{}", m.mentor),
                    title: name.clone(),
                    why: Why::RatedByLikeYou {
                        learners,
                        stars: average_stars,
                    },
                })
            })
            .take(n)
            .collect()
    }
}

/// The current model, replaced whole by each retraining (readers keep the one they hold).
#[derive(Default)]
pub struct Recommender {
    model: RwLock<Option<Arc<Trained>>>,
    /// One training at a time: concurrent first requests wait for it instead of each reading
    /// every enrolment and training their own.
    training: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Recommender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recommender")
    }
}

/// How often the model is retrained: its cost is bounded by the data (about a second for
/// 10,000 learners × 500 courses), and a quarter hour is fresh enough for "what next".
pub const RETRAIN_EVERY: Duration = Duration::minutes(15);

impl Recommender {
    pub fn current(&self) -> Option<Arc<Trained>> {
        self.model.read().ok().and_then(|m| m.clone())
    }

    fn set(&self, t: Trained) {
        if let Ok(mut m) = self.model.write() {
            *m = Some(Arc::new(t));
        }
    }

    /// Retrains from the database now.
    pub async fn retrain(&self, state: &AppState) -> Result<Arc<Trained>, AppError> {
        let data = repo::training_data(&state.db).await?;
        let now = state.clock.now();
        // Training is CPU work: keep it off the async workers.
        let trained = tokio::task::spawn_blocking(move || Trained::build(data, now))
            .await
            .map_err(|_| AppError::Internal)?;
        self.set(trained);
        self.current().ok_or(AppError::Internal)
    }

    /// The model, trained first if there is none yet.
    pub async fn get(&self, state: &AppState) -> Result<Arc<Trained>, AppError> {
        if let Some(t) = self.current() {
            return Ok(t);
        }
        let _one = self.training.lock().await;
        match self.current() {
            Some(t) => Ok(t),
            None => self.retrain(state).await,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Background work

/// How far back the first awards sweep looks on a new database mark.
const FIRST_SWEEP: Duration = Duration::days(3650);

/// One round: awards for everyone with new progress since the last round, today's score
/// snapshots once a day, and the recommender retrained when it is older than
/// [`RETRAIN_EVERY`]. Each step is idempotent, so several app servers may run it.
pub async fn run_once(state: &AppState) -> Result<(), AppError> {
    let now = state.clock.now();
    let since = repo::job_mark(&state.db, "awards")
        .await?
        .unwrap_or(now - FIRST_SWEEP);
    // Overlap by a minute: a write committed just before the mark with an older timestamp
    // is still seen. Awards are idempotent, so seeing an event twice costs nothing.
    for user in repo::active_since(&state.db, since - Duration::minutes(1), now).await? {
        if let Err(e) = sync_awards(state, &user).await {
            tracing::warn!(%user, error = %e, "awards sweep skipped a person; next round retries");
        }
    }
    repo::set_job_mark(&state.db, "awards", now).await?;

    // Courses whose content changed and whose learners' aggregates were not counted again
    // (the process stopped in between): count them now.
    crate::courses::repo::recount_all(&state.db, true).await?;

    // Once per UTC day, on the first round after midnight: every course's aggregates counted
    // again from the records (a repair: the writers keep them), then every learner's row for
    // the day that just ended (their score at its end, whether or not they looked).
    let today = day_of(now);
    let last = repo::job_mark(&state.db, "scores").await?;
    if last.map(day_of).as_deref() != Some(today.as_str()) {
        crate::courses::repo::recount_all(&state.db, false).await?;
        snapshot_everyone(state, &day_of(now - Duration::days(1))).await?;
        repo::set_job_mark(&state.db, "scores", now).await?;
    }

    // Retrained on the schedule, and sooner when enrolments or ratings changed (a count: the
    // check costs one query per round, the training at most one per round).
    let seen = repo::interaction_count(&state.db).await?;
    let stale = state
        .recommender
        .current()
        .is_none_or(|t| now - t.trained_at >= RETRAIN_EVERY || t.seen != seen);
    if stale {
        state.recommender.retrain(state).await?;
    }
    Ok(())
}

/// Counts per day over `days` days ending today (days without any are 0).
pub fn per_day<'a>(
    stamps: impl Iterator<Item = &'a str>,
    today: NaiveDate,
    days: u32,
) -> Vec<Point> {
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    for s in stamps {
        *counts.entry(s).or_default() += 1;
    }
    (0..days)
        .rev()
        .map(|back| {
            let d = (today - Duration::days(i64::from(back)))
                .format("%Y-%m-%d")
                .to_string();
            let value = f64::from(counts.get(d.as_str()).copied().unwrap_or(0));
            Point { label: d, value }
        })
        .collect()
}

/// Sums `(when, amount)` per ISO week over the last `weeks` weeks (labelled by their Monday).
pub fn per_week(
    items: impl Iterator<Item = (NaiveDate, f64)>,
    today: NaiveDate,
    weeks: u32,
) -> Vec<Point> {
    let mut sums: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    for (d, v) in items {
        *sums.entry(engage::week_start(d)).or_default() += v;
    }
    let this = engage::week_start(today);
    (0..weeks)
        .rev()
        .map(|back| {
            let w = this - Duration::weeks(i64::from(back));
            Point {
                label: w.format("%Y-%m-%d").to_string(),
                value: sums.get(&w).copied().unwrap_or(0.0),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::repo::{BookingFact, LessonFact, ProgressFact, SubmissionFact};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn lesson(course: &str, id: &str, video: Option<f64>) -> LessonFact {
        LessonFact {
            course: course.into(),
            lesson: id.into(),
            kind: if video.is_some() { "video" } else { "text" }.into(),
            video_secs: video,
        }
    }

    fn progress(course: &str, lesson: &str, watched: f64, done: Option<&str>) -> ProgressFact {
        ProgressFact {
            key: format!("p{lesson}"),
            course: course.into(),
            lesson: lesson.into(),
            watched_secs: watched,
            done: done.is_some(),
            done_at: done.map(at),
        }
    }

    fn submission(exercise: &str, passed: i64, total: i64, when: &str) -> SubmissionFact {
        SubmissionFact {
            exercise: exercise.into(),
            tests_passed: passed,
            tests_total: total,
            created_at: at(when),
        }
    }

    #[test]
    fn parts_come_from_the_aggregates() {
        let course = |id: &str, video: f64, tests: i64| repo::ScoredCourse {
            course: id.into(),
            slug: id.into(),
            title: id.into(),
            weights: None,
            at: at("2026-11-01T10:00:00Z"),
            video_total: Some(video),
            tests_total: Some(tests),
        };
        let agg = Aggregates {
            courses: vec![course("c1", 400.0, 5), course("c2", 60.0, 0)],
            parts: vec![repo::PartsRow {
                course: "c1".into(),
                watched_secs: 200.0,
                tests_passed: 3,
            }],
            feedback_stars: 9,
            feedback_count: 2,
        };
        let parts = parts_by_course(&agg);
        let c1 = parts["c1"];
        assert_eq!((c1.watched.done, c1.watched.total), (200.0, 400.0));
        assert_eq!((c1.passed.done, c1.passed.total), (3, 5));
        assert_eq!((c1.feedback.done, c1.feedback.total), (9.0, 10.0));
        let c2 = parts["c2"];
        assert_eq!((c2.watched.done, c2.watched.total), (0.0, 60.0));
        assert_eq!((c2.passed.done, c2.passed.total), (0, 0));
        // 0.5·0.5 + 0.3·0.6 + 0.2·0.9
        let s = score(&c1, Weights::DEFAULT).unwrap().value;
        assert!((s - 0.61).abs() < 1e-12, "{s}");
    }

    #[test]
    fn aggregates_beyond_the_totals_are_capped() {
        let agg = Aggregates {
            courses: vec![repo::ScoredCourse {
                course: "c".into(),
                slug: "c".into(),
                title: "c".into(),
                weights: None,
                at: at("2026-11-01T10:00:00Z"),
                video_total: Some(100.0),
                tests_total: Some(2),
            }],
            // A course that lost a video or tests since: never more than all of it.
            parts: vec![repo::PartsRow {
                course: "c".into(),
                watched_secs: 150.0,
                tests_passed: 5,
            }],
            ..Default::default()
        };
        let c = parts_by_course(&agg)["c"];
        assert_eq!((c.watched.done, c.passed.done), (100.0, 2));
    }

    fn award_inputs() -> AwardInputs {
        AwardInputs {
            lessons: vec![lesson("c1", "l1", None), lesson("c1", "l2", None)],
            enrolled: vec!["c1".into()],
            completed: vec![],
            progress: vec![
                progress("c1", "l1", 0.0, Some("2026-11-02T09:00:00Z")),
                progress("c1", "l2", 0.0, Some("2026-11-03T09:00:00Z")),
            ],
            submissions: vec![
                submission("e1", 1, 2, "2026-11-01T10:00:00Z"),
                submission("e1", 2, 2, "2026-11-02T10:00:00Z"),
                submission("e1", 2, 2, "2026-11-04T10:00:00Z"),
            ],
            sessions: vec![BookingFact {
                key: "b1".into(),
                ends_at: at("2026-11-05T10:00:00Z"),
                learner: "me".into(),
            }],
            mentored: vec![],
            answers: vec![],
            forum_accepted: vec![],
            forum_answers: 0,
            awards: vec![],
            badges: vec![],
        }
    }

    #[test]
    fn awards_are_keyed_by_their_event() {
        let inputs = award_inputs();
        let (awards, finished, facts) = due_awards("me", &inputs);
        let keys: Vec<String> = awards.iter().map(|a| a.key.clone()).collect();
        // Two lessons, one exercise (its first pass only), one session.
        assert_eq!(awards.len(), 4, "{keys:?}");
        let exercise = awards.iter().find(|a| a.kind == "exercise").unwrap();
        assert_eq!(exercise.at, at("2026-11-02T10:00:00Z"));
        assert_eq!(exercise.points, 20);
        // The same records give the same keys: a replay cannot add a row.
        let (again, _, _) = due_awards("me", &inputs);
        let again: Vec<String> = again.iter().map(|a| a.key.clone()).collect();
        assert_eq!(keys, again);
        assert_eq!(
            finished,
            vec![("c1".to_string(), at("2026-11-03T09:00:00Z"))]
        );
        assert_eq!(facts.courses_finished, 1);
        assert_eq!(facts.submissions, 3);
        // Progress on 2, 3 and 5 November: the longest run is two days.
        assert_eq!(facts.best_daily_streak, 2);
    }

    #[test]
    fn one_helpful_answer_per_question_earns_points() {
        use crate::progress::repo::AnswerFact;
        let answer = |key: &str, question: &str, when: &str| AnswerFact {
            key: key.into(),
            question: question.into(),
            helpful_at: Some(at(when)),
            asker: "learner".into(),
        };
        let inputs = AwardInputs {
            answers: vec![
                answer("a1", "q1", "2026-11-01T10:00:00Z"),
                answer("a2", "q1", "2026-11-01T11:00:00Z"),
                answer("a3", "q2", "2026-11-02T10:00:00Z"),
            ],
            ..Default::default()
        };
        let (awards, _, facts) = due_awards("mentor", &inputs);
        let keys: Vec<&str> = awards.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, vec!["answer_q1_mentor", "answer_q2_mentor"]);
        assert!(awards.iter().all(|a| a.points == 15));
        assert_eq!(facts.learners_helped, 1);
    }

    #[test]
    fn each_accepted_forum_answer_earns_points_once_and_counts_for_badges() {
        let accepted = |reply: &str| crate::progress::repo::ForumAcceptFact {
            reply: reply.into(),
            at: at("2026-11-03T10:00:00Z"),
        };
        let inputs = AwardInputs {
            forum_accepted: vec![accepted("r1"), accepted("r2")],
            forum_answers: 3,
            ..Default::default()
        };
        let (awards, _, facts) = due_awards("helper", &inputs);
        let keys: Vec<&str> = awards.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, vec!["forum_r1_helper", "forum_r2_helper"]);
        assert!(awards.iter().all(|a| a.points == 15 && a.kind == "forum"));
        assert_eq!((facts.forum_answers, facts.forum_accepted), (3, 2));
        assert_eq!(
            crate::progress::engage::earned(&facts),
            vec!["first-answer", "first-accepted"]
        );
    }

    #[test]
    fn counting_per_day_and_week_fills_gaps() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let pts = per_day(
            ["2026-12-01", "2026-12-03", "2026-12-03"].into_iter(),
            today,
            3,
        );
        let got: Vec<f64> = pts.iter().map(|p| p.value).collect();
        assert_eq!(got, vec![1.0, 0.0, 2.0]);
        assert_eq!(pts[0].label, "2026-12-01");
        let w = per_week(
            [(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(), 10.0)].into_iter(),
            today,
            2,
        );
        assert_eq!(w[0].label, "2026-11-23");
        assert_eq!(w[0].value, 10.0);
        assert_eq!(w[1].value, 0.0);
    }
}
