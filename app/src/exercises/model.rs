//! Exercise types and the grading rules shared by the browser's Run and the server's grader:
//! the harness text both engines execute, and the comparison of expected with actual values.
//! Defined once here, so the two can never disagree about what "passes" means.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Languages an exercise can be written in; the harness interface is per language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    JavaScript,
    Python,
}

impl Language {
    /// The name in TOML, the database and the editor (`javascript`, `python`).
    pub fn key(self) -> &'static str {
        match self {
            Language::JavaScript => "javascript",
            Language::Python => "python",
        }
    }

    pub fn from_key(key: &str) -> Option<Language> {
        [Language::JavaScript, Language::Python]
            .into_iter()
            .find(|l| l.key() == key)
    }
}

/// The harness every Python engine runs, one test per run (see the file's header).
pub const PYTHON_HARNESS: &str = include_str!("harness.py");

/// Where a page finds Pyodide's files (versioned addresses on our own origin), for the
/// browser's Run of a Python exercise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PythonFiles {
    pub loader: String,
    pub asm: String,
    pub wasm: String,
    pub stdlib: String,
    pub lock: String,
}

impl PythonFiles {
    /// The site's Pyodide files, at the addresses the page being rendered links to.
    pub fn of_site() -> PythonFiles {
        use crate::ui::assets::asset_url;
        PythonFiles {
            loader: asset_url("/pyodide/pyodide.js"),
            asm: asset_url("/pyodide/pyodide.asm.js"),
            wasm: asset_url("/pyodide/pyodide.asm.wasm"),
            stdlib: asset_url("/pyodide/python_stdlib.zip"),
            lock: asset_url("/pyodide/pyodide-lock.json"),
        }
    }
}

/// One test: an expression evaluated after the learner's code, and the value it must give.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    pub name: String,
    /// A JavaScript expression, e.g. `fizzbuzz(5)`; it may return a promise.
    pub call: String,
    /// The expected value, as JSON.
    pub expected: Value,
    /// Hidden tests run only on the server; learners never receive them.
    #[serde(default)]
    pub hidden: bool,
    /// How much this test counts towards the score (default 1).
    #[serde(default = "one")]
    pub weight: u32,
}

fn one() -> u32 {
    1
}

/// What one test did, as the harness reports it (plain data, never trusted for the verdict).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The expression produced this value (serialised by the harness as JSON).
    Returned { value: Value },
    /// It threw; the message is shown to the learner.
    Threw { message: String },
    /// It ran past its time limit.
    TimedOut,
}

/// The verdict on one test, decided by [`judge`] in trusted Rust code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestVerdict {
    pub name: String,
    pub passed: bool,
    pub expected: Value,
    pub outcome: Outcome,
}

/// Floats from different engines may differ in the last bits; closer than this is equal.
pub const FLOAT_TOLERANCE: f64 = 1e-9;

/// Deep equality of JSON values with a tolerance for floating-point numbers.
pub fn values_match(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= FLOAT_TOLERANCE * x.abs().max(y.abs()).max(1.0),
            _ => a == b,
        },
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| values_match(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| values_match(v, w)))
        }
        _ => expected == actual,
    }
}

/// Judges every test from the outcomes the harness reported, in the tests' order. A missing
/// outcome (the harness died, or was tampered with) fails that test.
pub fn judge(tests: &[TestCase], outcomes: &[Outcome]) -> Vec<TestVerdict> {
    tests
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let outcome = outcomes.get(i).cloned().unwrap_or(Outcome::Threw {
                message: "the test did not report a result".into(),
            });
            let passed =
                matches!(&outcome, Outcome::Returned { value } if values_match(&t.expected, value));
            TestVerdict {
                name: t.name.clone(),
                passed,
                expected: t.expected.clone(),
                outcome,
            }
        })
        .collect()
}

