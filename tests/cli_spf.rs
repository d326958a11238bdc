//! The `mailauth` command-line tool, run as a program.
#![cfg(feature = "cli")]

use std::process::{Command, Output};

fn mailauth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailauth"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run mailauth")
}

fn spf(ip: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "spf",
        "--zone",
        "examples/data/example.zone",
        "--ip",
        ip,
        "--helo",
        "mx1.example.org",
        "--now",
        "1700000000",
    ];
    args.extend_from_slice(extra);
    mailauth(&args)
}

#[test]
fn spf_pass_prints_result_and_header_fields() {
    let out = spf("192.0.2.25", &["--mail-from", "alice@example.org"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        stdout.starts_with("pass (mechanism mx matched in example.org)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Received-SPF: pass (localhost: domain of alice@example.org designates")
    );
    assert!(
        stdout.contains(
            "Authentication-Results: localhost; spf=pass smtp.mailfrom=alice@example.org"
        )
    );
}

#[test]
fn spf_fail_has_explanation_and_exit_code_one() {
    let out = spf("10.1.1.1", &["--mail-from", "alice@example.org"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        stdout.starts_with("fail (mechanism -all matched in example.org)\n"),
        "{stdout}"
    );
    assert!(stdout.contains("explanation: "));
}

#[test]
fn spf_json_and_helo_identity() {
    let out = spf("192.0.2.25", &["--json"]);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(value["identity"], "helo");
    assert_eq!(value["result"], "none");
    assert_eq!(value["domain"], "mx1.example.org");
    assert!(
        value["received_spf"]
            .as_str()
            .expect("string")
            .starts_with("Received-SPF: none")
    );
}

#[test]
fn spf_null_sender_checks_postmaster_at_helo() {
    let out = spf("192.0.2.25", &["--mail-from", "", "--json"]);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(value["identity"], "mailfrom");
    assert_eq!(value["sender"], "postmaster@mx1.example.org");
}

#[test]
fn spf_bad_arguments_are_usage_errors() {
    let out = spf("not-an-ip", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'not-an-ip'"));

    let out = mailauth(&[
        "spf",
        "--ip",
        "192.0.2.1",
        "--helo",
        "x",
        "--zone",
        "no/such/file",
    ]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read no/such/file"));

    let out = mailauth(&[
        "spf",
        "--ip",
        "192.0.2.1",
        "--helo",
        "x",
        "--mail-from",
        "a\r\nb@x",
        "--zone",
        "examples/data/example.zone",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
