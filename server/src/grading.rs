//! Grading on the server: a pool of `pairwise-grader` processes, each running learner code
//! under OS limits, watched and killed from here on the wall clock. Only this decides scores.
//!
//! One process runs the tests of a submission in order, reporting one JSON line per test. When
//! a test overruns, crashes its process or floods output, that test fails with the reason and
//! the remaining tests continue in a fresh process, within the submission's total time.
//!
//! Fairness: a worker is held for one process, then handed to the next account in turn
//! ([`FairSlots`]), so code that loops forever costs others at most one test's limit per turn,
//! however many submissions are behind it. A submission's time budget counts only the time it
//! holds a worker, not its wait. When the queue is full a new submission is refused (429 in
//! words, nothing stored); one already started always finishes.

use std::{
    os::unix::process::ExitStatusExt,
    path::PathBuf,
    process::Stdio,
    sync::Arc,
    time::{Duration, Instant},
};

use app::exercises::model::{Language, Limits, Outcome, TestRun};
use serde::{Deserialize, Serialize};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    process::Command,
    sync::oneshot,
};

/// What the server sends a grader process on its standard input.
#[derive(Debug, Serialize, Deserialize)]
pub struct Job {
    /// The engine: Boa for JavaScript (every test in one process), or one confined Python
    /// process for the test at `start` only.
    #[serde(default = "javascript")]
    pub language: Language,
    /// The Python program to run, for Python jobs (see `Config::python`).
    #[serde(default)]
    pub python: PathBuf,
    pub code: String,
    /// The tests' expressions ([`app::exercises::model::test_expression`]), in order.
    pub expressions: Vec<String>,
    /// Index of the first expression to run (after a restart, the rest of the submission).
    pub start: usize,
    /// The CPU-time limit the process sets on itself, in whole seconds.
    pub cpu_secs: u64,
}

fn javascript() -> Language {
    Language::JavaScript
}

/// One line a grader process writes per test.
#[derive(Debug, Serialize, Deserialize)]
pub struct Line {
    pub index: usize,
    pub run: TestRun,
}

/// What `pairwise-grader --probe` prints: first a line with the confinement layers the kernel
/// refused (empty when all hold), then a line with what each requested attempt got.
#[derive(Debug, Serialize, Deserialize)]
pub struct Probe {
    pub warnings: Vec<String>,
    pub attempts: Vec<Attempt>,
}

/// One thing a probe tried from inside the confinement, and what it got ("allowed" or
/// "denied: " and the error).
#[derive(Debug, Serialize, Deserialize)]
pub struct Attempt {
    pub target: String,
    pub outcome: String,
}

/// A job larger than this never reaches a process.
pub const JOB_CAP: usize = 1024 * 1024;
/// What one process may write per test before it is cut off: the value and console caps
/// plus JSON overhead.
const LINE_CAP: u64 = 256 * 1024;
/// Address space of a grader process: the engine and a generous heap, never the machine.
pub const MEMORY_BYTES: u64 = 768 * 1024 * 1024;
/// How long a process may wait for its end (after its output closed, or once killed).
const SLACK: Duration = Duration::from_millis(500);
/// How long a grader process may take to start and confine itself before its first test
/// (its clock starts after: see [`READY_LINE`]).
const START: Duration = Duration::from_secs(5);
/// The line a grader process writes once it is confined and holds its job, before any test.
pub const READY_LINE: &str = r#"{"ready":true}"#;

#[derive(Debug)]
pub struct GraderPool {
    program: PathBuf,
    python: PathBuf,
    slots: Arc<FairSlots>,
}

/// Submissions that may wait for a worker, per worker, before new ones are refused.
const QUEUE_PER_WORKER: usize = 16;

impl GraderPool {
    /// `workers` processes at most run at once (the core count by default): submissions
    /// beyond that wait their turn instead of slowing every grading down.
    pub fn new(program: PathBuf, python: PathBuf, workers: usize) -> Self {
        let workers = workers.max(1);
        Self {
            program,
            python,
            slots: FairSlots::new(workers, workers * QUEUE_PER_WORKER),
        }
    }

    /// The grader binary next to the running server binary.
    pub fn beside_current_exe() -> anyhow::Result<PathBuf> {
        let exe = std::env::current_exe()?;
        let dir = exe
            .parent()
            .ok_or_else(|| anyhow::anyhow!("the server binary has no directory"))?;
        Ok(dir.join("pairwise-grader"))
    }

