//! Core metadata (`METADATA` in a wheel, `PKG-INFO` in an sdist): the
//! email-header format of the core metadata specification, read far enough
//! to resolve dependencies.

use std::borrow::Cow;
use std::str::FromStr;

use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName, Requirement};

/// The fields of a distribution's core metadata that resolution needs.
#[derive(Debug, Clone, PartialEq)]
pub struct DistMetadata {
    pub name: PackageName,
    pub version: Version,
    /// `Requires-Dist`, markers (including `extra == "x"`) kept.
    pub requires_dist: Vec<Requirement>,
    pub requires_python: Option<VersionSpecifiers>,
    pub provides_extra: Vec<ExtraName>,
    /// `Metadata-Version` as written, e.g. `2.1`.
    pub metadata_version: Option<String>,
    /// Fields listed in `Dynamic` (PEP 643), lower-cased.
    pub dynamic: Vec<String>,
}

/// Core metadata that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("core metadata has no `{0}` field")]
    MissingField(&'static str),
    #[error("line {line}: `{field}: {value}` is invalid: {reason}")]
    InvalidField {
        line: usize,
        field: &'static str,
        value: String,
        reason: String,
    },
}

impl DistMetadata {
    /// Parse `METADATA` or `PKG-INFO` text. Parsing stops at the first blank
    /// line: what follows is the long description.
    pub fn parse(text: &str) -> Result<DistMetadata, MetadataError> {
        let mut name = None;
        let mut version = None;
        let mut requires_dist = Vec::new();
        let mut requires_python = None;
        let mut provides_extra = Vec::new();
        let mut metadata_version = None;
        let mut dynamic = Vec::new();
        for (line, field, value) in header_fields(text) {
            let invalid = |field: &'static str, reason: String| MetadataError::InvalidField {
                line,
                field,
                value: value.to_string(),
                reason,
            };
            match field.to_ascii_lowercase().as_str() {
                "name" => {
                    name = Some(
                        PackageName::from_str(&value)
                            .map_err(|err| invalid("Name", err.to_string()))?,
                    );
                }
                "version" => {
                    version = Some(
                        Version::from_str(&value)
                            .map_err(|err| invalid("Version", err.to_string()))?,
                    );
                }
                "requires-dist" => {
                    // Deep nesting would overflow pep508_rs's stack.
                    if crate::requirements::guard::too_deeply_nested(&value).is_some() {
                        return Err(invalid(
                            "Requires-Dist",
                            format!(
                                "its marker nests more than {} parentheses deep",
                                crate::requirements::guard::MAX_MARKER_NESTING
                            ),
                        ));
                    }
                    requires_dist.push(
                        Requirement::from_str(&value)
                            .map_err(|err| invalid("Requires-Dist", err.message.to_string()))?,
                    )
                }
                "requires-python" => {
                    requires_python = Some(
                        VersionSpecifiers::from_str(&value)
                            .map_err(|err| invalid("Requires-Python", err.to_string()))?,
                    );
                }
                "provides-extra" => provides_extra.push(
                    ExtraName::from_str(&value)
                        .map_err(|err| invalid("Provides-Extra", err.to_string()))?,
                ),
                "metadata-version" => metadata_version = Some(value.into_owned()),
                "dynamic" => dynamic.push(value.to_ascii_lowercase()),
                _ => {}
            }
        }
        Ok(DistMetadata {
            name: name.ok_or(MetadataError::MissingField("Name"))?,
            version: version.ok_or(MetadataError::MissingField("Version"))?,
            requires_dist,
            requires_python,
            provides_extra,
            metadata_version,
            dynamic,
        })
    }

    /// Whether the fields resolution reads can be trusted without building:
    /// always for a wheel's `METADATA`; for an sdist's `PKG-INFO` only from
    /// Metadata-Version 2.2 on (PEP 643), and only when none of
    /// `Requires-Dist`, `Requires-Python` and `Provides-Extra` is declared
    /// dynamic, because older `PKG-INFO` files may omit what `setup.py`
    /// computes when it runs.
    pub fn dependencies_are_static(&self) -> bool {
        let declares_static = self
            .metadata_version
            .as_deref()
            .and_then(crate::compat::dotted_numbers)
            .is_some_and(|numbers| numbers >= vec![2, 2]);
        declares_static
            && !self.dynamic.iter().any(|field| {
                matches!(
                    field.as_str(),
                    "requires-dist" | "requires-python" | "provides-extra"
                )
            })
    }
}

