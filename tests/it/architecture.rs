//! The shape of the code, held by tests: the top-level modules of `src/`
//! depend on each other one way only, in the layers `lib.rs` documents;
//! no source file grows past what a reader takes in; `main.rs` stays thin.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may use the modules of lower layers
/// only: never its own layer's, never a higher one's. Keep in step with
/// the module doc of `src/lib.rs` and with ARCHITECTURE.md.
const LAYERS: &[&[&str]] = &[
    &["diagnostic", "parallel", "redact"],
    &["requirements", "dockerfile"],
    &["compat"],
    &["index"],
    &["target"],
    &["select", "tree"],
    &["audit", "testing"],
    &["report", "lock"],
    &["cli"],
];

/// The most lines a source file may have.
const MAX_LINES: usize = 800;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The top-level module a file of `src/` belongs to (`index` for
/// `src/index/cache.rs`), `None` for `lib.rs` and `main.rs`.
fn module_of(file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src()).expect("under src");
    let first = relative.components().next()?.as_os_str().to_string_lossy();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// The top-level modules a file names as `crate::<module>`, outside
/// comments and `#[cfg(test)]` code (unit tests may reach anywhere).
fn uses(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut found = Vec::new();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
    }
    found
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

#[test]
fn modules_depend_on_lower_layers_only() {
    let mut edges: BTreeMap<(String, String), PathBuf> = BTreeMap::new();
    let mut unlisted = Vec::new();
    for file in rust_files(&src()) {
        let Some(module) = module_of(&file) else {
            continue;
        };
        if layer_of(&module).is_none() && !unlisted.contains(&module) {
            unlisted.push(module.clone());
        }
        let text = std::fs::read_to_string(&file).expect("readable file");
        for used in uses(&text) {
            if used != module {
                edges.entry((module.clone(), used)).or_insert(file.clone());
            }
        }
    }
    assert!(
        unlisted.is_empty(),
        "modules missing from LAYERS: {unlisted:?}"
    );
    let wrong: Vec<String> = edges
        .iter()
        .filter(|((from, to), _)| match (layer_of(from), layer_of(to)) {
            (Some(from), Some(to)) => to >= from,
            _ => true,
        })
        .map(|((from, to), file)| format!("{from} -> {to} ({})", file.display()))
        .collect();
    assert!(
        wrong.is_empty(),
        "dependencies against the layering:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_source_file_is_too_long_and_main_is_thin() {
    let long: Vec<String> = rust_files(&src())
        .into_iter()
        .filter_map(|file| {
            let lines = std::fs::read_to_string(&file).ok()?.lines().count();
            (lines > MAX_LINES).then(|| format!("{}: {lines} lines", file.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these files:\n{}", long.join("\n"));
    let main = std::fs::read_to_string(src().join("main.rs")).expect("main.rs");
    assert!(main.lines().count() < 20, "main.rs has grown");
}

#[test]
fn the_checker_sees_uses_and_skips_comments_and_tests() {
    let text = "use crate::index::Cache;\n// crate::cli in a comment\nfn f() { crate::target::x(); }\n#[cfg(test)]\nmod tests { use crate::cli; }\n";
    assert_eq!(uses(text), ["index", "target"]);
}
