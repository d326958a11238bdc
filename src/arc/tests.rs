#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use super::parse::{self, ArcField, FieldError, MessageSignature, Seal};
use super::*;
use crate::authres::MethodResult;
use crate::dkim::tags::TagError;
use crate::dkim::{NewKey, SigningKey, keygen};
use crate::dns::{Name, ZoneResolver};
use crate::machine::{Machine, Poll};

const MESSAGE: &[u8] = b"From: a@example.com\r\nTo: b@example.net\r\nSubject: hi\r\n\r\nHello.\r\n";

/// A key per hop, published as `hop<n>._domainkey.relay<n>.example`.
struct Hops {
    zone: ZoneResolver,
    keys: Vec<Arc<SigningKey>>,
}

impl Hops {
    fn new(count: usize) -> Hops {
        let mut zone = ZoneResolver::new();
        let mut keys = Vec::new();
        for n in 1..=count {
            let key = keygen::generate(NewKey::Ed25519).unwrap();
            let name = Name::new(&format!("hop{n}._domainkey.relay{n}.example")).unwrap();
            zone.add_txt(&name, key.record().text());
            keys.push(Arc::new(key.into_signing_key()));
        }
        Hops { zone, keys }
    }

    /// Validates `message` and seals it as hop `n` (from 1) signing
    /// `headers`; returns the sealed message.
    fn seal(&self, message: &[u8], n: usize, headers: &[&str]) -> Vec<u8> {
        let chain = self.validate(message);
        let options = SealOptions {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            ..SealOptions::default()
        };
        let sealer = Sealer::new(
            &format!("relay{n}.example"),
            &format!("hop{n}"),
            self.keys[n - 1].clone(),
            &format!("mx.relay{n}.example"),
            options,
        )
        .unwrap();
        let results = [chain.to_method_result()];
        let SealOutcome::Sealed(set) = sealer
            .seal(message, 1000 + n as u64, &chain, &results)
            .unwrap()
        else {
            panic!("not sealed");
        };
        let mut out = set.to_header_lines().into_bytes();
        out.extend_from_slice(message);
        out
    }

    fn validate(&self, message: &[u8]) -> Outcome {
        validate_with(message, &self.zone, &Config::default())
    }
}

fn validate_with(message: &[u8], zone: &ZoneResolver, config: &Config) -> Outcome {
    let mut validator = Validator::new(config);
    validator.feed(message);
    crate::resolve(validator.finish(), zone)
}

fn chain(hops: &Hops, count: usize) -> Vec<u8> {
    let mut message = MESSAGE.to_vec();
    for n in 1..=count {
        message = hops.seal(&message, n, &["from", "to", "subject"]);
    }
    message
}

/// Replaces the first occurrence of `from` by `to`.
fn replace(message: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(message.to_vec()).unwrap();
    assert!(text.contains(from), "{from}");
    text.replacen(from, to, 1).into_bytes()
}

/// Removes the whole header line that starts with `prefix` (with its
/// continuation lines).
fn remove_field(message: &[u8], prefix: &str) -> Vec<u8> {
    let text = String::from_utf8(message.to_vec()).unwrap();
    let start = text.find(prefix).unwrap();
    let mut end = start + text[start..].find("\r\n").unwrap() + 2;
    while text[end..].starts_with(' ') || text[end..].starts_with('\t') {
        end += text[end..].find("\r\n").unwrap() + 2;
    }
    format!("{}{}", &text[..start], &text[end..]).into_bytes()
}

fn field_of(message: &[u8], prefix: &str) -> String {
    let text = String::from_utf8(message.to_vec()).unwrap();
    let start = text.find(prefix).unwrap();
    let mut end = start + text[start..].find("\r\n").unwrap() + 2;
    while text[end..].starts_with(' ') || text[end..].starts_with('\t') {
        end += text[end..].find("\r\n").unwrap() + 2;
    }
    text[start..end].to_owned()
}

#[test]
fn words() {
    assert_eq!(ArcResult::None.to_string(), "none");
    assert_eq!(ArcResult::Pass.to_string(), "pass");
    assert_eq!(ArcResult::Fail.to_string(), "fail");
    assert_eq!("PASS".parse::<ArcResult>(), Ok(ArcResult::Pass));
    assert!("softfail".parse::<ArcResult>().is_err());
}

