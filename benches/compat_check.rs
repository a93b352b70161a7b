//! Benchmark: checking a 500-package pinned set against the whole compat
//! database (target: under 5 ms). The set holds the packages the database
//! has rules about (so every rule kind does real work) plus filler pins.
//!
//! Run with `cargo bench --bench compat_check`; figures go to BENCHMARKS.md.

// A benchmark reports on stdout.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use reqlock::audit::compat::{check, subjects, CompatSettings};
use reqlock::audit::group_by_name;
use reqlock::compat::CompatDb;
use reqlock::requirements::{parse_text, ParseSettings};

fn main() {
    let db = CompatDb::bundled().expect("bundled database loads");
    let mut text = String::new();
    let known = [
        "torch==2.1.0+cu121",
        "torchvision==0.17.0+cu118",
        "torchaudio==2.1.0+cu121",
        "numpy==2.0.0",
        "pandas==2.1.0",
        "scipy==1.11.4",
        "scikit-learn==1.3.0",
        "matplotlib==3.8.0",
        "gradio==6.0.2",
        "modelscope==1.13.0",
        "flask==2.2.2",
        "werkzeug==3.0.1",
        "fastapi==0.99.0",
        "pydantic==2.5.0",
        "huggingface-hub==0.26.0",
        "diffusers==0.28.0",
    ];
    for line in known {
        let _ = writeln!(text, "{line}");
    }
    for index in known.len()..500 {
        let _ = writeln!(
            text,
            "filler-package-{index}=={}.0.1 ; python_version >= '3.9'",
            index % 40
        );
    }
    let set = parse_text(
        Path::new("bench.txt"),
        &text,
        &ParseSettings::from_environment(),
    )
    .expect("generated file parses");
    let settings = CompatSettings {
        cuda: Some("12.1".parse().expect("a CUDA version")),
        driver: Some("525.60.13".parse().expect("a driver version")),
        trust_reported: false,
    };
    let by_name = group_by_name(&set.requirements);
    let installed = subjects(&set, &by_name, &[]);
    let mut samples: Vec<Duration> = Vec::new();
    let mut findings = 0;
    for _ in 0..200 {
        let start = Instant::now();
        let found = check(
            &db,
            &subjects(&set, &group_by_name(&set.requirements), &[]),
            &settings,
        );
        samples.push(start.elapsed());
        findings = found.len();
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "compat check of {} packages against {} rules, {findings} findings",
        installed.len(),
        db.rules().count()
    );
    println!(
        "  min {:.3} ms  median {:.3} ms  max {:.3} ms  (200 runs, subjects + checks)",
        ms(samples[0]),
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() - 1])
    );
}
