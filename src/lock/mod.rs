//! `reqlock lock`: resolve requirements into a complete, hashed set of pins,
//! without touching the network itself. Everything the resolver learns about
//! packages comes through [`source::PackageSource`].

pub mod conflicts;
pub mod metadata;
pub mod output;
pub mod pylock;
pub mod range;
pub mod resolve;
pub mod source;
pub mod target;
pub mod timestamp;
