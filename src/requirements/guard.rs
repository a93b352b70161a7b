//! Checks made before text reaches pep508_rs: what it accepts that pip's
//! parser rejects, and what would make it panic or overflow the stack.
//! Anything that hands a requirement or a marker to pep508_rs (the
//! requirements parser, a release's `Requires-Dist`, a lockfile's markers)
//! checks it here first.

use super::requirement::RequirementError;

/// The most parentheses a marker (or a requirement) may nest. Real markers
/// nest two or three; pip reads deeper ones, but pep508_rs parses them by
/// recursion, and thousands of levels would overflow the stack before any
/// error could be reported.
pub const MAX_MARKER_NESTING: usize = 100;

/// The byte offset of the first `(` in `text` that opens more than
/// [`MAX_MARKER_NESTING`] levels, counting outside quoted strings (which
/// PEP 508 writes without escapes), or `None` when the text nests less.
/// Check this before handing text that may hold a marker to pep508_rs.
pub fn too_deeply_nested(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote = None;
    for (at, byte) in text.bytes().enumerate() {
        match (quote, byte) {
            (Some(open), _) if byte == open => quote = None,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(byte),
            (None, b'(') => {
                depth += 1;
                if depth > MAX_MARKER_NESTING {
                    return Some(at);
                }
            }
            (None, b')') => depth = depth.saturating_sub(1),
            (None, _) => {}
        }
    }
    None
}

pub(super) fn nesting_error(base: usize, at: usize) -> RequirementError {
    RequirementError {
        message: format!(
            "invalid marker: parentheses nest more than {MAX_MARKER_NESTING} levels deep"
        ),
        span: base + at..base + at + 1,
        help: Some("no real marker needs this depth: remove the redundant parentheses".into()),
    }
}

/// pep508_rs 0.9.2 panics on a name or an extra that ends in `.`, `-` or
/// `_` when more text follows; such names are invalid, so say so first.
pub(super) fn reject_bad_identifiers(text: &str) -> Result<(), RequirementError> {
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    let bad_end = |start: usize, identifier: &str| {
        let last = identifier
            .chars()
            .last()
            .filter(|c| matches!(c, '.' | '-' | '_'))?;
        Some(RequirementError {
            message: format!(
                "invalid requirement: `{identifier}` must end with a letter or digit, not `{last}`"
            ),
            span: start..start + identifier.len(),
            help: None,
        })
    };
    let start = text.len() - text.trim_start().len();
    let name_len = text[start..]
        .find(|c: char| !is_name_char(c))
        .unwrap_or(text.len() - start);
    if let Some(err) = bad_end(start, &text[start..start + name_len]) {
        return Err(err);
    }
    let after_name = start + name_len;
    let rest = &text[after_name..];
    let Some(open) = rest.trim_start().strip_prefix('[') else {
        return Ok(());
    };
    let mut offset = after_name + (rest.len() - open.len());
    let inside = open.split(']').next().unwrap_or("");
    for part in inside.split(',') {
        let leading = part.len() - part.trim_start().len();
        let identifier = part.trim();
        if identifier.chars().all(is_name_char) {
            if let Some(err) = bad_end(offset + leading, identifier) {
                return Err(err);
            }
        }
        offset += part.len() + 1;
    }
    Ok(())
}

