#![allow(clippy::unwrap_used)]

use super::*;
use crate::dkim::TagError;
use crate::dkim::verify::DkimResult;
use crate::dmarc::{Discovery, DkimAuth, Sample};
use crate::dns::{Resolver, ZoneResolver};

fn name(text: &str) -> Name {
    Name::new(text).unwrap()
}

/// TXT records: (owner, text).
type Records<'a> = Vec<(&'a str, &'a str)>;
/// Fields, aligned DKIM domains, the selector used, why the field was not.
type SelectorCase<'a> = (
    Vec<HeaderField>,
    &'a [Name],
    &'a str,
    Option<IgnoredSelector>,
);
/// DMARC records, author, DMARC settings, the requirements not met.
type RequirementCase<'a> = (Records<'a>, &'a str, &'a dmarc::Config, Vec<Unmet>);
/// Records, author, selector, result, `header.d`.
type DiscoveryCase<'a> = (Records<'a>, &'a str, &'a str, BimiResult, Option<&'a str>);

const LOGO: &str = "https://images.example.org/logo.svg";
const VMC: &str = "https://images.example.org/vmc.pem";

#[test]
fn record_syntax() {
    let config = Config::default();
    let valid: &[(&str, &[&str], Option<&str>, bool)] = &[
        (&format!("v=BIMI1; l={LOGO}"), &[LOGO], None, false),
        (&format!("v=BIMI1; l={LOGO};"), &[LOGO], None, false),
        (
            &format!("v = BIMI1 ;l= {LOGO} ; a={VMC}"),
            &[LOGO],
            Some(VMC),
            false,
        ),
        (
            &format!("v=BIMI1; a={VMC}; l={LOGO}"),
            &[LOGO],
            Some(VMC),
            false,
        ),
        (&format!("v=BIMI1; l={LOGO}; a="), &[LOGO], None, false),
        // Evidence only: the Indicator comes from the evidence document.
        (&format!("v=BIMI1; l=; a={VMC}"), &[], Some(VMC), false),
        // Declination to Publish.
        ("v=BIMI1; l=; a=;", &[], None, true),
        ("v=BIMI1; l=", &[], None, true),
        // Unknown tags are ignored; the scheme and host compare without
        // regard to case.
        (
            "v=BIMI1; x=whatever; l=HTTPS://Images.Example.ORG:443/a.svg?x=1",
            &["HTTPS://Images.Example.ORG:443/a.svg?x=1"],
            None,
            false,
        ),
    ];
    for (text, locations, evidence, declination) in valid {
        let record =
            Record::parse(text.as_bytes(), &config).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(record.locations, *locations, "{text}");
        assert_eq!(record.evidence.as_deref(), *evidence, "{text}");
        assert_eq!(record.is_declination(), *declination, "{text}");
    }
    let bad_uri = |tag, uri: &str, problem| RecordError::BadUri {
        tag,
        uri: uri.to_owned(),
        problem,
    };
    let long = format!("v=BIMI1; l={LOGO}; x={}", "y".repeat(2048));
    let malformed: Vec<(String, RecordError)> = vec![
        ("".into(), RecordError::NotBimi),
        ("l=; v=BIMI1".into(), RecordError::NotBimi),
        ("v=bimi1; l=".into(), RecordError::NotBimi),
        ("v=BIMI2; l=".into(), RecordError::NotBimi),
        ("v=BIMI10; l=".into(), RecordError::NotBimi),
        (long, RecordError::TooLong { limit: 2048 }),
        ("v=BIMI1".into(), RecordError::MissingLocation),
        (format!("v=BIMI1; L={LOGO}"), RecordError::MissingLocation),
        (
            format!("v=BIMI1; l={LOGO}; l={LOGO}"),
            RecordError::Tags(TagError::DuplicateTag { name: "l".into() }),
        ),
        (
            format!("v=BIMI1;; l={LOGO}"),
            RecordError::Tags(TagError::EmptyTagSpec { offset: 8 }),
        ),
        (
            "v=BIMI1; l=http://images.example.org/logo.svg".into(),
            bad_uri(
                "l",
                "http://images.example.org/logo.svg",
                UriError::NotHttps,
            ),
        ),
        (
            "v=BIMI1; l=images.example.org/logo.svg".into(),
            bad_uri("l", "images.example.org/logo.svg", UriError::NotHttps),
        ),
        (
            "v=BIMI1; l=https://192.0.2.1/logo.svg".into(),
            bad_uri("l", "https://192.0.2.1/logo.svg", UriError::BadHost),
        ),
        (
            "v=BIMI1; l=https://localhost/logo.svg".into(),
            bad_uri("l", "https://localhost/logo.svg", UriError::BadHost),
        ),
        (
            "v=BIMI1; l=https:///logo.svg".into(),
            bad_uri("l", "https:///logo.svg", UriError::BadHost),
        ),
        (
            "v=BIMI1; l=https://[2001:db8::1]/logo.svg".into(),
            bad_uri("l", "https://[2001:db8::1]/logo.svg", UriError::BadHost),
        ),
        (
            "v=BIMI1; l=https://user@images.example.org/logo.svg".into(),
            bad_uri(
                "l",
                "https://user@images.example.org/logo.svg",
                UriError::InvalidCharacter,
            ),
        ),
        (
            "v=BIMI1; l=https://images.example.org/a logo.svg".into(),
            bad_uri(
                "l",
                "https://images.example.org/a logo.svg",
                UriError::InvalidCharacter,
            ),
        ),
        (
            format!("v=BIMI1; l={LOGO},{LOGO}"),
            RecordError::TooManyLocations { limit: 1 },
        ),
        (
            format!("v=BIMI1; l={LOGO}; a=http://images.example.org/vmc.pem"),
            bad_uri("a", "http://images.example.org/vmc.pem", UriError::NotHttps),
        ),
        (
            format!("v=BIMI1; l={LOGO}; lps=yes"),
            RecordError::BadLocalPartSelector,
        ),
        (
            "v=BIMI1; l=https://images.example.org/\u{e9}.svg".into(),
            bad_uri(
                "l",
                "https://images.example.org/\u{e9}.svg",
                UriError::InvalidCharacter,
            ),
        ),
    ];
    for (text, error) in &malformed {
        assert_eq!(
            Record::parse(text.as_bytes(), &config).as_ref(),
            Err(error),
            "{text}"
        );
    }
    // Not UTF-8 in a URI; a NUL in a value.
    assert!(matches!(
        Record::parse(b"v=BIMI1; l=https://a.example/\xff", &config),
        Err(RecordError::BadUri {
            tag: "l",
            problem: UriError::InvalidCharacter,
            ..
        })
    ));
    assert!(matches!(
        Record::parse(b"v=BIMI1; l=\0", &config),
        Err(RecordError::Tags(TagError::InvalidValue { .. }))
    ));
    // The lists of earlier drafts, when allowed.
    let lists = Config {
        max_location_uris: 3,
        ..Config::default()
    };
    let two = format!("v=BIMI1; l={LOGO}, {VMC}");
    assert_eq!(
        Record::parse(two.as_bytes(), &lists).unwrap().locations,
        [LOGO, VMC]
    );
    assert!(matches!(
        Record::parse(format!("v=BIMI1; l={LOGO},,{LOGO}").as_bytes(), &lists),
        Err(RecordError::BadUri {
            problem: UriError::Empty,
            ..
        })
    ));
    assert!(matches!(
        Record::parse(
            format!("v=BIMI1; l={LOGO},{LOGO},{LOGO},{LOGO}").as_bytes(),
            &lists
        ),
        Err(RecordError::TooManyLocations { limit: 3 })
    ));
    let with = Record::parse(
        format!("v=BIMI1; l={LOGO}; lps=true; avp=personal").as_bytes(),
        &config,
    )
    .unwrap();
    assert!(with.local_part_selector);
    assert_eq!(with.avatar_preference, Some(AvatarPreference::Personal));
    let odd = Record::parse(format!("v=BIMI1; l={LOGO}; avp=odd").as_bytes(), &config).unwrap();
    assert_eq!(odd.avatar_preference, None);
    println!(
        "{} valid and {} malformed records checked",
        valid.len(),
        malformed.len()
    );
}

