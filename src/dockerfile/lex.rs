//! BuildKit's word processing (`frontend/dockerfile/shell/lex.go`): quotes,
//! the escape token and `$` substitutions, rule for rule.
//!
//! One lexer serves three callers. [`expand`] and [`expand_words`] are what
//! the builder does to the words of ENV, COPY, FROM... (`ProcessWord` and
//! `ProcessWords`); [`var_refs`] walks a word the same way and lists the
//! variables it reads; the parser uses the raw modes (quotes and escapes
//! kept, unset variables left as written) to find heredoc words, as
//! `heredocsFromLine` does.
//!
//! lex.go reads characters through Go's `text/scanner`, which skips a
//! byte-order mark at the start of a word; that is kept too.

use std::ops::Range;

use super::pattern;

/// Why a word could not be expanded. The messages are BuildKit's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    #[error("syntax error: missing '}}'")]
    MissingBrace,
    #[error("syntax error: missing '/' in ${{}}")]
    MissingSlash,
    #[error("syntax error: bad substitution")]
    BadSubstitution,
    #[error("unsupported modifier ({0}) in substitution")]
    UnsupportedModifier(String),
    #[error("unexpected end of statement while looking for matching {0}")]
    Unterminated(&'static str),
    /// `${NAME?message}` or `${NAME:?message}` on an unset (or empty) value.
    #[error("{name}: {message}")]
    Required { name: String, message: String },
    #[error("invalid pattern ({pattern}) in substitution: {reason}")]
    InvalidPattern { pattern: String, reason: String },
    /// Not BuildKit's: substitutions nested deeper than [`MAX_NESTING`]
    /// (Go's growable stacks take any depth; no real word comes close).
    #[error("substitutions nested deeper than {MAX_NESTING} levels")]
    TooDeep,
}

/// How deep `${...}` and quotes may nest in one word.
pub const MAX_NESTING: usize = 200;

/// A variable a word reads, as lex.go looks it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRef {
    pub name: String,
    /// Byte range of the whole reference (`$NAME` or `${NAME...}`) in the word.
    pub span: Range<usize>,
    /// The operator of a `${NAME<op>word}` form: `:-`, `-`, `:+`, `+`, `?`,
    /// `:?`, `#`, `##`, `%`, `%%`, `/`, `//`; `None` for `$NAME`, `${NAME}`.
    pub modifier: Option<String>,
}

impl VarRef {
    /// Whether an unset or empty value is replaced by the reference itself
    /// (`${A:-x}`, `${A:+x}`, `${A:?x}`...), so that "empty" is handled.
    pub fn handles_empty(&self) -> bool {
        self.modifier
            .as_deref()
            .is_some_and(|m| matches!(m, ":-" | "-" | ":+" | "+" | ":?" | "?"))
    }
}

