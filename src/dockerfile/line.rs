//! One logical line into an instruction: BuildKit's `splitCommand`,
//! `extractBuilderFlags` and the per-instruction line parsers of
//! `line_parsers.go`. Offsets are byte offsets into the logical line.
//!
//! `extractBuilderFlags` and HEALTHCHECK's type split walk the line byte by
//! byte and treat each byte as a character (`rune(line[pos])`), so a
//! non-ASCII flag value comes out as its bytes read as Latin-1 and the bytes
//! 0x85 and 0xA0 count as white space. That is what BuildKit sees, so it is
//! what this parser keeps.

use super::json::{parse_array, JsonArray};
use super::{Flag, Form, Instruction, Keyword, Word};

/// A line BuildKit's parser rejects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LineError {
    NotStringArray,
    TwoArguments(&'static str),
    MissingEquals(String),
    TooDeep,
}

/// How deep ONBUILD may nest in the parser. BuildKit's parser takes any
/// depth and its next layer rejects `ONBUILD ONBUILD` outright.
pub(crate) const MAX_ONBUILD_NESTING: usize = 8;

/// Go's `unicode.IsSpace` on one byte taken as a character.
fn byte_is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0x85 | 0xa0)
}

/// `[\t\v\f\r ]`, BuildKit's `reWhitespace`.
fn is_token_space(c: char) -> bool {
    matches!(c, '\t' | '\u{b}' | '\u{c}' | '\r' | ' ')
}

fn word(text: impl Into<String>, offset: usize) -> Word {
    Word {
        text: text.into(),
        offset,
        position: Default::default(),
    }
}

/// A byte range of `line` as text, lossily when Go would have cut a
/// character in two.
fn lossy(line: &str, start: usize, end: usize) -> String {
    String::from_utf8_lossy(&line.as_bytes()[start..end]).into_owned()
}

/// `newNodeFromLine`: `text` as one instruction; `base` is the offset of
/// `text` in the logical line (an ONBUILD trigger is part of its line).
pub(crate) fn parse_instruction(
    text: &str,
    base: usize,
    escape: char,
) -> Result<Instruction, LineError> {
    parse_nested(text, base, escape, 0)
}

fn parse_nested(
    text: &str,
    base: usize,
    escape: char,
    depth: usize,
) -> Result<Instruction, LineError> {
    let leading = text.len() - text.trim_start().len();
    let trimmed = text.trim();
    let end = leading + trimmed.len();
    let cmd_len = trimmed.find(is_token_space).unwrap_or(trimmed.len());
    let keyword = word(&trimmed[..cmd_len], base + leading);
    let kind = Keyword::from_name(&keyword.text);
    let mut instruction = Instruction {
        keyword,
        kind,
        flags: Vec::new(),
        args: Vec::new(),
        form: Form::Shell,
        legacy_key_value: false,
        trigger: None,
        heredocs: Vec::new(),
        start_line: 0,
        end_line: 0,
        original: text.to_string(),
        offset: base,
        pieces: Vec::new(),
    };
    // The arguments after the flags, trimmed, and their local offset.
    let mut rest = (String::new(), end);
    if cmd_len < trimmed.len() {
        let after_cmd = &trimmed[cmd_len..];
        let spaces = after_cmd.len() - after_cmd.trim_start_matches(is_token_space).len();
        let (flags, args_start) = extract_flags(text, leading + cmd_len + spaces, end, base);
        instruction.flags = flags;
        if let Some(args_start) = args_start {
            let args = lossy(text, args_start, end);
            let lead = args.len() - args.trim_start().len();
            rest = (args.trim().to_string(), args_start + lead);
        }
    }
    let (rest, at) = (rest.0.as_str(), base + rest.1);
    match kind {
        Keyword::Run | Keyword::Cmd | Keyword::Entrypoint | Keyword::Shell => {
            maybe_json(&mut instruction, rest, at)?;
        }
        Keyword::Add | Keyword::Copy | Keyword::Volume => {
            if !json(&mut instruction, rest, at)? {
                instruction.args = split_whitespace(rest, at);
            }
        }
        Keyword::Expose | Keyword::From => instruction.args = split_whitespace(rest, at),
        Keyword::Maintainer | Keyword::Stopsignal | Keyword::User | Keyword::Workdir => {
            if !rest.is_empty() {
                instruction.args = vec![word(rest, at)];
            }
        }
        Keyword::Arg => instruction.args = parse_words(rest, at, escape),
        Keyword::Env | Keyword::Label => {
            let name = if kind == Keyword::Env { "ENV" } else { "LABEL" };
            let (args, legacy) = name_val(rest, at, escape, name)?;
            instruction.args = args;
            instruction.legacy_key_value = legacy;
        }
        Keyword::Healthcheck => health(&mut instruction, rest, at)?,
        Keyword::Onbuild => {
            if !rest.is_empty() {
                if depth >= MAX_ONBUILD_NESTING {
                    return Err(LineError::TooDeep);
                }
                let trigger = parse_nested(rest, at, escape, depth + 1)?;
                instruction.trigger = Some(Box::new(trigger));
            }
        }
        // `parseIgnore`: the words of an unknown instruction are dropped.
        Keyword::Unknown => {}
    }
    Ok(instruction)
}

