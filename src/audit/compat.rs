//! Checks of the packages a requirement set installs against the compat
//! database: family pairings, build variants and CUDA, known-broken
//! combinations and verified sets.
//!
//! A package's version is known when the set pins it exactly (a `==` pin
//! on the requirement, a duplicate or a constraint). Loose requirements have
//! no version; they can still *admit* a broken combination.
//! Two requirements whose markers exclude each other are never combined.

use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use rustc_hash::FxHashMap;
use version_ranges::Ranges;

use crate::audit::{pinned_version, Code, Finding, Severity};
use crate::compat::{
    dotted_numbers, local_label, Broken, BuildVariants, CompatDb, Evidence, RuleInfo,
};
use crate::requirements::{Requirement, RequirementSet};
use crate::target::{CudaVersion, DriverVersion};

/// Options of the compat checks.
#[derive(Debug, Clone, Default)]
pub struct CompatSettings {
    /// The CUDA version of the target machine (`12.1`).
    pub cuda: Option<CudaVersion>,
    /// The NVIDIA driver version of the target machine (`535.104.05`).
    pub driver: Option<DriverVersion>,
    /// Treat `reported` rules like `verified` ones.
    pub trust_reported: bool,
}

/// A package the set installs.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// Index of the requirement in the set, for locating findings.
    pub index: usize,
    pub name: &'a str,
    pub requirement: &'a Requirement,
    /// The exact version that will be installed, when the set pins it.
    pub version: Option<Version>,
    /// For a loose requirement: what the index resolves it to today.
    pub resolved: Option<Version>,
    /// For a package only the dependency tree brings (`audit --deep`): how
    /// `requirement` pulls it in, `a -> b -> c`.
    pub chain: Option<String>,
}

impl Subject<'_> {
    fn overlaps(&self, other: &Subject) -> bool {
        self.index == other.index
            || !self
                .requirement
                .parsed_marker
                .is_disjoint(&other.requirement.parsed_marker)
    }

    /// `torch==2.1.0+cu121`, or `numpy>=1.24` when loose.
    fn spelled(&self) -> String {
        match &self.version {
            Some(version) => format!("{}=={version}", self.name),
            None => format!("{}{}", self.name, self.requirement.specifier_text()),
        }
    }

    /// The spelling in backticks, and what a loose range resolves to today.
    fn described(&self) -> String {
        match (&self.version, &self.resolved) {
            (None, Some(resolved)) => {
                format!("`{}` (resolves to {resolved} today)", self.spelled())
            }
            _ => format!("`{}`", self.spelled()),
        }
    }

    fn located(&self) -> String {
        let via = self
            .chain
            .as_deref()
            .map(|chain| format!(", via {chain}"))
            .unwrap_or_default();
        format!(
            "{}:{}{via}",
            self.requirement.origin.file.display(),
            self.requirement.origin.line
        )
    }

    fn local_label(&self) -> Option<String> {
        local_label(self.version.as_ref()?)
    }
}

/// The version without its local label (`2.1.0` of `2.1.0+cu121`).
fn public_version(subject: &Subject) -> String {
    subject
        .version
        .clone()
        .map(|version| version.without_local().to_string())
        .unwrap_or_default()
}

/// The installed packages of a set, with their pinned versions;
/// `by_name` holds the indices of the requirements of each name and
/// `resolved` (parallel to the requirements, or empty) what each resolves
/// to on the index today.
pub fn subjects<'a>(
    set: &'a RequirementSet,
    by_name: &FxHashMap<&str, Vec<usize>>,
    resolved: &[Option<Version>],
) -> Vec<Subject<'a>> {
    set.requirements
        .iter()
        .enumerate()
        .filter(|(_, requirement)| !requirement.constraint && requirement.url.is_none())
        .filter_map(|(index, requirement)| {
            let name = requirement.name.as_ref()?.as_ref();
            let pin = pinned_version(requirement).or_else(|| {
                by_name[name]
                    .iter()
                    .filter(|&&other| other != index)
                    .map(|&other| &set.requirements[other])
                    .filter(|other| !other.parsed_marker.is_disjoint(&requirement.parsed_marker))
                    .find_map(pinned_version)
            });
            Some(Subject {
                index,
                name,
                requirement,
                version: pin.map(|spec| spec.version().clone()),
                resolved: resolved.get(index).cloned().flatten(),
                chain: None,
            })
        })
        .collect()
}

