//! Differential test: reqlock's Dockerfile parser against BuildKit's own,
//! over the shared corpus of real Dockerfiles and our edge-case fixtures.
//!
//! The oracle is the PyPI package `dockerfile` (3.4.0), which wraps
//! BuildKit's Go parser (v0.12.5). The test installs it into a venv next
//! to the build (`target/dockerfile-venv`), or runs the Python named by
//! `REQLOCK_DOCKERFILE_PYTHON`, and skips with a message when it cannot.
//! For every file both must agree on acceptance, and on each instruction's
//! keyword, ONBUILD trigger, form, start and end lines, flags, arguments,
//! original text and heredocs (name, fd, body).
//!
//! The wrapper shows some things its own way; [`buildkit_view`] builds
//! reqlock's side the same way, each rule commented. Differences that come
//! from the oracle being an older BuildKit are listed in [`older_buildkit`].

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use reqlock::dockerfile::{parse, Form, Instruction, Keyword};
use serde_json::{json, Value};

const ORACLE: &str = "dockerfile==3.4.0";

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The build's target folder: the test binary is `<target>/debug/deps/it-*`.
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| manifest().join("target"))
}

fn imports_oracle(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import dockerfile"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A Python that imports the oracle, or why there is none.
fn oracle_python() -> Result<PathBuf, String> {
    if let Some(python) = std::env::var_os("REQLOCK_DOCKERFILE_PYTHON") {
        let python = PathBuf::from(python);
        return if imports_oracle(&python) {
            Ok(python)
        } else {
            Err(format!(
                "REQLOCK_DOCKERFILE_PYTHON={} cannot import dockerfile",
                python.display()
            ))
        };
    }
    let venv = target_dir().join("dockerfile-venv");
    let python = venv.join("bin/python");
    if imports_oracle(&python) {
        return Ok(python);
    }
    let run = |command: &mut Command, what: &str| -> Result<(), String> {
        let output = command
            .output()
            .map_err(|err| format!("{what} could not start: {err}"))?;
        if output.status.success() {
            Ok(())
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let last = stderr.lines().last().unwrap_or_default().to_string();
            Err(format!("{what} failed: {last}"))
        }
    };
    run(
        Command::new("python3").arg("-m").arg("venv").arg(&venv),
        "python3 -m venv",
    )?;
    run(
        Command::new(&python).args(["-m", "pip", "install", "--quiet", ORACLE]),
        &format!("pip install {ORACLE}"),
    )?;
    if imports_oracle(&python) {
        Ok(python)
    } else {
        Err(format!("{ORACLE} installed but cannot be imported"))
    }
}

/// The oracle's Python, set up once for every test of this file.
fn oracle() -> Option<&'static Path> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PYTHON.get_or_init(oracle_python) {
        Ok(python) => Some(python),
        Err(reason) => {
            eprintln!("skipped: BuildKit's parser (PyPI `{ORACLE}`) is not available: {reason}");
            None
        }
    }
}

/// BuildKit's view of `files`, from `buildkit_view.py`.
fn buildkit_views(python: &Path, files: &[PathBuf]) -> Vec<Value> {
    let script = manifest().join("tests/it/buildkit_view.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the oracle's python runs");
    let stdin = child.stdin.take().expect("stdin piped");
    serde_json::to_writer(stdin, files).expect("paths written");
    let output = child.wait_with_output().expect("buildkit_view.py finishes");
    assert!(output.status.success(), "buildkit_view.py failed");
    serde_json::from_slice(&output.stdout).expect("buildkit_view.py JSON")
}

/// reqlock's instruction, shown as the wrapper shows BuildKit's node.
fn buildkit_view(instruction: &Instruction) -> Value {
    // The wrapper reads ONBUILD's trigger for the form, the arguments and
    // the heredocs (BuildKit keeps heredocs on the ONBUILD node itself, so
    // the wrapper never shows them), and ONBUILD's own node for the rest.
    let shown = instruction.effective();
    let keyword = |text: &str| (!text.is_empty()).then(|| text.to_string());
    let value: Vec<&str> = if shown.kind == Keyword::Unknown || shown.trigger.is_some() {
        // `parseIgnore` hands on one empty node, and so does the
        // `ONBUILD ONBUILD` the wrapper looks into (the node that holds the
        // inner trigger).
        vec![""]
    } else {
        shown.args.iter().map(|arg| arg.text.as_str()).collect()
    };
    let heredocs: Vec<_> = if instruction.trigger.is_some() {
        Vec::new()
    } else {
        instruction.heredocs.iter().collect()
    };
    // The wrapper appends each heredoc's body and name to the original.
    let mut original = instruction.original.clone();
    if !heredocs.is_empty() {
        original.push('\n');
        for heredoc in &heredocs {
            original.push_str(&heredoc.content);
            original.push_str(&heredoc.name);
            original.push('\n');
        }
    }
    json!({
        "cmd": keyword(&instruction.keyword.text),
        "sub_cmd": instruction.trigger.as_ref().and_then(|t| keyword(&t.keyword.text)),
        "json": shown.form == Form::Exec,
        // The wrapper turns an empty string into None.
        "original": keyword(&original),
        "start_line": instruction.start_line,
        "end_line": instruction.end_line,
        "flags": instruction.flags.iter().map(|f| f.text.as_str()).collect::<Vec<_>>(),
        "value": value,
        "heredocs": heredocs.iter().map(|h| json!({
            "name": h.name, "fd": h.fd, "content": h.content,
        })).collect::<Vec<_>>(),
    })
}