#[test]
fn no_arc_fields_is_none() {
    let outcome = Hops::new(0).validate(MESSAGE);
    assert_eq!(outcome, Outcome::none());
    assert_eq!(outcome.to_method_result().result, "none");
}

#[test]
fn three_hops_pass_and_one_lookup_round() {
    let hops = Hops::new(3);
    let message = chain(&hops, 3);
    let outcome = hops.validate(&message);
    assert_eq!(outcome.result, ArcResult::Pass, "{:?}", outcome.reason);
    assert_eq!(outcome.sets, 3);
    assert_eq!(outcome.oldest_pass, Some(0));
    assert_eq!(outcome.instances.len(), 3);
    assert_eq!(outcome.instances[0].chain_status, ArcResult::None);
    assert_eq!(outcome.instances[2].seal_domain.as_str(), "relay3.example");
    let ar = outcome.to_method_result();
    assert_eq!(ar.property("header", "oldest-pass"), Some("0"));

    // Every key in the first round.
    let mut validator = Validator::new(&Config::default());
    validator.feed(&message);
    let mut validation = validator.finish();
    let Poll::Lookups(queries) = validation.poll() else {
        panic!("lookups expected");
    };
    assert_eq!(queries.len(), 3);
    for query in &queries {
        validation
            .supply(query, crate::dns::Resolver::lookup(&hops.zone, query))
            .unwrap();
    }
    assert!(matches!(validation.poll(), Poll::Done(o) if o.result == ArcResult::Pass));
}

#[test]
fn chunking_does_not_matter() {
    let hops = Hops::new(2);
    let message = chain(&hops, 2);
    for size in [1, 2, 7, 64, 1000] {
        let mut validator = Validator::new(&Config::default());
        for chunk in message.chunks(size) {
            validator.feed(chunk);
        }
        let outcome = crate::resolve(validator.finish(), &hops.zone);
        assert_eq!(outcome.result, ArcResult::Pass, "chunks of {size}");
    }
}

#[test]
fn oldest_pass_reports_a_broken_older_signature() {
    let hops = Hops::new(2);
    let once = hops.seal(MESSAGE, 1, &["from", "subject"]);
    let twice = hops.seal(&once, 2, &["from"]);
    // Subject is signed by the first AMS only, and by no seal.
    let changed = replace(&twice, "Subject: hi", "Subject: changed");
    let outcome = hops.validate(&changed);
    assert_eq!(outcome.result, ArcResult::Pass, "{:?}", outcome.reason);
    assert_eq!(outcome.oldest_pass, Some(2));
    // Without the option, not computed.
    let config = Config {
        oldest_pass: false,
        ..Config::default()
    };
    let outcome = validate_with(&changed, &hops.zone, &config);
    assert_eq!(outcome.result, ArcResult::Pass);
    assert_eq!(outcome.oldest_pass, None);
}

#[test]
fn changed_body_fails_the_newest_signature() {
    let hops = Hops::new(2);
    let message = replace(&chain(&hops, 2), "Hello.", "Hullo.");
    let outcome = hops.validate(&message);
    assert_eq!(outcome.result, ArcResult::Fail);
    assert_eq!(
        outcome.reason,
        Some(Reason::MessageSignature {
            instance: 2,
            reason: crate::dkim::Reason::BodyHashMismatch
        })
    );
}

#[test]
fn changed_older_set_fails_its_seal() {
    let hops = Hops::new(2);
    let message = chain(&hops, 2);
    let aar = field_of(&message, "ARC-Authentication-Results: i=1;");
    let message = replace(&message, &aar, &aar.replace("arc=none", "arc=pass"));
    let outcome = hops.validate(&message);
    assert_eq!(outcome.result, ArcResult::Fail);
    assert!(
        matches!(outcome.reason, Some(Reason::Seal { instance: 2, .. })),
        "{:?}",
        outcome.reason
    );
}

#[test]
fn missing_key_fails() {
    let hops = Hops::new(1);
    let message = chain(&hops, 1);
    let outcome = validate_with(&message, &ZoneResolver::new(), &Config::default());
    assert_eq!(outcome.result, ArcResult::Fail);
    assert!(matches!(
        outcome.reason,
        Some(Reason::MessageSignature {
            reason: crate::dkim::Reason::KeyNotFound,
            ..
        })
    ));
}

