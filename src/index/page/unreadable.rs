//! Why an index's answer is not a project page reqlock can read. pip skips
//! such a page with a log line and then reports "no matching distribution";
//! reqlock says what was wrong with it instead of calling the package
//! unknown.

use crate::index::limits::human;

/// What made a page unreadable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("its Content-Type `{0}` is neither HTML nor JSON")]
    ContentType(String),
    #[error("it is served as HTML but holds JSON (the server sends the wrong Content-Type)")]
    JsonAsHtml,
    #[error("it is served as HTML but holds no HTML")]
    NotHtml,
    #[error("it is served as HTML but is empty")]
    Empty,
    #[error("it is not valid PEP 691 JSON: {0}")]
    Json(String),
    #[error("it is larger than {} after decompression, the most reqlock reads for one page", human(*.limit))]
    TooLarge { limit: u64 },
}

/// Why an HTML page that lists no file cannot be what it claims, or `None`
/// for a real page that happens to list nothing (a project whose files
/// were all deleted). Only a page without a single file is judged: one
/// that lists files is read, however odd the rest of it.
pub fn empty_html_problem(body: &[u8]) -> Option<Unreadable> {
    let text = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    let text = text.trim_ascii();
    if text.is_empty() {
        return Some(Unreadable::Empty);
    }
    if matches!(text[0], b'{' | b'[')
        && serde_json::from_slice::<serde::de::IgnoredAny>(text).is_ok()
    {
        return Some(Unreadable::JsonAsHtml);
    }
    let Ok(text) = std::str::from_utf8(text) else {
        return Some(Unreadable::NotHtml);
    };
    let lower = text.to_ascii_lowercase();
    let markup = ["<!doctype html", "<html", "<head", "<body"]
        .iter()
        .any(|tag| lower.contains(tag));
    (text.contains('\0') || !markup).then_some(Unreadable::NotHtml)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_that_lists_nothing_is_judged_by_what_it_holds() {
        for real in [
            &b"<!DOCTYPE html><html><body></body></html>"[..],
            b"\xef\xbb\xbf <HTML><head><title>Links for x</title></head></HTML>\n",
            b"<body>\n</body>",
        ] {
            assert_eq!(empty_html_problem(real), None, "{real:?}");
        }
        assert_eq!(empty_html_problem(b" \n"), Some(Unreadable::Empty));
        assert_eq!(
            empty_html_problem(br#"{"meta": {"api-version": "1.1"}, "files": []}"#),
            Some(Unreadable::JsonAsHtml)
        );
        for garbage in [
            &b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..],
            b"{ not json, not html",
            b"lorem ipsum <a",
            b"<html>\0\0\0",
            b"\xff\xfe<\0h\0",
        ] {
            assert_eq!(
                empty_html_problem(garbage),
                Some(Unreadable::NotHtml),
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn reasons_read_as_sentences() {
        assert_eq!(
            Unreadable::TooLarge { limit: 256 << 20 }.to_string(),
            "it is larger than 256 MiB after decompression, the most reqlock reads for one page"
        );
        assert_eq!(
            Unreadable::ContentType("image/png".into()).to_string(),
            "its Content-Type `image/png` is neither HTML nor JSON"
        );
    }
}