#[test]
fn selector_field() {
    let ok: &[(&[u8], &str)] = &[
        (b"v=BIMI1; s=brand;", "brand"),
        (b" v=BIMI1;s=brand", "brand"),
        (b"V=bimi1; S=Brand.2024", "Brand.2024"),
        (b"v=BIMI1;\r\n\ts=a-b.c; x=y", "a-b.c"),
    ];
    for (value, selector) in ok {
        assert_eq!(
            parse_selector_field(value).unwrap().as_str(),
            *selector,
            "{}",
            String::from_utf8_lossy(value)
        );
    }
    let bad: &[(&[u8], SelectorError)] = &[
        (b"s=brand;", SelectorError::VersionNotFirst),
        (b"s=brand; v=BIMI1", SelectorError::VersionNotFirst),
        (b"", SelectorError::VersionNotFirst),
        (b"v=BIMI2; s=brand", SelectorError::UnsupportedVersion),
        (b"v=BIMI1", SelectorError::MissingSelector),
        (b"v=BIMI1; s=", SelectorError::InvalidSelector),
        (b"v=BIMI1; s=-brand", SelectorError::InvalidSelector),
        (b"v=BIMI1; s=a..b", SelectorError::InvalidSelector),
        (b"v=BIMI1; s=a_b", SelectorError::InvalidSelector),
        (b"v=BIMI1; s=a b", SelectorError::InvalidSelector),
        (b"v=BIMI1; s=\xc3\xa9", SelectorError::InvalidSelector),
        (
            b"v=BIMI1; s=a; S=b",
            SelectorError::DuplicateTag(String::new()),
        ),
        (
            b"v=BIMI1; s=a;; x",
            SelectorError::Tags(TagError::EmptyTagSpec { offset: 13 }),
        ),
    ];
    for (value, error) in bad {
        let got = parse_selector_field(value);
        match (error, &got) {
            (SelectorError::DuplicateTag(_), Err(SelectorError::DuplicateTag(name))) => {
                assert_eq!(name, "s");
            }
            _ => assert_eq!(
                got.as_ref(),
                Err(error),
                "{}",
                String::from_utf8_lossy(value)
            ),
        }
    }
    assert!(Selector::new(&"a".repeat(64)).is_err());
    assert_eq!(Selector::default().as_str(), "default");
    // A selector too long to fit in front of the domain.
    let long = Selector::new(&vec!["a".repeat(63); 3].join(".")).unwrap();
    assert_eq!(long.record_name(&name(&"b.".repeat(60))), None);
    println!(
        "{} valid and {} invalid selector fields",
        ok.len(),
        bad.len()
    );
}

