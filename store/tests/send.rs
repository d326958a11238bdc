//! `mailauth-report send` end to end on an SQLite store: the report e-mail
//! of each ended period written to a folder (read back with the core's
//! report reader) or piped to a sendmail command; a period is reported
//! once, and a failed send is tried again at the next run.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use mailauth::dns::ZoneResolver;
use mailauth::report::read::{ReadLimits, read_aggregate};
use mailauth::session::{Client, Session, Settings};
use mailauth_store::Store;

const NOW: u64 = 1_700_000_000; // 2023-11-14T22:13:20Z
const DAY_START: u64 = 1_699_920_000;
const LATER: u64 = DAY_START + 2 * 86_400;

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mailauth-send-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A settings file in `dir` with `extra` lines in `[report]`.
fn settings_file(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("mailauth.toml");
    std::fs::write(
        &path,
        format!(
            "authserv_id = \"mx.example.net\"\ninternal_hosts = []\n\
             [spf]\nmail_from_reject = \"false\"\n\
             [report]\nrecord = true\npath = \"reports.sqlite\"\n\
             org_name = \"Example Net\"\nemail = \"dmarc-reports@example.net\"\n{extra}"
        ),
    )
    .unwrap();
    path
}

/// Records `count` messages from `ip` into the settings' store.
fn record(settings_path: &Path, messages: &[(&str, u64)]) {
    let settings = Arc::new(Settings::from_file(settings_path).unwrap());
    let zone = ZoneResolver::from_zone_text(
        "$ORIGIN sender.example.\n\
         @ 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n\
         _dmarc 300 IN TXT \"v=DMARC1; p=none; rua=mailto:dmarc@sender.example\"\n",
    )
    .unwrap();
    let store = Store::open(&settings).unwrap();
    for (ip, count) in messages {
        for _ in 0..*count {
            let mut session = Session::new(settings.clone(), Client::new(ip.parse().unwrap()), NOW);
            session.helo("mx.sender.example");
            session.drive(&zone);
            session.mail_from("alice@sender.example");
            session.drive(&zone);
            session.rcpt("bob@example.net");
            session.drive(&zone);
            session.message(b"From: <alice@sender.example>\r\nSubject: x\r\n\r\nhi\r\n");
            session.end_of_message();
            session.drive(&zone);
            assert!(store.record_session(&session));
        }
    }
    assert!(store.flush(Duration::from_secs(30)));
    store.close();
}

fn send(settings: &Path, args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_mailauth-report"))
        .arg("send")
        .arg("--settings")
        .arg(settings)
        .args(["--now", &LATER.to_string()])
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[test]
fn reports_are_written_once_to_a_folder() {
    let dir = folder("dir");
    let settings = settings_file(&dir, "");
    record(&settings, &[("192.0.2.1", 3), ("203.0.113.5", 2)]);
    let out = dir.join("out");
    let (code, text) = send(&settings, &["--dir", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    let files: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
    assert_eq!(
        name,
        format!("sender.example!{DAY_START}!{}.eml", DAY_START + 86_400)
    );
    let message = std::fs::read(&files[0]).unwrap();
    let text_message = String::from_utf8_lossy(&message);
    assert!(
        text_message.contains("dmarc@sender.example"),
        "{text_message}"
    );
    let reports = read_aggregate(&message, &ReadLimits::default()).unwrap();
    assert_eq!(reports.len(), 1);
    let report = &reports[0];
    assert_eq!(report.policy_published.domain, "sender.example");
    assert_eq!(report.metadata.org_name, "Example Net");
    assert_eq!(report.metadata.date_range.begin, DAY_START);
    assert_eq!(report.message_count(), 5);
    let mut counts: Vec<_> = report
        .records
        .iter()
        .map(|r| (r.row.source_ip.to_string(), r.row.count))
        .collect();
    counts.sort();
    assert_eq!(
        counts,
        vec![("192.0.2.1".to_owned(), 3), ("203.0.113.5".to_owned(), 2)]
    );
    // Reported: a second run sends nothing.
    let again = dir.join("again");
    let (code, text) = send(&settings, &["--dir", again.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert!(!again.exists() || std::fs::read_dir(&again).unwrap().next().is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failed_send_is_tried_again_next_run() {
    let dir = folder("sendmail");
    // A sendmail that fails, then one that keeps the message.
    let settings = settings_file(&dir, "sendmail = \"/bin/false -t\"\n");
    record(&settings, &[("192.0.2.1", 1)]);
    let (code, text) = send(&settings, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("tried again next run"), "{text}");
    let script = dir.join("sendmail");
    let kept = dir.join("sent.eml");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = -t ] || exit 64\ncat > '{}'\n",
            kept.display()
        ),
    )
    .unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    let settings = settings_file(&dir, &format!("sendmail = \"{} -t\"\n", script.display()));
    let (code, text) = send(&settings, &[]);
    assert_eq!(code, 0, "{text}");
    let message = std::fs::read(&kept).unwrap();
    let reports = read_aggregate(&message, &ReadLimits::default()).unwrap();
    assert_eq!(reports[0].message_count(), 1);
    std::fs::remove_file(&kept).unwrap();
    let (code, text) = send(&settings, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(!kept.exists(), "sent twice");
    let _ = std::fs::remove_dir_all(&dir);
}