#[test]
fn structure_errors() {
    let hops = Hops::new(3);
    let message = chain(&hops, 3);
    let structure = |message: &[u8]| match hops.validate(message).reason {
        Some(Reason::Structure(error)) => error,
        other => panic!("{other:?}"),
    };
    // A field missing.
    let without = remove_field(&message, "ARC-Message-Signature: a=ed25519-sha256;");
    assert_eq!(
        structure(&without),
        StructureError::MissingField {
            instance: 3,
            field: ArcField::MessageSignature
        }
    );
    // A field twice.
    let seal = field_of(&message, "ARC-Seal:");
    let twice = [seal.as_bytes(), &message].concat();
    assert_eq!(
        structure(&twice),
        StructureError::DuplicateField {
            instance: 3,
            field: ArcField::Seal
        }
    );
    // A whole set missing: instances 1 and 3 only.
    let mut gap = message.clone();
    for prefix in [
        "ARC-Seal: a=ed25519-sha256;",
        "ARC-Message-Signature: a=ed25519-sha256;",
        "ARC-Authentication-Results: i=2;",
    ] {
        // The second seal and signature from the top are instance 2.
        let text = String::from_utf8(gap.clone()).unwrap();
        let first = text.find(prefix).unwrap();
        let at = if prefix.starts_with("ARC-Authentication") {
            first
        } else {
            first + 1 + text[first + 1..].find(prefix).unwrap()
        };
        let (head, tail) = gap.split_at(at);
        gap = [head, &remove_field(tail, prefix)].concat();
    }
    assert_eq!(structure(&gap), StructureError::MissingSet { instance: 2 });
    // More sets than allowed.
    let config = Config {
        max_sets: 2,
        ..Config::default()
    };
    let outcome = validate_with(&message, &hops.zone, &config);
    assert_eq!(
        outcome.reason,
        Some(Reason::Structure(StructureError::TooManySets {
            found: 3,
            max: 2
        }))
    );
    assert_eq!(outcome.sets, 3);
}

#[test]
fn chain_status_rules() {
    let hops = Hops::new(2);
    let message = chain(&hops, 2);
    // The newest seal says cv=fail: fail without checking signatures.
    let failed = replace(&message, "cv=pass", "cv=fail");
    let outcome = hops.validate(&failed);
    assert_eq!(outcome.reason, Some(Reason::ChainFailed { instance: 2 }));
    // Instance 1 with cv=pass.
    let wrong = replace(&message, "cv=none", "cv=pass");
    assert_eq!(
        hops.validate(&wrong).reason,
        Some(Reason::UnexpectedChainStatus {
            instance: 1,
            found: ArcResult::Pass
        })
    );
}

#[test]
fn instance_numbers() {
    let aar = ArcField::AuthenticationResults;
    let seal = ArcField::Seal;
    assert_eq!(parse::instance(aar, b" i=1; example.org; spf=pass"), Ok(1));
    assert_eq!(parse::instance(aar, b"i = 50 ; x"), Ok(50));
    for bad in [
        "i=0; x", "i=51; x", "i=999; x", "i=01; x", "i=; x", "i=a; x", "i=1 x",
    ] {
        assert!(parse::instance(aar, bad.as_bytes()).is_err(), "{bad}");
    }
    assert_eq!(
        parse::instance(aar, b"example.org; i=1"),
        Err(FieldError::MissingInstance)
    );
    assert_eq!(parse::instance(seal, b"i=50; a=x"), Ok(50));
    assert_eq!(
        parse::instance(seal, b"i=999; a=x"),
        Err(FieldError::InvalidInstance)
    );
    assert_eq!(
        parse::instance(seal, b"a=x"),
        Err(FieldError::MissingInstance)
    );
    assert_eq!(
        parse::instance(seal, b"i=1; i=2"),
        Err(FieldError::Tag(TagError::DuplicateTag { name: "i".into() }))
    );
}

const SEAL_VALUE: &str = "i=1; a=rsa-sha256; cv=none; d=example.org; s=sel; t=12345; b=YWJj";
const AMS_VALUE: &str =
    "i=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel; h=from:to; bh=YWJj; b=YWJj";

