//! The evaluation score of a learner in a course:
//!
//! ```text
//! score = α·t/T + β·n/N + γ·s/S
//! ```
//!
//! - `t/T`: seconds of lesson video watched out of the course's total,
//! - `n/N`: tests passed out of the course's tests,
//! - `s/S`: mentor feedback points received out of the points available,
//!
//! with weights α = 0.5, β = 0.3, γ = 0.2 unless an admin sets others for the course.
//!
//! A course may lack a measure (no videos, no tests, no feedback yet: `T`, `N` or `S` is 0).
//! Counting that term as 0 would cap every learner below 1.0 for something they could never
//! do, so the term drops out and the remaining weights are scaled up to sum to 1 again. For
//! the same reason the weights are relative, not absolute: 0.5/0.3/0.2 and 1.0/0.6/0.4 give
//! the same scores, and any valid weights give a score in [0, 1].
//!
//! Pure functions over plain numbers, so the browser and the server agree and the worked
//! example from the product brief (4/4, 1, 4/5 → 0.96) is a unit test.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One of the three things the score is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Measure {
    /// Lesson time watched, `t/T`, weighted by α.
    Watched,
    /// Tests passed, `n/N`, weighted by β.
    Passed,
    /// Mentor feedback, `s/S`, weighted by γ.
    Feedback,
}

impl Measure {
    pub const ALL: [Measure; 3] = [Measure::Watched, Measure::Passed, Measure::Feedback];

    /// The weight's letter in the formula, as the admin page labels it.
    pub fn symbol(self) -> char {
        match self {
            Measure::Watched => 'α',
            Measure::Passed => 'β',
            Measure::Feedback => 'γ',
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Measure::Watched => "watched time",
            Measure::Passed => "tests passed",
            Measure::Feedback => "mentor feedback",
        }
    }
}

/// The weights α, β, γ. Only [`Weights::new`] (or deserialising, which calls it) makes one,
/// so a `Weights` in hand is always usable: each weight finite and in [0, 1], not all 0.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawWeights", into = "RawWeights")]
pub struct Weights {
    watched: f64,
    passed: f64,
    feedback: f64,
}

/// The wire form: deserialising goes through [`Weights::new`], so a stored or posted set of
/// weights cannot skip validation.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct RawWeights {
    watched: f64,
    passed: f64,
    feedback: f64,
}

impl TryFrom<RawWeights> for Weights {
    type Error = WeightsError;

    fn try_from(raw: RawWeights) -> Result<Self, Self::Error> {
        Weights::new(raw.watched, raw.passed, raw.feedback)
    }
}

impl From<Weights> for RawWeights {
    fn from(w: Weights) -> Self {
        RawWeights {
            watched: w.watched,
            passed: w.passed,
            feedback: w.feedback,
        }
    }
}

impl Weights {
    /// The product brief's α = 0.5, β = 0.3, γ = 0.2.
    pub const DEFAULT: Weights = Weights {
        watched: 0.5,
        passed: 0.3,
        feedback: 0.2,
    };

    /// α (watched), β (passed), γ (feedback). Refuses a weight that is not a number in
    /// [0, 1], and all three 0 (no score could be computed).
    pub fn new(watched: f64, passed: f64, feedback: f64) -> Result<Self, WeightsError> {
        for (measure, value) in [
            (Measure::Watched, watched),
            (Measure::Passed, passed),
            (Measure::Feedback, feedback),
        ] {
            if !value.is_finite() {
                return Err(WeightsError::NotFinite { measure });
            }
            if !(0.0..=1.0).contains(&value) {
                return Err(WeightsError::OutOfRange { measure, value });
            }
        }
        if watched == 0.0 && passed == 0.0 && feedback == 0.0 {
            return Err(WeightsError::AllZero);
        }
        Ok(Weights {
            watched,
            passed,
            feedback,
        })
    }

    pub fn get(self, measure: Measure) -> f64 {
        match measure {
            Measure::Watched => self.watched,
            Measure::Passed => self.passed,
            Measure::Feedback => self.feedback,
        }
    }
}

impl Default for Weights {
    fn default() -> Self {
        Weights::DEFAULT
    }
}

/// Why a set of weights was refused, in a sentence the admin form shows under the field.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum WeightsError {
    /// NaN or infinite (a form field that did not parse as a number ends up here too).
    NotFinite {
        measure: Measure,
    },
    OutOfRange {
        measure: Measure,
        value: f64,
    },
    AllZero,
}

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightsError::NotFinite { measure } => write!(
                f,
                "the weight for {} ({}) must be a number between 0 and 1",
                measure.noun(),
                measure.symbol()
            ),
            WeightsError::OutOfRange { measure, value } => write!(
                f,
                "the weight for {} ({}) must be between 0 and 1, not {value}",
                measure.noun(),
                measure.symbol()
            ),
            WeightsError::AllZero => f.write_str(
                "at least one weight must be above 0, otherwise nothing counts towards the score",
            ),
        }
    }
}

