//! The compat database checks, table-driven, in both directions: the broken
//! set fires, the fixed set stays silent. Exact pins only, so no network.

use serde_json::Value;
use std::process::Command;

const COMPAT_RULES: &[&str] = &[
    "mismatched-family",
    "cuda-mismatch",
    "known-broken",
    "range-admits-broken",
    "outside-verified",
];

struct Case {
    name: &'static str,
    requirements: &'static str,
    args: &'static [&'static str],
    /// `(rule, severity, package)` of every compat finding, in order.
    expected: &'static [(&'static str, &'static str, &'static str)],
}

const CASES: &[Case] = &[
    Case {
        name: "torchvision from another torch release",
        requirements: "torch==2.1.0\ntorchvision==0.17.0\n",
        args: &[],
        expected: &[("mismatched-family", "error", "torchvision")],
    },
    Case {
        name: "matching torch and torchvision builds",
        requirements: "torch==2.1.0+cu121\ntorchvision==0.16.0+cu121\ntorchaudio==2.1.0+cu121\n",
        args: &[],
        expected: &[],
    },
    Case {
        name: "torchaudio after its last release",
        requirements: "torch==2.12.0\ntorchaudio==2.11.0\n",
        args: &[],
        expected: &[("mismatched-family", "error", "torchaudio")],
    },
    Case {
        name: "pin that comes from a constraint file",
        requirements: "torch\ntorchvision==0.17.0\n-c constraints.txt\n",
        args: &[],
        expected: &[("mismatched-family", "error", "torchvision")],
    },
    Case {
        name: "members built for different CUDA versions",
        requirements: "torch==2.1.0+cu121\ntorchvision==0.16.0+cu118\n",
        args: &[],
        expected: &[("cuda-mismatch", "error", "torchvision")],
    },
    Case {
        name: "a CPU build next to a CUDA build",
        requirements: "torch==2.1.0+cpu\ntorchvision==0.16.0+cu121\n",
        args: &[],
        expected: &[("cuda-mismatch", "error", "torchvision")],
    },
    Case {
        name: "label disagrees with --cuda",
        requirements: "torch==2.1.0+cu121\n",
        args: &["--cuda", "11.8"],
        expected: &[("cuda-mismatch", "error", "torch")],
    },
    Case {
        name: "label agrees with --cuda",
        requirements: "torch==2.1.0+cu121\ntorchvision==0.16.0+cu121\n",
        args: &["--cuda", "12.1"],
        expected: &[],
    },
    Case {
        name: "unlabelled torch is the default index's CUDA 12.1 build",
        requirements: "torch==2.1.0\n",
        args: &["--cuda", "11.8"],
        expected: &[("cuda-mismatch", "error", "torch")],
    },
    Case {
        name: "driver too old for the label's CUDA",
        requirements: "torch==2.1.0+cu121\n",
        args: &["--driver", "525.60.13"],
        expected: &[("cuda-mismatch", "error", "torch")],
    },
    Case {
        name: "driver new enough",
        requirements: "torch==2.1.0+cu121\n",
        args: &["--driver", "535.104.05"],
        expected: &[],
    },
    Case {
        name: "numpy 2 with a torch built against numpy 1",
        requirements: "torch==2.1.0\nnumpy==2.0.0\n",
        args: &[],
        expected: &[("known-broken", "error", "numpy")],
    },
    Case {
        name: "numpy 1 with the same torch",
        requirements: "torch==2.1.0\nnumpy==1.26.4\n",
        args: &[],
        expected: &[],
    },
    Case {
        name: "markers that exclude each other are no combination",
        requirements: "torch==2.1.0 ; python_version < '3.12'\nnumpy==2.0.0 ; python_version >= '3.12'\n",
        args: &[],
        expected: &[],
    },
    Case {
        name: "a loose range that admits the broken numpy",
        requirements: "torch==2.1.0\nnumpy>=1.24\n",
        args: &[],
        expected: &[("range-admits-broken", "warning", "numpy")],
    },
    Case {
        name: "a loose range that excludes it",
        requirements: "torch==2.1.0\nnumpy>=1.24,<2\n",
        args: &[],
        expected: &[],
    },
    Case {
        name: "two loose ranges: resolution has to tell",
        requirements: "scipy>=1.10\nnumpy>=1.24\n",
        args: &[],
        expected: &[],
    },
    Case {
        name: "a loose range entirely inside the broken range counts as pinned",
        requirements: "pandas~=2.1.0\nnumpy>=1.24\n",
        args: &[],
        expected: &[("range-admits-broken", "warning", "numpy")],
    },
    Case {
        name: "werkzeug 3 with an old flask",
        requirements: "flask==2.2.2\nwerkzeug==3.0.1\n",
        args: &[],
        expected: &[("known-broken", "error", "werkzeug")],
    },
    Case {
        name: "a reported rule is a warning",
        requirements: "modelscope==1.13.0\nofa==1.0.2\n",
        args: &[],
        expected: &[("known-broken", "warning", "ofa")],
    },
    Case {
        name: "a reported rule is an error with --trust-reported",
        requirements: "modelscope==1.13.0\nofa==1.0.2\n",
        args: &["--trust-reported"],
        expected: &[("known-broken", "error", "ofa")],
    },
    Case {
        name: "the OFA-VE set, exactly",
        requirements: "gradio==6.0.2\nmodelscope==1.12.0\nnumpy==1.24.4\npillow==10.2.0\nscipy==1.11.4\ntqdm==4.66.1\ntorch==2.1.0+cu121\ntorchvision==0.16.0+cu121\n",
        args: &["--cuda", "12.1"],
        expected: &[],
    },
    Case {
        name: "the OFA-VE set with modelscope moved and gradio loose",
        requirements: "gradio>=6.0.0\nmodelscope==1.13.0\nnumpy==1.24.4\n",
        args: &[],
        expected: &[
            ("outside-verified", "warning", "gradio"),
            ("outside-verified", "warning", "modelscope"),
        ],
    },
];

