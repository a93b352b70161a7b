//! Resolution of `reqlock lock` against in-memory indexes read from
//! `tests/fixtures/lock/`: no network anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use pep508_rs::pep440_rs::Version;
use pep508_rs::PackageName;
use reqlock::compat::CompatDb;
use reqlock::index::metadata::DistMetadata;
use reqlock::lock::locked_versions;
use reqlock::lock::pylock::{write_pylock, Pylock};
use reqlock::lock::requirements_txt::{requirements_lockfile, LockfileSettings};
use reqlock::requirements::{parse_text, InstallOptions, ParseSettings, RequirementSet};
use reqlock::target::Target;
use reqlock::testing::InMemorySource;
use reqlock::tree::direct::{DirectDist, DirectError, DirectReference};
use reqlock::tree::resolve::{resolve, LockError, Resolution, ResolveOptions, Upgrade};
use reqlock::tree::source::{Candidate, Foresight, PackageSource, SourceError, Wanted};

fn fixture(name: &str) -> InMemorySource {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lock")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    InMemorySource::from_fixture(&text).expect("valid fixture")
}

fn requirements(text: &str) -> RequirementSet {
    let settings = ParseSettings {
        working_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        lookup_var: Box::new(|_| None),
    };
    parse_text(Path::new("requirements.in"), text, &settings).expect("valid requirements")
}

fn lock_with(
    source: &InMemorySource,
    text: &str,
    options: &ResolveOptions,
) -> Result<Resolution, LockError> {
    let environment =
        Target::from_flags(Some("3.11"), Some("manylinux_2_28_x86_64")).expect("valid target");
    let compat = CompatDb::bundled().expect("bundled database");
    resolve(source, &requirements(text), &environment, &compat, options)
}

fn pins_with(source: &InMemorySource, text: &str, options: &ResolveOptions) -> Vec<String> {
    let resolution = lock_with(source, text, options).expect("resolvable");
    resolution
        .packages
        .iter()
        .map(|package| format!("{}=={}", package.name, package.version))
        .collect()
}

fn pins(text: &str) -> Vec<String> {
    pins_with(&fixture("universe.toml"), text, &ResolveOptions::default())
}

fn explanation(source: &InMemorySource, text: &str) -> String {
    match lock_with(source, text, &ResolveOptions::default()) {
        Err(LockError::NoSolution { explanation }) => explanation,
        other => panic!("expected no solution, got {other:?}"),
    }
}

fn name(text: &str) -> PackageName {
    PackageName::from_str(text).expect("valid name")
}

#[test]
fn linear_chain_takes_the_newest_releases_that_fit() {
    assert_eq!(pins("app\n"), ["app==2.0", "base==1.5", "lib==3.0"]);
}

/// A release whose only Linux wheel needs a newer glibc than the target's,
/// with no sdist to build, cannot be installed there: the lock takes the
/// release before it, as pip and uv do (`open3d==0.20.0` has only a
/// `manylinux_2_35` wheel; on `manylinux_2_28` pip installs 0.18.0). The
/// lock and the audit share one wheel-tag test.
#[test]
fn a_wheel_for_a_newer_glibc_than_the_targets_is_not_locked() {
    let source = InMemorySource::from_fixture(
        r#"
default-index = "https://pkgs.example.invalid/simple"
[[release]]
name = "viz"
version = "0.18.0"
files = [{ filename = "viz-0.18.0-cp311-cp311-manylinux_2_27_x86_64.whl" }]
[[release]]
name = "viz"
version = "0.20.0"
files = [{ filename = "viz-0.20.0-cp311-cp311-manylinux_2_35_x86_64.whl" }]
"#,
    )
    .expect("valid fixture");
    // The target of `lock_with` is manylinux_2_28_x86_64.
    assert_eq!(
        pins_with(&source, "viz\n", &ResolveOptions::default()),
        ["viz==0.18.0"]
    );
}

#[test]
fn diamond_meets_both_ranges() {
    assert_eq!(
        pins("left\nright\n"),
        ["left==1.0", "right==1.0", "shared==2.0"]
    );
}

#[test]
fn backtracks_from_the_newest_release() {
    assert_eq!(
        pins("picker\nhelper\n"),
        ["helper==1.0", "picker==1.0", "tool==1.0"]
    );
}

