//! `mailauth config import` and `mailauth config check`, run as a program,
//! on the configuration files of a relay that signs for example.com and
//! example.net (tests/data/import).
#![cfg(feature = "cli")]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mailauth::dkim::SigningTable;
use mailauth::dkim::crypto::SigningKey;
use mailauth::session::Settings;

const DATA: &str = "tests/data/import";

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

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("utf-8")
}

/// `config import` of the three files in `dir`.
fn import_all(dir: &Path) -> Output {
    let arg = |name: &str| dir.join(name).display().to_string();
    mailauth(&[
        "config",
        "import",
        "--opendkim",
        &arg("opendkim.conf"),
        "--opendmarc",
        &arg("opendmarc.conf"),
        "--policyd-spf",
        &arg("policyd-spf.conf"),
    ])
}

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli_config-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch folder");
    dir
}

/// The relay's files installed under `root` as they are under /etc: the
/// paths in them (/etc/opendkim, the public suffix list) point into
/// `root`.
fn install(root: &Path) {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join(DATA);
    let etc = root.join("etc/opendkim");
    let psl = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/dmarc/psl-debian-publicsuffix-20230209/public_suffix_list.dat");
    let rewrite = |text: String| {
        text.replace("/etc/opendkim", &etc.display().to_string())
            .replace(
                "/usr/share/publicsuffix/public_suffix_list.dat",
                &psl.display().to_string(),
            )
    };
    for folder in ["keys/example.com", "keys/example.net"] {
        std::fs::create_dir_all(etc.join(folder)).expect("create key folder");
    }
    for name in [
        "opendkim.conf",
        "opendmarc.conf",
        "policyd-spf.conf",
        "KeyTable",
        "SigningTable",
        "TrustedHosts",
        "keys/example.com/s2026.private",
        "keys/example.net/mail.private",
    ] {
        let text = std::fs::read_to_string(data.join(name)).expect("read seed file");
        std::fs::write(etc.join(name), rewrite(text)).expect("write installed file");
    }
}

/// Imports the installed files and loads the result as a settings file.
fn imported_settings(name: &str) -> (PathBuf, Settings) {
    let root = scratch(name);
    install(&root);
    let out = import_all(&root.join("etc/opendkim"));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let path = root.join("mailauth.toml");
    std::fs::write(&path, &out.stdout).expect("write settings");
    let settings = Settings::from_file(&path).unwrap_or_else(|e| panic!("{e}\n{}", stdout(&out)));
    (path, settings)
}

#[test]
fn import_writes_commented_toml_in_table_order() {
    let out = import_all(Path::new(DATA));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let toml = stdout(&out);
    for line in [
        "authserv_id = \"mail.example.com\"  # opendkim.conf: AuthservID\n",
        "internal_hosts_file = \"refile:/etc/opendkim/TrustedHosts\"  # opendkim.conf: InternalHosts\n",
        "daemon_names = [\"ORIGINATING\"]  # opendkim.conf: MTA\n",
        "signing_table = \"refile:/etc/opendkim/SigningTable\"  # opendkim.conf: SigningTable\n",
        "oversign_headers = [\"from\"]  # opendkim.conf: OversignHeaders\n",
        "on_dns_error = \"tempfail\"  # opendkim.conf: On-DNSError\n",
        "received_spf = true  # policyd-spf.conf: Header_Type\n",
        "max_void_lookups = 2  # policyd-spf.conf: Void_Limit\n",
        "reject_failures = true  # opendmarc.conf: RejectFailures\n",
        "nameservers = [\"127.0.0.1\"]  # opendkim.conf: Nameservers\n",
        "socket = \"local:/var/spool/postfix/opendkim/opendkim.sock\"  # opendkim.conf: Socket\n",
        "socket_mode = \"0660\"",
        "user = \"opendkim\"  # opendkim.conf: UserID\n",
        "record = true  # opendmarc.conf: HistoryFile (verdicts go to the report store (report.path), not a history file)\n",
    ] {
        assert!(toml.contains(line), "{line:?} missing in\n{toml}");
    }
    // The tables in the order of the settings file.
    let tables: Vec<&str> = toml.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(
        tables,
        [
            "[signing]",
            "[verify]",
            "[spf]",
            "[dmarc]",
            "[dns]",
            "[log]",
            "[milter]",
            "[report]"
        ]
    );
    // Every key of the output is a key of the settings file.
    let file: mailauth::session::SettingsFile = toml::from_str(&toml).expect("settings TOML");
    assert_eq!(
        file.internal_hosts,
        ["127.0.0.0/8", "::ffff:127.0.0.0/104", "::1"]
    );
    assert!(file.signing.keys.is_empty());
}

