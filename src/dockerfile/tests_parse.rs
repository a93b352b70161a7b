//! The parser, rule by rule: directives, continuations, forms, flags,
//! heredocs, spans, ARG/ENV forms, stages and errors.

use std::path::Path;

use super::{parse, Dockerfile, Form, Instruction, Keyword, ParseError, ParseWarning, Position};

fn ok(text: &str) -> Dockerfile {
    parse(text).unwrap_or_else(|err| panic!("{text:?}: {err}"))
}

/// The single instruction after `FROM x`.
fn only(text: &str) -> Instruction {
    let mut file = ok(&format!("FROM x\n{text}"));
    assert_eq!(file.instructions.len(), 2, "{text:?}");
    file.instructions.remove(1)
}

fn texts(words: &[super::Word]) -> Vec<&str> {
    words.iter().map(|w| w.text.as_str()).collect()
}

fn at(line: usize, column: usize) -> Position {
    Position { line, column }
}

#[test]
fn directives_only_at_the_top() {
    let file = ok("# syntax=docker/dockerfile:1\n  #ESCAPE = `\n# Check=skip=all\nFROM x\n");
    let shown: Vec<(&str, &str, usize)> = file
        .directives
        .iter()
        .map(|d| (d.name.as_str(), d.value.as_str(), d.line))
        .collect();
    assert_eq!(
        shown,
        [
            ("syntax", "docker/dockerfile:1", 1),
            ("escape", "`", 2),
            ("check", "skip=all", 3)
        ]
    );
    assert_eq!(file.escape, '`');
    // A comment, an unknown key or a blank line ends them.
    for text in [
        "# hello\n# escape=`\nFROM x\n",
        "# foo=bar\n# escape=`\nFROM x\n",
        "\n# escape=`\nFROM x\n",
        "FROM x\n# escape=`\n",
    ] {
        let file = ok(text);
        assert_eq!(file.escape, '\\', "{text:?}");
        assert!(file.directives.is_empty(), "{text:?}");
    }
    assert_eq!(
        parse("# escape=x\nFROM x\n"),
        Err(ParseError::InvalidEscape {
            value: "x".into(),
            line: 1
        })
    );
    assert_eq!(
        parse("# syntax=a\n# SYNTAX=b\nFROM x\n"),
        Err(ParseError::DuplicateDirective {
            name: "syntax".into(),
            line: 2
        })
    );
    // `(.+?)\s*$` keeps one character of an all-blank value.
    assert!(matches!(
        parse("# escape=  \nFROM x\n"),
        Err(ParseError::InvalidEscape { value, .. }) if value == " "
    ));
    // `# escape=` with no value is no directive at all.
    assert!(ok("# escape=\n# escape=`\nFROM x\n").directives.is_empty());
}

#[test]
fn continuations_join_without_space() {
    let run = only("RUN a \\   \n# comment\n\n  \t\n  b\\\t\nc\n");
    assert_eq!(texts(&run.args), ["a   bc"]);
    assert_eq!((run.start_line, run.end_line), (2, 7));
    // An escaped escape at the end does not continue, nor do three.
    assert_eq!(texts(&only("RUN a \\\\\n").args), ["a \\\\"]);
    assert_eq!(ok("FROM x\nRUN a \\\\\\\nRUN b\n").instructions.len(), 3);
    // A line of only the escape continues; the end of the file ends it.
    assert_eq!(texts(&only("RUN a \\\n\\\nb \\\n").args), ["a b"]);
    // The first line is trimmed on the left, continued lines are not.
    let indented = ok("FROM x\n   RUN  a \\\n    b\n");
    assert_eq!(indented.instructions[1].original, "RUN  a     b");
    let file = ok("FROM x\nRUN a \\\n\n  \nb\n");
    assert_eq!(
        file.warnings,
        [
            ParseWarning::EmptyContinuationLine { line: 3 },
            ParseWarning::EmptyContinuationLine { line: 4 }
        ]
    );
    // Under `# escape=``, `\` is an ordinary character.
    let file = ok("# escape=`\nFROM x\nRUN dir c:\\ `\n  && echo\nRUN a \\\n");
    assert_eq!(texts(&file.instructions[1].args), ["dir c:\\   && echo"]);
    assert_eq!(texts(&file.instructions[2].args), ["a \\"]);
}

#[test]
fn instructions_in_any_case() {
    let file = ok("from x AS base\nRun a\neNv A=1\nwoRKdir /a\nNOPE a b\n");
    let kinds: Vec<Keyword> = file.instructions.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [
            Keyword::From,
            Keyword::Run,
            Keyword::Env,
            Keyword::Workdir,
            Keyword::Unknown
        ]
    );
    assert_eq!(file.instructions[1].keyword.text, "Run");
    assert!(file.instructions[4].args.is_empty());
    assert_eq!(file.instructions[4].original, "NOPE a b");
}

