//! Streaming body canonicalization: any split of the input gives the same
//! hash as feeding it whole, for both canonicalizations.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mailauth::dkim::HashAlgorithm;
use mailauth::dkim::canon::{BodyCanonicalization, BodyHasher};

fuzz_target!(|data: &[u8]| {
    let Some((&split_seed, body)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(split_seed % 17) + 1;
    for canonicalization in [BodyCanonicalization::Simple, BodyCanonicalization::Relaxed] {
        let mut whole = BodyHasher::new(canonicalization, HashAlgorithm::Sha256, None);
        whole.update(body);
        let mut chunked = BodyHasher::new(canonicalization, HashAlgorithm::Sha256, None);
        for piece in body.chunks(chunk) {
            chunked.update(piece);
        }
        assert_eq!(whole.finish().digest, chunked.finish().digest);
    }
});
