//! Failure reports: the `fo=` decision, the AFRF rendering with
//! redaction, and the rate limiter.

use std::net::IpAddr;

use mailauth::dns::ZoneResolver;
use mailauth::inbound::{self, Connection, Inbound};
use mailauth::report::failure::{
    AuthFailure, FailureParams, RateLimiter, Redaction, failure_report, failures_to_report,
    parse_failure_options,
};
use mailauth::report::{AlignedResult, Verdict};

const MESSAGE: &[u8] = b"From: alice@example.com\r\nTo: bob@example.net\r\nSubject: secret plans\r\nX-Internal: 42\r\n\r\nbody text\r\n";

fn verdict() -> Verdict {
    let zone = ZoneResolver::from_zone_text(
        "$ORIGIN example.com.\n\
         _dmarc 300 IN TXT \"v=DMARC1; p=reject; ruf=mailto:ruf@example.com; fo=1:d:s\"\n\
         @ 300 IN TXT \"v=spf1 -all\"\n",
    )
    .expect("zone");
    let ip: IpAddr = "192.0.2.9".parse().expect("address");
    let connection = Connection::new(ip, "mx.example.org", "alice@example.com");
    let config = inbound::Config::new("mx.example.net", 1_700_000_000);
    let mut inbound = Inbound::new(&connection, &config);
    inbound.feed(MESSAGE);
    let result = mailauth::resolve(inbound.finish(), &zone);
    Verdict::from_inbound(&result, &connection, Some("example.net"), 1_700_000_000)
        .expect("a verdict to report")
}

#[test]
fn fo_decides_which_reports() {
    let v = verdict();
    assert_eq!(v.dkim_aligned, AlignedResult::Fail);
    assert_eq!(v.spf_aligned, AlignedResult::Fail);
    assert_eq!(v.policy_published.failure_options.as_deref(), Some("1:d:s"));
    let fo = parse_failure_options(v.policy_published.failure_options.as_deref());
    // No DKIM signature: nothing failed DKIM evaluation; SPF failed.
    assert_eq!(
        failures_to_report(&fo, &v),
        vec![AuthFailure::Dmarc, AuthFailure::Spf]
    );
    let mut pass_spf = v.clone();
    pass_spf.spf_aligned = AlignedResult::Pass;
    let zero = parse_failure_options(Some("0"));
    let one = parse_failure_options(Some("1"));
    assert!(failures_to_report(&zero, &pass_spf).is_empty());
    assert_eq!(
        failures_to_report(&one, &pass_spf),
        vec![AuthFailure::Dmarc]
    );
    assert_eq!(
        failures_to_report(&parse_failure_options(None), &v),
        vec![AuthFailure::Dmarc]
    );
    let mut both = pass_spf;
    both.dkim_aligned = AlignedResult::Pass;
    assert!(failures_to_report(&one, &both).is_empty());
}

fn params(redaction: Redaction) -> FailureParams {
    let mut p = FailureParams {
        from: "dmarc-noreply@example.net".into(),
        to: vec!["ruf@example.com".into()],
        message_id: "fr-1@example.net".into(),
        date: "Tue, 14 Nov 2023 22:13:20 +0000".into(),
        arrival_date: "Tue, 14 Nov 2023 22:13:20 +0000".into(),
        user_agent: "mailauth/0.1".into(),
        boundary: "=_fr_boundary".into(),
        authentication_results: "mx.example.net; dmarc=fail header.from=example.com".into(),
        redaction: Redaction::default(),
    };
    p.redaction = redaction;
    p
}

#[test]
fn afrf_rendering_and_redaction() {
    let v = verdict();
    let text = failure_report(
        &v,
        &[AuthFailure::Dmarc],
        MESSAGE,
        &params(Redaction::default()),
    )
    .unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("Content-Type: multipart/report; report-type=feedback-report;"));
    assert!(text.contains("\r\nFeedback-Type: auth-failure\r\n"));
    assert!(text.contains("\r\nAuth-Failure: dmarc\r\n"));
    assert!(text.contains("\r\nSource-IP: 192.0.2.9\r\n"));
    assert!(text.contains("\r\nReported-Domain: example.com\r\n"));
    assert!(text.contains("\r\nIdentity-Alignment: none\r\n"));
    assert!(text.contains("Content-Type: text/rfc822-headers"));
    assert!(text.contains("Subject: secret plans"));
    assert!(!text.contains("body text"), "body omitted by default");
    let mut redaction = Redaction::default();
    redaction.drop_fields = vec!["x-internal".into()];
    redaction.redact_fields = vec!["SUBJECT".into()];
    redaction.include_body = true;
    let text = String::from_utf8(
        failure_report(&v, &[AuthFailure::Dmarc], MESSAGE, &params(redaction)).unwrap(),
    )
    .unwrap();
    assert!(!text.contains("X-Internal"));
    assert!(text.contains("Subject: [redacted]"));
    assert!(!text.contains("secret plans"));
    assert!(text.contains("Content-Type: message/rfc822"));
    assert!(text.contains("body text"));
    // A header value with a line break is refused.
    let mut bad = params(Redaction::default());
    bad.message_id = "x\r\nBcc: victim@example.org".into();
    assert!(failure_report(&v, &[AuthFailure::Dmarc], MESSAGE, &bad).is_err());
    assert!(failure_report(&v, &[], MESSAGE, &params(Redaction::default())).is_err());
}

