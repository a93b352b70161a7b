//! Stages, and the declarations of ARG, ENV and LABEL, read from parsed
//! instructions as BuildKit's instruction layer (`instructions/parse.go`)
//! reads them. Nothing is expanded here: a FROM naming `$BASE` keeps the
//! word, for the audit to expand against the global ARGs.

use std::ops::Range;

use super::{go_lower, Dockerfile, Flag, Instruction, Keyword, Word};

/// A build stage: a FROM and the instructions after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// 0-based, in file order.
    pub index: usize,
    /// The index of the FROM in [`Dockerfile::instructions`].
    pub from: usize,
    /// The image or stage it starts from, as written.
    pub base: Option<Word>,
    /// The name after `AS`, as written.
    pub name: Option<Word>,
    /// `--platform=...`.
    pub platform: Option<Flag>,
    /// The earlier stage the base names (`FROM builder`), compared as
    /// BuildKit compares stage names (case-insensitively). A base that
    /// needs expanding is not resolved here.
    pub parent: Option<usize>,
    /// The instructions of the stage, after its FROM.
    pub instructions: Range<usize>,
    /// Why BuildKit would reject this FROM.
    pub problem: Option<StageProblem>,
}

impl Stage {
    /// The stage name as BuildKit stores it (lower case).
    pub fn name_lower(&self) -> Option<String> {
        self.name.as_ref().map(|name| go_lower(&name.text))
    }
}

/// A FROM that BuildKit's instruction layer rejects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageProblem {
    #[error("FROM requires either one or three arguments")]
    Arguments { count: usize },
    #[error(
        "invalid name for build stage: {0:?}, name can't start with a number or contain symbols"
    )]
    InvalidName(String),
}

/// `ARG NAME` or `ARG NAME=default`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    pub name: Word,
    /// The default as written (quotes not yet removed); `Some("")` for
    /// `ARG NAME=`.
    pub default: Option<Word>,
}

/// One `KEY=value` (or legacy `KEY value`) of ENV or LABEL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: Word,
    pub value: Word,
}

/// `^[a-z][a-z0-9-_.]*$`, after lower-casing.
fn valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

/// Go's `strings.EqualFold(word, "as")`: `ſ` folds to `s`.
fn is_as(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(
        (chars.next(), chars.next(), chars.next()),
        (Some('a' | 'A'), Some('s' | 'S' | 'ſ'), None)
    )
}

impl Dockerfile {
    /// The stages, in order.
    pub fn stages(&self) -> Vec<Stage> {
        let froms: Vec<usize> = self
            .instructions
            .iter()
            .enumerate()
            .filter(|(_, i)| i.kind == Keyword::From)
            .map(|(at, _)| at)
            .collect();
        let mut stages: Vec<Stage> = Vec::with_capacity(froms.len());
        for (index, &from) in froms.iter().enumerate() {
            let instruction = &self.instructions[from];
            let args = &instruction.args;
            let end = froms
                .get(index + 1)
                .copied()
                .unwrap_or(self.instructions.len());
            let mut stage = Stage {
                index,
                from,
                base: args.first().cloned(),
                name: None,
                platform: instruction
                    .flags
                    .iter()
                    .find(|flag| flag.name() == "platform")
                    .cloned(),
                parent: None,
                instructions: from + 1..end,
                problem: None,
            };
            if args.len() == 3 && is_as(&args[1].text) {
                let name = &args[2];
                if !valid_stage_name(&go_lower(&name.text)) {
                    stage.problem = Some(StageProblem::InvalidName(name.text.clone()));
                }
                stage.name = Some(name.clone());
            } else if args.len() != 1 {
                stage.problem = Some(StageProblem::Arguments { count: args.len() });
            }
            if let Some(base) = &stage.base {
                let wanted = go_lower(&base.text);
                stage.parent = stages
                    .iter()
                    .find(|earlier| earlier.name_lower().as_deref() == Some(wanted.as_str()))
                    .map(|earlier| earlier.index);
            }
            stages.push(stage);
        }
        stages
    }

    /// The instructions before the first FROM (BuildKit allows only ARG
    /// there): the global scope.
    pub fn global_instructions(&self) -> &[Instruction] {
        let first = self
            .instructions
            .iter()
            .position(|i| i.kind == Keyword::From)
            .unwrap_or(self.instructions.len());
        &self.instructions[..first]
    }
}

impl Instruction {
    /// The declarations of an ARG (empty for anything else).
    pub fn arg_decls(&self) -> Vec<ArgDecl> {
        if self.kind != Keyword::Arg {
            return Vec::new();
        }
        self.args
            .iter()
            .map(|arg| match arg.text.split_once('=') {
                Some((name, default)) => {
                    let offset = arg.offset + name.len() + 1;
                    ArgDecl {
                        name: Word {
                            text: name.to_string(),
                            ..arg.clone()
                        },
                        default: Some(Word {
                            text: default.to_string(),
                            offset,
                            position: self.position_at(offset),
                        }),
                    }
                }
                None => ArgDecl {
                    name: arg.clone(),
                    default: None,
                },
            })
            .collect()
    }

    /// The pairs of an ENV or LABEL (empty for anything else).
    pub fn key_values(&self) -> Vec<KeyValue> {
        if !matches!(self.kind, Keyword::Env | Keyword::Label) {
            return Vec::new();
        }
        self.args
            .chunks_exact(2)
            .map(|pair| KeyValue {
                key: pair[0].clone(),
                value: pair[1].clone(),
            })
            .collect()
    }
}