#[test]
fn extras_add_their_dependencies_and_markers_are_evaluated() {
    assert_eq!(pins("web\n"), ["core==1.0", "web==1.0"]);
    assert_eq!(
        pins("web[fast]\n"),
        ["core==1.0", "ujson==5.9.0", "web==1.0"]
    );
    // An extra that requires another extra of its own package.
    assert_eq!(
        pins("web[all]\n"),
        ["core==1.0", "ujson==5.9.0", "web==1.0"]
    );
    assert_eq!(
        pins("tzdata; sys_platform == 'win32'\nweb\n"),
        ["core==1.0", "web==1.0"]
    );
    let resolution = lock_with(
        &fixture("universe.toml"),
        "tzdata; sys_platform == 'linux'\nweb[fast]\n",
        &ResolveOptions::default(),
    )
    .expect("resolvable");
    let tzdata = &resolution.packages[1];
    assert_eq!(tzdata.name.as_ref(), "tzdata");
    assert_eq!(tzdata.marker.as_deref(), Some("sys_platform == 'linux'"));
    let ujson = &resolution.packages[2];
    assert_eq!(
        ujson
            .via
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["web"]
    );
}

#[test]
fn core_metadata_files_drive_resolution() {
    assert_eq!(
        pins("described[speed]\n"),
        ["base==1.0", "described==1.0", "ujson==5.9.0"]
    );
}

#[test]
fn hashes_can_be_left_out() {
    let settings = LockfileSettings {
        hashes: false,
        ..lockfile_settings()
    };
    let text = requirements_lockfile(&snapshot_resolution(), &settings);
    assert!(!text.contains("--hash"), "{text}");
    assert!(
        text.contains("\ntorch==2.1.0+cu121\n    # via torchvision\n"),
        "{text}"
    );
}

#[test]
fn constraints_limit_versions_and_add_nothing() {
    let dir = tempfile::tempdir().expect("temporary folder");
    std::fs::write(
        dir.path().join("constraints.txt"),
        "base<1.5\nshared==1.0\n",
    )
    .expect("write constraints");
    let text = format!("-c {}\napp\n", dir.path().join("constraints.txt").display());
    assert_eq!(pins(&text), ["app==2.0", "base==1.0", "lib==3.0"]);
}

#[test]
fn yanked_releases_only_when_pinned() {
    assert_eq!(pins("flaky\n"), ["flaky==1.0"]);
    assert_eq!(pins("flaky==1.1\n"), ["flaky==1.1"]);
    let explanation = explanation(&fixture("universe.toml"), "flaky>1.0\n");
    assert!(
        explanation.contains("flaky==1.1 is yanked (broken wheel)"),
        "{explanation}"
    );
}

#[test]
fn pre_releases_only_when_asked_for_or_alone() {
    assert_eq!(pins("edge\n"), ["edge==1.9"]);
    assert_eq!(pins("edge>=2.0b1\n"), ["edge==2.0b1"]);
    let pre = ResolveOptions {
        prereleases: true,
        ..ResolveOptions::default()
    };
    assert_eq!(
        pins_with(&fixture("universe.toml"), "edge\n", &pre),
        ["edge==2.0b1"]
    );
    assert_eq!(pins("nightly\n"), ["nightly==0.1.dev3"]);
}

#[test]
fn requires_python_is_honoured() {
    assert_eq!(pins("modern\n"), ["modern==1.0"]);
    let explanation = explanation(&fixture("universe.toml"), "modern>=2\n");
    assert!(
        explanation.contains("modern==2.0 requires Python >=3.12"),
        "{explanation}"
    );
}

#[test]
fn releases_need_a_file_the_target_can_install() {
    assert_eq!(pins("native\n"), ["native==1.0"]);
    let linux = explanation(&fixture("universe.toml"), "native>=2\n");
    assert!(
        linux.contains("native==2.0 has no file the target can install"),
        "{linux}"
    );
    // `--no-binary` leaves only the sdist of 1.0.
    assert_eq!(pins("--no-binary native\nnative\n"), ["native==1.0"]);
    // `--only-binary :all:` leaves the Linux wheel of 1.0.
    assert_eq!(pins("--only-binary :all:\nnative\n"), ["native==1.0"]);
}

#[test]
fn exclude_newer_ignores_later_uploads() {
    assert_eq!(pins("dated\n"), ["dated==2.0"]);
    let options = ResolveOptions {
        exclude_newer: Some("2024-01-01".parse().expect("valid date")),
        ..ResolveOptions::default()
    };
    assert_eq!(
        pins_with(&fixture("universe.toml"), "dated\n", &options),
        ["dated==1.0"]
    );
}

