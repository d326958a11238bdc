//! Relaxed body canonicalization of chunks with few octets to change
//! (text with single spaces, base64): the classified octets are handled
//! one run at a time between long spans that go to the hash function
//! whole or gathered, with no per-block work for them. Whitespace-dense
//! chunks go the way of the parent module instead, which copies the kept
//! spans of every block.

use super::{BLOCK, BodyHasher, CRLFS, GATHER, WINDOW, octet, wsp_run_end};

/// Canonical octets gathered on the stack before they go to the hash
/// function, so that it gets a few large updates instead of one per span.
struct SpanGather {
    /// `GATHER` octets of room and slack for one more write: spans and
    /// held-back line breaks are copied in whole blocks whose end is
    /// overwritten by what comes next.
    buffer: [u8; GATHER + 2 * BLOCK + 1],
    len: usize,
}

/// Spans at least this long and without a TAB go to the hash function
/// without being copied.
const LONG_SPAN: usize = 512;

impl SpanGather {
    fn new() -> SpanGather {
        SpanGather {
            buffer: [0; GATHER + 2 * BLOCK + 1],
            len: 0,
        }
    }

    fn is_full(&self) -> bool {
        self.len >= GATHER
    }

    /// Appends `breaks` CRLFs (at most 32) and a SP if `space`.
    #[inline]
    fn put_held_back(&mut self, breaks: usize, space: bool) {
        if let Some(target) = self.buffer.get_mut(self.len..self.len + CRLFS.len()) {
            target.copy_from_slice(CRLFS);
        }
        self.len += 2 * breaks.min(CRLFS.len() / 2);
        if let Some(target) = self.buffer.get_mut(self.len) {
            *target = b' ';
        }
        self.len += usize::from(space);
    }

    /// Appends `chunk[from..to]` if it is at most a block long and a whole
    /// block can be read from `from`; false otherwise.
    #[inline]
    fn put_short_span(&mut self, chunk: &[u8], from: usize, to: usize) -> bool {
        let source = chunk.get(from..from + BLOCK);
        let target = self.buffer.get_mut(self.len..self.len + BLOCK);
        match (target, source) {
            (Some(target), Some(source)) if to - from <= BLOCK => {
                // The whole block: the octets past `to` are overwritten next.
                target.copy_from_slice(source);
                self.len += to - from;
                true
            }
            _ => false,
        }
    }

    /// Appends as much of `bytes` as there is room for; returns the rest.
    fn put_slice<'a>(&mut self, bytes: &'a [u8]) -> &'a [u8] {
        let room = GATHER.saturating_sub(self.len).max(1).min(bytes.len());
        let (now, rest) = bytes.split_at(room);
        if let Some(target) = self.buffer.get_mut(self.len..self.len + room) {
            target.copy_from_slice(now);
            self.len += room;
        }
        rest
    }

    /// The gathered octets, leaving the buffer empty. Every TAB gathered
    /// stood alone between two other octets: it becomes a SP.
    fn take(&mut self) -> &[u8] {
        let len = std::mem::take(&mut self.len);
        let gathered = self.buffer.get_mut(..len).unwrap_or_default();
        for octet in gathered.iter_mut() {
            // 0x09 ^ 0x29 is 0x20: branch-free, so that it compiles to
            // vector code.
            *octet ^= u8::from(*octet == b'\t') * 0x29;
        }
        gathered
    }
}

/// The length of the run of WSP at `offset` in the block of `window`, if
/// shorter than 8 octets and within the block: the first octet that is
/// neither SP nor TAB, found in one 8-octet word.
#[inline]
fn wsp_run(window: &[u8; WINDOW], offset: usize) -> Option<usize> {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(window.get(1 + offset..9 + offset)?);
    let word = u64::from_le_bytes(bytes);
    // The top bit of each octet that differs from `octet` (no carries
    // across octets: each sum stays below 0x100).
    let differs = |octet: u64| {
        let x = word ^ (octet * 0x0101_0101_0101_0101);
        (((x & 0x7f7f_7f7f_7f7f_7f7f) + 0x7f7f_7f7f_7f7f_7f7f) | x) & 0x8080_8080_8080_8080
    };
    let not_wsp = differs(0x20) & differs(0x09);
    let run = (not_wsp.trailing_zeros() / 8) as usize;
    (run < 8 && offset + run < BLOCK).then_some(run)
}

