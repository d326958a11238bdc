//! Canonicalization (RFC 6376 §3.4) and the streaming body hash (§3.7).
//!
//! Header and body canonicalization are distinct types
//! ([`HeaderCanonicalization`], [`BodyCanonicalization`]) so that the two
//! halves of `c=` cannot be mixed up.
//!
//! # Line endings
//!
//! Messages handed to the library often use bare LF line endings (a message
//! read from a Unix mailbox or a file). A bare LF is treated exactly as CRLF,
//! in the body and in header fields; a CR that is not followed by LF is an
//! ordinary byte. This matches what an MTA would have put on the wire.
//!
//! A last line without a line break is canonicalized like any other line and
//! then gets its CRLF (RFC 6376 §3.4.3, §3.4.4). With relaxed
//! canonicalization its trailing whitespace is removed first, so `a ` hashes
//! as `a\r\n` and a lone space as the empty body, exactly as if the line had
//! been terminated; an MTA that adds the missing CRLF in transit does not
//! break the signature. Mail::DKIM agrees. dkimpy 1.1 appends the CRLF
//! before removing whitespace and hashes `a \r\n`, so its own relaxed
//! signatures over such a body fail once the CRLF is added; its signatures
//! over such bodies do not verify here (test
//! `relaxed_unterminated_last_line_loses_its_trailing_whitespace`).
//!
//! # Streaming
//!
//! [`BodyHasher`] takes the body in chunks of any size, split anywhere (inside
//! a CRLF, inside a run of whitespace), and keeps constant state: a count of
//! held-back empty lines, a held-back-whitespace flag, a held-back-CR flag and
//! a fixed output buffer. Runs of bytes that canonicalization leaves
//! unchanged are found with vectorized searches (`memchr`) and handed to the
//! hash function whole. Relaxed canonicalization of chunks of a few hundred
//! octets or more classifies 64 octets at once instead (whitespace-dense
//! text has too many events for one search each) and gathers the canonical
//! spans in a stack buffer that goes to the hash function in large updates.
//! Where the processor has AVX-512 with VBMI2 (found at run time), a
//! block's kept octets are packed with one byte compress instead of copied
//! span by span (module `wide`); the core stays free of `unsafe`, the one call
//! into code compiled for those features being made by `archmage`'s
//! `#[arcane]` on the strength of its detection token.

use std::fmt;

use sha2::Digest as _;

use super::HashAlgorithm;

mod spans;

/// Header canonicalization (RFC 6376 §3.4.1, §3.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum HeaderCanonicalization {
    /// `simple`: header fields exactly as they are.
    #[default]
    Simple,
    /// `relaxed`: lowercase names, unfolded, whitespace runs reduced.
    Relaxed,
}

/// Body canonicalization (RFC 6376 §3.4.3, §3.4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum BodyCanonicalization {
    /// `simple`: the body as is, without trailing empty lines.
    #[default]
    Simple,
    /// `relaxed`: whitespace runs reduced, trailing whitespace and trailing
    /// empty lines removed.
    Relaxed,
}

impl HeaderCanonicalization {
    /// The name used in `c=`.
    pub fn as_str(self) -> &'static str {
        match self {
            HeaderCanonicalization::Simple => "simple",
            HeaderCanonicalization::Relaxed => "relaxed",
        }
    }

    /// Parses `simple` or `relaxed` (case-insensitive).
    pub fn from_name(name: &str) -> Option<HeaderCanonicalization> {
        if name.eq_ignore_ascii_case("simple") {
            Some(HeaderCanonicalization::Simple)
        } else if name.eq_ignore_ascii_case("relaxed") {
            Some(HeaderCanonicalization::Relaxed)
        } else {
            None
        }
    }

    /// Appends one header field, canonicalized, to `out`, ending with CRLF.
    ///
    /// `name` is the field name as it appears before the colon; `value` is
    /// everything after the colon up to (not including) the CRLF that ends
    /// the field, folding line breaks included.
    ///
    /// - simple (§3.4.1): `name ":" value CRLF`, unchanged except that bare LF
    ///   line breaks are written as CRLF.
    /// - relaxed (§3.4.2): name lowercased, whitespace around the colon
    ///   removed, value unfolded, runs of WSP reduced to one SP, WSP at the
    ///   end of the value removed.
    pub fn append(self, name: &[u8], value: &[u8], out: &mut Vec<u8>) {
        self.append_pieces(name, [value, &[]], out);
    }

    /// Appends one header field as [`append`](Self::append) would if the
    /// octets `removed` were deleted from `value`, without building that
    /// shorter value: how the DKIM-Signature field is hashed with its `b=`
    /// value left out (RFC 6376 §3.7). A range past the end of `value` is
    /// cut at the end.
    pub(crate) fn append_without(
        self,
        name: &[u8],
        value: &[u8],
        removed: std::ops::Range<usize>,
        out: &mut Vec<u8>,
    ) {
        let start = removed.start.min(value.len());
        let end = removed.end.clamp(start, value.len());
        let (before, rest) = value.split_at(start);
        let after = rest.get(end - start..).unwrap_or_default();
        self.append_pieces(name, [before, after], out);
    }

    /// Appends a field whose value is the concatenation of `pieces`.
    pub(crate) fn append_pieces(self, name: &[u8], pieces: [&[u8]; 2], out: &mut Vec<u8>) {
        match self {
            HeaderCanonicalization::Simple => {
                append_lf_as_crlf(name, &mut 0, out);
                out.push(b':');
                let mut previous = 0;
                for piece in pieces {
                    append_lf_as_crlf(piece, &mut previous, out);
                }
            }
            HeaderCanonicalization::Relaxed => {
                let name = trim_wsp_end(name);
                let start = out.len();
                out.extend_from_slice(name);
                if let Some(written) = out.get_mut(start..) {
                    written.make_ascii_lowercase();
                }
                out.push(b':');
                let mut state = RelaxedValue::default();
                for piece in pieces {
                    state.append(piece, out);
                }
            }
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// Writes `bytes` to `out`, turning each bare LF into CRLF. `previous` is
/// the octet written just before `bytes` (0 for none), and is updated to
/// the last octet of `bytes`, so that a value may be written in pieces.
fn append_lf_as_crlf(bytes: &[u8], previous: &mut u8, out: &mut Vec<u8>) {
    let mut copied = 0;
    for lf in memchr::memchr_iter(b'\n', bytes) {
        let before = match lf {
            0 => *previous,
            _ => bytes.get(lf - 1).copied().unwrap_or_default(),
        };
        if before != b'\r' {
            out.extend_from_slice(bytes.get(copied..lf).unwrap_or_default());
            out.push(b'\r');
            copied = lf;
        }
    }
    out.extend_from_slice(bytes.get(copied..).unwrap_or_default());
    if let Some(&last) = bytes.last() {
        *previous = last;
    }
}

/// The relaxed form of a header value being written, possibly in pieces:
/// unfolded, WSP runs as one SP, no leading or trailing WSP.
#[derive(Default)]
struct RelaxedValue {
    /// Whitespace seen since the last octet written: one SP if more
    /// content follows.
    pending_space: bool,
    /// Whether any content was written (leading whitespace is dropped).
    wrote_any: bool,
}

/// Whether `pair` is non-zero for any two neighbouring octets of `bytes`.
/// A branch-free fold over blocks of 16 pairs, each read from a
/// fixed-size array, so that it compiles to one vector step per block.
#[inline(always)]
fn any_pair(bytes: &[u8], pair: impl Fn(u8, u8) -> u8 + Copy) -> bool {
    const LANES: usize = 16;
    let fold = |found: u8, (&a, &b): (&u8, &u8)| found | pair(a, b);
    let mut found = 0u8;
    let mut start = 0;
    while let Some(window) = bytes
        .get(start..start + LANES + 1)
        .and_then(|window| <&[u8; LANES + 1]>::try_from(window).ok())
    {
        found |= window.iter().zip(window.iter().skip(1)).fold(0, fold);
        start += LANES;
    }
    let rest = bytes.get(start..).unwrap_or_default();
    found |= rest
        .iter()
        .zip(rest.get(1..).unwrap_or_default())
        .fold(0, fold);
    found != 0
}

/// Whether `bytes` holds two SPs in a row.
fn has_double_space(bytes: &[u8]) -> bool {
    any_pair(bytes, |a, b| u8::from(a == b' ') & u8::from(b == b' '))
}

/// Whether `bytes` holds a TAB, CR or LF, or two SPs in a row: whitespace
/// that relaxed canonicalization changes other than at either end.
fn has_folding_or_runs(bytes: &[u8]) -> bool {
    any_pair(bytes, |a, b| {
        (u8::from(a == b' ') & u8::from(b == b' '))
            | u8::from(a == b'\t')
            | u8::from(a == b'\r')
            | u8::from(a == b'\n')
    }) || bytes
        .last()
        .is_some_and(|&b| matches!(b, b'\t' | b'\r' | b'\n'))
}

impl RelaxedValue {
    /// Appends the next piece of the value.
    ///
    /// The piece is cut at each TAB, CR or LF (found with one vectorized
    /// search): the segments between hold no whitespace but SP, and one
    /// without two SPs in a row is canonical already but for an SP at
    /// either end, so it is copied whole. The run of whitespace after each
    /// cut is skipped, leaving one pending SP if it holds a SP or TAB.
    fn append(&mut self, value: &[u8], out: &mut Vec<u8>) {
        if !has_folding_or_runs(value) {
            // The usual unfolded value: one segment.
            self.append_segment(value, out);
            return;
        }
        let mut rest = value;
        loop {
            let cut = memchr::memchr3(b'\t', b'\r', b'\n', rest).unwrap_or(rest.len());
            let (segment, tail) = rest.split_at(cut);
            if has_double_space(segment) {
                self.append_runs(segment, out);
            } else {
                self.append_segment(segment, out);
            }
            if tail.is_empty() {
                return;
            }
            let gap = tail
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                .unwrap_or(tail.len());
            let whitespace = tail.get(..gap).unwrap_or_default();
            if whitespace.iter().any(|&b| b == b' ' || b == b'\t') {
                self.pending_space = true;
            }
            rest = tail.get(gap..).unwrap_or_default();
        }
    }

    /// Appends a segment whose only whitespace is single SPs.
    fn append_segment(&mut self, segment: &[u8], out: &mut Vec<u8>) {
        let mut content = segment;
        if let Some(tail) = content.strip_prefix(b" ") {
            self.pending_space = true;
            content = tail;
        }
        let trailing = match content.strip_suffix(b" ") {
            Some(head) => {
                content = head;
                true
            }
            None => false,
        };
        if !content.is_empty() {
            if self.pending_space && self.wrote_any {
                out.push(b' ');
            }
            self.wrote_any = true;
            self.pending_space = false;
            out.extend_from_slice(content);
        }
        if trailing {
            self.pending_space = true;
        }
    }

    /// Appends bytes of any kind, from run of non-whitespace to run of
    /// whitespace: the general case (and the reference the tests hold
    /// [`append`](Self::append) to).
    fn append_runs(&mut self, value: &[u8], out: &mut Vec<u8>) {
        let mut rest = value;
        while !rest.is_empty() {
            // A run of bytes that stay as they are, copied at once.
            let run = rest
                .iter()
                .position(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                .unwrap_or(rest.len());
            if run > 0 {
                if self.pending_space && self.wrote_any {
                    out.push(b' ');
                }
                self.pending_space = false;
                self.wrote_any = true;
                out.extend_from_slice(rest.get(..run).unwrap_or_default());
            }
            // Then whitespace and line breaks: only a following run writes a SP.
            let gap = rest
                .get(run..)
                .unwrap_or_default()
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                .map_or(rest.len(), |i| run + i);
            if rest
                .get(run..gap)
                .is_some_and(|g| g.iter().any(|&b| b == b' ' || b == b'\t'))
            {
                self.pending_space = true;
            }
            rest = rest.get(gap..).unwrap_or_default();
        }
    }
}

fn trim_wsp_end(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(0, |i| i + 1);
    bytes.get(..end).unwrap_or(bytes)
}

impl BodyCanonicalization {
    /// The name used in `c=`.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyCanonicalization::Simple => "simple",
            BodyCanonicalization::Relaxed => "relaxed",
        }
    }

    /// Parses `simple` or `relaxed` (case-insensitive).
    pub fn from_name(name: &str) -> Option<BodyCanonicalization> {
        if name.eq_ignore_ascii_case("simple") {
            Some(BodyCanonicalization::Simple)
        } else if name.eq_ignore_ascii_case("relaxed") {
            Some(BodyCanonicalization::Relaxed)
        } else {
            None
        }
    }
}

/// The `c=` tag: header and body canonicalization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Canonicalization {
    /// How header fields are canonicalized.
    pub header: HeaderCanonicalization,
    /// How the body is canonicalized.
    pub body: BodyCanonicalization,
}