fn severity(base: Severity, info: &RuleInfo, settings: &CompatSettings) -> Severity {
    if info.evidence == Evidence::Reported && !settings.trust_reported {
        base.min(Severity::Warning)
    } else {
        base
    }
}

/// A finding about `subject`, pointing also at the compat-db rule and at
/// the other packages of the combination.
#[allow(clippy::too_many_arguments)]
fn finding(
    code: Code,
    severity: Severity,
    subject: &Subject,
    rule: &RuleInfo,
    others: &[&Subject],
    message: String,
    help: String,
) -> (usize, Finding) {
    // A package only the tree brings is located at the line that pulls it
    // in; the chain says how.
    let message = match &subject.chain {
        Some(chain) => format!("{message} (pulled in by {chain})"),
        None => message,
    };
    (
        subject.index,
        others.iter().fold(
            Finding::new(
                code,
                severity,
                Some(subject.name.to_string()),
                subject.requirement.origin.clone(),
                message,
                help,
            )
            .with_related(
                rule.location.clone(),
                format!("compat-db rule `{}`", rule.id),
            ),
            |found, other| {
                found.with_related(
                    other.requirement.origin.clone(),
                    format!("`{}`", other.spelled()),
                )
            },
        ),
    )
}

/// Where a rule comes from, for help lines.
fn cited(info: &RuleInfo) -> String {
    format!(
        "compat-db `{}`, {}: {}",
        info.id, info.evidence, info.source
    )
}

/// Run every database check; findings carry the index of the requirement
/// they point at.
pub fn check(
    db: &CompatDb,
    subjects: &[Subject],
    settings: &CompatSettings,
) -> Vec<(usize, Finding)> {
    let mut by_name: FxHashMap<&str, Vec<&Subject>> = FxHashMap::default();
    for subject in subjects {
        by_name.entry(subject.name).or_default().push(subject);
    }
    let named = |name: &str| by_name.get(name).map(Vec::as_slice).unwrap_or_default();
    let mut findings = Vec::new();
    families(db, &named, settings, &mut findings);
    for variants in &db.build_variants {
        build_variants(db, variants, &named, settings, &mut findings);
    }
    broken(db, &named, settings, &mut findings);
    verified_sets(db, &named, settings, &mut findings);
    findings
}

type Named<'s, 'a> = dyn Fn(&str) -> &'s [&'s Subject<'a>] + 's;

fn families(
    db: &CompatDb,
    named: &Named,
    settings: &CompatSettings,
    findings: &mut Vec<(usize, Finding)>,
) {
    for family in &db.families {
        let anchor_name = &family.packages[0];
        for anchor in named(anchor_name) {
            let Some(anchor_version) = &anchor.version else {
                continue;
            };
            let Some(row) = family
                .releases
                .iter()
                .find(|row| row.members[anchor_name].contains(anchor_version))
            else {
                continue;
            };
            let anchor_series = &row.members[anchor_name];
            for member_name in &family.packages[1..] {
                for member in named(member_name) {
                    let Some(version) = &member.version else {
                        continue;
                    };
                    if !member.overlaps(anchor) {
                        continue;
                    }
                    let symptom = family
                        .symptom
                        .as_deref()
                        .map(|symptom| format!(" (typically: {symptom})"))
                        .unwrap_or_default();
                    let (message, help) = match row.members.get(member_name.as_str()) {
                        Some(wanted) if wanted.contains(version) => continue,
                        Some(wanted) => (
                            format!(
                                "`{}` does not go with `{}` ({}){symptom}",
                                member.spelled(),
                                anchor.spelled(),
                                anchor.located()
                            ),
                            format!(
                                "{anchor_name}{anchor_series} goes with {member_name}{wanted}; pin a matching release ({})",
                                cited(&family.info)
                            ),
                        ),
                        None => (
                            format!(
                                "no {member_name} release goes with `{}` ({})",
                                anchor.spelled(),
                                anchor.located()
                            ),
                            format!(
                                "drop {member_name}, or move {anchor_name} to a release that has one ({})",
                                cited(&family.info)
                            ),
                        ),
                    };
                    let severity = severity(Severity::Error, &family.info, settings);
                    findings.push(finding(
                        Code::MismatchedFamily,
                        severity,
                        member,
                        &family.info,
                        &[anchor],
                        message,
                        help,
                    ));
                }
            }
        }
    }
}