#[test]
fn rate_limiter_per_destination() {
    let mut limiter = RateLimiter::new(3600, 2, 2);
    assert!(limiter.allow("ruf@a.example", 1000));
    assert!(limiter.allow("RUF@a.example", 1001));
    assert!(!limiter.allow("ruf@a.example", 1002));
    assert!(limiter.allow("ruf@b.example", 1002));
    // A third destination evicts the oldest window.
    assert!(limiter.allow("ruf@c.example", 1003));
    assert_eq!(limiter.len(), 2);
    // A new window opens after an hour.
    assert!(limiter.allow("ruf@b.example", 4602));
    assert!(limiter.allow("ruf@b.example", 4603));
    assert!(!limiter.allow("ruf@b.example", 4604));
}

#[test]
fn verdict_from_inbound() {
    let v = verdict();
    assert_eq!(v.time, 1_700_000_000);
    assert_eq!(v.header_from, "example.com");
    assert_eq!(v.envelope_from.as_deref(), Some("example.com"));
    assert_eq!(v.envelope_to.as_deref(), Some("example.net"));
    assert_eq!(v.report_key(), "example.com");
    assert_eq!(v.dmarc_result, mailauth::dmarc::DmarcResult::Fail);
    assert_eq!(v.disposition, mailauth::report::Disposition::Reject);
    assert_eq!(v.failure_report_uris, ["mailto:ruf@example.com"]);
    assert_eq!(v.spf.len(), 1);
    assert_eq!(v.spf[0].domain, "example.com");
    assert_eq!(v.spf[0].scope, Some(mailauth::report::SpfScope::MailFrom));
    assert_eq!(
        v.spf[0].result,
        mailauth::report::aggregate::SpfResult::Fail
    );

    // A DKIM signature that cannot verify is recorded with its domain and
    // selector; a null sender has no envelope domain.
    let signed = [
        &b"DKIM-Signature: v=1; a=rsa-sha256; d=Example.COM; s=sel2024; h=from;\r\n bh=AAAA; b=AAAA\r\n"[..],
        MESSAGE,
    ]
    .concat();
    let zone = ZoneResolver::from_zone_text(
        "$ORIGIN example.com.\n_dmarc 300 IN TXT \"v=DMARC1; p=none; t=y\"\n",
    )
    .expect("zone");
    let ip: IpAddr = "2001:db8::7".parse().expect("address");
    let connection = Connection::new(ip, "mx.example.org", "<>");
    let config = inbound::Config::new("mx.example.net", 1_700_000_000);
    let mut inbound = Inbound::new(&connection, &config);
    inbound.feed(&signed);
    let result = mailauth::resolve(inbound.finish(), &zone);
    let v = Verdict::from_inbound(&result, &connection, None, 1_700_000_001).expect("verdict");
    assert_eq!(v.source_ip, ip);
    assert_eq!(v.envelope_from, None);
    assert_eq!(v.dkim.len(), 1);
    assert_eq!(v.dkim[0].domain, "example.com");
    assert_eq!(v.dkim[0].selector.as_deref(), Some("sel2024"));
    assert_ne!(
        v.dkim[0].result,
        mailauth::report::aggregate::DkimResult::Pass
    );
    assert_eq!(v.policy_published.testing, Some(true));

    // Without a DMARC record there is nothing to report.
    let empty = ZoneResolver::new();
    let mut inbound = Inbound::new(&connection, &config);
    inbound.feed(MESSAGE);
    let result = mailauth::resolve(inbound.finish(), &empty);
    assert_eq!(Verdict::from_inbound(&result, &connection, None, 0), None);
}