impl Canonicalization {
    /// Parses a `c=` value: `header` or `header/body`; a missing body part
    /// means `simple` (RFC 6376 §3.5).
    pub fn from_tag(value: &str) -> Option<Canonicalization> {
        let (header, body) = match value.split_once('/') {
            Some((header, body)) => (header, Some(body)),
            None => (value, None),
        };
        Some(Canonicalization {
            header: HeaderCanonicalization::from_name(header)?,
            body: match body {
                Some(body) => BodyCanonicalization::from_name(body)?,
                None => BodyCanonicalization::Simple,
            },
        })
    }
}

impl fmt::Display for Canonicalization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.header.as_str(), self.body.as_str())
    }
}

/// A running SHA-1 or SHA-256.
#[derive(Clone)]
pub(crate) enum RunningHash {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl RunningHash {
    pub(crate) fn new(algorithm: HashAlgorithm) -> RunningHash {
        match algorithm {
            HashAlgorithm::Sha1 => RunningHash::Sha1(sha1::Sha1::new()),
            HashAlgorithm::Sha256 => RunningHash::Sha256(sha2::Sha256::new()),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            RunningHash::Sha1(h) => h.update(bytes),
            RunningHash::Sha256(h) => h.update(bytes),
        }
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        match self {
            RunningHash::Sha1(h) => h.finalize().to_vec(),
            RunningHash::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

impl fmt::Debug for RunningHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RunningHash::Sha1(_) => "RunningHash(sha1)",
            RunningHash::Sha256(_) => "RunningHash(sha256)",
        })
    }
}

/// The result of hashing a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyHash {
    /// The digest of the hashed canonical body (what `bh=` holds).
    pub digest: Vec<u8>,
    /// How many canonical octets were hashed: the whole canonical body, or
    /// the length limit when it is shorter.
    pub hashed_length: u64,
    /// The length of the whole canonical body. Greater than
    /// [`hashed_length`](Self::hashed_length) when a length limit (`l=`)
    /// left content unsigned.
    pub canonical_length: u64,
}

impl BodyHash {
    /// Whether a length limit left canonical body content out of the hash.
    pub fn has_unsigned_content(&self) -> bool {
        self.canonical_length > self.hashed_length
    }
}

/// Size of the output buffer handed to the hash function at once. Small
/// enough for the allocator's per-thread cache (a larger block costs a
/// trip through the general heap for every message); spans at least this
/// long go to the hash function directly.
const OUTPUT_BUFFER: usize = 1024;
/// CRLF repeated, to write held-back empty lines in few calls.
const CRLFS: &[u8; 64] = b"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";

/// Searcher for two spaces in a row, built once for every hasher.
static DOUBLE_SPACE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"  "));
/// Searcher for a space before a CR, built once for every hasher.
static TRAILING_SPACE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b" \r"));

/// Whether `chunk` holds an LF that does not follow a CR within the chunk.
/// Written as a branch-free fold so that it compiles to vector code.
fn has_bare_lf(chunk: &[u8]) -> bool {
    if chunk.first() == Some(&b'\n') {
        return true;
    }
    let previous = chunk
        .get(..chunk.len().saturating_sub(1))
        .unwrap_or_default();
    let current = chunk.get(1..).unwrap_or_default();
    let mut found = false;
    for (blocks_previous, blocks_current) in previous.chunks(4096).zip(current.chunks(4096)) {
        let mut bare = 0u8;
        for (&p, &c) in blocks_previous.iter().zip(blocks_current) {
            bare |= u8::from(c == b'\n') & u8::from(p != b'\r');
        }
        if bare != 0 {
            found = true;
            break;
        }
    }
    found
}

/// Canonical octets gathered on the stack before they go to the hash
/// function (relaxed, block by block).
struct Gather {
    /// `GATHER` octets of room and slack for one more block: the kept
    /// spans of a block are copied in whole blocks whose end is
    /// overwritten by what comes next.
    buffer: [u8; GATHER + 4 * BLOCK],
    len: usize,
}

/// When gathered octets are settled (handed to the hash function but for
/// trailing line breaks, which are held back).
const GATHER: usize = 4096;
/// Chunks at least this long are canonicalized block by block (relaxed);
/// shorter ones are not worth setting up the gather buffer for.
const BLOCKWISE_MIN: usize = 256;
/// Octets classified at once.
const BLOCK: usize = 64;
/// Gathered octets left unhashed behind the last written: reading them
/// right after the copies that wrote them would stall (measured: 4-5%
/// slower with none held back, no different from 64 to 256).
const HASH_LAG: usize = 128;
/// Gathered octets handed to the hash function at once, at least: each
/// call costs some cycles of its own besides the compression (measured on
/// whitespace-dense text: 77% of SHA-256 alone with a call per block, 79%
/// with two blocks at least, 77% with four).
const HASH_BATCH: usize = 2 * BLOCK;
/// The same when blocks are packed with AVX-512 ([`wide`]): the packing
/// takes so little that the calls into the hash function show (measured
/// on whitespace-dense text: 89% of SHA-256 alone with 8 blocks at least,
/// 92% with 16, 91% with 32).
const WIDE_HASH_BATCH: usize = 16 * BLOCK;
/// A block with the octet before it and room to read 16 octets from any
/// offset in it.
const WINDOW: usize = BLOCK + 16;

impl Gather {
    fn new() -> Gather {
        Gather {
            buffer: [0; GATHER + 4 * BLOCK],
            len: 0,
        }
    }
}

/// The end of a chunk (a block and the block after it), copied with zeros
/// after it.
struct Block {
    octets: [u8; REGION],
}

/// A block and the block after it: what the block is packed or copied
/// from, and the next block classified and staged from.
const REGION: usize = 2 * BLOCK;

impl Block {
    fn new() -> Block {
        Block {
            octets: [0; REGION],
        }
    }

    /// Loads `chunk[base..]` (up to two blocks of octets).
    fn load(&mut self, chunk: &[u8], base: usize) {
        self.octets.fill(0);
        let source = chunk.get(base..).unwrap_or_default();
        for (target, &octet) in self.octets.iter_mut().zip(source) {
            *target = octet;
        }
    }
}

/// A block classified for relaxed canonicalization: which octets stay and
/// which are bare LFs.
struct Classified {
    /// Bit `i` set if octet `i` of the block stays in the canonical body:
    /// all but a SP or TAB followed by another SP or TAB, or by a line
    /// break (LF, or CR LF). Of a run of WSP the last octet stays (as a SP)
    /// unless the line ends after it: the run reduced to one SP, trailing
    /// whitespace removed.
    keep: u64,
    /// Bit `i` set if octet `i` is an LF that does not follow a CR: a line
    /// break written as CRLF.
    bare_lf: u64,
}

/// One bit per octet of a block for each kind of octet relaxed
/// canonicalization acts on: what a block is classified from, with the
/// same of the blocks around it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Kinds {
    /// SP and TAB.
    wsp: u64,
    /// CR.
    crs: u64,
    /// LF.
    lfs: u64,
}

impl Kinds {
    /// The kinds of the octets of `block`.
    ///
    /// On x86-64: SSE2 comparisons and a move-mask per 16 octets, through
    /// `safe_arch`'s safe wrappers (the compiler does not turn the portable
    /// form's bit packing into a move-mask).
    #[cfg(target_arch = "x86_64")]
    #[inline]
    fn of(block: &[u8; BLOCK]) -> Kinds {
        use safe_arch::{
            bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i,
            set_splat_i8_m128i,
        };
        let space = set_splat_i8_m128i(b' ' as i8);
        let tab = set_splat_i8_m128i(b'\t' as i8);
        let cr = set_splat_i8_m128i(b'\r' as i8);
        let lf = set_splat_i8_m128i(b'\n' as i8);
        let mut kinds = Kinds::default();
        for (k, bytes) in block.chunks_exact(16).enumerate() {
            let Ok(bytes) = <&[u8; 16]>::try_from(bytes) else {
                continue;
            };
            let here = load_unaligned_m128i(bytes);
            let bits = |mask| u64::from(move_mask_i8_m128i(mask) as u32 & 0xffff) << (16 * k);
            kinds.wsp |= bits(bitor_m128i(
                cmp_eq_mask_i8_m128i(here, space),
                cmp_eq_mask_i8_m128i(here, tab),
            ));
            kinds.crs |= bits(cmp_eq_mask_i8_m128i(here, cr));
            kinds.lfs |= bits(cmp_eq_mask_i8_m128i(here, lf));
        }
        kinds
    }

    /// The kinds of the octets of `block` (see the x86-64 version).
    #[cfg(not(target_arch = "x86_64"))]
    #[inline]
    fn of(block: &[u8; BLOCK]) -> Kinds {
        Kinds::of_octets(block)
    }

    /// The kinds of the first octets of a block, `octets` (up to
    /// `BLOCK`), octet by octet.
    #[inline]
    fn of_octets(octets: &[u8]) -> Kinds {
        let mut kinds = Kinds::default();
        for (i, &octet) in octets.iter().take(BLOCK).enumerate() {
            kinds.wsp |= u64::from(is_wsp(octet)) << i;
            kinds.crs |= u64::from(octet == b'\r') << i;
            kinds.lfs |= u64::from(octet == b'\n') << i;
        }
        kinds
    }