/// Where a label's builds come from, for help lines.
fn label_index(variants: &BuildVariants, label: &str) -> String {
    variants
        .index_path
        .as_deref()
        .map(|template| {
            format!(
                " from the `{}` folder of its project's index (add it with --extra-index-url)",
                template.replace("{label}", label)
            )
        })
        .unwrap_or_default()
}

fn build_variants(
    db: &CompatDb,
    variants: &BuildVariants,
    named: &Named,
    settings: &CompatSettings,
    findings: &mut Vec<(usize, Finding)>,
) {
    let members: Vec<&Subject> = variants
        .packages
        .iter()
        .flat_map(|name| named(name).iter().copied())
        .filter(|subject| subject.version.is_some())
        .collect();
    let severity = severity(Severity::Error, &variants.info, settings);
    let symptom = variants
        .symptom
        .as_deref()
        .map(|symptom| format!(" (typically: {symptom})"))
        .unwrap_or_default();

    // Members built for different labels.
    let labelled: Vec<(&Subject, String)> = members
        .iter()
        .filter_map(|subject| subject.local_label().map(|label| (*subject, label)))
        .collect();
    for (position, (subject, label)) in labelled.iter().enumerate() {
        let Some((first, first_label)) = labelled[..position]
            .iter()
            .find(|(other, other_label)| other_label != label && other.overlaps(subject))
        else {
            continue;
        };
        let message = format!(
            "`{}` is a `+{label}` build but `{}` ({}) is a `+{first_label}` build{symptom}",
            subject.spelled(),
            first.spelled(),
            first.located()
        );
        let help = format!(
            "use one build for every member: {}=={}+{first_label}{} ({})",
            subject.name,
            public_version(subject),
            label_index(variants, first_label),
            cited(&variants.info)
        );
        findings.push(finding(
            Code::CudaMismatch,
            severity,
            subject,
            &variants.info,
            &[first],
            message,
            help,
        ));
    }

    // The CUDA each member is built for: its label's, or for an unlabelled
    // anchor the default index's build.
    let anchor = &variants.packages[0];
    let cuda_of = |subject: &Subject| -> Option<(Option<String>, String)> {
        match subject.local_label() {
            Some(label) => {
                let known = variants.labels.iter().find(|known| known.label == label)?;
                Some((known.cuda.clone(), format!("the `+{label}` build")))
            }
            None if subject.name == anchor => {
                let version = subject.version.as_ref()?;
                let (_, cuda) = variants
                    .default_builds
                    .iter()
                    .find(|(release, _)| release.contains(version))?;
                Some((Some(cuda.clone()), "the default index's build".to_string()))
            }
            None => None,
        }
    };

    if let Some(target) = &settings.cuda {
        for subject in &members {
            let Some((cuda, build)) = cuda_of(subject) else {
                continue;
            };
            if cuda.as_deref() == Some(target.as_str()) {
                continue;
            }
            let wanted_label = variants
                .labels
                .iter()
                .find(|label| label.cuda.as_deref() == Some(target.as_str()))
                .map(|label| label.label.clone());
            let built_for = match &cuda {
                Some(cuda) => format!("CUDA {cuda}"),
                None => "CPU only".to_string(),
            };
            let message = format!(
                "`{}` is {build}, built for {built_for}, but the target has CUDA {target} (--cuda){symptom}",
                subject.spelled()
            );
            let base = public_version(subject);
            let help = match wanted_label {
                Some(label) => format!(
                    "pin {}=={base}+{label}{} ({})",
                    subject.name,
                    label_index(variants, &label),
                    cited(&variants.info)
                ),
                None => format!(
                    "no build of {} for CUDA {target} is known ({})",
                    subject.name,
                    cited(&variants.info)
                ),
            };
            findings.push(finding(
                Code::CudaMismatch,
                severity,
                subject,
                &variants.info,
                &[],
                message,
                help,
            ));
        }
    }

    if let Some(driver) = &settings.driver {
        let installed = driver.parts().to_vec();
        for subject in &members {
            let Some((Some(cuda), build)) = cuda_of(subject) else {
                continue;
            };
            for drivers in &db.cuda_drivers {
                let Some(needed) = drivers.drivers.iter().find(|row| row.cuda == cuda) else {
                    continue;
                };
                if dotted_numbers(&needed.linux).is_some_and(|minimum| installed >= minimum) {
                    continue;
                }
                let message = format!(
                    "`{}` is {build}, built for CUDA {cuda}, which needs NVIDIA driver >= {} on Linux; the driver is {driver} (--driver)",
                    subject.spelled(),
                    needed.linux
                );
                let help = format!(
                    "upgrade the driver, or use a build for an older CUDA ({})",
                    cited(&drivers.info)
                );
                findings.push(finding(
                    Code::CudaMismatch,
                    severity,
                    subject,
                    &drivers.info,
                    &[],
                    message,
                    help,
                ));
            }
        }
    }
}

