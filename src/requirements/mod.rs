//! pip's requirements-file format, parsed exactly as pip 23 parses it, with
//! the origin of every requirement kept for diagnostics.
//!
//! The pipeline mirrors pip's: decode the file ([`source`]), build logical
//! lines (continuations, comments, `${VAR}`), split each line into the
//! requirement words and the option words (split on single spaces up to the
//! first word that starts with `-`), parse the options with pip's `optparse`
//! rules ([`options`]) and the requirement with pip's rules
//! ([`requirement`], after the checks of [`guard`]: what pep508_rs would
//! accept that pip rejects, or overflow on), and follow `-r`/`-c` relative
//! to the including file, at most [`MAX_INCLUDE_DEPTH`] files deep.
//!
//! Unlike pip, parsing does not stop at the first problem: every invalid line
//! is reported, and pip's silent behaviours (an option ignored because of
//! where it stands, a word dropped by optparse) become warnings.

pub mod guard;
pub mod options;
pub mod requirement;
pub mod source;

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use pep508_rs::pep440_rs::{Operator, Version, VersionSpecifiers};
use pep508_rs::{ExtraName, MarkerTree, PackageName};

use crate::diagnostic::{Diagnostic, Location, Severity};
use options::{OptionKind, ParsedOption};
use source::{DecodeError, LogicalLine, SourceText};

/// One requirement (or constraint) as pip would collect it.
#[derive(Debug, Clone)]
pub struct Requirement {
    pub name: Option<PackageName>,
    pub display_name: Option<String>,
    /// The specifiers, with versions normalized: match through
    /// [`Requirement::admits`] and show through
    /// [`Requirement::specifier_text`], which keep `===` as written.
    pub specifier: VersionSpecifiers,
    /// The version text of each `===` clause of `specifier`, in order, as
    /// written: PEP 440's arbitrary equality compares text, not versions.
    pub arbitrary_equality: Vec<String>,
    pub extras: Vec<ExtraName>,
    pub marker: Option<String>,
    pub parsed_marker: MarkerTree,
    pub url: Option<String>,
    pub editable: bool,
    /// From a `-c` file: limits versions, installs nothing.
    pub constraint: bool,
    /// `algorithm:digest`, in the order given.
    pub hashes: Vec<String>,
    pub config_settings: Vec<String>,
    pub global_options: Vec<String>,
    /// Where the requirement was written.
    pub origin: Location,
    /// Rule ids named in a `# reqlock: ignore[...]` comment on the line.
    pub ignored_rules: Vec<String>,
}

impl Requirement {
    /// A requirement at `origin` that says nothing yet: what the parser
    /// fills in.
    fn at(origin: Location) -> Requirement {
        Requirement {
            name: None,
            display_name: None,
            specifier: VersionSpecifiers::empty(),
            arbitrary_equality: Vec::new(),
            extras: Vec::new(),
            marker: None,
            parsed_marker: MarkerTree::TRUE,
            url: None,
            editable: false,
            constraint: false,
            hashes: Vec::new(),
            config_settings: Vec::new(),
            global_options: Vec::new(),
            origin,
            ignored_rules: Vec::new(),
        }
    }

    /// Whether `version` satisfies every specifier of the line. `===`
    /// compares its text as written with the version's normalized text,
    /// ignoring case, as pip does (`===1.0-2` admits no release, not
    /// `1.0.post2`); every other operator compares versions.
    pub fn admits(&self, version: &Version) -> bool {
        let mut arbitrary = self.arbitrary_equality.iter();
        let mut shown = None;
        self.specifier.iter().all(|specifier| {
            if *specifier.operator() != Operator::ExactEqual {
                return specifier.contains(version);
            }
            let text = shown.get_or_insert_with(|| version.to_string());
            match arbitrary.next() {
                Some(written) => text.eq_ignore_ascii_case(written),
                None => specifier.contains(version),
            }
        })
    }