    /// The kinds of a block whose last octet is `octet`, as far as the
    /// block after it looks (a CR ending it).
    #[inline]
    fn ending_with(octet: Option<u8>) -> Kinds {
        Kinds {
            crs: u64::from(octet == Some(b'\r')) << (BLOCK - 1),
            ..Kinds::default()
        }
    }

    /// This block classified, `before` and `after` being the kinds of the
    /// blocks around it (of which the last octet before and the first two
    /// after matter).
    #[inline]
    fn classify(&self, before: &Kinds, after: &Kinds) -> Classified {
        let wsp_next = (self.wsp >> 1) | (after.wsp << 63);
        let lf_next = (self.lfs >> 1) | (after.lfs << 63);
        let cr_next = (self.crs >> 1) | (after.crs << 63);
        let lf_after_next = (self.lfs >> 2) | (after.lfs << 62);
        let dropped = self.wsp & (wsp_next | lf_next | (cr_next & lf_after_next));
        let cr_before = (self.crs << 1) | (before.crs >> 63);
        Classified {
            keep: !dropped,
            bare_lf: self.lfs & !cr_before,
        }
    }
}

/// Classifies the block in `window` (`window[1..65]`, `window[0]` being
/// the octet before and `window[65..67]` the two after).
#[inline]
fn classify(window: &[u8; WINDOW]) -> Classified {
    let block = window
        .get(1..=BLOCK)
        .and_then(|block| <&[u8; BLOCK]>::try_from(block).ok())
        .map(Kinds::of)
        .unwrap_or_default();
    let after = Kinds::of_octets(window.get(1 + BLOCK..3 + BLOCK).unwrap_or_default());
    block.classify(&Kinds::ending_with(window.first().copied()), &after)
}

/// [`classify`] octet by octet, from the definition (tests).
#[cfg(test)]
fn classify_portable(window: &[u8; WINDOW]) -> Classified {
    let mut keep = 0u64;
    let mut bare_lf = 0u64;
    for i in 0..BLOCK {
        let at = |offset: usize| window.get(i + offset).copied().unwrap_or_default();
        let (before, here, next, after_next) = (at(0), at(1), at(2), at(3));
        let dropped = is_wsp(here)
            & (is_wsp(next) | (next == b'\n') | ((next == b'\r') & (after_next == b'\n')));
        keep |= u64::from(!dropped) << i;
        bare_lf |= u64::from((here == b'\n') & (before != b'\r')) << i;
    }
    Classified { keep, bare_lf }
}

/// Classifies and packs blocks at once (see [`wide`]).
trait Pack: Copy {
    /// The kinds of the octets of `block` (as [`Kinds::of`]).
    fn kinds(self, block: &[u8; BLOCK]) -> Kinds;
    /// Writes the octets of `block` marked in `keep`, those marked in
    /// `wsp` as SPs, from the start of `target`.
    fn pack(self, block: &[u8; BLOCK], keep: u64, wsp: u64, target: &mut [u8; BLOCK]);
}

impl Pack for wide::Token {
    #[inline(always)]
    fn kinds(self, block: &[u8; BLOCK]) -> Kinds {
        wide::kinds(self, block)
    }

    #[inline(always)]
    fn pack(self, block: &[u8; BLOCK], keep: u64, wsp: u64, target: &mut [u8; BLOCK]) {
        wide::pack(self, block, keep, wsp, target);
    }
}

/// Relaxed canonicalization of a block with AVX-512, where the processor
/// has it (detected at run time): the block is classified by comparisons
/// into mask registers and its kept octets, TABs turned into SPs, packed
/// with one byte compress (VBMI2), instead of copied span by span.
#[cfg(target_arch = "x86_64")]
mod wide {
    use super::{BLOCK, BodyHasher, Kinds};
    use archmage::prelude::*;

    /// Proof that the processor has AVX-512 with VBMI2 (Ice Lake, Zen 4
    /// and later).
    pub(super) type Token = X64V4xToken;

    /// The token if the processor has the features.
    pub(super) fn detect() -> Option<Token> {
        X64V4xToken::summon()
    }

    /// [`BodyHasher::relaxed_blocks`] with AVX-512 enabled.
    #[arcane]
    pub(super) fn relaxed_blocks(
        token: X64V4xToken,
        hasher: &mut BodyHasher,
        chunk: &[u8],
        start: usize,
    ) -> usize {
        hasher.blocks(chunk, start, Some(token))
    }

    /// The kinds of the octets of `block`, by comparisons into mask
    /// registers.
    #[arcane(import_intrinsics)]
    pub(super) fn kinds(_token: X64V4xToken, block: &[u8; BLOCK]) -> Kinds {
        let here = _mm512_loadu_si512(block);
        let at = |octet: u8| _mm512_cmpeq_epi8_mask(here, _mm512_set1_epi8(octet as i8));
        Kinds {
            wsp: at(b' ') | at(b'\t'),
            crs: at(b'\r'),
            lfs: at(b'\n'),
        }
    }

    /// Writes the octets of `block` marked in `keep`, those marked in
    /// `wsp` as SPs, packed from the start of `target` (what follows them
    /// there is left over from the compress, to be overwritten next).
    #[arcane(import_intrinsics)]
    pub(super) fn pack(
        _token: X64V4xToken,
        block: &[u8; BLOCK],
        keep: u64,
        wsp: u64,
        target: &mut [u8; BLOCK],
    ) {
        let here = _mm512_loadu_si512(block);
        let spaced = _mm512_mask_blend_epi8(wsp, here, _mm512_set1_epi8(b' ' as i8));
        _mm512_storeu_si512(target, _mm512_maskz_compress_epi8(keep, spaced));
    }
}

/// No wide path on other processors: a token that cannot exist.
#[cfg(not(target_arch = "x86_64"))]
mod wide {
    use super::{BLOCK, BodyHasher, Kinds};

    /// A token no processor gives.
    #[derive(Debug, Clone, Copy)]
    pub(super) enum Token {}

    /// Never a token.
    pub(super) fn detect() -> Option<Token> {
        None
    }

    /// Never called: there is no token to call it with.
    pub(super) fn relaxed_blocks(token: Token, _: &mut BodyHasher, _: &[u8], _: usize) -> usize {
        match token {}
    }

    /// Never called: there is no token to call it with.
    pub(super) fn kinds(token: Token, _: &[u8; BLOCK]) -> Kinds {
        match token {}
    }

    /// Never called: there is no token to call it with.
    pub(super) fn pack(token: Token, _: &[u8; BLOCK], _: u64, _: u64, _: &mut [u8; BLOCK]) {
        match token {}
    }
}

/// Blocks sampled to tell whether a chunk is whitespace-dense.
const SAMPLED_BLOCKS: usize = 8;
/// Octets needing work (runs of dropped octets and TABs) in
/// `SAMPLED_BLOCKS` blocks from which a chunk counts as whitespace-dense.
const DENSE_EVENTS: u32 = 2;

/// Whether the first blocks of `chunk` from `start` have octets needing
/// work (runs of whitespace to drop, TABs) more often than one per 256
/// octets: such a chunk is canonicalized by copying the kept spans of every
/// block, which costs the same however many there are; with fewer,
/// handling each between spans that go to the hash function whole is
/// cheaper. (Measured: text with a double space or TAB every two or three
/// lines goes at 82% of SHA-256 alone block-wise, 76% span-wise; prose
/// and base64 without any at 87% span-wise, 84% block-wise.)
fn whitespace_dense(chunk: &[u8], start: usize) -> bool {
    let mut events = 0;
    let mut blocks = 0;
    // From the second octet, so that the octet before is in the chunk.
    let mut base = start.max(1);
    while blocks < SAMPLED_BLOCKS {
        let Some(window) = base
            .checked_sub(1)
            .and_then(|first| chunk.get(first..first + WINDOW))
            .and_then(|window| <&[u8; WINDOW]>::try_from(window).ok())
        else {
            break;
        };
        let dropped = !classify(window).keep;
        events += (dropped & !(dropped << 1)).count_ones();
        events += window
            .get(1..=BLOCK)
            .unwrap_or_default()
            .iter()
            .map(|&octet| u32::from(octet == b'\t'))
            .sum::<u32>();
        blocks += 1;
        base += BLOCK;
        if events >= DENSE_EVENTS {
            // Dense however few blocks were sampled: no need to go on.
            return true;
        }
    }
    blocks > 0 && events * SAMPLED_BLOCKS as u32 >= DENSE_EVENTS * blocks as u32
}

/// The octet at `offset` in the block of `window`.
#[inline]
fn octet(window: &[u8; WINDOW], offset: usize) -> u8 {
    window.get(1 + offset).copied().unwrap_or_default()
}

/// Copies the spans of kept octets of the block in `source` (`source[..64]`,
/// [`Classified`]) after the octets `out` holds; returns where they end.
/// A bare LF starts a span of its own, after a CR, if `BARE_LF`.
#[inline]
fn gather_spans<const BARE_LF: bool>(
    out: &mut Gather,
    source: &[u8; 2 * BLOCK],
    keep: u64,
    bare_lf: u64,
) -> usize {
    let stops = !keep | bare_lf;
    let mut starts = keep & (!(keep << 1) | bare_lf);
    let mut written = out.len;
    while starts != 0 {
        let from = starts.trailing_zeros() as usize & (BLOCK - 1);
        starts &= starts - 1;
        let to = (stops & ((u64::MAX << from) << 1)).trailing_zeros() as usize;
        // Never more than a block of slack used (a block adds at most two
        // blocks of octets to less than `GATHER`): the bound only lets the
        // compiler see it.
        let mut at = written.min(GATHER + 2 * BLOCK);
        if BARE_LF {
            if let Some(target) = out.buffer.get_mut(at) {
                *target = b'\r';
            }
            at += ((bare_lf >> from) & 1) as usize;
        }
        // Whole halves of a block: the octets past `to` are overwritten
        // next; most spans fit in the first.
        copy_half_block(&mut out.buffer, at, source, from);
        if to - from > HALF_BLOCK {
            copy_half_block(&mut out.buffer, at + HALF_BLOCK, source, from + HALF_BLOCK);
        }
        written = at + (to - from);
    }
    written
}

/// Half a block: what one span copy writes at once.
const HALF_BLOCK: usize = BLOCK / 2;

/// Copies `HALF_BLOCK` octets of `source` from `from` to `target` at `at`
/// (nothing if either is out of range, which the callers' bounds exclude).
#[inline]
fn copy_half_block(target: &mut [u8], at: usize, source: &[u8; 2 * BLOCK], from: usize) {
    if let (Some(target), Some(span)) = (
        target
            .get_mut(at..at + HALF_BLOCK)
            .and_then(|target| <&mut [u8; HALF_BLOCK]>::try_from(target).ok()),
        source
            .get(from..from + HALF_BLOCK)
            .and_then(|span| <&[u8; HALF_BLOCK]>::try_from(span).ok()),
    ) {
        *target = *span;
    }
}