/// `extractBuilderFlags` over `line[start..end]`: the leading `--name=value`
/// words (quotes removed, `\` escaping the next byte) and where the
/// arguments start (`None` when nothing follows the flags). Flag offsets
/// are moved by `base`.
fn extract_flags(line: &str, start: usize, end: usize, base: usize) -> (Vec<Flag>, Option<usize>) {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let bytes = &line.as_bytes()[..end];
    let mut flags = Vec::new();
    let mut phase = Phase::Spaces;
    let mut text = String::new();
    let mut word_start = start;
    let mut quote = 0u8;
    let mut blank_ok = false;
    let mut pos = start;
    loop {
        let ch = bytes.get(pos).copied();
        if phase == Phase::Spaces {
            let Some(ch) = ch else { break };
            if byte_is_space(ch) {
                pos += 1;
                continue;
            }
            if ch != b'-' || bytes.get(pos + 1) != Some(&b'-') {
                return (flags, Some(pos));
            }
            phase = Phase::Word;
            word_start = pos;
        }
        let Some(ch) = ch else {
            if text != "--" && (blank_ok || !text.is_empty()) {
                flags.push(flag(text, word_start, line, end, base));
            }
            break;
        };
        if phase == Phase::Word {
            if byte_is_space(ch) {
                phase = Phase::Spaces;
                if text == "--" {
                    return (flags, Some(pos));
                }
                if blank_ok || !text.is_empty() {
                    flags.push(flag(std::mem::take(&mut text), word_start, line, pos, base));
                }
                text.clear();
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == b'\'' || ch == b'"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
                pos += 1;
                continue;
            }
            let mut ch = ch;
            if ch == b'\\' {
                if pos + 1 == bytes.len() {
                    pos += 1;
                    continue;
                }
                pos += 1;
                ch = bytes[pos];
            }
            text.push(char::from(ch));
            pos += 1;
            continue;
        }
        // In a quote.
        if ch == quote {
            phase = Phase::Word;
            pos += 1;
            continue;
        }
        let mut ch = ch;
        if ch == b'\\' {
            if pos + 1 == bytes.len() {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            ch = bytes[pos];
        }
        text.push(char::from(ch));
        pos += 1;
    }
    (flags, None)
}

fn flag(text: String, start: usize, line: &str, end: usize, base: usize) -> Flag {
    Flag {
        text,
        raw: lossy(line, start, end),
        offset: base + start,
        position: Default::default(),
    }
}

/// `parseStringsWhitespaceDelimited`.
fn split_whitespace(rest: &str, at: usize) -> Vec<Word> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in rest
        .char_indices()
        .chain(std::iter::once((rest.len(), ' ')))
    {
        match (is_token_space(c), start) {
            (true, Some(s)) => {
                words.push(word(&rest[s..i], at + s));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    words
}

/// `parseJSON`: `Ok(true)` when `rest` is a JSON array of strings.
fn json(instruction: &mut Instruction, rest: &str, at: usize) -> Result<bool, LineError> {
    let trimmed = rest.trim_start();
    if !trimmed.starts_with('[') {
        return Ok(false);
    }
    let lead = rest.len() - trimmed.len();
    match parse_array(trimmed) {
        JsonArray::Strings(elements) => {
            instruction.args = elements
                .into_iter()
                .map(|(text, offset)| word(text, at + lead + offset))
                .collect();
            instruction.form = Form::Exec;
            Ok(true)
        }
        JsonArray::NotStrings => Err(LineError::NotStringArray),
        JsonArray::Invalid => Ok(false),
    }
}

/// `parseMaybeJSON`: a JSON array, or the whole text as one shell word.
fn maybe_json(instruction: &mut Instruction, rest: &str, at: usize) -> Result<(), LineError> {
    if !rest.is_empty() && !json(instruction, rest, at)? {
        instruction.args = vec![word(rest, at)];
    }
    Ok(())
}

/// `parseHealthConfig`: the type word (`CMD`, `NONE`), then as
/// `parseMaybeJSON`.
fn health(instruction: &mut Instruction, rest: &str, at: usize) -> Result<(), LineError> {
    let bytes = rest.as_bytes();
    let sep = bytes
        .iter()
        .position(|&b| byte_is_space(b))
        .unwrap_or(bytes.len());
    if sep == 0 {
        return Ok(());
    }
    let next = bytes[sep..]
        .iter()
        .position(|&b| !byte_is_space(b))
        .map_or(bytes.len(), |p| sep + p);
    let command = lossy(rest, next, bytes.len());
    maybe_json(instruction, &command, at + next)?;
    instruction.args.insert(0, word(lossy(rest, 0, sep), at));
    Ok(())
}

/// `parseWords`: words split on white space, quotes and escapes kept (they
/// go when the word is expanded); an escape at the very end is dropped.
pub(crate) fn parse_words(rest: &str, at: usize, escape: char) -> Vec<Word> {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut text = String::new();
    let mut start = 0;
    let mut chars = rest.char_indices().peekable();
    loop {
        let Some((pos, ch)) = chars.next() else {
            if phase != Phase::Spaces && (blank_ok || !text.is_empty()) {
                words.push(word(text, at + start));
            }
            break;
        };
        if phase == Phase::Spaces {
            if ch.is_whitespace() {
                continue;
            }
            phase = Phase::Word;
            start = pos;
        }
        let at_end = pos + ch.len_utf8() == rest.len();
        if phase == Phase::Word {
            if ch.is_whitespace() {
                phase = Phase::Spaces;
                if blank_ok || !text.is_empty() {
                    words.push(word(std::mem::take(&mut text), at + start));
                }
                blank_ok = false;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
            }
            let mut ch = ch;
            if ch == escape {
                if at_end {
                    continue;
                }
                text.push(ch);
                ch = chars.next().map_or(ch, |(_, next)| next);
            }
            text.push(ch);
            continue;
        }
        if ch == quote {
            phase = Phase::Word;
        }
        let mut ch = ch;
        if ch == escape && quote != '\'' {
            if at_end {
                phase = Phase::Word;
                continue;
            }
            text.push(ch);
            ch = chars.next().map_or(ch, |(_, next)| next);
        }
        text.push(ch);
    }
    words
}

/// `parseNameVal` for ENV and LABEL: `KEY=value...`, or the legacy `KEY
/// value` when the first word has no `=`. Returns the keys and values in
/// turn, and whether the legacy form was used.
fn name_val(
    rest: &str,
    at: usize,
    escape: char,
    name: &'static str,
) -> Result<(Vec<Word>, bool), LineError> {
    let words = parse_words(rest, at, escape);
    let Some(first) = words.first() else {
        return Ok((Vec::new(), false));
    };
    if !first.text.contains('=') {
        let Some(key_end) = rest.find(is_token_space) else {
            return Err(LineError::TwoArguments(name));
        };
        let value_start = rest[key_end..]
            .find(|c: char| !is_token_space(c))
            .map_or(rest.len(), |p| key_end + p);
        let key = word(&rest[..key_end], at);
        let value = word(&rest[value_start..], at + value_start);
        return Ok((vec![key, value], true));
    }
    let mut pairs = Vec::with_capacity(words.len() * 2);
    for w in words {
        let Some((key, value)) = w.text.split_once('=') else {
            return Err(LineError::MissingEquals(w.text));
        };
        pairs.push(word(key, w.offset));
        pairs.push(word(value, w.offset + key.len() + 1));
    }
    Ok((pairs, false))
}