#[test]
fn preferences_are_kept_until_released_by_upgrade() {
    let source = fixture("universe.toml");
    let preferences = BTreeMap::from([
        (
            name("steady"),
            Version::from_str("1.1").expect("valid version"),
        ),
        (
            name("base"),
            Version::from_str("1.0").expect("valid version"),
        ),
    ]);
    let keep = ResolveOptions {
        preferences: preferences.clone(),
        ..ResolveOptions::default()
    };
    assert_eq!(pins_with(&source, "steady\n", &keep), ["steady==1.1"]);
    // A preference outside the new range gives way.
    assert_eq!(pins_with(&source, "steady>1.1\n", &keep), ["steady==1.2"]);
    let all = ResolveOptions {
        upgrade: Upgrade::All,
        ..keep.clone()
    };
    assert_eq!(pins_with(&source, "steady\n", &all), ["steady==1.2"]);
    let one = ResolveOptions {
        upgrade: Upgrade::Packages(BTreeSet::from([name("steady")])),
        ..keep
    };
    assert_eq!(
        pins_with(&source, "steady\nlib\n", &one),
        ["base==1.0", "lib==3.0", "steady==1.2"]
    );
}

#[test]
fn a_second_index_provides_local_builds() {
    let source = fixture("gpu.toml");
    let resolution = lock_with(
        &source,
        "torch==2.1.0+cu121\ntorchvision\n",
        &ResolveOptions::default(),
    )
    .expect("resolvable");
    let pinned: Vec<(String, &str)> = resolution
        .packages
        .iter()
        .map(|package| {
            (
                format!("{}=={}", package.name, package.version),
                package.index.as_str(),
            )
        })
        .collect();
    assert_eq!(
        pinned,
        [
            (
                "filelock==3.13.1".to_string(),
                "https://pkgs.example.invalid/simple"
            ),
            (
                "torch==2.1.0+cu121".to_string(),
                "https://gpu.example.invalid/whl/cu121"
            ),
            (
                "torchvision==0.16.0+cu121".to_string(),
                "https://gpu.example.invalid/whl/cu121"
            ),
        ]
    );
    // `torch==2.1.0` in torchvision's metadata admits the local build.
    assert_eq!(
        pins_with(
            &source,
            "torchvision==0.16.0+cu121\n",
            &ResolveOptions::default()
        ),
        [
            "filelock==3.13.1",
            "torch==2.1.0+cu121",
            "torchvision==0.16.0+cu121"
        ]
    );
}

#[test]
fn family_rules_of_the_compat_database_steer_the_choice() {
    // Without the torch-family rule torchvision 0.17.1 (newest, no torch
    // pin) would be taken next to torch 2.1.
    assert_eq!(
        pins_with(
            &fixture("gpu.toml"),
            "torch<2.2\ntorchvision\n",
            &ResolveOptions::default()
        ),
        [
            "filelock==3.13.1",
            "torch==2.1.0+cu121",
            "torchvision==0.16.0+cu121"
        ]
    );
    let explanation = explanation(&fixture("gpu.toml"), "torch<2.2\ntorchvision==0.17.1\n");
    assert!(explanation.contains("`torch-family`"), "{explanation}");
}

#[test]
fn local_labels_of_one_family_must_agree() {
    assert_eq!(
        pins_with(
            &fixture("gpu.toml"),
            "torch==2.1.0+cu121\ntorchvision<0.17\n",
            &ResolveOptions::default()
        ),
        [
            "filelock==3.13.1",
            "torch==2.1.0+cu121",
            "torchvision==0.16.0+cu121"
        ]
    );
    insta::assert_snapshot!(explanation(
        &fixture("gpu.toml"),
        "torch==2.1.0+cu121\ntorchvision==0.16.1+cu118\n"
    ));
}

#[test]
fn unsatisfiable_requirements_are_explained() {
    insta::assert_snapshot!(explanation(&fixture("universe.toml"), "alpha\nbeta\n"));
}

#[test]
fn known_broken_combinations_are_avoided() {
    assert_eq!(
        pins("fastapi\npydantic\n"),
        ["fastapi==0.99.1", "pydantic==1.10.13"]
    );
}

#[test]
fn known_broken_combinations_name_the_rule_when_unavoidable() {
    let explanation = explanation(&fixture("universe.toml"), "fastapi\npydantic>=2\n");
    assert!(explanation.contains("fastapi-pydantic2"), "{explanation}");
    insta::assert_snapshot!(explanation);
}