/// Copies the first block of `bytes` (up to `BLOCK` octets) to the start
/// of `stage`, every TAB turned into a SP (a TAB that stays stood alone
/// between two other octets). Branch-free, so that it compiles to vector
/// code.
#[inline]
fn stage_block(bytes: &[u8], stage: &mut [u8; 2 * BLOCK]) {
    for (target, &octet) in stage.iter_mut().take(BLOCK).zip(bytes) {
        // 0x09 ^ 0x29 is 0x20.
        *target = octet ^ (u8::from(octet == b'\t') * 0x29);
    }
}

fn is_wsp(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// The end of the run of WSP starting at `from`.
fn wsp_run_end(bytes: &[u8], from: usize) -> usize {
    let mut end = from;
    while bytes.get(end).is_some_and(|&b| is_wsp(b)) {
        end += 1;
    }
    end
}

/// The next position at or after `from` found by `find`, remembered in
/// `cache` while it is still ahead; `bytes.len()` when there is none.
#[inline]
fn search(
    cache: &mut Option<usize>,
    bytes: &[u8],
    from: usize,
    find: impl FnOnce(&[u8]) -> Option<usize>,
) -> usize {
    match *cache {
        Some(found) if found >= from => found,
        _ => {
            let rest = bytes.get(from..).unwrap_or_default();
            let found = from + find(rest).unwrap_or(rest.len());
            *cache = Some(found);
            found
        }
    }
}

/// The body hashes of several signatures, each distinct (canonicalization,
/// hash, length limit) computed once however many signatures share it:
/// the body streams through every hasher (DKIM verification, ARC
/// validation).
#[derive(Debug, Clone, Default)]
pub(crate) struct BodyHashers {
    hashers: Vec<(BodyHashParameters, BodyHasher)>,
}

/// What makes two body hashes the same: canonicalization, hash, `l=`.
type BodyHashParameters = (BodyCanonicalization, HashAlgorithm, Option<u64>);

impl BodyHashers {
    /// The index of the hash for these parameters (its place in
    /// [`finish`](Self::finish)), adding a hasher when none has them yet.
    pub(crate) fn index_for(
        &mut self,
        canonicalization: BodyCanonicalization,
        hash: HashAlgorithm,
        length_limit: Option<u64>,
    ) -> usize {
        let key = (canonicalization, hash, length_limit);
        if let Some(i) = self.hashers.iter().position(|(k, _)| *k == key) {
            return i;
        }
        self.hashers
            .push((key, BodyHasher::new(canonicalization, hash, length_limit)));
        self.hashers.len() - 1
    }

    /// Feeds body bytes to every hasher.
    pub(crate) fn update(&mut self, body: &[u8]) {
        if !body.is_empty() {
            for (_, hasher) in &mut self.hashers {
                hasher.update(body);
            }
        }
    }

    /// Drops every hasher (nothing left to verify).
    pub(crate) fn clear(&mut self) {
        self.hashers.clear();
    }

    /// The hashes, in the order of [`index_for`](Self::index_for).
    pub(crate) fn finish(self) -> Vec<BodyHash> {
        self.hashers.into_iter().map(|(_, h)| h.finish()).collect()
    }
}

/// Streaming body canonicalization and hashing (RFC 6376 §3.4.3, §3.4.4,
/// §3.7): the value compared with `bh=`.
///
/// ```
/// use mailauth::dkim::{BodyCanonicalization, BodyHasher, HashAlgorithm};
///
/// let mut hasher = BodyHasher::new(BodyCanonicalization::Relaxed, HashAlgorithm::Sha256, None);
/// hasher.update(b"Hello  \r");
/// hasher.update(b"\nworld\n\n\n");
/// let hash = hasher.finish();
/// assert_eq!(hash.canonical_length, b"Hello\r\nworld\r\n".len() as u64);
/// ```
#[derive(Debug, Clone)]
pub struct BodyHasher {
    canonicalization: BodyCanonicalization,
    hash: RunningHash,
    buffer: Vec<u8>,
    length_limit: Option<u64>,
    /// Canonical octets produced so far (whole body, not only hashed).
    produced: u64,
    /// Canonical octets handed to the hash so far.
    hashed: u64,
    /// Line breaks seen but not yet written: they are dropped if only empty
    /// lines follow until the end.
    pending_line_breaks: u64,
    /// A run of WSP seen but not yet written (relaxed only).
    pending_space: bool,
    /// A CR seen as the last byte of a chunk: a line break if LF follows.
    pending_cr: bool,
    /// Whether any non-empty line content has been produced.
    produced_content: bool,
    /// Searcher for two spaces in a row (relaxed only).
    double_space: &'static memchr::memmem::Finder<'static>,
    /// Searcher for a space before a CR (relaxed only): whitespace that may
    /// end a line.
    trailing_space: &'static memchr::memmem::Finder<'static>,
    /// The processor's AVX-512, if it has it (relaxed only): blocks are
    /// packed with it ([`wide`]).
    wide: Option<wide::Token>,
}

impl BodyHasher {
    /// A hasher for a body canonicalized with `canonicalization`, hashed with
    /// `hash`, of which at most `length_limit` canonical octets are hashed
    /// (the `l=` tag).
    pub fn new(
        canonicalization: BodyCanonicalization,
        hash: HashAlgorithm,
        length_limit: Option<u64>,
    ) -> BodyHasher {
        BodyHasher {
            canonicalization,
            hash: RunningHash::new(hash),
            buffer: Vec::with_capacity(OUTPUT_BUFFER),
            length_limit,
            produced: 0,
            hashed: 0,
            pending_line_breaks: 0,
            pending_space: false,
            pending_cr: false,
            produced_content: false,
            double_space: &DOUBLE_SPACE,
            trailing_space: &TRAILING_SPACE,
            wide: match canonicalization {
                BodyCanonicalization::Relaxed => wide::detect(),
                BodyCanonicalization::Simple => None,
            },
        }
    }

    /// Feeds the next chunk of the body (bytes after the blank line that
    /// ends the header). Chunks may be split anywhere.
    pub fn update(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        if self.pending_cr {
            self.pending_cr = false;
            match rest.first() {
                None => {
                    self.pending_cr = true;
                    return;
                }
                Some(b'\n') => {
                    self.line_break();
                    rest = rest.get(1..).unwrap_or_default();
                }
                Some(_) => self.lone_cr(),
            }
        }
        let relaxed = self.canonicalization == BodyCanonicalization::Relaxed;
        if relaxed && rest.len() >= BLOCKWISE_MIN {
            self.update_relaxed(rest);
        } else if has_bare_lf(rest) {
            self.update_chunk(rest, relaxed);
        } else {
            self.update_crlf_chunk(rest, relaxed);
        }
    }

    /// Canonicalizes one chunk with relaxed canonicalization.
    ///
    /// After a run of whitespace that goes on from the last chunk, a
    /// whitespace-dense chunk ([`whitespace_dense`]) is read 64 octets at a
    /// time while two more octets follow in the chunk
    /// ([`relaxed_blocks`](Self::relaxed_blocks)); the rest, too short to
    /// be worth a block, goes the octet-wise way. Other chunks have few
    /// octets to change, which are handled one run at a time between long
    /// spans ([`update_relaxed_spans`](Self::update_relaxed_spans)).
    fn update_relaxed(&mut self, chunk: &[u8]) {
        let mut base = 0;
        if self.pending_space {
            // The run of whitespace that ended the last chunk goes on.
            let end = wsp_run_end(chunk, 0);
            base = self.after_relaxed_run(chunk, end);
        }
        if !whitespace_dense(chunk, base) {
            self.update_relaxed_spans(chunk.get(base..).unwrap_or_default());
            return;
        }
        if base + BLOCK + 2 <= chunk.len() {
            base = self.relaxed_blocks(chunk, base);
        }
        if let Some(rest) = chunk.get(base..).filter(|rest| !rest.is_empty()) {
            // Shorter than a block and two octets: never block-wise again.
            self.update(rest);
        }
    }

    /// Canonicalizes `chunk` from `start` block by block while two octets
    /// follow the block in the chunk; returns where it stopped.
    ///
    /// Each block is classified at once ([`Kinds::classify`]): which
    /// octets stay and where bare LFs are, from the masks of its SPs and
    /// TABs, CRs and LFs (computed as the block before is handled) and
    /// those of the blocks around it. The kept spans are copied to a
    /// [`Gather`] buffer in half-block copies (a bare LF gets its CR first)
    /// from a copy of the block with TABs turned into SPs, staged while the
    /// block before was handled; the buffer is the canonical body but for
    /// trailing empty lines. What the buffer holds up to its last line
    /// content, but for the last `HASH_LAG` octets (which may still be in
    /// the processor's store queue), is handed to the hash function in
    /// whole 64-octet blocks, `HASH_BATCH` octets or more at a time, so
    /// that hashing them may overlap with canonicalizing the next (on long
    /// bodies; a 4 KiB body is canonicalized as fast with all of it hashed
    /// at the end); line breaks at the end are held back.
    ///
    /// Where the processor has AVX-512 ([`wide`]), the whole loop runs with
    /// it enabled, so that packing a block is inlined into it; a block with
    /// a bare LF is still copied span by span, and the output goes to the
    /// hash function `WIDE_HASH_BATCH` octets or more at a time.
    fn relaxed_blocks(&mut self, chunk: &[u8], start: usize) -> usize {
        match self.wide {
            Some(token) => wide::relaxed_blocks(token, self, chunk, start),
            None => self.blocks::<wide::Token>(chunk, start, None),
        }
    }

    /// [`relaxed_blocks`](Self::relaxed_blocks), with blocks packed by
    /// `packer` where there is one.
    #[inline(always)]
    fn blocks<P: Pack>(&mut self, chunk: &[u8], start: usize, packer: Option<P>) -> usize {
        let len = chunk.len();
        // What the slow path buffered goes first.
        self.flush();
        if self.pending_space && chunk.get(start) == Some(&b'\n') {
            // Whitespace before a bare LF ends the line.
            self.pending_space = false;
        }
        let mut out = Gather::new();
        // Octets gathered, of which those before `hashed` are hashed; the
        // end of the last line content found in the first `scanned`: what
        // comes before it is final.
        let mut written = 0;
        let mut hashed = 0;
        let mut content_end: usize = 0;
        let mut scanned = 0;
        let mut padded = Block::new();
        // Each block with TABs turned into SPs, staged one block ahead (so
        // that the stores are done before spans are copied from it), with
        // room to copy spans in whole halves of a block: what a copy takes
        // past the span is overwritten next. Packed blocks need no stage;
        // a block with a bare LF among them is staged when it comes.
        let mut stages = [[0u8; 2 * BLOCK]; 2];
        let mut parity = 0;
        let batch = if packer.is_some() {
            WIDE_HASH_BATCH
        } else {
            stage_block(chunk.get(start..).unwrap_or_default(), &mut stages[0]);
            HASH_BATCH
        };
        let kinds = |block: &[u8; BLOCK]| match packer {
            Some(packer) => packer.kinds(block),
            None => Kinds::of(block),
        };
        // Each block's octets are told apart once, a block ahead: the
        // block is classified from its kinds and those of the blocks
        // around it.
        let mut before =
            Kinds::ending_with(start.checked_sub(1).and_then(|i| chunk.get(i)).copied());
        let mut here = chunk
            .get(start..start + BLOCK)
            .and_then(|block| <&[u8; BLOCK]>::try_from(block).ok())
            .map(kinds)
            .unwrap_or_default();
        let mut hash_from = self.hash_threshold(hashed, batch);
        let mut base = start;
        while base + BLOCK + 2 <= len {
            if written >= hash_from {
                // Line content last among the octets gathered since the
                // last look makes everything before it final (a CR or LF
                // there may be part of empty lines at the end).
                if let Some(last) = out
                    .buffer
                    .get(scanned..written)
                    .and_then(|new| new.iter().rposition(|&o| o != b'\r' && o != b'\n'))
                {
                    content_end = scanned + last + 1;
                }
                scanned = written;
                if content_end >= hash_from {
                    // What the last blocks made final, hashed while this
                    // block is canonicalized; the first update completes
                    // the hash function's partial block so that the next
                    // ones are whole.
                    let partial = (self.hashed % BLOCK as u64) as usize;
                    let ready =
                        ((content_end - HASH_LAG - hashed + partial) & !(BLOCK - 1)) - partial;
                    self.hash_content(out.buffer.get(hashed..hashed + ready).unwrap_or_default());
                    hashed += ready;
                    hash_from = self.hash_threshold(hashed, batch);
                }
            }
            let region = match chunk.get(base..).and_then(<[u8]>::first_chunk::<REGION>) {
                Some(region) => region,
                None => {
                    padded.load(chunk, base);
                    &padded.octets
                }
            };
            let (Some(block), Some(following)) = (
                region
                    .get(..BLOCK)
                    .and_then(|block| <&[u8; BLOCK]>::try_from(block).ok()),
                region
                    .get(BLOCK..)
                    .and_then(|block| <&[u8; BLOCK]>::try_from(block).ok()),
            ) else {
                break;
            };
            let after = kinds(following);
            let Classified { keep, bare_lf } = here.classify(&before, &after);
            written = if let Some(packer) = packer {
                // The block packed at once where it has no bare LF.
                let at = written.min(GATHER);
                let Some(target) = out
                    .buffer
                    .get_mut(at..at + BLOCK)
                    .and_then(|target| <&mut [u8; BLOCK]>::try_from(target).ok())
                else {
                    break;
                };
                if bare_lf == 0 {
                    packer.pack(block, keep, here.wsp, target);
                    at + keep.count_ones() as usize
                } else {
                    let [stage, _] = &mut stages;
                    stage_block(region, stage);
                    out.len = written;
                    gather_spans::<true>(&mut out, stage, keep, bare_lf)
                }
            } else {
                let [even, odd] = &mut stages;
                let (stage, next_stage) = if parity == 0 {
                    (even, odd)
                } else {
                    (odd, even)
                };
                stage_block(following, next_stage);
                parity ^= 1;
                let source = &*stage;
                out.len = written;
                // Blocks without a bare LF (nearly all) get a copy of the
                // span loop that leaves out adding a CR.
                if bare_lf == 0 {
                    gather_spans::<false>(&mut out, source, keep, 0)
                } else {
                    gather_spans::<true>(&mut out, source, keep, bare_lf)
                }
            };
            if written >= GATHER {
                out.len = written;
                self.settle(&mut out, hashed, true);
                written = out.len;
                hashed = 0;
                content_end = 0;
                scanned = 0;
                hash_from = self.hash_threshold(hashed, batch);
            }
            before = here;
            here = after;
            base += BLOCK;
        }
        out.len = written;
        if base > start && chunk.get(base - 1) == Some(&b'\r') {
            // A CR stays, so it was gathered last: a line break if LF
            // comes next.
            out.len -= 1;
            self.pending_cr = true;
        }
        self.settle(&mut out, hashed, false);
        base
    }

    /// How far line content must be gathered (in [`blocks`](Self::blocks))
    /// for `batch` octets to be ready to hash after `hashed`: whole
    /// 64-octet blocks of the hash function (counting what it holds of a
    /// partial one), `HASH_LAG` octets behind the last written.
    fn hash_threshold(&self, hashed: usize, batch: usize) -> usize {
        let partial = (self.hashed % BLOCK as u64) as usize;
        hashed + HASH_LAG + batch + (BLOCK - partial) % BLOCK
    }

    /// Hands the gathered octets from `hashed` on to the hash function but
    /// for the line breaks at their end, which are held back; and a CR
    /// last, which stays gathered, if `keep_cr` (the LF that may follow
    /// comes with the next block).
    fn settle(&mut self, out: &mut Gather, hashed: usize, keep_cr: bool) {
        let region = out.buffer.get(hashed..out.len).unwrap_or_default();
        let cr = keep_cr && region.last() == Some(&b'\r');
        let end = region.len() - usize::from(cr);
        let mut content = end;
        while content >= 2 && region.get(content - 2..content) == Some(b"\r\n") {
            content -= 2;
        }
        let breaks = ((end - content) / 2) as u64;
        if content > 0 {
            self.hash_content(region.get(..content).unwrap_or_default());
            self.pending_line_breaks = breaks;
        } else {
            self.pending_line_breaks += breaks;
        }
        if breaks > 0 {
            self.pending_space = false;
        }
        out.len = 0;
        if cr {
            if let Some(first) = out.buffer.first_mut() {
                *first = b'\r';
            }
            out.len = 1;
        }
    }

    /// Hands on canonical octets followed by line content, after what was
    /// held back, straight to the hash function.
    fn hash_content(&mut self, bytes: &[u8]) {
        if self.pending_line_breaks > 0 || self.pending_space {
            self.held_back_now();
        }
        self.produced_content = true;
        self.emit_now(bytes);
    }

    /// Hands on the held-back line breaks and SP.
    #[cold]
    fn held_back_now(&mut self) {
        while self.pending_line_breaks > 0 {
            let n = self.pending_line_breaks.min((CRLFS.len() / 2) as u64);
            self.pending_line_breaks -= n;
            self.emit_now(CRLFS.get(..(n as usize) * 2).unwrap_or_default());
        }
        if self.pending_space {
            self.pending_space = false;
            self.emit_now(b" ");
        }
    }

    /// Hands canonical octets to the hash function directly (the output
    /// buffer is empty), honouring the length limit.
    #[inline]
    fn emit_now(&mut self, bytes: &[u8]) {
        self.produced += bytes.len() as u64;
        let bytes = match self.length_limit {
            Some(limit) => {
                let room = limit.saturating_sub(self.hashed);
                let take = usize::try_from(room).unwrap_or(usize::MAX).min(bytes.len());
                bytes.get(..take).unwrap_or_default()
            }
            None => bytes,
        };
        self.hashed += bytes.len() as u64;
        if !bytes.is_empty() {
            self.hash.update(bytes);
        }
    }

    /// A run of WSP ends at `end` (relaxed): dropped with the line break if
    /// CRLF follows, otherwise held back as one SP (also at the end of the
    /// chunk, where the next chunk may go on with it). Returns where to go
    /// on.
    #[inline]
    fn after_relaxed_run(&mut self, chunk: &[u8], end: usize) -> usize {
        let crlf = chunk.get(end) == Some(&b'\r') && chunk.get(end + 1) == Some(&b'\n');
        self.pending_line_breaks += u64::from(crlf);
        self.pending_space = !crlf;
        end + 2 * usize::from(crlf)
    }

    /// Canonicalizes one chunk.
    ///
    /// The chunk is walked from event to event: line feeds, and for relaxed
    /// canonicalization also tabs and double spaces (each found with one
    /// vectorized search, so every byte is searched once). A line ending in
    /// CRLF with no whitespace before it is already canonical, so the bytes
    /// between events are handed on as one span; only the bytes around an
    /// event that needs work go through [`special`](Self::special).
    fn update_chunk(&mut self, chunk: &[u8], relaxed: bool) {
        let len = chunk.len();
        let mut start = 0;
        if relaxed && self.pending_space {
            start = wsp_run_end(chunk, 0);
        }
        let mut cursor = start;
        let mut next_lf: Option<usize> = None;
        let mut next_tab: Option<usize> = None;
        let mut next_double: Option<usize> = None;
        loop {
            let lf = search(&mut next_lf, chunk, cursor, |rest| {
                memchr::memchr(b'\n', rest)
            });
            let event = if relaxed {
                let tab = search(&mut next_tab, chunk, cursor, |rest| {
                    memchr::memchr(b'\t', rest)
                });
                let finder = &self.double_space;
                let double = search(&mut next_double, chunk, cursor, |rest| finder.find(rest));
                lf.min(tab).min(double)
            } else {
                lf
            };
            if event >= len {
                break;
            }
            if event == lf {
                let clean = lf >= start + 2
                    && chunk.get(lf - 1) == Some(&b'\r')
                    && !(relaxed && chunk.get(lf - 2).is_some_and(|&b| is_wsp(b)));
                if clean {
                    cursor = lf + 1;
                    continue;
                }
            }
            // Work to do around `event`: hand on the span before it, then
            // the whitespace and line break bytes one by one.
            let mut slow_from = event;
            if event == lf && slow_from > start && chunk.get(slow_from - 1) == Some(&b'\r') {
                slow_from -= 1;
            }
            if relaxed {
                while slow_from > start && chunk.get(slow_from - 1).is_some_and(|&b| is_wsp(b)) {
                    slow_from -= 1;
                }
            }
            self.span(chunk.get(start..slow_from).unwrap_or_default());
            let mut position = slow_from;
            if event == lf {
                while position <= lf {
                    let rest = chunk.get(position..).unwrap_or_default();
                    position = len - self.special(rest).len();
                }
            }
            if relaxed {
                let run_end = wsp_run_end(chunk, position);
                if run_end > position {
                    self.pending_space = true;
                }
                position = run_end;
            }
            start = position;
            cursor = position;
        }
        self.end_of_chunk(chunk, start, relaxed);
    }

    /// The rest of a chunk from `start`, which holds no event: hands it on,
    /// holding back a trailing CR and whitespace, which the next chunk may
    /// turn into a line break.
    fn end_of_chunk(&mut self, chunk: &[u8], start: usize, relaxed: bool) {
        let len = chunk.len();
        let mut slow_from = len;
        if slow_from > start && chunk.get(slow_from - 1) == Some(&b'\r') {
            slow_from -= 1;
        }
        if relaxed {
            while slow_from > start && chunk.get(slow_from - 1).is_some_and(|&b| is_wsp(b)) {
                slow_from -= 1;
            }
        }
        self.span(chunk.get(start..slow_from).unwrap_or_default());
        let mut position = slow_from;
        while let Some(rest) = chunk.get(position..).filter(|r| !r.is_empty()) {
            position = len - self.special(rest).len();
        }
    }

    /// Canonicalizes a chunk in which every LF follows a CR (the usual case):
    /// every line break is CRLF already, so only whitespace needs work, and
    /// with simple canonicalization nothing but the end of the chunk does.
    fn update_crlf_chunk(&mut self, chunk: &[u8], relaxed: bool) {
        if !relaxed {
            self.end_of_chunk(chunk, 0, false);
            return;
        }
        let len = chunk.len();
        let mut start = 0;
        if self.pending_space {
            let run_end = wsp_run_end(chunk, 0);
            start = self.after_wsp_run(chunk, run_end);
        }
        let mut next_tab: Option<usize> = None;
        let mut next_double: Option<usize> = None;
        let mut next_trailing: Option<usize> = None;
        loop {
            let tab = search(&mut next_tab, chunk, start, |rest| {
                memchr::memchr(b'\t', rest)
            });
            let double = search(&mut next_double, chunk, start, |rest| {
                self.double_space.find(rest)
            });
            let trailing = search(&mut next_trailing, chunk, start, |rest| {
                self.trailing_space.find(rest)
            });
            let event = tab.min(double).min(trailing);
            if event >= len {
                break;
            }
            // A run of whitespace that is not a lone SP between other bytes.
            let mut run_start = event;
            while run_start > start && chunk.get(run_start - 1).is_some_and(|&b| is_wsp(b)) {
                run_start -= 1;
            }
            self.span(chunk.get(start..run_start).unwrap_or_default());
            let run_end = wsp_run_end(chunk, event);
            start = self.after_wsp_run(chunk, run_end);
        }
        self.end_of_chunk(chunk, start, true);
    }

    /// A run of whitespace (relaxed) ends at `position`: dropped with the
    /// line break if CRLF follows, otherwise held back as one SP. Returns
    /// where to go on.
    fn after_wsp_run(&mut self, chunk: &[u8], position: usize) -> usize {
        if chunk.get(position) == Some(&b'\r') && chunk.get(position + 1) == Some(&b'\n') {
            self.line_break();
            position + 2
        } else {
            self.pending_space = true;
            position
        }
    }

    /// Hands on bytes that are canonical already: content and CRLF line
    /// breaks. Line breaks at the end are held back.
    fn span(&mut self, bytes: &[u8]) {
        let mut content = bytes;
        let mut breaks = 0u64;
        while let Some(head) = content.strip_suffix(b"\r\n") {
            content = head;
            breaks += 1;
        }
        if !content.is_empty() {
            self.content(content);
        }
        if breaks > 0 {
            self.pending_space = false;
            self.pending_line_breaks += breaks;
        }
    }

    /// Handles the byte at the start of `rest`, which is not part of a run of
    /// ordinary bytes, and returns what follows it.
    fn special<'a>(&mut self, rest: &'a [u8]) -> &'a [u8] {
        let Some((&byte, tail)) = rest.split_first() else {
            return rest;
        };
        let relaxed = self.canonicalization == BodyCanonicalization::Relaxed;
        match byte {
            b'\n' => self.line_break(),
            b'\r' => match tail.first() {
                Some(b'\n') => {
                    self.line_break();
                    return tail.get(1..).unwrap_or_default();
                }
                Some(_) => self.lone_cr(),
                None => self.pending_cr = true,
            },
            b' ' | b'\t' if relaxed => self.pending_space = true,
            _ => self.content(std::slice::from_ref(&byte)),
        }
        tail
    }

    fn line_break(&mut self) {
        // Relaxed: whitespace at the end of a line is removed.
        self.pending_space = false;
        self.pending_line_breaks += 1;
    }

    fn lone_cr(&mut self) {
        self.content(b"\r");
    }

    /// Writes line content, preceded by whatever was held back.
    fn content(&mut self, bytes: &[u8]) {
        while self.pending_line_breaks > 0 {
            let n = self.pending_line_breaks.min((CRLFS.len() / 2) as u64);
            self.pending_line_breaks -= n;
            self.emit(CRLFS.get(..(n as usize) * 2).unwrap_or_default());
        }
        if self.pending_space {
            self.pending_space = false;
            self.emit(b" ");
        }
        self.produced_content = true;
        self.emit(bytes);
    }

    /// Hands canonical octets to the hash, honouring the length limit.
    #[inline]
    fn emit(&mut self, bytes: &[u8]) {
        self.produced += bytes.len() as u64;
        let bytes = match self.length_limit {
            Some(limit) => {
                let room = limit.saturating_sub(self.hashed);
                let take = usize::try_from(room).unwrap_or(usize::MAX).min(bytes.len());
                bytes.get(..take).unwrap_or_default()
            }
            None => bytes,
        };
        self.hashed += bytes.len() as u64;
        if self.buffer.len() + bytes.len() > OUTPUT_BUFFER {
            self.flush();
            if bytes.len() >= OUTPUT_BUFFER {
                self.hash.update(bytes);
                return;
            }
        }
        self.buffer.extend_from_slice(bytes);
    }

    fn flush(&mut self) {
        if !self.buffer.is_empty() {
            self.hash.update(&self.buffer);
            self.buffer.clear();
        }
    }

    /// Ends the body and returns its hash.
    ///
    /// Trailing empty lines are dropped; a body whose last line has no line
    /// break gets one. An empty body is CRLF with simple canonicalization and
    /// nothing with relaxed (RFC 6376 §3.4.3, §3.4.4).
    pub fn finish(mut self) -> BodyHash {
        if self.pending_cr {
            self.pending_cr = false;
            self.lone_cr();
        }
        if self.pending_space {
            // Whitespace at the very end of the last line is trailing
            // whitespace: removed.
            self.pending_space = false;
        }
        let final_break = match self.canonicalization {
            BodyCanonicalization::Simple => true,
            BodyCanonicalization::Relaxed => self.produced_content,
        };
        if final_break {
            self.emit(b"\r\n");
        }
        self.flush();
        BodyHash {
            digest: self.hash.finish(),
            hashed_length: self.hashed,
            canonical_length: self.produced,
        }
    }
}

