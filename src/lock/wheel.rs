//! Which wheels the target can install: the compatibility tags of a wheel
//! file name (PEP 425) against what CPython on the target platform accepts.
//! A release is only worth locking if some file of it can be installed.

use pep508_rs::MarkerEnvironment;

/// The tag sets of a wheel file name, `None` when it is not one.
fn wheel_tags(filename: &str) -> Option<(Vec<&str>, Vec<&str>, Vec<&str>)> {
    let stem = filename.strip_suffix(".whl")?;
    let parts: Vec<&str> = stem.split('-').collect();
    // name-version[-build]-python-abi-platform
    if !(5..=6).contains(&parts.len()) {
        return None;
    }
    let [python, abi, platform] = parts[parts.len() - 3..] else {
        return None;
    };
    Some((
        python.split('.').collect(),
        abi.split('.').collect(),
        platform.split('.').collect(),
    ))
}

/// The target's Python, as (major, minor).
fn python_release(environment: &MarkerEnvironment) -> (u64, u64) {
    let release = environment.python_full_version().version.release();
    (
        release.first().copied().unwrap_or(3),
        release.get(1).copied().unwrap_or(0),
    )
}

fn python_tag_fits(tag: &str, (major, minor): (u64, u64), cpython: bool) -> bool {
    let (implementation, digits) = tag.split_at(tag.len().min(2));
    let version = || -> Option<(u64, Option<u64>)> {
        let major_digit = digits.get(..1)?.parse().ok()?;
        let rest = &digits[1..];
        Some((
            major_digit,
            (!rest.is_empty()).then(|| rest.parse().ok()).flatten(),
        ))
    };
    match (implementation, version()) {
        ("py", Some((tag_major, None))) => tag_major == major,
        ("py", Some((tag_major, Some(tag_minor)))) => tag_major == major && tag_minor <= minor,
        ("cp", Some((tag_major, Some(tag_minor)))) => {
            cpython && tag_major == major && tag_minor <= minor
        }
        _ => false,
    }
}

fn abi_tag_fits(abi: &str, python: &str, (major, minor): (u64, u64), cpython: bool) -> bool {
    match abi {
        "none" => true,
        // The stable ABI: built for an older or equal CPython.
        "abi3" => cpython && python.starts_with("cp"),
        _ => cpython && abi.trim_end_matches(['m', 'd', 'u']) == format!("cp{major}{minor}"),
    }
}

fn platform_tag_fits(tag: &str, environment: &MarkerEnvironment) -> bool {
    if tag == "any" {
        return true;
    }
    let machine = environment.platform_machine().to_ascii_lowercase();
    match environment.sys_platform() {
        "linux" => {
            let Some(rest) = tag
                .strip_prefix("manylinux")
                .or_else(|| tag.strip_prefix("linux"))
            else {
                return false;
            };
            // manylinux1_x86_64, manylinux2014_x86_64, manylinux_2_28_x86_64,
            // linux_x86_64: glibc targets, assumed recent.
            rest.ends_with(&format!("_{machine}"))
        }
        "darwin" => {
            tag.starts_with("macosx_")
                && (tag.ends_with(&format!("_{machine}")) || tag.ends_with("_universal2"))
        }
        "win32" => match machine.as_str() {
            "amd64" | "x86_64" => tag == "win_amd64",
            "arm64" => tag == "win_arm64",
            _ => tag == "win32",
        },
        _ => false,
    }
}

/// Whether the target can install the wheel; files that are not wheels
/// (sdists) are always installable, by building them.
pub fn is_installable(filename: &str, environment: &MarkerEnvironment) -> bool {
    if !filename.to_ascii_lowercase().ends_with(".whl") {
        return true;
    }
    let Some((pythons, abis, platforms)) = wheel_tags(filename) else {
        return false;
    };
    let version = python_release(environment);
    let cpython = environment.implementation_name() == "cpython";
    let python_and_abi = pythons.iter().any(|python| {
        python_tag_fits(python, version, cpython)
            && abis
                .iter()
                .any(|abi| abi_tag_fits(abi, python, version, cpython))
    });
    python_and_abi
        && platforms
            .iter()
            .any(|platform| platform_tag_fits(platform, environment))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::target::{cpython_environment, Platform};

    fn fits(filename: &str, platform: Platform) -> bool {
        let environment = cpython_environment("3.11", platform).expect("valid target");
        is_installable(filename, &environment)
    }

    #[test]
    fn matches_wheels_to_the_target() {
        use Platform::*;
        assert!(fits("six-1.16.0-py2.py3-none-any.whl", LinuxX86_64));
        assert!(fits("demo-1.0.tar.gz", WindowsAmd64));
        assert!(fits(
            "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            LinuxX86_64
        ));
        assert!(!fits(
            "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            LinuxAarch64
        ));
        assert!(!fits(
            "numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.whl",
            LinuxX86_64
        ));
        assert!(fits(
            "torch-2.1.0%2Bcu121-cp311-cp311-linux_x86_64.whl",
            LinuxX86_64
        ));
        assert!(fits(
            "cryptography-42.0.5-cp39-abi3-macosx_10_12_universal2.whl",
            MacosArm64
        ));
        assert!(fits("pywin32-306-cp311-cp311-win_amd64.whl", WindowsAmd64));
        assert!(!fits("pywin32-306-cp311-cp311-win_amd64.whl", LinuxX86_64));
        assert!(
            fits("build-1.0-1-py3-none-any.whl", MacosArm64),
            "with a build tag"
        );
        assert!(!fits("broken.whl", LinuxX86_64));
    }
}
