//! Property tests: the Dockerfile parser and lex.go's word processing never
//! panic, whatever the input, and what they return points inside it.
//!
//! Raise `PROPTEST_CASES` for a longer run.

use proptest::prelude::*;
use reqlock::dockerfile::{expand, expand_words, parse, var_refs, Dockerfile};

fn check_parse(text: &str) {
    let lines = text.split('\n').count();
    let Ok(file) = parse(text) else {
        return;
    };
    check_file(&file, text, lines);
}

fn check_file(file: &Dockerfile, text: &str, lines: usize) {
    let mut last_end = 0;
    for instruction in &file.instructions {
        assert!(instruction.start_line >= 1 && instruction.start_line <= instruction.end_line);
        assert!(instruction.end_line <= lines, "{text:?}");
        assert!(instruction.start_line > last_end, "{text:?}");
        last_end = instruction.end_line;
        for one in std::iter::once(instruction).chain(instruction.trigger.as_deref()) {
            let positions = std::iter::once(one.keyword.position)
                .chain(one.flags.iter().map(|f| f.position))
                .chain(one.args.iter().map(|a| a.position));
            for position in positions {
                assert!(position.line >= instruction.start_line && position.line <= lines);
                assert!(position.column >= 1);
            }
            for offset in 0..=one.original.len() + 2 {
                let _ = instruction.position_at(offset);
            }
            let _ = (one.arg_decls(), one.key_values());
        }
        for heredoc in &instruction.heredocs {
            assert!(heredoc.end_line <= instruction.end_line);
            let _ = heredoc.body();
            for offset in 0..=heredoc.content.len() + 1 {
                assert!(heredoc.position_at(offset).line <= heredoc.end_line);
            }
        }
        for arg in &instruction.args {
            check_word(&arg.text, file.escape);
        }
    }
    let _ = file.stages();
}

fn check_word(word: &str, escape: char) {
    let lookup = |name: &str| match name {
        "SET" => Some("a b*c".to_string()),
        "EMPTY" => Some(String::new()),
        _ => None,
    };
    let _ = expand(word, escape, lookup);
    let _ = expand_words(word, escape, lookup);
    for reference in var_refs(word, escape) {
        assert!(
            word.get(reference.span.clone()).is_some(),
            "{word:?} {reference:?}"
        );
    }
}

/// Pieces of real Dockerfile syntax, so that random files reach deep into
/// the parser instead of failing on the first character.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("FROM python:3.11 AS base\n".to_string()),
        Just("FROM ".to_string()),
        Just("RUN ".to_string()),
        Just("run ".to_string()),
        Just("COPY ".to_string()),
        Just("ADD ".to_string()),
        Just("ENV ".to_string()),
        Just("ARG ".to_string()),
        Just("LABEL ".to_string()),
        Just("ONBUILD ".to_string()),
        Just("HEALTHCHECK ".to_string()),
        Just("CMD ".to_string()),
        Just("# escape=`\n".to_string()),
        Just("# syntax=x\n".to_string()),
        Just("# comment\n".to_string()),
        Just("--mount=type=cache,target=\"/a b\" ".to_string()),
        Just("--from=base ".to_string()),
        Just("-- ".to_string()),
        Just("[\"a\", \"b\"]".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("\"\\u00e9\\ud800\"".to_string()),
        Just(" 1e400 ".to_string()),
        Just("<<EOF".to_string()),
        Just("<<-EOF".to_string()),
        Just("3<<'EOF'".to_string()),
        Just("\nEOF\n".to_string()),
        Just("\n\tEOF\n".to_string()),
        Just("A=1 ".to_string()),
        Just("B=\"x y\" ".to_string()),
        Just("$SET".to_string()),
        Just("${SET:-x}".to_string()),
        Just("${EMPTY:?m}".to_string()),
        Just("${SET#*}".to_string()),
        Just("${SET%%\\*}".to_string()),
        Just("${SET//?/$0}".to_string()),
        Just("${".to_string()),
        Just("}".to_string()),
        Just("\\\n".to_string()),
        Just("`\n".to_string()),
        Just("\\".to_string()),
        Just("`".to_string()),
        Just(" \\  \n".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("\r\n".to_string()),
        Just("\n".to_string()),
        Just("\n\n".to_string()),
        Just("\t".to_string()),
        Just("\u{feff}".to_string()),
        Just("é".to_string()),
        Just("à".to_string()),
        Just("\u{85}".to_string()),
        Just("\u{a0}".to_string()),
        Just("\u{2028}".to_string()),
        "[ -~]{0,6}",
        any::<char>().prop_map(String::from),
    ]
}

/// Pieces of words for lex.go.
fn word_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("$".to_string()),
        Just("${".to_string()),
        Just("}".to_string()),
        Just("SET".to_string()),
        Just("EMPTY".to_string()),
        Just("UNSET".to_string()),
        Just(":".to_string()),
        Just("-".to_string()),
        Just("+".to_string()),
        Just("?".to_string()),
        Just("#".to_string()),
        Just("%".to_string()),
        Just("/".to_string()),
        Just("*".to_string()),
        Just("\\".to_string()),
        Just("`".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just(" ".to_string()),
        Just("[]{}().^|".to_string()),
        Just("é".to_string()),
        Just("\u{feff}".to_string()),
        "[ -~]{0,4}",
        any::<char>().prop_map(String::from),
    ]
}

/// `PROPTEST_CASES`, else `default` (random generation dominates these
/// tests in an unoptimized build, so the defaults stay modest).
fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(cases(500))]

    #[test]
    fn parsing_dockerfile_soup_never_panics(parts in prop::collection::vec(fragment(), 0..40)) {
        check_parse(&parts.concat());
    }

    #[test]
    fn expanding_word_soup_never_panics(parts in prop::collection::vec(word_fragment(), 0..24)) {
        let word = parts.concat();
        check_word(&word, '\\');
        check_word(&word, '`');
    }
}

proptest! {
    #![proptest_config(cases(2000))]

    #[test]
    fn parsing_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check_parse(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn dockerfile_regressions() {
    let deep = format!(
        "FROM x\nRUN {}x{}\n",
        "${A:-".repeat(5_000),
        "}".repeat(5_000)
    );
    let onbuild = format!("FROM x\n{}RUN x\n", "ONBUILD ".repeat(5_000));
    let continued = format!("FROM x\nRUN a{}\n", " \\\n".repeat(20_000));
    for input in [
        "",
        "\\",
        "`",
        "# escape=`\n`",
        "FROM x\nRUN <<EOF",
        "FROM x\nRUN <<EOF\n",
        "FROM x\nRUN --x=à\u{a0}\u{80}b c",
        "FROM x\nHEALTHCHECK à\u{85} CMD x",
        "FROM x\nRUN [\"\\",
        "FROM x\nRUN [\"\\u",
        "FROM x\nRUN [\"\\é\"]",
        "FROM x\nONBUILD ONBUILD",
        "FROM x\nENV \"a b\" c",
        deep.as_str(),
        onbuild.as_str(),
        continued.as_str(),
    ] {
        check_parse(input);
    }
    for word in [
        "${A:-",
        "${A//",
        "${SET%\\",
        "${SET/[/x}",
        "${SET//*/$0$$${1}}",
    ] {
        check_word(word, '\\');
    }
}
