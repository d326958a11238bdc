//! The C side of the library, tested from C: the examples in examples/c and
//! the programs in tests/c (misuse, outcomes, the MTA session, ARC) are built with
//! `gcc -std=c11 -Wall -Wextra -Werror -pedantic` against the library
//! installed by `make install` into a temporary prefix and found through
//! pkg-config, then run three times on the sample data: plainly, under
//! valgrind (`--error-exitcode --leak-check=full`) and built with
//! `-fsanitize=address,undefined`. Every run must give the expected output
//! with no memory error and no leak.
//!
//! Needs gcc, make, pkg-config, valgrind and (for event_loop.c) knotd;
//! a missing tool fails the test, naming it.

#![allow(clippy::unwrap_used)]

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The repository root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Cargo's profile folder this test was built in (target/debug).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/c_programs-HASH
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

struct Installed {
    prefix: PathBuf,
    bin: PathBuf,
}

/// Installs the library into a fresh prefix once per test run, with the
/// Makefile's install step.
fn installed() -> &'static Installed {
    static INSTALLED: OnceLock<Installed> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let profile_dir = profile_dir();
        let library = profile_dir.join("libmailauth.so");
        if !library.exists() {
            run_ok(Command::new(env!("CARGO")).args(["build", "-p", "mailauth-capi"]));
        }
        // Under the build's own target directory, replaced on every run, so
        // repeated runs do not pile installed copies up in the temporary
        // directory.
        let base = profile_dir.join("capi-test-install");
        let _ = std::fs::remove_dir_all(&base);
        let prefix = base.join("prefix");
        let bin = base.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let profile = profile_dir
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        run_ok(
            Command::new("make")
                .current_dir(root().join("bindings/c"))
                .arg("install")
                .arg(format!("PREFIX={}", prefix.display()))
                .arg(format!("PROFILE={profile}"))
                .arg(format!(
                    "TARGET_DIR={}",
                    profile_dir.parent().unwrap().display()
                )),
        );
        Installed { prefix, bin }
    })
}

fn run_ok(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// How a program is built and run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    Valgrind,
    Sanitized,
}

const MODES: [Mode; 3] = [Mode::Plain, Mode::Valgrind, Mode::Sanitized];

/// Exit status valgrind gives when it found an error or a leak.
const VALGRIND_ERROR: i32 = 99;