/// The binary, hermetic: audits run `--offline` with an empty cache, an
/// index nobody listens on and a fixed target, because these checks need
/// only what the files pin.
fn hermetic(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut command = crate::common::reqlock(&dir.join("cache"));
    command.env("PIP_INDEX_URL", "http://127.0.0.1:9/simple/");
    match args.split_first() {
        Some((&"audit", rest)) => command
            .args([
                "audit",
                "--offline",
                "--python-version",
                "3.11",
                "--platform",
                "manylinux_2_28_x86_64",
            ])
            .args(rest),
        _ => command.args(args),
    };
    command
}

fn audit_json(dir: &std::path::Path, args: &[&str]) -> (i32, Value, String) {
    let output = hermetic(dir, &["audit", "--format", "json", "--fail-on", "never"])
        .args(args)
        .arg(dir.join("requirements.txt"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let document = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output.status.code().unwrap_or(-1), document, stderr)
}

#[test]
fn every_rule_kind_fires_on_the_broken_set_and_not_on_the_fixed_one() {
    let mut failures = Vec::new();
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("requirements.txt"), case.requirements).unwrap();
        std::fs::write(dir.path().join("constraints.txt"), "torch==2.1.0\n").unwrap();
        let (code, document, stderr) = audit_json(dir.path(), case.args);
        if code != 0 {
            failures.push(format!("{}: exit {code}: {stderr}", case.name));
            continue;
        }
        let found: Vec<(String, String, String)> = document["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|finding| COMPAT_RULES.contains(&finding["rule"].as_str().unwrap()))
            .map(|finding| {
                (
                    finding["rule"].as_str().unwrap().to_string(),
                    finding["severity"].as_str().unwrap().to_string(),
                    finding["package"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let expected: Vec<(String, String, String)> = case
            .expected
            .iter()
            .map(|(rule, severity, package)| {
                (rule.to_string(), severity.to_string(), package.to_string())
            })
            .collect();
        if found != expected {
            failures.push(format!(
                "{}: expected {expected:?}, found {found:?}",
                case.name
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn reqlock(args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = hermetic(dir.path(), args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn audit_table_of_compat_findings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "torch==2.1.0+cu121\ntorchvision==0.17.0+cu118\nnumpy==2.0.0\n",
    )
    .unwrap();
    let output = hermetic(dir.path(), &["audit", "requirements.txt"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(
        "compat_audit_table",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn bundled_database_passes_its_own_offline_check() {
    let (code, stdout, stderr) = reqlock(&["db", "check", "--offline"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.starts_with("compat database valid:"), "{stderr}");
}

#[test]
fn db_list_and_show() {
    let (code, stdout, _) = reqlock(&["db", "list"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("db_list_table", stdout);
    let (code, stdout, _) = reqlock(&["db", "show", "TorchVision", "--format", "json"]);
    assert_eq!(code, 0);
    let document: Value = serde_json::from_str(&stdout).unwrap();
    let ids: Vec<&str> = document["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| rule["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["torch-family", "torch-local-labels", "ofa-ve-image"]);
}

#[test]
fn extra_databases_add_rules_and_bad_ones_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let extra = dir.path().join("org.toml");
    std::fs::write(
        &extra,
        "[[broken]]\nid = \"org-requests-urllib3\"\nevidence = \"verified\"\nsource = \"internal incident 42\"\nsymptom = \"boom\"\nfix = \"pin urllib3<2\"\npackages = { requests = \"<2.30\", urllib3 = \">=2\" }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "requests==2.28.0\nurllib3==2.0.0\n",
    )
    .unwrap();
    let db_arg = extra.to_str().unwrap();
    let (_, document, stderr) = audit_json(dir.path(), &["--db", db_arg, "--no-default-db"]);
    let broken: Vec<&Value> = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["rule"] == "known-broken")
        .collect();
    assert_eq!(broken.len(), 1, "{stderr}");
    assert!(broken[0]["help"]
        .as_str()
        .unwrap()
        .contains("org-requests-urllib3"));

    std::fs::write(&extra, "[[broken]]\nid = \"x\"\nevidence = \"maybe\"\n").unwrap();
    let (code, _, stderr) = reqlock(&["db", "check", "--offline", "--db", db_arg]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("org.toml:3: error: unknown variant `maybe`"),
        "{stderr}"
    );
}

#[test]
fn bad_cuda_and_driver_values_are_usage_errors() {
    let (code, _, stderr) = reqlock(&[
        "audit",
        "--cuda",
        "twelve",
        "examples/ofa-ve/requirements.txt",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("`--cuda twelve` is not a CUDA version"));
    let (code, _, _) = reqlock(&[
        "audit",
        "--driver",
        "535.x",
        "examples/ofa-ve/requirements.txt",
    ]);
    assert_eq!(code, 2);
}
