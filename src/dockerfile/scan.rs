//! The reading loop of BuildKit's `Parse`: physical lines, parser
//! directives, continuations into logical lines, then each line's
//! instruction and the heredoc bodies that follow it.

use super::lex::{words_in_mode, Mode};
use super::line::{parse_instruction, LineError};
use super::{
    Directive, Dockerfile, Heredoc, Instruction, Keyword, ParseError, ParseWarning, Piece,
    Position, DEFAULT_ESCAPE,
};

/// Go's `bufio.MaxScanTokenSize`: a line and its newline must fit.
const MAX_LINE: usize = 64 * 1024;

/// A physical line: its number, where it starts, its text with its `\n`.
#[derive(Clone, Copy)]
struct Physical<'a> {
    number: usize,
    start: usize,
    raw: &'a str,
}

struct Lines<'a> {
    text: &'a str,
    pos: usize,
    number: usize,
}

impl<'a> Lines<'a> {
    fn next(&mut self) -> Result<Option<Physical<'a>>, ParseError> {
        if self.pos >= self.text.len() {
            return Ok(None);
        }
        let rest = &self.text[self.pos..];
        let len = rest.find('\n').map_or(rest.len(), |at| at + 1);
        self.number += 1;
        if len + usize::from(!rest[..len].ends_with('\n')) > MAX_LINE {
            return Err(ParseError::LineTooLong { line: self.number });
        }
        let line = Physical {
            number: self.number,
            start: self.pos,
            raw: &rest[..len],
        };
        self.pos += len;
        Ok(Some(line))
    }
}

fn trim_newline(raw: &str) -> &str {
    raw.trim_end_matches(['\r', '\n'])
}

fn is_comment(text: &str) -> bool {
    text.trim_start().starts_with('#')
}

/// BuildKit's `DirectiveParser` and escape token.
struct Directives {
    done: bool,
    list: Vec<Directive>,
    escape: char,
}

/// RE2's `\s`.
fn is_re_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{c}' | '\r' | ' ')
}

impl Directives {
    /// Look at a first line (left-trimmed) while directives may still come.
    fn check(&mut self, token: &str, line: usize) -> Result<(), ParseError> {
        if self.done {
            return Ok(());
        }
        let Some((key, value)) = token
            .strip_prefix('#')
            .and_then(|body| directive(body.trim_start()))
        else {
            self.done = true;
            return Ok(());
        };
        let name = key.to_ascii_lowercase();
        if !matches!(name.as_str(), "syntax" | "escape" | "check") {
            self.done = true;
            return Ok(());
        }
        if self.list.iter().any(|d| d.name == name) {
            return Err(ParseError::DuplicateDirective { name, line });
        }
        if name == "escape" {
            self.escape = match value {
                "\\" => '\\',
                "`" => '`',
                _ => {
                    return Err(ParseError::InvalidEscape {
                        value: value.to_string(),
                        line,
                    })
                }
            };
        }
        self.list.push(Directive {
            name,
            value: value.to_string(),
            line,
        });
        Ok(())
    }
}

/// `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` on a comment's text.
fn directive(body: &str) -> Option<(&str, &str)> {
    let key_len = body
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(body.len(), |(i, _)| i);
    if key_len == 0 {
        return None;
    }
    let after = body[key_len..]
        .trim_start_matches(is_re_space)
        .strip_prefix('=')?;
    let trimmed = after.trim_matches(is_re_space);
    if !trimmed.is_empty() {
        return Some((&body[..key_len], trimmed));
    }
    // Only white space: the lazy group still takes its last character.
    let last = after.chars().last()?;
    Some((&body[..key_len], &after[after.len() - last.len_utf8()..]))
}

/// Whether `line` ends with a continuation: the escape token, then only
/// spaces and tabs, and not itself escaped. Returns the line without it.
fn continuation(line: &str, escape: char) -> Option<&str> {
    let before = line.trim_end_matches([' ', '\t']).strip_suffix(escape)?;
    (!before.ends_with(escape)).then_some(before)
}

/// A logical line being joined, and where each run of it came from.
#[derive(Default)]
struct Logical {
    text: String,
    pieces: Vec<Piece>,
}

impl Logical {
    fn push(&mut self, physical: Physical<'_>, start: usize, text: &str) {
        let column = physical.raw[..start - physical.start].chars().count() + 1;
        self.pieces.push(Piece {
            offset: self.text.len(),
            position: Position {
                line: physical.number,
                column,
            },
            text: text.to_string(),
        });
        self.text.push_str(text);
    }
}

pub(super) fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = Lines {
        text,
        pos: 0,
        number: 0,
    };
    let mut directives = Directives {
        done: false,
        list: Vec::new(),
        escape: DEFAULT_ESCAPE,
    };
    let mut instructions = Vec::new();
    let mut warnings = Vec::new();
    while let Some(first) = lines.next()? {
        let content = trim_newline(first.raw);
        let token = content.trim_start();
        directives.check(token, first.number)?;
        let escape = directives.escape;
        let token = if is_comment(token) { "" } else { token };
        let token_start = first.start + (content.len() - content.trim_start().len());
        let (part, mut continues) = match continuation(token, escape) {
            Some(part) => (part, true),
            None => (token, false),
        };
        if !continues && part.is_empty() {
            continue;
        }
        let mut logical = Logical::default();
        logical.push(first, token_start, part);
        while continues {
            let Some(next) = lines.next()? else {
                break;
            };
            if is_comment(next.raw) {
                continue;
            }
            let content = trim_newline(next.raw);
            if content.trim_start().is_empty() {
                warnings.push(ParseWarning::EmptyContinuationLine { line: next.number });
                continue;
            }
            let part = match continuation(content, escape) {
                Some(part) => part,
                None => {
                    continues = false;
                    content
                }
            };
            logical.push(next, next.start, part);
        }
        let start_line = first.number;
        let end_line = lines.number;
        let mut instruction = parse_instruction(&logical.text, 0, escape)
            .map_err(|err| line_error(err, start_line, end_line))?;
        let effective = instruction.effective();
        if effective.kind.takes_heredocs()
            && effective.form == super::Form::Shell
            && (instruction.kind != Keyword::Onbuild || instruction.trigger.is_some())
            && logical.text.contains("<<")
        {
            for spec in heredocs_from_line(&logical.text, start_line, end_line)? {
                instruction
                    .heredocs
                    .push(read_body(&mut lines, spec, start_line)?);
            }
        }
        place(&mut instruction, &logical.pieces, start_line, lines.number);
        instructions.push(instruction);
    }
    if instructions.is_empty() {
        return Err(ParseError::NoInstructions);
    }
    Ok(Dockerfile {
        directives: directives.list,
        escape: directives.escape,
        instructions,
        warnings,
    })
}

