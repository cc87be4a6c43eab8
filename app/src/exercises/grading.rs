//! Grading through the server's grader (server only): the one place that turns code and tests
//! into verdicts that count.

use crate::{
    exercises::model::{Language, StoredResult, TestCase, judge, score, test_expression},
    state::Grader,
};

/// Runs `tests` against `code` and judges each result in Rust.
/// A full grader queue is a 429 in words: nothing is stored as a 0/N.
pub async fn grade(
    grader: &dyn Grader,
    owner: &str,
    language: Language,
    code: &str,
    tests: &[TestCase],
    limits: crate::exercises::model::Limits,
) -> Result<Graded, crate::error::AppError> {
    let started = std::time::Instant::now();
    let expressions: Vec<String> = tests
        .iter()
        .map(|t| match language {
            Language::JavaScript => test_expression(t),
            // The Python harness wraps the call itself (see harness.py).
            Language::Python => t.call.clone(),
        })
        .collect();
    let runs = grader
        .run(owner, language, code, &expressions, limits)
        .await
        .map_err(|_| crate::error::Problem::GraderFull)?;
    let outcomes: Vec<_> = runs.iter().map(|r| r.outcome.clone()).collect();
    let verdicts = judge(tests, &outcomes);
    let (passed, total) = score(tests, &verdicts);
    let results = tests
        .iter()
        .zip(verdicts)
        .zip(runs)
        .map(|((test, verdict), run)| StoredResult {
            test: test.clone(),
            verdict,
            console: run.console,
            micros: run.micros,
        })
        .collect();
    Ok(Graded {
        results,
        passed,
        total,
        millis: started.elapsed().as_millis().try_into().unwrap_or(u64::MAX),
    })
}

/// Runs an exercise's reference solution against all its tests (authoring and import).
pub async fn grade_solution(
    grader: &dyn Grader,
    owner: &str,
    spec: &crate::exercises::model::ExerciseSpec,
) -> Result<Graded, crate::error::AppError> {
    grade(
        grader,
        owner,
        spec.language,
        &spec.solution,
        &spec.tests,
        spec.limits,
    )
    .await
}

#[derive(Debug)]
pub struct Graded {
    pub results: Vec<StoredResult>,
    pub passed: u32,
    pub total: u32,
    pub millis: u64,
}

impl Graded {
    pub fn all_passed(&self) -> bool {
        self.results.iter().all(|r| r.verdict.passed)
    }
}
