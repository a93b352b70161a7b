//! Property tests: the parser never panics, whatever the input, and every
//! error it reports points inside the file it read.
//!
//! Raise `PROPTEST_CASES` for a longer run. Inputs that once crashed the
//! parser are kept below as regression tests.

use std::path::Path;

use proptest::prelude::*;
use reqlock::requirements::{parse_text, source::SourceText, ParseSettings};

fn settings() -> ParseSettings {
    ParseSettings {
        working_dir: std::env::temp_dir(),
        lookup_var: Box::new(|name| (name == "SET").then(|| "välue ${SET}".to_string())),
    }
}

fn check(text: &str) {
    let lines = text.split(['\n', '\r']).count();
    match parse_text(Path::new("fuzz.txt"), text, &settings()) {
        Ok(set) => {
            for requirement in &set.requirements {
                assert!(requirement.origin.line >= 1 && requirement.origin.line <= lines + 8);
            }
        }
        Err(err) => {
            assert!(!err.diagnostics.is_empty());
            for diagnostic in &err.diagnostics {
                let _ = diagnostic.to_string();
            }
        }
    }
}

/// Pieces of real requirements syntax, so that random lines reach deep
/// into the parser instead of failing on the first character.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("numpy".to_string()),
        Just("Foo_Bar.baz".to_string()),
        Just("[extra,other]".to_string()),
        Just("==1.2.3".to_string()),
        Just(">=1.0,<2".to_string()),
        Just("~=2.1".to_string()),
        Just("===weird".to_string()),
        Just("==2.1.0+cu121".to_string()),
        Just("==1.*".to_string()),
        Just(" ; python_version < '3.12'".to_string()),
        Just(";".to_string()),
        Just(" @ ".to_string()),
        Just("https://h.invalid/p-1.0-py3-none-any.whl".to_string()),
        Just("git+https://h.invalid/r.git@main#egg=r".to_string()),
        Just("#egg=".to_string()),
        Just("./local/path".to_string()),
        Just(" -e ".to_string()),
        Just(" -r ".to_string()),
        Just(" -c ".to_string()),
        Just(" --hash=sha256:ab".to_string()),
        Just(" --hash".to_string()),
        Just(" --index-url=".to_string()),
        Just(" --extra".to_string()),
        Just(" --pre".to_string()),
        Just(" --no-binary :all:".to_string()),
        Just(" -C k=v".to_string()),
        Just(" \\\n".to_string()),
        Just("\\".to_string()),
        Just(" # comment".to_string()),
        Just("#".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("${SET}".to_string()),
        Just("${UNSET}".to_string()),
        Just("\r\n".to_string()),
        Just("\n".to_string()),
        Just("\u{0c}".to_string()),
        Just("\t".to_string()),
        Just("é".to_string()),
        Just("\u{2028}".to_string()),
        Just("\u{3000}".to_string()),
        "[ -~]{0,6}",
        any::<char>().prop_map(String::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|cases| cases.parse().ok()).unwrap_or(3000)
    ))]

    #[test]
    fn parsing_token_soup_never_panics(parts in prop::collection::vec(fragment(), 0..24)) {
        check(&parts.concat());
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(source) = SourceText::decode(&bytes) {
            check(&source.text);
        }
    }
}

#[test]
fn regressions() {
    for input in [
        "",
        "\\",
        "a \\",
        "é \\\n-r",
        "${SET}${SET}",
        "x==1 --hash=sha256:é",
        "numpy;",
        "numpy ; ",
        "-e é[",
        "\u{2028}#\u{2028}",
        // pep508_rs 0.9.2 panicked on names and extras ending in `.`/`-`/`_`.
        "numpy. ==1",
        "numpy-[x]",
        "numpy[a-]",
        "numpy[ok, b_ ]",
        "-e git+https://h.invalid/r#egg=r_[x]",
        // pep508_rs 0.9.2 counted characters as bytes after a marker expression.
        "numpy ; python_version < '3.12'é",
        "numpy ; python_version < '3.12' é and os_name == 'x'",
        "numpy ; python_version < '3.12'==2\"==2³",
    ] {
        check(input);
    }
}
