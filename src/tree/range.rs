//! Version sets for the resolver: PEP 440 specifiers as ranges, with local
//! labels matched as PEP 440 says (`==2.1.0` admits `2.1.0+cu121`), and shown
//! back as specifiers in explanations.

use std::fmt;
use std::ops::Bound;
use std::str::FromStr;

use pep508_rs::pep440_rs::{Operator, Version, VersionSpecifier, VersionSpecifiers};
use pubgrub::VersionSet;
use version_ranges::Ranges;

use crate::requirements::Requirement;

/// A set of versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRange(Ranges<Version>);

impl VersionRange {
    pub fn from_specifiers(specifiers: &VersionSpecifiers) -> VersionRange {
        VersionRange(specifiers.iter().fold(Ranges::full(), |range, specifier| {
            range.intersection(&specifier_range(specifier))
        }))
    }
}

impl VersionRange {
    /// The versions a requirements-file line admits. `===` compares text
    /// (see [`Requirement::admits`]): a text that no version's normalized
    /// form spells (`===1.0-2`) admits nothing; one that does admits that
    /// version, and the provider drops other spellings of it (`1.0.0` for
    /// `===1.0`).
    pub fn from_requirement(requirement: &Requirement) -> VersionRange {
        let spelled = requirement.arbitrary_equality.iter().all(|text| {
            Version::from_str(text)
                .is_ok_and(|version| version.to_string().eq_ignore_ascii_case(text))
        });
        if spelled {
            VersionRange::from_specifiers(&requirement.specifier)
        } else {
            VersionRange(Ranges::empty())
        }
    }

    /// The version, when the set holds exactly one.
    pub fn only_version(&self) -> Option<&Version> {
        self.0.as_singleton()
    }
}

/// The first version above `version` and all its local builds, when
/// `version` is a plain public release (`2.1.0` → `2.1.0.post0.dev0`).
fn after_local_builds(version: &Version) -> Option<Version> {
    let plain = !version.is_local()
        && version.pre().is_none()
        && version.post().is_none()
        && version.dev().is_none();
    plain.then(|| version.clone().with_post(Some(0)).with_dev(Some(0)))
}

fn specifier_range(specifier: &VersionSpecifier) -> Ranges<Version> {
    let version = specifier.version();
    match (specifier.operator(), after_local_builds(version)) {
        // PEP 440: local labels are ignored when the specifier has none.
        (Operator::Equal, Some(upper)) => Ranges::between(version.clone(), upper),
        (Operator::NotEqual, Some(upper)) => Ranges::between(version.clone(), upper).complement(),
        (Operator::LessThanEqual, Some(upper)) => Ranges::strictly_lower_than(upper),
        _ => Ranges::from(specifier.clone()),
    }
}

impl VersionSet for VersionRange {
    type V = Version;

    fn empty() -> Self {
        VersionRange(Ranges::empty())
    }

    fn singleton(version: Version) -> Self {
        VersionRange(Ranges::singleton(version))
    }

    fn complement(&self) -> Self {
        VersionRange(self.0.complement())
    }

    fn intersection(&self, other: &Self) -> Self {
        VersionRange(self.0.intersection(&other.0))
    }

    fn contains(&self, version: &Version) -> bool {
        self.0.contains(version)
    }

    fn full() -> Self {
        VersionRange(Ranges::full())
    }

    fn union(&self, other: &Self) -> Self {
        VersionRange(self.0.union(&other.0))
    }
}

/// Drop the resolver-internal `min`/`max` markers before showing a version.
fn shown(version: &Version) -> Version {
    let mut shown = version.clone();
    if Version::min(&shown).is_some() {
        shown = shown.with_min(None);
    }
    if Version::max(&shown).is_some() {
        shown = shown.with_max(None);
    }
    shown
}

/// `==v` when the segment is exactly one release and its local builds.
fn single_release<'a>(segment: (&'a Bound<Version>, &'a Bound<Version>)) -> Option<&'a Version> {
    match segment {
        (Bound::Included(low), Bound::Included(high)) if low == high => Some(low),
        (Bound::Included(low), Bound::Excluded(high))
            if after_local_builds(low).as_ref() == Some(high) =>
        {
            Some(low)
        }
        _ => None,
    }
}

fn lower_text(bound: &Bound<Version>) -> Option<String> {
    match bound {
        Bound::Included(version) => Some(format!(">={}", shown(version))),
        Bound::Excluded(version) => Some(format!(">{}", shown(version))),
        Bound::Unbounded => None,
    }
}

