//! `reqlock lock`: resolve requirements into a complete, hashed set of pins,
//! without touching the network itself. Everything the resolver learns about
//! packages comes through [`source::PackageSource`].
//!
//! The flow: parse the input with [`crate::requirements`], build the target
//! with [`target::cpython_environment`], call [`resolve::resolve`] with a
//! source, the compat database and [`resolve::ResolveOptions`] (preferences
//! from an existing lock via [`resolve::locked_versions`] or
//! [`pylock::Pylock::preferences`]), then write the result with
//! [`output::requirements_lockfile`] or [`pylock::write_pylock`] and
//! [`output::write_atomic`], or compare it with [`output::check_lockfile`].

pub mod build;
pub mod conflicts;
pub mod direct;
pub mod index_source;
pub mod limits;
pub mod metadata;
pub mod output;
pub mod pylock;
pub mod range;
pub mod resolve;
pub mod sdist;
pub mod source;
pub mod target;
pub mod timestamp;
pub mod wheel;
pub mod wheel_metadata;
pub mod zip;
