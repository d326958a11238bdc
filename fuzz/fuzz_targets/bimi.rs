//! The BIMI Assertion Record and BIMI-Selector field parsers on arbitrary
//! data; every URI of a record that parses is an HTTPS URI fit for a header
//! field.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mailauth::bimi::{Config, Record, check_https_uri, parse_selector_field};

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = Record::parse(data, &Config::default()) {
        for uri in record.locations.iter().chain(&record.evidence) {
            assert!(check_https_uri(uri).is_ok());
            assert!(!uri.contains([';', '\r', '\n']));
        }
    }
    let _ = parse_selector_field(data);
});