/// The score n/N, weighted: points of passed tests over all points.
pub fn score(tests: &[TestCase], verdicts: &[TestVerdict]) -> (u32, u32) {
    let total = tests.iter().map(|t| t.weight).sum();
    let passed = tests
        .iter()
        .zip(verdicts)
        .filter(|(_, v)| v.passed)
        .map(|(t, _)| t.weight)
        .sum();
    (passed, total)
}

/// Time limits of an exercise: each test, and the whole submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub test_ms: u32,
    pub total_ms: u32,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        test_ms: 2_000,
        total_ms: 10_000,
    };
    /// Bounds an author may choose within: long enough for honest slow code in an interpreter,
    /// short enough that one submission cannot hold a grader for long.
    pub const TEST_MS: std::ops::RangeInclusive<u32> = 100..=10_000;
    pub const TOTAL_MS: std::ops::RangeInclusive<u32> = 1_000..=60_000;

    pub fn parse(test_ms: u32, total_ms: u32) -> Option<Limits> {
        (Self::TEST_MS.contains(&test_ms)
            && Self::TOTAL_MS.contains(&total_ms)
            && test_ms <= total_ms)
            .then_some(Limits { test_ms, total_ms })
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What an engine reports for one test: untrusted data until [`judge`] has compared it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestRun {
    pub outcome: Outcome,
    /// What the code printed with `console.*`, cut at [`CONSOLE_CAP`].
    #[serde(default)]
    pub console: String,
    #[serde(default)]
    pub micros: u64,
}

/// Console output kept per test; the rest is dropped with a note.
pub const CONSOLE_CAP: usize = 8 * 1024;
/// A returned value larger than this (as JSON) is not compared: it fails with a message.
pub const VALUE_CAP: usize = 64 * 1024;
/// Learner code larger than this is refused before any engine sees it.
pub const CODE_CAP: usize = 64 * 1024;

/// The harness, identical for every engine: each test runs in a fresh realm as one global
/// script, the learner's code followed by the test's expression, whose completion value is the
/// result. A script (not a function body) so learner code cannot `return` early, and its
/// top-level `let`, `const` and `class` are in scope for the expression exactly as in a page;
/// a fresh realm per test so one test's side effects cannot leak into the next. The value is
/// read by the engine's own native code (structured clone in the browser, a Rust walk on the
/// server), never through `JSON` or prototypes the learner could have replaced.
pub fn test_expression(test: &TestCase) -> String {
    // The newline ends a trailing `//` comment in the call.
    format!("({}\n)", test.call)
}

/// The script one test runs: see [`test_expression`]. The `;` and newlines end whatever
/// statement or line comment the learner's code left open.
pub fn test_script(code: &str, expression: &str) -> String {
    format!("{code}\n;\n{expression}")
}

/// The Web Worker that runs one test in the browser: it receives `{script}` ([`test_script`]),
/// evaluates it as a global script (indirect eval) with `console` captured, awaits a native
/// promise, and posts back a [`TestRun`]-shaped object whose `value` is structured-cloned.
/// Same contract as the server's grader.
pub fn worker_js() -> String {
    WORKER_JS.replace("CONSOLE_CAP_BYTES", &CONSOLE_CAP.to_string())
}

const WORKER_JS: &str = r#"'use strict';
(() => {
const post = self.postMessage.bind(self);
const P = Promise;
const clock = performance;
const now = () => clock.now();
const MAX = CONSOLE_CAP_BYTES;
let out = '', dropped = 0;
const show = v => { try { return typeof v === 'string' ? v : JSON.stringify(v) ?? String(v); } catch (e) { return String(v); } };
const write = (...args) => {
  const line = args.map(show).join(' ') + '\n';
  if (out.length + line.length <= MAX) out += line; else dropped += line.length;
};
self.console = { log: write, info: write, warn: write, error: write, debug: write };
// Only what the server's engine offers, so Run and Submit agree: no timers, network, Intl,
// or other browser-only globals, and string comparison by code units as on the server.
for (const name of ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval',
    'queueMicrotask', 'structuredClone', 'atob', 'btoa', 'fetch', 'XMLHttpRequest', 'WebSocket',
    'EventSource', 'importScripts', 'performance', 'crypto', 'indexedDB', 'caches', 'Intl',
    'requestAnimationFrame', 'BroadcastChannel', 'Worker', 'close']) {
  try { delete self[name]; } catch (e) {}
  try { delete Object.getPrototypeOf(self)[name]; } catch (e) {}
}
try { delete Object.getPrototypeOf(self).postMessage; } catch (e) {}
String.prototype.localeCompare = function (that) {
  const a = String(this), b = String(that);
  return a < b ? -1 : a > b ? 1 : 0;
};
self.onmessage = async (event) => {
  const { script } = event.data;
  const started = now();
  const console_text = () => dropped ? out + '[' + dropped + ' more characters of output dropped]\n' : out;
  const send = (outcome) => {
    const micros = Math.round((now() - started) * 1000);
    try { post({ outcome, console: console_text(), micros }); }
    catch (e) { post({ outcome: { status: 'threw', message: 'the value cannot be compared: ' + String(e && e.message) }, console: console_text(), micros }); }
  };
  try {
    let value = (0, eval)(script);
    if (value instanceof P) value = await value;
    send({ status: 'returned', value: value === undefined ? null : value });
  } catch (e) {
    send({ status: 'threw', message: String(e && e.message || e) });
  }
};
})();
"#;