fn field(raw: &str) -> HeaderField {
    HeaderField::from_raw(raw.as_bytes().to_vec())
}

#[test]
fn message_selector_needs_an_aligned_signature() {
    let config = Config::default();
    let aligned = [name("example.org")];
    let signed = field(
        "DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s; h=from:bimi-selector; bh=AAAA; b=AAAA",
    );
    let signed_elsewhere = field(
        "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; h=from:bimi-selector; bh=AAAA; b=AAAA",
    );
    let not_covering =
        field("DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s; h=from; bh=AAAA; b=AAAA");
    let selector = field("BIMI-Selector: v=BIMI1; s=brand");
    let cases: Vec<SelectorCase> = vec![
        (vec![], &aligned, "default", None),
        (
            vec![signed.clone(), selector.clone()],
            &aligned,
            "brand",
            None,
        ),
        (
            vec![signed_elsewhere, selector.clone()],
            &aligned,
            "default",
            Some(IgnoredSelector::Unsigned),
        ),
        (
            vec![not_covering, selector.clone()],
            &aligned,
            "default",
            Some(IgnoredSelector::Unsigned),
        ),
        (
            vec![signed.clone(), selector.clone()],
            &[],
            "default",
            Some(IgnoredSelector::Unsigned),
        ),
        (
            vec![signed.clone(), selector.clone(), selector.clone()],
            &aligned,
            "default",
            Some(IgnoredSelector::Several { count: 2 }),
        ),
        (
            vec![signed.clone(), field("BIMI-Selector: s=brand")],
            &aligned,
            "default",
            Some(IgnoredSelector::Invalid(SelectorError::VersionNotFirst)),
        ),
    ];
    for (i, (fields, aligned, expected, ignored)) in cases.iter().enumerate() {
        let choice = message_selector(fields, aligned, &config);
        assert_eq!(choice.selector.as_str(), *expected, "case {i}");
        assert_eq!(&choice.ignored, ignored, "case {i}");
    }
    let trusting = Config {
        require_signed_selector: false,
        ..Config::default()
    };
    assert_eq!(
        message_selector(&[selector], &[], &trusting)
            .selector
            .as_str(),
        "brand"
    );
}

#[test]
fn receiver_fields_are_listed_for_removal() {
    let fields = [
        field("BIMI-Location: v=BIMI1; l=https://evil.example/x.svg"),
        field("From: a@example.org"),
        field("bimi-indicator: PHN2Zz4="),
        field("BIMI-Location: v=BIMI1; l=https://evil.example/y.svg"),
        field("BIMI-Selector: v=BIMI1; s=brand"),
        field("BIMI-Logo-Preference: avp=personal"),
    ];
    let found = receiver_fields(&fields);
    let summary: Vec<(usize, &str, usize)> = found
        .iter()
        .map(|f| (f.position, f.name, f.occurrence))
        .collect();
    assert_eq!(
        summary,
        [
            (0, LOCATION_FIELD, 1),
            (2, INDICATOR_FIELD, 1),
            (3, LOCATION_FIELD, 2),
            (5, LOGO_PREFERENCE_FIELD, 1),
        ]
    );
}

