//! Lockfile formats: a resolved tree ([`crate::tree`]) written as a pip
//! requirements file with hashes ([`requirements_txt`]) or as a PEP 751
//! `pylock.toml` ([`pylock`]), written atomically or compared with the
//! lockfile on disk; and the versions of an existing lockfile, kept as
//! preferences of the next resolution.

pub mod pylock;
pub mod requirements_txt;
