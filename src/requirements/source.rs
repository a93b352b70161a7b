//! Reading a requirements file and turning it into the logical lines pip sees.
//!
//! pip decodes the file, splits it with Python's `str.splitlines`, joins `\`
//! continuations, strips comments and whitespace and then expands `${VAR}`.
//! Every byte of a logical line remembers the byte offset it came from in the
//! decoded file, so a diagnostic about a logical line can still point at the
//! physical line and column the user wrote.

use std::ops::Range;

/// Logical lines longer than this are rejected. pip has no limit, and a
/// legitimate line can be long: a requirement with a `--hash` for every
/// wheel of a big release (hundreds of hashes at 80 bytes each, joined by
/// continuations) runs to hundreds of KiB. Sixteen MiB is far past any
/// real file, and still bounds what a runaway line (a binary or generated
/// file) costs to hold and report.
pub const MAX_LOGICAL_LINE_BYTES: usize = 16 << 20;

/// A decoded requirements file with an index of its physical line starts.
#[derive(Debug)]
pub struct SourceText {
    pub text: String,
    line_starts: Vec<usize>,
}

/// Why a file's bytes could not be turned into text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    Binary { offset: usize },
    NotUtf8 { offset: usize },
    UnsupportedEncoding(String),
}

impl SourceText {
    /// Decode a file the way pip's `auto_decode` does: a byte-order mark wins,
    /// then a `coding:` declaration in the first two lines, then UTF-8.
    pub fn decode(bytes: &[u8]) -> Result<SourceText, DecodeError> {
        let text = decode_bytes(bytes)?;
        if let Some(offset) = text.find('\0') {
            return Err(DecodeError::Binary { offset });
        }
        Ok(SourceText::from_text(text))
    }

    pub fn from_text(text: String) -> SourceText {
        let line_starts = physical_lines(&text).map(|range| range.start).collect();
        SourceText { text, line_starts }
    }

    /// 1-based physical line and 1-based character column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let index = match self.line_starts.binary_search(&offset) {
            Ok(index) => index,
            Err(index) => index.saturating_sub(1),
        };
        let start = self.line_starts.get(index).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count());
        (index + 1, column + 1)
    }

    /// The text of the physical line holding `offset`, without its line break.
    pub fn line_text(&self, offset: usize) -> &str {
        let (line, _) = self.line_col(offset);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(is_line_break)
    }
}

fn decode_bytes(bytes: &[u8]) -> Result<String, DecodeError> {
    if let Some(rest) = bytes.strip_prefix(b"\xef\xbb\xbf") {
        return utf8(rest, 3);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xff\xfe\x00\x00") {
        return utf32(rest, u32::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(b"\x00\x00\xfe\xff") {
        return utf32(rest, u32::from_be_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xff\xfe") {
        return utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xfe\xff") {
        return utf16(rest, u16::from_be_bytes);
    }
    match declared_encoding(bytes).as_deref() {
        None | Some("utf-8" | "utf8" | "ascii" | "us-ascii") => utf8(bytes, 0),
        Some("latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "l1") => {
            Ok(bytes.iter().map(|&byte| char::from(byte)).collect())
        }
        Some(other) => Err(DecodeError::UnsupportedEncoding(other.to_string())),
    }
}

fn utf8(bytes: &[u8], skipped: usize) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|err| DecodeError::NotUtf8 {
        offset: skipped + err.utf8_error().valid_up_to(),
    })
}

fn utf16(bytes: &[u8], word: fn([u8; 2]) -> u16) -> Result<String, DecodeError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(DecodeError::NotUtf8 {
            offset: bytes.len(),
        });
    }
    let units = bytes.chunks_exact(2).map(|pair| word([pair[0], pair[1]]));
    char::decode_utf16(units)
        .enumerate()
        .map(|(index, unit)| {
            unit.map_err(|_| DecodeError::NotUtf8 {
                offset: 2 + index * 2,
            })
        })
        .collect()
}

fn utf32(bytes: &[u8], word: fn([u8; 4]) -> u32) -> Result<String, DecodeError> {
    if !bytes.len().is_multiple_of(4) {
        return Err(DecodeError::NotUtf8 {
            offset: bytes.len(),
        });
    }
    bytes
        .chunks_exact(4)
        .enumerate()
        .map(|(index, quad)| {
            char::from_u32(word([quad[0], quad[1], quad[2], quad[3]])).ok_or(DecodeError::NotUtf8 {
                offset: 4 + index * 4,
            })
        })
        .collect()
}