/// How one subject stands towards one package range of a broken rule.
enum Standing {
    /// Every release it can install is in the broken range (a pin in it, or
    /// a loose range inside it such as `pandas~=2.1.0` against `<2.2.2`).
    Inside,
    /// Loose, and its range admits part of the broken range.
    Admits,
    /// It cannot be in the broken range.
    Clear,
}

fn standing(subject: &Subject, range: &VersionSpecifiers) -> Standing {
    match &subject.version {
        Some(version) if range.contains(version) => Standing::Inside,
        Some(_) => Standing::Clear,
        // Loose, but the index says what it installs today.
        None if subject
            .resolved
            .as_ref()
            .is_some_and(|resolved| range.contains(resolved)) =>
        {
            Standing::Inside
        }
        None => {
            let admitted = Ranges::from(subject.requirement.specifier.clone());
            let broken = Ranges::from(range.clone());
            if admitted.is_disjoint(&broken) {
                Standing::Clear
            } else if admitted.subset_of(&broken) {
                Standing::Inside
            } else {
                Standing::Admits
            }
        }
    }
}

fn broken(
    db: &CompatDb,
    named: &Named,
    settings: &CompatSettings,
    findings: &mut Vec<(usize, Finding)>,
) {
    for rule in &db.broken {
        // One candidate list per package; every combination of candidates
        // whose markers can hold together is checked.
        let candidates: Vec<&[&Subject]> =
            rule.packages.iter().map(|(name, _)| named(name)).collect();
        if candidates.iter().any(|list| list.is_empty()) {
            continue;
        }
        let mut choice = vec![0; candidates.len()];
        loop {
            let combination: Vec<&Subject> = choice
                .iter()
                .zip(&candidates)
                .map(|(&i, list)| list[i])
                .collect();
            combination_finding(rule, &combination, settings, findings);
            // Advance the odometer over all combinations.
            let mut position = 0;
            while position < choice.len() {
                choice[position] += 1;
                if choice[position] < candidates[position].len() {
                    break;
                }
                choice[position] = 0;
                position += 1;
            }
            if position == choice.len() {
                break;
            }
        }
    }
}