    /// Starts one grader in probe mode and returns what confinement it could not set up;
    /// the server logs each as a warning at start-up, where the operator sees it.
    pub async fn check_confinement(&self) -> Result<Vec<String>, String> {
        let output = tokio::time::timeout(
            Duration::from_secs(10),
            Command::new(&self.program)
                .arg("--probe")
                .env_clear()
                .current_dir("/")
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .output(),
        )
        .await
        .map_err(|_| "the grader did not answer its probe in 10 s".to_string())?
        .map_err(|e| format!("cannot start {}: {e}", self.program.display()))?;
        let first = output
            .stdout
            .split(|b| *b == b'\n')
            .next()
            .unwrap_or_default();
        let probe: Probe = serde_json::from_slice(first)
            .map_err(|e| format!("the grader's probe said nothing readable ({e})"))?;
        Ok(probe.warnings)
    }

    /// Runs `expressions` after `code`, one [`TestRun`] per expression, in order, for
    /// `owner`; `Err` when the queue is full (then nothing ran).
    pub async fn run(
        &self,
        owner: &str,
        language: Language,
        code: &str,
        expressions: &[String],
        limits: Limits,
    ) -> Result<Vec<TestRun>, app::state::GraderFull> {
        let n = expressions.len();
        let mut runs: Vec<TestRun> = Vec::with_capacity(n);
        let total = Duration::from_millis(limits.total_ms.into());
        let per_test = Duration::from_millis(limits.test_ms.into());
        let mut used = Duration::ZERO;
        let mut admitted = false;
        while runs.len() < n {
            let left = total.saturating_sub(used);
            if left.is_zero() {
                return Ok(fail_rest(
                    runs,
                    n,
                    "not run: the submission used its total time limit",
                ));
            }
            // A worker for one process; the next process queues again behind the other
            // accounts waiting now. Only the first wait can be refused.
            let slot = self.slots.acquire(owner, admitted).await?;
            admitted = true;
            let started = Instant::now();
            let job = Job {
                language,
                python: self.python.clone(),
                code: code.to_owned(),
                expressions: expressions.to_vec(),
                start: runs.len(),
                cpu_secs: left.as_secs() + 2,
            };
            let before = runs.len();
            if let Err(reason) = self
                .one_process(&job, per_test, started + left, &mut runs)
                .await
            {
                tracing::warn!(%reason, "grader process failed");
            }
            used += started.elapsed();
            drop(slot);
            if runs.len() == before {
                // The process produced nothing for the test it was on: the test is to blame.
                runs.push(TestRun {
                    outcome: Outcome::Threw {
                        message: "the grader could not run this test".into(),
                    },
                    console: String::new(),
                    micros: 0,
                });
            }
        }
        Ok(runs)
    }

