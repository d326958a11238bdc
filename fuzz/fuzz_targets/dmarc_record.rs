//! The DMARC record parser on arbitrary TXT data, in both modes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mailauth::dmarc::{Config, Record};

fuzz_target!(|data: &[u8]| {
    let _ = Record::parse(data, &Config::default());
    let _ = Record::parse(data, &Config::rfc7489());
});