#[test]
fn exec_and_shell_forms() {
    let exec = only("RUN [\"pip\", \"install\", \"torch==2.1.0\"]\n");
    assert_eq!(
        (exec.form, texts(&exec.args)),
        (Form::Exec, vec!["pip", "install", "torch==2.1.0"])
    );
    assert_eq!(exec.args[1].position, at(2, 13));
    for (text, expected) in [
        ("RUN []", (Form::Exec, vec![])),
        ("RUN [ \"a\" , \"b\" ]", (Form::Exec, vec!["a", "b"])),
        (
            "RUN [\"\\u00e9\\ud83d\\ude00\\ud800x\"]",
            (Form::Exec, vec!["é😀\u{fffd}x"]),
        ),
        ("RUN ['a', 'b']", (Form::Shell, vec!["['a', 'b']"])),
        ("RUN [\"a\"", (Form::Shell, vec!["[\"a\""])),
        ("RUN [\"c:\\x\"]", (Form::Shell, vec!["[\"c:\\x\"]"])),
        ("RUN [\"a\", 1e400]", (Form::Shell, vec!["[\"a\", 1e400]"])),
        // Text after the array is shell form (BuildKit v0.15 and later).
        ("CMD [\"a\"] # note", (Form::Shell, vec!["[\"a\"] # note"])),
        ("CMD python app.py", (Form::Shell, vec!["python app.py"])),
        ("COPY [\"a b\", \"/c/\"]", (Form::Exec, vec!["a b", "/c/"])),
        ("COPY a  b\t/c/", (Form::Shell, vec!["a", "b", "/c/"])),
        ("VOLUME /a /b", (Form::Shell, vec!["/a", "/b"])),
        (
            "HEALTHCHECK CMD [\"curl\", \"x\"]",
            (Form::Exec, vec!["CMD", "curl", "x"]),
        ),
        (
            "HEALTHCHECK CMD curl x",
            (Form::Shell, vec!["CMD", "curl x"]),
        ),
        ("WORKDIR /a b ", (Form::Shell, vec!["/a b"])),
        ("EXPOSE 80  443/udp", (Form::Shell, vec!["80", "443/udp"])),
        ("RUN", (Form::Shell, vec![])),
    ] {
        let instruction = only(text);
        assert_eq!(
            (instruction.form, texts(&instruction.args)),
            expected,
            "{text:?}"
        );
    }
    for text in [
        "CMD [\"a\", 1]",
        "ENTRYPOINT [\"a\", [\"b\"]]",
        "COPY [null, \"x\"]",
    ] {
        assert!(
            matches!(
                parse(&format!("FROM x\n{text}\n")),
                Err(ParseError::NotStringArray { start_line: 2, .. })
            ),
            "{text:?}"
        );
    }
}

#[test]
fn flags_as_buildkit_reads_them() {
    let run = only(
        "RUN --mount=type=cache,target=/root/.cache \\\n  --mount=type=secret,id=t,target=\"/a b\" --network=none pip install x\n",
    );
    assert_eq!(
        run.flags
            .iter()
            .map(|f| f.text.as_str())
            .collect::<Vec<_>>(),
        [
            "--mount=type=cache,target=/root/.cache",
            "--mount=type=secret,id=t,target=/a b",
            "--network=none"
        ]
    );
    assert_eq!(run.flags[1].raw, "--mount=type=secret,id=t,target=\"/a b\"");
    assert_eq!(run.flags[1].position, at(3, 3));
    assert_eq!(
        (run.flags[0].name(), run.flags[0].value()),
        ("mount", Some("type=cache,target=/root/.cache"))
    );
    assert_eq!(texts(&run.args), ["pip install x"]);
    assert_eq!(run.args[0].position, at(3, 57));

    let copy = only("COPY --from=builder --link --chmod=644 /src /dst\n");
    assert_eq!(copy.flags[1].name(), "link");
    assert_eq!(copy.flags[1].value(), None);
    assert_eq!(texts(&copy.args), ["/src", "/dst"]);
    // A value after a space is an argument; `--` ends the flags.
    let spaced = only("RUN --network host echo\n");
    assert_eq!(
        (spaced.flags[0].text.as_str(), texts(&spaced.args)),
        ("--network", vec!["host echo"])
    );
    let dashes = only("RUN --a=1 -- --b=2\n");
    assert_eq!(
        (dashes.flags.len(), texts(&dashes.args)),
        (1, vec!["--b=2"])
    );
    let quoted = only("RUN --x=\\\" --y='a b' --z=\"\" echo\n");
    let shown: Vec<&str> = quoted.flags.iter().map(|f| f.text.as_str()).collect();
    assert_eq!(shown, ["--x=\"", "--y=a b", "--z="]);
    // Byte by byte: a non-ASCII value reads as Latin-1.
    assert_eq!(only("RUN --x=é echo\n").flags[0].text, "--x=Ã©");
    assert!(only("RUN --only\n").args.is_empty());
}