    /// Runs one process until it finishes the job or is stopped; pushes what it reported and,
    /// when it is stopped, the verdict on the test it was running.
    async fn one_process(
        &self,
        job: &Job,
        per_test: Duration,
        deadline: Instant,
        runs: &mut Vec<TestRun>,
    ) -> Result<(), String> {
        let mut child = Command::new(&self.program)
            .env_clear()
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.program.display()))?;
        let input = serde_json::to_vec(job).map_err(|e| e.to_string())?;
        if let Some(mut stdin) = child.stdin.take() {
            // A process that dies before reading its job shows up below as a crash; one that
            // never reads it is stopped by the first test's deadline.
            let _ = tokio::time::timeout(per_test + SLACK, stdin.write_all(&input)).await;
        }
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout);
        let mut line = String::new();
        // The test clock starts when the engine says it is confined and ready, not at the
        // spawn: a slow start (a loaded machine) costs no test its time, and a test is stopped
        // exactly one test limit after it began, so nobody's endless loop holds a worker longer.
        let start = START.min(deadline.saturating_duration_since(Instant::now()));
        let ready =
            tokio::time::timeout(start, (&mut lines).take(LINE_CAP).read_line(&mut line)).await;
        if !matches!(ready, Ok(Ok(n)) if n > 0 && line.trim_end() == READY_LINE) {
            let _ = child.start_kill();
            let _ = child.wait().await;
            return Err("the grader process did not start".into());
        }
        let process_started = Instant::now();
        let mut test_started = Instant::now();
        while runs.len() < job.expressions.len() {
            line.clear();
            let wait = per_test.min(deadline.saturating_duration_since(Instant::now()));
            let mut limited = (&mut lines).take(LINE_CAP);
            let read = tokio::time::timeout(wait, limited.read_line(&mut line)).await;
            let stopped = match read {
                Err(_) => Some(Outcome::TimedOut),
                Ok(Ok(0)) | Ok(Err(_)) => {
                    // Output closed: the process is ending (or closed it on purpose and
                    // spins on); wait a moment for its exit status, then stop it for sure.
                    let status = match tokio::time::timeout(SLACK, child.wait()).await {
                        Ok(status) => status.ok(),
                        Err(_) => {
                            let _ = child.start_kill();
                            child.wait().await.ok()
                        }
                    };
                    Some(Outcome::Threw {
                        message: crash_reason(status.and_then(|s| s.signal())),
                    })
                }
                Ok(Ok(_)) if !line.ends_with('\n') => Some(Outcome::Threw {
                    message: "the test wrote more output than allowed".into(),
                }),
                Ok(Ok(_)) => match serde_json::from_str::<Line>(&line) {
                    Ok(l) if l.index == runs.len() => {
                        runs.push(l.run);
                        test_started = Instant::now();
                        // A Python process runs one test: the next one gets a fresh process
                        // (and queues again behind the other accounts).
                        if job.language == Language::Python {
                            if tokio::time::timeout(SLACK, child.wait()).await.is_err() {
                                let _ = child.start_kill();
                                let _ = child.wait().await;
                            }
                            return Ok(());
                        }
                        // A process that has held its worker for a whole test limit gives it
                        // back between tests: the rest run in a new one, queued behind the
                        // other accounts. Code that spins until the engine's loop limit
                        // stops it, test after test, would otherwise keep a worker for the
                        // whole submission while honest learners wait.
                        if process_started.elapsed() >= per_test
                            && runs.len() < job.expressions.len()
                        {
                            let _ = child.start_kill();
                            let _ = child.wait().await;
                            return Ok(());
                        }
                        None
                    }
                    _ => Some(Outcome::Threw {
                        message: "the grader reported nonsense for this test".into(),
                    }),
                },
            };
            if let Some(outcome) = stopped {
                let _ = child.start_kill();
                let _ = child.wait().await;
                runs.push(TestRun {
                    outcome,
                    console: String::new(),
                    micros: test_started
                        .elapsed()
                        .as_micros()
                        .try_into()
                        .unwrap_or(u64::MAX),
                });
                return Ok(());
            }
        }
        // Every test reported: the process exits by itself, or is stopped.
        if tokio::time::timeout(SLACK, child.wait()).await.is_err() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
        Ok(())
    }
}

impl app::state::Grader for GraderPool {
    fn run<'a>(
        &'a self,
        owner: &'a str,
        language: Language,
        code: &'a str,
        expressions: &'a [String],
        limits: Limits,
    ) -> std::pin::Pin<
        Box<dyn Future<Output = Result<Vec<TestRun>, app::state::GraderFull>> + Send + 'a>,
    > {
        Box::pin(GraderPool::run(
            self,
            owner,
            language,
            code,
            expressions,
            limits,
        ))
    }
}

/// Grader workers handed out to accounts in turn: each account has its own line of waiters,
/// and a freed worker goes to the account at the front of the ring, which then moves to the
/// back if it has more waiting.
#[derive(Debug)]
pub struct FairSlots {
    inner: std::sync::Mutex<Ring>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Ring {
    free: usize,
    order: std::collections::VecDeque<String>,
    waiting: std::collections::HashMap<String, std::collections::VecDeque<oneshot::Sender<Slot>>>,
    queued: usize,
}

/// A worker, held until dropped; then it goes to whoever is next.
#[derive(Debug)]
pub struct Slot {
    slots: Option<Arc<FairSlots>>,
}

impl Ring {
    /// Drops waiters whose request ended (they no longer count against the queue).
    fn forget_gone(&mut self) {
        for line in self.waiting.values_mut() {
            line.retain(|tx| !tx.is_closed());
        }
        self.waiting.retain(|_, line| !line.is_empty());
        let waiting = &self.waiting;
        self.order.retain(|owner| waiting.contains_key(owner));
        self.queued = self
            .waiting
            .values()
            .map(std::collections::VecDeque::len)
            .sum();
    }
}

impl FairSlots {
    pub fn new(workers: usize, capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            inner: std::sync::Mutex::new(Ring {
                free: workers.max(1),
                ..Ring::default()
            }),
            capacity,
        })
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A worker for `owner`. `admitted`: a job already under way, never refused.
    pub async fn acquire(
        self: &Arc<Self>,
        owner: &str,
        admitted: bool,
    ) -> Result<Slot, app::state::GraderFull> {
        let rx = {
            let mut ring = self.ring();
            if ring.free > 0 && ring.queued == 0 {
                ring.free -= 1;
                return Ok(Slot {
                    slots: Some(self.clone()),
                });
            }
            if !admitted && ring.queued >= self.capacity {
                ring.forget_gone();
            }
            if !admitted && ring.queued >= self.capacity {
                return Err(app::state::GraderFull);
            }
            let (tx, rx) = oneshot::channel();
            if !ring.waiting.contains_key(owner) {
                ring.order.push_back(owner.to_string());
            }
            ring.waiting
                .entry(owner.to_string())
                .or_default()
                .push_back(tx);
            ring.queued += 1;
            rx
        };
        // The sender is only dropped unsent by `release` when this receiver is gone, so a
        // closed channel here cannot happen while we wait; treat it as full to be safe.
        rx.await.map_err(|_| app::state::GraderFull)
    }

