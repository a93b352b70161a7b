//! reqlock's integration tests, in one binary: the real `reqlock` run
//! against fixture files and loopback indexes, the resolver against
//! in-memory sources, the parsers against pip's and BuildKit's own and
//! against fuzzers, and the architecture's own rules.

// A test says on stderr why it skipped what it could not run.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod architecture;
mod audit_deep;
mod cli;
mod common;
mod compat;
mod dockerfile;
mod faults;
mod faults_input;
mod faults_pages;
mod fuzz_dockerfile;
mod fuzz_parser;
mod index;
mod lock;
mod lock_direct;
mod lock_index;
mod lock_sdist;
mod pip_differential;
mod pip_parity;