/// The DMARC outcome for mail from `author` signed (passing or not) by
/// `signer`, against `zone`.
fn dmarc_outcome(
    zone: &ZoneResolver,
    author: &str,
    signer: &str,
    dkim: DkimResult,
    config: &dmarc::Config,
) -> dmarc::Outcome {
    let author = name(author);
    let signer = name(signer);
    let lookup = crate::resolve(
        Discovery::with_identifiers(&author, std::slice::from_ref(&signer), config),
        zone,
    );
    let auth = [DkimAuth {
        domain: signer,
        result: dkim,
    }];
    dmarc::evaluate(&lookup, None, &auth, config, Sample::ALWAYS)
}

fn check_with(
    zone: &ZoneResolver,
    author: &str,
    dmarc_config: &dmarc::Config,
    selector: &str,
) -> Outcome {
    let dmarc = dmarc_outcome(zone, author, author, DkimResult::Pass, dmarc_config);
    let check = Check::new(
        &dmarc,
        dmarc_config,
        Selector::new(selector).unwrap(),
        &Config::default(),
    );
    crate::resolve(check, zone)
}

fn zone(records: &[(&str, &str)]) -> ZoneResolver {
    let mut zone = ZoneResolver::new();
    for (owner, text) in records {
        zone.add_txt(&name(owner), *text);
    }
    zone
}

#[test]
fn dmarc_requirements() {
    let record = (
        "default._bimi.example.org",
        "v=BIMI1; l=https://a.example/l.svg",
    );
    let rfc9989 = dmarc::Config::default();
    let rfc7489 = dmarc::Config::rfc7489();
    let org = || name("example.org");
    // (DMARC records, author, DMARC mode, the requirements not met)
    let cases: Vec<RequirementCase> = vec![
        (
            vec![("_dmarc.example.org", "v=DMARC1; p=reject")],
            "example.org",
            &rfc9989,
            vec![],
        ),
        (
            vec![("_dmarc.example.org", "v=DMARC1; p=quarantine")],
            "example.org",
            &rfc9989,
            vec![],
        ),
        (
            vec![("_dmarc.example.org", "v=DMARC1; p=quarantine; pct=100")],
            "example.org",
            &rfc7489,
            vec![],
        ),
        (
            vec![("_dmarc.example.org", "v=DMARC1; p=reject; pct=10")],
            "example.org",
            &rfc7489,
            vec![],
        ),
        (
            vec![("_dmarc.example.org", "v=DMARC1; p=none")],
            "example.org",
            &rfc9989,
            vec![Unmet::PolicyNone { domain: org() }],
        ),
        (
            vec![("_dmarc.example.org", "v=DMARC1; p=quarantine; pct=50")],
            "example.org",
            &rfc7489,
            vec![Unmet::PartialQuarantine {
                domain: org(),
                percent: 50,
            }],
        ),
        (
            vec![("_dmarc.example.org", "v=DMARC1; p=reject; sp=none")],
            "example.org",
            &rfc9989,
            vec![Unmet::SubdomainPolicyNone { domain: org() }],
        ),
        (
            vec![("_dmarc.example.org", "v=DMARC1; p=reject; sp=none")],
            "mail.example.org",
            &rfc9989,
            vec![
                Unmet::PolicyNone { domain: org() },
                Unmet::SubdomainPolicyNone { domain: org() },
            ],
        ),
        (
            vec![("_dmarc.example.org", "v=DMARC1; p=reject; t=y")],
            "example.org",
            &rfc9989,
            vec![Unmet::TestMode { domain: org() }],
        ),
        (
            vec![("_dmarc.example.org", "v=DMARC1; p=none; sp=reject")],
            "mail.example.org",
            &rfc9989,
            vec![Unmet::PolicyNone { domain: org() }],
        ),
        (
            vec![],
            "example.org",
            &rfc9989,
            vec![Unmet::DmarcNotPass(DmarcResult::None), Unmet::NoDmarcPolicy],
        ),
        // The author domain's own record is at enforcement, the
        // Organizational Domain's is not: found by one more query.
        (
            vec![
                ("_dmarc.example.org", "v=DMARC1; p=none"),
                ("_dmarc.mail.example.org", "v=DMARC1; p=reject"),
            ],
            "mail.example.org",
            &rfc9989,
            vec![Unmet::PolicyNone { domain: org() }],
        ),
        (
            vec![
                ("_dmarc.example.org", "v=DMARC1; p=reject; sp=none"),
                ("_dmarc.mail.example.org", "v=DMARC1; p=reject"),
            ],
            "mail.example.org",
            &rfc9989,
            vec![Unmet::SubdomainPolicyNone { domain: org() }],
        ),
        (
            vec![
                ("_dmarc.example.org", "v=DMARC1; p=quarantine; pct=20"),
                ("_dmarc.mail.example.org", "v=DMARC1; p=reject"),
            ],
            "mail.example.org",
            &rfc7489,
            vec![Unmet::PartialQuarantine {
                domain: org(),
                percent: 20,
            }],
        ),
    ];
    for (i, (records, author, dmarc_config, unmet)) in cases.iter().enumerate() {
        let mut all = records.clone();
        all.push(record);
        all.push((
            "default._bimi.mail.example.org",
            "v=BIMI1; l=https://a.example/m.svg",
        ));
        let outcome = check_with(&zone(&all), author, dmarc_config, "default");
        if unmet.is_empty() {
            assert_eq!(outcome.result, BimiResult::Pass, "case {i}: {outcome:?}");
        } else {
            assert_eq!(outcome.result, BimiResult::Skipped, "case {i}");
            assert_eq!(outcome.reason, Reason::Skipped(unmet.clone()), "case {i}");
            assert_eq!(outcome.to_method_result().result, "skipped");
            assert_eq!(outcome.location_field(), None);
        }
    }
    // DMARC fails: no BIMI query at all.
    let zone = zone(&[("_dmarc.example.org", "v=DMARC1; p=reject"), record]);
    let dmarc = dmarc_outcome(
        &zone,
        "example.org",
        "example.org",
        DkimResult::Fail,
        &rfc9989,
    );
    let mut check = Check::new(&dmarc, &rfc9989, Selector::default(), &Config::default());
    let Poll::Done(outcome) = check.poll() else {
        panic!("no query expected");
    };
    assert_eq!(
        outcome.reason,
        Reason::Skipped(vec![Unmet::DmarcNotPass(DmarcResult::Fail)])
    );
    assert_eq!(
        crate::authres::AuthenticationResults {
            authserv_id: "mx.example.net".into(),
            version: None,
            results: vec![outcome.to_method_result()],
        }
        .to_header_value(),
        "mx.example.net; bimi=skipped \
         reason=\"not at enforcement or not authenticated: dmarc fail\""
    );
    // No author domain.
    let none = dmarc::Outcome::from_error(&dmarc::FromError::NoFrom);
    assert_eq!(requirements(&none), [Unmet::NoAuthorDomain]);
    println!("{} dmarc requirement cases", cases.len() + 2);
}