#[test]
fn import_names_each_option_not_carried_over() {
    let out = import_all(Path::new(DATA));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let notes = stderr(&out);
    let dkim = "mailauth: tests/data/import/opendkim.conf";
    let dmarc = "mailauth: tests/data/import/opendmarc.conf";
    let spf = "mailauth: tests/data/import/policyd-spf.conf";
    let expected = [
        format!("{dkim}:7: SyslogSuccess: not carried over: "),
        format!(
            "{dkim}:22: AutoRestart: not carried over: let the service manager restart \
             mailauth (systemd Restart=on-failure)"
        ),
        format!("{dkim}:23: AutoRestartRate: not carried over: "),
        format!("{dkim}:24: Background: not carried over: "),
        format!("{dkim}:32: ExternalIgnoreList: not carried over: "),
        format!("{dkim}:52: TrustAnchorFile: not carried over: "),
        format!(
            "{dmarc}:3: AuthservID: not carried over: authserv_id is \"mail.example.com\" \
             from tests/data/import/opendkim.conf:11 (AuthservID) already"
        ),
        format!("{dmarc}:4: TrustedAuthservIDs: \"mail.example.com\" not carried over: "),
        format!("{dmarc}:12: RequiredHeaders: not carried over: "),
        format!("{dmarc}:15: SPFSelfValidate: not carried over: "),
        format!("{dmarc}:16: SPFIgnoreResults: not carried over: "),
        format!("{dmarc}:18: FailureReports: not carried over: "),
        format!(
            "{dmarc}:22: Socket: not carried over: milter.socket is \
             \"local:/var/spool/postfix/opendkim/opendkim.sock\" from \
             tests/data/import/opendkim.conf:48 (Socket) already"
        ),
        format!("{dmarc}:24: UMask: not carried over: "),
        format!("{dmarc}:25: UserID: not carried over: "),
        format!("{dmarc}:26: PidFile: not carried over: "),
        format!("{spf}:3: debugLevel: not carried over: "),
        format!("{spf}:4: TestOnly: not carried over: TestOnly = 1 is policyd-spf's normal mode"),
        format!("{spf}:15: Whitelist: not carried over: "),
        format!("{spf}:18: Hide_Receiver: not carried over: "),
        format!("{spf}:19: Lookup_Time: not carried over: "),
    ];
    let lines: Vec<&str> = notes.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{notes}");
    for (line, want) in lines.iter().zip(&expected) {
        assert!(line.starts_with(want.as_str()), "{line:?}\nwanted {want:?}");
    }
}

