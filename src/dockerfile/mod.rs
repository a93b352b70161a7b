//! Dockerfiles, read exactly as BuildKit's parser reads them, with the
//! line and column of every instruction and word.
//!
//! The reading follows BuildKit's own code rule for rule: parser directives
//! and line continuations (`frontend/dockerfile/parser/parser.go`,
//! `directives.go`), the instruction's flags and arguments
//! (`split_command.go`, `line_parsers.go`), heredocs, and the word
//! processing the builder applies later (`shell/lex.go`, in [`expand`]).
//! Parsing is the first pass only: it keeps words as written (quotes
//! included) and does not know which stage an ARG is visible in; the
//! audit decides that with [`Dockerfile::stages`] and [`expand`].
//!
//! The parser is written here rather than taken from a crate: the Rust
//! Dockerfile parsers either do not read heredocs at all, read only
//! upper-case instructions, take one heredoc and only as the first word,
//! treat an escaped escape (`\\`) at the end of a line as a continuation,
//! or join continued lines with a space (BuildKit adds nothing). The
//! parser is checked against BuildKit's own (`tests/it/dockerfile.rs`, over
//! real Dockerfiles and edge cases); the word processing, which that oracle
//! does not expose, is unit-tested rule by rule against lex.go's.
//!
//! Where BuildKit has quirks, they are kept: an invalid JSON array is shell
//! form, `RUN cat<<EOF` has no heredoc, flag values are read byte by byte
//! (see [`Flag::text`]), `<<\EOF` still expands its body.

mod json;
pub mod lex;
mod line;
mod pattern;
mod scan;
mod stage;

#[cfg(test)]
mod tests_lex;
#[cfg(test)]
mod tests_parse;

use std::path::Path;

use crate::diagnostic::{Diagnostic, Location, Severity};

pub use lex::{expand, expand_words, var_refs, ExpandError, VarRef};
pub use stage::{ArgDecl, KeyValue, Stage, StageProblem};

/// The escape token when no `# escape=` directive sets another.
pub const DEFAULT_ESCAPE: char = '\\';

/// A 1-based line and 1-based character column in the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// This position in `file`, for findings and diagnostics.
    pub fn location(self, file: &Path) -> Location {
        Location {
            line: self.line,
            column: self.column,
            ..Location::file(file)
        }
    }
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The parser directives at the top, in order.
    pub directives: Vec<Directive>,
    /// The escape token: `\`, or `` ` `` from `# escape=`.
    pub escape: char,
    pub instructions: Vec<Instruction>,
    pub warnings: Vec<ParseWarning>,
}

/// A parser directive (`# syntax=`, `# escape=`, `# check=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Lower case, as BuildKit compares it.
    pub name: String,
    pub value: String,
    pub line: usize,
}

/// What BuildKit's parser warns about without failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseWarning {
    /// A blank line inside a continuation (`NoEmptyContinuation`).
    EmptyContinuationLine { line: usize },
}

/// The instructions BuildKit dispatches on, by their lower-cased name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyword {
    Add,
    Arg,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    Stopsignal,
    User,
    Volume,
    Workdir,
    /// Any other word: BuildKit's parser keeps the line and drops its
    /// arguments; the build then fails on it.
    Unknown,
}

impl Keyword {
    /// The keyword a name written in any case stands for.
    pub fn from_name(name: &str) -> Keyword {
        match go_lower(name).as_str() {
            "add" => Keyword::Add,
            "arg" => Keyword::Arg,
            "cmd" => Keyword::Cmd,
            "copy" => Keyword::Copy,
            "entrypoint" => Keyword::Entrypoint,
            "env" => Keyword::Env,
            "expose" => Keyword::Expose,
            "from" => Keyword::From,
            "healthcheck" => Keyword::Healthcheck,
            "label" => Keyword::Label,
            "maintainer" => Keyword::Maintainer,
            "onbuild" => Keyword::Onbuild,
            "run" => Keyword::Run,
            "shell" => Keyword::Shell,
            "stopsignal" => Keyword::Stopsignal,
            "user" => Keyword::User,
            "volume" => Keyword::Volume,
            "workdir" => Keyword::Workdir,
            _ => Keyword::Unknown,
        }
    }

    /// Whether BuildKit looks for heredocs in this instruction.
    pub fn takes_heredocs(self) -> bool {
        matches!(self, Keyword::Add | Keyword::Copy | Keyword::Run)
    }
}