#[test]
fn unknown_packages_are_reported() {
    let missing = explanation(&fixture("universe.toml"), "app\nnowhere>=1\n");
    assert!(
        missing.contains("there is no release of nowhere"),
        "{missing}"
    );
}

const TOOL_URL: &str = "https://files.example.invalid/tool-2.0-py3-none-any.whl";
const HELPER_URL: &str = "https://files.example.invalid/helper-1.0-py3-none-any.whl";

/// The universe, plus `tool` 2.0 at [`TOOL_URL`] (needing `lib<3` and, by
/// URL, `helper`) and `helper` 1.0 at [`HELPER_URL`].
fn with_direct_references() -> InMemorySource {
    let mut source = fixture("universe.toml");
    let tool = format!(
        "Metadata-Version: 2.1\nName: tool\nVersion: 2.0\nRequires-Dist: lib<3\nRequires-Dist: helper @ {HELPER_URL}\n"
    );
    source.add_direct(
        TOOL_URL,
        DistMetadata::parse(&tool).expect("valid metadata"),
        Some(format!("sha256:{}", "a".repeat(64))),
    );
    source.add_direct(
        HELPER_URL,
        DistMetadata::parse("Metadata-Version: 2.1\nName: helper\nVersion: 1.0\n")
            .expect("valid metadata"),
        Some(format!("sha256:{}", "b".repeat(64))),
    );
    source
}

#[test]
fn a_direct_reference_is_its_packages_only_candidate() {
    let source = with_direct_references();
    let text = format!("tool @ {TOOL_URL}\nhelper @ {HELPER_URL}\nlib\n");
    let resolution = lock_with(&source, &text, &ResolveOptions::default()).expect("resolvable");
    let pins: Vec<String> = resolution
        .packages
        .iter()
        .map(|package| format!("{}=={}", package.name, package.version))
        .collect();
    // `lib` is held below 3 by tool's metadata; the URL `helper` is allowed
    // because a line names the same URL.
    assert_eq!(pins, ["base==1.5", "helper==1.0", "lib==2.0", "tool==2.0"]);
    let tool = &resolution.packages[3];
    let direct = tool.direct.as_ref().expect("locked from its URL");
    assert_eq!(direct.reference.given, TOOL_URL);
    assert_eq!(direct.hash, Some(format!("sha256:{}", "a".repeat(64))));
    assert!(tool.index.is_empty() && tool.files.is_empty());
    let lockfile = requirements_lockfile(&resolution, &lockfile_settings());
    assert!(
        lockfile.contains(&format!(
            "tool @ {TOOL_URL} \\\n    --hash=sha256:{}\n",
            "a".repeat(64)
        )),
        "{lockfile}"
    );
}

#[test]
fn a_dependency_url_needs_the_same_url_on_a_requirement_line() {
    let source = with_direct_references();
    let explanation = explanation(&source, &format!("tool @ {TOOL_URL}\n"));
    assert!(
        explanation.contains(&format!(
            "depends on `helper @ {HELPER_URL}`, which is not on an index"
        )),
        "{explanation}"
    );
}

#[test]
fn vcs_and_conflicting_references_are_errors_at_their_line() {
    let source = with_direct_references();
    let err = lock_with(
        &source,
        "lib\ngit+https://git.example.invalid/tool.git#egg=tool\n",
        &ResolveOptions::default(),
    )
    .expect_err("VCS cannot be locked");
    assert!(
        matches!(&err, LockError::Direct { line: 2, source, .. } if **source == DirectError::Vcs),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("VCS requirements cannot be locked yet"),
        "{err}"
    );
    assert!(err
        .help()
        .expect("a help line")
        .contains("pin a released version"));
    let other = "https://files.example.invalid/other/tool-2.0-py3-none-any.whl";
    let mut source = source;
    source.add_direct(
        other,
        DistMetadata::parse("Metadata-Version: 2.1\nName: tool\nVersion: 2.0\n")
            .expect("valid metadata"),
        None,
    );
    let err = lock_with(
        &source,
        &format!("tool @ {TOOL_URL}\ntool @ {other}\n"),
        &ResolveOptions::default(),
    )
    .expect_err("one package, two places");
    assert!(
        matches!(err, LockError::ConflictingReferences { line: 2, .. }),
        "{err}"
    );
}

fn lockfile_settings() -> LockfileSettings {
    LockfileSettings::new(
        "reqlock lock requirements.in -o requirements.txt",
        InstallOptions {
            index_url: Some("https://pkgs.example.invalid/simple".to_string()),
            extra_index_urls: vec!["https://ci:t0ken@gpu.example.invalid/whl/cu121".to_string()],
            ..InstallOptions::default()
        },
    )
}