fn combination_finding(
    rule: &Broken,
    combination: &[&Subject],
    settings: &CompatSettings,
    findings: &mut Vec<(usize, Finding)>,
) {
    let compatible_markers = combination
        .iter()
        .enumerate()
        .all(|(i, a)| combination[i + 1..].iter().all(|b| a.overlaps(b)));
    if !compatible_markers {
        return;
    }
    let standings: Vec<Standing> = combination
        .iter()
        .zip(&rule.packages)
        .map(|(subject, (_, range))| standing(subject, range))
        .collect();
    if standings.iter().any(|s| matches!(s, Standing::Clear)) {
        return;
    }
    // By identity: a package the tree brings shares its line with the
    // requirement that pulls it in.
    let others = |except: &Subject| -> String {
        combination
            .iter()
            .filter(|subject| !std::ptr::eq(**subject, except))
            .map(|subject| format!("{} ({})", subject.described(), subject.located()))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    if standings.iter().all(|s| matches!(s, Standing::Inside)) {
        let Some(last) = combination.iter().max_by_key(|subject| subject.index) else {
            return;
        };
        let message = format!(
            "{} with {} is a known-broken combination: {}",
            last.described(),
            others(last),
            rule.symptom
        );
        let help = format!("{} ({})", rule.fix, cited(&rule.info));
        let severity = severity(Severity::Error, &rule.info, settings);
        let rest: Vec<&Subject> = combination
            .iter()
            .copied()
            .filter(|subject| !std::ptr::eq(*subject, *last))
            .collect();
        findings.push(finding(
            Code::KnownBroken,
            severity,
            last,
            &rule.info,
            &rest,
            message,
            help,
        ));
        return;
    }
    // Only what the rest of the file certainly installs makes a loose range
    // dangerous; when everything is loose, resolution has to tell.
    if !standings.iter().any(|s| matches!(s, Standing::Inside)) {
        return;
    }
    for ((subject, standing), (_, range)) in combination.iter().zip(&standings).zip(&rule.packages)
    {
        if !matches!(standing, Standing::Admits) {
            continue;
        }
        let message = format!(
            "`{}` admits {}{range}, which breaks with {}: {}",
            subject.spelled(),
            subject.name,
            others(subject),
            rule.symptom
        );
        let help = format!(
            "pin a release outside {}{range}; {} ({})",
            subject.name,
            rule.fix,
            cited(&rule.info)
        );
        let rest: Vec<&Subject> = combination
            .iter()
            .copied()
            .filter(|other| !std::ptr::eq(*other, *subject))
            .collect();
        findings.push(finding(
            Code::RangeAdmitsBroken,
            Severity::Warning,
            subject,
            &rule.info,
            &rest,
            message,
            help,
        ));
    }
}

fn verified_sets(
    db: &CompatDb,
    named: &Named,
    settings: &CompatSettings,
    findings: &mut Vec<(usize, Finding)>,
) {
    for set in &db.verified_sets {
        if !set.anchors.iter().all(|anchor| !named(anchor).is_empty()) {
            continue;
        }
        for (name, pinned) in &set.pins {
            for subject in named(name) {
                let message = match &subject.version {
                    Some(version) if version == pinned => continue,
                    Some(_) => format!(
                        "`{}` is outside the verified set `{}`, which pins {name}=={pinned}",
                        subject.spelled(),
                        set.info.id
                    ),
                    None => format!(
                        "`{}` is loose; the verified set `{}` pins {name}=={pinned}",
                        subject.spelled(),
                        set.info.id
                    ),
                };
                let help = format!(
                    "pin {name}=={pinned} to stay on the tested set ({})",
                    cited(&set.info)
                );
                let severity = severity(Severity::Warning, &set.info, settings);
                findings.push(finding(
                    Code::OutsideVerified,
                    severity,
                    subject,
                    &set.info,
                    &[],
                    message,
                    help,
                ));
            }
        }
    }
}