/// `ProcessWord`: the word with quotes removed, escapes applied and
/// variables substituted. `lookup` answers `None` for an unset variable.
pub fn expand(
    word: &str,
    escape: char,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, ExpandError> {
    let mut lexer = Lexer::new(word, escape, Mode::default(), &lookup);
    lexer.process().map(|(result, _)| result)
}

/// `ProcessWords`: as [`expand`], then split on unquoted white space (the
/// splitting happens after substitution, so a value with spaces splits).
pub fn expand_words(
    word: &str,
    escape: char,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Vec<String>, ExpandError> {
    let mut lexer = Lexer::new(word, escape, Mode::default(), &lookup);
    lexer.process().map(|(_, words)| words)
}

/// Every variable `word` reads, in source order, including those inside a
/// modifier's word (`${A:-$B}` reads `A` and `B`) and special parameters
/// (`$1`, `$@`). Nothing inside single quotes is a reference. A syntax
/// error ends the list; [`expand`] reports it.
pub fn var_refs(word: &str, escape: char) -> Vec<VarRef> {
    let unset = |_: &str| None;
    let mode = Mode {
        skip_unset: true,
        ..Mode::default()
    };
    let mut lexer = Lexer::new(word, escape, mode, &unset);
    let _ = lexer.process();
    let mut refs = lexer.refs;
    refs.sort_by_key(|r| r.span.start);
    refs
}

/// lex.go's switches.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Mode {
    pub raw_quotes: bool,
    pub raw_escapes: bool,
    pub skip_unset: bool,
}

/// `ProcessWords` in a given mode, for the parser's heredoc detection.
pub(crate) fn words_in_mode(
    word: &str,
    escape: char,
    mode: Mode,
) -> Result<Vec<String>, ExpandError> {
    let unset = |_: &str| None;
    let mut lexer = Lexer::new(word, escape, mode, &unset);
    lexer.process().map(|(_, words)| words)
}

/// `wordsStruct`: the words of a processed word.
#[derive(Default)]
struct Words {
    word: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, ch: char) {
        if ch.is_whitespace() {
            if self.in_word && !self.word.is_empty() {
                self.words.push(std::mem::take(&mut self.word));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(ch);
        }
    }

    fn add_raw_char(&mut self, ch: char) {
        self.word.push(ch);
        self.in_word = true;
    }

    fn add_string(&mut self, text: &str) {
        for ch in text.chars() {
            self.add_char(ch);
        }
    }

    fn add_raw_string(&mut self, text: &str) {
        self.word.push_str(text);
        self.in_word = true;
    }

    fn finish(mut self) -> Vec<String> {
        if !self.word.is_empty() {
            self.words.push(self.word);
        }
        self.words
    }
}

struct Lexer<'a> {
    chars: Vec<(usize, char)>,
    end: usize,
    pos: usize,
    escape: char,
    mode: Mode,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    refs: Vec<VarRef>,
    depth: usize,
}

type Processed = (String, Vec<String>);

