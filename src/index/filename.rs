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

    /// The tags of a wheel's file name (`name-version[-build]-python-abi-platform.whl`,
    /// the extension in any case), without checking the name or version;
    /// `None` when it is not a wheel's name.
    pub fn from_filename(filename: &str) -> Option<WheelTags> {
        let length = filename.len();
        let has_suffix = length > 4
            && filename.is_char_boundary(length - 4)
            && filename[length - 4..].eq_ignore_ascii_case(".whl");
        if !has_suffix {
            return None;
        }
        let parts: Vec<&str> = filename[..length - 4].split('-').collect();
        match parts.as_slice() {
            [_, _, python, abi, platform] | [_, _, _, python, abi, platform] => {
                Some(WheelTags::new(python, abi, platform))
            }
            _ => None,
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
    parse_in_sequence(filename, project, &mut None)
}

/// [`parse`] for the files of a page in turn: a release's files are listed
/// together, so the version parsed for the previous file (kept in
/// `previous`) is reused when the text is the same.
pub fn parse_in_sequence<'a>(
    filename: &'a str,
    project: &str,
    previous: &mut Option<(&'a str, Version)>,
) -> Option<DistFilename> {
    let (text, tags) = split(filename, project)?;
    let version = match previous {
        Some((last, version)) if *last == text => version.clone(),
        _ => {
            let version = Version::from_str(text).ok()?;
            *previous = Some((text, version.clone()));
            version
        }
    };
    let kind = match tags {
        Some([python, abi, platform]) => DistKind::Wheel(WheelTags::new(python, abi, platform)),
        None => DistKind::Sdist,
    };
    Some(DistFilename { version, kind })
}

/// The version text of `filename` as a distribution of `project`, checked
/// to parse but not kept parsed: grouping a big page by release reads
/// thousands of names, and most of the cost of [`parse`] is in what this
/// leaves out.
pub fn version_text<'a>(filename: &'a str, project: &str) -> Option<&'a str> {
    let (version, _) = split(filename, project)?;
    Version::from_str(version).ok()?;
    Some(version)
}

/// The version text and, for a wheel, its three tag parts. A wheel's
/// version is not checked here (its place in the name is fixed); an
/// sdist's is, since it decides which dash ends the name.
fn split<'a>(filename: &'a str, project: &str) -> Option<(&'a str, Option<[&'a str; 3]>)> {
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
        if from_start.next().is_some_and(|build| build.contains('-')) || !is_named(name, project) {
            return None;
        }
        return Some((version, Some([python, abi, platform])));
    }
    let suffix = SDIST_SUFFIXES.iter().find(|suffix| {
        filename.len() >= suffix.len()
            && filename.is_char_boundary(filename.len() - suffix.len())
            && filename[filename.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    })?;
    let stem = &filename[..filename.len() - suffix.len()];
    // Old sdists put dashes in the name (`python-dateutil-2.8.2`), so try
    // every dash as the separator, as pip does with the known project name.
    stem.match_indices('-').find_map(|(at, _)| {
        let version = &stem[at + 1..];
        (is_named(&stem[..at], project) && Version::from_str(version).is_ok())
            .then_some((version, None))
    })
}

/// Whether `name` normalizes to `project` (already normalized), without
/// building the normalized name.
fn is_named(name: &str, project: &str) -> bool {
    if name.len() == project.len()
        && name
            .bytes()
            .zip(project.bytes())
            .all(|(a, b)| a.to_ascii_lowercase() == b || (b == b'-' && matches!(a, b'_' | b'.')))
    {
        return true;
    }
    // Runs of separators and non-ASCII case folding: the general rule.
    canonical_name(name) == project
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
    fn version_texts_are_read_without_parsing_the_rest() {
        assert_eq!(
            version_text("torch-2.1.0+cu121-cp311-cp311-linux_x86_64.whl", "torch"),
            Some("2.1.0+cu121")
        );
        assert_eq!(
            version_text("Python_Dateutil-2.8.2.TAR.GZ", "python-dateutil"),
            Some("2.8.2")
        );
        assert_eq!(
            version_text("zope.interface-6.0.zip", "zope-interface"),
            Some("6.0")
        );
        // Runs of separators take the general rule.
        assert_eq!(version_text("a__b-1.0.tar.gz", "a-b"), Some("1.0"));
        assert_eq!(
            version_text("numpy-1.0-cp39-cp39-win_amd64.whl", "scipy"),
            None
        );
        assert_eq!(
            version_text("numpy-x-cp39-cp39-win_amd64.whl", "numpy"),
            None
        );
        assert_eq!(version_text("numpy-1.0.exe", "numpy"), None);
    }

    #[test]
    fn tags_from_a_wheel_name_alone() {
        let tags = WheelTags::from_filename("build-1.0-1-py3-none-any.WHL").unwrap();
        assert_eq!(tags.platform().collect::<Vec<_>>(), ["any"]);
        assert!(WheelTags::from_filename("broken.whl").is_none());
        assert!(WheelTags::from_filename("demo-1.0.tar.gz").is_none());
        assert!(WheelTags::from_filename("a-b-c-d-e-f-g.whl").is_none());
    }

    #[test]
    fn other_files_are_skipped() {
        assert!(parse("numpy-1.0-cp39-cp39-win_amd64.whl", "scipy").is_none());
        assert!(parse("numpy-1.0-py2.7.egg", "numpy").is_none());
        assert!(parse("numpy-notaversion.tar.gz", "numpy").is_none());
        assert!(parse("numpy-1.0-x-y.whl", "numpy").is_none());
    }
}