#[test]
fn seal_fields() {
    let seal = Seal::parse(SEAL_VALUE.as_bytes()).unwrap();
    assert_eq!(seal.instance, 1);
    assert_eq!(seal.chain_status, ArcResult::None);
    assert_eq!(seal.domain.as_str(), "example.org");
    let without = |tag: &str| {
        SEAL_VALUE
            .split("; ")
            .filter(|t| !t.starts_with(&format!("{tag}=")))
            .collect::<Vec<_>>()
            .join("; ")
    };
    assert_eq!(
        Seal::parse(without("a").as_bytes()),
        Err(TagError::MissingTag { name: "a" }.into())
    );
    assert_eq!(
        Seal::parse(without("cv").as_bytes()),
        Err(TagError::MissingTag { name: "cv" }.into())
    );
    assert_eq!(
        Seal::parse(without("i").as_bytes()),
        Err(FieldError::MissingInstance)
    );
    let with = |extra: &str| format!("{SEAL_VALUE}; {extra}");
    assert_eq!(
        Seal::parse(with("h=from").as_bytes()),
        Err(FieldError::SignedHeadersInSeal)
    );
    assert!(matches!(
        Seal::parse(with("cv=pass").as_bytes()),
        Err(FieldError::Tag(TagError::DuplicateTag { .. }))
    ));
    let bad_cv = SEAL_VALUE.replace("cv=none", "cv=Pass");
    assert_eq!(
        Seal::parse(bad_cv.as_bytes()),
        Err(FieldError::InvalidChainStatus)
    );
    let bad_a = SEAL_VALUE.replace("rsa-sha256", "rsa-md5");
    assert_eq!(
        Seal::parse(bad_a.as_bytes()),
        Err(FieldError::UnsupportedAlgorithm)
    );
    let bad_t = SEAL_VALUE.replace("t=12345", "t=");
    assert!(matches!(
        Seal::parse(bad_t.as_bytes()),
        Err(FieldError::Tag(TagError::BadNumber { .. }))
    ));
    let bad_d = SEAL_VALUE.replace("d=example.org", "d=exa mple");
    assert!(Seal::parse(bad_d.as_bytes()).is_err());
    assert!(Seal::parse(b"i=1; a=rsa-sha256; cv=none; d=\xff\xfe; s=sel; b=YWJj").is_err());
    assert!(Seal::parse(with("x_unknown=1").as_bytes()).is_ok());
}

#[test]
fn message_signature_fields() {
    let ams = MessageSignature::parse(AMS_VALUE.as_bytes()).unwrap();
    assert_eq!(ams.signed_headers, ["from", "to"]);
    let empty_h = AMS_VALUE.replace("h=from:to", "h=");
    assert!(
        MessageSignature::parse(empty_h.as_bytes())
            .unwrap()
            .signed_headers
            .is_empty()
    );
    let seal_signed = AMS_VALUE.replace("h=from:to", "h=from:ARC-Seal");
    assert_eq!(
        MessageSignature::parse(seal_signed.as_bytes()),
        Err(FieldError::SealSigned)
    );
    let no_c = AMS_VALUE.replace("c=relaxed/relaxed; ", "");
    assert_eq!(
        MessageSignature::parse(no_c.as_bytes())
            .unwrap()
            .canonicalization
            .to_string(),
        "relaxed/relaxed"
    );
    let bad_c = AMS_VALUE.replace("c=relaxed/relaxed", "c=");
    assert_eq!(
        MessageSignature::parse(bad_c.as_bytes()),
        Err(FieldError::UnsupportedCanonicalization)
    );
    let no_b = AMS_VALUE.replace("; b=YWJj", "; b=");
    assert!(MessageSignature::parse(no_b.as_bytes()).is_err());
    let bad_bh = AMS_VALUE.replace("bh=YWJj", "bh=!!");
    assert!(matches!(
        MessageSignature::parse(bad_bh.as_bytes()),
        Err(FieldError::Tag(TagError::BadBase64 { .. }))
    ));
    assert_eq!(
        MessageSignature::parse(b"i=1; a=rsa-sha256;; d=x"),
        Err(FieldError::Tag(TagError::EmptyTagSpec { offset: 18 }))
    );
}

