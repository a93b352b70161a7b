//! reqlock keeps Python requirements files honest.
//!
//! The data flows through the modules in this order: [`requirements`]
//! parses files exactly as pip does, [`index`] finds and reads the package
//! indexes, [`resolve`] picks the release pip would install for a target,
//! [`audit`] turns all of it into findings, and [`report`] renders them.
//! [`commands`] ties them together for the command-line interface.

pub mod audit;
pub mod commands;
pub mod compat;
pub mod diagnostic;
pub mod index;
pub mod lock;
pub mod parallel;
pub mod report;
pub mod requirements;
pub mod resolve;