/// A window of octets drawn from `kinds` by a xorshift generator whose
/// state is `state` (tests of the block classifiers).
#[cfg(test)]
fn random_window(state: &mut u64, kinds: &[u8]) -> [u8; WINDOW] {
    let mut window = [0u8; WINDOW];
    for octet in window.iter_mut() {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *octet = kinds[(*state % kinds.len() as u64) as usize];
    }
    window
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The canonical body as bytes, by hashing through a recording path.
    fn canonical(c: BodyCanonicalization, input: &[u8]) -> Vec<u8> {
        // Reference implementation, line by line, for comparison.
        let text = String::from_utf8_lossy(input).into_owned();
        let normalized = normalize_line_endings(input);
        let _ = text;
        let mut lines: Vec<Vec<u8>> = split_lines(&normalized);
        if c == BodyCanonicalization::Relaxed {
            for line in &mut lines {
                let mut out = Vec::new();
                let mut space = false;
                for &b in line.iter() {
                    if b == b' ' || b == b'\t' {
                        space = true;
                    } else {
                        if space {
                            out.push(b' ');
                        }
                        space = false;
                        out.push(b);
                    }
                }
                *line = out;
            }
        }
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        let mut out = Vec::new();
        for line in &lines {
            out.extend_from_slice(line);
            out.extend_from_slice(b"\r\n");
        }
        if lines.is_empty() && c == BodyCanonicalization::Simple {
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    fn normalize_line_endings(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < input.len() {
            if input[i] == b'\r' && input.get(i + 1) == Some(&b'\n') {
                out.push(b'\n');
                i += 2;
            } else {
                out.push(input[i]);
                i += 1;
            }
        }
        out
    }

    /// Lines split on LF; the last piece, if not empty, is a line without
    /// a break.
    fn split_lines(input: &[u8]) -> Vec<Vec<u8>> {
        let mut lines: Vec<Vec<u8>> = input.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
        if lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines
    }

    fn digest(c: BodyCanonicalization, chunks: &[&[u8]], limit: Option<u64>) -> BodyHash {
        digest_by(Path::Detected, c, chunks, limit)
    }

    /// How blocks are packed: as the processor allows, or without AVX-512.
    #[derive(Debug, Clone, Copy)]
    enum Path {
        Detected,
        Baseline,
    }

    /// The paths a test runs both of: the detected one (AVX-512 where the
    /// processor has it) and the baseline.
    const PATHS: [Path; 2] = [Path::Detected, Path::Baseline];

    fn digest_by(
        path: Path,
        c: BodyCanonicalization,
        chunks: &[&[u8]],
        limit: Option<u64>,
    ) -> BodyHash {
        let mut hasher = BodyHasher::new(c, HashAlgorithm::Sha256, limit);
        if let Path::Baseline = path {
            hasher.wide = None;
        }
        for chunk in chunks {
            hasher.update(chunk);
        }
        hasher.finish()
    }

    fn sha256(bytes: &[u8]) -> Vec<u8> {
        sha2::Sha256::digest(bytes).to_vec()
    }

    const SAMPLES: &[&[u8]] = &[
        b"",
        b"\r\n",
        b"\r\n\r\n\r\n",
        b"abc",
        b"abc\r\n",
        b"abc\n\n\n",
        b" C \r\nD \t E\r\n\r\n\r\n",
        b"Hi.\r\n\r\nWe lost the game. Are you hungry yet?\r\n\r\nJoe.\r\n",
        b"a\rb\r\n",
        b"trailing cr\r",
        b"ws only line\r\n \t \r\n\r\n",
        b"  leading and  double  spaces \t\tand\ttabs   \r\nnext\n",
        b"x\r\r\ny",
        b"word word word word word word word word word word word word  end\r\n",
        b"\x00\x01 ctrl \x7f\xff\r\n",
        b"a \r\n  b\r\n\tc \t\r\n",
        b"a\r\n\r\n \r\n\r\nb",
        b"x \r y\r\n\r",
    ];

    proptest::proptest! {
        #[test]
        fn random_crlf_bodies_match_reference(
            tokens in proptest::collection::vec(proptest::sample::select(vec![&b"ab"[..], b"c", b" ", b"  ", b"\t", b"\r\n", b"\r\n\r\n", b"\r"]), 0..600),
            cuts in proptest::collection::vec(0usize..1200, 0..6),
        ) {
            let body: Vec<u8> = tokens.concat();
            for c in [BodyCanonicalization::Simple, BodyCanonicalization::Relaxed] {
                let expected = canonical(c, &body);
                let mut cuts: Vec<usize> = cuts.iter().map(|&i| i.min(body.len())).collect();
                cuts.sort_unstable();
                let mut hasher = BodyHasher::new(c, HashAlgorithm::Sha256, None);
                let mut previous = 0;
                for cut in cuts.into_iter().chain([body.len()]) {
                    hasher.update(&body[previous..cut]);
                    previous = cut;
                }
                let hash = hasher.finish();
                proptest::prop_assert_eq!(hash.digest, sha256(&expected), "{:?} {:?}", c, String::from_utf8_lossy(&body));
                proptest::prop_assert_eq!(hash.canonical_length, expected.len() as u64);
            }
        }

        #[test]
        fn random_bodies_match_reference(
            body in proptest::collection::vec(proptest::sample::select(vec![b'a', b'b', b' ', b'\t', b'\r', b'\n']), 0..1000),
            cuts in proptest::collection::vec(0usize..1000, 0..6),
        ) {
            for c in [BodyCanonicalization::Simple, BodyCanonicalization::Relaxed] {
                let expected = canonical(c, &body);
                let mut cuts: Vec<usize> = cuts.iter().map(|&i| i.min(body.len())).collect();
                cuts.sort_unstable();
                let mut hasher = BodyHasher::new(c, HashAlgorithm::Sha256, None);
                let mut previous = 0;
                for cut in cuts.into_iter().chain([body.len()]) {
                    hasher.update(&body[previous..cut]);
                    previous = cut;
                }
                let hash = hasher.finish();
                proptest::prop_assert_eq!(hash.digest, sha256(&expected), "{:?} {:?}", c, String::from_utf8_lossy(&body));
                proptest::prop_assert_eq!(hash.canonical_length, expected.len() as u64);
            }
        }
    }

    proptest::proptest! {
        /// Long whitespace-dense bodies (runs across 64-octet blocks and
        /// chunk ends, bare LF, lone CR, empty lines at the end) in random
        /// chunks, with and without a length limit.
        #[test]
        fn whitespace_dense_bodies_match_reference(
            tokens in proptest::collection::vec(proptest::sample::select(vec![
                &b"word"[..], b"x", b" ", b"  ", b"   ", b"\t", b" \t ", b"\r\n", b"\n", b"\r",
                b" \r\n", b"\t\n", b"\r\n\r\n", &[b' '; 70][..], &[b'\t'; 65][..],
            ]), 0..400),
            cuts in proptest::collection::vec(0usize..4000, 0..8),
            limit in proptest::option::of(0u64..3000),
        ) {
            let body: Vec<u8> = tokens.concat();
            let expected = canonical(BodyCanonicalization::Relaxed, &body);
            let mut cuts: Vec<usize> = cuts.iter().map(|&i| i.min(body.len())).collect();
            cuts.sort_unstable();
            let mut hasher = BodyHasher::new(BodyCanonicalization::Relaxed, HashAlgorithm::Sha256, limit);
            let mut previous = 0;
            for cut in cuts.into_iter().chain([body.len()]) {
                hasher.update(&body[previous..cut]);
                previous = cut;
            }
            let hash = hasher.finish();
            let hashed = limit.map_or(expected.len(), |l| expected.len().min(l as usize));
            proptest::prop_assert_eq!(hash.digest, sha256(&expected[..hashed]), "{:?}", String::from_utf8_lossy(&body));
            proptest::prop_assert_eq!(hash.canonical_length, expected.len() as u64);
            proptest::prop_assert_eq!(hash.hashed_length, hashed as u64);
        }
    }

    #[test]
    fn rfc6376_section_3_4_5_example() {
        let body = b" C \r\nD \t E\r\n\r\n\r\n";
        let relaxed = digest(BodyCanonicalization::Relaxed, &[body], None);
        assert_eq!(relaxed.digest, sha256(b" C\r\nD E\r\n"));
        let simple = digest(BodyCanonicalization::Simple, &[body], None);
        assert_eq!(simple.digest, sha256(b" C \r\nD \t E\r\n"));
    }

    /// RFC 6376 §3.4.4: trailing whitespace of every line is removed, the
    /// last line included, whether or not it ends in CRLF; the CRLF added
    /// for an unterminated last line comes after. Mail::DKIM hashes these
    /// bodies the same way; dkimpy 1.1 hashes `a \r\n` for `a ` (see the
    /// module documentation).
    #[test]
    fn relaxed_unterminated_last_line_loses_its_trailing_whitespace() {
        let relaxed = BodyCanonicalization::Relaxed;
        for (body, canonical_body) in [
            (&b"a "[..], &b"a\r\n"[..]),
            (b"a \t ", b"a\r\n"),
            (b"x\r\na ", b"x\r\na\r\n"),
            (b" ", b""),
            (b"\t", b""),
            (b"x\r\n ", b"x\r\n"),
        ] {
            let unterminated = digest(relaxed, &[body], None);
            assert_eq!(unterminated.digest, sha256(canonical_body), "{body:?}");
            assert_eq!(unterminated.canonical_length, canonical_body.len() as u64);
            // The same body once an MTA has terminated the last line.
            let terminated = digest(relaxed, &[body, b"\r\n"], None);
            assert_eq!(terminated.digest, unterminated.digest, "{body:?}");
            // Split inside the trailing whitespace.
            let (head, tail) = body.split_at(body.len() - 1);
            assert_eq!(
                digest(relaxed, &[head, tail], None).digest,
                unterminated.digest
            );
        }
        // Simple canonicalization keeps the whitespace and adds the CRLF.
        let simple = digest(BodyCanonicalization::Simple, &[b"a "], None);
        assert_eq!(simple.digest, sha256(b"a \r\n"));
    }

    #[test]
    fn empty_body() {
        let simple = digest(BodyCanonicalization::Simple, &[], None);
        assert_eq!(simple.digest, sha256(b"\r\n"));
        assert_eq!(simple.canonical_length, 2);
        let relaxed = digest(BodyCanonicalization::Relaxed, &[b"\r\n\r\n"], None);
        assert_eq!(relaxed.digest, sha256(b""));
        assert_eq!(relaxed.canonical_length, 0);
    }

    #[test]
    fn matches_reference_for_every_split() {
        for c in [BodyCanonicalization::Simple, BodyCanonicalization::Relaxed] {
            for sample in SAMPLES {
                let expected = canonical(c, sample);
                let whole = digest(c, &[sample], None);
                assert_eq!(whole.digest, sha256(&expected), "{c:?} {sample:?}");
                assert_eq!(whole.canonical_length, expected.len() as u64);
                for a in 0..=sample.len() {
                    for b in a..=sample.len() {
                        let parts = [&sample[..a], &sample[a..b], &sample[b..]];
                        let split = digest(c, &parts, None);
                        assert_eq!(split, whole, "{c:?} {sample:?} split at {a},{b}");
                    }
                }
            }
        }
    }

    /// Whitespace-dense text long enough for the block-wise path: runs of
    /// SP and TAB inside lines and across 64-octet blocks, trailing
    /// whitespace before CRLF, bare LF, lone CR, a CR last before a block
    /// boundary, empty and whitespace-only lines, a long run.
    fn whitespace_dense_sample() -> Vec<u8> {
        let mut body = Vec::new();
        for i in 0..40 {
            body.extend_from_slice(b"word  mail\tsign \t relay");
            body.extend_from_slice(&b" ".repeat(i % 5));
            body.extend_from_slice(match i % 8 {
                0 => &b"\r\n"[..],
                1 => b"  \t \r\n",
                2 => b"\n",
                3 => b" \n \r\n",
                4 => b"\r x\r\n\r\n",
                5 => b"\t\r\n \t \r\n\r\n",
                6 => b"end   \r\n",
                _ => b"\r\n\tlead\t\tx \r",
            });
            if i % 13 == 0 {
                body.extend_from_slice(&b" \t".repeat(40));
                body.extend_from_slice(b"long\r\n");
            }
        }
        body.extend_from_slice(b"last  \t ");
        body
    }

    #[test]
    fn whitespace_dense_matches_reference_for_every_split() {
        let body = whitespace_dense_sample();
        assert!(body.len() > 4 * BLOCKWISE_MIN);
        for path in PATHS {
            for c in [BodyCanonicalization::Simple, BodyCanonicalization::Relaxed] {
                let digest = |chunks: &[&[u8]]| digest_by(path, c, chunks, None);
                let expected = canonical(c, &body);
                let whole = digest(&[&body]);
                assert_eq!(whole.digest, sha256(&expected), "{path:?} {c:?}");
                assert_eq!(whole.canonical_length, expected.len() as u64);
                // One split anywhere: inside runs of WSP, between CR and LF.
                for a in 0..=body.len() {
                    let split = digest(&[&body[..a], &body[a..]]);
                    assert_eq!(split, whole, "{path:?} {c:?} split at {a}");
                }
                // Two splits, the middle part on either side of the
                // block-wise threshold.
                for a in (0..body.len()).step_by(7) {
                    for width in [1, 2, 63, 64, 65, BLOCKWISE_MIN - 1, BLOCKWISE_MIN, 700] {
                        let b = (a + width).min(body.len());
                        let split = digest(&[&body[..a], &body[a..b], &body[b..]]);
                        assert_eq!(split, whole, "{path:?} {c:?} split at {a},{b}");
                    }
                }
            }
        }
    }

    #[test]
    fn whitespace_dense_with_length_limit() {
        let body = whitespace_dense_sample();
        let expected = canonical(BodyCanonicalization::Relaxed, &body);
        for path in PATHS {
            for limit in [0, 1, 100, 1000, expected.len() as u64, 1 << 20] {
                let c = BodyCanonicalization::Relaxed;
                let hash = digest_by(path, c, &[&body], Some(limit));
                let hashed = expected.len().min(limit as usize);
                assert_eq!(hash.digest, sha256(&expected[..hashed]), "{path:?} {limit}");
                assert_eq!(hash.hashed_length, hashed as u64);
                assert_eq!(hash.canonical_length, expected.len() as u64);
            }
        }
    }

    #[test]
    fn wide_packing_keeps_what_the_classifier_keeps() {
        // On windows of every octet kind: the same kinds as told octet by
        // octet, and the kept octets packed in order, TABs as SPs.
        let Some(token) = wide::detect() else {
            println!("this processor has no AVX-512 with VBMI2: the baseline is the only path");
            return;
        };
        let kinds = [b'a', b' ', b'\t', b'\r', b'\n', 0u8, 0x1f, 0x21, 0xff];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut packed_blocks = 0;
        for round in 0..4000 {
            // Every other round without LF, so that most blocks pack.
            let choices = if round % 2 == 0 { 4 } else { kinds.len() };
            let window = random_window(&mut state, &kinds[..choices]);
            let mut target = [0xaau8; BLOCK];
            let block = <&[u8; BLOCK]>::try_from(&window[1..=BLOCK]).unwrap();
            let kinds = wide::kinds(token, block);
            assert_eq!(kinds, Kinds::of_octets(block), "{window:?}");
            let classified = classify(&window);
            if classified.bare_lf != 0 {
                continue;
            }
            wide::pack(token, block, classified.keep, kinds.wsp, &mut target);
            let expected: Vec<u8> = (0..BLOCK)
                .filter(|&i| classified.keep >> i & 1 == 1)
                .map(|i| {
                    if window[i + 1] == b'\t' {
                        b' '
                    } else {
                        window[i + 1]
                    }
                })
                .collect();
            assert_eq!(&target[..expected.len()], &expected[..], "{window:?}");
            packed_blocks += 1;
        }
        assert!(packed_blocks > 1000, "{packed_blocks}");
    }

    #[test]
    fn block_classifier_marks_what_relaxed_keeps() {
        // Octet by octet against the definition, on windows of every octet
        // kind around each position.
        let kinds = [b'a', b' ', b'\t', b'\r', b'\n', 0u8, 0x1f, 0x21, 0xff];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let window = random_window(&mut state, &kinds);
            let block = <&[u8; BLOCK]>::try_from(&window[1..=BLOCK]).unwrap();
            assert_eq!(Kinds::of(block), Kinds::of_octets(block));
            let classified = classify(&window);
            let portable = classify_portable(&window);
            assert_eq!(portable.keep, classified.keep);
            assert_eq!(portable.bare_lf, classified.bare_lf);
            for i in 0..BLOCK {
                let (before, here, next, after) =
                    (window[i], window[i + 1], window[i + 2], window[i + 3]);
                let line_break = next == b'\n' || (next == b'\r' && after == b'\n');
                let dropped = is_wsp(here) && (is_wsp(next) || line_break);
                assert_eq!(classified.keep >> i & 1 == 0, dropped, "{window:?} at {i}");
                let bare = here == b'\n' && before != b'\r';
                assert_eq!(classified.bare_lf >> i & 1 == 1, bare, "{window:?} at {i}");
            }
        }
    }

    #[test]
    fn byte_by_byte_long_body() {
        let mut body = Vec::new();
        for i in 0..500 {
            body.extend_from_slice(
                format!("line {i}  with\t spaces {}\r\n", " ".repeat(i % 7)).as_bytes(),
            );
            if i % 50 == 0 {
                body.extend_from_slice(b"\n\n \r\n");
            }
        }
        for c in [BodyCanonicalization::Simple, BodyCanonicalization::Relaxed] {
            let expected = sha256(&canonical(c, &body));
            let mut hasher = BodyHasher::new(c, HashAlgorithm::Sha256, None);
            for byte in &body {
                hasher.update(std::slice::from_ref(byte));
            }
            assert_eq!(hasher.finish().digest, expected);
        }
    }

    #[test]
    fn length_limit() {
        let body = b"Hello world\r\nsecond line\r\n";
        let limited = digest(BodyCanonicalization::Simple, &[body], Some(5));
        assert_eq!(limited.digest, sha256(b"Hello"));
        assert_eq!(limited.hashed_length, 5);
        assert_eq!(limited.canonical_length, body.len() as u64);
        assert!(limited.has_unsigned_content());
        let exact = digest(
            BodyCanonicalization::Simple,
            &[body],
            Some(body.len() as u64),
        );
        assert!(!exact.has_unsigned_content());
        let beyond = digest(BodyCanonicalization::Simple, &[body], Some(1000));
        assert_eq!(beyond.digest, sha256(body));
        let zero = digest(BodyCanonicalization::Relaxed, &[body], Some(0));
        assert_eq!(zero.digest, sha256(b""));
    }

    #[test]
    fn sha1_body_hash() {
        let mut hasher = BodyHasher::new(BodyCanonicalization::Simple, HashAlgorithm::Sha1, None);
        hasher.update(b"");
        let hash = hasher.finish();
        // RFC 6376 §3.4.3: the SHA-1 of an empty simple body (CRLF).
        assert_eq!(hash.digest.len(), 20);
        assert_eq!(hash.digest, sha1::Sha1::digest(b"\r\n").to_vec());
    }

    #[test]
    fn many_empty_lines_then_content() {
        let mut body = vec![b'\n'; 1000];
        body.extend_from_slice(b"x");
        let hash = digest(BodyCanonicalization::Relaxed, &[&body], None);
        let mut expected = b"\r\n".repeat(1000);
        expected.extend_from_slice(b"x\r\n");
        assert_eq!(hash.digest, sha256(&expected));
    }

    #[test]
    fn header_relaxed() {
        let mut out = Vec::new();
        HeaderCanonicalization::Relaxed.append(
            b"SubJect \t",
            b" \t AbC\r\n\t  def  \r\n ",
            &mut out,
        );
        assert_eq!(out, b"subject:AbC def\r\n");
        out.clear();
        // RFC 6376 §3.4.5.
        HeaderCanonicalization::Relaxed.append(b"A", b" X", &mut out);
        HeaderCanonicalization::Relaxed.append(b"B ", b" Y\t\r\n\tZ  ", &mut out);
        assert_eq!(out, b"a:X\r\nb:Y Z\r\n");
    }

    /// `append` of the value with `removed` cut out, built as a copy.
    fn append_copy(
        c: HeaderCanonicalization,
        name: &[u8],
        value: &[u8],
        removed: std::ops::Range<usize>,
    ) -> Vec<u8> {
        let mut copy = value[..removed.start].to_vec();
        copy.extend_from_slice(&value[removed.end..]);
        let mut out = Vec::new();
        c.append(name, &copy, &mut out);
        out
    }

    const HEADER_VALUES: &[&[u8]] = &[
        b"",
        b" ",
        b" a",
        b"a \r\n\tb",
        b" v=1; b= ab\r\n cd ; bh=x",
        b"x\ny\r\n z",
        b"\r\n \r\n\t",
        b"a\r\rb\n\n c \t",
        b"\n\r\n\r",
    ];

    #[test]
    fn header_without_range_equals_the_copy_for_every_range() {
        for c in [
            HeaderCanonicalization::Simple,
            HeaderCanonicalization::Relaxed,
        ] {
            for value in HEADER_VALUES {
                for start in 0..=value.len() {
                    for end in start..=value.len() {
                        let mut out = b"kept".to_vec();
                        c.append_without(b"DKIM-Signature ", value, start..end, &mut out);
                        let mut expected = b"kept".to_vec();
                        expected.extend(append_copy(c, b"DKIM-Signature ", value, start..end));
                        assert_eq!(out, expected, "{c:?} {value:?} {start}..{end}");
                    }
                }
            }
        }
    }

    #[test]
    fn header_without_signature_value() {
        use crate::dkim::tags::TagList;
        let values: [&[u8]; 5] = [
            // b= in the middle, folded.
            b" v=1; a=rsa-sha256; b=dGhp\r\n\t cyBpcyBh \r\n IHNpZw==\r\n ; bh=YWJj;\r\n h=from:to",
            // b= last, folded, with whitespace and a line break before the end.
            b" v=1; a=rsa-sha256; c=relaxed/simple;\r\n d=example.org; h=From : To;\r\n bh=YWJj; b=\r\n dGhpcyBpcyBh\r\n IHNpZw== \t",
            // b= first.
            b"b=dGhpcyBp\r\n cyBhIHNpZw==;v=1;  a=ed25519-sha256 ;bh=YWJj",
            // b= first with a folded empty-looking start, bare LF folds.
            b"\n b = dGhp\n cyBp ;\n v=1",
            // b= last and empty.
            b" v=1; bh=YWJj; b=",
        ];
        for value in values {
            let list = TagList::parse(value).unwrap();
            let b = list.tag("b").unwrap();
            let range = b.raw_value_start..b.raw_value_end;
            for c in [
                HeaderCanonicalization::Simple,
                HeaderCanonicalization::Relaxed,
            ] {
                let mut out = Vec::new();
                c.append_without(b"DKIM-Signature", value, range.clone(), &mut out);
                assert_eq!(
                    out,
                    append_copy(c, b"DKIM-Signature", value, range.clone()),
                    "{c:?} {:?}",
                    String::from_utf8_lossy(value)
                );
            }
        }
        // Out of bounds: cut at the end.
        let mut out = Vec::new();
        HeaderCanonicalization::Relaxed.append_without(b"X", b" a b", 3..99, &mut out);
        assert_eq!(out, b"x:a\r\n");
        out.clear();
        HeaderCanonicalization::Simple.append_without(b"X", b" a b", 9..99, &mut out);
        assert_eq!(out, b"X: a b\r\n");
    }

    proptest::proptest! {
        #[test]
        fn relaxed_value_fast_path_equals_the_run_loop(
            pieces in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(vec![b'a', b'b', b' ', b' ', b'\t', b'\r', b'\n']), 0..40),
                1..4,
            ),
        ) {
            let mut fast = Vec::new();
            let mut reference = Vec::new();
            let mut fast_state = RelaxedValue::default();
            let mut reference_state = RelaxedValue::default();
            for piece in &pieces {
                fast_state.append(piece, &mut fast);
                reference_state.append_runs(piece, &mut reference);
            }
            proptest::prop_assert_eq!(&fast, &reference, "{:?}", pieces);
            proptest::prop_assert_eq!(fast_state.pending_space, reference_state.pending_space);
            proptest::prop_assert_eq!(fast_state.wrote_any, reference_state.wrote_any);
        }
    }

    #[test]
    fn relaxed_value_samples() {
        for (value, expected) in [
            (
                &b" Alice <alice@example.org>"[..],
                &b"Alice <alice@example.org>"[..],
            ),
            (b"  a  b  ", b"a b"),
            (b" a \r\n b ", b"a b"),
            (b"a\rb", b"ab"),
            (b"a\r\n\tb", b"a b"),
            (b" v=1;\r\n h=a:b; bh=x;\r\n b=", b"v=1; h=a:b; bh=x; b="),
            (b" ", b""),
            (b"\t \r\n ", b""),
        ] {
            let mut out = Vec::new();
            RelaxedValue::default().append(value, &mut out);
            assert_eq!(out, expected, "{:?}", String::from_utf8_lossy(value));
            let mut reference = Vec::new();
            RelaxedValue::default().append_runs(value, &mut reference);
            assert_eq!(reference, expected, "{:?}", String::from_utf8_lossy(value));
        }
    }

    proptest::proptest! {
        #[test]
        fn header_without_range_equals_the_copy(
            value in proptest::collection::vec(proptest::sample::select(vec![b'a', b'=', b';', b' ', b'\t', b'\r', b'\n']), 0..60),
            a in 0usize..60,
            b in 0usize..60,
        ) {
            let (start, end) = (a.min(b).min(value.len()), a.max(b).min(value.len()));
            for c in [HeaderCanonicalization::Simple, HeaderCanonicalization::Relaxed] {
                let mut out = Vec::new();
                c.append_without(b"Name", &value, start..end, &mut out);
                proptest::prop_assert_eq!(&out, &append_copy(c, b"Name", &value, start..end));
            }
        }
    }

    #[test]
    fn header_simple() {
        let mut out = Vec::new();
        HeaderCanonicalization::Simple.append(b"B ", b" Y\t\n\tZ  ", &mut out);
        assert_eq!(out, b"B : Y\t\r\n\tZ  \r\n");
    }

    #[test]
    fn canonicalization_tag() {
        let c = Canonicalization::from_tag("relaxed").unwrap();
        assert_eq!(c.header, HeaderCanonicalization::Relaxed);
        assert_eq!(c.body, BodyCanonicalization::Simple);
        let c = Canonicalization::from_tag("Simple/RELAXED").unwrap();
        assert_eq!(c.to_string(), "simple/relaxed");
        assert!(Canonicalization::from_tag("relaxed/").is_none());
        assert!(Canonicalization::from_tag("nowsp").is_none());
    }
}