#[test]
fn one_author_address() {
    let zone = zone(&[
        ("_dmarc.example.org", "v=DMARC1; p=reject"),
        (
            "default._bimi.example.org",
            "v=BIMI1; l=https://a.example/l.svg",
        ),
    ]);
    let dmarc_config = dmarc::Config::default();
    let dmarc = dmarc_outcome(
        &zone,
        "example.org",
        "example.org",
        DkimResult::Pass,
        &dmarc_config,
    );
    let cases = [
        ("From: a@example.org", BimiResult::Pass),
        ("From: A <a@example.org>", BimiResult::Pass),
        ("From: a@example.org, b@example.org", BimiResult::Skipped),
        (
            "From: a@example.org, b@example.org, c@example.org",
            BimiResult::Skipped,
        ),
        (
            "From: G: a@example.org, b@example.org;",
            BimiResult::Skipped,
        ),
    ];
    for (from, result) in cases {
        let check = Check::from_message(&[field(from)], &dmarc, &dmarc_config, &Config::default());
        let outcome = crate::resolve(check, &zone);
        assert_eq!(outcome.result, result, "{from}");
        if result == BimiResult::Skipped {
            assert_eq!(outcome.reason, Reason::Skipped(vec![Unmet::SeveralAuthors]));
        }
    }
}

