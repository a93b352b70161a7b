//! The environment an install is for: a Python version and a platform.
//! It decides which markers apply and which wheels install (PEP 425 tags).

use std::fmt;
use std::str::FromStr;

use pep508_rs::pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};

use crate::index::filename::WheelTags;
use crate::index::local_python;

/// Used when neither `--python-version` nor a `python3` on PATH says.
pub const FALLBACK_PYTHON: (u64, u64) = (3, 12);
/// The glibc assumed for this machine when `python3` cannot tell: the
/// baseline of manylinux2014, which nearly every Linux wheel targets.
const FALLBACK_GLIBC: (u64, u64) = (2, 17);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Os {
    /// glibc version, when known; without one only `linux_*` wheels fit.
    Linux {
        glibc: Option<(u64, u64)>,
    },
    Musl {
        version: (u64, u64),
    },
    MacOs {
        version: (u64, u64),
    },
    Windows,
}

/// A platform as a wheel platform tag names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: Os,
    /// `x86_64`, `aarch64`, `arm64`, `amd64`, `win32`, ...
    pub arch: String,
    /// The tag as given or derived, for messages.
    pub tag: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("`{0}` is not a Python version like 3.12")]
    PythonVersion(String),
    #[error(
        "`{0}` is not a platform tag reqlock knows (e.g. manylinux_2_28_x86_64, \
         musllinux_1_2_aarch64, macosx_14_0_arm64, win_amd64)"
    )]
    Platform(String),
}

fn two_numbers(major: &str, minor: &str) -> Option<(u64, u64)> {
    Some((major.parse().ok()?, minor.parse().ok()?))
}

impl FromStr for Platform {
    type Err = TargetError;

    fn from_str(tag: &str) -> Result<Platform, TargetError> {
        let error = || TargetError::Platform(tag.to_string());
        let platform = |os, arch: &str| Platform {
            os,
            arch: arch.to_string(),
            tag: tag.to_string(),
        };
        let legacy = [
            ("manylinux1_", (2, 5)),
            ("manylinux2010_", (2, 12)),
            ("manylinux2014_", (2, 17)),
        ];
        for (prefix, glibc) in legacy {
            if let Some(arch) = tag.strip_prefix(prefix) {
                return Ok(platform(Os::Linux { glibc: Some(glibc) }, arch));
            }
        }
        let versioned = |rest: &str| -> Option<((u64, u64), String)> {
            let mut parts = rest.splitn(3, '_');
            let (major, minor, arch) = (parts.next()?, parts.next()?, parts.next()?);
            Some((two_numbers(major, minor)?, arch.to_string()))
        };
        if let Some(rest) = tag.strip_prefix("manylinux_") {
            let (glibc, arch) = versioned(rest).ok_or_else(error)?;
            return Ok(platform(Os::Linux { glibc: Some(glibc) }, &arch));
        }
        if let Some(rest) = tag.strip_prefix("musllinux_") {
            let (version, arch) = versioned(rest).ok_or_else(error)?;
            return Ok(platform(Os::Musl { version }, &arch));
        }
        if let Some(rest) = tag.strip_prefix("macosx_") {
            let (version, arch) = versioned(rest).ok_or_else(error)?;
            return Ok(platform(Os::MacOs { version }, &arch));
        }
        if let Some(arch) = tag.strip_prefix("linux_") {
            return Ok(platform(Os::Linux { glibc: None }, arch));
        }
        if tag == "win32" {
            return Ok(platform(Os::Windows, "win32"));
        }
        if let Some(arch) = tag.strip_prefix("win_") {
            return Ok(platform(Os::Windows, arch));
        }
        Err(error())
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.tag)
    }
}

/// Where a part of the target came from, for the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Derived {
    Flag,
    LocalPython,
    Fallback,
}

impl fmt::Display for Derived {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Derived::Flag => "from the flag",
            Derived::LocalPython => "from python3 on PATH",
            Derived::Fallback => "reqlock's fallback",
        })
    }
}

/// The CUDA version of the target machine, as `--cuda` gives it:
/// `major.minor`, checked once when the flag is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CudaVersion(String);

impl FromStr for CudaVersion {
    type Err = String;

    fn from_str(text: &str) -> Result<CudaVersion, String> {
        match crate::compat::dotted_numbers(text) {
            Some(parts) if parts.len() == 2 => Ok(CudaVersion(text.to_string())),
            _ => Err(format!(
                "`--cuda {text}` is not a CUDA version; give major.minor, e.g. `--cuda 12.1`"
            )),
        }
    }
}

impl CudaVersion {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CudaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The NVIDIA driver version of the target machine, as `nvidia-smi`
/// prints it (`535.104.05`), checked once when the flag is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverVersion {
    text: String,
    parts: Vec<u64>,
}

