//! The DKIM key record parser on arbitrary TXT data.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mailauth::dkim::key::KeyRecord::parse(data);
});