/// The end of a chunk, copied with zeros after it (and before it, for a
/// chunk shorter than a block).
struct SpanBlock {
    octets: [u8; WINDOW],
}

impl SpanBlock {
    fn new() -> SpanBlock {
        SpanBlock {
            octets: [0; WINDOW],
        }
    }

    /// Loads `chunk[base..]` (the block, up to 64 octets, and what follows)
    /// with the octet before; returns how many octets of the block are in
    /// the chunk.
    fn load(&mut self, chunk: &[u8], base: usize) -> usize {
        self.octets.fill(0);
        let before = base.checked_sub(1).and_then(|i| chunk.get(i));
        if let (Some(first), Some(&before)) = (self.octets.first_mut(), before) {
            *first = before;
        }
        let source = chunk.get(base..).unwrap_or_default();
        if let Some(rest) = self.octets.get_mut(1..) {
            for (target, &octet) in rest.iter_mut().zip(source) {
                *target = octet;
            }
        }
        source.len().min(BLOCK)
    }
}

/// The octets of the block in `window` (`window[1..65]`, `window[0]` being
/// the octet before and `window[65]` the one after) that relaxed
/// canonicalization acts on, as a bit mask (bit `i` for octet `i` of the
/// block): a SP or TAB followed by whitespace, a line break or any other
/// octet up to SP; and an LF that does not follow a CR. A SP or TAB between
/// two other octets and a CRLF after content stay (a TAB becomes a SP) and
/// are not marked. A zero after the end of the chunk counts as whitespace:
/// a SP last in the chunk is marked.
///
/// On x86-64: SSE2 comparisons and a move-mask per 16 octets, through
/// `safe_arch`'s safe wrappers (the compiler does not turn the portable
/// form's bit packing into a move-mask).
#[cfg(target_arch = "x86_64")]
#[inline]
fn special_octets(window: &[u8; WINDOW]) -> u64 {
    use safe_arch::{
        bitand_m128i, bitandnot_m128i, bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i,
        min_u8_m128i, move_mask_i8_m128i, set_splat_i8_m128i,
    };
    let load = |at: usize| {
        let mut bytes = [0u8; 16];
        if let Some(source) = window.get(at..at + 16) {
            bytes.copy_from_slice(source);
        }
        load_unaligned_m128i(&bytes)
    };
    let space = set_splat_i8_m128i(b' ' as i8);
    let tab = set_splat_i8_m128i(b'\t' as i8);
    let cr = set_splat_i8_m128i(b'\r' as i8);
    let lf = set_splat_i8_m128i(b'\n' as i8);
    let mut mask = 0u64;
    for k in 0..BLOCK / 16 {
        let before = load(16 * k);
        let here = load(16 * k + 1);
        let after = load(16 * k + 2);
        let wsp = bitor_m128i(
            cmp_eq_mask_i8_m128i(here, space),
            cmp_eq_mask_i8_m128i(here, tab),
        );
        let run = bitand_m128i(wsp, cmp_eq_mask_i8_m128i(min_u8_m128i(after, space), after));
        let bare_lf = bitandnot_m128i(
            cmp_eq_mask_i8_m128i(before, cr),
            cmp_eq_mask_i8_m128i(here, lf),
        );
        let bits = move_mask_i8_m128i(bitor_m128i(run, bare_lf)) as u32 & 0xffff;
        mask |= u64::from(bits) << (16 * k);
    }
    mask
}

