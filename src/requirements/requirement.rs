//! The requirement half of a line, interpreted the way pip's
//! `parse_req_from_line` and `parse_editable` interpret it: PEP 508
//! specifiers, direct references, bare URLs and paths (with `#egg=`), wheel
//! file names and editables.

use std::ops::Range;
use std::path::Path;
use std::str::FromStr;

use pep508_rs::pep440_rs::{Operator, VersionSpecifiers};
use pep508_rs::{ExtraName, MarkerTree, VerbatimUrl, VersionOrUrl};

use super::guard::{
    nesting_error, reject_bad_identifiers, reject_unusual_spaces, too_deeply_nested,
};
use super::Requirement;
use crate::diagnostic::Location;

/// An invalid requirement string, with the byte range it concerns within it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementError {
    pub message: String,
    pub span: Range<usize>,
    pub help: Option<String>,
}

const VCS_NAMES: &[&str] = &["git", "hg", "svn", "bzr"];

const VCS_SCHEMES: &[&str] = &[
    "git",
    "git+http",
    "git+https",
    "git+ssh",
    "git+git",
    "git+file",
    "hg+file",
    "hg+http",
    "hg+https",
    "hg+ssh",
    "hg+static-http",
    "svn",
    "svn+ssh",
    "svn+http",
    "svn+https",
    "svn+svn",
    "svn+file",
    "bzr+http",
    "bzr+https",
    "bzr+ssh",
    "bzr+sftp",
    "bzr+ftp",
    "bzr+lp",
    "bzr+file",
];

const ARCHIVE_EXTENSIONS: &[&str] = &[
    ".zip",
    ".whl",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
    ".tar.gz",
    ".tgz",
    ".tar",
];

/// The URL scheme of `text` in lower case, if it has one.
pub fn url_scheme(text: &str) -> Option<String> {
    let (scheme, _) = text.split_once(':')?;
    Some(scheme.to_ascii_lowercase())
}

/// pip's `is_url`: a scheme pip knows how to fetch from.
pub fn is_url(text: &str) -> bool {
    url_scheme(text).is_some_and(|scheme| {
        matches!(scheme.as_str(), "http" | "https" | "file" | "ftp")
            || VCS_SCHEMES.contains(&scheme.as_str())
    })
}

/// Whether a URL is a version-control URL (`git+https://...`).
pub fn is_vcs_url(text: &str) -> bool {
    url_scheme(text).is_some_and(|scheme| VCS_SCHEMES.contains(&scheme.as_str()))
}

fn looks_like_path(text: &str) -> bool {
    text.contains('/') || text.starts_with('.') || (cfg!(windows) && text.contains('\\'))
}

fn is_archive(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ARCHIVE_EXTENSIONS.iter().any(|ext| lower.ends_with(ext))
}

/// The value of a URL's `#egg=` (or `&egg=`) fragment parameter.
fn egg_fragment(url: &str) -> Option<&str> {
    let (_, fragment) = url.split_once('#')?;
    let start = fragment
        .match_indices("egg=")
        .find(|(index, _)| *index == 0 || fragment.as_bytes()[index - 1] == b'&')?
        .0;
    let value = &fragment[start + 4..];
    let value = value.split('&').next().unwrap_or("");
    (!value.is_empty()).then_some(value)
}

/// Split `path[extra1,extra2]` like pip's `_strip_extras`.
fn strip_extras(text: &str) -> (&str, Option<&str>) {
    if text.ends_with(']') {
        if let Some(open) = text.rfind('[') {
            let inner = &text[open + 1..text.len() - 1];
            if open > 0 && !inner.is_empty() && !inner.contains(']') {
                return (&text[..open], Some(&text[open..]));
            }
        }
    }
    (text, None)
}

/// Decode `%XX` escapes, as pip does for a link's file name.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok());
        match (
            bytes[index],
            hex.and_then(|pair| u8::from_str_radix(pair, 16).ok()),
        ) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `name-version` from a wheel file name, as pip's `Wheel` reads it.
