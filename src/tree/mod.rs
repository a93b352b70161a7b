//! The whole dependency tree, resolved with PubGrub for one target: what
//! `reqlock lock` writes and `reqlock audit --deep` checks. Everything the
//! resolver learns about packages comes through [`source::PackageSource`]:
//! [`index_source::IndexSource`] over the real indexes and cache (sdists
//! read by [`sdist`], built by [`build`] when allowed), direct references
//! by [`direct`]. Known-broken combinations of the compat database are
//! constraints of the resolution ([`conflicts`]).

pub mod build;
pub mod conflicts;
pub mod direct;
pub mod index_source;
pub mod range;
pub mod resolve;
pub mod sdist;
pub mod source;
pub mod timestamp;