fn snapshot_resolution() -> Resolution {
    let mut source = fixture("universe.toml");
    for (candidate, metadata) in gpu_releases() {
        source.add(candidate, metadata);
    }
    lock_with(
        &source,
        "app\nweb[fast]\ntzdata; sys_platform == 'linux'\ntorchvision==0.16.0+cu121\nlib\n",
        &ResolveOptions::default(),
    )
    .expect("resolvable")
}

/// The GPU index's releases, to merge into the universe.
fn gpu_releases() -> Vec<(Candidate, DistMetadata)> {
    let source = fixture("gpu.toml");
    let mut releases = Vec::new();
    for name in ["torch", "torchvision", "filelock"] {
        let name = PackageName::from_str(name).expect("valid name");
        for candidate in source.releases(&name) {
            let metadata = source
                .metadata(&name, &candidate.version)
                .expect("known release");
            releases.push((candidate, metadata));
        }
    }
    releases
}

#[test]
fn requirements_lockfile_snapshot_and_round_trip() {
    let resolution = snapshot_resolution();
    let text = requirements_lockfile(&resolution, &lockfile_settings());
    assert!(!text.contains("t0ken"), "credentials are removed");
    insta::assert_snapshot!(text);
    let parsed = requirements(&text);
    let read_back: Vec<(String, String, Vec<String>)> = parsed
        .requirements
        .iter()
        .map(|requirement| {
            (
                requirement.name.as_ref().expect("named").to_string(),
                requirement.specifier.to_string(),
                requirement.hashes.clone(),
            )
        })
        .collect();
    let expected: Vec<(String, String, Vec<String>)> = resolution
        .packages
        .iter()
        .map(|package| {
            let mut hashes: Vec<String> = package
                .files
                .iter()
                .filter_map(|file| file.sha256())
                .collect();
            hashes.sort();
            (
                package.name.to_string(),
                format!("=={}", package.version),
                hashes,
            )
        })
        .collect();
    assert_eq!(read_back, expected);
    let kept: Vec<String> = locked_versions(&parsed)
        .iter()
        .map(|(name, version)| format!("{name}=={version}"))
        .collect();
    let locked: Vec<String> = resolution
        .packages
        .iter()
        .map(|package| format!("{}=={}", package.name, package.version))
        .collect();
    assert_eq!(kept, locked);
    assert_eq!(
        parsed.options.extra_index_urls,
        ["https://gpu.example.invalid/whl/cu121"]
    );
}

#[test]
fn pylock_snapshot_and_round_trip() {
    let resolution = snapshot_resolution();
    let text = write_pylock(
        &resolution,
        "reqlock lock requirements.in --format pylock",
        "==3.11.*",
        Path::new("."),
    );
    insta::assert_snapshot!(text);
    let lock = Pylock::parse(&text).expect("valid pylock");
    let pins: Vec<(String, Option<String>, Option<String>)> = lock
        .packages
        .iter()
        .map(|package| {
            (
                package.name.to_string(),
                package.version.as_ref().map(ToString::to_string),
                package.index.clone(),
            )
        })
        .collect();
    let expected: Vec<(String, Option<String>, Option<String>)> = resolution
        .packages
        .iter()
        .map(|package| {
            (
                package.name.to_string(),
                Some(package.version.to_string()),
                Some(package.index.clone()),
            )
        })
        .collect();
    assert_eq!(pins, expected);
    let torch = lock
        .packages
        .iter()
        .find(|package| package.name.as_ref() == "torch")
        .expect("torch is locked");
    assert_eq!(torch.wheels.len(), 1);
    assert_eq!(
        torch.wheels[0].hashes,
        resolution
            .packages
            .iter()
            .find(|package| package.name.as_ref() == "torch")
            .expect("torch")
            .files[0]
            .sha256()
            .into_iter()
            .collect::<Vec<_>>()
    );
}

/// An in-memory source that, told a package will be needed, records what
/// the resolver's foresight picks for it and what that release requires.
struct Anticipating {
    inner: InMemorySource,
    seen: Mutex<BTreeMap<String, Anticipated>>,
}

/// For `name[extras]`: the picked version, and the requirements read there.
type Anticipated = (Option<String>, Vec<String>);

impl PackageSource for Anticipating {
    fn versions(&self, name: &PackageName) -> Result<Vec<Version>, SourceError> {
        self.inner.versions(name)
    }

