//! Reading received aggregate reports (e-mail, gzip, zip, XML) from
//! arbitrary bytes, with tight limits so that each run stays small.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mailauth::report::read::{ReadLimits, read_aggregate};

fuzz_target!(|data: &[u8]| {
    let mut limits = ReadLimits::default();
    limits.max_decompressed_bytes = 1 << 20;
    limits.xml.max_bytes = 1 << 20;
    limits.xml.max_records = 1000;
    let _ = read_aggregate(data, &limits);
});