/// An exercise as authored: everything the grader needs, checked once on the way in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExerciseSpec {
    pub language: Language,
    pub starter: String,
    /// The reference solution: authors only, never sent to learners.
    pub solution: String,
    pub tests: Vec<TestCase>,
    pub limits: Limits,
}

/// The TOML form of an exercise (`exercises/<name>.toml` in a course folder, and the test
/// list in the browser editor). `expected` is JSON text, so `null` can be written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExerciseFile {
    pub language: String,
    #[serde(default = "default_test_ms")]
    pub test_time_limit_ms: u32,
    #[serde(default = "default_total_ms")]
    pub total_time_limit_ms: u32,
    #[serde(default)]
    pub starter: String,
    pub solution: String,
    #[serde(default, rename = "test")]
    pub tests: Vec<TestFile>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    pub name: String,
    pub call: String,
    pub expected: String,
    #[serde(default)]
    pub hidden: bool,
    #[serde(default = "one")]
    pub weight: u32,
}

fn default_test_ms() -> u32 {
    Limits::DEFAULT.test_ms
}
fn default_total_ms() -> u32 {
    Limits::DEFAULT.total_ms
}

pub const MAX_TESTS: usize = 50;
const NAME_MAX: usize = 120;
const CALL_MAX: usize = 2_000;

impl ExerciseSpec {
    /// Parses the TOML form; the error names the test and the rule it breaks.
    pub fn from_toml(text: &str) -> Result<ExerciseSpec, String> {
        let file: ExerciseFile = toml_parse(text)?;
        ExerciseSpec::from_file(file)
    }

