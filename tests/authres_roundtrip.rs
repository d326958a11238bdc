//! Render, parse, render: the same field, whatever the values hold (CR, LF,
//! quotes, semicolons, backslashes, parentheses, control and non-ASCII
//! characters).
#![allow(clippy::unwrap_used)]

use mailauth::authres::{AuthenticationResults, MethodResult, Property};
use proptest::prelude::*;

/// Strings mixing ordinary text with everything that could break a field.
fn hostile() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("\r".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("\r\n\t".to_owned()),
        Just("\"".to_owned()),
        Just(";".to_owned()),
        Just("\\".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("=".to_owned()),
        Just(".".to_owned()),
        Just("@".to_owned()),
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        Just("\u{0}".to_owned()),
        Just("\u{7f}".to_owned()),
        Just("\u{85}".to_owned()),
        Just("é".to_owned()),
        Just("日本".to_owned()),
        Just("\u{2028}".to_owned()),
        Just("none".to_owned()),
        Just("reason".to_owned()),
        "[a-zA-Z0-9.-]{1,12}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(pieces, 0..8).prop_map(|v| v.concat())
}

fn structure() -> impl Strategy<Value = AuthenticationResults> {
    let property = (hostile(), hostile(), hostile()).prop_map(|(t, p, v)| Property::new(t, p, v));
    let result = (
        hostile(),
        hostile(),
        prop::option::of(hostile()),
        prop::collection::vec(property, 0..4),
    )
        .prop_map(|(method, result, reason, properties)| MethodResult {
            method: method.into(),
            result: result.into(),
            reason,
            properties,
        });
    (
        hostile(),
        prop::option::of(any::<u32>()),
        prop::collection::vec(result, 0..4),
    )
        .prop_map(|(authserv_id, version, results)| {
            let mut ar = AuthenticationResults::new(authserv_id);
            ar.version = version;
            ar.results = results;
            ar
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn render_parse_render(ar in structure()) {
        let field = ar.to_header_field();
        // The only line breaks are folds.
        let unfolded = field.replace("\r\n\t", "").replace("\r\n ", "");
        prop_assert!(!unfolded.contains(['\r', '\n']), "{field:?}");
        // No line holds only white space, and lines stay short unless one
        // word is longer.
        for line in field.split("\r\n") {
            prop_assert!(!line.trim().is_empty(), "{field:?}");
        }
        let value = field.strip_prefix("Authentication-Results:").unwrap();
        let parsed = AuthenticationResults::parse(value.as_bytes());
        prop_assert!(parsed.is_ok(), "{field:?}: {parsed:?}");
        let parsed = parsed.unwrap();
        prop_assert_eq!(parsed.to_header_field(), field.clone());
        prop_assert_eq!(parsed.results.len(), ar.results.len());
        // The unfolded value parses to the same structure.
        let unfolded = AuthenticationResults::parse(ar.to_header_value().as_bytes());
        prop_assert_eq!(unfolded.as_ref().ok(), Some(&parsed));
    }

    #[test]
    fn parser_is_total(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = AuthenticationResults::parse(&bytes);
        let _ = mailauth::authres::claimed_authserv_id(&bytes);
    }
}