/// `pkg-config --cflags --libs mailauth` against the installed prefix.
fn pkg_config() -> Vec<String> {
    let installed = installed();
    let output = run_ok(
        Command::new("pkg-config")
            .args(["--cflags", "--libs", "mailauth"])
            .env("PKG_CONFIG_PATH", installed.prefix.join("lib/pkgconfig")),
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Builds `source` (relative to the repository root) for `mode`.
fn build(source: &str, mode: Mode) -> PathBuf {
    let installed = installed();
    let stem = Path::new(source).file_stem().unwrap().to_str().unwrap();
    let suffix = if mode == Mode::Sanitized { "-asan" } else { "" };
    let program = installed.bin.join(format!("{stem}{suffix}"));
    if program.exists() {
        return program;
    }
    let mut gcc = Command::new("gcc");
    gcc.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-g"]);
    if mode == Mode::Sanitized {
        gcc.args([
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer",
        ]);
    }
    gcc.arg(root().join(source))
        .args(pkg_config())
        .arg("-o")
        .arg(&program);
    run_ok(&mut gcc);
    program
}

/// Runs the program of `source` in `mode` with `args` and `stdin`.
fn run(source: &str, mode: Mode, args: &[&str], stdin: &[u8]) -> Output {
    let program = build(source, mode);
    let mut command = match mode {
        Mode::Valgrind => {
            let mut c = Command::new("valgrind");
            c.args([
                "-q",
                &format!("--error-exitcode={VALGRIND_ERROR}"),
                "--leak-check=full",
                "--errors-for-leak-kinds=definite,indirect,possible",
            ])
            .arg(&program);
            c
        }
        _ => Command::new(&program),
    };
    command
        .args(args)
        .current_dir(root())
        .env("LD_LIBRARY_PATH", installed().prefix.join("lib"))
        .env(
            "ASAN_OPTIONS",
            "detect_leaks=1:abort_on_error=0:exitcode=98",
        )
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !matches!(output.status.code(), Some(VALGRIND_ERROR | 98)) && !stderr.contains("ERROR:"),
        "{source} {args:?} in {mode:?}: memory error or leak:\n{stderr}"
    );
    if mode == Mode::Valgrind {
        assert!(
            !stderr.contains("=="),
            "{source} {args:?}: valgrind reported:\n{stderr}"
        );
    }
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn library_exports_only_mailauth_symbols_and_has_a_soname() {
    let lib = installed().prefix.join("lib/libmailauth.so");
    let nm = run_ok(Command::new("nm").args(["-D", "--defined-only"]).arg(&lib));
    let symbols: Vec<String> = String::from_utf8(nm.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().nth(2).map(str::to_owned))
        .collect();
    assert!(symbols.len() > 40, "too few symbols: {symbols:?}");
    let foreign: Vec<&String> = symbols
        .iter()
        .filter(|s| !s.starts_with("mailauth_") && !s.starts_with("MAILAUTH_"))
        .collect();
    assert!(foreign.is_empty(), "exported beside the API: {foreign:?}");
    let readelf = run_ok(Command::new("readelf").arg("-d").arg(&lib));
    assert!(
        String::from_utf8_lossy(&readelf.stdout).contains("Library soname: [libmailauth.so.0]"),
        "no SONAME libmailauth.so.0"
    );
}

#[test]
fn every_exported_function_is_declared_in_the_header() {
    let header = std::fs::read_to_string(root().join("include/mailauth.h")).unwrap();
    let lib = installed().prefix.join("lib/libmailauth.so");
    let nm = run_ok(Command::new("nm").args(["-D", "--defined-only"]).arg(&lib));
    for symbol in String::from_utf8(nm.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().nth(2))
        .filter(|s| s.starts_with("mailauth_"))
    {
        assert!(
            header.contains(&format!(" {symbol}(")) || header.contains(&format!("*{symbol}(")),
            "{symbol} is not declared in include/mailauth.h"
        );
    }
}

#[test]
fn misuse_returns_documented_statuses() {
    for mode in MODES {
        let output = run("bindings/c/tests/c/misuse.c", mode, &[], b"");
        assert!(
            output.status.success(),
            "misuse in {mode:?}:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = stdout(&output);
        println!("{mode:?}: {}", text.trim());
        assert!(text.starts_with("misuse: ") && text.contains("checks passed"));
    }
}

#[test]
fn session_runs_every_stage_from_c() {
    for mode in MODES {
        let output = run("bindings/c/tests/c/session.c", mode, &[], b"");
        assert!(
            output.status.success(),
            "session in {mode:?}:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = stdout(&output);
        println!("{mode:?}: {}", text.trim());
        assert!(text.starts_with("session: ") && text.contains("checks passed"));
    }
}

#[test]
fn sessions_record_in_the_report_store() {
    for mode in MODES {
        let dir =
            std::env::temp_dir().join(format!("mailauth-c-store-{}-{mode:?}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let output = run(
            "bindings/c/tests/c/store.c",
            mode,
            &[&dir.to_string_lossy()],
            b"",
        );
        assert!(
            output.status.success(),
            "store in {mode:?}:\n{}{}",
            stdout(&output),
            String::from_utf8_lossy(&output.stderr)
        );
        let text = stdout(&output);
        println!("{mode:?}: {}", text.trim());
        assert!(text.starts_with("store: ") && text.contains("checks passed"));
        // What C recorded reads back from the store.
        let mut store = mailauth_store::SqliteStore::open(
            &dir.join("reports.sqlite"),
            std::time::Duration::from_secs(5),
        )
        .unwrap();
        let due =
            mailauth_store::ReportStore::due(&mut store, u64::MAX >> 2, u64::MAX >> 2).unwrap();
        assert_eq!(due.len(), 1, "{due:?}");
        assert_eq!(due[0].policy_domain, "sender.example");
        let report = mailauth_store::ReportStore::load_report(
            &mut store,
            due[0].period.start,
            "sender.example",
        )
        .unwrap()
        .unwrap();
        assert_eq!(report.message_count(), 2);
        assert_eq!(report.records.len(), 1);
        assert_eq!(report.records[0].row.source_ip.to_string(), "192.0.2.10");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn checks_built_from_settings_use_them() {
    let data = root().join("examples/data");
    let data = data.to_string_lossy();
    for mode in MODES {
        let output = run("bindings/c/tests/c/settings.c", mode, &[&data], b"");
        assert!(
            output.status.success(),
            "settings in {mode:?}:\n{}{}",
            stdout(&output),
            String::from_utf8_lossy(&output.stderr)
        );
        let text = stdout(&output);
        println!("{mode:?}: {}", text.trim());
        assert!(text.starts_with("settings: ") && text.contains("checks passed"));
    }
}

#[test]
fn bimi_from_c() {
    for mode in MODES {
        let output = run("bindings/c/tests/c/bimi.c", mode, &[], b"");
        assert!(
            output.status.success(),
            "bimi in {mode:?}:\n{}{}",
            stdout(&output),
            String::from_utf8_lossy(&output.stderr)
        );
        let text = stdout(&output);
        println!("{mode:?}: {}", text.trim());
        assert!(text.starts_with("bimi: ") && text.contains("checks passed"));
    }
}

#[test]
fn spf_example() {
    let zone = "examples/c/data/example.zone";
    for mode in MODES {
        let pass = run(
            "examples/c/spf.c",
            mode,
            &[zone, "192.0.2.25", "mx1.example.org", "alice@example.org"],
            b"",
        );
        assert_eq!(pass.status.code(), Some(0), "{mode:?}: {pass:?}");
        let text = stdout(&pass);
        assert!(text.starts_with("pass\nmechanism mx matched in example.org\nReceived-SPF: pass"));
        assert!(text.contains("client-ip=192.0.2.25;"));

        // example.net itself publishes no SPF record.
        let none = run(
            "examples/c/spf.c",
            mode,
            &[zone, "192.0.2.99", "mx1.example.org", "alice@example.net"],
            b"",
        );
        assert_eq!(none.status.code(), Some(1));
        assert!(stdout(&none).starts_with("none\n"), "{none:?}");

        let fail = run(
            "examples/c/spf.c",
            mode,
            &[zone, "192.0.2.99", "mx1.example.org", "alice@example.org"],
            b"",
        );
        assert_eq!(fail.status.code(), Some(1));
        assert!(stdout(&fail).starts_with("fail\nmechanism -all matched in example.org\n"));

        let helo = run(
            "examples/c/spf.c",
            mode,
            &[zone, "192.0.2.25", "example.org"],
            b"",
        );
        assert!(stdout(&helo).contains("identity=helo"), "{helo:?}");

        let bad = run(
            "examples/c/spf.c",
            mode,
            &[zone, "not-an-ip", "h", "a@b.example"],
            b"",
        );
        assert_eq!(bad.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid argument"));
    }
}

fn sign_sample(mode: Mode) -> Vec<u8> {
    let message = std::fs::read(root().join("examples/c/data/message.eml")).unwrap();
    let output = run(
        "examples/c/sign.c",
        mode,
        &[
            "examples/c/data/KeyTable",
            "refile:examples/c/data/SigningTable",
        ],
        &message,
    );
    assert!(output.status.success(), "{mode:?}: {output:?}");
    assert!(output.stdout.ends_with(&message));
    output.stdout
}

/// Verifies a signed message with the core crate against the sample zone.
fn verify_with_core(signed: &[u8]) -> Vec<mailauth::dkim::verify::DkimResult> {
    use mailauth::dkim::verify::{Verifier, VerifyConfig};
    let zone_text = std::fs::read_to_string(root().join("examples/c/data/example.zone")).unwrap();
    let zone = mailauth::dns::ZoneResolver::from_zone_text(&zone_text).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut verifier = Verifier::new(&VerifyConfig::default(), now);
    verifier.feed(signed);
    let outcome = mailauth::resolve(verifier.finish(), &zone);
    outcome.signatures.iter().map(|s| s.result).collect()
}

#[test]
fn sign_example() {
    use mailauth::dkim::verify::DkimResult;
    for mode in MODES {
        let signed = sign_sample(mode);
        let text = String::from_utf8_lossy(&signed);
        assert!(
            text.starts_with(
                "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.org;\n"
            ),
            "{text}"
        );
        assert!(!text.contains('\r'), "LF message got CR");
        assert_eq!(verify_with_core(&signed), vec![DkimResult::Pass]);
    }
    // No rule for the From address: exit 1 with the status message.
    let other = b"From: carol@example.com\n\nhi\n";
    let output = run(
        "examples/c/sign.c",
        Mode::Plain,
        &[
            "examples/c/data/KeyTable",
            "refile:examples/c/data/SigningTable",
        ],
        other,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no signing table rule"));
}

#[test]
fn event_loop_example_over_a_real_dns_server() {
    let zone_text = std::fs::read_to_string(root().join("examples/c/data/example.zone")).unwrap();
    let (org, net) = zone_text.split_once("$ORIGIN example.net.").unwrap();
    let net = format!("$ORIGIN example.net.\n$TTL 3600\n{}", net);
    let net = support::zone_with_soa(
        "example.net",
        &net.replace("$ORIGIN example.net.\n$TTL 3600\n", ""),
    );
    let server = support::DnsServer::start(&[("example.org", org), ("example.net", &net)]);
    let address = server.addr();
    let ip = address.ip().to_string();
    let port = address.port().to_string();
    let signed = sign_sample(Mode::Plain);
    for mode in MODES {
        let output = run(
            "examples/c/event_loop.c",
            mode,
            &[
                &ip,
                &port,
                "203.0.113.5",
                "relay.example.net",
                "alice@example.org",
            ],
            &signed,
        );
        assert!(
            output.status.success(),
            "{mode:?}: {output:?}\n{}",
            server.log()
        );
        assert_eq!(
            stdout(&output),
            "spf=pass\ndkim=pass header.d=example.org header.s=ed2026\n",
            "{mode:?}"
        );
        // Unsigned, from an address outside every range: ~all at example.net
        // is not reached, -all at example.org is.
        let message = std::fs::read(root().join("examples/c/data/message.eml")).unwrap();
        let output = run(
            "examples/c/event_loop.c",
            mode,
            &[
                &ip,
                &port,
                "192.0.2.99",
                "relay.example.net",
                "alice@example.org",
            ],
            &message,
        );
        assert_eq!(stdout(&output), "spf=fail\ndkim=none\n", "{mode:?}");
    }
}

#[test]
fn authenticate_example() {
    let zone = "examples/data/example.zone";
    let now = "1795000000";
    for mode in MODES {
        let pass = std::fs::read(root().join("examples/data/pass.eml")).unwrap();
        let output = run(
            "examples/c/authenticate.c",
            mode,
            &[
                zone,
                "192.0.2.25",
                "mx1.example.org",
                "alice@example.org",
                now,
            ],
            &pass,
        );
        assert_eq!(output.status.code(), Some(0), "{mode:?}: {output:?}");
        let text = stdout(&output);
        assert!(
            text.starts_with("Authentication-Results: mx.example.com; spf=pass"),
            "{text}"
        );
        assert!(text.contains("dkim=pass header.d=example.org"), "{text}");
        assert!(text.contains("dmarc=pass"), "{text}");
        assert!(text.ends_with("\ndisposition: none\n"), "{text}");

        let fail = std::fs::read(root().join("examples/data/fail.eml")).unwrap();
        let output = run(
            "examples/c/authenticate.c",
            mode,
            &[
                zone,
                "192.0.2.99",
                "mx1.example.org",
                "billing@example.org",
                now,
            ],
            &fail,
        );
        assert_eq!(output.status.code(), Some(1), "{mode:?}: {output:?}");
        let text = stdout(&output);
        assert!(
            text.contains("spf=fail") && text.contains("dkim=none"),
            "{text}"
        );
        assert!(text.contains("dmarc=fail"), "{text}");
        assert!(text.ends_with("\ndisposition: reject\n"), "{text}");
    }
}

#[test]
fn static_library_links_and_runs() {
    let installed = installed();
    let libdir = installed.prefix.join("lib");
    let program = installed.bin.join("spf-static");
    let libs = run_ok(
        Command::new("pkg-config")
            .args(["--libs-only-l", "--static", "mailauth"])
            .env("PKG_CONFIG_PATH", libdir.join("pkgconfig")),
    );
    let system_libs: Vec<String> = String::from_utf8(libs.stdout)
        .unwrap()
        .split_whitespace()
        .filter(|l| *l != "-lmailauth")
        .map(str::to_owned)
        .collect();
    run_ok(
        Command::new("gcc")
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"])
            .arg(root().join("examples/c/spf.c"))
            .arg(format!("-I{}", installed.prefix.join("include").display()))
            .arg(libdir.join("libmailauth.a"))
            .args(&system_libs)
            .arg("-o")
            .arg(&program),
    );
    let ldd = run_ok(Command::new("ldd").arg(&program));
    assert!(!String::from_utf8_lossy(&ldd.stdout).contains("libmailauth"));
    let output = run_ok(Command::new(&program).current_dir(root()).args([
        "examples/c/data/example.zone",
        "192.0.2.25",
        "mx1.example.org",
        "alice@example.org",
    ]));
    assert!(stdout(&output).starts_with("pass\n"));
}

/// The dump `tests/c/outcomes.c` prints, made from the core's verdict: every
/// field of every outcome, as the C accessors give it.
fn core_dump(
    message: &[u8],
    ip: &str,
    helo: &str,
    mail_from: &str,
    trusted: Option<&str>,
) -> String {
    use mailauth::dmarc::{AlignedIdentifier, Disposition};
    use mailauth::inbound::{Config, Connection, Inbound};
    use std::fmt::Write as _;

    let zone_text = std::fs::read_to_string(root().join("examples/data/example.zone")).unwrap();
    let zone = mailauth::dns::ZoneResolver::from_zone_text(&zone_text).unwrap();
    let mut config = Config::new("mx.example.com", 1_795_000_000);
    config
        .trusted_authserv_ids
        .extend(trusted.map(str::to_owned));
    let connection = Connection::new(ip.parse().unwrap(), helo, mail_from);
    let mut inbound = Inbound::new(&connection, &config);
    inbound.feed(message);
    let verdict = mailauth::resolve(inbound.finish(), &zone);

    let mut out = String::new();
    let mut put = |key: &str, value: Option<String>| match value {
        Some(value) => writeln!(out, "{key}={value}").unwrap(),
        None => writeln!(out, "{key} absent").unwrap(),
    };
    let disposition = |d: Disposition| {
        Some(
            match d {
                Disposition::Quarantine => "1",
                Disposition::Reject => "2",
                _ => "0",
            }
            .to_owned(),
        )
    };
    put("skipped", verdict.skipped.as_ref().map(ToString::to_string));
    put("header_error", verdict.header_error.map(|e| e.to_string()));
    put("disposition", disposition(verdict.disposition));
    put("authentication_results", verdict.header_field());
    for (prefix, spf) in [
        ("spf_mail_from", &verdict.spf_mail_from),
        ("spf_helo", &verdict.spf_helo),
    ] {
        let Some(spf) = spf else { continue };
        let key = |name: &str| format!("{prefix}.{name}");
        put(&key("result"), Some(spf.result.to_string()));
        let identity = match spf.identity {
            mailauth::spf::Identity::Helo => "1",
            _ => "0",
        };
        put(&key("identity"), Some(identity.to_owned()));
        put(&key("client_ip"), Some(spf.client_ip.to_string()));
        put(&key("helo"), Some(spf.helo.clone()));
        put(&key("sender"), Some(spf.sender.clone()));
        put(&key("domain"), Some(spf.domain.to_string()));
        put(&key("reason"), Some(spf.reason.to_string()));
        put(&key("explanation"), spf.explanation.clone());
    }
    if let Some(dkim) = &verdict.dkim {
        put(
            "dkim.header_complete",
            Some(u8::from(dkim.header_complete).to_string()),
        );
        put(
            "dkim.header_error",
            dkim.header_error.map(|e| e.to_string()),
        );
        put("dkim.count", Some(dkim.signatures.len().to_string()));
        for (i, s) in dkim.signatures.iter().enumerate() {
            let key = |name: &str| format!("dkim.{i}.{name}");
            put(&key("result"), Some(s.result.to_string()));
            put(&key("reason"), s.reason.as_ref().map(ToString::to_string));
            put(&key("domain"), s.domain.as_ref().map(ToString::to_string));
            put(&key("selector"), s.selector.clone());
            put(
                &key("algorithm"),
                s.algorithm.map(|a| a.as_str().to_owned()),
            );
            put(
                &key("identity"),
                s.identity.as_ref().map(ToString::to_string),
            );
            put(&key("signature_prefix"), s.signature_prefix.clone());
            put(&key("key_bits"), s.key_bits.map(|b| b.to_string()));
            put(&key("body_length"), s.body_length.map(|b| b.to_string()));
            put(
                &key("unsigned_body_octets"),
                Some(s.unsigned_body_octets.to_string()),
            );
            put(&key("testing"), Some(u8::from(s.testing).to_string()));
        }
    }
    if let Some(dmarc) = &verdict.dmarc {
        put("dmarc.result", Some(dmarc.result.as_str().to_owned()));
        put(
            "dmarc.author_domain",
            dmarc.author_domain.as_ref().map(ToString::to_string),
        );
        put(
            "dmarc.policy_domain",
            dmarc.policy_domain.as_ref().map(ToString::to_string),
        );
        put(
            "dmarc.organizational_domain",
            dmarc
                .organizational_domain
                .as_ref()
                .map(ToString::to_string),
        );
        put("dmarc.policy", dmarc.policy.map(|p| p.as_str().to_owned()));
        put(
            "dmarc.policy_source",
            dmarc.policy_source.map(|p| p.as_str().to_owned()),
        );
        put("dmarc.disposition", disposition(dmarc.disposition));
        for (i, aligned) in dmarc.aligned().iter().enumerate() {
            let value = match aligned {
                AlignedIdentifier::Spf(name) => format!("spf {name}"),
                AlignedIdentifier::Dkim(name) => format!("dkim {name}"),
                _ => unreachable!("a new kind of aligned identifier"),
            };
            put(&format!("dmarc.aligned.{i}"), Some(value));
        }
        put("dmarc.testing", Some(dmarc.testing.as_str().to_owned()));
        put("dmarc.reason", Some(dmarc.reason.to_string()));
    }
    for (i, field) in verdict.remove.iter().enumerate() {
        let raw = String::from_utf8_lossy(field.field.raw());
        put(
            &format!("remove.{i}"),
            Some(format!("{} {} {raw}", field.occurrence, field.position)),
        );
    }
    for (i, results) in verdict.trusted_results.iter().enumerate() {
        put(&format!("trusted.{i}"), Some(results.to_header_value()));
    }
    out
}

#[test]
fn every_outcome_field_reads_the_same_from_c() {
    let cases: [(&str, &str, &str, &str, Option<&str>); 4] = [
        (
            "pass.eml",
            "192.0.2.25",
            "mx1.example.org",
            "alice@example.org",
            None,
        ),
        (
            "fail.eml",
            "192.0.2.99",
            "mx1.example.org",
            "billing@example.org",
            None,
        ),
        (
            "forwarded.eml",
            "192.0.2.99",
            "lists.example.net",
            "alice@example.org",
            None,
        ),
        (
            "forged.eml",
            "192.0.2.99",
            "mail.attacker.example",
            "alice@example.org",
            Some("mx.example.com"),
        ),
    ];
    for mode in MODES {
        for (file, ip, helo, mail_from, trusted) in cases {
            let message = std::fs::read(root().join("examples/data").join(file)).unwrap();
            let mut args = vec![
                "examples/data/example.zone",
                ip,
                helo,
                mail_from,
                "1795000000",
            ];
            args.extend(trusted);
            let output = run("bindings/c/tests/c/outcomes.c", mode, &args, &message);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{file} in {mode:?}: {output:?}"
            );
            let expected = core_dump(&message, ip, helo, mail_from, trusted);
            assert_eq!(stdout(&output), expected, "{file} in {mode:?}");
            for line in ["dkim.count=", "dmarc.reason=", "spf_helo.identity=1"] {
                assert!(
                    expected.contains(line),
                    "{file}: {line} missing from\n{expected}"
                );
            }
        }
    }
}

/// The zone of `tests/c/arc.c`: the example zone with the ARC keys of
/// example.net and example.com (`tests/data/keys/ed25519.pkcs8.pem`).
fn arc_zone(key: &mailauth::dkim::crypto::SigningKey) -> String {
    let record = mailauth::dkim::keygen::KeyRecord::for_key(key).text();
    let mut zone = std::fs::read_to_string(root().join("examples/data/example.zone")).unwrap();
    for origin in ["example.net", "example.com"] {
        zone.push_str(&format!(
            "\n$ORIGIN {origin}.\narc._domainkey IN TXT \"{record}\"\n"
        ));
    }
    zone
}

/// Validates `message` with the core.
fn arc_validate(message: &[u8], zone: &mailauth::dns::ZoneResolver) -> mailauth::arc::Outcome {
    let mut validator = mailauth::arc::Validator::new(&mailauth::arc::Config::default());
    validator.feed(message);
    mailauth::resolve(validator.finish(), zone)
}

/// A message sealed twice by the core: by example.net, then example.com.
fn arc_sealed_by_core(
    key: &std::sync::Arc<mailauth::dkim::crypto::SigningKey>,
    zone: &mailauth::dns::ZoneResolver,
) -> Vec<u8> {
    use mailauth::arc::{SealOptions, SealOutcome, Sealer};
    use mailauth::authres::MethodResult;
    let mut message = b"From: bob@example.org\r\nTo: list@lists.example.net\r\n\
        Subject: sealed by the core\r\nMessage-ID: <core@example.org>\r\n\r\nTwo hops.\r\n"
        .to_vec();
    for (now, domain, authserv_id) in [
        (1_795_000_000, "example.net", "lists.example.net"),
        (1_795_000_100, "example.com", "mx.example.com"),
    ] {
        let chain = arc_validate(&message, zone);
        let sealer = Sealer::new(
            domain,
            "arc",
            key.clone(),
            authserv_id,
            SealOptions::default(),
        )
        .unwrap();
        let results = [
            chain.to_method_result(),
            MethodResult {
                method: "spf".into(),
                result: "pass".into(),
                reason: None,
                properties: Vec::new(),
            },
        ];
        let SealOutcome::Sealed(set) = sealer.seal(&message, now, &chain, &results).unwrap() else {
            panic!("the core did not seal for {domain}");
        };
        let mut sealed = set.to_header_lines().into_bytes();
        sealed.extend_from_slice(&message);
        message = sealed;
    }
    message
}

#[test]
fn arc_validates_seals_and_overrides_dmarc_from_c() {
    use mailauth::arc::ArcResult;
    let key_path = root().join("tests/data/keys/ed25519.pkcs8.pem");
    let key = std::sync::Arc::new(
        mailauth::dkim::crypto::SigningKey::from_pem(&std::fs::read(&key_path).unwrap()).unwrap(),
    );
    let zone_text = arc_zone(&key);
    let zone = mailauth::dns::ZoneResolver::from_zone_text(&zone_text).unwrap();
    let core_sealed = arc_sealed_by_core(&key, &zone);
    let core_outcome = arc_validate(&core_sealed, &zone);
    assert_eq!(core_outcome.result, ArcResult::Pass, "{core_outcome:?}");

    let dir = installed().bin.join("arc-data");
    std::fs::create_dir_all(&dir).unwrap();
    let zone_path = dir.join("arc.zone");
    let core_path = dir.join("core-sealed.eml");
    std::fs::write(&zone_path, &zone_text).unwrap();
    std::fs::write(&core_path, &core_sealed).unwrap();
    for mode in MODES {
        let output_path = dir.join(format!("c-sealed-{mode:?}.eml"));
        let _ = std::fs::remove_file(&output_path);
        let args = [
            zone_path.to_str().unwrap(),
            key_path.to_str().unwrap(),
            core_path.to_str().unwrap(),
            output_path.to_str().unwrap(),
        ];
        let output = run("bindings/c/tests/c/arc.c", mode, &args, b"");
        assert!(
            output.status.success(),
            "arc in {mode:?}:\n{}{}",
            stdout(&output),
            String::from_utf8_lossy(&output.stderr)
        );
        let text = stdout(&output);
        println!("{mode:?}: {}", text.trim());
        assert!(text.starts_with("arc: ") && text.contains("checks passed"));
        // What C sealed, validated by the core.
        let sealed = std::fs::read(&output_path).unwrap();
        let outcome = arc_validate(&sealed, &zone);
        assert_eq!(outcome.result, ArcResult::Pass, "{mode:?}: {outcome:?}");
        assert_eq!(outcome.sets, 2);
        let sealers: Vec<&str> = outcome
            .instances
            .iter()
            .map(|set| set.seal_domain.as_str())
            .collect();
        assert_eq!(sealers, ["example.net", "example.com"]);
    }
}