#[test]
fn heredocs_of_every_kind() {
    let file = ok("FROM x\nRUN <<EOF\npip install torch\n  # kept\nEOF\nRUN python3 <<-'PY' && cat 3<<\"A B\"\n\tprint(1)\n\tPY\nthree\nA B\nCOPY <<a <<b /dst/\n1\na\n2\nb\nRUN cat<<NO\nRUN [\"cat\", \"<<NO\"]\n");
    let [_, first, second, copy, glued, json] = file.instructions.as_slice() else {
        panic!("{:?}", file.instructions);
    };
    let doc = &first.heredocs[0];
    assert_eq!(
        (doc.name.as_str(), doc.fd, doc.chomp, doc.expand),
        ("EOF", 0, false, true)
    );
    assert_eq!(doc.content, "pip install torch\n  # kept\n");
    assert_eq!((doc.start_line, doc.end_line, first.end_line), (3, 5, 5));
    assert_eq!(doc.position_at(4), at(3, 5));
    assert_eq!(doc.position_at(20), at(4, 3));

    assert_eq!(texts(&second.args), ["python3 <<-'PY' && cat 3<<\"A B\""]);
    let names: Vec<(&str, u64, bool, bool)> = second
        .heredocs
        .iter()
        .map(|h| (h.name.as_str(), h.fd, h.chomp, h.expand))
        .collect();
    assert_eq!(names, [("PY", 0, true, false), ("A B", 3, false, false)]);
    assert_eq!(second.heredocs[0].content, "\tprint(1)\n");
    assert_eq!(second.heredocs[0].body(), "print(1)\n");
    assert_eq!((second.start_line, second.end_line), (6, 10));

    assert_eq!(copy.heredocs.len(), 2);
    assert_eq!(texts(&copy.args), ["<<a", "<<b", "/dst/"]);
    assert!(glued.heredocs.is_empty() && json.heredocs.is_empty());
    assert_eq!(json.form, Form::Exec);

    // `<<\EOF` is unquoted for BuildKit; a quoted part anywhere is not.
    let names = ok("FROM x\nRUN <<\\E <<E\"F\" <<$V\n1\nE\n2\nEF\n3\n$V\n").instructions[1]
        .heredocs
        .iter()
        .map(|h| (h.name.clone(), h.expand))
        .collect::<Vec<_>>();
    assert_eq!(
        names,
        [
            ("E".into(), true),
            ("EF".into(), false),
            ("$V".into(), true)
        ]
    );
    // A lexing error on the line means no heredoc at all.
    assert!(only("RUN echo ${ <<EOF\n").heredocs.is_empty());
    // ONBUILD keeps its trigger's heredocs.
    let onbuild = only("ONBUILD RUN <<EOF\nx\nEOF\n");
    assert_eq!((onbuild.heredocs.len(), onbuild.end_line), (1, 4));
    assert_eq!(onbuild.trigger.as_ref().map(|t| t.kind), Some(Keyword::Run));
    // Terminators must match exactly (tabs only with `<<-`).
    assert_eq!(only("RUN <<E\nE \n E\nE\n").heredocs[0].content, "E \n E\n");
    assert_eq!(
        parse("FROM x\nRUN <<A <<B\n1\nA\n2\n"),
        Err(ParseError::UnterminatedHeredoc {
            name: "B".into(),
            start_line: 2,
            end_line: 5
        })
    );
    assert!(matches!(
        parse("FROM x\nRUN <<${A:-a b}\n"),
        Err(ParseError::HeredocName { start_line: 2, .. })
    ));
}

#[test]
fn spans_point_into_the_file() {
    let text = "\u{feff}FROM python:3.11 AS base\n  RUN --mount=type=cache,target=/c \\\n    pip install \\\n# c\n        torch\nENV A=1 \\\r\n    B=\"x y\"\r\nCOPY a é b\n";
    let file = ok(text);
    let from = &file.instructions[0];
    assert_eq!(from.args[2].position, at(1, 21));
    let run = &file.instructions[1];
    assert_eq!(run.keyword.position, at(2, 3));
    assert_eq!(run.flags[0].position, at(2, 7));
    assert_eq!(run.args[0].position, at(3, 5));
    let torch = run.args[0].offset + run.args[0].text.find("torch").unwrap();
    assert_eq!(run.position_at(torch), at(5, 9));
    let env = &file.instructions[2];
    assert_eq!(env.args[3].text, "\"x y\"");
    assert_eq!(env.args[3].position, at(7, 7));
    assert_eq!(file.instructions[3].args[2].position, at(8, 10));
    let diagnostic = parse("FROM x\nRUN <<EOF\n")
        .unwrap_err()
        .diagnostic(Path::new("Dockerfile"), "FROM x\nRUN <<EOF\n");
    assert_eq!(diagnostic.location.to_string(), "Dockerfile:2:1");
    assert!(diagnostic.to_string().contains("unterminated heredoc"));
}