#[test]
fn imported_settings_load_and_sign_as_the_signing_table_says() {
    let (path, settings) = imported_settings("load");
    let etc = path.parent().expect("folder").join("etc/opendkim");
    // The tables, read as OpenDKIM reads them.
    let opendkim = SigningTable::from_opendkim_files(
        &etc.join("KeyTable").display().to_string(),
        &format!("refile:{}", etc.join("SigningTable").display()),
    )
    .expect("OpenDKIM tables");
    let key = |file: &str| {
        SigningKey::from_pem(&std::fs::read(etc.join(file)).expect("read key")).expect("key")
    };
    for (from, domain, selector, key_file) in [
        (
            "alice@example.com",
            "example.com",
            "s2026",
            "keys/example.com/s2026.private",
        ),
        (
            "bob@example.net",
            "example.net",
            "mail",
            "keys/example.net/mail.private",
        ),
    ] {
        let chosen = settings
            .signing_table()
            .lookup(from)
            .unwrap_or_else(|| panic!("no key for {from}"));
        assert_eq!(chosen.domain, domain, "{from}");
        assert_eq!(chosen.selector, selector, "{from}");
        assert_eq!(
            chosen.key.public_key_der(),
            key(key_file).public_key_der(),
            "{from}"
        );
        let expected = opendkim.lookup(from).expect("OpenDKIM's choice");
        assert_eq!(
            (expected.domain.as_str(), expected.selector),
            (domain, selector)
        );
    }
    assert!(
        settings
            .signing_table()
            .lookup("carol@example.org")
            .is_none()
    );
    // The other imported values.
    let file = settings.file();
    assert_eq!(settings.authserv_id(), "mail.example.com");
    assert_eq!(
        file.milter.socket,
        "local:/var/spool/postfix/opendkim/opendkim.sock"
    );
    assert_eq!(file.milter.socket_mode, "0660");
    assert!(file.log.why);
    assert!(file.spf.received_spf);
    assert!(file.dmarc.reject_failures);
    assert_eq!(file.daemon_names, ["ORIGINATING"]);
    // TrustedHosts, read through internal_hosts_file.
    let hosts = settings.internal_hosts();
    assert!(
        hosts
            .find(Some("192.168.1.20".parse().expect("ip")), None)
            .is_some()
    );
    assert!(hosts.find(None, Some("relay.example.com")).is_some());
    assert!(
        hosts
            .find(Some("203.0.113.5".parse().expect("ip")), None)
            .is_none()
    );
}

#[test]
fn sign_with_the_imported_settings_verifies_with_the_published_keys() {
    let (path, _) = imported_settings("sign");
    let dir = path.parent().expect("folder");
    // The records the admin published, from the keys' .txt files.
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join(DATA);
    let mut zone = String::new();
    for (domain, txt) in [
        ("example.com", "keys/example.com/s2026.txt"),
        ("example.net", "keys/example.net/mail.txt"),
    ] {
        zone.push_str(&format!("$ORIGIN {domain}.\n"));
        zone.push_str(&std::fs::read_to_string(data.join(txt)).expect("read record"));
        zone.push('\n');
    }
    let zone_path = dir.join("keys.zone");
    std::fs::write(&zone_path, zone).expect("write zone");
    let settings = path.display().to_string();
    let zone = zone_path.display().to_string();
    for (from, domain, selector) in [
        ("alice@example.com", "example.com", "s2026"),
        ("bob@example.net", "example.net", "mail"),
    ] {
        let message =
            format!("From: <{from}>\r\nTo: carol@example.org\r\nSubject: hello\r\n\r\nHi.\r\n");
        let out = mailauth_with_stdin(
            &["sign", "--config", &settings, "--now", "1795000000"],
            message.as_bytes(),
        );
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let signed = stdout(&out);
        // The DKIM-Signature field on top, unfolded.
        let field = signed
            .split("\r\nFrom:")
            .next()
            .expect("signature field")
            .replace("\r\n", "");
        assert!(
            field.contains(&format!("d={domain};")) && field.contains(&format!("s={selector};")),
            "{from}: {signed}"
        );
        // The imported canonicalization and oversigned From.
        assert!(field.contains("c=relaxed/simple;"), "{signed}");
        assert!(field.contains("h=from:subject:to:from;"), "{signed}");
        let out = mailauth_with_stdin(
            &["verify", "--zone", &zone, "--now", "1795000100"],
            signed.as_bytes(),
        );
        assert_eq!(out.status.code(), Some(0), "{from}: {out:?}");
    }
}

