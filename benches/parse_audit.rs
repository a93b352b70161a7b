//! Benchmark: parse + offline audit of a generated 5,000-line requirements
//! file set (one top file including ten parts), in process, plus the peak
//! memory of the whole `reqlock audit` process on the same files.
//!
//! Run with `cargo bench --bench parse_audit`; figures go to BENCHMARKS.md.

// A benchmark reports on stdout.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqlock::audit::{audit, AuditSettings};
use reqlock::compat::CompatDb;
use reqlock::requirements::{parse_files, ParseSettings};

const PARTS: usize = 10;
const LINES_PER_PART: usize = 500;

/// One line of a realistic mix: pins, ranges, markers, extras, hashes
/// (with continuations), comments and blank lines.
fn line(part: usize, index: usize) -> String {
    let name = format!("package-{part}-{index}");
    match index % 10 {
        0 => format!("# section {index}"),
        1 => String::new(),
        2 => format!("{name}>=1.{index},<2"),
        3 => format!("{name}[extra]=={index}.0.1 ; python_version >= \"3.9\""),
        4 => format!(
            "{name}=={index}.1 \\\n    --hash=sha256:{:064x}",
            index * 7919 + part
        ),
        5 => format!("{name}~={index}.2  # trailing comment"),
        6 => format!("{name}=={index}.3+cu121"),
        7 => format!("{name} @ https://files.invalid/{name}-1.0.tar.gz"),
        8 => name,
        _ => {
            format!("{name}!={index}.0 ; sys_platform == 'linux' and platform_machine == 'x86_64'")
        }
    }
}

fn generate(dir: &Path) -> (PathBuf, usize) {
    let mut top = String::new();
    let mut total_lines = PARTS;
    for part in 0..PARTS {
        let mut text = String::new();
        for index in 0..LINES_PER_PART {
            let line = line(part, index);
            total_lines += line.lines().count().max(1);
            let _ = writeln!(text, "{line}");
        }
        let name = format!("part-{part}.txt");
        std::fs::write(dir.join(&name), text).expect("write part");
        let _ = writeln!(top, "-r {name}");
    }
    let top_path = dir.join("requirements.txt");
    std::fs::write(&top_path, top).expect("write top file");
    (top_path, total_lines)
}

/// Peak memory of the offline audit: `--offline` with an empty cache and
/// a fixed target, so that nothing is asked of any index or of python3.
fn peak_memory_kib(top: &Path, cache: &Path) -> Option<u64> {
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_reqlock"))
        .args([
            "audit",
            "--offline",
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
        .args([
            "--python-version",
            "3.12",
            "--platform",
            "manylinux_2_28_x86_64",
        ])
        .arg(top)
        .env("REQLOCK_CACHE_DIR", cache)
        .env("PIP_INDEX_URL", "http://127.0.0.1:9/simple/")
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    stderr.lines().last()?.trim().parse().ok()
}

fn report(label: &str, samples: &mut [Duration]) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "  {label}: min {:.2} ms  median {:.2} ms  max {:.2} ms  ({} runs)",
        ms(samples[0]),
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() - 1]),
        samples.len()
    );
}

fn main() {
    let dir = std::env::temp_dir().join(format!("reqlock-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let (top, lines) = generate(&dir);
    let settings = ParseSettings::from_environment();
    let paths = vec![top.clone()];
    let db = CompatDb::bundled().expect("bundled database loads");

    let mut total: Vec<Duration> = Vec::new();
    let mut parse_only: Vec<Duration> = Vec::new();
    let mut findings = 0;
    for _ in 0..50 {
        let start = Instant::now();
        let set = parse_files(&paths, &settings).expect("generated files parse");
        parse_only.push(start.elapsed());
        let outcome = audit(&set, &db, &AuditSettings::default(), None);
        total.push(start.elapsed());
        findings = outcome.findings.len();
    }
    println!(
        "parse+audit of {lines} lines in {} files, {findings} findings",
        PARTS + 1
    );
    report("parse+audit", &mut total);
    report("parse only ", &mut parse_only);
    match peak_memory_kib(&top, &dir.join("cache")) {
        Some(kib) => println!(
            "  peak RSS of `reqlock audit` on the same files: {:.1} MiB",
            kib as f64 / 1024.0
        ),
        None => println!("  peak RSS: /usr/bin/time not available"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
