//! The SPF record parser on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mailauth::spf::Record::parse(data, 32_768);
});
