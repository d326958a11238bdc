//! The three ARC field parsers on arbitrary values, and chain validation of
//! a header made of them: no panic, and a parsed instance is 1 to 50.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mailauth::arc::parse::{self, ArcField, AuthenticationResults, MessageSignature, Seal};
use mailauth::arc::{Config, Validator};
use mailauth::dns::ZoneResolver;

fuzz_target!(|data: &[u8]| {
    for field in [
        ArcField::AuthenticationResults,
        ArcField::MessageSignature,
        ArcField::Seal,
    ] {
        if let Ok(instance) = parse::instance(field, data) {
            assert!((1..=50).contains(&instance));
        }
    }
    let _ = AuthenticationResults::parse(data);
    let _ = MessageSignature::parse(data);
    let _ = Seal::parse(data);
    let mut validator = Validator::new(&Config {
        key_cache: None,
        ..Config::default()
    });
    for name in [
        "ARC-Seal:",
        "ARC-Message-Signature:",
        "ARC-Authentication-Results:",
    ] {
        validator.feed(name.as_bytes());
        validator.feed(data);
        validator.feed(b"\r\n");
    }
    validator.feed(b"From: a@example.org\r\n\r\nbody\r\n");
    let _ = mailauth::resolve(validator.finish(), &ZoneResolver::new());
});
