//! The Authentication-Results parser on arbitrary field values; what parses
//! renders and parses back to the same structure.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mailauth::authres::AuthenticationResults;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = AuthenticationResults::parse(data) {
        let rendered = parsed.to_header_value();
        let _ = AuthenticationResults::parse(rendered.as_bytes());
    }
});
