//! The session over an in-memory zone: clients × SPF results × DMARC
//! policies × decision settings, asserting the action of each stage, the
//! edits and the log record.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::*;
use crate::dkim::{NewKey, SignOptions, Signer, SigningKey, keygen};
use crate::dns::{Failure, ZoneResolver};

const NOW: u64 = 1_700_000_000;
const OUTSIDE: &str = "192.0.2.10";

struct Fixture {
    zone: ZoneResolver,
    sender_key: Arc<SigningKey>,
    dir: PathBuf,
}

/// Keys and zone, made once: sender.example signs its mail (its key in
/// the zone); example.com's key is the relay's signing key.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let sender = keygen::generate(NewKey::Ed25519).unwrap();
        let relay = keygen::generate(NewKey::Ed25519).unwrap();
        let dir = std::env::temp_dir().join(format!("mailauth-session-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("example.com.key"), relay.private_key_pem()).unwrap();
        let zone = format!(
            "$ORIGIN example.\n\
             sender 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n\
             sel._domainkey.sender 300 IN TXT \"{}\"\n\
             _dmarc.sender 300 IN TXT \"v=DMARC1; p=reject\"\n\
             default._bimi.sender 300 IN TXT \"v=BIMI1; l=https://images.sender.example/logo.svg\"\n\
             soft 300 IN TXT \"v=spf1 ~all\"\n\
             hard 300 IN TXT \"v=spf1 -all\"\n\
             broken 300 IN TXT \"v=spf1 foo:bar -all\"\n\
             rej 300 IN TXT \"v=spf1 -all\"\n\
             _dmarc.rej 300 IN TXT \"v=DMARC1; p=reject\"\n\
             _dmarc.quar 300 IN TXT \"v=DMARC1; p=quarantine\"\n\
             _dmarc.none 300 IN TXT \"v=DMARC1; p=none\"\n\
             mx 300 IN A 192.0.2.10\n",
            sender.record().text()
        );
        Fixture {
            zone: ZoneResolver::from_zone_text(&zone).unwrap(),
            sender_key: Arc::new(sender.into_signing_key()),
            dir,
        }
    })
}

/// The zone, with every query under `temp.example` failing for now.
struct Resolver<'a>(&'a ZoneResolver);

impl crate::dns::Resolver for Resolver<'_> {
    fn lookup_with_ttl(&self, query: &Query) -> (Answer, Option<u32>) {
        if query.name.as_str().ends_with("temp.example") {
            return (Answer::TempFail(Failure::Timeout), None);
        }
        self.0.lookup_with_ttl(query)
    }
}

fn settings(extra: &str) -> Arc<Settings> {
    let text = format!(
        "authserv_id = \"mx.example.net\"\n\
         daemon_names = [\"ORIGINATING\"]\n{extra}\n\
         [[signing.keys]]\nname = \"com\"\ndomain = \"example.com\"\nselector = \"relay\"\nkey_file = \"example.com.key\"\n\
         [[signing.rules]]\npattern = \"*@example.com\"\nkey = \"com\"\n"
    );
    Arc::new(Settings::from_toml(&text, "test.toml", &fixture().dir).unwrap())
}

