//! The inbound pipeline on hostile input: any bytes as the message, any
//! connection facts, any split; it always ends with a verdict whose
//! Authentication-Results field reads back, and never panics.
#![allow(clippy::unwrap_used)]

use mailauth::authres::AuthenticationResults;
use mailauth::dns::{Name, ZoneResolver};
use mailauth::inbound::{Config, Connection, Inbound};
use proptest::prelude::*;

fn zone() -> ZoneResolver {
    let mut zone = ZoneResolver::new();
    zone.add_txt(
        &Name::new("example.org").unwrap(),
        "v=spf1 ip4:192.0.2.0/24 -all",
    );
    zone.add_txt(
        &Name::new("_dmarc.example.org").unwrap(),
        "v=DMARC1; p=reject",
    );
    zone
}

/// Message-like bytes: header lines, forged fields, signatures, junk.
fn message() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop_oneof![
        Just(b"From: a@example.org\r\n".to_vec()),
        Just(b"From: \"x\" <b@example.org>, c@example.com\r\n".to_vec()),
        Just(b"Authentication-Results: mx.example.net; dkim=pass\r\n".to_vec()),
        Just(b"Authentication-Results: mx.example.net ((( ;\r\n".to_vec()),
        Just(
            b"DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s; h=from; bh=; b=\r\n".to_vec()
        ),
        Just(b"DKIM-Signature: d=\xff\xfe; s=\r\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n\t folded\r\n".to_vec()),
        prop::collection::vec(any::<u8>(), 0..40),
    ];
    prop::collection::vec(pieces, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn always_a_verdict(
        message in message(),
        split in 1usize..64,
        helo in "\\PC{0,30}",
        mail_from in "\\PC{0,30}",
        authenticated in any::<bool>(),
    ) {
        let mut connection = Connection::new("192.0.2.1".parse().unwrap(), &helo, &mail_from);
        connection.authenticated = authenticated;
        let mut config = Config::new("mx.example.net", 1_700_000_000);
        config.trusted_authserv_ids = vec!["mx.example.net".into()];
        let mut inbound = Inbound::new(&connection, &config);
        for chunk in message.chunks(split) {
            inbound.feed(chunk);
        }
        let verdict = mailauth::resolve(inbound.finish(), &zone());
        prop_assert!(verdict.trusted_results.is_empty());
        match verdict.header_field() {
            None => prop_assert!(authenticated && verdict.skipped.is_some()),
            Some(field) => {
                let value = field.strip_prefix("Authentication-Results:").unwrap();
                let parsed = AuthenticationResults::parse(value.as_bytes());
                prop_assert!(parsed.is_ok(), "{field:?}: {parsed:?}");
                prop_assert!(verdict.dmarc.is_some());
            }
        }
    }
}
