//! Reusable components. They know no feature: they take plain data as props.

pub mod form;
pub mod layout;
