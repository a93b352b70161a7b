//! The option half of a requirements line, split and parsed the way pip does
//! it: `shlex.split` in POSIX mode, then an `optparse` parser that knows only
//! the options pip allows in requirements files (unique prefixes of long
//! options are accepted, as optparse accepts them).

use std::ops::Range;

/// A shell-like word and where it was in the logical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub span: Range<usize>,
}

/// A problem in the option part of a line, with the byte range it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    pub message: String,
    pub span: Range<usize>,
}

/// Everything pip accepts in a requirements file, by what it sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    IndexUrl,
    ExtraIndexUrl,
    NoIndex,
    Constraint,
    Requirement,
    Editable,
    FindLinks,
    NoBinary,
    OnlyBinary,
    PreferBinary,
    RequireHashes,
    Pre,
    TrustedHost,
    UseFeature,
    GlobalOption,
    Hash,
    ConfigSettings,
}

impl OptionKind {
    /// Options that belong to the requirement on the same line, not the file.
    pub fn is_per_requirement(self) -> bool {
        matches!(self, Self::GlobalOption | Self::Hash | Self::ConfigSettings)
    }

    fn takes_value(self) -> bool {
        !matches!(
            self,
            Self::NoIndex | Self::PreferBinary | Self::RequireHashes | Self::Pre
        )
    }
}

struct OptionSpec {
    kind: OptionKind,
    short: Option<char>,
    long: &'static [&'static str],
}

const OPTIONS: &[OptionSpec] = &[
    spec(
        OptionKind::IndexUrl,
        Some('i'),
        &["--index-url", "--pypi-url"],
    ),
    spec(OptionKind::ExtraIndexUrl, None, &["--extra-index-url"]),
    spec(OptionKind::NoIndex, None, &["--no-index"]),
    spec(OptionKind::Constraint, Some('c'), &["--constraint"]),
    spec(OptionKind::Requirement, Some('r'), &["--requirement"]),
    spec(OptionKind::Editable, Some('e'), &["--editable"]),
    spec(OptionKind::FindLinks, Some('f'), &["--find-links"]),
    spec(OptionKind::NoBinary, None, &["--no-binary"]),
    spec(OptionKind::OnlyBinary, None, &["--only-binary"]),
    spec(OptionKind::PreferBinary, None, &["--prefer-binary"]),
    spec(OptionKind::RequireHashes, None, &["--require-hashes"]),
    spec(OptionKind::Pre, None, &["--pre"]),
    spec(OptionKind::TrustedHost, None, &["--trusted-host"]),
    spec(OptionKind::UseFeature, None, &["--use-feature"]),
    spec(OptionKind::GlobalOption, None, &["--global-option"]),
    spec(OptionKind::Hash, None, &["--hash"]),
    spec(
        OptionKind::ConfigSettings,
        Some('C'),
        &["--config-settings"],
    ),
];

const fn spec(kind: OptionKind, short: Option<char>, long: &'static [&'static str]) -> OptionSpec {
    OptionSpec { kind, short, long }
}

/// The features pip 23.2 accepts for `--use-feature`.
pub const KNOWN_FEATURES: &[&str] = &["fast-deps", "truststore", "no-binary-enable-wheel-cache"];

/// The hash algorithms pip accepts for `--hash`.
pub const STRONG_HASHES: &[&str] = &["sha256", "sha384", "sha512"];

/// One option as given on a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedOption {
    pub kind: OptionKind,
    /// The spelling after abbreviation expansion, e.g. `--index-url`.
    pub name: String,
    pub value: Option<String>,
    /// From the option's first character to the end of its value.
    pub span: Range<usize>,
}

/// The result of parsing the option part of one line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedOptions {
    pub options: Vec<ParsedOption>,
    /// Words that are not options; pip silently drops them.
    pub ignored: Vec<Token>,
}