/// The PEP 263 style `coding:` declaration pip honours in the first two lines.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    for line in bytes.split(|&b| b == b'\n').take(2) {
        let Some(position) = find_subslice(line, b"coding") else {
            continue;
        };
        let rest = &line[position + b"coding".len()..];
        let Some((&separator, rest)) = rest.split_first() else {
            continue;
        };
        if separator != b':' && separator != b'=' {
            continue;
        }
        let rest = rest.trim_ascii_start();
        let name: Vec<u8> = rest
            .iter()
            .copied()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            .collect();
        if !name.is_empty() {
            return Some(
                String::from_utf8_lossy(&name)
                    .to_ascii_lowercase()
                    .replace('_', "-"),
            );
        }
    }
    None
}

fn find_subslice(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Python's `str.isspace`, which pip's `strip()` and `\s` rely on.
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The byte ranges of the physical lines, split where Python's
/// `str.splitlines` splits (which includes `\v`, `\f` and a few others).
pub fn physical_lines(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut position = 0;
    std::iter::from_fn(move || {
        if position >= text.len() {
            return None;
        }
        let rest = &text[position..];
        let start = position;
        match rest.char_indices().find(|&(_, c)| is_line_break(c)) {
            Some((index, c)) => {
                let mut next = start + index + c.len_utf8();
                if c == '\r' && text[next..].starts_with('\n') {
                    next += 1;
                }
                position = next;
                Some(start..start + index)
            }
            None => {
                position = text.len();
                Some(start..text.len())
            }
        }
    })
}

fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\u{0b}'
            | '\u{0c}'
            | '\u{1c}'
            | '\u{1d}'
            | '\u{1e}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// A string whose every byte knows the file offset it came from, stored as
/// runs so that building a logical line copies text only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappedText {
    pub text: String,
    runs: Vec<Run>,
}

/// Bytes from `start` in the text up to the next run come from the file at
/// `offset` onwards (`contiguous`), or all from `offset` (expanded text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    start: usize,
    offset: usize,
    contiguous: bool,
}

impl MappedText {
    fn from_slice(source: &str, range: Range<usize>) -> MappedText {
        MappedText {
            text: source[range.clone()].to_string(),
            runs: vec![Run {
                start: 0,
                offset: range.start,
                contiguous: true,
            }],
        }
    }

    /// Text that stands for the file position `offset` as a whole.
    fn synthetic(text: &str, offset: usize) -> MappedText {
        MappedText {
            text: text.to_string(),
            runs: vec![Run {
                start: 0,
                offset,
                contiguous: false,
            }],
        }
    }

    fn push(&mut self, other: MappedText) {
        let shift = self.text.len();
        self.text.push_str(&other.text);
        self.runs.extend(other.runs.into_iter().map(|run| Run {
            start: run.start + shift,
            ..run
        }));
    }

    /// The file offset of the byte at `index`; one past the end maps just
    /// after the last byte.
    pub fn origin(&self, index: usize) -> usize {
        if index >= self.text.len() {
            return match self.text.len() {
                0 => self.runs.first().map_or(0, |run| run.offset),
                len => self.origin(len - 1) + 1,
            };
        }
        let position = self.runs.partition_point(|run| run.start <= index);
        match position.checked_sub(1).map(|i| self.runs[i]) {
            Some(run) if run.contiguous => run.offset + (index - run.start),
            Some(run) => run.offset,
            None => 0,
        }
    }

    pub fn slice(&self, range: Range<usize>) -> MappedText {
        let mut runs = Vec::new();
        for (index, run) in self.runs.iter().enumerate() {
            let run_end = self
                .runs
                .get(index + 1)
                .map_or(self.text.len(), |next| next.start);
            if run_end <= range.start || run.start >= range.end {
                continue;
            }
            let first = run.start.max(range.start);
            runs.push(Run {
                start: first - range.start,
                offset: if run.contiguous {
                    run.offset + (first - run.start)
                } else {
                    run.offset
                },
                contiguous: run.contiguous,
            });
        }
        if runs.is_empty() {
            runs.push(Run {
                start: 0,
                offset: self.origin(range.start),
                contiguous: true,
            });
        }
        MappedText {
            text: self.text[range].to_string(),
            runs,
        }
    }

