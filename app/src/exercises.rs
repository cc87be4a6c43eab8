//! Code exercises: the shared model and grading rules (the editor, the browser Run and the
//! server grader build on these).

pub mod model;