/// Split like Python's `shlex.split` (POSIX mode, no comments). `base` is
/// added to every span so that spans index the whole logical line.
pub fn shlex_split(input: &str, base: usize) -> Result<Vec<Token>, OptionError> {
    #[derive(PartialEq)]
    enum State {
        Between,
        Word,
        Single,
        Double,
    }
    let mut tokens = Vec::new();
    let mut state = State::Between;
    let mut current = String::new();
    let mut start = 0;
    let mut quote_start = 0;
    let mut chars = input.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        match state {
            State::Between | State::Word => {
                if matches!(c, ' ' | '\t' | '\r' | '\n') {
                    if state == State::Word {
                        tokens.push(Token {
                            text: std::mem::take(&mut current),
                            span: base + start..base + index,
                        });
                        state = State::Between;
                    }
                    continue;
                }
                if state == State::Between {
                    start = index;
                    state = State::Word;
                }
                match c {
                    '\'' => {
                        quote_start = index;
                        state = State::Single;
                    }
                    '"' => {
                        quote_start = index;
                        state = State::Double;
                    }
                    '\\' => match chars.next() {
                        Some((_, escaped)) => current.push(escaped),
                        None => {
                            return Err(OptionError {
                                message: "could not split options: no escaped character".into(),
                                span: base + index..base + index + 1,
                            })
                        }
                    },
                    _ => current.push(c),
                }
            }
            State::Single => {
                if c == '\'' {
                    state = State::Word;
                } else {
                    current.push(c);
                }
            }
            State::Double => match c {
                '"' => state = State::Word,
                '\\' if matches!(chars.peek(), Some((_, '"' | '\\'))) => {
                    if let Some((_, escaped)) = chars.next() {
                        current.push(escaped);
                    }
                }
                _ => current.push(c),
            },
        }
    }
    match state {
        State::Single | State::Double => Err(OptionError {
            message: "could not split options: no closing quotation".into(),
            span: base + quote_start..base + input.len(),
        }),
        State::Word => {
            tokens.push(Token {
                text: current,
                span: base + start..base + input.len(),
            });
            Ok(tokens)
        }
        State::Between => Ok(tokens),
    }
}

/// Parse option words like pip's line parser (an `optparse` parser).
pub fn parse_options(tokens: Vec<Token>) -> Result<ParsedOptions, OptionError> {
    let mut parsed = ParsedOptions::default();
    let mut rest = tokens.into_iter().peekable();
    while let Some(token) = rest.next() {
        if token.text == "--" {
            parsed.ignored.extend(rest);
            break;
        }
        if token.text.starts_with("--") {
            let (given, inline_value) = match token.text.split_once('=') {
                Some((name, value)) => (name.to_string(), Some(value.to_string())),
                None => (token.text.clone(), None),
            };
            let (spec, name) = match_long_option(&given, &token)?;
            let mut span = token.span.clone();
            let value = if spec.kind.takes_value() {
                match inline_value {
                    Some(value) => Some(value),
                    None => match rest.next() {
                        Some(next) => {
                            span.end = next.span.end;
                            Some(next.text)
                        }
                        None => return Err(requires_argument(name, &token)),
                    },
                }
            } else if inline_value.is_some() {
                return Err(OptionError {
                    message: format!("{name} option does not take a value"),
                    span: token.span,
                });
            } else {
                None
            };
            parsed
                .options
                .push(checked(spec.kind, name.to_string(), value, span)?);
        } else if token.text.starts_with('-') && token.text.len() > 1 {
            // Short options may be clustered and take their value attached:
            // `-rfile.txt`, as optparse allows.
            let flag = token.text[1..].chars().next().unwrap_or('-');
            let Some(spec) = OPTIONS.iter().find(|spec| spec.short == Some(flag)) else {
                return Err(OptionError {
                    message: format!("no such option: -{flag}"),
                    span: token.span,
                });
            };
            let name = format!("-{flag}");
            let attached = &token.text[1 + flag.len_utf8()..];
            let mut span = token.span.clone();
            let value = if !attached.is_empty() {
                attached.to_string()
            } else {
                match rest.next() {
                    Some(next) => {
                        span.end = next.span.end;
                        next.text
                    }
                    None => return Err(requires_argument(&name, &token)),
                }
            };
            parsed
                .options
                .push(checked(spec.kind, name, Some(value), span)?);
        } else {
            parsed.ignored.push(token);
        }
    }
    Ok(parsed)
}

fn requires_argument(name: &str, token: &Token) -> OptionError {
    OptionError {
        message: format!("{name} option requires 1 argument"),
        span: token.span.clone(),
    }
}