/// Why a difference is BuildKit v0.12.5's and not today's, if it is.
fn older_buildkit(ours: &Value, theirs: &Value) -> Option<&'static str> {
    // moby/buildkit#5107 (BuildKit v0.15.0, Dockerfile frontend 1.9.0,
    // Docker 27.1, July 2024) reads the exec form with `json.Unmarshal`
    // instead of a `json.Decoder`: text after the closing bracket
    // (`RUN ["a"] <<EOF`, `CMD ["x"] # comment`) now makes it shell form;
    // v0.12.5 ignored that text and took the array.
    let text = ours["value"][0].as_str()?;
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Vec<String>>();
    let decoded = stream.next()?.ok()?;
    let trailing = !text[stream.byte_offset()..].trim().is_empty();
    let same_rest = ours["start_line"] == theirs["start_line"]
        && ours["end_line"] == theirs["end_line"]
        && ours["flags"] == theirs["flags"];
    (ours["json"] == false
        && theirs["json"] == true
        && trailing
        && same_rest
        && json!(decoded) == theirs["value"])
        .then_some("exec form with text after the array (moby/buildkit#5107)")
}

struct Outcome {
    failures: Vec<String>,
    files: usize,
    instructions: usize,
    allowed: Vec<String>,
}

fn differential(python: &Path, files: &[PathBuf]) -> Outcome {
    let views = buildkit_views(python, files);
    let mut outcome = Outcome {
        failures: Vec::new(),
        files: files.len(),
        instructions: 0,
        allowed: Vec::new(),
    };
    for (path, theirs) in files.iter().zip(&views) {
        let shown = path.display();
        let text = std::fs::read_to_string(path).expect("readable UTF-8 fixture");
        let ours = parse(&text);
        match (&ours, theirs["error"].as_str()) {
            (Err(err), Some(message)) => {
                if !message.contains(&err.to_string()) {
                    outcome.failures.push(format!(
                        "{shown}: both reject it, BuildKit with {message:?}, reqlock with {:?}",
                        err.to_string()
                    ));
                }
                continue;
            }
            (Err(err), None) => {
                outcome.failures.push(format!(
                    "{shown}: BuildKit accepts it, reqlock rejects it: {err}"
                ));
                continue;
            }
            (Ok(_), Some(message)) => {
                outcome.failures.push(format!(
                    "{shown}: BuildKit rejects it ({message}), reqlock accepts it"
                ));
                continue;
            }
            (Ok(_), None) => {}
        }
        let ours: Vec<Value> = ours
            .expect("accepted")
            .instructions
            .iter()
            .map(buildkit_view)
            .collect();
        let theirs = theirs["commands"].as_array().expect("commands");
        if ours.len() != theirs.len() {
            outcome.failures.push(format!(
                "{shown}: {} instructions for reqlock, {} for BuildKit",
                ours.len(),
                theirs.len()
            ));
        }
        for (mine, buildkit) in ours.iter().zip(theirs) {
            outcome.instructions += 1;
            if mine == buildkit {
                continue;
            }
            match older_buildkit(mine, buildkit) {
                Some(reason) => outcome
                    .allowed
                    .push(format!("{shown}:{}: {reason}", buildkit["start_line"])),
                None => outcome.failures.push(format!(
                    "{shown}:{}:\n  reqlock:  {mine}\n  BuildKit: {buildkit}",
                    buildkit["start_line"]
                )),
            }
        }
    }
    outcome
}

fn dockerfiles(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| path.is_file() && path.extension().is_none_or(|e| e != "tsv"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn report(outcome: &Outcome) {
    eprintln!(
        "compared {} files, {} instructions; {} older-BuildKit differences allowed",
        outcome.files,
        outcome.instructions,
        outcome.allowed.len()
    );
    for allowed in &outcome.allowed {
        eprintln!("  allowed: {allowed}");
    }
    assert!(
        outcome.failures.is_empty(),
        "reqlock and BuildKit disagree:\n{}",
        outcome.failures.join("\n")
    );
}

#[test]
fn dockerfile_parser_agrees_with_buildkit_on_fixtures() {
    let Some(python) = oracle() else {
        return;
    };
    let fixtures = manifest().join("tests/fixtures/dockerfiles");
    let mut files = dockerfiles(&fixtures);
    files.extend(dockerfiles(&fixtures.join("errors")));
    assert!(files.len() >= 10, "fixtures missing: {files:?}");
    let outcome = differential(python, &files);
    report(&outcome);
}

#[test]
fn dockerfile_parser_agrees_with_buildkit_on_the_shared_corpus() {
    let corpus = manifest().join("../shared/dockerfiles");
    if !corpus.is_dir() {
        eprintln!("skipped: no shared Dockerfiles at {}", corpus.display());
        return;
    }
    let Some(python) = oracle() else {
        return;
    };
    let files = dockerfiles(&corpus);
    let outcome = differential(python, &files);
    assert!(outcome.instructions > 0, "no instruction compared");
    report(&outcome);
}