#[test]
fn arg_env_and_label_forms() {
    let arg = only("ARG A=1 B C=\"x y\" D=\n");
    let decls = arg.arg_decls();
    let decls: Vec<(&str, Option<&str>)> = decls
        .iter()
        .map(|d| {
            (
                d.name.text.as_str(),
                d.default.as_ref().map(|w| w.text.as_str()),
            )
        })
        .collect();
    assert_eq!(
        decls,
        [
            ("A", Some("1")),
            ("B", None),
            ("C", Some("\"x y\"")),
            ("D", Some(""))
        ]
    );
    assert_eq!(
        arg.arg_decls()[2].default.as_ref().unwrap().position,
        at(2, 13)
    );

    let env = only("ENV A=1 B=\"2 3\" C=a\\ b\n");
    let pairs: Vec<(String, String)> = env
        .key_values()
        .into_iter()
        .map(|kv| (kv.key.text, kv.value.text))
        .collect();
    assert_eq!(
        pairs,
        [
            ("A".into(), "1".into()),
            ("B".into(), "\"2 3\"".into()),
            ("C".into(), "a\\ b".into())
        ]
    );
    assert!(!env.legacy_key_value);
    let legacy = only("ENV PATH /usr/local/bin:$PATH  x\n");
    assert!(legacy.legacy_key_value);
    assert_eq!(texts(&legacy.args), ["PATH", "/usr/local/bin:$PATH  x"]);
    assert_eq!(
        texts(&only("LABEL a=b c=\"d e\"\n").args),
        ["a", "b", "c", "\"d e\""]
    );
    assert!(only("ENV\n").args.is_empty());
    assert!(matches!(
        parse("FROM x\nENV ALONE\n"),
        Err(ParseError::TwoArguments {
            keyword: "ENV",
            start_line: 2,
            ..
        })
    ));
    assert!(matches!(
        parse("FROM x\nLABEL a=b c\n"),
        Err(ParseError::MissingEquals { word, .. }) if word == "c"
    ));
}

#[test]
fn stages_and_their_parents() {
    let file = ok("ARG BASE=python:3.11\nFROM --platform=$BUILDPLATFORM $BASE AS Builder\nRUN a\nFROM builder as final\nFROM alpine\nFROM a b\nFROM x AS 1bad\n");
    assert_eq!(file.global_instructions().len(), 1);
    let stages = file.stages();
    assert_eq!(stages.len(), 5);
    let builder = &stages[0];
    assert_eq!(builder.name_lower().as_deref(), Some("builder"));
    assert_eq!(
        builder.platform.as_ref().and_then(|p| p.value()),
        Some("$BUILDPLATFORM")
    );
    assert_eq!(
        builder.base.as_ref().map(|b| b.text.as_str()),
        Some("$BASE")
    );
    assert_eq!(builder.instructions, 2..3);
    assert_eq!(stages[1].parent, Some(0));
    assert_eq!(stages[2].parent, None);
    assert_eq!(
        stages[3].problem,
        Some(super::StageProblem::Arguments { count: 2 })
    );
    assert!(matches!(
        stages[4].problem,
        Some(super::StageProblem::InvalidName(_))
    ));
}

#[test]
fn errors_are_typed() {
    assert_eq!(parse(""), Err(ParseError::NoInstructions));
    // A lone escape makes an instruction without a keyword, as in BuildKit.
    let lone = ok("# c\n\n \\\n");
    assert_eq!(lone.instructions.len(), 1);
    assert_eq!(lone.instructions[0].kind, Keyword::Unknown);
    assert_eq!(lone.instructions[0].keyword.text, "");
    // ONBUILD may nest in BuildKit's parser (its next layer refuses it);
    // reqlock follows a few levels and then says so.
    let nested = |depth: usize| format!("FROM x\n{}RUN a\n", "ONBUILD ".repeat(depth));
    assert!(parse(&nested(super::line::MAX_ONBUILD_NESTING)).is_ok());
    assert!(matches!(
        parse(&nested(super::line::MAX_ONBUILD_NESTING + 1)),
        Err(ParseError::TooDeep { start_line: 2, .. })
    ));
    let long = format!("FROM x\nRUN {}\n", "a".repeat(70_000));
    assert_eq!(parse(&long), Err(ParseError::LineTooLong { line: 2 }));
}
