//! lex.go's word processing: quotes, escapes, every `${}` form, patterns,
//! word splitting, errors, and the variable references of a word.

use super::lex::{expand, expand_words, var_refs, ExpandError, MAX_NESTING};

fn env(name: &str) -> Option<String> {
    match name {
        "PWD" => Some("/home".into()),
        "SHELL" => Some("bash".into()),
        "KOREAN" => Some("한국어".into()),
        "NULL" => Some(String::new()),
        "FOO" => Some("xxyy".into()),
        "SPACED" => Some("a b  c".into()),
        "PATH_LIKE" => Some("/tmp/tmp/bar.txt".into()),
        _ => None,
    }
}

fn ok(word: &str) -> String {
    expand(word, '\\', env).unwrap_or_else(|err| panic!("{word:?}: {err}"))
}

fn err(word: &str) -> ExpandError {
    match expand(word, '\\', env) {
        Ok(value) => panic!("{word:?} expanded to {value:?}, expected an error"),
        Err(err) => err,
    }
}

#[test]
fn quotes_and_escapes() {
    for (word, expected) in [
        ("hello", "hello"),
        ("he'll'o", "hello"),
        (r"he\'llo", "he'llo"),
        (r"abc\tdef", "abctdef"),
        (r#""abc\tdef""#, r"abc\tdef"),
        (r#""abc\\tdef""#, r"abc\tdef"),
        (r"'abc\tdef'", r"abc\tdef"),
        (r"hello\", "hello"),
        (r"hello\\", r"hello\"),
        (r#""hel'lo""#, "hel'lo"),
        (r"'hello\'", r"hello\"),
        (r#""''""#, "''"),
        (r#"'"hello"'"#, r#""hello""#),
        ("안'녕'하세요", "안녕하세요"),
        ("\u{feff}bom", "bom"),
    ] {
        assert_eq!(ok(word), expected, "{word:?}");
    }
    for word in ["he'llo", r"he\\'llo", "\"hello", r#""hello\""#, "'hello"] {
        assert!(
            matches!(err(word), ExpandError::Unterminated(_)),
            "{word:?}"
        );
    }
}

#[test]
fn dollar_forms() {
    for (word, expected) in [
        ("$.", "$."),
        ("he$1x", "hex"),
        ("he$.x", "he$.x"),
        ("he$pwd.", "he."),
        ("he$PWD", "he/home"),
        (r"he\$PWD", "he$PWD"),
        (r"he\\$PWD", r"he\/home"),
        (r#""he\$PWD""#, "he$PWD"),
        (r#""he\\$PWD""#, r"he\/home"),
        (r"\${}", "${}"),
        ("he${hi}xx", "hexx"),
        ("he${PWD}", "he/home"),
        ("'he${XX}'", "he${XX}"),
        (r#""he'$PWD'""#, "he'/home'"),
        ("'$PWD'", "$PWD"),
        (r"'\$PWD'", r"\$PWD"),
        ("$KOREAN", "한국어"),
        ("안녕$KOREAN", "안녕한국어"),
        ("${PWD}}", "/home}"),
        ("$@$*$#$?$-$$$!$0", ""),
        ("$123abc", "abc"),
    ] {
        assert_eq!(ok(word), expected, "{word:?}");
    }
    assert_eq!(err("${}"), ExpandError::BadSubstitution);
    assert_eq!(err("${{aaa}"), ExpandError::BadSubstitution);
    assert_eq!(err("${:x}"), ExpandError::BadSubstitution);
    assert_eq!(err("he${"), ExpandError::MissingBrace);
    assert_eq!(
        err("he${PWD"),
        ExpandError::UnsupportedModifier("\u{fffd}".into())
    );
    assert_eq!(err("he${.}"), ExpandError::UnsupportedModifier(".".into()));
    assert_eq!(
        err("he${PWD:=000}xx"),
        ExpandError::UnsupportedModifier(":=".into())
    );
    assert_eq!(
        err("he${XXX:YYY}"),
        ExpandError::UnsupportedModifier(":Y".into())
    );
}

#[test]
fn default_alternative_and_required() {
    for (word, expected) in [
        ("he${XXX:-000}xx", "he000xx"),
        ("he${PWD:-000}xx", "he/homexx"),
        ("he${XXX:-$PWD}xx", "he/homexx"),
        ("he${XXX:-${PWD:-yyy}}xx", "he/homexx"),
        ("he${XXX:-${YYY:-yyy}}xx", "heyyyxx"),
        ("${NULL:-dflt}", "dflt"),
        ("${NULL-dflt}", ""),
        ("${XXX-dflt}", "dflt"),
        ("he${XXX:+${PWD}}xx", "hexx"),
        ("he${PWD:+${XXX}}xx", "hexx"),
        ("he${PWD:+${SHELL}}xx", "hebashxx"),
        ("${NULL:+set}", ""),
        ("${NULL+set}", "set"),
        ("${XXX+set}", ""),
        ("he${PWD?}", "he/home"),
        ("he${PWD:?}", "he/home"),
        ("he${NULL?}", "he"),
        ("he${PWD:+${PWD}:}xx", "he/home:xx"),
        (r"he${XXX:-\$PWD:}xx", "he$PWD:xx"),
        (r"he${XXX:-\${PWD}z}xx", "he${PWDz}xx"),
        ("${aaa:-${bbb:-ccc}}}", "ccc}"),
        ("${XXX:-\"a b\"}", "a b"),
    ] {
        assert_eq!(ok(word), expected, "{word:?}");
    }
    let required = |name: &str, message: &str| ExpandError::Required {
        name: name.into(),
        message: message.into(),
    };
    assert_eq!(
        err("${XXX?}"),
        required("XXX", "is not allowed to be unset")
    );
    assert_eq!(
        err("${XXX:?}"),
        required("XXX", "is not allowed to be unset")
    );
    assert_eq!(
        err("${NULL:?}"),
        required("NULL", "is not allowed to be empty")
    );
    assert_eq!(err("${XXX:?set it $PWD}"), required("XXX", "set it /home"));
    assert_eq!(err("${XXX:-a"), ExpandError::MissingBrace);
    assert_eq!(err("${XXX:"), ExpandError::MissingBrace);
    assert_eq!(
        err("${XXX:}x}"),
        ExpandError::UnsupportedModifier(":}".into())
    );
}

#[test]
fn prefix_and_suffix_patterns() {
    let with = |value: &str| {
        let value = value.to_string();
        move |name: &str| (name == "V").then(|| value.clone())
    };
    for (value, word, expected) in [
        ("xxyy", "${V#*x*y}", "y"),
        ("xxyy", "${V#*}", "xxyy"),
        ("xxyy", "${V#}", "xxyy"),
        ("xxyy", "${V##*x}", "yy"),
        ("xxyy", "${V##}", "xxyy"),
        ("???y", r"${V#?\?}", "?y"),
        ("xxyy", "${V%y}", "xxy"),
        ("xxyy", "${V%%y*}", "xx"),
        ("xxyy", "${V%}", "xxyy"),
        ("xx**", r"${V%%\**}", "xx"),
        ("a***yy*", r"${V%%\**\*}", "a"),
        ("()[]{}^$.*?|\\x", r"${V#()[]{\}^$.\*\?|\\}", "x"),
        ("/usr/local/lib/python3.11", "${V##*/}", "python3.11"),
        ("/usr/local/lib/python3.11", "${V%/*}", "/usr/local/lib"),
        ("12.1.1", "${V%.*}", "12.1"),
        ("12.1.1", "${V%%.*}", "12"),
        ("a\nb", "${V#*}", "a\nb"),
        ("a\nb", "${V##*}", "\nb"),
    ] {
        let got = expand(word, '\\', with(value)).unwrap_or_else(|e| panic!("{word}: {e}"));
        assert_eq!(got, expected, "{value:?} {word:?}");
    }
    assert_eq!(ok("${XXX#x}${FOO%x}"), "xxyy");
    assert!(matches!(
        err(r"${FOO#\x}"),
        ExpandError::InvalidPattern { .. }
    ));
    // The pattern is read even when the variable is unset.
    assert!(matches!(
        err(r"${XXX%\x}"),
        ExpandError::InvalidPattern { .. }
    ));
}

#[test]
fn replacements() {
    let with = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    };
    for (pairs, word, expected) in [
        (
            &[("FOO", "/foo*/*/*.txt"), ("NEEDLE", "\\*/")][..],
            "${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}",
            "/foo.*/*.txt - /foo..*.txt",
        ),
        (
            &[("FOO", "/tmp/tmp/bar.txt"), ("NEEDLE", "/tmp")][..],
            "${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}",
            "/tmp/bar.txt - /bar.txt",
        ),
        (
            &[("FOO", "/a/foo/b/c.txt"), ("NEEDLE", "/?/"), ("R", "/")][..],
            "${FOO/$NEEDLE/$R} - ${FOO//$NEEDLE/$R}",
            "/foo/b/c.txt - /foo/c.txt",
        ),
        (
            &[("FOO", "/tmp/foo.txt")][..],
            r"${FOO//\//\/}",
            r"\/tmp\/foo.txt",
        ),
        (
            &[("FOO", "xxyy"), ("BAR", "")][..],
            "${FOO/$BAR/ww}",
            "wwxxyy",
        ),
        (&[("FOO", "xxyy")][..], "${FOO///}", "xxyy"),
        (&[][..], "${FOO///}", ""),
        (&[("V", "abc")][..], "${V//?/-}", "---"),
        (&[("V", "abc")][..], "${V//*/-}", "-"),
        (&[("V", "abc")][..], "${V//x*/-}", "abc"),
        // An empty pattern matches once at every position.
        (&[("V", "ab")][..], "${V///-}", "-a-b-"),
        // `$0` in a replacement that a variable brought is the match.
        (
            &[("V", "aXbX"), ("R", "[$0]")][..],
            "${V//X/$R}",
            "a[X]b[X]",
        ),
        (&[("V", "aXbX")][..], "${V//X/[$0]}", "a[]b[]"),
        (&[("V", "a$b"), ("R", "<$1$$>")][..], "${V//b/$R}", "a$<$>"),
    ] {
        let got = expand(word, '\\', with(pairs)).unwrap_or_else(|e| panic!("{word}: {e}"));
        assert_eq!(got, expected, "{word:?}");
    }
    assert_eq!(
        expand("${FOO//ww}", '\\', with(&[("FOO", "xxyy")])),
        Err(ExpandError::MissingSlash)
    );
    assert_eq!(
        expand("${FOO/a/b", '\\', with(&[])),
        Err(ExpandError::MissingBrace)
    );
}

#[test]
fn backtick_escape() {
    let lookup = |name: &str| (name == "FOO").then(|| "bar".to_string());
    assert_eq!(
        expand(r"c:\path\$FOO", '`', lookup).unwrap(),
        r"c:\path\bar"
    );
    assert_eq!(expand("`$FOO", '`', lookup).unwrap(), "$FOO");
    assert_eq!(expand(r#""a`"b""#, '`', lookup).unwrap(), "a\"b");
    assert_eq!(
        expand(r#""a\"b""#, '`', lookup),
        Err(ExpandError::Unterminated("double-quote"))
    );
}

#[test]
fn words_split_after_substitution() {
    let words = |word: &str| expand_words(word, '\\', env).unwrap();
    assert_eq!(words("a  b\tc"), ["a", "b", "c"]);
    assert_eq!(words("$SPACED x"), ["a", "b", "c", "x"]);
    assert_eq!(words("\"$SPACED\" x"), ["a b  c", "x"]);
    assert_eq!(words(r"a\ b 'c d'"), ["a b", "c d"]);
    assert_eq!(words("'' x \"\""), ["x"]);
    assert_eq!(words("  "), Vec::<String>::new());
}

#[test]
fn var_refs_list_every_variable_in_order() {
    let refs = var_refs(
        "pip install torch==$TORCH ${CUDA:-12.1} '$NOT' \"$IN\" \\$NO $",
        '\\',
    );
    let names: Vec<&str> = refs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["TORCH", "CUDA", "IN"]);
    let word = "pip install torch==$TORCH ${CUDA:-12.1}";
    let refs = var_refs(word, '\\');
    assert_eq!(&word[refs[0].span.clone()], "$TORCH");
    assert_eq!(&word[refs[1].span.clone()], "${CUDA:-12.1}");
    assert_eq!(refs[0].modifier, None);
    assert_eq!(refs[1].modifier.as_deref(), Some(":-"));
    assert!(refs[1].handles_empty() && !refs[0].handles_empty());

    let nested = var_refs("${A:-${B:+$C}}x${D##*/}${E//a/$F}${G}", '\\');
    let shown: Vec<(&str, Option<&str>)> = nested
        .iter()
        .map(|r| (r.name.as_str(), r.modifier.as_deref()))
        .collect();
    assert_eq!(
        shown,
        [
            ("A", Some(":-")),
            ("B", Some(":+")),
            ("C", None),
            ("D", Some("##")),
            ("E", Some("//")),
            ("F", None),
            ("G", None),
        ]
    );
    // Special parameters are looked up like any name.
    let special: Vec<String> = var_refs("$1 $@ ${#}", '\\')
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(special, ["1", "@", "#"]);
    // A syntax error ends the list where it stands.
    let cut: Vec<String> = var_refs("$A ${ $B", '\\')
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(cut, ["A"]);
    // `` ` `` escapes under `# escape=``.
    let refs: Vec<String> = var_refs("`$A \\$B", '`')
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(refs, ["B"]);
}

#[test]
fn nesting_is_bounded() {
    let nested = |depth: usize| format!("{}x{}", "${A:-\"".repeat(depth), "\"}".repeat(depth));
    assert_eq!(ok(&nested(MAX_NESTING)), "x");
    assert_eq!(err(&nested(MAX_NESTING + 1)), ExpandError::TooDeep);
}
