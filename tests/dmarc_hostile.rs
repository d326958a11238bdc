//! DMARC parsers on arbitrary input: no panic, bounded results.
#![allow(clippy::unwrap_used, missing_docs)]

use mailauth::dmarc::{self, Config, Discovery, Mode, Record, Sample};
use mailauth::dns::{Name, ZoneResolver};
use mailauth::message::HeaderField;
use mailauth::message::address::parse_address_list;
use proptest::prelude::*;

/// Bytes biased towards the characters that matter to the grammars.
fn structured() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(b"<>@,;:.()\"\\[] \t\r\n=aZ0-_".to_vec()),
            any::<u8>(),
        ],
        0..400,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn address_lists_never_panic(value in structured()) {
        if let Ok(list) = parse_address_list(&value, 50) {
            prop_assert!(list.iter().map(|a| a.mailboxes().len()).sum::<usize>() <= 50);
        }
        let mut raw = b"From:".to_vec();
        raw.extend_from_slice(&value);
        let _ = dmarc::author_domain(&[HeaderField::from_raw(raw)]);
    }

    #[test]
    fn records_never_panic(value in structured()) {
        for mode in [Mode::Rfc9989, Mode::Rfc7489] {
            let config = Config { mode, ..Config::default() };
            let mut text = b"v=DMARC1;".to_vec();
            text.extend_from_slice(&value);
            let _ = Record::parse(&value, &config);
            if let Ok(record) = Record::parse(&text, &config) {
                prop_assert!(record.aggregate_report_uris.len() <= 32);
            }
        }
    }

    #[test]
    fn discovery_is_bounded(labels in prop::collection::vec("[a-z0-9]{1,10}", 1..60), record in structured()) {
        let Ok(author) = Name::new(&labels.join(".")) else { return Ok(()) };
        let mut zone = ZoneResolver::new();
        for name in mailauth::dmarc::discovery::tree_walk_names(&author, 8) {
            if let Ok(at) = name.prepend("_dmarc") {
                zone.add_txt(&at, &record);
            }
        }
        let lookup = mailauth::resolve(Discovery::new(&author, &Config::default()), &zone);
        prop_assert!(lookup.queries <= 9);
        let _ = dmarc::evaluate(&lookup, None, &[], &Config::default(), Sample::ALWAYS);
    }
}
