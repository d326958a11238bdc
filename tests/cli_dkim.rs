//! The `mailauth` command line: genkey, sign, verify and testkey together,
//! offline with `--zone`, and their exit codes.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const MESSAGE: &[u8] = b"From: Joe <joe@example.com>\r\nTo: Suzie <suzie@example.net>\r\nSubject: dinner\r\n\r\nHello.\r\n";
const NOW: &str = "1700000000";

fn mailauth(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailauth"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The command may exit before reading (bad arguments): a broken pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap()
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("mailauth-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Makes keys `ed` (Ed25519) and `rsa` (RSA 2048) and a zone file with both records.
fn setup(dir: &TempDir) -> String {
    for (selector, kind) in [("ed", "ed25519"), ("rsa", "rsa")] {
        let out = mailauth(
            &[
                "genkey",
                "--type",
                kind,
                "-d",
                "example.com",
                "-s",
                selector,
                "--directory",
                &dir.path(""),
            ],
            b"",
        );
        assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    }
    let mut zone = String::from(
        "$ORIGIN example.com.\n@ 3600 IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 300\n",
    );
    zone.push_str(&std::fs::read_to_string(dir.path("ed.txt")).unwrap());
    zone.push_str(&std::fs::read_to_string(dir.path("rsa.txt")).unwrap());
    let zone_path = dir.path("example.com.zone");
    std::fs::write(&zone_path, zone).unwrap();
    zone_path
}

#[test]
fn genkey_sign_verify_testkey() {
    let dir = TempDir::new("flow");
    let zone = setup(&dir);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path("rsa.private"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let txt = std::fs::read_to_string(dir.path("rsa.txt")).unwrap();
    assert!(
        txt.starts_with("rsa._domainkey\tIN\tTXT\t( \"v=DKIM1; k=rsa; p="),
        "{txt}"
    );

    // Sign with both keys, one after the other.
    let once = mailauth(
        &[
            "sign",
            "-k",
            &dir.path("rsa.private"),
            "-d",
            "example.com",
            "-s",
            "rsa",
            "--now",
            NOW,
        ],
        MESSAGE,
    );
    assert_eq!(code(&once), 0, "{}", String::from_utf8_lossy(&once.stderr));
    assert!(once.stdout.ends_with(MESSAGE));
    let twice = mailauth(
        &[
            "sign",
            "-k",
            &dir.path("ed.private"),
            "-d",
            "example.com",
            "-s",
            "ed",
            "--now",
            NOW,
        ],
        &once.stdout,
    );
    assert_eq!(code(&twice), 0);

    let verified = mailauth(&["verify", "--zone", &zone, "--now", NOW], &twice.stdout);
    assert_eq!(
        code(&verified),
        0,
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let text = String::from_utf8(verified.stdout).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.lines()
            .all(|l| l.starts_with("dkim=pass header.d=example.com")),
        "{text}"
    );

    let json = mailauth(
        &["verify", "--zone", &zone, "--now", NOW, "--json"],
        &twice.stdout,
    );
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["result"], "pass");
    assert_eq!(value["signatures"][0]["algorithm"], "ed25519-sha256");
    assert_eq!(value["signatures"][1]["key_bits"], 2048);

    // A changed body fails: exit 1.
    let mut tampered = twice.stdout.clone();
    tampered.extend_from_slice(b"P.S.\r\n");
    let failed = mailauth(&["verify", "--zone", &zone, "--now", NOW], &tampered);
    assert_eq!(code(&failed), 1);
    assert!(String::from_utf8_lossy(&failed.stdout).contains("dkim=fail"));
    // No signature: exit 1, dkim=none.
    let none = mailauth(&["verify", "--zone", &zone], MESSAGE);
    assert_eq!(
        (code(&none), String::from_utf8_lossy(&none.stdout).trim()),
        (1, "dkim=none (no signature)")
    );

    // testkey: match, mismatch, missing.
    let ok = mailauth(
        &[
            "testkey",
            "-d",
            "example.com",
            "-s",
            "rsa",
            "-k",
            &dir.path("rsa.private"),
            "--zone",
            &zone,
        ],
        b"",
    );
    assert_eq!(code(&ok), 0, "{}", String::from_utf8_lossy(&ok.stderr));
    let wrong = mailauth(
        &[
            "testkey",
            "-d",
            "example.com",
            "-s",
            "rsa",
            "-k",
            &dir.path("ed.private"),
            "--zone",
            &zone,
            "--json",
        ],
        b"",
    );
    assert_eq!(code(&wrong), 1);
    let value: serde_json::Value = serde_json::from_slice(&wrong.stdout).unwrap();
    assert_eq!(value["result"], "mismatch");
    let missing = mailauth(
        &[
            "testkey",
            "-d",
            "example.com",
            "-s",
            "gone",
            "-k",
            &dir.path("ed.private"),
            "--zone",
            &zone,
        ],
        b"",
    );
    assert_eq!(code(&missing), 1);
}

#[test]
fn lf_messages_stay_lf() {
    let dir = TempDir::new("lf");
    let zone = setup(&dir);
    let message = b"From: joe@example.com\nSubject: unix\n\nbody\n";
    let signed = mailauth(
        &[
            "sign",
            "-k",
            &dir.path("ed.private"),
            "-d",
            "example.com",
            "-s",
            "ed",
            "--now",
            NOW,
        ],
        message,
    );
    assert_eq!(code(&signed), 0);
    assert!(!signed.stdout.contains(&b'\r'));
    let verified = mailauth(&["verify", "--zone", &zone, "--now", NOW], &signed.stdout);
    assert_eq!(
        code(&verified),
        0,
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
}

#[test]
fn opendkim_tables() {
    let dir = TempDir::new("tables");
    let zone = setup(&dir);
    std::fs::write(
        dir.path("KeyTable"),
        "ed._domainkey.example.com example.com:ed:ed.private\n",
    )
    .unwrap();
    std::fs::write(
        dir.path("SigningTable"),
        "# refile\n*@example.com ed._domainkey.example.com\n",
    )
    .unwrap();
    let signing_table = format!("refile:{}", dir.path("SigningTable"));
    let args = [
        "sign",
        "--key-table",
        &dir.path("KeyTable"),
        "--signing-table",
        &signing_table,
        "--now",
        NOW,
    ];
    let signed = mailauth(&args, MESSAGE);
    assert_eq!(
        code(&signed),
        0,
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    assert!(String::from_utf8_lossy(&signed.stdout).contains("s=ed;"));
    let verified = mailauth(&["verify", "--zone", &zone, "--now", NOW], &signed.stdout);
    assert_eq!(code(&verified), 0);
    // No table entry for this From.
    let other = mailauth(&args, b"From: a@example.org\r\n\r\nx\r\n");
    assert_eq!(code(&other), 4);
    assert!(
        String::from_utf8_lossy(&other.stderr).contains("no signing table entry for a@example.org")
    );
}

#[test]
fn bad_arguments_and_inputs() {
    let dir = TempDir::new("bad");
    setup(&dir);
    let key = dir.path("ed.private");
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &[
                "sign",
                "-k",
                &key,
                "-d",
                "example.com",
                "-s",
                "ed",
                "--algorithm",
                "rsa-sha256",
            ],
            2,
            "does not fit the key",
        ),
        (
            &["sign", "-k", &key, "-d", "exa mple.com", "-s", "ed"],
            2,
            "invalid signing domain",
        ),
        (
            &[
                "sign",
                "-k",
                &key,
                "-d",
                "example.com",
                "-s",
                "ed",
                "--headers",
                "X;Y",
            ],
            2,
            "invalid header field name",
        ),
        (
            &[
                "sign",
                "-k",
                &key,
                "-d",
                "example.com",
                "-s",
                "ed",
                "-c",
                "loose/simple",
            ],
            2,
            "invalid canonicalization",
        ),
        (
            &[
                "sign",
                "-k",
                &key,
                "-d",
                "example.com",
                "-s",
                "ed",
                "--identity",
                "x@example.org",
            ],
            2,
            "is not in signing domain",
        ),
        (
            &[
                "sign",
                "-k",
                "/nonexistent/key",
                "-d",
                "example.com",
                "-s",
                "ed",
            ],
            4,
            "cannot read /nonexistent/key",
        ),
        (
            &[
                "sign",
                "-k",
                &dir.path("ed.txt"),
                "-d",
                "example.com",
                "-s",
                "ed",
            ],
            4,
            "no pem block found",
        ),
        (
            &[
                "genkey",
                "-d",
                "example.com",
                "-s",
                "x",
                "--bits",
                "512",
                "--directory",
                &dir.0.display().to_string(),
            ],
            2,
            "rsa key size",
        ),
        (
            &[
                "genkey",
                "-d",
                "example.com",
                "-s",
                "ed",
                "--directory",
                &dir.0.display().to_string(),
            ],
            4,
            "exists",
        ),
        (
            &["verify", "--zone", "/nonexistent/zone"],
            4,
            "cannot read /nonexistent/zone",
        ),
        (&["sign", "-d", "example.com"], 2, "required"),
    ];
    for (args, expected, text) in cases {
        let out = mailauth(args, MESSAGE);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(code(&out), *expected, "{args:?}: {stderr}");
        assert!(stderr.contains(text), "{args:?}: {stderr}");
    }
    // A message without From cannot be signed.
    let out = mailauth(
        &["sign", "-k", &key, "-d", "example.com", "-s", "ed"],
        b"Subject: x\r\n\r\n",
    );
    assert_eq!(code(&out), 4);
    // --json errors are JSON on stdout.
    let out = mailauth(
        &[
            "sign",
            "-k",
            "/nonexistent/key",
            "-d",
            "example.com",
            "-s",
            "ed",
            "--json",
        ],
        MESSAGE,
    );
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["exit_code"], 4);
}

/// The quoted strings of a zone entry as opendkim-genkey writes it, joined.
fn record_text(zone_entry: &str) -> String {
    zone_entry.split('"').skip(1).step_by(2).collect()
}

/// `genkey -r -h sha256 --no-subdomains --append-domain`: the record carries
/// s=email, h=sha256 and t=s, parses back with the crate's key record parser,
/// and the verifier enforces each tag.
#[test]
fn genkey_record_options() {
    use mailauth::dkim::HashAlgorithm;
    use mailauth::dkim::key::KeyRecord;

    let dir = TempDir::new("record-options");
    let out = mailauth(
        &[
            "genkey",
            "-r",
            "-h",
            "sha256",
            "--no-subdomains",
            "--append-domain",
            "-d",
            "example.com",
            "-s",
            "strict",
            "-D",
            &dir.path(""),
        ],
        b"",
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let entry = std::fs::read_to_string(dir.path("strict.txt")).unwrap();
    assert!(
        entry.starts_with(
            "strict._domainkey.example.com.\tIN\tTXT\t( \"v=DKIM1; h=sha256; k=rsa; s=email; t=s; p="
        ),
        "{entry}"
    );
    let record = KeyRecord::parse(record_text(&entry).as_bytes()).unwrap();
    assert_eq!(record.acceptable_hashes, Some(vec![HashAlgorithm::Sha256]));
    assert_eq!(record.service_types, vec!["email".to_owned()]);
    assert!(record.strict_identity);
    assert!(!record.testing);
    assert!(record.allows_email());

    // The owner name is absolute: the entry works in a zone of another origin.
    let zone_path = dir.path("zone");
    std::fs::write(
        &zone_path,
        format!(
            "$ORIGIN example.net.\n@ 3600 IN SOA ns.example.net. hostmaster.example.net. 1 3600 600 86400 300\n{entry}"
        ),
    )
    .unwrap();
    let sign = |extra: &[&str]| {
        let mut args = vec![
            "sign",
            "-k",
            &dir.path("strict.private"),
            "-d",
            "example.com",
            "-s",
            "strict",
            "--now",
            NOW,
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let signed = mailauth(&args, MESSAGE);
        assert_eq!(
            code(&signed),
            0,
            "{}",
            String::from_utf8_lossy(&signed.stderr)
        );
        signed.stdout
    };
    let verify = |message: &[u8], extra: &[&str]| {
        let mut args = vec!["verify", "--zone", &zone_path, "--now", NOW];
        args.extend_from_slice(extra);
        let out = mailauth(&args, message);
        (
            code(&out),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };

    // s=email: an email signature by the key verifies; i= equal to d= is
    // allowed under t=s.
    let (status, text) = verify(&sign(&["--identity", "@example.com"]), &[]);
    assert_eq!(status, 0, "{text}");
    // t=s: i= in a subdomain of d= fails.
    let (status, text) = verify(&sign(&["--identity", "joe@mail.example.com"]), &[]);
    assert_eq!(status, 1, "{text}");
    assert!(
        text.contains("reason=\"identity domain must equal signing domain (key t=s)\""),
        "{text}"
    );
    // h=sha256: an rsa-sha1 signature fails on h= before any signature
    // check, even where rsa-sha1 is accepted (--legacy). (The signature is
    // the rsa-sha256 one relabelled; without h= it fails on the signature.)
    let sha1 = String::from_utf8(sign(&[]))
        .unwrap()
        .replacen("a=rsa-sha256", "a=rsa-sha1", 1);
    let (status, text) = verify(sha1.as_bytes(), &["--legacy"]);
    assert_eq!(status, 1, "{text}");
    assert!(
        text.contains("reason=\"hash sha1 not allowed by the key record\""),
        "{text}"
    );
    let without_h = entry.replacen("h=sha256; ", "", 1);
    std::fs::write(
        &zone_path,
        format!(
            "$ORIGIN example.net.\n@ 3600 IN SOA ns.example.net. hostmaster.example.net. 1 3600 600 86400 300\n{without_h}"
        ),
    )
    .unwrap();
    let (status, text) = verify(sha1.as_bytes(), &["--legacy"]);
    assert_eq!(status, 1, "{text}");
    assert!(!text.contains("not allowed by the key record"), "{text}");

    // -h takes opendkim-genkey's colon list; a typo is a usage error, and
    // --help still prints help.
    let out = mailauth(
        &[
            "genkey",
            "-h",
            "sha512",
            "-d",
            "example.com",
            "-s",
            "x",
            "-D",
            &dir.path(""),
        ],
        b"",
    );
    assert_eq!(code(&out), 2);
    let help = mailauth(&["genkey", "--help"], b"");
    assert_eq!(code(&help), 0);
    assert!(String::from_utf8_lossy(&help.stdout).contains("--hash-algorithms"));
}

/// `testkey --key-table` and `testkey -x opendkim.conf` check every key of
/// an OpenDKIM KeyTable in one run: a line per key, and a non-zero exit
/// status when any key fails.
#[test]
fn testkey_key_table() {
    let dir = TempDir::new("testkey-table");
    let zone = setup(&dir);
    std::fs::write(
        dir.path("KeyTable"),
        "# name domain:selector:keyfile\n\
         ed._domainkey.example.com example.com:ed:ed.private\n\
         rsa._domainkey.example.com example.com:rsa:rsa.private\n",
    )
    .unwrap();
    let out = mailauth(
        &[
            "testkey",
            "--key-table",
            &dir.path("KeyTable"),
            "--zone",
            &zone,
        ],
        b"",
    );
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(code(&out), 0, "{text}");
    assert_eq!(
        text,
        "example.com ed ed.private: ok\nexample.com rsa rsa.private: ok\n"
    );

    // One key not published, one published record of another key, one key
    // file missing: each reported on its own line, the run fails.
    std::fs::write(
        dir.path("KeyTable"),
        "ed example.com:ed:ed.private\n\
         missing example.com:missing:ed.private\n\
         swapped example.com:rsa:ed.private\n\
         rsa example.com:rsa:rsa.private\n",
    )
    .unwrap();
    let out = mailauth(
        &[
            "testkey",
            "--key-table",
            &dir.path("KeyTable"),
            "--zone",
            &zone,
        ],
        b"",
    );
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(code(&out), 1, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[0], "example.com ed ed.private: ok");
    assert_eq!(
        lines[1],
        "example.com missing ed.private: missing: no TXT record at missing._domainkey.example.com"
    );
    assert!(
        lines[2].starts_with("example.com rsa ed.private: mismatch: "),
        "{text}"
    );
    assert_eq!(lines[3], "example.com rsa rsa.private: ok");

    // The same through opendkim.conf (KeyTable relative to the file), as
    // opendkim-testkey -x; JSON gives one object per key. A key file that
    // cannot be read is an input error (4).
    std::fs::write(
        dir.path("KeyTable"),
        "ed example.com:ed:ed.private\nlost example.com:lost:lost.private\n",
    )
    .unwrap();
    std::fs::write(
        dir.path("opendkim.conf"),
        "Syslog yes\nKeyTable file:KeyTable # the keys\nSigningTable refile:SigningTable\n",
    )
    .unwrap();
    let out = mailauth(
        &[
            "testkey",
            "-x",
            &dir.path("opendkim.conf"),
            "--zone",
            &zone,
            "--json",
        ],
        b"",
    );
    assert_eq!(code(&out), 4, "{}", String::from_utf8_lossy(&out.stdout));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = value.as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["result"], "match");
    assert_eq!(results[0]["selector"], "ed");
    assert_eq!(results[1]["result"], "error");
    assert!(
        results[1]["detail"]
            .as_str()
            .unwrap()
            .contains("lost.private"),
        "{value}"
    );

    // A single key from opendkim.conf's Domain, Selector and KeyFile.
    std::fs::write(
        dir.path("opendkim.conf"),
        format!(
            "Domain example.com\nSelector rsa\nKeyFile {}\n",
            dir.path("rsa.private")
        ),
    )
    .unwrap();
    let out = mailauth(
        &["testkey", "-x", &dir.path("opendkim.conf"), "--zone", &zone],
        b"",
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("rsa.private: ok\n"));

    // Neither a key nor a table: a usage error.
    assert_eq!(code(&mailauth(&["testkey", "--zone", &zone], b"")), 2);
}
