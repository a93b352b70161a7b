//! File URLs of a page made absolute, with a fast path for the URLs an
//! index already writes as the URL parser would.

use std::borrow::Cow;

use reqwest::Url;

pub(super) fn absolute(base: &Url, href: &str) -> Option<Url> {
    base.join(href).ok()
}

/// `href` made absolute against `base`, without its fragment. An index's
/// file URLs are usually absolute already and written as the URL parser
/// would write them; those are only checked, not parsed and rebuilt.
pub(super) fn resolve<'a>(base: &Url, href: Cow<'a, str>) -> Option<Cow<'a, str>> {
    let end = href.find('#').unwrap_or(href.len());
    if is_normalized_absolute(&href[..end]) {
        return Some(match href {
            Cow::Borrowed(text) => Cow::Borrowed(&text[..end]),
            Cow::Owned(mut text) => {
                text.truncate(end);
                Cow::Owned(text)
            }
        });
    }
    absolute(base, &href).map(|url| Cow::Owned(without_fragment(url)))
}

/// Whether the URL parser would give `url` back unchanged: an http(s) URL
/// with a plain lower-case host name (no port, credentials, IP address or
/// international name), and a path without dot segments, query or any
/// character it would escape. Anything else takes the parser's path. This
/// runs for every file of every page, so it is one pass over the bytes.
pub(super) fn is_normalized_absolute(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return false;
    };
    let Some(slash) = rest.find('/') else {
        return false;
    };
    let (host, path) = rest.split_at(slash);
    is_plain_host(host) && is_plain_path(path.as_bytes())
}

pub(super) fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.'))
        && host.split('.').all(|label| !label.is_empty() && !label.starts_with("xn--"))
        // A last label that starts with a digit makes an IPv4 address,
        // which the parser rewrites (`1.2.3` is `1.2.0.3`).
        && host
            .rsplit('.')
            .next()
            .is_some_and(|last| !last.starts_with(|c: char| c.is_ascii_digit()))
}

/// Whether a segment of `path` starts with a dot (`/.`).
pub(super) fn contains_dot_segment_start(path: &[u8]) -> bool {
    path.windows(2).any(|pair| pair == b"/.")
}

/// Bytes a path keeps as they are (besides `%` with two hex digits).
pub(super) const PLAIN_PATH: [bool; 256] = {
    let mut plain = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        plain[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
            );
        b += 1;
    }
    plain
};

/// `path` starts with `/`.
pub(super) fn is_plain_path(path: &[u8]) -> bool {
    // Most paths have neither escapes nor segments that start with a dot:
    // a branch-free look at each byte settles those.
    if path.iter().all(|&b| PLAIN_PATH[usize::from(b)]) && !contains_dot_segment_start(path) {
        return true;
    }
    let mut at = 0;
    while at < path.len() {
        match path[at] {
            // `%2e` is a dot to the parser, so it could make a dot segment.
            b'%' => match path.get(at + 1..at + 3) {
                Some([high, low])
                    if high.is_ascii_hexdigit()
                        && low.is_ascii_hexdigit()
                        && !(*high == b'2' && low.eq_ignore_ascii_case(&b'e')) =>
                {
                    at += 3
                }
                _ => return false,
            },
            b'.' if at > 0 && path[at - 1] == b'/' => {
                let end = path[at..]
                    .iter()
                    .position(|&b| b == b'/')
                    .map_or(path.len(), |i| at + i);
                if matches!(&path[at..end], b"." | b"..") {
                    return false;
                }
                at += 1;
            }
            b if PLAIN_PATH[usize::from(b)] => at += 1,
            _ => return false,
        }
    }
    true
}

pub(super) fn without_fragment(mut url: Url) -> String {
    url.set_fragment(None);
    url.to_string()
}