    /// Replace `range` with `replacement`, every byte of which is mapped to
    /// the start of what it replaces.
    fn replace(&mut self, range: Range<usize>, replacement: &str) {
        let mut replaced = self.slice(0..range.start);
        replaced.push(MappedText::synthetic(replacement, self.origin(range.start)));
        replaced.push(self.slice(range.end..self.text.len()));
        *self = replaced;
    }
}

/// One line as pip's `preprocess` yields it.
#[derive(Debug, Clone)]
pub struct LogicalLine {
    /// 1-based number of the physical line the logical line starts on.
    pub line: usize,
    pub content: MappedText,
    /// The comment that `preprocess` removed, for `# reqlock:` directives.
    pub comment: Option<String>,
}

/// Problems found while building logical lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineTooLong {
    pub line: usize,
    pub offset: usize,
    pub length: usize,
}

/// Split, join, strip comments and expand variables exactly like pip's
/// `preprocess`; `lookup_var` answers `${NAME}` lookups.
pub fn logical_lines(
    source: &SourceText,
    lookup_var: &dyn Fn(&str) -> Option<String>,
) -> (Vec<LogicalLine>, Vec<LineTooLong>) {
    let mut lines = Vec::new();
    let mut too_long = Vec::new();
    let mut pending: Option<(usize, MappedText)> = None;

    for (index, range) in physical_lines(&source.text).enumerate() {
        let number = index + 1;
        let physical = &source.text[range.clone()];
        // pip's `COMMENT_RE.match`: a comment that starts the line.
        let is_comment = comment_start(physical) == Some(0);
        let mut piece = MappedText::from_slice(&source.text, range.clone());
        if physical.ends_with('\\') && !is_comment {
            // pip strips backslashes from both ends of a continued line.
            let leading = physical.len() - physical.trim_start_matches('\\').len();
            let trailing = physical.len() - physical.trim_end_matches('\\').len();
            let end = physical.len().saturating_sub(trailing).max(leading);
            piece = piece.slice(leading..end);
            match &mut pending {
                Some((_, joined)) => joined.push(piece),
                None => pending = Some((number, piece)),
            }
            continue;
        }
        if is_comment {
            // pip prefixes a space so that the comment is always stripped.
            let mut prefixed = MappedText::synthetic(" ", range.start);
            prefixed.push(piece);
            piece = prefixed;
        }
        let (line_number, joined) = match pending.take() {
            Some((start, mut joined)) => {
                joined.push(piece);
                (start, joined)
            }
            None => (number, piece),
        };
        finish_line(line_number, joined, lookup_var, &mut lines, &mut too_long);
    }
    if let Some((line_number, joined)) = pending {
        finish_line(line_number, joined, lookup_var, &mut lines, &mut too_long);
    }
    (lines, too_long)
}

fn finish_line(
    line_number: usize,
    joined: MappedText,
    lookup_var: &dyn Fn(&str) -> Option<String>,
    lines: &mut Vec<LogicalLine>,
    too_long: &mut Vec<LineTooLong>,
) {
    let mut comment = None;
    let mut end = joined.text.len();
    if let Some(start) = comment_start(&joined.text) {
        let text = joined.text[start..].trim_start_matches(is_py_space);
        comment = Some(text.trim_start_matches('#').trim().to_string());
        end = start;
    }
    let kept = &joined.text[..end];
    let trimmed_end = kept.trim_end_matches(is_py_space).len();
    let trimmed_start = kept.len() - kept.trim_start_matches(is_py_space).len();
    if trimmed_start >= trimmed_end {
        return;
    }
    let mut content = if trimmed_start == 0 && trimmed_end == joined.text.len() {
        joined
    } else {
        joined.slice(trimmed_start..trimmed_end)
    };
    expand_variables(&mut content, lookup_var);
    if content.text.len() > MAX_LOGICAL_LINE_BYTES {
        too_long.push(LineTooLong {
            line: line_number,
            offset: content.origin(0),
            length: content.text.len(),
        });
        return;
    }
    lines.push(LogicalLine {
        line: line_number,
        content,
        comment,
    });
}