#[test]
fn check_prints_the_effective_settings() {
    let (path, _) = imported_settings("check");
    let out = mailauth(&["config", "check", &path.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let toml = stdout(&out);
    assert!(toml.contains("socket = \"local:/var/spool/postfix/opendkim/opendkim.sock\""));
    // Defaults are written too.
    assert!(toml.contains("max_dns_mechanisms = 10"), "{toml}");
    assert!(toml.contains("[replies]"), "{toml}");
}

#[test]
fn check_names_the_file_and_line_of_an_error() {
    let dir = scratch("check-error");
    let path = dir.join("mailauth.toml");
    std::fs::write(
        &path,
        "authserv_id = \"mx.example.net\"\n\n[milter]\nsocket_mode = \"999\"\n",
    )
    .expect("write");
    let out = mailauth(&["config", "check", &path.display().to_string()]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(out.stdout.is_empty());
    let want = format!("mailauth: {}:4: milter.socket_mode: ", path.display());
    assert!(stderr(&out).starts_with(&want), "{}", stderr(&out));
    std::fs::write(&path, "[milter]\nsokcet = \"local:/x\"\n").expect("write");
    let out = mailauth(&["config", "check", &path.display().to_string()]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let want = format!("mailauth: {}:2: unknown field `sokcet`", path.display());
    assert!(stderr(&out).starts_with(&want), "{}", stderr(&out));
}

#[test]
fn unknown_options_are_reported() {
    let dir = scratch("unknown");
    let dkim = dir.join("opendkim.conf");
    std::fs::write(
        &dkim,
        "Syslog yes\nCanonicalisation relaxed/relaxed\nMode sv\n",
    )
    .expect("write");
    let spf = dir.join("policyd-spf.conf");
    std::fs::write(&spf, "HELO_reject = Fail\nHelo_Rejekt = Softfail\n").expect("write");
    let out = mailauth(&[
        "config",
        "import",
        "--opendkim",
        &dkim.display().to_string(),
        "--policyd-spf",
        &spf.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let notes = stderr(&out);
    let lines: Vec<&str> = notes.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "mailauth: {}:2: Canonicalisation: not carried over: not an option of OpenDKIM \
                 that mailauth knows",
                dkim.display()
            ),
            format!(
                "mailauth: {}:2: Helo_Rejekt: not carried over: not an option of policyd-spf \
                 that mailauth knows",
                spf.display()
            ),
        ]
    );
    assert!(!stdout(&out).contains("canonicalization"));
}

#[test]
fn unreadable_files_and_no_files_are_errors() {
    let out = mailauth(&[
        "config",
        "import",
        "--opendkim",
        "tests/data/import/missing.conf",
    ]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).starts_with("mailauth: cannot read tests/data/import/missing.conf: "));
    let out = mailauth(&["config", "import"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = mailauth(&["config", "check", "tests/data/import/missing.toml"]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
}

#[test]
fn help_has_the_exit_tables() {
    for command in ["import", "check"] {
        let out = mailauth(&["config", command, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let help = stdout(&out);
        let table = help.split("Exit status:\n").nth(1).expect("exit table");
        let codes: Vec<&str> = table
            .lines()
            .filter_map(|l| l.strip_prefix("  ")?.split("  ").next())
            .filter(|c| c.parse::<u8>().is_ok())
            .collect();
        assert_eq!(codes, ["0", "2", "4"], "{command}");
    }
}

#[test]
fn latin1_comments_are_read() {
    let dir = scratch("latin1");
    let dkim = dir.join("opendkim.conf");
    std::fs::write(&dkim, b"# Schl\xfcssel und Signaturen\nSyslog yes\n").expect("write");
    let out = mailauth(&[
        "config",
        "import",
        "--opendkim",
        &dkim.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(stdout(&out).contains("syslog = true  # opendkim.conf: Syslog\n"));
    assert!(out.stderr.is_empty(), "{out:?}");
}