#[test]
fn local_part_selectors() {
    let normalized: &[(&str, Option<&str>)] = &[
        ("john", Some("john")),
        ("John.Doe", Some("john-doe")),
        ("john.doe+news", Some("john-doe")),
        ("john__..doe", Some("john-doe")),
        ("_john.", Some("john")),
        ("news-letter", Some("news-letter")),
        ("+tag", None),
        ("._", None),
        ("j\u{f6}rg", None),
        ("a b", None),
        ("a!b", None),
    ];
    for (local_part, selector) in normalized {
        assert_eq!(
            local_part_selector(local_part)
                .as_ref()
                .map(Selector::as_str),
            *selector,
            "{local_part}"
        );
    }
    assert!(local_part_selector(&"a".repeat(63)).is_some());
    assert!(local_part_selector(&"a".repeat(64)).is_none());

    let dmarc_record = ("_dmarc.example.org", "v=DMARC1; p=reject");
    let lps = (
        "default._bimi.example.org",
        "v=BIMI1; l=https://a.example/default.svg; lps=true",
    );
    let declined_lps = ("default._bimi.example.org", "v=BIMI1; l=; a=; lps=true");
    let john = (
        "john-doe._bimi.example.org",
        "v=BIMI1; l=https://a.example/john.svg",
    );
    let broken_john = (
        "john-doe._bimi.example.org",
        "v=BIMI1; l=http://a.example/john.svg",
    );
    // (records, From, selector used, indicator or declined)
    let cases: &[(Records, &str, &str, Option<&str>)] = &[
        (
            vec![lps, john],
            "From: john.doe+x@example.org",
            "john-doe",
            Some("https://a.example/john.svg"),
        ),
        (
            vec![lps],
            "From: john.doe@example.org",
            "default",
            Some("https://a.example/default.svg"),
        ),
        (
            vec![lps, broken_john],
            "From: john.doe@example.org",
            "default",
            Some("https://a.example/default.svg"),
        ),
        (
            vec![lps, john],
            "From: \"j\u{f6}rg\"@example.org",
            "default",
            Some("https://a.example/default.svg"),
        ),
        (
            vec![declined_lps, john],
            "From: john_doe@example.org",
            "john-doe",
            Some("https://a.example/john.svg"),
        ),
        (
            vec![declined_lps],
            "From: john_doe@example.org",
            "default",
            None,
        ),
        // Without lps=true the local part is not looked at.
        (
            vec![
                (
                    "default._bimi.example.org",
                    "v=BIMI1; l=https://a.example/default.svg",
                ),
                john,
            ],
            "From: john.doe@example.org",
            "default",
            Some("https://a.example/default.svg"),
        ),
    ];
    let dmarc_config = dmarc::Config::default();
    for (i, (records, from, selector, indicator)) in cases.iter().enumerate() {
        let mut all = records.clone();
        all.push(dmarc_record);
        let zone = zone(&all);
        let dmarc = dmarc_outcome(
            &zone,
            "example.org",
            "example.org",
            DkimResult::Pass,
            &dmarc_config,
        );
        let check = Check::from_message(&[field(from)], &dmarc, &dmarc_config, &Config::default());
        let outcome = crate::resolve(check, &zone);
        assert_eq!(outcome.selector.as_str(), *selector, "case {i}");
        match indicator {
            Some(uri) => {
                assert_eq!(outcome.result, BimiResult::Pass, "case {i}");
                assert_eq!(outcome.record.unwrap().locations, [*uri], "case {i}");
            }
            None => assert_eq!(outcome.result, BimiResult::Declined, "case {i}"),
        }
    }
    println!(
        "{} normalizations, {} local-part discoveries",
        normalized.len(),
        cases.len()
    );
}

#[test]
fn discovery_and_fallback() {
    let dmarc_record = ("_dmarc.example.org", "v=DMARC1; p=reject");
    let org_record = (
        "default._bimi.example.org",
        "v=BIMI1; l=https://a.example/org.svg",
    );
    let sub_record = (
        "default._bimi.mail.example.org",
        "v=BIMI1; l=https://a.example/sub.svg",
    );
    let brand_org = (
        "brand._bimi.example.org",
        "v=BIMI1; l=https://a.example/brand.svg",
    );
    let declined = ("default._bimi.mail.example.org", "v=BIMI1; l=; a=;");
    let broken = (
        "default._bimi.mail.example.org",
        "v=BIMI1; l=http://a.example/x.svg",
    );
    let other_txt = ("default._bimi.mail.example.org", "v=spf1 -all");
    // (records, author, selector, result, header.d)
    let cases: Vec<DiscoveryCase> = vec![
        (
            vec![org_record],
            "example.org",
            "default",
            BimiResult::Pass,
            Some("example.org"),
        ),
        (
            vec![sub_record, org_record],
            "mail.example.org",
            "default",
            BimiResult::Pass,
            Some("mail.example.org"),
        ),
        // Appendix A.3: the subdomain has none, the Organizational Domain has one.
        (
            vec![org_record],
            "mail.example.org",
            "default",
            BimiResult::Pass,
            Some("example.org"),
        ),
        // A.4 / B.6: a selector falls back to the same selector.
        (
            vec![brand_org, org_record],
            "mail.example.org",
            "brand",
            BimiResult::Pass,
            Some("example.org"),
        ),
        // B.5: no fallback to `default` for another selector.
        (
            vec![org_record],
            "mail.example.org",
            "brand",
            BimiResult::None,
            None,
        ),
        (
            vec![],
            "mail.example.org",
            "default",
            BimiResult::None,
            None,
        ),
        (vec![], "example.org", "default", BimiResult::None, None),
        // Records that are not BIMI are discarded before choosing.
        (
            vec![other_txt, org_record],
            "mail.example.org",
            "default",
            BimiResult::Pass,
            Some("example.org"),
        ),
        // A declination stops the fallback.
        (
            vec![declined, org_record],
            "mail.example.org",
            "default",
            BimiResult::Declined,
            Some("mail.example.org"),
        ),
        // So does a broken record.
        (
            vec![broken, org_record],
            "mail.example.org",
            "default",
            BimiResult::Fail,
            Some("mail.example.org"),
        ),
        (
            vec![sub_record, broken],
            "mail.example.org",
            "default",
            BimiResult::Fail,
            Some("mail.example.org"),
        ),
    ];
    for (i, (records, author, selector, result, domain)) in cases.iter().enumerate() {
        let mut all = records.clone();
        all.push(dmarc_record);
        let outcome = check_with(&zone(&all), author, &dmarc::Config::default(), selector);
        assert_eq!(outcome.result, *result, "case {i}: {outcome:?}");
        assert_eq!(
            outcome.domain.as_ref().map(Name::as_str),
            *domain,
            "case {i}"
        );
        assert_eq!(outcome.selector.as_str(), *selector);
    }
    // Two records at the author domain: fail, no fallback.
    let several = check_with(
        &zone(&[
            dmarc_record,
            sub_record,
            (
                "default._bimi.mail.example.org",
                "v=BIMI1; l=https://a.example/2.svg",
            ),
            org_record,
        ]),
        "mail.example.org",
        &dmarc::Config::default(),
        "default",
    );
    assert_eq!(several.result, BimiResult::Fail);
    assert_eq!(several.reason, Reason::SeveralRecords { count: 2 });
    println!("{} discovery cases", cases.len() + 1);
}

