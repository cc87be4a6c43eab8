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

/// Quotes text as a JavaScript string literal (JSON strings are valid JavaScript).
fn js_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// The JavaScript the engines run: the learner's code in its own function scope, then each
/// test's expression (awaited), each result written as JSON text. This text is no sandbox:
/// the engine running it isolates it, and what it prints is untrusted input to [`judge`],
/// which alone decides verdicts.
pub fn harness_js(code: &str, tests: &[TestCase]) -> String {
    let calls = tests
        .iter()
        .map(|t| format!("  () => ({})", t.call))
        .collect::<Vec<_>>()
        .join(",\n");
    format!(
        "(() => {{
const __stringify = JSON.stringify;
const __String = String;
const __learner = new Function({code} + '\\n;return [\\n' + {calls} + '\\n];');
return (async () => {{
  let __tests;
  try {{ __tests = __learner(); }}
  catch (e) {{ return __stringify([{{status: 'threw', message: __String(e && e.message || e)}}]); }}
  const __out = [];
  for (const __t of __tests) {{
    try {{
      const __v = await __t();
      const __json = __stringify(__v === undefined ? null : __v);
      __out.push('{{\"status\":\"returned\",\"value\":' + (__json === undefined ? 'null' : __json) + '}}');
    }} catch (e) {{
      __out.push(__stringify({{status: 'threw', message: __String(e && e.message || e)}}));
    }}
  }}
  return '[' + __out.join(',') + ']';
}})();
}})()",
        code = js_string(code),
        calls = js_string(&calls),
    )
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
    fn the_harness_quotes_learner_code_and_calls_as_strings() {
        let js = harness_js(
            "const x = '\\u2028'; // \"quote\"",
            &[test("x.length", json!(1))],
        );
        assert!(
            js.contains(r#"new Function("const x = '\\u2028'; // \"quote\"""#),
            "{js}"
        );
        assert!(js.contains(r#"() => (x.length)"#), "{js}");
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
