//! Chunking invariance and memory: any split of a message into chunks gives
//! the same body hash and the same verdict, and a 50 MB message fed in
//! 64 KiB chunks is verified in bounded memory.
//!
//! This test binary installs a counting global allocator (hence the one
//! `unsafe impl`, allowed here: integration tests are separate crates from
//! the `forbid(unsafe_code)` core).
#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicIsize, Ordering};

use base64::Engine as _;
use mailauth::dkim::canon::{BodyCanonicalization, BodyHasher, HeaderCanonicalization};
use mailauth::dkim::crypto::SigningKey;
use mailauth::dkim::verify::{DkimResult, Verification, Verifier, VerifyConfig};
use mailauth::dkim::{Algorithm, HashAlgorithm};
use mailauth::dns::{Name, ZoneResolver};
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// A global allocator that counts the live bytes allocated by threads that
// opted in, and their peak.

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    static TRACKED: Cell<bool> = const { Cell::new(false) };
}

fn tracked() -> bool {
    TRACKED.try_with(Cell::get).unwrap_or(false)
}

fn add(bytes: isize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters are plain atomics and the thread-local flag is const-initialized,
// so nothing here allocates.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if tracked() {
            add(layout.size() as isize);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if tracked() {
            add(-(layout.size() as isize));
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if tracked() {
            add(new_size as isize - layout.size() as isize);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// ---------------------------------------------------------------------------

const RFC_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rfc-examples");
const NOW: u64 = 1_528_637_909 + 60;

fn zone() -> ZoneResolver {
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(RFC_DIR).join("rfc8463-A2-dns-records.json")).unwrap(),
    )
    .unwrap();
    let mut zone = ZoneResolver::new();
    for (name, value) in json["records"].as_object().unwrap() {
        zone.add_txt(&Name::new(name).unwrap(), value.as_str().unwrap());
    }
    zone
}

fn message() -> Vec<u8> {
    std::fs::read(Path::new(RFC_DIR).join("rfc8463-A3-signed-message.eml")).unwrap()
}

fn verify_split(message: &[u8], cuts: &[usize], zone: &ZoneResolver) -> Verification {
    let mut verifier = Verifier::new(&VerifyConfig::default(), NOW);
    let mut previous = 0;
    for &cut in cuts.iter().chain([&message.len()]) {
        verifier.feed(&message[previous..cut]);
        previous = cut;
    }
    mailauth::resolve(verifier.finish(), zone)
}

fn sorted_cuts(cuts: Vec<usize>, len: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (len + 1)).collect();
    cuts.sort_unstable();
    cuts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_split_gives_the_same_verdict(cuts in proptest::collection::vec(0usize..10_000, 0..40)) {
        let zone = zone();
        let message = message();
        let cuts = sorted_cuts(cuts, message.len());
        let outcome = verify_split(&message, &cuts, &zone);
        let results: Vec<DkimResult> = outcome.signatures.iter().map(|s| s.result).collect();
        prop_assert_eq!(results, vec![DkimResult::Pass, DkimResult::Pass]);
    }

    #[test]
    fn any_split_of_a_changed_message_gives_the_same_verdict(
        cuts in proptest::collection::vec(0usize..10_000, 0..20),
        position in 0usize..10_000,
        byte in proptest::sample::select(vec![b' ', b'\t', b'\r', b'\n', b'x', b':']),
    ) {
        let zone = zone();
        let mut message = message();
        let position = position % message.len();
        message[position] = byte;
        let whole = verify_split(&message, &[], &zone);
        let cuts = sorted_cuts(cuts, message.len());
        let split = verify_split(&message, &cuts, &zone);
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn any_split_gives_the_same_body_hash(
        body in proptest::collection::vec(proptest::sample::select(vec![b'a', b' ', b'\t', b'\r', b'\n', 0xff]), 0..2000),
        cuts in proptest::collection::vec(0usize..2000, 0..30),
        limit in proptest::option::of(0u64..2500),
    ) {
        for canonicalization in [BodyCanonicalization::Simple, BodyCanonicalization::Relaxed] {
            let mut whole = BodyHasher::new(canonicalization, HashAlgorithm::Sha256, limit);
            whole.update(&body);
            let whole = whole.finish();
            let mut split = BodyHasher::new(canonicalization, HashAlgorithm::Sha256, limit);
            let mut previous = 0;
            for &cut in sorted_cuts(cuts.clone(), body.len()).iter().chain([&body.len()]) {
                split.update(&body[previous..cut]);
                previous = cut;
            }
            prop_assert_eq!(split.finish(), whole);
        }
    }
}

// ---------------------------------------------------------------------------
// 50 MB in 64 KiB chunks.

const BIG_BODY: usize = 50 * 1000 * 1000;
const CHUNK: usize = 64 * 1024;

/// The n-th 64 KiB piece of a deterministic text body.
fn body_chunk(index: usize, buffer: &mut [u8]) {
    let line = b"The quick brown fox jumps over the lazy dog, again and again.\r\n";
    let offset = index * CHUNK;
    for (i, byte) in buffer.iter_mut().enumerate() {
        *byte = line[(offset + i) % line.len()];
    }
}

fn for_each_body_chunk(mut f: impl FnMut(&[u8])) {
    let mut buffer = vec![0u8; CHUNK];
    let mut sent = 0;
    let mut index = 0;
    while sent < BIG_BODY {
        let n = CHUNK.min(BIG_BODY - sent);
        body_chunk(index, &mut buffer[..n]);
        f(&buffer[..n]);
        sent += n;
        index += 1;
    }
}

#[test]
fn fifty_megabytes_in_bounded_memory() {
    let seed: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(
            std::fs::read_to_string(Path::new(RFC_DIR).join("rfc8463-A1-ed25519-secret-seed.b64"))
                .unwrap()
                .trim(),
        )
        .unwrap()
        .try_into()
        .unwrap();
    let key = SigningKey::from_ed25519_seed(&seed).unwrap();
    let mut hasher = BodyHasher::new(BodyCanonicalization::Relaxed, HashAlgorithm::Sha256, None);
    for_each_body_chunk(|chunk| hasher.update(chunk));
    let body_hash = base64::engine::general_purpose::STANDARD.encode(hasher.finish().digest);
    let from = " Joe SixPack <joe@football.example.com>";
    let unsigned = format!(
        " v=1; a=ed25519-sha256; c=relaxed/relaxed; d=football.example.com; s=brisbane; t={NOW}; h=from; bh={body_hash}; b="
    );
    let mut header_data = Vec::new();
    HeaderCanonicalization::Relaxed.append(b"From", from.as_bytes(), &mut header_data);
    HeaderCanonicalization::Relaxed.append(
        b"DKIM-Signature",
        unsigned.as_bytes(),
        &mut header_data,
    );
    header_data.truncate(header_data.len() - 2);
    let signature = key.sign(Algorithm::Ed25519Sha256, &header_data).unwrap();
    let header = format!(
        "DKIM-Signature:{unsigned}{}\r\nFrom:{from}\r\nSubject: big\r\n\r\n",
        base64::engine::general_purpose::STANDARD.encode(signature)
    );
    let zone = zone();

    TRACKED.with(|t| t.set(true));
    let start = LIVE.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    let mut verifier = Verifier::new(&VerifyConfig::default(), NOW);
    verifier.feed(header.as_bytes());
    let before_body = PEAK.load(Ordering::Relaxed) - start;
    // The chunk buffer of the generator is allocated outside the tracked
    // region: only the verifier's own memory is counted.
    TRACKED.with(|t| t.set(false));
    let mut buffer = vec![0u8; CHUNK];
    TRACKED.with(|t| t.set(true));
    let mut sent = 0;
    let mut index = 0;
    while sent < BIG_BODY {
        let n = CHUNK.min(BIG_BODY - sent);
        body_chunk(index, &mut buffer[..n]);
        verifier.feed(&buffer[..n]);
        sent += n;
        index += 1;
    }
    let outcome = mailauth::resolve(verifier.finish(), &zone);
    let peak = PEAK.load(Ordering::Relaxed) - start;
    TRACKED.with(|t| t.set(false));
    println!("peak live bytes while verifying 50 MB: {peak} (after the header: {before_body})");
    assert_eq!(outcome.signatures.len(), 1);
    assert_eq!(
        outcome.signatures[0].result,
        DkimResult::Pass,
        "{:?}",
        outcome.signatures[0].reason
    );
    assert!(peak < 1024 * 1024, "peak {peak}");
    assert!(peak - before_body < 1024 * 1024);
}