#[test]
fn pass_renders_results_and_location() {
    let zone = zone(&[
        ("_dmarc.example.org", "v=DMARC1; p=reject"),
        (
            "brand._bimi.example.org",
            "v=BIMI1; l=https://images.example.org/logo.svg; a=https://images.example.org/vmc.pem",
        ),
    ]);
    let mut outcome = check_with(
        &zone,
        "mail.example.org",
        &dmarc::Config::default(),
        "brand",
    );
    assert_eq!(outcome.result, BimiResult::Pass);
    let ar = crate::authres::AuthenticationResults {
        authserv_id: "mx.example.net".into(),
        version: None,
        results: vec![outcome.to_method_result()],
    };
    assert_eq!(
        ar.to_header_value(),
        "mx.example.net; bimi=pass header.d=example.org header.selector=brand \
         policy.authority=none \
         policy.authority-uri=\"https://images.example.org/vmc.pem\" \
         policy.indicator-uri=\"https://images.example.org/logo.svg\""
    );
    assert_eq!(
        outcome.location_field().as_deref(),
        Some(
            "v=BIMI1; l=https://images.example.org/logo.svg; a=https://images.example.org/vmc.pem"
        )
    );
    // The caller's Indicator validation failed.
    outcome.reject_indicator("invalid svg");
    assert_eq!(outcome.result, BimiResult::Fail);
    assert_eq!(outcome.location_field(), None);
    assert_eq!(
        outcome.to_method_result().reason.as_deref(),
        Some("indicator rejected: invalid svg")
    );
}

/// A resolver answering `failing` with `answer`, the zone otherwise.
struct Failing<'a> {
    zone: &'a ZoneResolver,
    failing: Name,
    answer: Answer,
}

impl Resolver for Failing<'_> {
    fn lookup_with_ttl(&self, query: &Query) -> (Answer, Option<u32>) {
        if query.name == self.failing {
            (self.answer.clone(), None)
        } else {
            self.zone.lookup_with_ttl(query)
        }
    }
}