/// The octets of the block in `window` that relaxed canonicalization acts
/// on (see the x86-64 version).
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn special_octets(window: &[u8; WINDOW]) -> u64 {
    special_octets_portable(window)
}

/// [`special_octets`] in portable code: comparisons over fixed-size arrays
/// and an 8-octet multiply that packs flags into bits.
#[cfg(any(not(target_arch = "x86_64"), test))]
#[inline]
fn special_octets_portable(window: &[u8; WINDOW]) -> u64 {
    let mut flags = [0u8; BLOCK];
    for (i, flag) in flags.iter_mut().enumerate() {
        let before = window.get(i).copied().unwrap_or_default();
        let here = window.get(i + 1).copied().unwrap_or_default();
        let after = window.get(i + 2).copied().unwrap_or_default();
        let run = ((here == b' ') | (here == b'\t')) & (after <= b' ');
        let bare_lf = (here == b'\n') & (before != b'\r');
        *flag = u8::from(run | bare_lf);
    }
    let mut mask = 0u64;
    for (i, group) in flags.chunks_exact(8).enumerate() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(group);
        // Each octet is 0 or 1: the multiply gathers them in the top octet,
        // the first octet's flag as its lowest bit.
        let bits = u64::from_le_bytes(bytes).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        mask |= bits << (8 * i);
    }
    mask
}

impl BodyHasher {
    /// Canonicalizes one chunk with relaxed canonicalization.
    ///
    /// The chunk is read 64 octets at a time into a [`SpanBlock`], TABs turned
    /// into SPs on the way (a TAB alone between two other octets is then
    /// canonical). The block is classified at once ([`special_octets`]):
    /// the only octets left that need work are a SP followed by whitespace
    /// or a line break (a run to reduce to one SP, or trailing whitespace
    /// to drop) and a bare LF. The spans between them are canonical already
    /// but for line breaks at their end, which are held back; they are
    /// gathered in a local buffer with the line breaks and single SPs that
    /// canonicalization writes, and the buffer goes to the hash function
    /// in large updates.
    pub(super) fn update_relaxed_spans(&mut self, chunk: &[u8]) {
        let len = chunk.len();
        let mut out = SpanGather::new();
        let mut base = 0;
        if self.pending_space {
            // The run of whitespace that ended the last chunk goes on.
            let end = wsp_run_end(chunk, 0);
            base = self.after_relaxed_run(chunk, end);
        }
        // Where the content not yet gathered starts.
        let mut segment = base;
        let mut padded = SpanBlock::new();
        while base < len {
            // The octet before the block, the block and what follows: in
            // the chunk, or a copy padded with zeros at either end of it.
            let (window, available) = match base
                .checked_sub(1)
                .and_then(|start| chunk.get(start..start + WINDOW))
                .and_then(|window| <&[u8; WINDOW]>::try_from(window).ok())
            {
                Some(window) => (window, BLOCK),
                None => {
                    let available = padded.load(chunk, base);
                    (&padded.octets, available)
                }
            };
            let mut mask = special_octets(window);
            if available < BLOCK {
                mask &= (1u64 << available) - 1;
            }
            while mask != 0 {
                let at = mask.trailing_zeros() as usize;
                self.gather_span(&mut out, chunk, segment, base + at);
                let next = if octet(window, at) == b'\n' {
                    // A bare LF.
                    self.line_break();
                    at + 1
                } else {
                    match wsp_run(window, at) {
                        Some(run) => {
                            // Branch-free: whether CRLF follows is not
                            // predictable.
                            let end = at + run;
                            let crlf = u8::from(octet(window, end) == b'\r')
                                & u8::from(octet(window, end + 1) == b'\n');
                            self.pending_line_breaks += u64::from(crlf);
                            self.pending_space = crlf == 0;
                            end + 2 * usize::from(crlf)
                        }
                        None => {
                            let end = wsp_run_end(chunk, base + at);
                            self.after_relaxed_run(chunk, end) - base
                        }
                    }
                };
                segment = base + next;
                if next >= BLOCK {
                    break;
                }
                mask &= u64::MAX << next;
            }
            base = (base + BLOCK).max(segment);
        }
        // The content left; a CR last in the chunk is a line break if the
        // next chunk starts with LF.
        if len > segment && chunk.get(len - 1) == Some(&b'\r') {
            self.gather_span(&mut out, chunk, segment, len - 1);
            self.pending_cr = true;
        } else {
            self.gather_span(&mut out, chunk, segment, len);
        }
        self.emit_gathered(&mut out);
    }

