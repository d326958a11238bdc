//! `mailauth arc verify`, `mailauth arc seal` and `authenticate
//! --trusted-sealer` run as a program on the bundled examples
//! (examples/data), offline with `--zone`.
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
    .expect("read the example")
}

fn text(out: &[u8]) -> String {
    String::from_utf8(out.to_vec())
        .expect("utf-8")
        .replace('\r', "")
        .replace("\n\t", " ")
        .replace("\n ", " ")
}

fn raw(out: &[u8]) -> String {
    String::from_utf8(out.to_vec()).expect("utf-8")
}

const ZONE: &[&str] = &["--zone", "examples/data/example.zone"];

fn from_the_list(extra: &[&str]) -> Output {
    let mut args = vec![
        "authenticate",
        "--zone",
        "examples/data/example.zone",
        "--now",
        "1795000000",
        "--authserv-id",
        "mx.example.com",
        "--ip",
        "203.0.113.7",
        "--helo",
        "lists.example.net",
        "--mail-from",
        "list-bounces@lists.example.net",
    ];
    args.extend_from_slice(extra);
    mailauth(&args, &example("arc-forwarded.eml"))
}

#[test]
fn the_lists_chain_validates() {
    let out = mailauth(
        &[&["arc", "verify"], ZONE].concat(),
        &example("arc-forwarded.eml"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = raw(&out.stdout);
    assert!(
        stdout.starts_with("arc=pass header.oldest-pass=0\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("i=1 cv=none seal d=lists.example.net s=arc2026"),
        "{stdout}"
    );

    let out = mailauth(
        &[&["arc", "verify", "--json"], ZONE].concat(),
        &example("arc-forwarded.eml"),
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["result"], "pass");
    assert_eq!(json["instances"][0]["seal_domain"], "lists.example.net");

    // A message without sets: none, exit 1.
    let out = mailauth(&[&["arc", "verify"], ZONE].concat(), &example("pass.eml"));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).starts_with("arc=none"));

    // The footer changed after the seal: fail, exit 1.
    let tampered = String::from_utf8(example("arc-forwarded.eml"))
        .unwrap()
        .replace("lunch mailing list", "lunch mailing-list");
    let out = mailauth(&[&["arc", "verify"], ZONE].concat(), tampered.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).starts_with("arc=fail"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_trusted_sealer_sets_the_dmarc_failure_aside() {
    let out = from_the_list(&["--trusted-sealer", "lists.example.net"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let field = text(&out.stdout);
    assert!(field.contains("dkim=fail"), "{field}");
    assert!(
        field.contains("arc=pass smtp.remote-ip=203.0.113.7 header.oldest-pass=0"),
        "{field}"
    );
    assert!(field.contains("dmarc=fail"), "{field}");
    assert!(
        field.contains(
            "set aside by local_policy: arc=pass as[1].d=lists.example.net as[1].s=arc2026 \
             remote-ip[1]=192.0.2.25"
        ),
        "{field}"
    );

    // Not trusted: DMARC's reject stands (exit 1).
    let out = from_the_list(&["--arc"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!text(&out.stdout).contains("set aside"));

    // Trusting another sealer changes nothing.
    let out = from_the_list(&["--trusted-sealer", "example.net"]);
    assert_eq!(out.status.code(), Some(1));

    let out = from_the_list(&["--trusted-sealer", "lists.example.net", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["arc"]["result"], "pass");
    assert_eq!(json["dmarc"]["policy_override"]["type"], "local_policy");
    assert_eq!(json["disposition"], "none");
}

#[test]
fn sealing_adds_a_set_that_validates() {
    let seal = |input: &[u8]| {
        mailauth(
            &[
                &[
                    "arc",
                    "seal",
                    "-k",
                    "examples/data/keys/arc2026.private",
                    "-d",
                    "lists.example.net",
                    "-s",
                    "arc2026",
                    "--authserv-id",
                    "mx.example.com",
                    "--now",
                    "1795000100",
                ],
                ZONE,
            ]
            .concat(),
            input,
        )
    };
    // A second hop on the list's message.
    let out = seal(&example("arc-forwarded.eml"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let sealed = out.stdout;
    assert!(text(&sealed).starts_with("ARC-Seal: a=ed25519-sha256;"));
    assert!(text(&sealed).contains("cv=pass; d=lists.example.net; i=2;"));
    let out = mailauth(&[&["arc", "verify"], ZONE].concat(), &sealed);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("i=2 cv=pass"));

    // A failed chain gets a set saying cv=fail, and no set after that.
    let tampered = String::from_utf8(example("arc-forwarded.eml"))
        .unwrap()
        .replace("lunch mailing list", "lunch mailing-list");
    let out = seal(tampered.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("cv=fail; d=lists.example.net; i=2;"));
    let out = seal(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("the chain has failed"),
        "{}",
        text(&out.stderr)
    );

    // A bad domain is a usage error.
    let out = mailauth(
        &[
            "arc",
            "seal",
            "-k",
            "examples/data/keys/arc2026.private",
            "-d",
            "bad..domain",
            "-s",
            "arc2026",
            "--authserv-id",
            "mx.example.com",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_readme_shows_what_the_command_prints() {
    let out = from_the_list(&["--trusted-sealer", "lists.example.net"]);
    let printed = raw(&out.stdout).replace('\r', "");
    let readme = std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR")))
        .expect("read README.md");
    assert!(
        readme.contains(printed.trim_end()),
        "README.md's ARC example differs from:\n{printed}"
    );
}
