//! The DKIM-Signature parser on arbitrary field values.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mailauth::dkim::signature::Signature::parse(data);
});