    /// The specifiers to show: normalized, but `===` as written.
    pub fn specifier_text(&self) -> String {
        if self.arbitrary_equality.is_empty() {
            return self.specifier.to_string();
        }
        let mut arbitrary = self.arbitrary_equality.iter();
        self.specifier
            .iter()
            .map(|specifier| {
                if *specifier.operator() == Operator::ExactEqual {
                    if let Some(written) = arbitrary.next() {
                        return format!("==={written}");
                    }
                }
                specifier.to_string()
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The name to show: as written, else normalized, else the URL.
    pub fn label(&self) -> String {
        self.display_name
            .clone()
            .or_else(|| self.name.as_ref().map(ToString::to_string))
            .or_else(|| self.url.clone())
            .unwrap_or_default()
    }
}

/// Options that apply to the whole install, after every file was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallOptions {
    /// `None` means pip's configured default index.
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub find_links: Vec<String>,
    pub no_index: bool,
    pub pre: bool,
    pub prefer_binary: bool,
    pub require_hashes: bool,
    pub only_binary: BTreeSet<String>,
    pub no_binary: BTreeSet<String>,
    pub trusted_hosts: Vec<String>,
    pub features: Vec<String>,
}

/// Everything read from a set of requirements files.
#[derive(Debug, Clone, Default)]
pub struct RequirementSet {
    pub requirements: Vec<Requirement>,
    pub options: InstallOptions,
    /// Every file read, in the order it was first read.
    pub files: Vec<PathBuf>,
    /// Things pip would silently ignore.
    pub warnings: Vec<Diagnostic>,
}

/// The files could not be read as pip would read them.
#[derive(Debug, thiserror::Error)]
#[error("{} problem(s) in the requirements files", .diagnostics.iter().filter(|d| d.severity == Severity::Error).count())]
pub struct ParseError {
    /// Errors, and the warnings found along the way.
    pub diagnostics: Vec<Diagnostic>,
}

/// The most files a `-r`/`-c` chain may nest, the file named on the command
/// line included. Real projects nest a handful; pip itself reads deeper
/// chains, but each level costs a stack frame here, and a chain of
/// thousands (a generated or hostile set of files) would overflow the
/// stack instead of being reported.
pub const MAX_INCLUDE_DEPTH: usize = 100;

/// Answers `${NAME}` lookups in requirements files.
pub type VariableLookup = Box<dyn Fn(&str) -> Option<String>>;

/// How to parse: where relative requirement paths resolve (pip resolves them
/// against its working directory) and how `${VAR}` is looked up.
pub struct ParseSettings {
    pub working_dir: PathBuf,
    pub lookup_var: VariableLookup,
}

impl ParseSettings {
    /// The current directory and the process environment, as pip would use.
    pub fn from_environment() -> ParseSettings {
        ParseSettings {
            working_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            lookup_var: Box::new(|name| std::env::var(name).ok()),
        }
    }
}

/// Parse requirements files (each as if given with `-r`) and their includes.
pub fn parse_files(
    paths: &[PathBuf],
    settings: &ParseSettings,
) -> Result<RequirementSet, ParseError> {
    let mut parser = Parser::new(settings);
    for path in paths {
        parser.parse_file(path, false, None);
    }
    parser.finish()
}

/// Parse text as one requirements file named `name` (includes are read from
/// disk relative to it).
pub fn parse_text(
    name: &Path,
    text: &str,
    settings: &ParseSettings,
) -> Result<RequirementSet, ParseError> {
    let mut parser = Parser::new(settings);
    parser.set.files.push(name.to_path_buf());
    parser.parse_source(name, &SourceText::from_text(text.to_string()), false);
    parser.finish()
}

struct Parser<'a> {
    settings: &'a ParseSettings,
    set: RequirementSet,
    errors: Vec<Diagnostic>,
    /// Canonical paths of the files being read, outermost first.
    chain: Vec<(PathBuf, PathBuf)>,
}

/// A diagnostic's position inside one logical line.
struct LineContext<'a> {
    file: &'a Arc<Path>,
    source: &'a SourceText,
    line: &'a LogicalLine,
}

impl LineContext<'_> {
    fn location(&self, span: Range<usize>) -> Pointer {
        let content = &self.line.content;
        let start = content.text.floor_char_boundary(span.start);
        let end = content.text.ceil_char_boundary(span.end.max(start));
        let offset = content.origin(start);
        let (line, column) = self.source.line_col(offset);
        let source_line = self.source.line_text(offset).to_string();
        let available = source_line.chars().count().saturating_sub(column - 1);
        let width = content.text[start..end]
            .chars()
            .count()
            .min(available)
            .max(1);
        Pointer {
            location: Location {
                file: Arc::clone(self.file),
                line,
                column,
            },
            source_line: Some(source_line),
            width,
        }
    }

    fn diagnostic(
        &self,
        severity: Severity,
        span: Range<usize>,
        message: String,
        help: Option<String>,
    ) -> Diagnostic {
        self.location(span).diagnostic(severity, message, help)
    }

    fn origin(&self, span_start: usize) -> Location {
        let (line, column) = self.source.line_col(self.line.content.origin(span_start));
        Location {
            file: Arc::clone(self.file),
            line: self.line.line,
            column: if line == self.line.line { column } else { 1 },
        }
    }
}

