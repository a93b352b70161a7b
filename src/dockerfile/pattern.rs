//! The patterns of `${VAR#p}`, `${VAR%p}` and `${VAR/p/r}`, as lex.go's
//! `convertShellPatternToRegex` turns them into Go regular expressions:
//! `*` and `?` are wildcards, `\` escapes `*`, `?`, `\` (and `}`/`/`, which
//! it only protects from the `${}` syntax), there are no bracket
//! expressions, and everything else is literal. Go's RE2 and the `regex`
//! crate agree on the leftmost-first semantics these expressions need.

use std::sync::OnceLock;

use regex::Regex;

use super::lex::ExpandError;

/// Unicode classes Go's `unicode` package tests by general category.
#[derive(Clone, Copy)]
pub(crate) enum Class {
    Letter,
    Digit,
}

pub(crate) fn unicode_class(c: char, class: Class) -> bool {
    static LETTER: OnceLock<Regex> = OnceLock::new();
    static DIGIT: OnceLock<Regex> = OnceLock::new();
    let regex = match class {
        Class::Letter => LETTER.get_or_init(|| Regex::new(r"^\p{L}$").expect("valid class")),
        Class::Digit => DIGIT.get_or_init(|| Regex::new(r"^\p{Nd}$").expect("valid class")),
    };
    let mut buf = [0u8; 4];
    regex.is_match(c.encode_utf8(&mut buf))
}

/// The regular expression of a shell pattern (`convertShellPatternToRegex`).
fn compile(pattern: &str, greedy: bool, anchored: bool) -> Result<Regex, ExpandError> {
    let invalid = |reason: String| ExpandError::InvalidPattern {
        pattern: pattern.to_string(),
        reason,
    };
    let mut out = String::with_capacity(pattern.len() + 4);
    if anchored {
        out.push('^');
    }
    // Go's `text/scanner` skips a byte-order mark at the start.
    let body = pattern.strip_prefix('\u{feff}').unwrap_or(pattern);
    let mut chars = body.chars().peekable();
    while let Some(tok) = chars.next() {
        match tok {
            '*' => out.push_str(if greedy { ".*" } else { ".*?" }),
            '?' => out.push('.'),
            '\\' => {
                // `}` and `/` are escaped for the `${}` syntax only.
                if matches!(chars.peek(), Some('}' | '/')) {
                    continue;
                }
                match chars.next() {
                    Some(escaped @ ('*' | '?' | '\\')) => {
                        out.push('\\');
                        out.push(escaped);
                    }
                    Some(other) => return Err(invalid(format!("invalid escape '\\{other}'"))),
                    None => return Err(invalid("invalid escape '\\'".into())),
                }
            }
            '[' | ']' | '{' | '}' | '.' | '+' | '(' | ')' | '|' | '^' | '$' => {
                out.push('\\');
                out.push(tok);
            }
            _ => out.push(tok),
        }
    }
    Regex::new(&out).map_err(|err| invalid(err.to_string()))
}

/// `${VAR#pattern}` (`##` when `greedy`): the value without the match at
/// its start.
pub(crate) fn trim_prefix(pattern: &str, value: &str, greedy: bool) -> Result<String, ExpandError> {
    let regex = compile(pattern, greedy, true)?;
    Ok(match regex.find(value) {
        Some(found) => value[found.end()..].to_string(),
        None => value.to_string(),
    })
}

/// `${VAR%pattern}` (`%%` when `greedy`): lex.go reverses the pattern (an
/// escape stays before what it escapes) and the value, trims the prefix,
/// and reverses the result back.
pub(crate) fn trim_suffix(pattern: &str, value: &str, greedy: bool) -> Result<String, ExpandError> {
    let reversed_value: String = value.chars().rev().collect();
    let trimmed = trim_prefix(&reverse_pattern(pattern), &reversed_value, greedy)?;
    Ok(trimmed.chars().rev().collect())
}

/// `reversePattern`: `a\*c` becomes `c\*a`; a `\` in the last place is an
/// ordinary character.
fn reverse_pattern(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let Some(last) = chars.len().checked_sub(1) else {
        return String::new();
    };
    let mut out = vec!['\0'; chars.len()];
    let mut i = 0;
    while i <= last {
        let at = last - i;
        if chars[i] == '\\' && i != last {
            out[at - 1] = '\\';
            out[at] = chars[i + 1];
            i += 2;
        } else {
            out[at] = chars[i];
            i += 1;
        }
    }
    out.into_iter().collect()
}

/// `${VAR/pattern/replacement}` (the first match) and `${VAR//...}` (every
/// match, with Go's `ReplaceAllString`: `$0`, `$$` and `${name}` in the
/// replacement are template references, and an empty match right after a
/// match is not replaced).
pub(crate) fn replace(
    value: &str,
    pattern: &str,
    replacement: &str,
    all: bool,
) -> Result<String, ExpandError> {
    let regex = compile(pattern, true, false)?;
    if !all {
        return Ok(match regex.find(value) {
            Some(found) => format!(
                "{}{replacement}{}",
                &value[..found.start()],
                &value[found.end()..]
            ),
            None => value.to_string(),
        });
    }
    let mut out = String::new();
    let mut last_end = 0;
    let mut search = 0;
    while search <= value.len() {
        let Some(found) = regex.find_at(value, search) else {
            break;
        };
        out.push_str(&value[last_end..found.start()]);
        if found.end() > last_end || found.start() == 0 {
            expand_template(&mut out, replacement, found.as_str());
        }
        last_end = found.end();
        let width = value[search..].chars().next().map_or(0, char::len_utf8);
        search = if search + width > found.end() {
            search + width
        } else if search + 1 > found.end() {
            search + 1
        } else {
            found.end()
        };
    }
    out.push_str(&value[last_end..]);
    Ok(out)
}

/// Go's `Regexp.Expand` for an expression whose only group is the match.
fn expand_template(out: &mut String, template: &str, matched: &str) {
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        match template_name(rest) {
            Some((name, after)) => {
                if name == "0" {
                    out.push_str(matched);
                }
                rest = after;
            }
            None => out.push('$'),
        }
    }
    out.push_str(rest);
}

/// Go's `extract`: a name (letters, digits, `_`), braced or not.
fn template_name(text: &str) -> Option<(&str, &str)> {
    let (braced, body) = match text.strip_prefix('{') {
        Some(body) => (true, body),
        None => (false, text),
    };
    let len: usize = body
        .chars()
        .take_while(|&c| super::lex::is_letter(c) || super::lex::is_digit(c) || c == '_')
        .map(char::len_utf8)
        .sum();
    if len == 0 {
        return None;
    }
    let (name, after) = body.split_at(len);
    if braced {
        return after.strip_prefix('}').map(|after| (name, after));
    }
    Some((name, after))
}