fn line_error(err: LineError, start_line: usize, end_line: usize) -> ParseError {
    match err {
        LineError::NotStringArray => ParseError::NotStringArray {
            start_line,
            end_line,
        },
        LineError::TwoArguments(keyword) => ParseError::TwoArguments {
            keyword,
            start_line,
            end_line,
        },
        LineError::MissingEquals(word) => ParseError::MissingEquals {
            word,
            start_line,
            end_line,
        },
        LineError::TooDeep => ParseError::TooDeep {
            start_line,
            end_line,
        },
    }
}

/// Lines and positions, for the instruction and its trigger.
fn place(instruction: &mut Instruction, pieces: &[Piece], start_line: usize, end_line: usize) {
    instruction.pieces = pieces.to_vec();
    instruction.start_line = start_line;
    instruction.end_line = end_line;
    instruction.keyword.position = instruction.position_at(instruction.keyword.offset);
    for i in 0..instruction.flags.len() {
        instruction.flags[i].position = instruction.position_at(instruction.flags[i].offset);
    }
    for i in 0..instruction.args.len() {
        instruction.args[i].position = instruction.position_at(instruction.args[i].offset);
    }
    if let Some(trigger) = instruction.trigger.as_mut() {
        place(trigger, pieces, start_line, end_line);
    }
}

/// A heredoc named on a line, before its body is read.
struct Spec {
    name: String,
    fd: u64,
    chomp: bool,
    expand: bool,
}

/// `heredocsFromLine`: the line's words lexed with `\` whatever the escape
/// directive (quotes and escapes kept, unset variables as written); a
/// lexing error means no heredocs. Each word matching
/// `^(\d*)<<(-?)\s*([^<]*)$` names one.
fn heredocs_from_line(
    line: &str,
    start_line: usize,
    end_line: usize,
) -> Result<Vec<Spec>, ParseError> {
    let raw = Mode {
        raw_quotes: true,
        raw_escapes: true,
        skip_unset: true,
    };
    let words = words_in_mode(line, '\\', raw).unwrap_or_default();
    let mut specs = Vec::new();
    for word in words {
        let digits = word.bytes().take_while(u8::is_ascii_digit).count();
        let Some(after) = word[digits..].strip_prefix("<<") else {
            continue;
        };
        let (chomp, after) = match after.strip_prefix('-') {
            Some(after) => (true, after),
            None => (false, after),
        };
        let rest = after.trim_start_matches(is_re_space);
        if rest.is_empty() || rest.contains('<') {
            continue;
        }
        let invalid = |message: String| ParseError::HeredocName {
            message,
            start_line,
            end_line,
        };
        let plain = Mode {
            skip_unset: true,
            ..Mode::default()
        };
        let names = words_in_mode(rest, '\\', plain).map_err(|e| invalid(e.to_string()))?;
        let [name] = names.as_slice() else {
            continue;
        };
        let quoted = Mode {
            raw_quotes: true,
            ..plain
        };
        let raw_names = words_in_mode(rest, '\\', quoted).map_err(|e| invalid(e.to_string()))?;
        let [raw_name] = raw_names.as_slice() else {
            return Err(invalid(format!(
                "internal lexing of heredoc produced inconsistent results: {rest}"
            )));
        };
        let quotes = |text: &str| text.matches(['\'', '"']).count();
        specs.push(Spec {
            name: name.clone(),
            // Go's ParseUint: 0 when empty, the maximum on overflow.
            fd: if digits == 0 {
                0
            } else {
                word[..digits].parse().unwrap_or(u64::MAX)
            },
            chomp,
            expand: quotes(name) == quotes(raw_name),
        });
    }
    Ok(specs)
}

/// A heredoc's body: every line up to one equal to the name (after tabs,
/// with `<<-`).
fn read_body(lines: &mut Lines<'_>, spec: Spec, start_line: usize) -> Result<Heredoc, ParseError> {
    let mut content = String::new();
    let first = lines.number + 1;
    loop {
        let Some(line) = lines.next()? else {
            return Err(ParseError::UnterminatedHeredoc {
                name: spec.name,
                start_line,
                end_line: lines.number,
            });
        };
        let mut candidate = trim_newline(line.raw);
        if spec.chomp {
            candidate = candidate.trim_start_matches('\t');
        }
        if candidate == spec.name {
            return Ok(Heredoc {
                name: spec.name,
                fd: spec.fd,
                chomp: spec.chomp,
                expand: spec.expand,
                content,
                start_line: first,
                end_line: line.number,
            });
        }
        content.push_str(line.raw);
    }
}