/// The header block of a metadata text: what resolution reads, without the
/// description after the first empty line, which is often most of it.
pub fn header_block(text: &str) -> String {
    let end = text
        .find("\n\n")
        .map(|at| at + 1)
        .or_else(|| text.find("\r\n\r\n").map(|at| at + 2));
    text[..end.unwrap_or(text.len())].to_string()
}

/// The metadata names another release than the file it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("its metadata is for {found}, not {expected}")]
pub struct Inconsistent {
    pub expected: String,
    pub found: String,
}

/// Check that a metadata text is for `name` `version` (as pip does before
/// it uses one: "inconsistent Name"/"inconsistent Version"): names compare
/// normalized, versions as PEP 440 versions. A text without either field
/// is for nothing, so inconsistent too.
pub fn check_identity(text: &str, name: &str, version: &Version) -> Result<(), Inconsistent> {
    // Name and Version open the headers in practice: read lines only
    // until both are seen (neither is ever continued over lines).
    let mut found_name: Option<&str> = None;
    let mut found_version: Option<&str> = None;
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() || (found_name.is_some() && found_version.is_some()) {
            break;
        }
        let Some((field, value)) = line.split_once(':') else {
            continue;
        };
        if field.eq_ignore_ascii_case("name") {
            found_name.get_or_insert(value);
        } else if field.eq_ignore_ascii_case("version") {
            found_version.get_or_insert(value);
        }
    }
    let same_name = found_name.is_some_and(|found| {
        crate::requirements::canonical_name(found.trim())
            == crate::requirements::canonical_name(name)
    });
    let same_version = found_version
        .and_then(|found| Version::from_str(found.trim()).ok())
        .is_some_and(|found| found == *version);
    if same_name && same_version {
        Ok(())
    } else {
        Err(Inconsistent {
            expected: format!("{name} {version}"),
            found: format!(
                "{} {}",
                found_name.unwrap_or("(no Name)").trim(),
                found_version.unwrap_or("(no Version)").trim()
            ),
        })
    }
}

/// The raw `Requires-Dist` values of a metadata text, unparsed: a reader
/// that needs a few of them need not parse them all.
pub fn raw_requires_dist(text: &str) -> Vec<String> {
    header_fields(text)
        .into_iter()
        .filter(|(_, field, _)| field.eq_ignore_ascii_case("requires-dist"))
        .map(|(_, _, value)| value.into_owned())
        .collect()
}