impl std::error::Error for WeightsError {}

/// How much of a measure a learner has (`done`) out of how much the course offers (`total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fraction<T> {
    pub done: T,
    pub total: T,
}

impl<T> Fraction<T> {
    pub fn new(done: T, total: T) -> Self {
        Fraction { done, total }
    }
}

impl Fraction<f64> {
    /// `None` when there is nothing to measure: a total of 0, or one that is not a positive
    /// finite number (which can only be a bug upstream; treating it as "no measure" keeps a
    /// bad row from poisoning the dashboard with NaN). `done` is clamped to [0, total]: a
    /// player that reports a few seconds past the end, or a replay, never scores above 1.
    fn ratio(self) -> Option<f64> {
        if !(self.total.is_finite() && self.total > 0.0) {
            return None;
        }
        // Written so that NaN lands on 0 rather than propagating.
        let done = if self.done > 0.0 {
            self.done.min(self.total)
        } else {
            0.0
        };
        Some(done / self.total)
    }
}

impl Fraction<u32> {
    fn ratio(self) -> Option<f64> {
        (self.total > 0).then(|| f64::from(self.done.min(self.total)) / f64::from(self.total))
    }
}

/// A learner's standing in one course, as read from the courses, exercises and mentoring
/// records.
///
/// Watched time and feedback are `f64` (seconds are reported fractionally by the player, and
/// mentors may give half points); tests are counted, so `u32`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Parts {
    /// `t/T`: seconds of lesson video watched, out of the course's total seconds.
    pub watched: Fraction<f64>,
    /// `n/N`: tests passed, out of the course's tests.
    pub passed: Fraction<u32>,
    /// `s/S`: feedback points received, out of the points available.
    pub feedback: Fraction<f64>,
}

impl Parts {
    fn ratio(&self, measure: Measure) -> Option<f64> {
        match measure {
            Measure::Watched => self.watched.ratio(),
            Measure::Passed => self.passed.ratio(),
            Measure::Feedback => self.feedback.ratio(),
        }
    }
}

/// One term of the score, so a dashboard can show what the score is made of.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Term {
    /// `done/total`, in [0, 1].
    pub ratio: f64,
    /// The weight after renormalisation over the terms that could be measured: the weights
    /// of a [`Score`]'s terms sum to 1.
    pub weight: f64,
    /// `weight × ratio`: this term's share of the score.
    pub contribution: f64,
}

/// An evaluation score and its breakdown. A term is `None` when it dropped out (its total
/// is 0), and the dashboard says so rather than showing a 0.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// In [0, 1]: the sum of the terms' contributions.
    pub value: f64,
    pub watched: Option<Term>,
    pub passed: Option<Term>,
    pub feedback: Option<Term>,
}

impl Score {
    pub fn term(&self, measure: Measure) -> Option<Term> {
        match measure {
            Measure::Watched => self.watched,
            Measure::Passed => self.passed,
            Measure::Feedback => self.feedback,
        }
    }
}