/// A place to point a diagnostic at, with the source line to show.
#[derive(Clone)]
struct Pointer {
    location: Location,
    source_line: Option<String>,
    width: usize,
}

impl Pointer {
    fn file(file: &Path) -> Pointer {
        Pointer {
            location: Location::file(file),
            source_line: None,
            width: 0,
        }
    }

    fn diagnostic(self, severity: Severity, message: String, help: Option<String>) -> Diagnostic {
        Diagnostic {
            severity,
            location: self.location,
            source_line: self.source_line,
            width: self.width,
            message,
            help,
        }
    }
}

impl<'a> Parser<'a> {
    fn new(settings: &'a ParseSettings) -> Parser<'a> {
        Parser {
            settings,
            set: RequirementSet::default(),
            errors: Vec::new(),
            chain: Vec::new(),
        }
    }

    fn finish(self) -> Result<RequirementSet, ParseError> {
        if self.errors.is_empty() {
            Ok(self.set)
        } else {
            let mut diagnostics = self.errors;
            diagnostics.extend(self.set.warnings);
            Err(ParseError { diagnostics })
        }
    }

    fn parse_file(&mut self, path: &Path, constraint: bool, included_at: Option<Pointer>) {
        let at = included_at.unwrap_or_else(|| Pointer::file(path));
        let error = |message: String, help: Option<String>| {
            at.clone().diagnostic(Severity::Error, message, help)
        };
        let is_remote = requirement::url_scheme(&path.to_string_lossy())
            .is_some_and(|scheme| matches!(scheme.as_str(), "http" | "https" | "file"));
        if is_remote {
            self.errors.push(error(
                format!("cannot read remote requirements file `{}`", path.display()),
                Some("download it and pass the local copy".into()),
            ));
            return;
        }
        if self.chain.len() >= MAX_INCLUDE_DEPTH {
            self.errors.push(error(
                format!(
                    "`-r`/`-c` includes nest more than {MAX_INCLUDE_DEPTH} files deep: `{}` is not read",
                    path.display(),
                ),
                Some("flatten the includes: list the requirements of the deepest files in a file higher up".into()),
            ));
            return;
        }
        let canonical = match std::fs::canonicalize(path) {
            Ok(canonical) => canonical,
            Err(err) => {
                self.errors.push(error(
                    format!(
                        "could not open requirements file `{}`: {}",
                        path.display(),
                        io_reason(&err)
                    ),
                    Some("check the path; includes are relative to the including file".into()),
                ));
                return;
            }
        };
        if let Some(position) = self.chain.iter().position(|(seen, _)| *seen == canonical) {
            let cycle: Vec<String> = self.chain[position..]
                .iter()
                .map(|(_, shown)| shown.display().to_string())
                .chain(std::iter::once(path.display().to_string()))
                .collect();
            self.errors.push(error(
                format!("include cycle: {}", cycle.join(" -> ")),
                Some("remove one of the `-r`/`-c` lines that form the cycle".into()),
            ));
            return;
        }
        let bytes = match std::fs::read(&canonical) {
            Ok(bytes) => bytes,
            Err(err) => {
                self.errors.push(error(
                    format!(
                        "could not read requirements file `{}`: {}",
                        path.display(),
                        io_reason(&err)
                    ),
                    None,
                ));
                return;
            }
        };
        let source = match SourceText::decode(&bytes) {
            Ok(source) => source,
            Err(err) => {
                self.errors.push(decode_error(path, &bytes, err));
                return;
            }
        };
        if !self.set.files.iter().any(|seen| seen == path) {
            self.set.files.push(path.to_path_buf());
        }
        self.chain.push((canonical, path.to_path_buf()));
        self.parse_source(path, &source, constraint);
        self.chain.pop();
    }

    fn parse_source(&mut self, path: &Path, source: &SourceText, constraint: bool) {
        let file: Arc<Path> = Arc::from(path);
        let file = &file;
        let (lines, too_long) = source::logical_lines(source, &*self.settings.lookup_var);
        for long in too_long {
            let (line, column) = source.line_col(long.offset);
            self.errors.push(Diagnostic::at(
                Severity::Error,
                Location {
                    file: Arc::clone(file),
                    line,
                    column,
                },
                format!(
                    "line is {} bytes long; the limit is {} MiB",
                    long.length,
                    source::MAX_LOGICAL_LINE_BYTES >> 20
                ),
                Some("this does not look like a requirements file".into()),
            ));
        }
        for line in &lines {
            let context = LineContext { file, source, line };
            self.parse_line(&context, constraint);
        }
    }

    fn parse_line(&mut self, context: &LineContext, constraint: bool) {
        let text = &context.line.content.text;
        let (args, option_range) = options::split_args_and_options(text);
        let parsed = options::shlex_split(&text[option_range.clone()], option_range.start)
            .and_then(options::parse_options);
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(err) => {
                self.errors
                    .push(context.diagnostic(Severity::Error, err.span, err.message, None));
                return;
            }
        };
        for word in &parsed.ignored {
            self.warn(
                context,
                word.span.clone(),
                format!("pip ignores `{}` here", word.text),
            );
        }
        let ignored_rules = context
            .line
            .comment
            .as_deref()
            .map(suppressed_rules)
            .unwrap_or_default();
        let editables: Vec<&ParsedOption> = parsed
            .options
            .iter()
            .filter(|o| o.kind == OptionKind::Editable)
            .collect();

        if !args.is_empty() || !editables.is_empty() {
            let start = if args.is_empty() {
                editables[0].span.start
            } else {
                args.start
            };
            let origin = context.origin(start);
            let spec = if !args.is_empty() {
                for option in &editables {
                    self.warn(
                        context,
                        option.span.clone(),
                        "pip ignores `-e` on a line that already has a requirement".into(),
                    );
                }
                requirement::parse_requirement(
                    &text[args.clone()],
                    &self.settings.working_dir,
                    origin,
                )
                .map_err(|err| {
                    (
                        err.span.start + args.start..err.span.end + args.start,
                        err.message,
                        err.help,
                    )
                })
            } else {
                let first = editables[0];
                for extra in &editables[1..] {
                    self.warn(
                        context,
                        extra.span.clone(),
                        "pip reads only the first `-e` of a line".into(),
                    );
                }
                let value = first.value.as_deref().unwrap_or_default();
                requirement::parse_editable(value, &self.settings.working_dir, origin)
                    .map_err(|err| (first.span.clone(), err.message, err.help))
            };
            let spec = match spec {
                Ok(spec) => spec,
                Err((span, message, help)) => {
                    self.errors
                        .push(context.diagnostic(Severity::Error, span, message, help));
                    return;
                }
            };
            let mut requirement = spec;
            requirement.constraint = constraint;
            requirement.ignored_rules = ignored_rules;
            for option in &parsed.options {
                let value = option.value.clone().unwrap_or_default();
                match option.kind {
                    OptionKind::Editable => {}
                    kind if !kind.is_per_requirement() => self.warn(
                        context,
                        option.span.clone(),
                        format!(
                            "pip ignores `{}` on a requirement line; put it on a line of its own",
                            option.name
                        ),
                    ),
                    _ if requirement.editable => self.warn(
                        context,
                        option.span.clone(),
                        format!("pip ignores `{}` on an editable requirement", option.name),
                    ),
                    OptionKind::Hash => requirement.hashes.push(value),
                    OptionKind::ConfigSettings => requirement.config_settings.push(value),
                    _ => requirement.global_options.push(value),
                }
            }
            self.set.requirements.push(requirement);
            return;
        }

        let include = parsed
            .options
            .iter()
            .find(|o| o.kind == OptionKind::Requirement)
            .or_else(|| {
                parsed
                    .options
                    .iter()
                    .find(|o| o.kind == OptionKind::Constraint)
            });
        if let Some(include) = include {
            for option in parsed.options.iter().filter(|o| !std::ptr::eq(*o, include)) {
                self.warn(
                    context,
                    option.span.clone(),
                    format!(
                        "pip ignores `{}` on a line that includes another file",
                        option.name
                    ),
                );
            }
            let target = include.value.as_deref().unwrap_or_default();
            let nested = join_relative(context.file, target);
            let location = context.location(include.span.clone());
            self.parse_file(
                &nested,
                include.kind == OptionKind::Constraint,
                Some(location),
            );
            return;
        }
        let mut first_find_links = true;
        for option in &parsed.options {
            let value = option.value.clone().unwrap_or_default();
            let install = &mut self.set.options;
            match option.kind {
                OptionKind::IndexUrl if !install.no_index => {
                    install.index_url = Some(value);
                    install.extra_index_urls.clear();
                }
                OptionKind::ExtraIndexUrl if !install.no_index => {
                    if !install.extra_index_urls.contains(&value) {
                        install.extra_index_urls.push(value);
                    }
                }
                OptionKind::IndexUrl | OptionKind::ExtraIndexUrl => self.warn(
                    context,
                    option.span.clone(),
                    format!("pip ignores `{}` after `--no-index`", option.name),
                ),
                OptionKind::NoIndex => {
                    install.no_index = true;
                    install.index_url = None;
                    install.extra_index_urls.clear();
                }
                OptionKind::FindLinks if first_find_links => {
                    first_find_links = false;
                    let relative = context.file.parent().unwrap_or(Path::new("")).join(&value);
                    let link = if relative.exists() {
                        relative.display().to_string()
                    } else {
                        value
                    };
                    install.find_links.push(link);
                }
                OptionKind::FindLinks => self.warn(
                    context,
                    option.span.clone(),
                    "pip reads only the first `-f` of a line".into(),
                ),
                OptionKind::NoBinary => {
                    mutually_exclude(&value, &mut install.no_binary, &mut install.only_binary)
                }
                OptionKind::OnlyBinary => {
                    mutually_exclude(&value, &mut install.only_binary, &mut install.no_binary)
                }
                OptionKind::PreferBinary => install.prefer_binary = true,
                OptionKind::RequireHashes => install.require_hashes = true,
                OptionKind::Pre => install.pre = true,
                OptionKind::TrustedHost => install.trusted_hosts.push(value),
                OptionKind::UseFeature => {
                    if !install.features.contains(&value) {
                        install.features.push(value);
                    }
                }
                OptionKind::Hash | OptionKind::ConfigSettings | OptionKind::GlobalOption => self
                    .warn(
                        context,
                        option.span.clone(),
                        format!(
                            "`{}` on a line with no requirement is ignored by pip",
                            option.name
                        ),
                    ),
                OptionKind::Requirement | OptionKind::Constraint | OptionKind::Editable => {}
            }
        }
    }

