//! The exec form's JSON array, read as BuildKit's `parseJSON` reads it with
//! Go's `json.Unmarshal` into `[]any`, keeping where each string began.
//!
//! What decides the form: the text must be exactly one JSON value (Go's
//! syntax, whitespace around it, nothing after it: BuildKit since v0.15).
//! A syntax error, a nesting deeper than Go's 10,000 levels or a number
//! that overflows a float64 (Go's decoder reports it after reading
//! everything) make the text shell form. A valid array with any
//! element that is not a string is a hard error. Strings decode as Go
//! decodes them, a lone surrogate escape becoming U+FFFD.

/// What a text starting with `[` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JsonArray {
    /// The elements, each with the byte offset of its opening quote.
    Strings(Vec<(String, usize)>),
    /// Valid JSON, but an element is not a string.
    NotStrings,
    /// Not JSON (or not one value): shell form.
    Invalid,
}

const MAX_DEPTH: usize = 10_000;

pub(crate) fn parse_array(text: &str) -> JsonArray {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        text,
        pos: 0,
    };
    match reader.document() {
        Some(Document {
            elements,
            all_strings: true,
            overflow: false,
        }) => JsonArray::Strings(elements),
        Some(Document {
            overflow: false, ..
        }) => JsonArray::NotStrings,
        _ => JsonArray::Invalid,
    }
}

struct Document {
    elements: Vec<(String, usize)>,
    all_strings: bool,
    overflow: bool,
}

struct Reader<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Container {
    Array,
    Object,
}

impl Reader<'_> {
    fn skip_space(&mut self) {
        while matches!(self.bytes.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.bytes.get(self.pos) == Some(&byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// The whole text as one value; `None` on any syntax error.
    fn document(&mut self) -> Option<Document> {
        let mut doc = Document {
            elements: Vec::new(),
            all_strings: true,
            overflow: false,
        };
        let mut stack: Vec<Container> = Vec::new();
        self.skip_space();
        if self.bytes.get(self.pos) != Some(&b'[') {
            return None;
        }
        'value: loop {
            // A value starts here.
            self.skip_space();
            let top_level = stack.len() == 1;
            let start = self.pos;
            match *self.bytes.get(self.pos)? {
                open @ (b'[' | b'{') => {
                    self.pos += 1;
                    if top_level {
                        doc.all_strings = false;
                    }
                    stack.push(if open == b'[' {
                        Container::Array
                    } else {
                        Container::Object
                    });
                    if stack.len() > MAX_DEPTH {
                        return None;
                    }
                    self.skip_space();
                    let close = if open == b'[' { b']' } else { b'}' };
                    if self.eat(close) {
                        stack.pop();
                    } else if open == b'[' {
                        continue 'value;
                    } else {
                        self.key()?;
                        continue 'value;
                    }
                }
                b'"' => {
                    let decoded = self.string()?;
                    if top_level {
                        doc.elements.push((decoded, start));
                    }
                }
                b'-' | b'0'..=b'9' => {
                    doc.overflow |= self.number()?;
                    doc.all_strings &= !top_level;
                }
                _ => {
                    let rest = &self.bytes[self.pos..];
                    let literal: &[u8] = [&b"true"[..], b"false", b"null"]
                        .into_iter()
                        .find(|word| rest.starts_with(word))?;
                    self.pos += literal.len();
                    doc.all_strings &= !top_level;
                }
            }
            // After a value: a separator, a closing bracket, or the end.
            loop {
                self.skip_space();
                let Some(&container) = stack.last() else {
                    return (self.pos == self.bytes.len()).then_some(doc);
                };
                let close = match container {
                    Container::Array => b']',
                    Container::Object => b'}',
                };
                if self.eat(b',') {
                    if container == Container::Object {
                        self.skip_space();
                        self.key()?;
                    }
                    continue 'value;
                }
                if !self.eat(close) {
                    return None;
                }
                stack.pop();
            }
        }
    }

    /// An object key and its colon.
    fn key(&mut self) -> Option<()> {
        if self.bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        self.string()?;
        self.skip_space();
        self.eat(b':').then_some(())
    }

    /// A number; `Some(true)` when it overflows a float64.
    fn number(&mut self) -> Option<bool> {
        let start = self.pos;
        self.eat(b'-');
        if !self.eat(b'0') {
            if !matches!(self.bytes.get(self.pos), Some(b'1'..=b'9')) {
                return None;
            }
            self.digits();
        }
        if self.eat(b'.') && self.digits() == 0 {
            return None;
        }
        if matches!(self.bytes.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return None;
            }
        }
        let value: f64 = self.text[start..self.pos].parse().ok()?;
        Some(value.is_infinite())
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.bytes.get(self.pos), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.text.get(at..at + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(digits, 16).ok()
    }

    /// A string, decoded; the reader stands on its opening quote.
    fn string(&mut self) -> Option<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = &self.text[self.pos..];
            let ch = rest.chars().next()?;
            match ch {
                '"' => {
                    self.pos += 1;
                    return Some(out);
                }
                '\u{0}'..='\u{1f}' => return None,
                '\\' => {
                    let escape = *self.bytes.get(self.pos + 1)?;
                    self.pos += 2;
                    match escape {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let unit = self.hex4(self.pos)?;
                            self.pos += 4;
                            out.push(self.code_point(unit));
                        }
                        _ => return None,
                    }
                }
                _ => {
                    out.push(ch);
                    self.pos += ch.len_utf8();
                }
            }
        }
    }

    /// A `\u` escape, paired with a following low surrogate escape when
    /// it is a high surrogate (as Go's `unquote`).
    fn code_point(&mut self, unit: u32) -> char {
        if !(0xD800..0xE000).contains(&unit) {
            return char::from_u32(unit).unwrap_or('\u{fffd}');
        }
        if (0xD800..0xDC00).contains(&unit) && self.text[self.pos..].starts_with("\\u") {
            if let Some(low) = self
                .hex4(self.pos + 2)
                .filter(|low| (0xDC00..0xE000).contains(low))
            {
                self.pos += 6;
                let combined = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                return char::from_u32(combined).unwrap_or('\u{fffd}');
            }
        }
        '\u{fffd}'
    }
}
