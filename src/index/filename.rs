//! Distribution file names: what a wheel or sdist on an index page is, for
//! which version, and (for wheels) for which interpreters and platforms.

use std::str::FromStr;

use pep508_rs::pep440_rs::Version;

use crate::requirements::canonical_name;

/// A wheel's compressed tag sets (PEP 425): each part may list several
/// tags separated by `.`, and the wheel supports every combination. Kept
/// compressed: a page has thousands of wheels and most are never asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelTags {
    python: String,
    abi: String,
    platform: String,
}

impl WheelTags {
    /// From the last three `-`-separated parts of a wheel's file name.
    pub fn new(python: &str, abi: &str, platform: &str) -> WheelTags {
        WheelTags {
            python: python.to_string(),
            abi: abi.to_string(),
            platform: platform.to_string(),
        }
    }

    pub fn python(&self) -> impl Iterator<Item = &str> + Clone {
        self.python.split('.')
    }

    pub fn abi(&self) -> impl Iterator<Item = &str> + Clone {
        self.abi.split('.')
    }

    pub fn platform(&self) -> impl Iterator<Item = &str> + Clone {
        self.platform.split('.')
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DistKind {
    Wheel(WheelTags),
    /// A source archive: installable anywhere pip can build it.
    Sdist,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistFilename {
    pub version: Version,
    pub kind: DistKind,
}

const SDIST_SUFFIXES: &[&str] = &[".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar"];

/// Parse `filename` as a distribution of `project` (normalized). Files of
/// other projects, eggs, installers and unparsable versions give `None`,
/// which is also how pip skips them.
pub fn parse(filename: &str, project: &str) -> Option<DistFilename> {
    if let Some(stem) = filename.strip_suffix(".whl") {
        // name-version(-build)?-python-abi-platform
        let mut from_end = stem.rsplitn(4, '-');
        let (Some(platform), Some(abi), Some(python), Some(head)) = (
            from_end.next(),
            from_end.next(),
            from_end.next(),
            from_end.next(),
        ) else {
            return None;
        };
        let mut from_start = head.splitn(3, '-');
        let (Some(name), Some(version)) = (from_start.next(), from_start.next()) else {
            return None;
        };
        // At most a build tag may follow, and it has no dash.
        if from_start.next().is_some_and(|build| build.contains('-'))
            || !is_canonically(name, project)
        {
            return None;
        }
        let version = Version::from_str(version).ok()?;
        return Some(DistFilename {
            version,
            kind: DistKind::Wheel(WheelTags::new(python, abi, platform)),
        });
    }
    let lower = filename.to_ascii_lowercase();
    let suffix = SDIST_SUFFIXES.iter().find(|s| lower.ends_with(*s))?;
    let stem = &filename[..filename.len() - suffix.len()];
    // Old sdists put dashes in the name (`python-dateutil-2.8.2`), so try
    // every dash as the separator, as pip does with the known project name.
    stem.match_indices('-').find_map(|(at, _)| {
        is_canonically(&stem[..at], project)
            .then(|| Version::from_str(&stem[at + 1..]).ok())
            .flatten()
            .map(|version| DistFilename {
                version,
                kind: DistKind::Sdist,
            })
    })
}

/// Whether `canonical_name(name) == canonical`, without building it: this
/// runs for every file of every release read.
fn is_canonically(name: &str, canonical: &str) -> bool {
    if name.len() == canonical.len()
        && name.eq_ignore_ascii_case(canonical)
        && !name.contains(['_', '.'])
    {
        return true;
    }
    canonical_name(name) == canonical
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheels_and_sdists() {
        let wheel = parse("torch-2.1.0+cu121-cp311-cp311-linux_x86_64.whl", "torch").unwrap();
        assert_eq!(wheel.version.to_string(), "2.1.0+cu121");
        let DistKind::Wheel(tags) = wheel.kind else {
            panic!("a wheel")
        };
        assert_eq!(tags.python().collect::<Vec<_>>(), ["cp311"]);
        let multi = parse(
            "numpy-1.26.4-1-pp39.cp39-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "numpy",
        )
        .unwrap();
        let DistKind::Wheel(tags) = multi.kind else {
            panic!("a wheel")
        };
        assert_eq!(tags.python().collect::<Vec<_>>(), ["pp39", "cp39"]);
        assert_eq!(tags.platform().count(), 2);
        let sdist = parse("python-dateutil-2.8.2.tar.gz", "python-dateutil").unwrap();
        assert_eq!(sdist.kind, DistKind::Sdist);
        assert_eq!(sdist.version.to_string(), "2.8.2");
        assert!(parse("Django-4.2.zip", "django").is_some());
    }

    #[test]
    fn other_files_are_skipped() {
        assert!(parse("numpy-1.0-cp39-cp39-win_amd64.whl", "scipy").is_none());
        assert!(parse("numpy-1.0-py2.7.egg", "numpy").is_none());
        assert!(parse("numpy-notaversion.tar.gz", "numpy").is_none());
        assert!(parse("numpy-1.0-x-y.whl", "numpy").is_none());
    }
}
