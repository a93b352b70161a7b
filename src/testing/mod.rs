//! Test support shared by the unit tests and the integration tests
//! (`tests/it/`): an in-memory package source and the one zip writer the
//! fixtures use. Not part of reqlock's interface.

pub mod in_memory;
pub mod zip;

pub use in_memory::{FixtureError, InMemorySource};
