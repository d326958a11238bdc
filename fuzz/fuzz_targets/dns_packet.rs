//! The DNS response parser on arbitrary packets, for each query type.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mailauth::dns::{Name, Query, RecordType, parse_response};

fuzz_target!(|data: &[u8]| {
    let Ok(name) = Name::new("example.com") else {
        return;
    };
    for record_type in [
        RecordType::A,
        RecordType::Aaaa,
        RecordType::Mx,
        RecordType::Txt,
        RecordType::Ptr,
    ] {
        let _ = parse_response(&Query::new(name.clone(), record_type), data);
    }
});