/// A message from `from`, signed by sender.example when `signed`.
fn message(from: &str, signed: bool, extra_header: &str) -> Vec<u8> {
    let text = format!(
        "{extra_header}From: <{from}>\r\nTo: bob@example.net\r\nSubject: hello\r\n\r\nHi Bob.\r\n"
    );
    let mut out = Vec::new();
    if signed {
        let signer = Signer::new(
            "sender.example",
            "sel",
            fixture().sender_key.clone(),
            SignOptions::default(),
        )
        .unwrap();
        let field = signer.sign(text.as_bytes(), NOW).unwrap();
        out.extend_from_slice(field.to_header_line().trim_end().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(text.as_bytes());
    out
}

/// What a transaction gave.
#[derive(Debug)]
struct Run {
    helo: Action,
    mail_from: Action,
    end: Option<Action>,
    edits: Vec<Edit>,
    log: String,
    report: Option<crate::report::Verdict>,
}

fn run(settings: &Arc<Settings>, client: Client, mail_from: &str, message: &[u8]) -> Run {
    let resolver = Resolver(&fixture().zone);
    let mut session = Session::new(settings.clone(), client, NOW);
    session.helo("mx.sender.example");
    let helo = session.drive(&resolver);
    session.mail_from(mail_from);
    let mail_from = session.drive(&resolver);
    let mut end = None;
    if !mail_from.ends_transaction() {
        session.rcpt("bob@example.net");
        assert_eq!(session.drive(&resolver), Action::Continue);
        session.set_queue_id("4ABC");
        // Header fields one by one, as a milter gets them.
        let split = memchr::memmem::find(message, b"\r\n\r\n").unwrap();
        let header = std::str::from_utf8(&message[..split]).unwrap();
        let mut fields: Vec<String> = Vec::new();
        for line in header.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                let last = fields.last_mut().unwrap();
                last.push('\n');
                last.push_str(line);
            } else {
                fields.push(line.to_owned());
            }
        }
        for field in &fields {
            let (name, value) = field.split_once(':').unwrap();
            session.header(name, value.trim_start_matches(' ').as_bytes());
        }
        session.end_of_header();
        for chunk in message[split + 4..].chunks(3) {
            session.body(chunk);
        }
        session.end_of_message();
        end = Some(session.drive(&resolver));
    }
    Run {
        helo,
        mail_from,
        end,
        edits: session.edits().to_vec(),
        report: session.report_verdict(),
        log: session.log_line().unwrap_or_default(),
    }
}

fn outside() -> Client {
    Client::new(OUTSIDE.parse().unwrap())
}