#[test]
fn authentication_results_fields() {
    let aar = parse::AuthenticationResults::parse(b"i=2; mx.example.org; spf=pass").unwrap();
    assert_eq!(
        (aar.instance, aar.authserv_id.as_str()),
        (2, "mx.example.org")
    );
    assert_eq!(
        parse::AuthenticationResults::parse(b"i=2;"),
        Err(FieldError::MissingAuthservId)
    );
    assert_eq!(
        parse::AuthenticationResults::parse(b"i=2 mx.example.org; spf=pass"),
        Err(FieldError::InvalidInstance)
    );
}

#[test]
fn hostile_headers_do_not_panic() {
    let hops = Hops::new(1);
    let values: &[&[u8]] = &[
        b"",
        b";",
        b"i=",
        b"i=1",
        b"i=1;",
        b"i=999999999999999999999999; a=b",
        b"i=1; b=\xff\xff; a=\x00",
        b"i=1; i=1; i=1",
        b"=;=;=",
        b"i=1; a=ed25519-sha256; cv=none; d=relay1.example; s=hop1; b=AAAA",
        b"i=1; a=rsa-sha256; d=.; s=..; h=::::; bh=; b=",
    ];
    for name in [
        "ARC-Seal",
        "ARC-Message-Signature",
        "ARC-Authentication-Results",
        "arc-seal ",
    ] {
        for value in values {
            let mut message = format!("{name}:").into_bytes();
            message.extend_from_slice(value);
            message.extend_from_slice(b"\r\n");
            message.extend_from_slice(MESSAGE);
            let outcome = hops.validate(&message);
            assert_eq!(outcome.result, ArcResult::Fail, "{name}: {value:?}");
            assert!(outcome.reason.is_some());
        }
    }
    // A header that is all ARC fields, unterminated.
    let outcome = hops.validate(b"ARC-Seal: i=1; a=");
    assert_eq!(outcome.result, ArcResult::Fail);
}

#[test]
fn fifty_one_sets_fail() {
    let hops = Hops::new(1);
    let mut message = Vec::new();
    for i in (1..=51).rev() {
        message.extend_from_slice(
            format!(
                "ARC-Seal: i={i}; a=ed25519-sha256; cv=pass; d=relay1.example; s=hop1; b=AAAA\r\n\
                 ARC-Message-Signature: i={i}; a=ed25519-sha256; d=relay1.example; s=hop1; h=from; bh=AAAA; b=AAAA\r\n\
                 ARC-Authentication-Results: i={i}; relay1.example; spf=pass\r\n"
            )
            .as_bytes(),
        );
    }
    message.extend_from_slice(MESSAGE);
    let outcome = hops.validate(&message);
    assert_eq!(outcome.result, ArcResult::Fail);
    assert!(matches!(
        outcome.reason,
        Some(Reason::Structure(StructureError::InvalidInstance { .. }))
    ));
    // 50 sets with a limit of 50 pass the structure check (and fail on
    // the made-up signatures).
    let fifty = remove_field(
        &remove_field(
            &remove_field(&message, "ARC-Seal: i=51"),
            "ARC-Message-Signature: i=51",
        ),
        "ARC-Authentication-Results: i=51",
    );
    let outcome = hops.validate(&fifty);
    assert_eq!(outcome.sets, 50);
    assert!(
        !matches!(outcome.reason, Some(Reason::Structure(_))),
        "{:?}",
        outcome.reason
    );
}

#[test]
fn header_limit_fails_a_chain() {
    let hops = Hops::new(1);
    let message = chain(&hops, 1);
    let config = Config {
        max_header_fields: 4,
        ..Config::default()
    };
    let outcome = validate_with(&message, &hops.zone, &config);
    assert_eq!(outcome.result, ArcResult::Fail);
    assert!(matches!(outcome.reason, Some(Reason::HeaderLimit(_))));
}

#[test]
fn sha1_refused() {
    let hops = Hops::new(1);
    let message = chain(&hops, 1);
    let message = replace(
        &message,
        "ARC-Seal: a=ed25519-sha256",
        "ARC-Seal: a=rsa-sha1",
    );
    let outcome = hops.validate(&message);
    assert_eq!(
        outcome.reason,
        Some(Reason::Seal {
            instance: 1,
            reason: crate::dkim::Reason::Sha1Refused
        })
    );
}

