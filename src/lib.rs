//! reqlock keeps Python requirements files honest: it parses them as pip
//! does, asks the package indexes what each line installs, and checks the
//! result against a curated database, the releases' own metadata and the
//! whole dependency tree; it also writes hashed lockfiles.
//!
//! The modules follow the data, and depend one way only: a module uses
//! modules of lower layers, never its own layer's or a higher one's
//! (`tests/it/architecture.rs` holds this; `ARCHITECTURE.md` tells the
//! story). Lowest first:
//!
//! 1. [`diagnostic`], [`parallel`], [`redact`]: shared vocabulary (severity,
//!    location, parse diagnostics), a thread map, the credential stripper.
//! 2. [`requirements`]: pip's requirements-file format, every requirement
//!    with its file:line:column; [`dockerfile`]: Dockerfiles read as
//!    BuildKit reads them (instructions, stages, heredocs, word expansion),
//!    every word with its line:column.
//! 3. [`compat`]: the compatibility database as data (loaded, linted, with
//!    the location of every rule); it reports no findings itself.
//! 4. [`index`]: which indexes to ask and why, fetching and caching their
//!    pages, reading dist files (wheel metadata, zip limits).
//! 5. [`target`]: the one model of the environment an install is for
//!    (Python version, platform tags, markers, CUDA).
//! 6. [`select`] (what pip would install for one line) and [`tree`] (the
//!    PubGrub resolution of the whole tree and its package sources).
//! 7. [`audit`]: the checks, one file per family, each returning findings
//!    into one [`audit::Report`]; [`testing`] holds test fakes.
//! 8. [`report`] (renderers of the one report: table, JSON, SARIF, GitHub)
//!    and [`lock`] (lockfile formats).
//! 9. [`cli`]: arguments to settings, one file per subcommand, and the one
//!    place errors are rendered.

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