    fn release(&self, name: &PackageName, version: &Version) -> Result<Candidate, SourceError> {
        self.inner.release(name, version)
    }

    fn metadata(&self, name: &PackageName, version: &Version) -> Result<DistMetadata, SourceError> {
        self.inner.metadata(name, version)
    }

    fn direct(&self, reference: &DirectReference) -> Result<DirectDist, DirectError> {
        self.inner.direct(reference)
    }

    fn prefetch(&self, wanted: Wanted, foresight: &Arc<dyn Foresight>) {
        let versions = self.inner.versions(&wanted.name).expect("in memory");
        let picked = foresight.pick(&wanted, &versions);
        let requirements = picked
            .as_ref()
            .and_then(|version| self.inner.metadata(&wanted.name, version).ok())
            .map(|metadata| foresight.requirements(&wanted, &metadata))
            .unwrap_or_default()
            .iter()
            .map(|next| format!("{}[{}] {}", next.name, next.extras.len(), next.range))
            .collect();
        let extras: Vec<String> = wanted.extras.iter().map(ToString::to_string).collect();
        self.seen.lock().expect("not poisoned").insert(
            format!("{}[{}]", wanted.name, extras.join(",")),
            (picked.map(|version| version.to_string()), requirements),
        );
    }
}

#[test]
fn the_resolvers_foresight_picks_what_it_locks_and_reads_extras_and_constraints() {
    let source = Anticipating {
        inner: fixture("universe.toml"),
        seen: Mutex::default(),
    };
    let environment =
        Target::from_flags(Some("3.11"), Some("manylinux_2_28_x86_64")).expect("valid target");
    let compat = CompatDb::bundled().expect("bundled database");
    let dir = tempfile::tempdir().expect("temporary folder");
    let constraints = dir.path().join("constraints.txt");
    std::fs::write(&constraints, "base<1.5\n").expect("write constraints");
    let set = requirements(&format!("-c {}\napp\nweb[fast]\n", constraints.display()));
    let resolution = resolve(
        &source,
        &set,
        &environment,
        &compat,
        &ResolveOptions::default(),
    )
    .expect("resolvable");
    let seen = source.seen.lock().expect("not poisoned");
    // Without backtracking, every anticipated pick is the locked version.
    for package in &resolution.packages {
        let (picked, _) = &seen[&format!("{}[]", package.name)];
        assert_eq!(
            picked.as_deref(),
            Some(package.version.to_string().as_str()),
            "{}",
            package.name
        );
    }
    // The extra adds its requirement; the Windows-only one is left out.
    let (_, with_extra) = &seen["web[fast]"];
    assert!(
        with_extra.iter().any(|r| r.starts_with("ujson[0]")),
        "{with_extra:?}"
    );
    assert!(
        !with_extra.iter().any(|r| r.starts_with("colorama")),
        "{with_extra:?}"
    );
    // What lib requires of base is narrowed by the constraint.
    let (_, of_lib) = &seen["lib[]"];
    let base = of_lib
        .iter()
        .find(|r| r.starts_with("base[0]"))
        .expect("lib requires base");
    assert!(base.contains("<1.5"), "{base}");
}

#[test]
fn reported_rules_constrain_the_lock_only_when_trusted() {
    let compat = CompatDb::from_sources([(
        "reported.toml".to_string(),
        r#"
[[broken]]
id = "lib3-base15"
packages = { lib = ">=3", base = ">=1.5" }
evidence = "reported"
symptom = "an error a user reported"
fix = "pin lib<3"
source = "https://example.invalid/report"
"#
        .to_string(),
    )])
    .expect("valid database");
    let environment =
        Target::from_flags(Some("3.11"), Some("manylinux_2_28_x86_64")).expect("valid target");
    let lock = |trust_reported: bool| -> Vec<String> {
        let options = ResolveOptions {
            trust_reported,
            ..ResolveOptions::default()
        };
        let resolution = resolve(
            &fixture("universe.toml"),
            &requirements("app\n"),
            &environment,
            &compat,
            &options,
        )
        .expect("resolvable");
        resolution
            .packages
            .iter()
            .map(|package| format!("{}=={}", package.name, package.version))
            .collect()
    };
    assert_eq!(lock(false), ["app==2.0", "base==1.5", "lib==3.0"]);
    let trusted = lock(true);
    assert!(
        !(trusted.contains(&"lib==3.0".to_string()) && trusted.contains(&"base==1.5".to_string())),
        "{trusted:?}"
    );
}