    /// SpanGathers `chunk[from..to]`, octets that stay as they are (but for a
    /// TAB alone, which becomes a SP), preceded by the held-back line breaks
    /// and SP; line breaks at the end are held back in turn.
    #[inline]
    fn gather_span(&mut self, out: &mut SpanGather, chunk: &[u8], from: usize, mut to: usize) {
        let mut breaks = 0u64;
        while to >= from + 2 && chunk.get(to - 2..to) == Some(b"\r\n") {
            to -= 2;
            breaks += 1;
        }
        if to > from {
            if self.pending_line_breaks > (CRLFS.len() / 2) as u64 {
                self.gather_many_line_breaks(out);
            }
            out.put_held_back(self.pending_line_breaks as usize, self.pending_space);
            self.pending_line_breaks = 0;
            self.pending_space = false;
            self.produced_content = true;
            if !out.put_short_span(chunk, from, to) {
                self.gather_long_span(out, chunk.get(from..to).unwrap_or_default());
            }
            if out.is_full() {
                self.emit_gathered(out);
            }
        }
        if breaks > 0 {
            self.pending_space = false;
            self.pending_line_breaks += breaks;
        }
    }

    /// A span longer than a block, or at the very end of the chunk: handed
    /// to the hash function as it is when it holds no TAB and is long,
    /// otherwise gathered.
    fn gather_long_span(&mut self, out: &mut SpanGather, span: &[u8]) {
        if span.len() >= LONG_SPAN && memchr::memchr(b'\t', span).is_none() {
            self.emit_gathered(out);
            self.emit(span);
            return;
        }
        let mut rest = span;
        while !rest.is_empty() {
            rest = out.put_slice(rest);
            if out.is_full() {
                self.emit_gathered(out);
            }
        }
    }

    /// SpanGathers held-back line breaks but the last few (many empty lines).
    #[cold]
    fn gather_many_line_breaks(&mut self, out: &mut SpanGather) {
        let most = (CRLFS.len() / 2) as u64;
        while self.pending_line_breaks > most {
            out.put_held_back(most as usize, false);
            self.pending_line_breaks -= most;
            if out.is_full() {
                self.emit_gathered(out);
            }
        }
    }

    /// Hands the gathered octets to the hash.
    fn emit_gathered(&mut self, out: &mut SpanGather) {
        let gathered = out.take();
        if !gathered.is_empty() {
            self.emit(gathered);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::dkim::canon::{is_wsp, random_window};

    #[test]
    fn block_classifier_marks_what_relaxed_acts_on() {
        // Octet by octet against the definition, on windows of every octet
        // kind around each position.
        let kinds = [b'a', b' ', b'\t', b'\r', b'\n', 0u8, 0x1f, 0x21, 0xff];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let window = random_window(&mut state, &kinds);
            let mask = special_octets(&window);
            assert_eq!(special_octets_portable(&window), mask);
            for i in 0..BLOCK {
                let (before, here, after) = (window[i], window[i + 1], window[i + 2]);
                let expected =
                    (is_wsp(here) && after <= b' ') || (here == b'\n' && before != b'\r');
                assert_eq!(mask >> i & 1 == 1, expected, "{window:?} at {i}");
            }
        }
    }
}
