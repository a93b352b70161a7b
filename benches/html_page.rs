//! Benchmark: parsing PEP 503 HTML pages, well-formed and hostile (80k
//! anchors that never close, once quadratic: 33–61 s), in process.
//!
//! Run with `cargo bench --bench html_page`; figures go to BENCHMARKS.md.

// A benchmark reports on stdout.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use reqlock::index::page::parse_html;
use reqwest::Url;

const ANCHORS: usize = 80_000;

fn page(closed: bool) -> String {
    let mut body = String::from("<!DOCTYPE html><html><body>\n");
    for n in 0..ANCHORS {
        let name = format!("demo-{n}.0.tar.gz");
        body.push_str(&format!("<a href=\"../../files/{name}#sha256={n:064x}\">"));
        if closed {
            body.push_str(&format!("{name}</a><br/>\n"));
        } else {
            body.push('\n');
        }
    }
    body.push_str("</body></html>\n");
    body
}

fn main() {
    let base = Url::parse("http://127.0.0.1:1/simple/demo/").expect("base URL");
    for (label, body) in [("well-formed", page(true)), ("unclosed", page(false))] {
        let mut samples: Vec<Duration> = (0..10)
            .map(|_| {
                let start = Instant::now();
                let parsed = parse_html(&body, &base);
                assert_eq!(parsed.files.len(), ANCHORS);
                start.elapsed()
            })
            .collect();
        samples.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{label} page, {ANCHORS} anchors ({:.1} MB): min {:.1} ms  median {:.1} ms  max {:.1} ms",
            body.len() as f64 / 1e6,
            ms(samples[0]),
            ms(samples[samples.len() / 2]),
            ms(samples[samples.len() - 1]),
        );
    }
}