/// The evaluation score, or `None` when nothing that counts can be measured yet ("not
/// started"): every total is 0, or the only measures with a total are weighted 0 (a course
/// that only has feedback, under weights that ignore feedback, has no score rather than an
/// arbitrary one).
pub fn score(parts: &Parts, weights: Weights) -> Option<Score> {
    let ratios = Measure::ALL.map(|m| parts.ratio(m));
    let weight_sum: f64 = Measure::ALL
        .iter()
        .zip(ratios)
        .filter(|(_, ratio)| ratio.is_some())
        .map(|(m, _)| weights.get(*m))
        .sum();
    if weight_sum <= 0.0 {
        return None;
    }
    let [watched, passed, feedback] = Measure::ALL.map(|m| {
        parts.ratio(m).map(|ratio| {
            let weight = weights.get(m) / weight_sum;
            Term {
                ratio,
                weight,
                contribution: weight * ratio,
            }
        })
    });
    let value: f64 = [watched, passed, feedback]
        .iter()
        .flatten()
        .map(|t| t.contribution)
        .sum();
    Some(Score {
        // Renormalised weights can sum to 1 + ε in floating point; the promise is [0, 1].
        value: value.min(1.0),
        watched,
        passed,
        feedback,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPS: f64 = 1e-12;

    fn parts(watched: (f64, f64), passed: (u32, u32), feedback: (f64, f64)) -> Parts {
        Parts {
            watched: Fraction::new(watched.0, watched.1),
            passed: Fraction::new(passed.0, passed.1),
            feedback: Fraction::new(feedback.0, feedback.1),
        }
    }

    fn value(p: Parts, w: Weights) -> f64 {
        score(&p, w).unwrap().value
    }

    fn assert_close(got: f64, want: f64) {
        assert!((got - want).abs() < EPS, "got {got}, want {want}");
    }

    #[test]
    fn the_defaults_are_the_product_briefs_weights() {
        let w = Weights::default();
        assert_eq!(
            (
                w.get(Measure::Watched),
                w.get(Measure::Passed),
                w.get(Measure::Feedback)
            ),
            (0.5, 0.3, 0.2)
        );
    }

    #[test]
    fn the_worked_example_from_the_brief_scores_0_96() {
        // t/T = 4/4, n/N = 3/3 = 1, s/S = 4/5: 0.5·1 + 0.3·1 + 0.2·0.8 = 0.96.
        let s = score(
            &parts((4.0, 4.0), (3, 3), (4.0, 5.0)),
            Weights::new(0.5, 0.3, 0.2).unwrap(),
        )
        .unwrap();
        assert_close(s.value, 0.96);
        let c = |m| s.term(m).unwrap().contribution;
        assert_close(c(Measure::Watched), 0.5);
        assert_close(c(Measure::Passed), 0.3);
        assert_close(c(Measure::Feedback), 0.16);
        assert_close(s.feedback.unwrap().ratio, 0.8);
    }

    #[test]
    fn the_contributions_add_up_to_the_score_and_the_weights_to_one() {
        let s = score(
            &parts((100.0, 360.0), (2, 7), (3.5, 5.0)),
            Weights::default(),
        )
        .unwrap();
        let terms: Vec<Term> = Measure::ALL.iter().filter_map(|m| s.term(*m)).collect();
        assert_eq!(terms.len(), 3);
        assert_close(terms.iter().map(|t| t.contribution).sum(), s.value);
        assert_close(terms.iter().map(|t| t.weight).sum(), 1.0);
    }

    #[test]
    fn a_course_without_video_drops_watched_time_and_renormalises_the_rest() {
        // β, γ = 0.3, 0.2 → 0.3/0.5 = 0.6 and 0.2/0.5 = 0.4.
        // 0.6·(1/2) + 0.4·(4/5) = 0.3 + 0.32 = 0.62.
        let s = score(&parts((0.0, 0.0), (1, 2), (4.0, 5.0)), Weights::default()).unwrap();
        assert_eq!(s.watched, None);
        assert_close(s.passed.unwrap().weight, 0.6);
        assert_close(s.feedback.unwrap().weight, 0.4);
        assert_close(s.value, 0.62);
    }

    #[test]
    fn a_course_without_tests_drops_tests_and_renormalises_the_rest() {
        // α, γ = 0.5, 0.2 → 5/7 and 2/7.
        // (5/7)·(1/4) + (2/7)·(4/5) = 1.25/7 + 1.6/7 = 2.85/7.
        let s = score(&parts((1.0, 4.0), (0, 0), (4.0, 5.0)), Weights::default()).unwrap();
        assert_eq!(s.passed, None);
        assert_close(s.watched.unwrap().weight, 5.0 / 7.0);
        assert_close(s.feedback.unwrap().weight, 2.0 / 7.0);
        assert_close(s.value, 2.85 / 7.0);
    }

    #[test]
    fn a_course_without_feedback_drops_feedback_and_renormalises_the_rest() {
        // α, β = 0.5, 0.3 → 0.625 and 0.375.
        // 0.625·(2/4) + 0.375·(1/3) = 0.3125 + 0.125 = 0.4375.
        let s = score(&parts((2.0, 4.0), (1, 3), (0.0, 0.0)), Weights::default()).unwrap();
        assert_eq!(s.feedback, None);
        assert_close(s.watched.unwrap().weight, 0.625);
        assert_close(s.passed.unwrap().weight, 0.375);
        assert_close(s.value, 0.4375);
    }

    #[test]
    fn with_a_single_measure_left_the_score_is_that_ratio() {
        let s = score(&parts((0.0, 0.0), (0, 0), (4.0, 5.0)), Weights::default()).unwrap();
        assert_close(s.feedback.unwrap().weight, 1.0);
        assert_close(s.value, 0.8);
    }

    #[test]
    fn nothing_to_measure_means_no_score() {
        assert_eq!(
            score(&parts((0.0, 0.0), (0, 0), (0.0, 0.0)), Weights::default()),
            None
        );
    }

    #[test]
    fn a_course_measured_only_by_a_weight_set_to_zero_has_no_score() {
        let no_feedback = Weights::new(0.5, 0.5, 0.0).unwrap();
        assert_eq!(
            score(&parts((0.0, 0.0), (0, 0), (5.0, 5.0)), no_feedback),
            None
        );
    }

    #[test]
    fn a_learner_who_has_not_begun_a_measured_course_scores_zero_not_none() {
        assert_eq!(
            value(parts((0.0, 600.0), (0, 4), (0.0, 0.0)), Weights::default()),
            0.0
        );
    }

    #[test]
    fn progress_beyond_the_total_counts_as_the_total() {
        let s = score(
            &parts((500.0, 400.0), (9, 3), (6.0, 5.0)),
            Weights::default(),
        )
        .unwrap();
        assert_eq!(s.watched.unwrap().ratio, 1.0);
        assert_eq!(s.passed.unwrap().ratio, 1.0);
        assert_eq!(s.feedback.unwrap().ratio, 1.0);
        assert!(s.value <= 1.0);
        assert_close(s.value, 1.0);
    }

    #[test]
    fn negative_or_nan_progress_counts_as_none_done() {
        let s = score(
            &parts((-3.0, 400.0), (0, 3), (f64::NAN, 5.0)),
            Weights::default(),
        )
        .unwrap();
        assert_eq!(s.value, 0.0);
    }

    #[test]
    fn a_total_that_is_not_a_positive_number_drops_its_term() {
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            let s = score(&parts((1.0, bad), (1, 2), (0.0, 0.0)), Weights::default()).unwrap();
            assert_eq!(s.watched, None, "total {bad}");
            assert_close(s.value, 0.5);
        }
    }

    #[test]
    fn full_marks_score_exactly_one_whatever_the_weights() {
        for w in [
            (0.1, 0.1, 0.1),
            (1.0, 1.0, 1.0),
            (0.3, 0.0, 0.7),
            (0.5, 0.3, 0.2),
        ] {
            let w = Weights::new(w.0, w.1, w.2).unwrap();
            let v = value(parts((7.0, 7.0), (2, 2), (3.0, 3.0)), w);
            assert!(v <= 1.0);
            assert_close(v, 1.0);
        }
    }

    #[test]
    fn weights_count_relative_to_each_other() {
        let p = parts((1.0, 4.0), (2, 3), (1.0, 5.0));
        assert_close(
            value(p, Weights::new(0.5, 0.3, 0.2).unwrap()),
            value(p, Weights::new(1.0, 0.6, 0.4).unwrap()),
        );
    }

    #[test]
    fn a_weight_above_one_is_refused_naming_it() {
        let err = Weights::new(1.5, 0.3, 0.2).unwrap_err();
        assert_eq!(
            err,
            WeightsError::OutOfRange {
                measure: Measure::Watched,
                value: 1.5
            }
        );
        assert_eq!(
            err.to_string(),
            "the weight for watched time (α) must be between 0 and 1, not 1.5"
        );
    }

    #[test]
    fn a_negative_weight_is_refused_naming_it() {
        assert_eq!(
            Weights::new(0.5, -0.1, 0.2).unwrap_err().to_string(),
            "the weight for tests passed (β) must be between 0 and 1, not -0.1"
        );
    }

    #[test]
    fn a_weight_that_is_not_a_number_is_refused_naming_it() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(
                Weights::new(0.5, 0.3, bad).unwrap_err().to_string(),
                "the weight for mentor feedback (γ) must be a number between 0 and 1"
            );
        }
    }

    #[test]
    fn all_weights_zero_is_refused() {
        let err = Weights::new(0.0, 0.0, 0.0).unwrap_err();
        assert_eq!(err, WeightsError::AllZero);
        assert_eq!(
            err.to_string(),
            "at least one weight must be above 0, otherwise nothing counts towards the score"
        );
    }

    #[test]
    fn the_bounds_zero_and_one_are_accepted() {
        assert!(Weights::new(0.0, 1.0, 0.0).is_ok());
        assert!(Weights::new(1.0, 1.0, 1.0).is_ok());
    }

    #[test]
    fn deserialised_weights_are_validated_too() {
        let ok: Weights =
            serde_json::from_str(r#"{"watched":0.5,"passed":0.3,"feedback":0.2}"#).unwrap();
        assert_eq!(ok, Weights::default());
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            r#"{"watched":0.5,"passed":0.3,"feedback":0.2}"#
        );
        let err = serde_json::from_str::<Weights>(r#"{"watched":2,"passed":0.3,"feedback":0.2}"#)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("the weight for watched time (α) must be between 0 and 1, not 2"),
            "{err}"
        );
    }
}