/// Go's `strings.ToLower`: each character's simple lower-case mapping.
pub(crate) fn go_lower(text: &str) -> String {
    text.chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect()
}

/// How the arguments of RUN, CMD, ENTRYPOINT, SHELL, COPY, ADD, VOLUME and
/// HEALTHCHECK CMD were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// A JSON array of strings (the exec form).
    Exec,
    /// Anything else, including a JSON array BuildKit does not accept.
    Shell,
}

/// A word of an instruction, as BuildKit's parser hands it on (quotes and
/// escapes still in it, except for exec-form strings, which are decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    /// Byte offset of the word's first character in the logical line (the
    /// [`Instruction::original`] of the top-level instruction).
    pub offset: usize,
    pub position: Position,
}

/// A `--name=value` flag before the arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// The flag as BuildKit reads it: quotes removed, `\` escaping the next
    /// byte, and each byte taken as one character, so that a non-ASCII
    /// value reads as its UTF-8 bytes in Latin-1 (`é` becomes `Ã©`), as
    /// BuildKit then sees it.
    pub text: String,
    /// The flag as written.
    pub raw: String,
    pub offset: usize,
    pub position: Position,
}

impl Flag {
    /// The name without the dashes (`mount` for `--mount=type=cache`).
    pub fn name(&self) -> &str {
        let body = self.text.trim_start_matches('-');
        body.split_once('=').map_or(body, |(name, _)| name)
    }

    /// What follows the first `=`; `None` for a bare `--flag`.
    pub fn value(&self) -> Option<&str> {
        self.text.split_once('=').map(|(_, value)| value)
    }
}

/// A heredoc: `<<NAME`, `<<-NAME`, `<<"NAME"`, `3<<NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    pub name: String,
    /// The file descriptor written before `<<` (0 when none).
    pub fd: u64,
    /// `<<-`: leading tabs are stripped from the body (and the terminator).
    pub chomp: bool,
    /// No part of the name was quoted: the body is expanded where the
    /// builder expands it. `<<\EOF` counts as unquoted, as in BuildKit.
    pub expand: bool,
    /// The body as written, line endings included, tabs not yet stripped.
    pub content: String,
    /// The line of the body's first line.
    pub start_line: usize,
    /// The line of the terminator.
    pub end_line: usize,
}

impl Heredoc {
    /// The body as the builder uses it: with `<<-`, leading tabs removed
    /// from every line.
    pub fn body(&self) -> String {
        if !self.chomp {
            return self.content.clone();
        }
        self.content
            .split_inclusive('\n')
            .map(|line| line.trim_start_matches('\t'))
            .collect()
    }

    /// Where byte `offset` of [`Heredoc::content`] is in the file.
    pub fn position_at(&self, offset: usize) -> Position {
        let before = &self.content[..floor_boundary(&self.content, offset)];
        let line_start = before.rfind('\n').map_or(0, |at| at + 1);
        Position {
            line: self.start_line + before.matches('\n').count(),
            column: before[line_start..].chars().count() + 1,
        }
    }
}

/// One instruction, ONBUILD's trigger included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// The keyword as written (`run`, `Run`...).
    pub keyword: Word,
    pub kind: Keyword,
    pub flags: Vec<Flag>,
    /// The arguments as BuildKit's parser produces them: the exec-form
    /// strings; one word holding everything for shell-form RUN, CMD,
    /// ENTRYPOINT and SHELL; the whitespace-separated words for COPY, ADD,
    /// VOLUME, FROM and EXPOSE; the quote-aware words for ARG; keys and
    /// values in turn for ENV and LABEL; the type word then the command for
    /// HEALTHCHECK; nothing for an unknown instruction or ONBUILD (see
    /// [`Instruction::trigger`]).
    pub args: Vec<Word>,
    pub form: Form,
    /// ENV or LABEL written `KEY value` rather than `KEY=value`.
    pub legacy_key_value: bool,
    /// The instruction ONBUILD registers.
    pub trigger: Option<Box<Instruction>>,
    /// Heredocs, in the order their bodies follow the line. For ONBUILD they
    /// are here, not on the trigger, as in BuildKit.
    pub heredocs: Vec<Heredoc>,
    pub start_line: usize,
    /// The last line, heredoc bodies included.
    pub end_line: usize,
    /// The logical line: continuations joined, comment lines dropped (for a
    /// trigger, its part of the line).
    pub original: String,
    /// Where `original` starts in the logical line (0 but for a trigger).
    pub offset: usize,
    pieces: Vec<Piece>,
}