    pub fn from_file(file: ExerciseFile) -> Result<ExerciseSpec, String> {
        let language = Language::from_key(file.language.as_str()).ok_or_else(|| {
            format!(
                "language \"{}\" is not supported (use \"javascript\" or \"python\")",
                file.language
            )
        })?;
        let limits =
            Limits::parse(file.test_time_limit_ms, file.total_time_limit_ms).ok_or_else(|| {
                format!(
                    "time limits must be {}–{} ms per test and {}–{} ms in total, per test ≤ total",
                    Limits::TEST_MS.start(),
                    Limits::TEST_MS.end(),
                    Limits::TOTAL_MS.start(),
                    Limits::TOTAL_MS.end()
                )
            })?;
        if file.starter.len() > CODE_CAP || file.solution.len() > CODE_CAP {
            return Err("starter and solution must each be under 64 KB".into());
        }
        if file.solution.trim().is_empty() {
            return Err("the reference solution is empty".into());
        }
        if file.tests.is_empty() || file.tests.len() > MAX_TESTS {
            return Err(format!("an exercise needs 1 to {MAX_TESTS} tests"));
        }
        let mut tests = Vec::with_capacity(file.tests.len());
        for (i, t) in file.tests.into_iter().enumerate() {
            let at = format!("test {} (\"{}\")", i + 1, t.name);
            let name = t.name.trim().to_string();
            if name.is_empty() || name.chars().count() > NAME_MAX {
                return Err(format!("{at}: the name must be 1 to {NAME_MAX} characters"));
            }
            if tests.iter().any(|x: &TestCase| x.name == name) {
                return Err(format!("{at}: another test has the same name"));
            }
            if t.call.trim().is_empty() || t.call.len() > CALL_MAX {
                return Err(format!(
                    "{at}: `call` must be an expression of 1 to {CALL_MAX} characters"
                ));
            }
            let expected: Value = serde_json::from_str(&t.expected).map_err(|e| {
                format!("{at}: `expected` is not JSON ({e}); quote strings like '\"text\"'")
            })?;
            if !(1..=100).contains(&t.weight) {
                return Err(format!("{at}: weight must be 1 to 100"));
            }
            tests.push(TestCase {
                name,
                call: t.call,
                expected,
                hidden: t.hidden,
                weight: t.weight,
            });
        }
        if tests.iter().all(|t| t.hidden) {
            return Err("at least one test must be visible, so learners can Run".into());
        }
        Ok(ExerciseSpec {
            language,
            starter: file.starter,
            solution: file.solution,
            tests,
            limits,
        })
    }

    /// Back to the TOML form (export, and the authoring form).
    pub fn to_file(&self) -> ExerciseFile {
        ExerciseFile {
            language: self.language.key().into(),
            test_time_limit_ms: self.limits.test_ms,
            total_time_limit_ms: self.limits.total_ms,
            starter: self.starter.clone(),
            solution: self.solution.clone(),
            tests: self
                .tests
                .iter()
                .map(|t| TestFile {
                    name: t.name.clone(),
                    call: t.call.clone(),
                    expected: t.expected.to_string(),
                    hidden: t.hidden,
                    weight: t.weight,
                })
                .collect(),
        }
    }

    pub fn visible_tests(&self) -> Vec<TestCase> {
        self.tests.iter().filter(|t| !t.hidden).cloned().collect()
    }
}

#[cfg(feature = "ssr")]
fn toml_parse(text: &str) -> Result<ExerciseFile, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}
#[cfg(not(feature = "ssr"))]
fn toml_parse(_: &str) -> Result<ExerciseFile, String> {
    Err("exercises are parsed on the server".into())
}

/// What a learner receives to solve an exercise (no solution, no hidden tests).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExerciseView {
    pub lesson_id: String,
    pub language: Language,
    pub starter: String,
    pub visible: Vec<TestCase>,
    pub hidden_count: usize,
    pub limits: Limits,
    /// The caller may submit (signed in and enrolled).
    pub can_submit: bool,
    /// The caller authors this course (edit link).
    pub can_author: bool,
    /// The code of the caller's latest submission, to start from when no draft is saved.
    pub last_code: Option<String>,
    /// Where this viewer's draft of this exercise is kept in the browser (per user, so a
    /// shared computer does not show one learner's code to the next).
    pub draft_key: String,
    pub submissions: Vec<SubmissionSummary>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionSummary {
    pub id: String,
    /// RFC 3339.
    pub created_at: String,
    pub passed: u32,
    pub total: u32,
    pub tests_passed: u32,
    pub tests_total: u32,
    /// Time the server spent grading, in milliseconds (reviewers only: it would let code
    /// time hidden tests; 0 for the learner).
    pub grading_ms: u64,
}

