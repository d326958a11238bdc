//! `mailauth authenticate` run as a program on the bundled examples
//! (examples/data), offline with `--zone`.
#![cfg(feature = "cli")]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn authenticate(message: &str, ip: &str, helo: &str, mail_from: &str, extra: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailauth"))
        .args([
            "authenticate",
            "--zone",
            "examples/data/example.zone",
            "--now",
            "1795000000",
            "--authserv-id",
            "mx.example.com",
            "--ip",
            ip,
            "--helo",
            helo,
            "--mail-from",
            mail_from,
        ])
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mailauth");
    let data = std::fs::read(format!(
        "{}/examples/data/{message}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("read the message");
    // A command refused for its arguments exits without reading: a broken
    // pipe is then expected, and the exit status tells.
    let _ = child.stdin.take().expect("stdin").write_all(&data);
    child.wait_with_output().expect("wait for mailauth")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

/// The field on one line.
fn unfolded(text: &str) -> String {
    text.trim_end()
        .replace("\r\n\t", " ")
        .replace("\r\n ", " ")
        .replace("\n\t", " ")
        .replace("\n ", " ")
}

#[test]
fn passing_message_prints_the_field() {
    let out = authenticate(
        "pass.eml",
        "192.0.2.25",
        "mx1.example.org",
        "alice@example.org",
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let field = unfolded(&stdout(&out));
    assert!(
        field.starts_with(
            "Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=alice@example.org; \
             spf=none smtp.helo=mx1.example.org; dkim=pass header.d=example.org \
             header.i=@example.org header.s=sel2026 header.a=rsa-sha256 header.b="
        ),
        "{field}"
    );
    assert!(field.contains("; dmarc=pass reason="), "{field}");
    assert!(
        field.ends_with("header.from=example.org policy.dmarc=reject"),
        "{field}"
    );
    // A field a parser reads back.
    let value = field.strip_prefix("Authentication-Results:").expect("name");
    assert!(mailauth::authres::AuthenticationResults::parse(value.as_bytes()).is_ok());
    assert!(out.stderr.is_empty());
}

#[test]
fn dmarc_reject_exits_one() {
    let out = authenticate(
        "fail.eml",
        "192.0.2.99",
        "mail.attacker.example",
        "billing@example.org",
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let field = unfolded(&stdout(&out));
    assert!(
        field.contains("spf=fail smtp.mailfrom=billing@example.org"),
        "{field}"
    );
    assert!(field.contains("dkim=none; dmarc=fail"), "{field}");
}

#[test]
fn forwarded_message_passes_on_dkim() {
    let out = authenticate(
        "forwarded.eml",
        "192.0.2.99",
        "lists.example.net",
        "alice@example.org",
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let field = unfolded(&stdout(&out));
    assert!(
        field.contains("spf=fail") && field.contains("dkim=pass") && field.contains("dmarc=pass"),
        "{field}"
    );
}

#[test]
fn forged_field_is_reported_and_json_has_the_verdict() {
    let out = authenticate(
        "forged.eml",
        "192.0.2.99",
        "mail.attacker.example",
        "alice@example.org",
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8(out.stderr.clone()).expect("utf-8");
    assert!(
        stderr.starts_with("forged field to remove (Authentication-Results #1): Authentication-Results: mx.example.com; spf=pass"),
        "{stderr}"
    );
    let out = authenticate(
        "forged.eml",
        "192.0.2.99",
        "mail.attacker.example",
        "alice@example.org",
        &["--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["disposition"], "reject");
    assert_eq!(json["dmarc"]["result"], "fail");
    assert_eq!(json["dmarc"]["policy"], "reject");
    assert_eq!(json["spf_mail_from"]["result"], "fail");
    assert_eq!(json["dkim"]["signatures"].as_array().map(Vec::len), Some(0));
    assert_eq!(json["remove"][0]["occurrence"], 1);
    assert!(
        json["authentication_results"]
            .as_str()
            .is_some_and(|f| f.contains("dmarc=fail"))
    );
}

#[test]
fn skipped_clients_get_no_field() {
    let out = authenticate(
        "fail.eml",
        "10.1.2.3",
        "laptop.example.com",
        "billing@example.org",
        &["--internal-network", "10.0.0.0/8"],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr.clone()).expect("utf-8");
    assert_eq!(
        stderr,
        "not checked: client in internal network 10.0.0.0/8\n"
    );
    let bad = authenticate(
        "fail.eml",
        "10.1.2.3",
        "x",
        "y@example.org",
        &["--internal-network", "10.0.0.0/40"],
    );
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
}
