//! Sessions' verdicts recorded through `Store` and read back as the core's
//! report model, on both backends: the records equal those the core's
//! own aggregation makes of the same verdicts.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{BACKENDS, Place};
use mailauth::dns::ZoneResolver;
use mailauth::report::{Feedback, ReportMetadata, Verdict};
use mailauth::session::{Client, Session, Settings};
use mailauth_store::{Connect, RecorderConfig, Store};

const NOW: u64 = 1_700_000_000; // 2023-11-14T22:13:20Z
const DAY_START: u64 = 1_699_920_000;

fn zone() -> ZoneResolver {
    ZoneResolver::from_zone_text(
        "$ORIGIN sender.example.\n\
         @ 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n\
         _dmarc 300 IN TXT \"v=DMARC1; p=none; rua=mailto:dmarc@sender.example\"\n",
    )
    .expect("zone")
}

/// One message from `ip` through a whole session; its report verdict.
fn session_verdict(settings: &Arc<Settings>, ip: &str, time: u64) -> Verdict {
    let zone = zone();
    let mut session = Session::new(settings.clone(), Client::new(ip.parse().unwrap()), time);
    session.helo("mx.sender.example");
    session.drive(&zone);
    session.mail_from("alice@sender.example");
    session.drive(&zone);
    session.rcpt("bob@example.net");
    session.drive(&zone);
    session.message(b"From: Alice <alice@sender.example>\r\nSubject: hi\r\n\r\nHello.\r\n");
    session.end_of_message();
    session.drive(&zone);
    session.report_verdict().expect("a verdict")
}

#[test]
fn recorded_sessions_read_back_as_the_model() {
    let settings = Arc::new(
        Settings::from_toml(
            "authserv_id = \"mx.example.net\"\ninternal_hosts = []\n[spf]\nmail_from_reject = \"false\"\n",
            "test.toml",
            std::path::Path::new("."),
        )
        .unwrap(),
    );
    let mut verdicts = Vec::new();
    for i in 0..3 {
        verdicts.push(session_verdict(&settings, "192.0.2.1", NOW + i));
    }
    for i in 0..2 {
        verdicts.push(session_verdict(&settings, "203.0.113.5", NOW + i));
    }
    let expected = Feedback::from_verdicts(
        ReportMetadata::new("org", "r@example.net", "id", Default::default()),
        &verdicts,
    )
    .unwrap();
    assert_eq!(expected.records.len(), 2);

    for backend in BACKENDS {
        let place = Place::new(backend);
        let connect: Connect = {
            let place = place.clone();
            Box::new(move || Ok(place.open()))
        };
        let store = Store::with(connect, RecorderConfig::default()).unwrap();
        for verdict in &verdicts {
            assert!(store.record(verdict.clone()));
        }
        assert!(store.flush(Duration::from_secs(30)));
        let mut db = place.open();
        let due = db.due(DAY_START + 86_400, DAY_START + 86_400).unwrap();
        assert_eq!(due.len(), 1, "{backend:?}");
        assert_eq!(due[0].policy_domain, "sender.example");
        let report = db
            .load_report(due[0].period.start, "sender.example")
            .unwrap()
            .unwrap();
        assert_eq!(report.period.start, DAY_START);
        assert_eq!(report.message_count(), 5);
        assert_eq!(
            report.aggregate_report_uris,
            vec!["mailto:dmarc@sender.example".to_owned()]
        );
        assert_eq!(report.policy_published, expected.policy_published);
        let mut got = report.records.clone();
        let mut want = expected.records.clone();
        got.sort_by_key(|r| r.key());
        want.sort_by_key(|r| r.key());
        assert_eq!(got, want, "{backend:?}");
        let feedback = report.feedback("Example Org", "dmarc@example.net", "rid-1");
        assert_eq!(feedback.metadata.date_range.begin, DAY_START);
        assert_eq!(feedback.metadata.date_range.end, DAY_START + 86_399);
        assert_eq!(feedback.message_count(), 5);
    }
}
