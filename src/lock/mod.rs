//! `reqlock lock`: resolve requirements into a complete, hashed set of pins,
//! without touching the network itself. Everything the resolver learns about
//! packages comes through [`source::PackageSource`].

pub mod metadata;
pub mod range;
pub mod source;
pub mod timestamp;
