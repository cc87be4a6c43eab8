//! Grading through the server's grader (server only): the one place that turns code and tests
//! into verdicts that count.

use crate::{
    exercises::model::{StoredResult, TestCase, judge, score, test_expression},
    state::Grader,
};

/// Runs `tests` against `code` and judges each result in Rust.
pub async fn grade(
    grader: &dyn Grader,
    code: &str,
    tests: &[TestCase],
    limits: crate::exercises::model::Limits,
) -> Graded {
    let started = std::time::Instant::now();
    let expressions: Vec<String> = tests.iter().map(test_expression).collect();
    let runs = grader.run(code, &expressions, limits).await;
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
    Graded {
        results,
        passed,
        total,
        millis: started.elapsed().as_millis().try_into().unwrap_or(u64::MAX),
    }
}

/// Runs an exercise's reference solution against all its tests (authoring and import).
pub async fn grade_solution(
    grader: &dyn Grader,
    spec: &crate::exercises::model::ExerciseSpec,
) -> Graded {
    grade(grader, &spec.solution, &spec.tests, spec.limits).await
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