/// Where pip's `(^|\s+)#.*$` first matches.
fn comment_start(text: &str) -> Option<usize> {
    if !text.contains('#') {
        return None;
    }
    if text.starts_with('#') {
        return Some(0);
    }
    let mut run_start = None;
    for (index, c) in text.char_indices() {
        if is_py_space(c) {
            run_start.get_or_insert(index);
        } else if c == '#' {
            if let Some(start) = run_start {
                return Some(start);
            }
        } else {
            run_start = None;
        }
    }
    None
}

/// pip's `${NAME}` expansion: only upper-case letters, digits and `_`, and
/// only variables that are set to a non-empty value.
fn expand_variables(content: &mut MappedText, lookup_var: &dyn Fn(&str) -> Option<String>) {
    let mut search_from = 0;
    let mut seen = Vec::new();
    while let Some(found) = content.text[search_from..].find("${") {
        let start = search_from + found;
        let name_start = start + 2;
        let name_len = content.text[name_start..]
            .bytes()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
            .count();
        let end = name_start + name_len;
        if name_len > 0 && content.text[end..].starts_with('}') {
            seen.push(content.text[start..=end].to_string());
        }
        search_from = start + 2;
    }
    // pip finds all references first, then replaces every occurrence of each
    // in turn, so a value that itself contains `${X}` may be expanded later.
    for reference in seen {
        let name = &reference[2..reference.len() - 1];
        let Some(value) = lookup_var(name).filter(|value| !value.is_empty()) else {
            continue;
        };
        while let Some(position) = content.text.find(&reference) {
            content.replace(position..position + reference.len(), &value);
            if value.contains(&reference) {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &str) -> Vec<(usize, String)> {
        let source = SourceText::from_text(text.to_string());
        let (lines, _) = logical_lines(&source, &|name| {
            (name == "HOME_URL").then(|| "x".to_string())
        });
        lines
            .into_iter()
            .map(|line| (line.line, line.content.text))
            .collect()
    }

    #[test]
    fn joins_continuations_and_keeps_the_first_line_number() {
        assert_eq!(
            lines_of("a==1 \\\n  --hash=sha256:ab\nb\n"),
            vec![
                (1, "a==1   --hash=sha256:ab".to_string()),
                (3, "b".to_string())
            ]
        );
    }

    #[test]
    fn strips_comments_like_pip() {
        assert_eq!(
            lines_of("# c\n  # c2\na # x\nb#c\n"),
            vec![(3, "a".to_string()), (4, "b#c".to_string())]
        );
    }

    #[test]
    fn comment_ends_a_continuation() {
        assert_eq!(
            lines_of("a \\\n# c\nb"),
            vec![(1, "a".to_string()), (3, "b".to_string())]
        );
    }

    #[test]
    fn splits_like_python_splitlines() {
        assert_eq!(
            lines_of("a\r\nb\rc\u{0c}d"),
            vec![
                (1, "a".into()),
                (2, "b".into()),
                (3, "c".into()),
                (4, "d".into())
            ]
        );
    }

    #[test]
    fn expands_only_set_upper_case_variables() {
        assert_eq!(
            lines_of("${HOME_URL}/${lower}/${UNSET}"),
            vec![(1, "x/${lower}/${UNSET}".to_string())]
        );
    }

    #[test]
    fn maps_columns_back_to_physical_lines() {
        let source = SourceText::from_text("a \\\n  bad".to_string());
        let (lines, _) = logical_lines(&source, &|_| None);
        let line = &lines[0];
        let bad = line.content.text.find("bad").unwrap();
        assert_eq!(source.line_col(line.content.origin(bad)), (2, 3));
    }

    #[test]
    fn decodes_boms_and_rejects_binary() {
        assert_eq!(SourceText::decode(b"\xef\xbb\xbfa").unwrap().text, "a");
        assert_eq!(SourceText::decode(b"\xff\xfea\x00").unwrap().text, "a");
        assert_eq!(
            SourceText::decode(b"a\xff").unwrap_err(),
            DecodeError::NotUtf8 { offset: 1 }
        );
        assert!(matches!(
            SourceText::decode(b"a\0b"),
            Err(DecodeError::Binary { offset: 1 })
        ));
        assert_eq!(
            SourceText::decode(b"# coding: latin-1\n\xe9").unwrap().text,
            "# coding: latin-1\n\u{e9}"
        );
    }
}