fn wheel_name_version(url: &str) -> Option<(String, String)> {
    let path = url.split(['#', '?']).next().unwrap_or(url);
    let file = percent_decode(path.rsplit('/').next()?);
    let stem = file
        .strip_suffix(".whl")
        .or_else(|| file.strip_suffix(".WHL"))?;
    let parts: Vec<&str> = stem.split('-').collect();
    if !(5..=6).contains(&parts.len()) || parts.iter().any(|part| part.is_empty()) {
        return None;
    }
    Some((parts[0].replace('_', "-"), parts[1].replace('_', "-")))
}

/// Interpret a requirement string. `working_dir` is where pip resolves
/// relative paths: the directory pip is run from.
pub fn parse_requirement(
    text: &str,
    working_dir: &Path,
    origin: Location,
) -> Result<Requirement, RequirementError> {
    let marker_separator = if is_url(text) { "; " } else { ";" };
    let (requirement, marker_text, marker_offset) = match text.find(marker_separator) {
        Some(index) => (
            &text[..index],
            Some(&text[index + marker_separator.len()..]),
            index + marker_separator.len(),
        ),
        None => (text, None, text.len()),
    };
    let mut marker = None;
    let mut parsed_marker = MarkerTree::TRUE;
    if let Some(raw) = marker_text {
        let trimmed = raw.trim();
        if !trimmed.is_empty() {
            let leading = raw.len() - raw.trim_start().len();
            // Real markers are ASCII; pep508_rs 0.9.2 can panic on others.
            if let Some((position, c)) = trimmed.char_indices().find(|(_, c)| !c.is_ascii()) {
                let end = position + c.len_utf8();
                return Err(RequirementError {
                    message: "invalid marker: reqlock accepts only ASCII characters in markers"
                        .into(),
                    span: marker_offset + leading + position..marker_offset + leading + end,
                    help: None,
                });
            }
            if let Some(at) = too_deeply_nested(trimmed) {
                return Err(nesting_error(marker_offset + leading, at));
            }
            parsed_marker = MarkerTree::from_str(trimmed).map_err(|err| RequirementError {
                message: format!("invalid marker: {}", err.message),
                span: shift(marker_offset + leading, err.start, err.len, trimmed),
                help: None,
            })?;
            marker = Some(trimmed.to_string());
        }
    }
    let leading = requirement.len() - requirement.trim_start().len();
    let requirement = requirement.trim();

    let mut url = None;
    // pip strips a trailing `[...]` from anything that is not a URL, and those
    // extras replace the requirement's own (even for `name @ url#egg=x[y]`).
    let mut path_extras = None;
    let name_source: Option<String> = if is_url(requirement) {
        url = Some(requirement.to_string());
        named_from_link(requirement)
    } else {
        let (path, extras) = strip_extras(requirement);
        path_extras = extras;
        match local_path_link(requirement, path, working_dir)? {
            Some(link) => {
                url = Some(link.to_string());
                named_from_link(link)
            }
            None => Some(requirement.to_string()),
        }
    };

    let mut spec = Requirement {
        marker,
        parsed_marker,
        url: url.clone(),
        ..Requirement::at(origin)
    };
    if let Some(extras) = path_extras {
        spec.extras = parse_extras(extras).map_err(|message| RequirementError {
            message,
            span: leading..leading + requirement.len(),
            help: None,
        })?;
    }
    if let Some(source) = name_source {
        let from_text = url.is_none();
        let parsed = pep508(&source).map_err(|mut err| {
            if from_text {
                err.span = err.span.start + leading..err.span.end + leading;
            } else {
                err.span = leading..leading + requirement.len();
            }
            err
        })?;
        spec.display_name = Some(parsed.display_name);
        spec.name = Some(parsed.requirement.name);
        if path_extras.is_none() {
            spec.extras = parsed.requirement.extras;
        }
        match parsed.requirement.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(specifiers)) => {
                spec.arbitrary_equality = arbitrary_equality(&source, &specifiers);
                spec.specifier = specifiers;
            }
            Some(VersionOrUrl::Url(direct)) => {
                spec.url = Some(direct.given().unwrap_or(direct.as_str()).to_string())
            }
            None => {}
        }
    }
    Ok(spec)
}