fn upper_text(bound: &Bound<Version>) -> Option<String> {
    match bound {
        Bound::Included(version) => Some(format!("<={}", shown(version))),
        Bound::Excluded(version) => Some(match below_post_releases(version) {
            Some(release) => format!("<={release}"),
            None => format!("<{}", shown(version)),
        }),
        Bound::Unbounded => None,
    }
}

/// `2.1.0` for `2.1.0.post0.dev0`, the bound that `<=2.1.0` becomes.
fn below_post_releases(version: &Version) -> Option<Version> {
    (version.post() == Some(0) && version.dev() == Some(0))
        .then(|| version.clone().with_post(None).with_dev(None))
        .filter(|release| after_local_builds(release).as_ref() == Some(version))
}

/// The one release (and its local builds) missing between two segments.
fn excluded_release<'a>(
    upper: &'a Bound<Version>,
    next_lower: &Bound<Version>,
) -> Option<&'a Version> {
    match (upper, next_lower) {
        (Bound::Excluded(release), Bound::Included(after))
            if after_local_builds(release).as_ref() == Some(after) =>
        {
            Some(release)
        }
        (Bound::Excluded(release), Bound::Excluded(after)) if release == after => Some(release),
        _ => None,
    }
}

type Segment<'a> = (&'a Bound<Version>, &'a Bound<Version>);

/// One specifier for segments separated only by single excluded releases.
fn group_text(group: &[Segment]) -> String {
    if let [segment] = group {
        if let Some(version) = single_release(*segment) {
            return format!("=={version}");
        }
    }
    let mut parts = Vec::new();
    parts.extend(group.first().and_then(|segment| lower_text(segment.0)));
    for pair in group.windows(2) {
        parts.extend(excluded_release(pair[0].1, pair[1].0).map(|version| format!("!={version}")));
    }
    parts.extend(group.last().and_then(|segment| upper_text(segment.1)));
    parts.join(",")
}

impl fmt::Display for VersionRange {
    /// As a specifier: empty for every version, `>=1,!=1.5,<2` for a range
    /// with holes of one release, alternatives joined with ` | `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(" (no version)");
        }
        let segments: Vec<Segment> = self.0.iter().collect();
        let mut groups: Vec<Vec<Segment>> = Vec::new();
        for segment in segments {
            match groups.last_mut() {
                Some(group)
                    if group
                        .last()
                        .is_some_and(|last| excluded_release(last.1, segment.0).is_some()) =>
                {
                    group.push(segment)
                }
                _ => groups.push(vec![segment]),
            }
        }
        let texts: Vec<String> = groups.iter().map(|group| group_text(group)).collect();
        f.write_str(&texts.join(" | "))
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn range(text: &str) -> VersionRange {
        VersionRange::from_specifiers(&VersionSpecifiers::from_str(text).expect("valid specifier"))
    }

    fn version(text: &str) -> Version {
        Version::from_str(text).expect("valid version")
    }

    #[test]
    fn pins_admit_local_builds_as_pep_440_says() {
        assert!(range("==2.1.0").contains(&version("2.1.0+cu121")));
        assert!(!range("==2.1.0").contains(&version("2.1.0.post1")));
        assert!(range("<=2.1.0").contains(&version("2.1.0+cpu")));
        assert!(!range("!=2.1.0").contains(&version("2.1.0+cu118")));
        assert!(range("==2.1.0+cu121").contains(&version("2.1.0+cu121")));
        assert!(!range("==2.1.0+cu121").contains(&version("2.1.0+cu118")));
        assert!(!range(">2.1.0").contains(&version("2.1.0+cu118")));
        assert!(range("==2.1.*").contains(&version("2.1.3+cu121")));
    }

    #[test]
    fn shows_ranges_as_specifiers() {
        let shown = |text: &str| range(text).to_string();
        assert_eq!(shown("==1.0"), "==1.0");
        assert_eq!(shown(">=1.0,<2"), ">=1.0,<2");
        assert_eq!(shown("<=2.1.0"), "<=2.1.0");
        assert_eq!(shown(">1.0"), ">1.0");
        assert_eq!(shown("!=1.5"), "!=1.5");
        assert_eq!(shown(""), "");
        assert_eq!(
            range(">=2").intersection(&range("<1")).to_string(),
            " (no version)"
        );
        assert_eq!(range("<1").union(&range(">=2")).to_string(), "<1 | >=2");
        assert_eq!(
            shown(">=1.7.4,!=1.8,!=1.8.1,<3"),
            ">=1.7.4,!=1.8,!=1.8.1,<3"
        );
        assert_eq!(
            range("==1.0").union(&range("==2.0")).to_string(),
            "==1.0 | ==2.0"
        );
    }
}