/// packaging separates a requirement's words with spaces and tabs only;
/// pep508_rs takes any Unicode space. A no-break space (what copying from
/// a web page or a chat often leaves between a name and its specifier)
/// is an error for pip, so it is one here, with the same exceptions as
/// packaging's: right after an operator (its specifier pattern allows any
/// space there), inside a quoted string, and in a URL after `@`.
pub(super) fn reject_unusual_spaces(text: &str) -> Result<(), RequirementError> {
    let mut quote = None;
    let mut after_operator = false;
    let mut in_marker = false;
    for (at, c) in text.char_indices() {
        if let Some(open) = quote {
            if c == open {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '@' if !in_marker => return Ok(()),
            ';' => {
                in_marker = true;
                after_operator = false;
            }
            '=' | '<' | '>' if !in_marker => after_operator = true,
            ' ' | '\t' => {}
            c if c.is_whitespace() && !after_operator => {
                let name = match c {
                    '\u{a0}' => " NO-BREAK SPACE",
                    '\u{202f}' => " NARROW NO-BREAK SPACE",
                    '\u{3000}' => " IDEOGRAPHIC SPACE",
                    _ => "",
                };
                return Err(RequirementError {
                    message: format!(
                        "invalid requirement: U+{:04X}{name} where pip accepts only a space or a tab",
                        u32::from(c)
                    ),
                    span: at..at + c.len_utf8(),
                    help: Some(
                        "retype it as an ordinary space: pip rejects this line (text copied from a web page often carries such spaces)"
                            .into(),
                    ),
                });
            }
            c if c.is_whitespace() => {}
            _ => after_operator = false,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::diagnostic::Location;
    use crate::requirements::requirement::parse_requirement;

    fn here() -> Location {
        Location::file(Path::new("requirements.txt"))
    }

    fn parse(text: &str) -> crate::requirements::Requirement {
        parse_requirement(text, Path::new("/nonexistent-dir"), here()).unwrap()
    }

    #[test]
    fn unusual_spaces_are_rejected_where_pip_rejects_them() {
        // Each checked with pip 26.3 (packaging 26): rejected...
        for text in [
            "foo\u{a0}==1.0",
            "foo\u{2003}==1.0",
            "foo==1.0,\u{a0}<2",
            "foo[\u{a0}bar]==1",
            "foo\u{a0}@ https://h.invalid/a.tar.gz",
            "foo ==1.0 \u{a0}--hash=sha256:00",
        ] {
            let err =
                parse_requirement(text, Path::new("/nonexistent-dir"), here()).expect_err(text);
            assert!(
                err.message.contains("where pip accepts only a space"),
                "{text}: {}",
                err.message
            );
            let at = text.find(|c: char| c.is_whitespace() && c != ' ').unwrap();
            assert_eq!(err.span.start, at, "{text}");
        }
        assert!(parse_requirement("foo\u{a0}==1.0", Path::new("/"), here())
            .unwrap_err()
            .message
            .contains("U+00A0 NO-BREAK SPACE"));
        // ...and accepted: at either end (stripped), after an operator, in
        // a URL.
        for (text, specifier) in [
            ("\u{a0}foo==1.0\u{a0}", "==1.0"),
            ("foo==\u{a0}1.0", "==1.0"),
            ("foo >=\u{a0}1.0, <\u{3000}2", ">=1.0, <2"),
            ("foo==1.0 ;\u{a0}python_version > '3'", "==1.0"),
        ] {
            assert_eq!(parse(text).specifier.to_string(), specifier, "{text:?}");
        }
    }

    #[test]
    fn nesting_is_counted_outside_quotes_and_bounded() {
        let nested = |depth: usize| {
            format!(
                "{}python_version > '3'{}",
                "(".repeat(depth),
                ")".repeat(depth)
            )
        };
        assert_eq!(too_deeply_nested(&nested(MAX_MARKER_NESTING)), None);
        assert_eq!(
            too_deeply_nested(&nested(MAX_MARKER_NESTING + 1)),
            Some(MAX_MARKER_NESTING)
        );
        let quoted = format!("extra == '{}'", "(".repeat(500));
        assert_eq!(too_deeply_nested(&quoted), None);
        let closed = "(a)".repeat(500);
        assert_eq!(too_deeply_nested(&closed), None);

        let deep = format!("foo ; {}", nested(20_000));
        let err = parse_requirement(&deep, Path::new("/"), here()).unwrap_err();
        assert!(
            err.message.contains("nest more than 100"),
            "{}",
            err.message
        );
        assert_eq!(err.span, 106..107);
        // Through an egg fragment the marker reaches pep508_rs another way.
        let egg = format!("https://h.invalid/x.tar.gz#egg=foo;{}", nested(20_000));
        let err = parse_requirement(&egg, Path::new("/"), here()).unwrap_err();
        assert!(
            err.message.contains("nest more than 100"),
            "{}",
            err.message
        );
    }
}
