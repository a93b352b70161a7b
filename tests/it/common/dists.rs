//! Distributions the lock tests serve or put next to a project, built in
//! memory: a zip writer (stored entries with the CRCs pip checks), pure
//! Python wheels, `.tar.gz` and `.zip` sdists and in-tree PEP 517 backends'
//! `pyproject.toml`. The same inputs always give the same bytes, so hashes
//! in snapshots stay put.

use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

/// The hex sha256 of `body`.
pub fn sha256(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A zip of `files`, stored uncompressed, with the CRCs pip checks.
pub fn zip(files: &[(String, String)]) -> Vec<u8> {
    let entries: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(name, text)| (name.as_str(), text.as_bytes()))
        .collect();
    reqlock::testing::zip::stored(&entries)
}

/// A pure-Python wheel of `distribution` 1.0 with these `Requires-Dist`
/// and an empty module.
pub fn wheel(distribution: &str, requires: &[&str]) -> Vec<u8> {
    wheel_with_module(distribution, requires, "")
}

/// A pure-Python wheel of `distribution` 1.0 with these `Requires-Dist`,
/// whose one module (the distribution's name with `_` for `-`) holds
/// `source`.
pub fn wheel_with_module(distribution: &str, requires: &[&str], source: &str) -> Vec<u8> {
    let module = distribution.replace('-', "_");
    let dist_info = format!("{module}-1.0.dist-info");
    let mut metadata = format!("Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n");
    for requirement in requires {
        metadata.push_str(&format!("Requires-Dist: {requirement}\n"));
    }
    zip(&[
        (format!("{module}/__init__.py"), source.to_string()),
        (format!("{dist_info}/METADATA"), metadata),
        (
            format!("{dist_info}/WHEEL"),
            "Wheel-Version: 1.0\nGenerator: reqlock-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n".to_string(),
        ),
        (
            format!("{dist_info}/RECORD"),
            format!("{module}/__init__.py,,\n{dist_info}/METADATA,,\n{dist_info}/WHEEL,,\n{dist_info}/RECORD,,\n"),
        ),
    ])
}

/// A `.tar.gz` sdist of `name-version/` holding `files`.
pub fn tar_gz_sdist(name: &str, version: &str, files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (path, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        builder
            .append_data(
                &mut header,
                format!("{name}-{version}/{path}"),
                text.as_bytes(),
            )
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// A `.zip` sdist of `name-version/` holding `files`.
pub fn zip_sdist(name: &str, version: &str, files: &[(&str, &str)]) -> Vec<u8> {
    zip(&files
        .iter()
        .map(|(path, text)| (format!("{name}-{version}/{path}"), text.to_string()))
        .collect::<Vec<_>>())
}

/// `pyproject.toml` of an in-tree backend: the module `backend` from the
/// project's root, with these build `requires` (a TOML list).
pub fn in_tree_pyproject(requires: &str) -> String {
    format!(
        "[build-system]\nrequires = {requires}\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n"
    )
}

/// A `.tar.gz` sdist of `top-1.0/` with this `PKG-INFO`, an in-tree
/// backend `backend.py` and its `pyproject.toml` (build `requires`).
pub fn in_tree_sdist(top: &str, pkg_info: &str, requires: &str, backend: &str) -> Vec<u8> {
    tar_gz_sdist(
        top,
        "1.0",
        &[
            ("PKG-INFO", pkg_info),
            ("pyproject.toml", &in_tree_pyproject(requires)),
            ("backend.py", backend),
        ],
    )
}

/// Builds need the local python3 with pip; without them a test is skipped.
pub fn python_with_pip() -> bool {
    let available = Command::new("python3")
        .args(["-m", "pip", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !available {
        eprintln!("skipped: python3 -m pip is not available");
    }
    available
}