    /// Hands a freed worker to the next account in turn (skipping waiters that gave up).
    fn release(self: &Arc<Self>) {
        let mut ring = self.ring();
        loop {
            let Some(owner) = ring.order.pop_front() else {
                ring.free += 1;
                return;
            };
            let Some(line) = ring.waiting.get_mut(&owner) else {
                continue;
            };
            let next = line.pop_front();
            let more = !line.is_empty();
            if more {
                ring.order.push_back(owner);
            } else {
                ring.waiting.remove(&owner);
            }
            let Some(tx) = next else { continue };
            ring.queued -= 1;
            let slot = Slot {
                slots: Some(self.clone()),
            };
            match tx.send(slot) {
                Ok(()) => return,
                // That waiter is gone (its request ended): the worker is still ours to give.
                Err(mut unsent) => {
                    unsent.slots = None;
                }
            }
        }
    }

    /// Workers idle now (for tests and metrics).
    pub fn idle(&self) -> usize {
        self.ring().free
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(slots) = self.slots.take() {
            slots.release();
        }
    }
}

/// Words for why a grader process died, from the signal that ended it.
fn crash_reason(signal: Option<i32>) -> String {
    match signal {
        // SIGXCPU: the CPU-time limit the process set on itself.
        Some(24) => "the code used more CPU time than allowed".into(),
        // SIGABRT: Rust aborts when the address-space limit refuses an allocation.
        Some(6) => "the code used more memory than allowed".into(),
        Some(11) => "the code crashed the engine (stack overflow)".into(),
        Some(9) => "the code was stopped (out of memory or killed)".into(),
        Some(s) => format!("the grader process was stopped by signal {s}"),
        None => "the grader process stopped before finishing this test".into(),
    }
}

fn fail_rest(mut runs: Vec<TestRun>, n: usize, message: &str) -> Vec<TestRun> {
    while runs.len() < n {
        runs.push(TestRun {
            outcome: Outcome::Threw {
                message: message.into(),
            },
            console: String::new(),
            micros: 0,
        });
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::FairSlots;
    use boa_engine::{Context, Script, Source};

    #[tokio::test(flavor = "current_thread")]
    async fn workers_go_to_accounts_in_turn_and_a_full_queue_refuses_new_work() {
        let slots = FairSlots::new(1, 3);
        let held = slots.acquire("flooder", false).await.unwrap();
        // The flooder queues twice, then an honest learner once.
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for who in ["flooder", "flooder", "honest"] {
            let (slots, order) = (slots.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let slot = slots.acquire(who, false).await.unwrap();
                order.lock().unwrap().push(who);
                tokio::task::yield_now().await;
                drop(slot);
            }));
            tokio::task::yield_now().await;
        }
        // The queue holds three: a fourth new job is refused; a job under way is not.
        assert!(slots.acquire("another", false).await.is_err());
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        // The honest learner went second, not behind every flooder job.
        assert_eq!(*order.lock().unwrap(), vec!["flooder", "honest", "flooder"]);
        assert_eq!(slots.idle(), 1);
        // A waiter that gives up does not keep the worker.
        let held = slots.acquire("a", false).await.unwrap();
        let gave_up = tokio::time::timeout(
            std::time::Duration::from_millis(10),
            slots.acquire("b", false),
        )
        .await;
        assert!(gave_up.is_err());
        drop(held);
        assert_eq!(slots.idle(), 1);
    }

    /// The scripts the browser runs are plain text in Rust strings; a syntax error there would
    /// only show up as every Run failing, so they are parsed here.
    #[test]
    fn the_browser_worker_and_sandbox_scripts_parse() {
        let mut context = Context::default();
        for (name, text) in [
            ("worker", app::exercises::model::worker_js()),
            ("sandbox", crate::sandbox::SCRIPT.to_string()),
        ] {
            let parsed = Script::parse(Source::from_bytes(text.as_str()), None, &mut context);
            assert!(
                parsed.is_ok(),
                "the {name} script does not parse: {parsed:?}"
            );
        }
    }
}
