//! Renderers for `reqlock db list` and `reqlock db show`.

use serde::Serialize;

use super::table::new_table;
use crate::compat::{CompatDb, Evidence, RuleInfo};

/// One rule as listed: what kind, which packages, and where it comes from.
#[derive(Serialize)]
struct RuleView<'a> {
    id: &'a str,
    kind: &'static str,
    packages: Vec<String>,
    evidence: Evidence,
    summary: String,
    source: &'a str,
    notes: Option<&'a str>,
    file: String,
}

fn views<'a>(db: &'a CompatDb, package: Option<&str>) -> Vec<RuleView<'a>> {
    let view = |kind, info: &'a RuleInfo, packages: Vec<String>, summary: String| RuleView {
        id: &info.id,
        kind,
        packages,
        evidence: info.evidence,
        summary,
        source: &info.source,
        notes: info.notes.as_deref(),
        file: info.location.file.display().to_string(),
    };
    let mut rules = Vec::new();
    for family in &db.families {
        let rows: Vec<String> = family
            .releases
            .iter()
            .map(|row| {
                let members: Vec<String> = row
                    .members
                    .iter()
                    .map(|(name, range)| format!("{name}{range}"))
                    .collect();
                match &row.python {
                    Some(python) => format!("{} (python{python})", members.join(" ")),
                    None => members.join(" "),
                }
            })
            .collect();
        rules.push(view(
            "family",
            &family.info,
            family.packages.clone(),
            rows.join("; "),
        ));
    }
    for variants in &db.build_variants {
        let labels: Vec<&str> = variants
            .labels
            .iter()
            .map(|label| label.label.as_str())
            .collect();
        rules.push(view(
            "build-variants",
            &variants.info,
            variants.packages.clone(),
            format!("labels {}", labels.join(", ")),
        ));
    }
    for drivers in &db.cuda_drivers {
        rules.push(view(
            "cuda-drivers",
            &drivers.info,
            Vec::new(),
            format!("{} CUDA releases", drivers.drivers.len()),
        ));
    }
    for broken in &db.broken {
        let packages = broken
            .packages
            .iter()
            .map(|(name, _)| name.clone())
            .collect();
        let ranges: Vec<String> = broken
            .packages
            .iter()
            .map(|(name, range)| format!("{name}{range}"))
            .collect();
        rules.push(view(
            "broken",
            &broken.info,
            packages,
            format!("{}: {}", ranges.join(" with "), broken.symptom),
        ));
    }
    for set in &db.verified_sets {
        let mut summary: Vec<String> = set
            .pins
            .iter()
            .map(|(name, version)| format!("{name}=={version}"))
            .collect();
        if let Some(cuda) = &set.cuda {
            summary.push(format!("(CUDA {cuda})"));
        }
        if let Some(python) = &set.python {
            summary.push(format!("(python{python})"));
        }
        rules.push(view(
            "verified-set",
            &set.info,
            set.pins.keys().cloned().collect(),
            summary.join(" "),
        ));
    }
    rules.retain(|rule| {
        package.is_none_or(|package| rule.packages.iter().any(|name| name == package))
    });
    rules
}

pub fn rule_count(db: &CompatDb, package: Option<&str>) -> usize {
    views(db, package).len()
}

pub fn json(db: &CompatDb, package: Option<&str>) -> String {
    #[derive(Serialize)]
    struct Document<'a> {
        schema: u32,
        rules: Vec<RuleView<'a>>,
    }
    let document = Document {
        schema: super::json::SCHEMA_VERSION,
        rules: views(db, package),
    };
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

pub fn table(db: &CompatDb, package: Option<&str>, color: bool) -> String {
    let mut table = new_table(&["id", "kind", "evidence", "rule", "source"], color);
    for rule in views(db, package) {
        table.add_row(vec![
            rule.id.to_string(),
            rule.kind.to_string(),
            rule.evidence.to_string(),
            rule.summary,
            rule.source.to_string(),
        ]);
    }
    format!("{table}\n")
}