#[test]
fn dns_failures() {
    let base = zone(&[
        ("_dmarc.example.org", "v=DMARC1; p=reject"),
        ("_dmarc.mail.example.org", "v=DMARC1; p=reject"),
        (
            "default._bimi.example.org",
            "v=BIMI1; l=https://a.example/l.svg",
        ),
    ]);
    let dmarc_config = dmarc::Config::default();
    let dmarc = dmarc_outcome(
        &base,
        "mail.example.org",
        "mail.example.org",
        DkimResult::Pass,
        &dmarc_config,
    );
    assert_eq!(dmarc.result, DmarcResult::Pass);
    // (failing name, answer, result)
    let cases = [
        (
            "default._bimi.mail.example.org",
            Answer::TempFail(Failure::Timeout),
            BimiResult::TempError,
        ),
        (
            "default._bimi.mail.example.org",
            Answer::TempFail(Failure::ServerFailure),
            BimiResult::TempError,
        ),
        (
            "default._bimi.mail.example.org",
            Answer::PermFail(Failure::Refused),
            BimiResult::Fail,
        ),
        (
            "default._bimi.mail.example.org",
            Answer::NxDomain,
            BimiResult::Pass,
        ),
        (
            "default._bimi.mail.example.org",
            Answer::NoData,
            BimiResult::Pass,
        ),
        (
            "default._bimi.example.org",
            Answer::TempFail(Failure::Timeout),
            BimiResult::TempError,
        ),
        (
            "default._bimi.example.org",
            Answer::PermFail(Failure::Other),
            BimiResult::Fail,
        ),
        (
            "default._bimi.example.org",
            Answer::NxDomain,
            BimiResult::None,
        ),
        // The Organizational Domain's DMARC record.
        (
            "_dmarc.example.org",
            Answer::TempFail(Failure::Timeout),
            BimiResult::TempError,
        ),
        ("_dmarc.example.org", Answer::NxDomain, BimiResult::Pass),
        (
            "_dmarc.example.org",
            Answer::PermFail(Failure::Other),
            BimiResult::Pass,
        ),
    ];
    for (i, (failing, answer, result)) in cases.iter().enumerate() {
        let resolver = Failing {
            zone: &base,
            failing: name(failing),
            answer: answer.clone(),
        };
        let check = Check::new(
            &dmarc,
            &dmarc_config,
            Selector::default(),
            &Config::default(),
        );
        let outcome = crate::resolve(check, &resolver);
        assert_eq!(outcome.result, *result, "case {i}: {outcome:?}");
        if let Reason::DnsFailure { name: failed, .. } = &outcome.reason {
            assert_eq!(failed, &name(failing));
        }
    }
    // A timeout from the zone itself.
    let mut timing_out = base.clone();
    timing_out.set_timeout(&name("default._bimi.mail.example.org"));
    let check = Check::new(
        &dmarc,
        &dmarc_config,
        Selector::default(),
        &Config::default(),
    );
    assert_eq!(
        crate::resolve(check, &timing_out).result,
        BimiResult::TempError
    );
    println!("{} dns failure cases", cases.len() + 1);
}

#[test]
fn the_machine_asks_one_query_at_a_time_and_refuses_others() {
    let zone = zone(&[
        ("_dmarc.example.org", "v=DMARC1; p=reject"),
        (
            "default._bimi.example.org",
            "v=BIMI1; l=https://a.example/l.svg",
        ),
    ]);
    let dmarc_config = dmarc::Config::default();
    let dmarc = dmarc_outcome(
        &zone,
        "mail.example.org",
        "mail.example.org",
        DkimResult::Pass,
        &dmarc_config,
    );
    let mut check = Check::new(
        &dmarc,
        &dmarc_config,
        Selector::default(),
        &Config::default(),
    );
    let mut asked = Vec::new();
    loop {
        match check.poll() {
            Poll::Lookups(queries) => {
                assert_eq!(queries.len(), 1);
                // Polling again asks the same.
                assert_eq!(check.poll(), Poll::Lookups(queries.clone()));
                let stray = Query::txt(name("stray.example"));
                assert!(check.supply(&stray, Answer::NoData).is_err());
                let answer = zone.lookup(&queries[0]);
                check.supply(&queries[0], answer).unwrap();
                asked.push(queries[0].name.to_string());
            }
            Poll::Done(outcome) => {
                assert_eq!(outcome.result, BimiResult::Pass);
                break;
            }
        }
    }
    assert_eq!(
        asked,
        [
            "default._bimi.mail.example.org",
            "default._bimi.example.org"
        ]
    );
}

#[test]
fn hostile_records_are_bounded() {
    let config = Config::default();
    let huge = format!("v=BIMI1; l={}", "https://a.example/x.svg,".repeat(100_000));
    assert_eq!(
        Record::parse(huge.as_bytes(), &config),
        Err(RecordError::TooLong { limit: 2048 })
    );
    let wide = Config {
        max_record_bytes: usize::MAX,
        ..Config::default()
    };
    assert_eq!(
        Record::parse(huge.as_bytes(), &wide),
        Err(RecordError::TooManyLocations { limit: 1 })
    );
    for bytes in [
        &b"v=BIMI1; l=\xff\xfe"[..],
        b"v=BIMI1\0",
        b"v",
        b"v=",
        b"v=BIMI1;=",
        b";;;",
    ] {
        // Any outcome but a panic.
        let _ = Record::parse(bytes, &config);
        let _ = parse_selector_field(bytes);
    }
}

#[test]
fn ignored_selector_reads_as_text() {
    assert_eq!(
        IgnoredSelector::Several { count: 2 }.to_string(),
        "2 bimi-selector fields"
    );
    assert_eq!(
        IgnoredSelector::Invalid(SelectorError::MissingSelector).to_string(),
        "invalid bimi-selector field: no s= tag"
    );
    assert_eq!(
        IgnoredSelector::Unsigned.to_string(),
        "bimi-selector field not covered by an aligned dkim signature"
    );
}
