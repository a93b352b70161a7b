//! The environment a lock is made for: markers are evaluated against it, and
//! `requires-python` against its Python.

use std::str::FromStr;

use pep508_rs::pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};

/// An operating system and machine, as CPython reports them in markers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    LinuxX86_64,
    LinuxAarch64,
    MacosArm64,
    WindowsAmd64,
}

/// The Python version is not `X.Y` or `X.Y.Z`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a Python version such as 3.11 or 3.11.9")]
pub struct TargetError(pub String);

/// Markers of CPython `python` (`3.11` means `3.11.0`) on `platform`.
pub fn cpython_environment(
    python: &str,
    platform: Platform,
) -> Result<MarkerEnvironment, TargetError> {
    let invalid = || TargetError(python.to_string());
    let version = Version::from_str(python).map_err(|_| invalid())?;
    let release = version.release();
    if !(2..=3).contains(&release.len()) || !version.is_stable() || version.is_local() {
        return Err(invalid());
    }
    let full = format!(
        "{}.{}.{}",
        release[0],
        release[1],
        release.get(2).unwrap_or(&0)
    );
    let short = format!("{}.{}", release[0], release[1]);
    let (os_name, platform_machine, platform_system, sys_platform) = match platform {
        Platform::LinuxX86_64 => ("posix", "x86_64", "Linux", "linux"),
        Platform::LinuxAarch64 => ("posix", "aarch64", "Linux", "linux"),
        Platform::MacosArm64 => ("posix", "arm64", "Darwin", "darwin"),
        Platform::WindowsAmd64 => ("nt", "AMD64", "Windows", "win32"),
    };
    MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
        implementation_name: "cpython",
        implementation_version: &full,
        os_name,
        platform_machine,
        platform_python_implementation: "CPython",
        platform_release: "",
        platform_system,
        platform_version: "",
        python_full_version: &full,
        python_version: &short,
        sys_platform,
    })
    .map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_markers_for_a_python_and_platform() {
        let environment =
            cpython_environment("3.11", Platform::WindowsAmd64).expect("valid version");
        assert_eq!(environment.python_full_version().to_string(), "3.11.0");
        assert_eq!(environment.sys_platform(), "win32");
        assert!(cpython_environment("3", Platform::LinuxX86_64).is_err());
        assert!(cpython_environment("3.12rc1", Platform::LinuxX86_64).is_err());
    }
}