/// Where a run of the logical line came from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Piece {
    offset: usize,
    position: Position,
    text: String,
}

impl Instruction {
    /// Where byte `offset` of the logical line is in the file.
    pub fn position_at(&self, offset: usize) -> Position {
        let index = self
            .pieces
            .partition_point(|piece| piece.offset <= offset)
            .saturating_sub(1);
        let Some(piece) = self.pieces.get(index) else {
            return Position {
                line: self.start_line,
                column: 1,
            };
        };
        let within = offset.saturating_sub(piece.offset);
        let counted = &piece.text[..floor_boundary(&piece.text, within)];
        Position {
            line: piece.position.line,
            column: piece.position.column + counted.chars().count(),
        }
    }

    /// The instruction that runs: the trigger for ONBUILD, else itself.
    pub fn effective(&self) -> &Instruction {
        self.trigger.as_deref().unwrap_or(self)
    }
}

fn floor_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Why BuildKit's parser rejects a Dockerfile. The messages are BuildKit's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("invalid escape token '{value}' does not match ` or \\")]
    InvalidEscape { value: String, line: usize },
    #[error("only one {name} parser directive can be used")]
    DuplicateDirective { name: String, line: usize },
    #[error("when using JSON array syntax, arrays must be comprised of strings only")]
    NotStringArray { start_line: usize, end_line: usize },
    #[error("{keyword} must have two arguments")]
    TwoArguments {
        keyword: &'static str,
        start_line: usize,
        end_line: usize,
    },
    #[error("Syntax error - can't find = in {word:?}. Must be of the form: name=value")]
    MissingEquals {
        word: String,
        start_line: usize,
        end_line: usize,
    },
    #[error("unterminated heredoc")]
    UnterminatedHeredoc {
        name: String,
        start_line: usize,
        end_line: usize,
    },
    /// A heredoc name lex.go cannot read (`<<${A:-a b}`).
    #[error("{message}")]
    HeredocName {
        message: String,
        start_line: usize,
        end_line: usize,
    },
    /// Not BuildKit's: ONBUILD nested deeper than reqlock follows (BuildKit
    /// parses any depth, then refuses to build `ONBUILD ONBUILD`).
    #[error("ONBUILD nested more than {} levels deep", line::MAX_ONBUILD_NESTING)]
    TooDeep { start_line: usize, end_line: usize },
    #[error("dockerfile line greater than max allowed size of 65535")]
    LineTooLong { line: usize },
    #[error("file with no instructions")]
    NoInstructions,
}

impl ParseError {
    /// The first line the error concerns (0 for the whole file).
    pub fn line(&self) -> usize {
        match self {
            ParseError::InvalidEscape { line, .. }
            | ParseError::DuplicateDirective { line, .. }
            | ParseError::LineTooLong { line } => *line,
            ParseError::NotStringArray { start_line, .. }
            | ParseError::TwoArguments { start_line, .. }
            | ParseError::MissingEquals { start_line, .. }
            | ParseError::UnterminatedHeredoc { start_line, .. }
            | ParseError::HeredocName { start_line, .. }
            | ParseError::TooDeep { start_line, .. } => *start_line,
            ParseError::NoInstructions => 0,
        }
    }

    /// The error as reqlock renders input problems, at its line of `file`.
    pub fn diagnostic(&self, file: &Path, source: &str) -> Diagnostic {
        let line = self.line();
        let help = match self {
            ParseError::InvalidEscape { .. } => Some("write `# escape=\\` or `# escape=``".into()),
            ParseError::NotStringArray { .. } => {
                Some("quote every element, or write the command in shell form".into())
            }
            ParseError::UnterminatedHeredoc { name, .. } => {
                Some(format!("end the heredoc with a line holding only `{name}`"))
            }
            _ => None,
        };
        let source_line = (line > 0)
            .then(|| source.split('\n').nth(line - 1))
            .flatten()
            .map(|text| text.trim_end_matches(['\r', '\n']).to_string());
        Diagnostic {
            severity: Severity::Error,
            location: Location {
                line,
                column: usize::from(line > 0),
                ..Location::file(file)
            },
            width: source_line.as_ref().map_or(0, |text| text.chars().count()),
            source_line,
            message: self.to_string(),
            help,
        }
    }
}

/// Parse a Dockerfile as BuildKit's parser does.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    scan::parse(text)
}