#[test]
fn sealing_outcomes() {
    let hops = Hops::new(2);
    let sealer = |max_sets: usize| {
        Sealer::new(
            "relay2.example",
            "hop2",
            hops.keys[1].clone(),
            "mx.relay2.example",
            SealOptions {
                max_sets,
                ..SealOptions::default()
            },
        )
        .unwrap()
    };
    let once = chain(&hops, 1);
    let chain_one = hops.validate(&once);
    // The outcome of another message.
    assert_eq!(
        sealer(50).seal(&once, 5, &Outcome::none(), &[]),
        Err(SealError::ChainMismatch {
            validated: 0,
            found: 1
        })
    );
    assert_eq!(
        sealer(1).seal(&once, 5, &chain_one, &[]),
        Ok(SealOutcome::TooManySets)
    );
    // A chain found failing is sealed with cv=fail; after that, no more.
    let broken = replace(&once, "Hello.", "Hullo.");
    let failing = hops.validate(&broken);
    assert_eq!(failing.result, ArcResult::Fail);
    let SealOutcome::Sealed(set) = sealer(50).seal(&broken, 5, &failing, &[]).unwrap() else {
        panic!("sealed");
    };
    assert!(set.seal().contains("cv=fail"));
    assert!(
        set.authentication_results()
            .starts_with("i=2; mx.relay2.example; none")
    );
    let sealed = [set.to_header_lines().as_bytes(), &broken].concat();
    let outcome = hops.validate(&sealed);
    assert_eq!(outcome.reason, Some(Reason::ChainFailed { instance: 2 }));
    assert_eq!(
        sealer(50).seal(&sealed, 6, &outcome, &[]),
        Ok(SealOutcome::ChainFailed)
    );
    // Bad settings.
    assert!(matches!(
        Sealer::new(
            "relay.example",
            "s",
            hops.keys[0].clone(),
            "a b",
            SealOptions::default()
        ),
        Err(SealError::AuthservId(_))
    ));
    assert!(matches!(
        Sealer::new(
            "-bad",
            "s",
            hops.keys[0].clone(),
            "id",
            SealOptions::default()
        ),
        Err(SealError::Invalid(_))
    ));
    let options = SealOptions {
        headers: vec!["ARC-Seal".into()],
        ..SealOptions::default()
    };
    assert!(Sealer::new("relay.example", "s", hops.keys[0].clone(), "id", options).is_err());
}

#[test]
fn sealed_fields_layout() {
    let hops = Hops::new(1);
    let chain = hops.validate(MESSAGE);
    let sealer = Sealer::new(
        "relay1.example",
        "hop1",
        hops.keys[0].clone(),
        "mx.relay1.example",
        SealOptions::default(),
    )
    .unwrap();
    let spf = MethodResult {
        method: "spf".into(),
        result: "pass".into(),
        reason: None,
        properties: vec![crate::authres::Property::new(
            "smtp",
            "mailfrom",
            "a@example.com",
        )],
    };
    let SealOutcome::Sealed(set) = sealer
        .seal(MESSAGE, 12345, &chain, &[chain.to_method_result(), spf])
        .unwrap()
    else {
        panic!("sealed");
    };
    assert_eq!(
        set.authentication_results().replace("\r\n\t", " "),
        "i=1; mx.relay1.example; arc=none; spf=pass smtp.mailfrom=a@example.com"
    );
    let names: Vec<&str> = set.fields().iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        [
            "ARC-Authentication-Results",
            "ARC-Message-Signature",
            "ARC-Seal"
        ]
    );
    let seal = set.seal().replace("\r\n ", " ");
    assert!(seal.starts_with("a=ed25519-sha256; b="), "{seal}");
    assert!(
        seal.ends_with("; cv=none; d=relay1.example; i=1; s=hop1; t=12345"),
        "{seal}"
    );
    let ams = set.message_signature().replace("\r\n ", " ");
    assert!(
        ams.contains(
            "; c=relaxed/relaxed; d=relay1.example; h=from:subject:to; i=1; s=hop1; t=12345"
        ),
        "{ams}"
    );
    assert!(
        set.to_header_lines()
            .starts_with("ARC-Seal: a=ed25519-sha256;")
    );
    for line in set.to_header_lines().split("\r\n") {
        assert!(line.len() <= 998);
    }
}