fn inserted<'a>(run: &'a Run, name: &str) -> Vec<&'a str> {
    run.edits
        .iter()
        .filter_map(|e| match e {
            Edit::Insert { name: n, value } if n.eq_ignore_ascii_case(name) => Some(value.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn outside_pass_gets_results_and_continues() {
    let run = run(
        &settings(""),
        outside(),
        "alice@sender.example",
        &message("alice@sender.example", true, ""),
    );
    assert_eq!(run.helo, Action::Continue);
    assert_eq!(run.mail_from, Action::Continue);
    assert_eq!(run.end, Some(Action::Continue));
    let ar = inserted(&run, "Authentication-Results");
    assert_eq!(ar.len(), 1, "{:?}", run.edits);
    let ar = ar[0].replace("\r\n\t", " ");
    assert!(ar.starts_with("mx.example.net;"), "{ar}");
    for part in [
        "spf=pass",
        "dkim=pass",
        "header.d=sender.example",
        "dmarc=pass",
    ] {
        assert!(ar.contains(part), "{part} missing: {ar}");
    }
    assert!(
        run.log.starts_with("4ABC: client=192.0.2.10 mode=verify"),
        "{}",
        run.log
    );
    assert!(
        run.log
            .contains("spf=pass dkim=pass(d=sender.example,s=sel) dmarc=pass("),
        "{}",
        run.log
    );
    assert!(run.log.contains("action=continue"), "{}", run.log);
    // What a front end records for DMARC reports.
    let report = run.report.expect("a report verdict");
    assert_eq!(report.report_key(), "sender.example");
    assert_eq!(report.header_from, "sender.example");
    assert_eq!(report.envelope_from.as_deref(), Some("sender.example"));
    assert_eq!(report.envelope_to.as_deref(), Some("example.net"));
    assert_eq!(report.source_ip.to_string(), "192.0.2.10");
    assert_eq!(report.time, NOW);
    assert_eq!(report.dmarc_result, crate::dmarc::DmarcResult::Pass);
}

/// SPF at MAIL FROM, per policyd-spf setting.
#[test]
fn spf_decisions_at_mail_from() {
    // (settings, MAIL FROM domain, expected action kind at MAIL FROM, reply code)
    type Case<'a> = (&'a str, &'a str, &'a str, Option<(u16, &'a str)>);
    let cases: &[Case] = &[
        ("", "hard.example", "reject", Some((550, "5.7.23"))),
        (
            "[spf]\nmail_from_reject = \"false\"",
            "hard.example",
            "continue",
            None,
        ),
        ("", "soft.example", "continue", None),
        (
            "[spf]\nmail_from_reject = \"softfail\"",
            "soft.example",
            "reject",
            Some((550, "5.7.23")),
        ),
        (
            "[spf]\nmail_from_reject = \"not_pass\"",
            "soft.example",
            "reject",
            Some((550, "5.7.23")),
        ),
        ("", "broken.example", "continue", None),
        (
            "[spf]\npermerror_reject = true",
            "broken.example",
            "reject",
            Some((550, "5.7.24")),
        ),
        ("", "temp.example", "continue", None),
        (
            "[spf]\ntemperror_defer = true",
            "temp.example",
            "tempfail",
            Some((451, "4.7.24")),
        ),
        (
            "[spf]\nmail_from_reject = \"not_pass\"",
            "temp.example",
            "continue",
            None,
        ),
        ("", "sender.example", "continue", None),
        ("test_only = true", "hard.example", "continue", None),
    ];
    for (extra, domain, kind, reply) in cases {
        let from = format!("alice@{domain}");
        let run = run(
            &settings(extra),
            outside(),
            &from,
            &message(&from, false, ""),
        );
        assert_eq!(
            run.mail_from.kind(),
            *kind,
            "{extra:?} {domain}: {}",
            run.log
        );
        assert_eq!(
            run.mail_from.reply().map(|r| (r.code, r.enhanced.as_str())),
            *reply,
            "{extra:?} {domain}"
        );
        if *kind == "reject" {
            assert!(run.end.is_none());
            assert!(
                run.log.contains(" spf=") && run.log.contains("action=\"reject 5"),
                "{}",
                run.log
            );
        }
    }
    // Test-only: the refusal is logged with the message, which goes on.
    let from = "alice@hard.example";
    let run = run(
        &settings("test_only = true"),
        outside(),
        from,
        &message(from, false, ""),
    );
    assert_eq!(run.end, Some(Action::Continue));
    assert!(run.log.contains("test-only-would=\"reject"), "{}", run.log);
}

#[test]
fn helo_fail_is_refused_by_default() {
    let resolver = Resolver(&fixture().zone);
    let mut session = Session::new(settings(""), outside(), NOW);
    session.helo("hard.example");
    let action = session.drive(&resolver);
    assert_eq!(action.kind(), "reject");
    assert!(action.reply().unwrap().text.contains("HELO hard.example"));
    let mut session = Session::new(settings("[spf]\nhelo_reject = \"false\""), outside(), NOW);
    session.helo("hard.example");
    assert_eq!(session.drive(&resolver), Action::Continue);
}

/// DMARC at the end of the message: a spoofed From under each policy.
#[test]
fn dmarc_decisions_at_end_of_message() {
    // (settings, From domain, expected final action kind, expected extra insert)
    let cases: &[(&str, &str, &str, Option<&str>)] = &[
        ("", "rej.example", "continue", None),
        (
            "[dmarc]\nreject_failures = true",
            "rej.example",
            "reject",
            None,
        ),
        (
            "[dmarc]\nreject_failures = true",
            "quar.example",
            "quarantine",
            None,
        ),
        (
            "[dmarc]\nreject_failures = true\nquarantine = \"header\"",
            "quar.example",
            "continue",
            Some("X-Mailauth-Quarantine"),
        ),
        (
            "[dmarc]\nreject_failures = true\nquarantine = \"accept\"",
            "quar.example",
            "continue",
            None,
        ),
        (
            "[dmarc]\nreject_failures = true",
            "none.example",
            "continue",
            None,
        ),
        (
            "test_only = true\n[dmarc]\nreject_failures = true",
            "rej.example",
            "continue",
            None,
        ),
    ];
    for (extra, domain, kind, header) in cases {
        let from = format!("mallory@{domain}");
        let run = run(
            &settings(extra),
            outside(),
            "mallory@sender.example",
            &message(&from, false, ""),
        );
        let end = run.end.as_ref().unwrap();
        assert_eq!(end.kind(), *kind, "{extra:?} {domain}: {}", run.log);
        if *kind == "reject" {
            let reply = end.reply().unwrap();
            assert_eq!((reply.code, reply.enhanced.as_str()), (550, "5.7.26"));
            assert_eq!(reply.text, "Rejected by the DMARC policy of rej.example");
        }
        let ar = inserted(&run, "Authentication-Results");
        assert!(ar[0].contains("dmarc=fail"), "{extra:?} {domain}: {ar:?}");
        if let Some(name) = header {
            assert_eq!(inserted(&run, name), vec!["DMARC policy of quar.example"]);
        }
        assert!(
            run.log.contains(&format!("dmarc=fail(from={domain}")),
            "{}",
            run.log
        );
    }
    let run = run(
        &settings("test_only = true\n[dmarc]\nreject_failures = true"),
        outside(),
        "mallory@sender.example",
        &message("mallory@rej.example", false, ""),
    );
    assert!(run.log.contains("action=continue test-only-would=\"reject 550 5.7.26 Rejected by the DMARC policy of rej.example\""), "{}", run.log);
}

/// Who is signed rather than checked.
#[test]
fn internal_authenticated_and_originating_clients_are_signed() {
    let settings = settings("");
    let mut internal = Client::new("127.0.0.1".parse().unwrap());
    internal.name = Some("localhost".to_owned());
    let mut authenticated = outside();
    authenticated.authenticated = Some("alice".to_owned());
    let mut originating = outside();
    originating.daemon_name = Some("ORIGINATING".to_owned());
    for (client, mode) in [
        (internal, "sign(internal 127.0.0.1/32)"),
        (authenticated, "sign(authenticated alice)"),
        (originating, "sign(daemon ORIGINATING)"),
        (Client::default(), "sign(local)"),
    ] {
        let run = run(
            &settings,
            client,
            "alice@example.com",
            &message("alice@example.com", false, ""),
        );
        assert_eq!(run.end, Some(Action::Continue));
        let sig = inserted(&run, "DKIM-Signature");
        assert_eq!(sig.len(), 1, "{mode}: {:?}", run.edits);
        assert!(
            sig[0].contains("d=example.com") && sig[0].contains("s=relay"),
            "{}",
            sig[0]
        );
        assert!(inserted(&run, "Authentication-Results").is_empty());
        assert_eq!(run.report, None, "signed mail is not checked nor reported");
        let logged = if mode.contains(' ') {
            format!("mode=\"{mode}\"")
        } else {
            format!("mode={mode}")
        };
        assert!(run.log.contains(&logged), "{}", run.log);
        assert!(
            run.log.contains("signed=d=example.com,s=relay"),
            "{}",
            run.log
        );
    }
    // A From the signing table does not cover: not signed, logged.
    let mut client = outside();
    client.daemon_name = Some("originating".to_owned());
    let run = run(
        &settings,
        client,
        "x@other.example",
        &message("x@other.example", false, ""),
    );
    assert!(run.edits.is_empty());
    assert!(
        run.log.contains("no signing rule for x@other.example"),
        "{}",
        run.log
    );
}

#[test]
fn signed_mail_verifies() {
    let settings = settings("");
    let mut client = outside();
    client.authenticated = Some("alice".to_owned());
    let original = message("alice@example.com", false, "");
    let run = run(&settings, client, "alice@example.com", &original);
    let sig = inserted(&run, "DKIM-Signature")[0]
        .replace("\r\n", "\n")
        .replace('\n', "\r\n");
    let key = std::fs::read_to_string(fixture().dir.join("example.com.key")).unwrap();
    let key = SigningKey::from_pem(key.as_bytes()).unwrap();
    let record = keygen::KeyRecord::for_key(&key).text();
    let zone = ZoneResolver::from_zone_text(&format!(
        "relay._domainkey.example.com. 300 IN TXT \"{record}\"\n"
    ))
    .unwrap();
    let mut signed = format!("DKIM-Signature: {sig}\r\n").into_bytes();
    signed.extend_from_slice(&original);
    let mut verifier = crate::dkim::Verifier::new(&crate::dkim::VerifyConfig::default(), NOW);
    verifier.feed(&signed);
    let verification = crate::resolve(verifier.finish(), &zone);
    assert_eq!(
        verification.signatures[0].result,
        crate::dkim::DkimResult::Pass
    );
}

#[test]
fn forged_results_are_removed_highest_first() {
    let forged = "Authentication-Results: other.example; spf=pass\r\n\
                  Authentication-Results: mx.example.net; dkim=pass\r\n\
                  Authentication-Results: mx.example.net; dmarc=pass\r\n";
    let run = run(
        &settings(""),
        outside(),
        "alice@sender.example",
        &message("alice@sender.example", true, forged),
    );
    let removals: Vec<&Edit> = run
        .edits
        .iter()
        .filter(|e| matches!(e, Edit::Remove { .. }))
        .collect();
    assert_eq!(
        removals,
        vec![
            &Edit::Remove {
                name: "Authentication-Results".to_owned(),
                occurrence: 3
            },
            &Edit::Remove {
                name: "Authentication-Results".to_owned(),
                occurrence: 2
            },
        ]
    );
    assert!(matches!(run.edits.last(), Some(Edit::Insert { .. })));
}

#[test]
fn dkim_actions() {
    // A key lookup that fails for now: OpenDKIM's On-DNSError default.
    let mut message = message("alice@temp.example", false, "");
    let signer = Signer::new(
        "temp.example",
        "sel",
        fixture().sender_key.clone(),
        SignOptions::default(),
    )
    .unwrap();
    let field = signer.sign(&message, NOW).unwrap();
    let mut signed = format!("{}\r\n", field.to_header_line().trim_end()).into_bytes();
    signed.append(&mut message);
    let run1 = run(&settings(""), outside(), "alice@sender.example", &signed);
    let end = run1.end.unwrap();
    assert_eq!(end.kind(), "tempfail", "{}", run1.log);
    assert_eq!(end.reply().unwrap().enhanced, "4.7.20");
    let run2 = run(
        &settings("[verify]\non_dns_error = \"accept\""),
        outside(),
        "alice@sender.example",
        &signed,
    );
    assert_eq!(run2.end, Some(Action::Continue));
    // No signature, refused when asked.
    let plain = self::message("alice@sender.example", false, "");
    let run3 = run(
        &settings("[verify]\non_no_signature = \"reject\""),
        outside(),
        "alice@sender.example",
        &plain,
    );
    assert_eq!(run3.end.unwrap().reply().unwrap().enhanced, "5.7.20");
    // A broken signature, refused when asked.
    let mut bad = self::message("alice@sender.example", true, "");
    let len = bad.len();
    bad[len - 3] = b'X';
    let run4 = run(
        &settings("[verify]\non_bad_signature = \"reject\""),
        outside(),
        "alice@sender.example",
        &bad,
    );
    assert_eq!(run4.end.unwrap().kind(), "reject", "{}", run4.log);
}

#[test]
fn received_spf_when_asked() {
    let run = run(
        &settings("[spf]\nreceived_spf = true"),
        outside(),
        "alice@sender.example",
        &message("alice@sender.example", true, ""),
    );
    let spf = inserted(&run, "Received-SPF");
    assert_eq!(spf.len(), 1);
    assert!(spf[0].starts_with("pass "), "{}", spf[0]);
    // Applied in order at the top, the AR ends first.
    assert!(
        matches!(run.edits.last(), Some(Edit::Insert { name, .. }) if name == "Authentication-Results")
    );
}

#[test]
fn bad_settings_name_file_and_line() {
    let dir = Path::new(".");
    let cases = [
        ("authserv_id = \"mx\"\nbogus = 1\n", "test.toml:2:"),
        ("[spf]\nmax_void_lookups = \"two\"\n", "test.toml:2:"),
        (
            "[verify]\n\nmin_key_bits = 1024\non_bad_signature = \"maybe\"\n",
            "test.toml:4:",
        ),
        (
            "internal_hosts = [\"10.0.0.0/33\"]\n",
            "test.toml:1: internal_hosts",
        ),
        (
            "[signing]\nkeys = [{ name = \"k\", domain = \"example.com\", selector = \"s\", key_file = \"/nonexistent/k.pem\" }]\n",
            "test.toml:2: signing.keys",
        ),
        (
            "[[signing.rules]]\npattern = \"*\"\nkey = \"missing\"\n",
            "signing.rules: key name \"missing\"",
        ),
        (
            "[signing]\nkey_table = \"/nonexistent/KeyTable\"\nsigning_table = \"refile:/nonexistent/SigningTable\"\n",
            "test.toml:3: signing.signing_table",
        ),
        (
            "[replies]\ndmarc_reject = \"250 2.0.0 fine\"\n",
            "test.toml:2: replies.dmarc_reject",
        ),
        ("[dmarc]\nmode = \"rfc1234\"\n", "test.toml:2: dmarc.mode"),
        ("[report]\nperiod = 90000\n", "test.toml:2: report.period"),
        (
            "[report]\nrecord = true\nstore = \"postgres\"\n",
            "report.connection: a PostgreSQL store needs",
        ),
        ("[report]\nstore = \"mysql\"\n", "test.toml:2:"),
        (
            "[report]\nbatch_size = 0\n",
            "test.toml:2: report.batch_size",
        ),
    ];
    for (text, expected) in cases {
        let error = Settings::from_toml(text, "test.toml", dir)
            .unwrap_err()
            .to_string();
        assert!(error.contains(expected), "{text:?}: {error}");
    }
}

#[test]
fn cache_sizes_are_settings() {
    use crate::cache::DEFAULT_MAX_ENTRIES;
    use crate::dkim::KeyCache;
    let defaults = settings("[arc]\nverify = true");
    let config = defaults.inbound_config();
    // The default size is the process-wide cache, kept across reloads.
    assert_eq!(
        config.spf.record_cache,
        Some(spf::RecordCache::process_wide())
    );
    assert_eq!(
        config.dmarc.record_cache,
        Some(crate::dmarc::RecordCache::process_wide())
    );
    assert_eq!(config.dkim.key_cache, Some(KeyCache::process_wide()));
    assert_eq!(
        defaults.get("spf.record_cache_entries").as_deref(),
        Some(DEFAULT_MAX_ENTRIES.to_string().as_str())
    );

    let sized = settings(
        "[spf]\nrecord_cache_entries = 5000\n[dmarc]\nrecord_cache_entries = 20\n\
         [verify]\nkey_cache_entries = 300\n[arc]\nverify = true",
    );
    let config = sized.inbound_config();
    let spf_cache = config.spf.record_cache.as_ref().unwrap();
    assert_eq!(spf_cache.max_entries(), 5000);
    assert_ne!(*spf_cache, spf::RecordCache::process_wide());
    assert_eq!(
        config.dmarc.record_cache.as_ref().unwrap().max_entries(),
        20
    );
    let keys = config.dkim.key_cache.as_ref().unwrap();
    assert_eq!(keys.max_entries(), 300);
    // ARC validation reads the same keys.
    assert_eq!(config.arc.as_ref().unwrap().key_cache.as_ref(), Some(keys));
    // Every session of these settings shares them.
    assert_eq!(
        sized.inbound_config().spf.record_cache.as_ref(),
        Some(spf_cache)
    );

    let none = settings(
        "[spf]\nrecord_cache_entries = 0\n[dmarc]\nrecord_cache = false\n\
         [verify]\nkey_cache_entries = 0",
    );
    let config = none.inbound_config();
    assert_eq!(config.spf.record_cache, None);
    assert_eq!(config.dmarc.record_cache, None);
    assert_eq!(config.dkim.key_cache, None);
}

#[test]
fn effective_settings_round_trip() {
    let settings = settings("[dns]\nnameservers = [\"127.0.0.1:5353\"]");
    let text = settings.to_toml();
    let again = Settings::from_toml(&text, "again", &fixture().dir).unwrap();
    assert_eq!(again.to_toml(), text);
    assert_eq!(
        settings.get("dns.nameservers").as_deref(),
        Some("127.0.0.1:5353")
    );
    assert_eq!(settings.get("milter.syslog").as_deref(), Some("true"));
    assert_eq!(settings.get("verify.min_key_bits").as_deref(), Some("1024"));
    assert_eq!(
        settings.get("authserv_id").as_deref(),
        Some("mx.example.net")
    );
    assert_eq!(settings.get("nope.nothing"), None);
}

#[test]
fn checked_mail_is_sealed_when_the_settings_ask() {
    let settings = settings("[arc]\nverify = true\nseal = true\nsealer = \"example.com\"\n");
    let original = message("alice@sender.example", true, "");
    let run = run(&settings, outside(), "alice@sender.example", &original);
    assert_eq!(run.end, Some(Action::Continue));
    assert!(run.log.contains(" arc=none "), "{}", run.log);
    assert!(
        run.log.contains("sealed=\"i=1, d=example.com, s=relay\""),
        "{}",
        run.log
    );
    let ar = inserted(&run, "Authentication-Results")[0].replace("\r\n\t", " ");
    assert!(ar.contains("arc=none smtp.remote-ip=192.0.2.10"), "{ar}");
    // The edits as the MTA applies them: each insertion on top.
    let mut sealed = original.clone();
    for edit in &run.edits {
        if let Edit::Insert { name, value } = edit {
            let mut field = format!("{name}: {value}\r\n").into_bytes();
            field.extend_from_slice(&sealed);
            sealed = field;
        }
    }
    let aar = inserted(&run, "ARC-Authentication-Results")[0].replace("\r\n\t", " ");
    assert!(aar.starts_with("i=1; mx.example.net;"), "{aar}");
    assert!(aar.contains("dmarc=pass"), "{aar}");
    // The seal validates with the relay's key published.
    let mut zone = fixture().zone.clone();
    let pem = std::fs::read(fixture().dir.join("example.com.key")).unwrap();
    let relay = SigningKey::from_pem(&pem).unwrap();
    zone.add_txt(
        &crate::dns::Name::new("relay._domainkey.example.com").unwrap(),
        crate::dkim::keygen::KeyRecord::for_key(&relay).text(),
    );
    let mut validator = crate::arc::Validator::new(&crate::arc::Config::default());
    validator.feed(&sealed);
    let chain = crate::resolve(validator.finish(), &zone);
    assert_eq!(chain.result, crate::arc::ArcResult::Pass, "{chain:?}");
    assert_eq!(chain.sets, 1);
}

#[test]
fn sealing_settings_are_checked() {
    let load = |extra: &str| {
        let text = format!(
            "authserv_id = \"mx.example.net\"\n{extra}\n\
             [[signing.keys]]\nname = \"com\"\ndomain = \"example.com\"\nselector = \"relay\"\nkey_file = \"example.com.key\"\n\
             [[signing.rules]]\npattern = \"*@example.com\"\nkey = \"com\"\n"
        );
        Settings::from_toml(&text, "test.toml", &fixture().dir)
            .unwrap_err()
            .to_string()
    };
    let e = load("[arc]\nverify = true\nseal = true\n");
    assert!(e.contains("arc.sealer"), "{e}");
    let e = load("[arc]\nverify = true\nseal = true\nsealer = \"example.org\"\n");
    assert!(e.contains("no key for postmaster@example.org"), "{e}");
    let e = load("[arc]\nseal = true\nsealer = \"example.com\"\n");
    assert!(
        e.contains("arc.seal") && e.contains("needs arc.verify"),
        "{e}"
    );
    let e = load("[arc]\nverify = true\nmax_sets = 51\n");
    assert!(e.contains("arc.max_sets"), "{e}");
    let e = load("[arc]\nverify = true\ntrusted_sealers = [\"bad..name\"]\n");
    assert!(e.contains("arc.trusted_sealers"), "{e}");
}

#[test]
fn bimi_when_the_settings_ask() {
    let forged = "BIMI-Location: v=BIMI1; l=https://evil.example/x.svg\r\n";
    let original = message("alice@sender.example", true, forged);
    // Off by default: the forged field stays, nothing is added.
    let run_off = run(&settings(""), outside(), "alice@sender.example", &original);
    assert!(
        !run_off
            .edits
            .iter()
            .any(|e| matches!(e, Edit::Remove { .. }))
    );
    assert!(inserted(&run_off, "BIMI-Location").is_empty());

    let run = run(
        &settings("[bimi]\nenabled = true\n"),
        outside(),
        "alice@sender.example",
        &original,
    );
    assert_eq!(run.end, Some(Action::Continue));
    assert!(
        run.edits.contains(&Edit::Remove {
            name: "BIMI-Location".to_owned(),
            occurrence: 1
        }),
        "{:?}",
        run.edits
    );
    assert_eq!(
        inserted(&run, "BIMI-Location"),
        ["v=BIMI1; l=https://images.sender.example/logo.svg"]
    );
    let ar = inserted(&run, "Authentication-Results")[0].replace("\r\n\t", " ");
    assert!(ar.contains("bimi=pass"), "{ar}");
    assert!(run.log.contains(" bimi=pass "), "{}", run.log);
    // The Authentication-Results field ends on top, above BIMI-Location.
    let last = run.edits.last().unwrap();
    assert!(matches!(last, Edit::Insert { name, .. } if name == "Authentication-Results"));
}

#[test]
fn report_paths_are_taken_from_the_settings_folder() {
    let settings = Settings::from_toml(
        "[report]\npath = \"reports.sqlite\"\ndirectory = \"out\"\n",
        "test.toml",
        Path::new("/etc/mailauth"),
    )
    .unwrap();
    assert_eq!(
        settings.report_store_path(),
        Path::new("/etc/mailauth/reports.sqlite")
    );
    assert_eq!(
        settings.report_directory(),
        Some(Path::new("/etc/mailauth/out"))
    );
    let defaults = Settings::from_toml("", "test.toml", Path::new(".")).unwrap();
    assert_eq!(defaults.file().report.period, 86_400);
    assert!(!defaults.file().report.record);
    assert_eq!(defaults.report_directory(), None);
}
