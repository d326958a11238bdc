//! `mailauth authenticate --config` and `mailauth sign --config`: the MTA
//! session and the settings file, run as a program on the bundled examples
//! (examples/data/mailauth.toml, offline with `--zone`).
#![cfg(feature = "cli")]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn mailauth(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailauth"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mailauth");
    let _ = child.stdin.take().expect("stdin").write_all(input);
    child.wait_with_output().expect("wait for mailauth")
}

fn example(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/examples/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("read")
}

fn authenticate(message: &str, ip: &str, mail_from: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "authenticate",
        "--config",
        "examples/data/mailauth.toml",
        "--zone",
        "examples/data/example.zone",
        "--now",
        "1795000000",
        "--ip",
        ip,
        "--helo",
        "mx1.example.org",
        "--mail-from",
        mail_from,
    ];
    args.extend_from_slice(extra);
    let out = mailauth(&args, &example(message));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn passing_mail_is_accepted_with_its_results() {
    let (code, stdout, stderr) = authenticate("pass.eml", "192.0.2.25", "alice@example.org", &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("Authentication-Results: mx.example.com; spf=pass"),
        "{stdout}"
    );
    assert!(
        stdout.contains("dkim=pass") && stdout.contains("dmarc=pass"),
        "{stdout}"
    );
    assert!(stderr.contains("end_of_message: continue"), "{stderr}");
    assert!(stderr.contains("mode=verify"), "{stderr}");
}

#[test]
fn spoof_refused_at_end_of_message_and_spf_fail_at_mail_from() {
    let (code, _, stderr) = authenticate("fail.eml", "192.0.2.99", "billing@example.net", &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "end_of_message: reject 550 5.7.26 Rejected by the DMARC policy of example.org"
        ),
        "{stderr}"
    );
    let (code, stdout, stderr) = authenticate("fail.eml", "192.0.2.99", "billing@example.org", &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("mail_from: reject 550 5.7.23 SPF fail"),
        "{stderr}"
    );
}

#[test]
fn options_beside_config_override_it() {
    // The forged field claims mx.example.com; under another authserv-id it
    // is not ours, so it stays.
    let (_, _, stderr) = authenticate("forged.eml", "192.0.2.99", "x@example.net", &[]);
    assert!(
        stderr.contains("remove Authentication-Results #1"),
        "{stderr}"
    );
    let (_, stdout, stderr) = authenticate(
        "forged.eml",
        "192.0.2.99",
        "x@example.net",
        &["--authserv-id", "mx.other.example"],
    );
    assert!(
        !stderr.contains("remove Authentication-Results"),
        "{stderr}"
    );
    assert!(
        stdout.starts_with("Authentication-Results: mx.other.example;"),
        "{stdout}"
    );
    // An internal client is signed, not checked.
    let (code, stdout, stderr) = authenticate("pass.eml", "198.51.100.7", "alice@example.org", &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("DKIM-Signature: "), "{stdout}");
    assert!(
        stderr.contains("mode=\"sign(internal 198.51.100.0/24)\""),
        "{stderr}"
    );
}

#[test]
fn sign_with_config_picks_the_key_by_from() {
    let message = b"From: Bob <bob@example.org>\r\nTo: x@example.net\r\nSubject: s\r\n\r\nhi\r\n";
    let out = mailauth(
        &[
            "sign",
            "--config",
            "examples/data/mailauth.toml",
            "--now",
            "1795000000",
        ],
        message,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let signed = String::from_utf8_lossy(&out.stdout);
    assert!(
        signed.starts_with("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org;"),
        "{signed}"
    );
    assert!(signed.contains("s=sel2026"), "{signed}");
    let out = mailauth(
        &[
            "sign",
            "--config",
            "examples/data/mailauth.toml",
            "--now",
            "1795000000",
            "-c",
            "simple/simple",
        ],
        message,
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("c=simple/simple"));
    let other = b"From: eve@example.net\r\n\r\nhi\r\n";
    let out = mailauth(&["sign", "--config", "examples/data/mailauth.toml"], other);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no signing rule for eve@example.net"));
}

#[test]
fn a_bad_settings_file_names_file_and_line() {
    let dir = std::env::temp_dir().join(format!("mailauth-cli-session-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        "authserv_id = \"mx\"\n[dmarc]\nreject_failure = true\n",
    )
    .expect("write");
    let path = path.to_string_lossy().into_owned();
    let out = mailauth(&["sign", "--config", &path], b"From: a@example.org\r\n\r\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains(&format!("{path}:3:")) && stderr.contains("reject_failure"),
        "{stderr}"
    );
}
