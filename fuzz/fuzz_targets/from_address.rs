//! The RFC 5322 address-list parser on arbitrary From values.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mailauth::message::address::parse_address_list(data, 100);
});