/// One test of a graded submission as the viewer may see it: a learner sees hidden tests only
/// as passed or failed, never what they call or expect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    pub name: String,
    pub hidden: bool,
    pub passed: bool,
    pub call: Option<String>,
    pub expected: Option<Value>,
    pub outcome: Option<Outcome>,
    pub console: String,
    pub micros: u64,
}

/// A graded submission as stored: the whole truth (the server redacts it per viewer).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredResult {
    pub test: TestCase,
    pub verdict: TestVerdict,
    pub console: String,
    pub micros: u64,
}

impl StoredResult {
    pub fn view(&self, index: usize, full: bool) -> TestResult {
        let show = full || !self.test.hidden;
        TestResult {
            name: if show {
                self.test.name.clone()
            } else {
                format!("#{}", index + 1)
            },
            hidden: self.test.hidden,
            passed: self.verdict.passed,
            call: show.then(|| self.test.call.clone()),
            expected: show.then(|| self.test.expected.clone()),
            outcome: show.then(|| self.verdict.outcome.clone()),
            console: if show {
                self.console.clone()
            } else {
                String::new()
            },
            // A hidden test's time would leak its input (code can spin for `n` ms).
            micros: if show { self.micros } else { 0 },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubmissionView {
    pub summary: SubmissionSummary,
    pub lesson_id: String,
    pub lesson_title: String,
    pub learner_name: String,
    pub code: String,
    pub results: Vec<TestResult>,
    pub comments: Vec<CommentView>,
    /// The viewer may comment (a mentor of the course or an admin).
    pub can_review: bool,
    /// The viewer is the learner who submitted it (and may ask the forum for help with it).
    pub mine: bool,
    /// The learner's other attempts at this exercise, newest first (for the diff picker).
    pub attempts: Vec<SubmissionSummary>,
    /// Set when a comparison was asked for: the other attempt's id and the diff to this one.
    pub diff: Option<(String, Vec<DiffLine>)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentView {
    pub id: String,
    pub line: u32,
    pub body_html: String,
    pub body: String,
    pub author_name: String,
    pub resolved: bool,
    pub created_at: String,
    pub mine: bool,
}

/// What the authoring page edits: the exercise in its TOML form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExerciseDraft {
    pub lesson_id: String,
    pub lesson_title: String,
    pub course_slug: String,
    pub toml: String,
    pub validated_at: Option<String>,
}

/// The reference solution's run through the server grader.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Validation {
    pub results: Vec<TestResult>,
    pub all_passed: bool,
    pub saved: bool,
}

pub const COMMENT_MAX: usize = 5_000;

/// One line of a diff between two attempts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiffLine {
    Same(String),
    Removed(String),
    Added(String),
}

/// A line diff (longest common subsequence). Inputs are capped by [`CODE_CAP`], and past
/// 4 million cells the middle is shown as removed-then-added rather than spending the memory.
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // Common head and tail first: attempts usually differ in a few lines.
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut out: Vec<DiffLine> = a[..head]
        .iter()
        .map(|l| DiffLine::Same((*l).into()))
        .collect();
    if am.len().saturating_mul(bm.len()) > 4_000_000 {
        out.extend(am.iter().map(|l| DiffLine::Removed((*l).into())));
        out.extend(bm.iter().map(|l| DiffLine::Added((*l).into())));
    } else {
        let (n, m) = (am.len(), bm.len());
        let mut lcs = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * (m + 1) + j] = if am[i] == bm[j] {
                    lcs[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    lcs[(i + 1) * (m + 1) + j].max(lcs[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && am[i] == bm[j] {
                out.push(DiffLine::Same(am[i].into()));
                i += 1;
                j += 1;
            } else if i < n && (j == m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
                // Removals before additions, as readers of diffs expect.
                out.push(DiffLine::Removed(am[i].into()));
                i += 1;
            } else {
                out.push(DiffLine::Added(bm[j].into()));
                j += 1;
            }
        }
    }
    out.extend(
        a[a.len() - tail..]
            .iter()
            .map(|l| DiffLine::Same((*l).into())),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn test(call: &str, expected: Value) -> TestCase {
        TestCase {
            name: call.into(),
            call: call.into(),
            expected,
            hidden: false,
            weight: 1,
        }
    }

    #[test]
    fn values_match_deeply_with_a_float_tolerance() {
        assert!(values_match(
            &json!([1, "Fizz", {"a": 0.3}]),
            &json!([1.0, "Fizz", {"a": 0.1 + 0.2}])
        ));
        assert!(!values_match(&json!([1, 2]), &json!([1, 2, 3])));
        assert!(!values_match(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(!values_match(&json!("1"), &json!(1)));
        assert!(!values_match(&json!(null), &json!(false)));
    }

    #[test]
    fn a_missing_or_thrown_outcome_fails_and_the_score_is_weighted() {
        let mut tests = vec![
            test("f(1)", json!(2)),
            test("f(2)", json!(4)),
            test("f(3)", json!(6)),
        ];
        tests[2].weight = 3;
        let outcomes = vec![
            Outcome::Returned { value: json!(2) },
            Outcome::Threw {
                message: "boom".into(),
            },
        ];
        let verdicts = judge(&tests, &outcomes);
        assert_eq!(
            verdicts.iter().map(|v| v.passed).collect::<Vec<_>>(),
            [true, false, false]
        );
        assert_eq!(score(&tests, &verdicts), (1, 5));
    }

    #[test]
    fn limits_are_bounded_and_the_expression_survives_a_trailing_comment() {
        assert_eq!(Limits::parse(2_000, 10_000), Some(Limits::DEFAULT));
        assert_eq!(Limits::parse(50, 10_000), None);
        assert_eq!(Limits::parse(5_000, 2_000), None);
        assert_eq!(Limits::parse(2_000, 600_000), None);
        assert_eq!(
            test_expression(&test("f(1) // one", json!(1))),
            "(f(1) // one\n)"
        );
    }

    #[test]
    fn diff_shows_changed_lines_between_common_ones() {
        let d = diff_lines("a\nb\nc\nd", "a\nx\nc\nd\ne");
        assert_eq!(
            d,
            vec![
                DiffLine::Same("a".into()),
                DiffLine::Removed("b".into()),
                DiffLine::Added("x".into()),
                DiffLine::Same("c".into()),
                DiffLine::Same("d".into()),
                DiffLine::Added("e".into()),
            ]
        );
        assert_eq!(diff_lines("", "").len(), 0);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn exercise_toml_is_checked_with_the_test_named() {
        let ok = "language = \"javascript\"\nsolution = \"function f(){return 1}\"\n[[test]]\nname = \"one\"\ncall = \"f()\"\nexpected = '1'\n";
        let spec = ExerciseSpec::from_toml(ok).unwrap();
        assert_eq!(spec.limits, Limits::DEFAULT);
        assert_eq!(spec.tests[0].expected, json!(1));
        let bad = ok.replace("expected = '1'", "expected = 'one'");
        let err = ExerciseSpec::from_toml(&bad).unwrap_err();
        assert!(
            err.contains("test 1 (\"one\"): `expected` is not JSON"),
            "{err}"
        );
        let hidden = ok.replace("expected = '1'", "expected = '1'\nhidden = true");
        assert!(
            ExerciseSpec::from_toml(&hidden)
                .unwrap_err()
                .contains("visible")
        );
        let back = toml::to_string(&spec.to_file()).unwrap();
        assert_eq!(ExerciseSpec::from_toml(&back).unwrap(), spec);
    }

    #[test]
    fn outcomes_are_tagged_json() {
        let parsed: Vec<Outcome> = serde_json::from_str(
            r#"[{"status":"returned","value":[1,"Fizz"]},{"status":"timed_out"}]"#,
        )
        .unwrap();
        assert_eq!(parsed[1], Outcome::TimedOut);
    }
}
