//! `mailauth spf lint`, `mailauth dmarc lint` and the exit-status table of
//! each command's `--help`, run as a program.
#![cfg(feature = "cli")]

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

const ZONE: &str = "tests/data/lint/lint.zone";

fn mailauth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailauth"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run mailauth")
}

fn mailauth_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailauth"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mailauth");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("json")
}

/// The rows of the exit-status table at the end of `--help`: (code, first
/// line of its text).
fn exit_table(args: &[&str]) -> Vec<(u8, String)> {
    let out = mailauth(args);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let help = stdout(&out);
    let table = help
        .split("Exit status:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no exit-status table in {args:?}: {help}"));
    table
        .lines()
        .filter_map(|line| {
            let line = line.strip_prefix("  ")?;
            let (code, text) = line.split_once("  ")?;
            Some((code.parse().ok()?, text.to_owned()))
        })
        .collect()
}

fn codes(table: &[(u8, String)]) -> Vec<u8> {
    table.iter().map(|(code, _)| *code).collect()
}

#[test]
fn each_command_has_its_own_exit_table() {
    let expected: &[(&[&str], &[u8])] = &[
        (&["authenticate", "--help"], &[0, 1, 2, 3, 4]),
        (&["spf", "--help"], &[0, 1, 2, 3, 4]),
        (&["spf", "lint", "--help"], &[0, 1, 2, 4]),
        (&["dmarc", "lint", "--help"], &[0, 1, 2, 4]),
        (&["verify", "--help"], &[0, 1, 2, 3, 4]),
        (&["sign", "--help"], &[0, 2, 4]),
        (&["genkey", "--help"], &[0, 2, 4]),
        (&["testkey", "--help"], &[0, 1, 2, 3, 4]),
    ];
    for (args, want) in expected {
        assert_eq!(codes(&exit_table(args)), *want, "{args:?}");
    }
    let authenticate = exit_table(&["authenticate", "--help"]);
    assert!(authenticate[0].1.contains("DMARC asks for no action"));
    assert!(
        authenticate[1]
            .1
            .starts_with("DMARC asks to quarantine or reject")
    );
    assert!(
        !authenticate
            .iter()
            .any(|(_, text)| text.contains("SPF fail")),
        "{authenticate:?}"
    );
    let spf = exit_table(&["spf", "--help"]);
    assert!(
        spf[1]
            .1
            .starts_with("fail, softfail, neutral, none or permerror")
    );
    let top = stdout(&mailauth(&["--help"]));
    assert!(top.contains("see `mailauth <COMMAND> --help`"), "{top}");
}