/// `(line number, field name, value)` for each header field, continuation
/// lines folded into the value. Borrowed where nothing is folded: most
/// fields (classifiers above all) are never looked at.
fn header_fields(text: &str) -> Vec<(usize, &str, Cow<'_, str>)> {
    let mut fields: Vec<(usize, &str, Cow<'_, str>)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        // Only an empty line ends the headers: a line of spaces continues
        // the field above (a long `License:` text has them).
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, _, value)) = fields.last_mut() {
                let value = value.to_mut();
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((field, value)) = line.split_once(':') {
            fields.push((index + 1, field.trim(), Cow::Borrowed(value.trim())));
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_of_spaces_continues_a_field_and_does_not_end_the_headers() {
        let text = "Metadata-Version: 2.1\nName: matplotlib\nVersion: 3.11.2\nLicense: first line\n         \n         second paragraph\nRequires-Dist: cycler>=0.10\n\nDescription\nRequires-Dist: not-a-header\n";
        let metadata = DistMetadata::parse(text).unwrap();
        let names: Vec<String> = metadata
            .requires_dist
            .iter()
            .map(|r| r.name.to_string())
            .collect();
        assert_eq!(names, ["cycler"]);
    }

    #[test]
    fn a_requires_dist_nested_past_the_bound_is_invalid_not_a_stack_overflow() {
        let marker = format!("{}extra == 'x'{}", "(".repeat(20_000), ")".repeat(20_000));
        let text = format!("Name: a\nVersion: 1.0\nRequires-Dist: b ; {marker}\n");
        let err = DistMetadata::parse(&text).unwrap_err();
        assert!(
            matches!(
                err,
                MetadataError::InvalidField {
                    field: "Requires-Dist",
                    ..
                }
            ),
            "{err}"
        );
    }

    const WHEEL_METADATA: &str = "Metadata-Version: 2.1\r
Name: requests\r
Version: 2.31.0\r
Summary: Python HTTP for Humans.\r
Requires-Python: >=3.7\r
License: Apache 2.0\r
Classifier: Programming Language :: Python :: 3\r
Requires-Dist: charset-normalizer (<4,>=2)\r
Requires-Dist: idna (<4,>=2.5)\r
Requires-Dist: urllib3 (<3,>=1.21.1)\r
Requires-Dist: certifi (>=2017.4.17)\r
Provides-Extra: security\r
Provides-Extra: socks\r
Requires-Dist: PySocks (!=1.5.7,>=1.5.6) ; extra == 'socks'\r
Provides-Extra: use_chardet_on_py3\r
Requires-Dist: chardet (<6,>=3.0.2) ; extra == 'use_chardet_on_py3'\r
\r
# Requests\r
Requires-Dist: not-a-header-this-is-the-description\r
";

    #[test]
    fn reads_a_wheel_metadata_file() {
        let metadata = DistMetadata::parse(WHEEL_METADATA).expect("valid metadata");
        assert_eq!(metadata.name.as_ref(), "requests");
        assert_eq!(metadata.version.to_string(), "2.31.0");
        assert_eq!(
            metadata.requires_python.map(|spec| spec.to_string()),
            Some(">=3.7".to_string())
        );
        let names: Vec<String> = metadata
            .requires_dist
            .iter()
            .map(|requirement| requirement.name.to_string())
            .collect();
        assert_eq!(
            names,
            [
                "charset-normalizer",
                "idna",
                "urllib3",
                "certifi",
                "pysocks",
                "chardet"
            ]
        );
        let extras: Vec<String> = metadata
            .provides_extra
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(extras, ["security", "socks", "use-chardet-on-py3"]);
        assert_eq!(
            metadata.requires_dist[4].marker.try_to_string().as_deref(),
            Some("extra == 'socks'")
        );
    }

    #[test]
    fn folds_continuation_lines() {
        let text = "Metadata-Version: 2.3\nName: demo\nVersion: 1.0\nRequires-Dist: numpy>=1.24;\n  python_version >= \"3.9\"\nLicense: line one\n\tline two\n";
        let metadata = DistMetadata::parse(text).expect("valid metadata");
        assert_eq!(metadata.requires_dist.len(), 1);
        assert_eq!(
            metadata.requires_dist[0].marker.try_to_string().as_deref(),
            Some("python_full_version >= '3.9'")
        );
    }

    #[test]
    fn pkg_info_dependencies_are_static_only_from_metadata_2_2_without_dynamic() {
        let old = DistMetadata::parse("Metadata-Version: 2.1\nName: a\nVersion: 1\n")
            .expect("valid metadata");
        assert!(!old.dependencies_are_static());
        let new =
            DistMetadata::parse("Metadata-Version: 2.2\nName: a\nVersion: 1\nDynamic: Summary\n")
                .expect("valid metadata");
        assert!(new.dependencies_are_static());
        let dynamic = DistMetadata::parse(
            "Metadata-Version: 2.4\nName: a\nVersion: 1\nDynamic: Requires-Dist\n",
        )
        .expect("valid metadata");
        assert!(!dynamic.dependencies_are_static());
        assert_eq!(dynamic.dynamic, ["requires-dist"]);
        for field in ["Requires-Python", "provides-extra"] {
            let text = format!("Metadata-Version: 2.2\nName: a\nVersion: 1\nDynamic: {field}\n");
            let parsed = DistMetadata::parse(&text).expect("valid metadata");
            assert!(!parsed.dependencies_are_static(), "{field}");
        }
        let missing_version = DistMetadata::parse("Name: a\nVersion: 1\n").expect("valid metadata");
        assert!(!missing_version.dependencies_are_static());
    }

    #[test]
    fn the_header_block_ends_at_the_first_empty_line() {
        assert_eq!(
            header_block("Name: a\nVersion: 1\n\nbody\n"),
            "Name: a\nVersion: 1\n"
        );
        assert_eq!(header_block("Name: a\r\n\r\nbody\r\n"), "Name: a\r\n");
        assert_eq!(header_block("Name: a\n"), "Name: a\n");
    }

    #[test]
    fn reports_missing_and_invalid_fields() {
        assert_eq!(
            DistMetadata::parse("Metadata-Version: 2.1\nVersion: 1.0\n"),
            Err(MetadataError::MissingField("Name"))
        );
        let err = DistMetadata::parse("Name: a\nVersion: 1.0\nRequires-Dist: b >= \n")
            .expect_err("invalid requirement");
        assert!(
            matches!(
                err,
                MetadataError::InvalidField {
                    line: 3,
                    field: "Requires-Dist",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