fn match_long_option(
    given: &str,
    token: &Token,
) -> Result<(&'static OptionSpec, &'static str), OptionError> {
    let all = OPTIONS
        .iter()
        .flat_map(|spec| spec.long.iter().map(move |long| (spec, *long)));
    if let Some(exact) = all.clone().find(|(_, long)| *long == given) {
        return Ok(exact);
    }
    let mut candidates: Vec<_> = all.filter(|(_, long)| long.starts_with(given)).collect();
    candidates.sort_by_key(|(_, long)| *long);
    match candidates.as_slice() {
        [single] => Ok(*single),
        [] => Err(OptionError {
            message: format!("no such option: {given}"),
            span: token.span.clone(),
        }),
        many => Err(OptionError {
            message: format!(
                "ambiguous option: {given} ({}?)",
                many.iter()
                    .map(|(_, long)| *long)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            span: token.span.clone(),
        }),
    }
}

/// The checks pip's option callbacks make while parsing.
fn checked(
    kind: OptionKind,
    name: String,
    value: Option<String>,
    span: Range<usize>,
) -> Result<ParsedOption, OptionError> {
    let fail = |message: String| {
        Err(OptionError {
            message,
            span: span.clone(),
        })
    };
    if let Some(value) = &value {
        match kind {
            OptionKind::Hash => match value.split_once(':') {
                None => {
                    return fail(format!(
                        "arguments to {name} must be a hash name followed by a value, like {name}=sha256:abcde..."
                    ))
                }
                Some((algorithm, _)) if !STRONG_HASHES.contains(&algorithm) => {
                    return fail(format!(
                        "allowed hash algorithms for {name} are {}",
                        STRONG_HASHES.join(", ")
                    ))
                }
                Some(_) => {}
            },
            OptionKind::ConfigSettings if !value.contains('=') => {
                return fail(format!("arguments to {name} must be of the form KEY=VAL"))
            }
            OptionKind::UseFeature if !KNOWN_FEATURES.contains(&value.as_str()) => {
                return fail(format!(
                    "option {name}: invalid choice: '{value}' (choose from {})",
                    KNOWN_FEATURES
                        .iter()
                        .map(|feature| format!("'{feature}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
            OptionKind::NoBinary | OptionKind::OnlyBinary if value.starts_with('-') => {
                return fail("--no-binary / --only-binary option requires 1 argument".into())
            }
            _ => {}
        }
    }
    Ok(ParsedOption {
        kind,
        name,
        value,
        span,
    })
}

/// pip's `break_args_options`: words up to the first one starting with `-`
/// (split on single spaces only) are the requirement, the rest are options.
pub fn split_args_and_options(line: &str) -> (Range<usize>, Range<usize>) {
    let mut position: usize = 0;
    for word in line.split(' ') {
        if word.starts_with('-') {
            let args_end = position.saturating_sub(1);
            return (0..args_end, position..line.len());
        }
        position += word.len() + 1;
    }
    (0..line.len(), line.len()..line.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(input: &str) -> Vec<String> {
        shlex_split(input, 0)
            .unwrap()
            .into_iter()
            .map(|token| token.text)
            .collect()
    }

    fn options(input: &str) -> Result<Vec<(OptionKind, Option<String>)>, String> {
        let tokens = shlex_split(input, 0).map_err(|err| err.message)?;
        parse_options(tokens)
            .map(|parsed| {
                parsed
                    .options
                    .into_iter()
                    .map(|option| (option.kind, option.value))
                    .collect()
            })
            .map_err(|err| err.message)
    }

    #[test]
    fn shlex_handles_quotes_and_escapes() {
        assert_eq!(
            words(r#"a 'b c' "d \" e" f\ g"#),
            vec!["a", "b c", "d \" e", "f g"]
        );
        assert_eq!(words("''"), vec![""]);
        assert!(shlex_split("'open", 0).is_err());
    }

    #[test]
    fn long_options_take_values_both_ways() {
        assert_eq!(
            options("--index-url=a --extra-index-url b --pre").unwrap(),
            vec![
                (OptionKind::IndexUrl, Some("a".into())),
                (OptionKind::ExtraIndexUrl, Some("b".into())),
                (OptionKind::Pre, None)
            ]
        );
    }

    #[test]
    fn abbreviations_and_short_clusters_follow_optparse() {
        assert_eq!(
            options("--extra x").unwrap(),
            vec![(OptionKind::ExtraIndexUrl, Some("x".into()))]
        );
        assert_eq!(
            options("-rfile.txt").unwrap(),
            vec![(OptionKind::Requirement, Some("file.txt".into()))]
        );
        assert_eq!(
            options("--pr").unwrap_err(),
            "ambiguous option: --pr (--pre, --prefer-binary?)"
        );
    }

    #[test]
    fn bad_options_are_errors() {
        assert_eq!(
            options("--frobnicate").unwrap_err(),
            "no such option: --frobnicate"
        );
        assert_eq!(
            options("--pre=1").unwrap_err(),
            "--pre option does not take a value"
        );
        assert_eq!(options("-r").unwrap_err(), "-r option requires 1 argument");
        assert!(options("--hash=md5:00")
            .unwrap_err()
            .contains("allowed hash algorithms"));
        assert!(options("--use-feature=nope")
            .unwrap_err()
            .contains("invalid choice"));
    }

    #[test]
    fn splits_requirement_from_options_on_single_spaces() {
        let line = "foo >=1 --hash=sha256:00";
        let (args, opts) = split_args_and_options(line);
        assert_eq!(&line[args], "foo >=1");
        assert_eq!(&line[opts], "--hash=sha256:00");
        let (args, opts) = split_args_and_options("-r x.txt");
        assert_eq!(args, 0..0);
        assert_eq!(opts, 0..8);
    }
}