impl FromStr for DriverVersion {
    type Err = String;

    fn from_str(text: &str) -> Result<DriverVersion, String> {
        let parts = crate::compat::dotted_numbers(text).ok_or_else(|| {
            format!(
                "`--driver {text}` is not a driver version; give the version `nvidia-smi` prints, e.g. `--driver 535.104.05`"
            )
        })?;
        Ok(DriverVersion {
            text: text.to_string(),
            parts,
        })
    }
}

impl DriverVersion {
    /// The dotted numbers, for comparisons.
    pub fn parts(&self) -> &[u64] {
        &self.parts
    }
}

impl fmt::Display for DriverVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[derive(Debug, Clone)]
pub struct Target {
    pub python: (u64, u64),
    /// The full version markers and `requires-python` compare against.
    pub python_full: Version,
    pub platform: Platform,
    pub python_derived: Derived,
    pub platform_derived: Derived,
    markers: MarkerEnvironment,
}

/// What the local `python3` says about itself.
struct Probe {
    python: (u64, u64),
    full: String,
    platform: Option<Platform>,
}

fn probe_python() -> Option<Probe> {
    let script = "import sys, sysconfig, platform\n\
        print(sys.version_info[0], sys.version_info[1], platform.python_version())\n\
        print(sysconfig.get_platform())\n\
        print(*platform.libc_ver())";
    let text = local_python::run(script).ok()?;
    let mut lines = text.lines();
    let mut first = lines.next()?.split_whitespace();
    let python = two_numbers(first.next()?, first.next()?)?;
    let full = first.next()?.to_string();
    let sysconfig = lines.next().unwrap_or_default().trim().to_string();
    let libc = lines.next().unwrap_or_default().trim().to_string();
    Some(Probe {
        python,
        full,
        platform: platform_from_sysconfig(&sysconfig, &libc),
    })
}

/// `linux-x86_64` + `glibc 2.36` → `manylinux_2_36_x86_64`, and so on.
fn platform_from_sysconfig(sysconfig: &str, libc: &str) -> Option<Platform> {
    let tag = sysconfig.replace(['-', '.'], "_");
    if let Some(arch) = tag.strip_prefix("linux_") {
        let mut parts = libc.split_whitespace();
        return match (parts.next(), parts.next()) {
            (Some("glibc"), Some(version)) => {
                let (major, minor) = version.split_once('.')?;
                let (major, minor) = two_numbers(major, minor)?;
                format!("manylinux_{major}_{minor}_{arch}").parse().ok()
            }
            _ => format!("linux_{arch}").parse().ok(),
        };
    }
    tag.parse().ok()
}

/// This machine's platform as Rust was built for it, when python3 is absent.
fn compiled_platform() -> Platform {
    let arch = std::env::consts::ARCH;
    let tag = match std::env::consts::OS {
        "macos" => format!(
            "macosx_11_0_{}",
            if arch == "aarch64" { "arm64" } else { arch }
        ),
        "windows" => match arch {
            "x86" => "win32".to_string(),
            "aarch64" => "win_arm64".to_string(),
            _ => "win_amd64".to_string(),
        },
        _ => format!("manylinux_{}_{}_{arch}", FALLBACK_GLIBC.0, FALLBACK_GLIBC.1),
    };
    tag.parse().unwrap_or(Platform {
        os: Os::Linux {
            glibc: Some(FALLBACK_GLIBC),
        },
        arch: arch.to_string(),
        tag,
    })
}

impl Target {
    /// The target for the flags; what they leave open comes from the local
    /// `python3`, or from reqlock's fallbacks when there is none.
    pub fn from_flags(python: Option<&str>, platform: Option<&str>) -> Result<Target, TargetError> {
        // Running python3 costs a process; only ask it what the flags leave open.
        let probe = if python.is_some() && platform.is_some() {
            None
        } else {
            probe_python()
        };
        let (python, full, python_derived) = match python {
            Some(text) => {
                let version = text
                    .split_once('.')
                    .and_then(|(major, minor)| two_numbers(major, minor))
                    .ok_or_else(|| TargetError::PythonVersion(text.to_string()))?;
                (
                    version,
                    format!("{}.{}", version.0, version.1),
                    Derived::Flag,
                )
            }
            None => match &probe {
                Some(probe) => (probe.python, probe.full.clone(), Derived::LocalPython),
                None => (
                    FALLBACK_PYTHON,
                    format!("{}.{}", FALLBACK_PYTHON.0, FALLBACK_PYTHON.1),
                    Derived::Fallback,
                ),
            },
        };
        let (platform, platform_derived) = match platform {
            Some(tag) => (tag.parse()?, Derived::Flag),
            None => match probe.and_then(|probe| probe.platform) {
                Some(platform) => (platform, Derived::LocalPython),
                None => (compiled_platform(), Derived::Fallback),
            },
        };
        Target::new(python, &full, platform, python_derived, platform_derived)
    }