impl<'a> Lexer<'a> {
    fn new(
        word: &str,
        escape: char,
        mode: Mode,
        lookup: &'a dyn Fn(&str) -> Option<String>,
    ) -> Lexer<'a> {
        let mut chars: Vec<(usize, char)> = word.char_indices().collect();
        if chars.first().is_some_and(|&(_, c)| c == '\u{feff}') {
            chars.remove(0);
        }
        Lexer {
            chars,
            end: word.len(),
            pos: 0,
            escape,
            mode,
            lookup,
            refs: Vec::new(),
            depth: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|&(_, c)| c)
    }

    fn next(&mut self) -> Option<char> {
        let ch = self.peek();
        if ch.is_some() {
            self.pos += 1;
        }
        ch
    }

    /// Byte offset of the next character (the word's length at its end).
    fn offset(&self) -> usize {
        self.chars.get(self.pos).map_or(self.end, |&(at, _)| at)
    }

    fn process(&mut self) -> Result<Processed, ExpandError> {
        let raw_escapes = self.mode.raw_escapes;
        self.process_stop_on(None, raw_escapes)
    }

    /// `processStopOn`: up to `stop` (consumed) or the end of the word.
    fn process_stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<Processed, ExpandError> {
        let saved = self.mode.raw_escapes;
        self.mode.raw_escapes = raw_escapes;
        let outcome = self.stop_on(stop);
        self.mode.raw_escapes = saved;
        outcome
    }

    fn stop_on(&mut self, stop: Option<char>) -> Result<Processed, ExpandError> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(ch) = self.peek() {
            if Some(ch) == stop {
                self.next();
                return Ok((result, words.finish()));
            }
            match ch {
                '$' => {
                    let value = self.process_dollar()?;
                    result.push_str(&value);
                    words.add_string(&value);
                }
                '\'' => {
                    let value = self.single_quote()?;
                    result.push_str(&value);
                    words.add_raw_string(&value);
                }
                '"' => {
                    let value = self.double_quote()?;
                    result.push_str(&value);
                    words.add_raw_string(&value);
                }
                _ => {
                    self.next();
                    if ch == self.escape {
                        if self.mode.raw_escapes {
                            words.add_raw_char(ch);
                            result.push(ch);
                        }
                        // The escape escapes anything, except at the end.
                        let Some(escaped) = self.next() else {
                            break;
                        };
                        words.add_raw_char(escaped);
                        result.push(escaped);
                    } else {
                        words.add_char(ch);
                        result.push(ch);
                    }
                }
            }
        }
        match stop {
            Some('}') => Err(ExpandError::Unterminated("}")),
            Some(_) => Err(ExpandError::Unterminated("/")),
            None => Ok((result, words.finish())),
        }
    }

    /// Everything up to the next `'`, as is: nothing escapes inside.
    fn single_quote(&mut self) -> Result<String, ExpandError> {
        let mut result = String::new();
        self.next();
        if self.mode.raw_quotes {
            result.push('\'');
        }
        loop {
            match self.next() {
                None => return Err(ExpandError::Unterminated("single-quote")),
                Some('\'') => {
                    if self.mode.raw_quotes {
                        result.push('\'');
                    }
                    return Ok(result);
                }
                Some(ch) => result.push(ch),
            }
        }
    }

    /// Up to the next `"`: `$` substitutes, the escape token escapes only
    /// `"`, `$` and itself and stays before anything else.
    fn double_quote(&mut self) -> Result<String, ExpandError> {
        let mut result = String::new();
        self.next();
        if self.mode.raw_quotes {
            result.push('"');
        }
        loop {
            match self.peek() {
                None => return Err(ExpandError::Unterminated("double-quote")),
                Some('"') => {
                    self.next();
                    if self.mode.raw_quotes {
                        result.push('"');
                    }
                    return Ok(result);
                }
                Some('$') => {
                    let value = self.process_dollar()?;
                    result.push_str(&value);
                }
                Some(_) => {
                    let mut ch = self.next().unwrap_or_default();
                    if ch == self.escape {
                        if self.mode.raw_escapes {
                            result.push(ch);
                        }
                        match self.peek() {
                            None => continue,
                            Some(next) if next == '"' || next == '$' || next == self.escape => {
                                ch = self.next().unwrap_or_default();
                            }
                            Some(_) => {}
                        }
                    }
                    result.push(ch);
                }
            }
        }
    }

    fn get_env(&mut self, name: &str, start: usize, modifier: Option<&str>) -> Option<String> {
        self.refs.push(VarRef {
            name: name.to_string(),
            span: start..self.offset(),
            modifier: modifier.map(str::to_string),
        });
        (self.lookup)(name)
    }

    /// `processDollar`: `$NAME`, `${NAME}` and the `${NAME<op>word}` forms.
    fn process_dollar(&mut self) -> Result<String, ExpandError> {
        if self.depth >= MAX_NESTING {
            return Err(ExpandError::TooDeep);
        }
        self.depth += 1;
        let outcome = self.dollar();
        self.depth -= 1;
        outcome
    }

    fn dollar(&mut self) -> Result<String, ExpandError> {
        let start = self.offset();
        self.next();
        if self.peek() != Some('{') {
            let name = self.process_name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(match self.get_env(&name, start, None) {
                Some(value) => value,
                None if self.mode.skip_unset => format!("${name}"),
                None => String::new(),
            });
        }
        self.next();
        match self.peek() {
            None => return Err(ExpandError::MissingBrace),
            Some('{' | '}' | ':') => return Err(ExpandError::BadSubstitution),
            Some(_) => {}
        }
        let name = self.process_name();
        let first = self.next();
        let mut op = first.map_or_else(|| '\u{fffd}'.to_string(), String::from);
        match first {
            Some('}') => Ok(match self.get_env(&name, start, None) {
                Some(value) => value,
                None if self.mode.skip_unset => format!("${{{name}}}"),
                None => String::new(),
            }),
            Some(':' | '+' | '-' | '?' | '#' | '%') => {
                let mut null_is_unset = false;
                let mut ch = first;
                if first == Some(':') {
                    null_is_unset = true;
                    ch = self.next();
                    op.push(ch.unwrap_or('\u{fffd}'));
                }
                self.modified(name, start, op, ch, null_is_unset)
            }
            Some('/') => self.replace(name, start),
            _ => Err(ExpandError::UnsupportedModifier(op)),
        }
    }

    /// `${NAME<op>word}` for every operator but `/`. After `:` lex.go falls
    /// through whatever the next character is, so `${A:}x}` reads `x` as
    /// the word and then rejects the modifier `:}`.
    fn modified(
        &mut self,
        name: String,
        start: usize,
        op: String,
        ch: Option<char>,
        null_is_unset: bool,
    ) -> Result<String, ExpandError> {
        let trims = matches!(ch, Some('#' | '%'));
        let (mut word, _) = match self.process_stop_on(Some('}'), trims) {
            Ok(processed) => processed,
            Err(_) if self.peek().is_none() => return Err(ExpandError::MissingBrace),
            Err(err) => return Err(err),
        };
        // `%`/`#` remove the shortest match, `%%`/`##` the longest.
        let greedy = trims && ch.is_some_and(|c| word.starts_with(c));
        let shown = if greedy {
            format!("{op}{}", ch.unwrap_or_default())
        } else {
            op.clone()
        };
        let found = self.get_env(&name, start, Some(&shown));
        if found.is_none() && self.mode.skip_unset {
            return Ok(format!("${{{name}{op}{word}}}"));
        }
        let set = found.is_some();
        let value = found.unwrap_or_default();
        let empty = !set || (null_is_unset && value.is_empty());
        match ch {
            Some('-') => Ok(if empty { word } else { value }),
            Some('+') => Ok(if empty { String::new() } else { word }),
            Some('?') => {
                let default = if !set {
                    "is not allowed to be unset"
                } else if empty {
                    "is not allowed to be empty"
                } else {
                    return Ok(value);
                };
                let message = if word.is_empty() {
                    default.to_string()
                } else {
                    word
                };
                Err(ExpandError::Required { name, message })
            }
            Some('%') | Some('#') => {
                if greedy {
                    word.remove(0);
                }
                if ch == Some('%') {
                    pattern::trim_suffix(&word, &value, greedy)
                } else {
                    pattern::trim_prefix(&word, &value, greedy)
                }
            }
            _ => Err(ExpandError::UnsupportedModifier(op)),
        }
    }

    /// `${NAME/pattern/replacement}` and `${NAME//pattern/replacement}`.
    fn replace(&mut self, name: String, start: usize) -> Result<String, ExpandError> {
        let all = self.peek() == Some('/');
        if all {
            self.next();
        }
        let (pattern, _) = match self.process_stop_on(Some('/'), true) {
            Ok(processed) => processed,
            Err(_) if self.peek().is_none() => return Err(ExpandError::MissingSlash),
            Err(err) => return Err(err),
        };
        let (replacement, _) = match self.process_stop_on(Some('}'), true) {
            Ok(processed) => processed,
            Err(_) if self.peek().is_none() => return Err(ExpandError::MissingBrace),
            Err(err) => return Err(err),
        };
        let op = if all { "//" } else { "/" };
        let value = match self.get_env(&name, start, Some(op)) {
            Some(value) => value,
            // lex.go rebuilds the reference with one `/` whatever was written.
            None if self.mode.skip_unset => {
                return Ok(format!("${{{name}/{pattern}/{replacement}}}"))
            }
            None => String::new(),
        };
        pattern::replace(&value, &pattern, &replacement, all)
    }

    /// `processName`: digits, one special parameter, or letters, digits
    /// and `_` (Unicode letters and decimal digits, as Go's `unicode`).
    fn process_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && is_digit(ch) {
                while let Some(digit) = self.peek().filter(|&c| is_digit(c)) {
                    self.next();
                    name.push(digit);
                }
                return name;
            }
            if name.is_empty() && matches!(ch, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.next();
                return ch.to_string();
            }
            if !is_letter(ch) && !is_digit(ch) && ch != '_' {
                break;
            }
            self.next();
            name.push(ch);
        }
        name
    }
}

/// Go's `unicode.IsLetter`: general category L.
pub(crate) fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    pattern::unicode_class(c, pattern::Class::Letter)
}

/// Go's `unicode.IsDigit`: general category Nd.
pub(crate) fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    pattern::unicode_class(c, pattern::Class::Digit)
}