#[test]
fn authenticate_exits_zero_when_dmarc_asks_for_no_action_though_spf_fails() {
    // example.net publishes p=none; SPF of example.org fails for 10.1.1.1.
    let message = b"From: alice@example.net\r\nTo: bob@example.com\r\nSubject: hi\r\n\r\nhello\r\n";
    let out = mailauth_with_stdin(
        &[
            "authenticate",
            "--zone",
            "examples/data/example.zone",
            "--ip",
            "10.1.1.1",
            "--helo",
            "mx.example.org",
            "--mail-from",
            "billing@example.org",
            "--now",
            "1700000000",
            "--json",
        ],
        message,
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let value = json(&out);
    assert_eq!(value["spf_mail_from"]["result"], "fail");
}

#[test]
fn spf_check_without_ip_is_a_usage_error() {
    let out = mailauth(&["spf", "--helo", "mx.example.org", "--zone", ZONE]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn spf_lint_of_a_clean_tree() {
    let out = mailauth(&["spf", "lint", "--zone", ZONE, "example.org"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("dns terms: 4 of 10\n"), "{text}");
    assert!(text.contains("void lookups: 0 of 2\n"), "{text}");
    assert!(
        text.contains(
            "      _spf.example.org (include; 1 dns term, 0 void lookups): v=spf1 ip4:198.51.100.0/24"
        ),
        "{text}"
    );
    assert!(text.ends_with("problems: none\n"), "{text}");

    let out = mailauth(&["spf", "lint", "--zone", ZONE, "--json", "example.org"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let value = json(&out);
    assert_eq!(value["clean"], true);
    assert_eq!(value["dns_terms"], 4);
    assert_eq!(value["tree"]["terms"][0]["lookup"], "found");
    let include = &value["tree"]["terms"][2];
    assert_eq!(include["term"], "include:_spf.example.org");
    assert_eq!(include["node"]["dns_terms"], 1);
    assert_eq!(
        include["node"]["terms"][1]["node"]["domain"],
        "_spf.example.net"
    );
}

#[test]
fn spf_lint_lists_problems_and_exits_one() {
    let out = mailauth(&[
        "spf",
        "lint",
        "--zone",
        ZONE,
        "--json",
        "broken.example.org",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let value = json(&out);
    let kinds: Vec<&str> = value["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["ptr", "permissive-all", "loop", "syntax"]);
    assert_eq!(value["void_lookups"], 1);
    let syntax = &value["problems"][3];
    assert!(
        syntax["message"]
            .as_str()
            .expect("message")
            .contains("at offset 7"),
        "{syntax}"
    );
    assert_eq!(syntax["domain"], "bad.example.org");
    assert_eq!(syntax["position"], 7);

    let out = mailauth(&["spf", "lint", "--zone", ZONE, "broken.example.org"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stdout(&out)
            .contains("        error at offset 7: invalid ip4 network in \"ip4:192.0.2.300\"\n"),
        "{out:?}"
    );

    let out = mailauth(&["spf", "lint", "--zone", ZONE, "twice.example.org"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stdout(&out).contains("multiple-records: twice.example.org: 2 spf records"));
}

#[test]
fn lint_usage_errors_exit_two() {
    let out = mailauth(&["spf", "lint", "--zone", ZONE, "bad..name"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = mailauth(&["dmarc", "lint", "--zone", ZONE]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn dmarc_lint_checks_external_destinations() {
    let out = mailauth(&["dmarc", "lint", "--zone", ZONE, "mx1.example.org"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains(
            "policy: found at _dmarc.example.org (the organizational domain) by the dns tree walk"
        ),
        "{text}"
    );
    assert!(
        text.contains("  rua mailto:agg@example.org: same-organization\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "  rua mailto:dmarc@reports.example.net: authorized (example.org._report._dmarc.reports.example.net)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "  ruf mailto:f@example.com: not-authorized (example.org._report._dmarc.example.com)\n"
        ),
        "{text}"
    );

    let out = mailauth(&[
        "dmarc",
        "lint",
        "--zone",
        ZONE,
        "--rfc7489",
        "--json",
        "example.org",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let value = json(&out);
    assert_eq!(value["mode"], "rfc7489");
    assert_eq!(value["policy_domain"], "example.org");
    assert_eq!(value["status"], "found");
    assert_eq!(value["tags"]["p"], "reject");
    assert_eq!(value["destinations"][1]["authorization"], "authorized");
    assert_eq!(value["problems"][0]["kind"], "not-authorized");
}

#[test]
fn dmarc_lint_reports_tag_errors_and_missing_records() {
    let out = mailauth(&[
        "dmarc",
        "lint",
        "--zone",
        ZONE,
        "--json",
        "broken.example.org",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let value = json(&out);
    assert_eq!(value["problems"][0]["kind"], "tag");
    assert!(
        value["problems"][0]["message"]
            .as_str()
            .expect("message")
            .contains("invalid value p"),
        "{value}"
    );
    let out = mailauth(&["dmarc", "lint", "--zone", ZONE, "nowhere.example.com"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stdout(&out).contains("no-record: no dmarc policy record applies to nowhere.example.com")
    );
}
