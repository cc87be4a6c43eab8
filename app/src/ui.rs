//! Reusable components. They know no feature: they take plain data as props.

pub mod assets;
pub mod bell;
pub mod chart;
pub mod editor;
pub mod form;
#[cfg(feature = "ssr")]
pub mod highlight;
pub mod islands;
pub mod layout;
#[cfg(feature = "ssr")]
pub mod markdown;
