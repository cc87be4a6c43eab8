//! Grading on the server: a pool of `pairwise-grader` processes, each running learner code
//! under OS limits, watched and killed from here on the wall clock. Only this decides scores.
//!
//! One process runs the tests of a submission in order, reporting one JSON line per test. When
//! a test overruns, crashes its process or floods output, that test fails with the reason and
//! the remaining tests continue in a fresh process, within the submission's total time.

use std::{
    os::unix::process::ExitStatusExt,
    path::PathBuf,
    process::Stdio,
    sync::Arc,
    time::{Duration, Instant},
};

use app::exercises::model::{Limits, Outcome, TestRun};
use serde::{Deserialize, Serialize};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    process::Command,
    sync::Semaphore,
};

/// What the server sends a grader process on its standard input.
#[derive(Debug, Serialize, Deserialize)]
pub struct Job {
    pub code: String,
    /// The tests' expressions ([`app::exercises::model::test_expression`]), in order.
    pub expressions: Vec<String>,
    /// Index of the first expression to run (after a restart, the rest of the submission).
    pub start: usize,
    /// The CPU-time limit the process sets on itself, in whole seconds.
    pub cpu_secs: u64,
}

/// One line a grader process writes per test.
#[derive(Debug, Serialize, Deserialize)]
pub struct Line {
    pub index: usize,
    pub run: TestRun,
}

/// A job larger than this never reaches a process.
pub const JOB_CAP: usize = 1024 * 1024;
/// What one process may write per test before it is cut off: the value and console caps
/// plus JSON overhead.
const LINE_CAP: u64 = 256 * 1024;
/// Address space of a grader process: the engine and a generous heap, never the machine.
pub const MEMORY_BYTES: u64 = 768 * 1024 * 1024;
/// Slack on top of a test's limit for process start and result transfer.
const SLACK: Duration = Duration::from_millis(500);

#[derive(Debug)]
pub struct GraderPool {
    program: PathBuf,
    slots: Arc<Semaphore>,
}

impl GraderPool {
    /// `workers` processes at most run at once (the core count by default): submissions
    /// beyond that wait their turn instead of slowing every grading down.
    pub fn new(program: PathBuf, workers: usize) -> Self {
        Self {
            program,
            slots: Arc::new(Semaphore::new(workers.max(1))),
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

    /// Runs `expressions` after `code`, one [`TestRun`] per expression, in order.
    pub async fn run(&self, code: &str, expressions: &[String], limits: Limits) -> Vec<TestRun> {
        let n = expressions.len();
        let mut runs: Vec<TestRun> = Vec::with_capacity(n);
        let started = Instant::now();
        let total = Duration::from_millis(limits.total_ms.into());
        let per_test = Duration::from_millis(limits.test_ms.into());
        let Ok(_slot) = self.slots.acquire().await else {
            return fail_rest(runs, n, "the grader is shutting down; submit again");
        };
        while runs.len() < n {
            let left = total.saturating_sub(started.elapsed());
            if left.is_zero() {
                return fail_rest(runs, n, "not run: the submission used its total time limit");
            }
            let job = Job {
                code: code.to_owned(),
                expressions: expressions.to_vec(),
                start: runs.len(),
                cpu_secs: left.as_secs() + 2,
            };
            let before = runs.len();
            if let Err(reason) = self
                .one_process(&job, per_test, started + total, &mut runs)
                .await
            {
                tracing::warn!(%reason, "grader process failed");
            }
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
        runs
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
        let mut test_started = Instant::now();
        let mut line = String::new();
        while runs.len() < job.expressions.len() {
            line.clear();
            let wait = (per_test + SLACK).min(deadline.saturating_duration_since(Instant::now()));
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
        code: &'a str,
        expressions: &'a [String],
        limits: Limits,
    ) -> std::pin::Pin<Box<dyn Future<Output = Vec<TestRun>> + Send + 'a>> {
        Box::pin(GraderPool::run(self, code, expressions, limits))
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
    use boa_engine::{Context, Script, Source};

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