    fn warn(&mut self, context: &LineContext, span: Range<usize>, message: String) {
        self.set
            .warnings
            .push(context.diagnostic(Severity::Warning, span, message, None));
    }
}

/// pip's `FormatControl.handle_mutual_excludes` for `--no-binary` and
/// `--only-binary`: names are canonicalized, `:all:` and `:none:` reset.
fn mutually_exclude(value: &str, target: &mut BTreeSet<String>, other: &mut BTreeSet<String>) {
    let mut names: Vec<&str> = value.split(',').collect();
    while let Some(position) = names.iter().position(|name| *name == ":all:") {
        other.clear();
        target.clear();
        target.insert(":all:".to_string());
        names.drain(..=position);
        if !names.contains(&":none:") {
            return;
        }
    }
    for name in names {
        if name == ":none:" {
            target.clear();
            continue;
        }
        let canonical = canonical_name(name);
        other.remove(&canonical);
        target.insert(canonical);
    }
}

/// PEP 503 normalization of any string (pip's `canonicalize_name`).
pub fn canonical_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            in_separator = true;
        } else {
            if in_separator {
                out.push('-');
                in_separator = false;
            }
            out.extend(c.to_lowercase());
        }
    }
    if in_separator {
        out.push('-');
    }
    out
}

/// Rule ids from a `reqlock: ignore[rule-a, rule-b]` directive in a comment.
fn suppressed_rules(comment: &str) -> Vec<String> {
    let Some(start) = comment.find("reqlock:") else {
        return Vec::new();
    };
    let rest = comment[start + "reqlock:".len()..].trim_start();
    let Some(list) = rest
        .strip_prefix("ignore[")
        .and_then(|rest| rest.split(']').next())
    else {
        return Vec::new();
    };
    list.split(',')
        .map(str::trim)
        .filter(|rule| !rule.is_empty())
        .map(str::to_string)
        .collect()
}

/// `os.path.join(os.path.dirname(including), target)`, with `.` parts removed.
fn join_relative(including: &Path, target: &str) -> PathBuf {
    let joined = including.parent().unwrap_or(Path::new("")).join(target);
    joined
        .components()
        .filter(|component| !matches!(component, Component::CurDir))
        .collect()
}

fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => err.to_string(),
    }
}

fn decode_error(path: &Path, bytes: &[u8], err: DecodeError) -> Diagnostic {
    let (offset, message, help) = match err {
        DecodeError::Binary { offset } => (
            offset,
            "this is a binary file, not a requirements file".to_string(),
            "pass a text requirements file".to_string(),
        ),
        DecodeError::NotUtf8 { offset } => (
            offset,
            "the file is not valid UTF-8".to_string(),
            "save it as UTF-8, or declare its encoding with `# -*- coding: latin-1 -*-` on the first line".to_string(),
        ),
        DecodeError::UnsupportedEncoding(encoding) => (
            0,
            format!("unsupported encoding `{encoding}` declared"),
            "save the file as UTF-8".to_string(),
        ),
    };
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    Diagnostic::at(
        Severity::Error,
        Location {
            file: Arc::from(path),
            line,
            column,
        },
        message,
        Some(help),
    )
}