    pub fn new(
        python: (u64, u64),
        full: &str,
        platform: Platform,
        python_derived: Derived,
        platform_derived: Derived,
    ) -> Result<Target, TargetError> {
        let bad_version = || TargetError::PythonVersion(full.to_string());
        let python_full = Version::from_str(full).map_err(|_| bad_version())?;
        let python_version = format!("{}.{}", python.0, python.1);
        let (os_name, sys_platform, platform_system) = match platform.os {
            Os::Linux { .. } | Os::Musl { .. } => ("posix", "linux", "Linux"),
            Os::MacOs { .. } => ("posix", "darwin", "Darwin"),
            Os::Windows => ("nt", "win32", "Windows"),
        };
        let machine = match (&platform.os, platform.arch.as_str()) {
            (Os::Windows, "amd64") => "AMD64",
            (Os::Windows, "win32") => "x86",
            (Os::Windows, "arm64") => "ARM64",
            (_, arch) => arch,
        };
        let markers = MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: full,
            os_name,
            platform_machine: machine,
            platform_python_implementation: "CPython",
            platform_release: "",
            platform_system,
            platform_version: "",
            python_full_version: full,
            python_version: &python_version,
            sys_platform,
        })
        .map_err(|_| bad_version())?;
        Ok(Target {
            python,
            python_full,
            platform,
            python_derived,
            platform_derived,
            markers,
        })
    }

    pub fn markers(&self) -> &MarkerEnvironment {
        &self.markers
    }

    /// Whether pip would install a wheel with these tags here (CPython).
    pub fn accepts_wheel(&self, tags: &WheelTags) -> bool {
        tags.platform().any(|tag| self.accepts_platform(tag))
            && tags
                .python()
                .any(|python| tags.abi().any(|abi| self.accepts_interpreter(python, abi)))
    }

    /// [`Target::accepts_wheel`] for a file by its name; a file that is not
    /// a wheel is not accepted here (whether an sdist may be built is the
    /// caller's policy), nor is a name that is not a wheel's.
    pub fn accepts_wheel_file(&self, filename: &str) -> bool {
        WheelTags::from_filename(filename).is_some_and(|tags| self.accepts_wheel(&tags))
    }

    fn accepts_interpreter(&self, python: &str, abi: &str) -> bool {
        let (major, minor) = self.python;
        // A tag such as `cp312` (`Some(Some(12))`) or `py3` (`Some(None)`)
        // for the target's major version.
        let minor_of = |prefix: &str, tag: &str| -> Option<Option<u64>> {
            let rest = tag.strip_prefix(prefix)?;
            let digits = major.to_string();
            let rest = rest.strip_prefix(digits.as_str())?;
            match rest {
                "" => Some(None),
                rest => rest.parse::<u64>().ok().map(Some),
            }
        };
        let exact = |tag: &str| minor_of("cp", tag) == Some(Some(minor));
        // `cp3N`/`py3N` for N up to the target's minor; `py3` for any.
        let up_to_target = |prefix: &str| match minor_of(prefix, python) {
            Some(Some(n)) => n <= minor,
            Some(None) => true,
            None => false,
        };
        match abi {
            "abi3" => minor_of("cp", python).is_some_and(|n| n.is_some()) && up_to_target("cp"),
            "none" => exact(python) || up_to_target("py"),
            abi => exact(python) && (exact(abi) || abi.strip_suffix('m').is_some_and(exact)),
        }
    }

    fn accepts_platform(&self, tag: &str) -> bool {
        if tag == "any" {
            return true;
        }
        let Ok(wheel) = Platform::from_str(tag) else {
            return false;
        };
        let arch = self.platform.arch.as_str();
        match (&self.platform.os, &wheel.os) {
            (Os::Linux { glibc }, Os::Linux { glibc: needs }) => {
                wheel.arch == arch
                    && match needs {
                        None => true,
                        Some(needs) => glibc.is_some_and(|glibc| *needs <= glibc),
                    }
            }
            (Os::Musl { version }, Os::Musl { version: needs }) => {
                wheel.arch == arch && needs <= version
            }
            (Os::Musl { .. }, Os::Linux { glibc: None }) => wheel.arch == arch,
            (Os::MacOs { version }, Os::MacOs { version: needs }) => {
                // Since macOS 11 only the major version counts.
                let fits = if needs.0 >= 11 {
                    needs.0 <= version.0
                } else {
                    version.0 >= 11 || needs <= version
                };
                let binary = wheel.arch.as_str();
                let arch_fits = binary == arch
                    || binary == "universal2" && matches!(arch, "x86_64" | "arm64")
                    || matches!(binary, "intel" | "fat64" | "fat3" | "universal")
                        && arch == "x86_64";
                fits && arch_fits
            }
            (Os::Windows, Os::Windows) => wheel.arch == arch,
            _ => false,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Python {}.{} ({}) on {} ({})",
            self.python.0, self.python.1, self.python_derived, self.platform, self.platform_derived
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(python: (u64, u64), platform: &str) -> Target {
        let full = format!("{}.{}", python.0, python.1);
        Target::new(
            python,
            &full,
            platform.parse().unwrap(),
            Derived::Flag,
            Derived::Flag,
        )
        .unwrap()
    }

    fn wheel(tags: &str) -> WheelTags {
        let parts: Vec<&str> = tags.split('-').collect();
        WheelTags::new(parts[0], parts[1], parts[2])
    }

    #[test]
    fn linux_tags() {
        let t = target((3, 12), "manylinux_2_28_x86_64");
        assert!(t.accepts_wheel(&wheel(
            "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"
        )));
        assert!(t.accepts_wheel(&wheel("cp38-abi3-manylinux_2_28_x86_64")));
        assert!(t.accepts_wheel(&wheel("py3-none-any")));
        assert!(t.accepts_wheel(&wheel("py2.py3-none-any")));
        assert!(t.accepts_wheel(&wheel("cp312-cp312-linux_x86_64")));
        assert!(!t.accepts_wheel(&wheel("cp311-cp311-manylinux_2_17_x86_64")));
        assert!(!t.accepts_wheel(&wheel("cp312-cp312-manylinux_2_34_x86_64")));
        assert!(!t.accepts_wheel(&wheel("cp312-cp312-manylinux_2_17_aarch64")));
        assert!(!t.accepts_wheel(&wheel("cp312-cp312-musllinux_1_1_x86_64")));
        assert!(!t.accepts_wheel(&wheel("py313-none-any")));
    }

    #[test]
    fn macos_and_windows_tags() {
        let mac = target((3, 11), "macosx_14_0_arm64");
        assert!(mac.accepts_wheel(&wheel("cp311-cp311-macosx_11_0_arm64")));
        assert!(mac.accepts_wheel(&wheel("cp311-cp311-macosx_10_9_universal2")));
        assert!(!mac.accepts_wheel(&wheel("cp311-cp311-macosx_10_9_x86_64")));
        assert!(!mac.accepts_wheel(&wheel("cp311-cp311-macosx_15_0_arm64")));
        let windows = target((3, 11), "win_amd64");
        assert!(windows.accepts_wheel(&wheel("cp311-cp311-win_amd64")));
        assert!(!windows.accepts_wheel(&wheel("cp311-cp311-win32")));
        assert!("plan9_x".parse::<Platform>().is_err());
    }

    #[test]
    fn wheel_files_by_name() {
        let linux = target((3, 11), "manylinux_2_28_x86_64");
        assert!(linux.accepts_wheel_file("six-1.16.0-py2.py3-none-any.whl"));
        assert!(linux.accepts_wheel_file("torch-2.1.0%2Bcu121-cp311-cp311-linux_x86_64.whl"));
        assert!(
            linux.accepts_wheel_file("build-1.0-1-py3-none-any.whl"),
            "a build tag"
        );
        assert!(!linux.accepts_wheel_file("numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.whl"));
        assert!(!linux.accepts_wheel_file("viz-0.20.0-cp311-cp311-manylinux_2_35_x86_64.whl"));
        assert!(!linux.accepts_wheel_file("pywin32-306-cp311-cp311-win_amd64.whl"));
        assert!(!linux.accepts_wheel_file("demo-1.0.tar.gz"), "not a wheel");
        assert!(!linux.accepts_wheel_file("broken.whl"));
        let mac = target((3, 11), "macosx_14_0_arm64");
        assert!(mac.accepts_wheel_file("cryptography-42.0.5-cp39-abi3-macosx_10_12_universal2.whl"));
    }

    #[test]
    fn markers_follow_the_target() {
        let windows = target((3, 12), "win_amd64");
        let marker =
            pep508_rs::MarkerTree::from_str("sys_platform == 'win32' and python_version >= '3.12'")
                .unwrap();
        assert!(marker.evaluate(windows.markers(), &[]));
        assert!(!marker.evaluate(target((3, 12), "manylinux2014_x86_64").markers(), &[]));
    }

    #[test]
    fn sysconfig_platforms() {
        let linux = platform_from_sysconfig("linux-x86_64", "glibc 2.36").unwrap();
        assert_eq!(linux.tag, "manylinux_2_36_x86_64");
        let mac = platform_from_sysconfig("macosx-11.0-arm64", "").unwrap();
        assert_eq!(mac.os, Os::MacOs { version: (11, 0) });
        assert_eq!(
            platform_from_sysconfig("win-amd64", "").unwrap().tag,
            "win_amd64"
        );
    }
}
