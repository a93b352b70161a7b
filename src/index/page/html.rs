//! PEP 503 HTML pages (and find-links pages), read leniently as pip reads
//! them: anchors, their attributes and character references.

use std::collections::BTreeMap;

use super::*;
use percent_encoding::percent_decode_str;
use reqwest::Url;

/// Parse a PEP 503 HTML page (or a find-links page) fetched from `base`.
/// Anchors are read leniently, as pip does: a page it cannot make sense of
/// simply lists no files.
pub fn parse_html(body: &str, base: &Url) -> ProjectPage {
    // `<base href>` changes what relative links resolve against.
    let base = elements(body, "base")
        .into_iter()
        .find_map(|attributes| attribute(&attributes, "href").and_then(|h| absolute(base, &h)))
        .unwrap_or_else(|| base.clone());
    let files = elements(body, "a")
        .into_iter()
        .filter_map(|attributes| {
            let href = attribute(&attributes, "href")?;
            let url = absolute(&base, &href)?;
            let mut hashes = BTreeMap::new();
            if let Some((algorithm, digest)) = url.fragment().and_then(|f| f.split_once('=')) {
                hashes.insert(algorithm.to_string(), digest.to_string());
            }
            let filename = url
                .path_segments()
                .and_then(|mut segments| segments.next_back())
                .map(|last| percent_decode_str(last).decode_utf8_lossy().into_owned())
                .filter(|name| !name.is_empty())?;
            let metadata = attribute(&attributes, "data-core-metadata")
                .or_else(|| attribute(&attributes, "data-dist-info-metadata"));
            Some(DistFile {
                filename,
                hashes,
                requires_python: attribute(&attributes, "data-requires-python")
                    .filter(|s| !s.trim().is_empty()),
                yanked: attribute(&attributes, "data-yanked"),
                core_metadata: metadata.as_deref().is_some_and(|value| value != "false"),
                metadata_sha256: metadata
                    .as_deref()
                    .and_then(|value| value.strip_prefix("sha256="))
                    .map(str::to_ascii_lowercase),
                size: None,
                upload_time: None,
                url: Some(without_fragment(url)),
            })
        })
        .collect();
    ProjectPage {
        files,
        omitted_versions: Vec::new(),
    }
}

/// The attributes of every `<tag ...>` element, with attribute names
/// lower-cased and values entity-decoded. One pass over the page: what an
/// element encloses is never read (a page of unclosed anchors would make
/// looking for each one's end quadratic).
pub(super) fn elements(body: &str, tag: &str) -> Vec<Vec<(String, String)>> {
    let lower = body.to_ascii_lowercase();
    let open = format!("<{tag}");
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(start) = lower[at..].find(&open).map(|i| i + at) {
        let after_name = start + open.len();
        at = after_name;
        let Some(next) = lower[after_name..].chars().next() else {
            break;
        };
        if !(next.is_ascii_whitespace() || next == '>' || next == '/') {
            continue;
        }
        let (attributes, end) = parse_attributes(body, after_name);
        at = end;
        found.push(attributes);
    }
    found
}

/// Attributes from `at` up to the closing `>`; returns them and the index
/// after the `>`.
pub(super) fn parse_attributes(body: &str, mut at: usize) -> (Vec<(String, String)>, usize) {
    let bytes = body.as_bytes();
    let mut attributes = Vec::new();
    loop {
        while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b'/') {
            at += 1;
        }
        if at >= bytes.len() {
            return (attributes, at);
        }
        if bytes[at] == b'>' {
            return (attributes, at + 1);
        }
        let name_start = at;
        while at < bytes.len()
            && !bytes[at].is_ascii_whitespace()
            && !matches!(bytes[at], b'=' | b'>' | b'/')
        {
            at += 1;
        }
        let name = body[name_start..at].to_ascii_lowercase();
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if at < bytes.len() && bytes[at] == b'=' {
            at += 1;
            while at < bytes.len() && bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            let value = if at < bytes.len() && matches!(bytes[at], b'"' | b'\'') {
                let quote = bytes[at];
                let start = at + 1;
                let end = bytes[start..]
                    .iter()
                    .position(|&b| b == quote)
                    .map_or(bytes.len(), |i| start + i);
                at = (end + 1).min(bytes.len());
                &body[start..end]
            } else {
                let start = at;
                while at < bytes.len() && !bytes[at].is_ascii_whitespace() && bytes[at] != b'>' {
                    at += 1;
                }
                &body[start..at]
            };
            attributes.push((name, decode_entities(value)));
        } else if !name.is_empty() {
            attributes.push((name, String::new()));
        } else {
            at += 1;
        }
    }
}

pub(super) fn attribute(attributes: &[(String, String)], name: &str) -> Option<String> {
    attributes
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
}

/// The character references that appear in index pages (`&gt;=3.8`).
pub(super) fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|&i| i <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_of_unclosed_anchors_is_read_in_one_pass() {
        // 200k anchors that never close (once quadratic: each looked for
        // its `</a` in the rest of the page), then one that does.
        let count = 200_000;
        let mut body = String::from("<html><body>\n");
        for n in 0..count {
            body.push_str(&format!(
                "<a href=\"demo-{n}.0.tar.gz#sha256={n:x}\">demo\n"
            ));
        }
        body.push_str("<a href='demo-last.tar.gz'>demo-last.tar.gz</a></body></html>");
        let base = Url::parse("http://127.0.0.1:1/simple/demo/").unwrap();
        let page = parse_html(&body, &base);
        assert_eq!(page.files.len(), count + 1);
        for (n, file) in page.files.iter().take(count).enumerate() {
            assert_eq!(file.filename, format!("demo-{n}.0.tar.gz"));
            assert_eq!(file.hashes["sha256"], format!("{n:x}"));
        }
        let last = &page.files[count];
        assert_eq!(last.filename, "demo-last.tar.gz");
        assert_eq!(
            last.url.as_deref(),
            Some("http://127.0.0.1:1/simple/demo/demo-last.tar.gz")
        );
    }

    #[test]
    fn unclosed_and_nested_anchors_are_read_as_before() {
        let base = Url::parse("http://127.0.0.1:1/simple/demo/").unwrap();
        let body =
            "<a href=a-1.0.tar.gz><a\thref='a-2.0.tar.gz' data-yanked>x</a><abbr href=no.tar.gz>\
            <a/href=a-3.0.tar.gz><a href=\"a-4.0.tar.gz";
        let names: Vec<String> = parse_html(body, &base)
            .files
            .into_iter()
            .map(|file| file.filename)
            .collect();
        assert_eq!(
            names,
            [
                "a-1.0.tar.gz",
                "a-2.0.tar.gz",
                "a-3.0.tar.gz",
                "a-4.0.tar.gz"
            ]
        );
    }
}