/// The link pip would derive from a local path requirement, or `None` when
/// pip would read the text as a requirement specifier instead.
fn local_path_link<'a>(
    requirement: &'a str,
    path: &'a str,
    working_dir: &Path,
) -> Result<Option<&'a str>, RequirementError> {
    // `name @ scheme://...` cannot name a local file or directory; skipping
    // the file-system checks for it keeps large files fast.
    if requirement.contains("://") {
        return Ok(None);
    }
    let resolved = working_dir.join(path);
    if looks_like_path(requirement) && resolved.is_dir() {
        if resolved.join("setup.py").is_file() || resolved.join("pyproject.toml").is_file() {
            return Ok(Some(path));
        }
        return Err(RequirementError {
            message: format!(
                "directory '{requirement}' is not installable: neither 'setup.py' nor 'pyproject.toml' found"
            ),
            span: 0..requirement.len(),
            help: None,
        });
    }
    if !is_archive(path) {
        return Ok(None);
    }
    if resolved.is_file() {
        return Ok(Some(path));
    }
    if let Some((before_at, _)) = requirement.split_once('@') {
        if !looks_like_path(before_at) {
            return Ok(None);
        }
    }
    Ok(Some(path))
}

/// The version text of each `===` clause of `text`, as written, when
/// there are as many as `specifiers` holds (which normalized them). The
/// text runs as packaging's does: from after `===` and any spaces up to a
/// space, `;`, `)` or `,`.
fn arbitrary_equality(text: &str, specifiers: &VersionSpecifiers) -> Vec<String> {
    let wanted = specifiers
        .iter()
        .filter(|specifier| *specifier.operator() == Operator::ExactEqual)
        .count();
    if wanted == 0 {
        return Vec::new();
    }
    let found: Vec<String> = text
        .match_indices("===")
        .map(|(at, _)| {
            text[at + 3..]
                .trim_start()
                .split(|c: char| c.is_whitespace() || matches!(c, ';' | ')' | ','))
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    if found.len() == wanted {
        found
    } else {
        Vec::new()
    }
}

/// For a URL or path: the requirement string pip derives from it (a wheel's
/// `name==version`, or the `#egg=` fragment), if any.
fn named_from_link(link: &str) -> Option<String> {
    if let Some((name, version)) = wheel_name_version(link) {
        return Some(format!("{name}=={version}"));
    }
    egg_fragment(link).map(str::to_string)
}

fn parse_extras(extras: &str) -> Result<Vec<ExtraName>, String> {
    let parsed = pep508(&format!("placeholder{}", extras.to_ascii_lowercase()))
        .map_err(|err| format!("invalid extras {extras}: {}", err.message))?;
    Ok(parsed.requirement.extras)
}

struct Pep508 {
    requirement: pep508_rs::Requirement,
    display_name: String,
}

fn pep508(text: &str) -> Result<Pep508, RequirementError> {
    reject_bad_identifiers(text)?;
    reject_unusual_spaces(text)?;
    if let Some(at) = too_deeply_nested(text) {
        return Err(nesting_error(0, at));
    }
    match pep508_rs::Requirement::<VerbatimUrl>::from_str(text) {
        Ok(requirement) => {
            let trimmed = text.trim_start();
            let name_len = trimmed
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
                .unwrap_or(trimmed.len());
            let display_name = trimmed[..name_len].to_string();
            Ok(Pep508 {
                requirement,
                display_name,
            })
        }
        Err(err) => {
            let message = err.message.to_string();
            let help = if text.contains('=')
                && !["==", "!=", "<=", ">=", "~=", "==="]
                    .iter()
                    .any(|op| text.contains(op))
                && !text.contains('<')
                && !text.contains('>')
            {
                Some("`=` is not a valid operator; did you mean `==`?".to_string())
            } else if text.contains('/') {
                Some(
                    "it looks like a path: a file or directory of that name does not exist"
                        .to_string(),
                )
            } else {
                None
            };
            Err(RequirementError {
                message: format!("invalid requirement: {message}"),
                span: shift(0, err.start, err.len, &err.input),
                help,
            })
        }
    }
}

/// A pep508 error's span (byte offsets into its input) as a range that
/// starts and ends on character boundaries.
fn shift(base: usize, start: usize, len: usize, input: &str) -> Range<usize> {
    let start = input.floor_char_boundary(start);
    let end = input.ceil_char_boundary(start + len.max(1)).max(start);
    base + start..base + end
}

/// Interpret the value of `-e`/`--editable` the way pip's `parse_editable`
/// does: a local directory, or a VCS URL with an `#egg=` name.
pub fn parse_editable(
    text: &str,
    working_dir: &Path,
    origin: Location,
) -> Result<Requirement, RequirementError> {
    let (without_extras, extras) = strip_extras(text);
    let whole = 0..text.len();
    let mut spec = Requirement {
        editable: true,
        ..Requirement::at(origin)
    };
    let is_local_dir = working_dir.join(without_extras).is_dir();
    if is_local_dir || without_extras.to_ascii_lowercase().starts_with("file:") {
        spec.url = Some(without_extras.to_string());
        if let Some(extras) = extras {
            spec.extras = parse_extras(extras).map_err(|message| RequirementError {
                message,
                span: whole.clone(),
                help: None,
            })?;
        }
        if let Some(name) = egg_fragment(without_extras) {
            set_editable_name(&mut spec, name, &whole)?;
        }
        return Ok(spec);
    }
    let mut url = text.to_string();
    for vcs in VCS_NAMES {
        if text.to_ascii_lowercase().starts_with(&format!("{vcs}:")) {
            url = format!("{vcs}+{text}");
            break;
        }
    }
    if !is_vcs_url(&url) {
        return Err(RequirementError {
            message: format!("{text} is not a valid editable requirement"),
            span: whole,
            help: Some("an editable must be a path to a local project or a VCS URL such as `git+https://...#egg=name`".into()),
        });
    }
    let Some(name) = egg_fragment(&url).map(str::to_string) else {
        return Err(RequirementError {
            message: format!("could not detect the requirement name for '{text}'"),
            span: whole,
            help: Some("name it with an egg fragment: `#egg=your_package_name`".into()),
        });
    };
    spec.url = Some(url);
    set_editable_name(&mut spec, &name, &whole)?;
    Ok(spec)
}

fn set_editable_name(
    spec: &mut Requirement,
    name: &str,
    whole: &Range<usize>,
) -> Result<(), RequirementError> {
    let parsed = pep508(name).map_err(|err| RequirementError {
        message: format!("invalid requirement name in egg fragment: '{name}'"),
        span: whole.clone(),
        help: err.help,
    })?;
    spec.display_name = Some(parsed.display_name);
    spec.name = Some(parsed.requirement.name);
    if let Some(VersionOrUrl::VersionSpecifier(specifiers)) = parsed.requirement.version_or_url {
        spec.arbitrary_equality = arbitrary_equality(name, &specifiers);
        spec.specifier = specifiers;
    }
    spec.extras.extend(parsed.requirement.extras);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here() -> Location {
        Location::file(Path::new("requirements.txt"))
    }

    fn parse(text: &str) -> Requirement {
        let origin = Location::file(Path::new("requirements.txt"));
        parse_requirement(text, Path::new("/nonexistent-dir"), origin).unwrap()
    }

    #[test]
    fn specifiers_extras_and_markers() {
        let spec = parse("Foo_Bar[Extra] >=1.0,<2 ; python_version < '3.12'");
        assert_eq!(spec.name.unwrap().as_ref(), "foo-bar");
        assert_eq!(spec.display_name.as_deref(), Some("Foo_Bar"));
        assert_eq!(spec.specifier.to_string(), ">=1.0, <2");
        assert_eq!(spec.extras[0].as_ref(), "extra");
        assert_eq!(spec.marker.as_deref(), Some("python_version < '3.12'"));
    }

    #[test]
    fn local_labels_are_kept() {
        assert_eq!(
            parse("torch==2.1.0+cu121").specifier.to_string(),
            "==2.1.0+cu121"
        );
    }

    #[test]
    fn bare_urls_take_the_egg_name_or_wheel_name() {
        let spec = parse("git+https://example.invalid/x.git@v1#egg=thing");
        assert_eq!(spec.name.unwrap().as_ref(), "thing");
        let spec = parse("https://example.invalid/a/Some_Pkg-1.2.0-py3-none-any.whl");
        assert_eq!(spec.name.unwrap().as_ref(), "some-pkg");
        assert_eq!(spec.specifier.to_string(), "==1.2.0");
        let spec = parse("https://example.invalid/torch-1.7.0%2Bcpu-cp37-cp37m-linux_x86_64.whl");
        assert_eq!(spec.specifier.to_string(), "==1.7.0+cpu");
        let spec = parse("https://example.invalid/src.tar.gz");
        assert!(spec.name.is_none());
    }

    #[test]
    fn direct_references_need_a_scheme() {
        let spec = parse("pkg @ https://example.invalid/pkg.tar.gz ; sys_platform == 'linux'");
        assert_eq!(
            spec.url.as_deref(),
            Some("https://example.invalid/pkg.tar.gz")
        );
        assert!(spec.marker.is_some());
        assert!(parse_requirement("pkg @ ./local", Path::new("/"), here()).is_err());
    }

    #[test]
    fn single_equals_gets_a_hint() {
        let err = parse_requirement("foo=1.0", Path::new("/"), here()).unwrap_err();
        assert!(err.help.unwrap().contains("did you mean `==`"));
    }

    #[test]
    fn arbitrary_equality_keeps_its_text_and_compares_it() {
        let version = |text: &str| pep508_rs::pep440_rs::Version::from_str(text).unwrap();
        let spec = parse("foo===1.0-2");
        assert_eq!(spec.arbitrary_equality, ["1.0-2"]);
        assert_eq!(spec.specifier_text(), "===1.0-2");
        assert!(
            !spec.admits(&version("1.0.post2")),
            "pip: text, not version"
        );
        assert!(
            !spec.admits(&version("1.0-2")),
            "a version reads as 1.0.post2"
        );
        let spec = parse("foo (=== 1.0.POST2 , <2) ; python_version > '3'");
        assert_eq!(spec.arbitrary_equality, ["1.0.POST2"]);
        assert_eq!(spec.specifier_text(), "===1.0.POST2, <2");
        assert!(spec.admits(&version("1.0.post2")), "case does not count");
        let spec = parse("foo===1.0");
        assert!(spec.admits(&version("1.0")));
        assert!(
            !spec.admits(&version("1.0.0")),
            "`1.0.0` is not the text `1.0`"
        );
        let spec = parse("foo==1.0.0,!=1.0.1");
        assert!(spec.arbitrary_equality.is_empty());
        assert_eq!(spec.specifier_text(), spec.specifier.to_string());
        assert!(spec.admits(&version("1.0")));
    }

    #[test]
    fn editables_need_a_vcs_url_with_a_name_or_a_directory() {
        let spec = parse_editable(
            "git+https://example.invalid/r.git#egg=r",
            Path::new("/"),
            here(),
        )
        .unwrap();
        assert_eq!(spec.name.unwrap().as_ref(), "r");
        assert!(
            parse_editable("git+https://example.invalid/r.git", Path::new("/"), here()).is_err()
        );
        assert!(parse_editable("nowhere-dir", Path::new("/nonexistent-dir"), here()).is_err());
        let spec = parse_editable(".[dev]", Path::new("/"), here()).unwrap();
        assert!(spec.name.is_none());
        assert_eq!(spec.extras[0].as_ref(), "dev");
    }
}
