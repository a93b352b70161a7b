//! reqlock keeps Python requirements files honest.

pub mod audit;
pub mod cli;
pub mod compat;
pub mod diagnostic;
pub mod dockerfile;
pub mod index;
pub mod lock;
pub mod parallel;
pub mod redact;
pub mod report;
pub mod requirements;
pub mod select;
pub mod target;
#[doc(hidden)]
pub mod testing;
pub mod tree;
