//! Quoting, escaping and folding shared by the header fields the crate
//! writes (Authentication-Results, Received-SPF).

/// Longest line a fold aims for (RFC 5322 §2.1.1).
const FOLD_COLUMN: usize = 78;

/// Control characters (C0, DEL, C1) become `?`; nothing else changes.
fn sanitize(c: char) -> char {
    if c.is_control() { '?' } else { c }
}

/// A keyword (method, result, property names): an RFC 8601 `Keyword`
/// (`ldh-str`) in lowercase, as the parser returns it. Only letters, digits
/// and inner `-` are kept.
#[cfg(test)]
fn keyword(s: &str) -> String {
    let mut out = String::new();
    keyword_into(s, &mut out);
    out
}

/// A keyword (an RFC 8601 `Keyword`, `ldh-str`, in lowercase: letters,
/// digits and inner `-`), appended to `out` (always ASCII).
pub(crate) fn keyword_into(s: &str, out: &mut String) {
    let plain = |b: u8| OCTET_CLASS[usize::from(b)] & KEYWORD_OCTET != 0;
    if s.bytes().all(plain) && s.bytes().last().is_some_and(|b| b != b'-') {
        // Already a keyword as written (the common case).
        out.push_str(s);
        return;
    }
    let start = out.len();
    out.extend(
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .map(|c| c.to_ascii_lowercase()),
    );
    let kept = out
        .get(start..)
        .unwrap_or_default()
        .trim_end_matches('-')
        .len();
    out.truncate(start + kept);
    if kept == 0 {
        out.push_str("unknown");
    }
}

/// A table of the octets in `extra` and the ASCII letters and digits
/// (with `graphic`, every printable ASCII octet but those in `extra`).
const fn octet_table(extra: &[u8], graphic: bool) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = if graphic {
            c.is_ascii_graphic()
        } else {
            c.is_ascii_alphanumeric()
        };
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = !graphic;
        i += 1;
    }
    table
}

/// The octets of an RFC 2045 token: printable ASCII but tspecials.
static TOKEN: [bool; 256] = octet_table(TOKEN_SPECIALS, true);
/// RFC 2045 tspecials.
const TOKEN_SPECIALS: &[u8] = b"()<>@,;:\\\"/[]?=";
/// The octets of an RFC 5322 atom (`atext`).
static ATEXT: [bool; 256] = octet_table(b"!#$%&'*+-/=?^_`{|}~", false);

/// [`OCTET_CLASS`] bit: the octet may be in a token.
const TOKEN_OCTET: u8 = 1;
/// [`OCTET_CLASS`] bit: the octet is printable ASCII (space included).
const PRINTABLE_OCTET: u8 = 2;
/// [`OCTET_CLASS`] bit: the octet is printable ASCII (space included) but
/// `"` and `\\`, written in a quoted-string as it is.
const QTEXT_OCTET: u8 = 4;
/// [`OCTET_CLASS`] bit: the octet is a lowercase letter, a digit or `-`.
const KEYWORD_OCTET: u8 = 8;

/// Per octet, which of the `*_OCTET` classes it is in.
static OCTET_CLASS: [u8; 256] = {
    let token = octet_table(TOKEN_SPECIALS, true);
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        if token[b] {
            table[b] |= TOKEN_OCTET;
        }
        if b >= 0x20 && b <= 0x7e {
            table[b] |= PRINTABLE_OCTET;
            if b != b'"' as usize && b != b'\\' as usize {
                table[b] |= QTEXT_OCTET;
            }
        }
        if (b >= b'a' as usize && b <= b'z' as usize)
            || (b >= b'0' as usize && b <= b'9' as usize)
            || b == b'-' as usize
        {
            table[b] |= KEYWORD_OCTET;
        }
        b += 1;
    }
    table
};

/// RFC 2045 token: printable ASCII without space and tspecials.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| TOKEN[usize::from(b)])
}

/// RFC 5322 dot-atom.
pub(crate) fn is_dot_atom(s: &str) -> bool {
    is_dot_atom_bytes(s.as_bytes())
}

/// [`is_dot_atom`] over octets, in one pass: atext and dots, no dot first,
/// last or after another.
fn is_dot_atom_bytes(bytes: &[u8]) -> bool {
    let mut after_dot = true;
    for &b in bytes {
        if b == b'.' {
            if after_dot {
                return false;
            }
            after_dot = true;
        } else if ATEXT[usize::from(b)] {
            after_dot = false;
        } else {
            return false;
        }
    }
    !after_dot
}

/// A dot-atom or `dot-atom@dot-atom` (the local part may be empty): an
/// address or domain written bare.
fn is_address(s: &str) -> bool {
    let bytes = s.as_bytes();
    match memchr::memrchr(b'@', bytes) {
        None => is_dot_atom_bytes(bytes),
        Some(at) => {
            let (local, domain) = (bytes.get(..at).unwrap_or_default(), bytes.get(at + 1..));
            (local.is_empty() || is_dot_atom_bytes(local)) && domain.is_some_and(is_dot_atom_bytes)
        }
    }
}

/// The width of `text` in characters (its length when ASCII).
fn text_width(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    }
}

/// A value: bare when it is a token (or, when `address` is set, a
/// dot-atom or `dot-atom@dot-atom`), else a quoted-string with `"` and `\`
/// escaped and control characters replaced.
#[cfg(test)]
fn value(s: &str, address: bool) -> String {
    let mut out = String::new();
    value_into(s, address, &mut out);
    out
}

/// A value (bare when it is a token, or with `address` a dot-atom or
/// `dot-atom@dot-atom`, else a quoted-string), appended to `out`; true when
/// what it wrote is ASCII (it is unless `s` holds non-ASCII characters).
pub(crate) fn value_into(s: &str, address: bool, out: &mut String) -> bool {
    // Decide on the text as it will be written, so that what a parser reads
    // back renders the same way again. One pass tells the common cases: a
    // token, or printable ASCII (nothing to replace).
    let class = s
        .bytes()
        .fold(TOKEN_OCTET | PRINTABLE_OCTET | QTEXT_OCTET, |class, b| {
            class & OCTET_CLASS[usize::from(b)]
        });
    let token = !s.is_empty() && class & TOKEN_OCTET != 0;
    let printable = class & PRINTABLE_OCTET != 0;
    if token {
        // Printable ASCII, no control character: written as it is.
        out.push_str(s);
        return true;
    }
    if printable {
        if address && is_address(s) {
            out.push_str(s);
        } else if class & QTEXT_OCTET != 0 {
            // Nothing to escape.
            out.reserve(s.len() + 2);
            out.push('"');
            out.push_str(s);
            out.push('"');
        } else {
            quoted_string_into(s, out);
        }
        return true;
    }
    let ascii = s.is_ascii();
    let has_control = if ascii {
        s.bytes().any(|b| b.is_ascii_control())
    } else {
        s.chars().any(char::is_control)
    };
    let sanitized: std::borrow::Cow<'_, str> = if has_control {
        s.chars().map(sanitize).collect::<String>().into()
    } else {
        s.into()
    };
    let s = sanitized.as_ref();
    let bare = is_token(s) || (address && is_address(s));
    if bare {
        out.push_str(s);
    } else {
        quoted_string_into(s, out);
    }
    ascii
}

/// A quoted-string with `"` and `\` escaped and control characters
/// replaced.
pub(crate) fn quoted_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    quoted_string_into(s, &mut out);
    out
}

fn quoted_string_into(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    if s.bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
    {
        // Printable ASCII without `"` and `\\`: nothing to escape.
        out.push_str(s);
    } else {
        for c in s.chars().map(sanitize) {
            if matches!(c, '"' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
}

/// A comment `( ... )` with `(`, `)` and `\` escaped and control characters
/// replaced.
pub(crate) fn comment(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('(');
    for c in s.chars().map(sanitize) {
        if matches!(c, '(' | ')' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push(')');
    out
}

/// Writes a header field (or a field body on one line) piece by piece into
/// one buffer: each piece is written after its glue and a space, which
/// becomes a fold when the piece does not fit on the line. One buffer per
/// field, however many values it holds.
pub(crate) struct Folder {
    out: String,
    column: usize,
    /// Whether the current line holds text after the name or the fold.
    line_has_text: bool,
    /// Fold at all (false: one line, no name).
    fold: bool,
    /// Fold a piece longer than a line at its own spaces.
    split_long: bool,
    pieces: usize,
}

impl Folder {
    /// A field starting with `name`, folded (CRLF TAB) before a piece that
    /// would pass column 78; with `split_long`, a piece longer than a line
    /// is also folded at its own spaces, CRLF going before the space: the
    /// spaces of an Authentication-Results piece are inside quoted-strings,
    /// where folding white space is allowed and unfolding gives the text
    /// back unchanged. A line never holds only white space.
    pub(crate) fn field(name: &str, split_long: bool) -> Folder {
        let mut out = String::with_capacity(512);
        out.push_str(name);
        Folder {
            column: name.len(),
            out,
            line_has_text: false,
            fold: true,
            split_long,
            pieces: 0,
        }
    }

    /// A field body on one line.
    pub(crate) fn unfolded() -> Folder {
        Folder {
            out: String::with_capacity(256),
            column: 0,
            line_has_text: false,
            fold: false,
            split_long: false,
            pieces: 0,
        }
    }

    /// Adds one piece: `glue` attaches to the previous piece (`;`), then a
    /// space (which may become a fold), then what `write` writes. `write`
    /// returns true when it knows it wrote only ASCII (widths are then
    /// lengths), false to have the text looked at.
    ///
    /// The piece is written in place after a space, measured, and folded
    /// where it must be ([`settle`](Self::settle)); nothing is written twice.
    pub(crate) fn piece(&mut self, glue: &str, write: impl FnOnce(&mut String) -> bool) {
        let first = self.pieces == 0;
        self.pieces += 1;
        self.out.push_str(glue);
        if !self.fold {
            if !first {
                self.out.push(' ');
            }
            write(&mut self.out);
            return;
        }
        self.column += glue.len();
        self.out.push(' ');
        let text_start = self.out.len();
        let known_ascii = write(&mut self.out);
        self.settle(text_start, known_ascii);
    }

    fn push(&mut self, glue: &str, text: &str) {
        self.piece(glue, |out| {
            out.push_str(text);
            false
        });
    }

    /// Folds the text written from `text_start` on, after the space at
    /// `text_start - 1`: that space becomes a fold (CRLF TAB) when the text
    /// does not fit on the line; with `split_long`, a text that does not
    /// fit on a line of its own is also folded before a space where a word
    /// would pass the column (the space stays, after the line break).
    /// Words are found by their spaces; widths are lengths when the text
    /// is ASCII (`known_ascii`, or found so). The folds are found first,
    /// then inserted from the last.
    fn settle(&mut self, text_start: usize, known_ascii: bool) {
        let text = self.out.get(text_start..).unwrap_or_default();
        let ascii = known_ascii || text.is_ascii();
        let width = if ascii {
            text.len()
        } else {
            text.chars().count()
        };
        let fold_before = self.column + 1 + width > FOLD_COLUMN && self.line_has_text;
        self.column = if fold_before { 1 } else { self.column + 1 };
        let mut breaks: smallvec::SmallVec<[usize; 4]> = smallvec::SmallVec::new();
        if !self.split_long || self.column + width <= FOLD_COLUMN {
            self.column += width;
            self.line_has_text = true;
        } else {
            let bytes = text.as_bytes();
            let mut at = 0;
            let spaces = memchr::memchr_iter(b' ', bytes).chain(std::iter::once(bytes.len()));
            for end in spaces {
                let word_width = if ascii {
                    end - at
                } else {
                    text_width(text.get(at..end).unwrap_or_default())
                };
                if at > 0 {
                    if self.column + 1 + word_width > FOLD_COLUMN && self.line_has_text {
                        breaks.push(text_start + at - 1);
                        self.column = 0;
                        self.line_has_text = false;
                    }
                    self.column += 1;
                }
                self.column += word_width;
                self.line_has_text |= end > at;
                at = end + 1;
            }
        }
        for &at in breaks.iter().rev() {
            self.out.insert_str(at, "\r\n");
        }
        if fold_before {
            // The space becomes CRLF TAB.
            self.out.insert_str(text_start - 1, "\r\n\t");
            self.out.remove(text_start + 2);
        }
    }

    /// The field.
    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// One unbreakable element of a header field body: `glue` attaches to the
/// previous element (`;`), then a space (which may become a fold), then
/// `text`.
#[derive(Debug, Clone)]
pub(crate) struct Piece {
    glue: &'static str,
    text: String,
}

impl Piece {
    pub(crate) fn new(glue: &'static str, text: String) -> Piece {
        Piece { glue, text }
    }
}

/// `name` then the pieces, folded (CRLF TAB) before a piece that would
/// pass column 78. A piece longer than a line stays whole.
pub(crate) fn fold(name: &str, pieces: &[Piece]) -> String {
    fold_pieces(Folder::field(name, false), pieces)
}

fn fold_pieces(mut folder: Folder, pieces: &[Piece]) -> String {
    for piece in pieces {
        folder.push(piece.glue, &piece.text);
    }
    folder.finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Placing text word by word, as [`Folder::place`] folds a long piece.
    fn place_by_words(folder: &mut Folder, text: &str) {
        let width = text_width(text);
        if folder.column + 1 + width > FOLD_COLUMN && folder.line_has_text {
            folder.out.push_str("\r\n\t");
            folder.column = 1;
        } else {
            folder.out.push(' ');
            folder.column += 1;
        }
        if !folder.split_long || folder.column + width <= FOLD_COLUMN {
            folder.out.push_str(text);
            folder.column += width;
            folder.line_has_text = true;
            return;
        }
        for (i, word) in text.split(' ').enumerate() {
            let word_width = text_width(word);
            if i > 0 {
                if folder.column + 1 + word_width > FOLD_COLUMN && folder.line_has_text {
                    folder.out.push_str("\r\n");
                    folder.column = 0;
                    folder.line_has_text = false;
                }
                folder.out.push(' ');
                folder.column += 1;
            }
            folder.out.push_str(word);
            folder.column += word_width;
            folder.line_has_text |= !word.is_empty();
        }
    }

    proptest::proptest! {
        /// `value_into` says its text is ASCII exactly when it is.
        #[test]
        fn values_tell_when_ascii(s in "[a-z@. \"\\\\\u{1}é]{0,20}", address: bool) {
            let mut out = String::new();
            let ascii = value_into(&s, address, &mut out);
            proptest::prop_assert_eq!(ascii, out.is_ascii());
        }
    }

    proptest::proptest! {
        /// A long piece is folded as placing it word by word does (ASCII
        /// text, whose widths are lengths, and text with wider characters).
        #[test]
        fn long_pieces_fold_as_word_by_word(
            pieces in proptest::collection::vec(
                proptest::prop_oneof!["[a-z ]{0,200}", "[a-zé ]{0,200}"],
                0..6,
            ),
        ) {
            let mut at_once = Folder::field("Name:", true);
            let mut by_words = Folder::field("Name:", true);
            for text in &pieces {
                at_once.push("", text);
                place_by_words(&mut by_words, text);
            }
            proptest::prop_assert_eq!(at_once.finish(), by_words.finish());
        }

        /// The one-pass dot-atom test agrees with the definition.
        #[test]
        fn dot_atoms_in_one_pass(s in "[a-z.@ !\"(]{0,12}") {
            let by_atoms = !s.is_empty()
                && s.split('.')
                    .all(|atom| !atom.is_empty() && atom.bytes().all(|b| ATEXT[usize::from(b)]));
            proptest::prop_assert_eq!(is_dot_atom(&s), by_atoms);
            let address = by_atoms
                || s.rsplit_once('@').is_some_and(|(local, domain)| {
                    (local.is_empty() || is_dot_atom(local)) && is_dot_atom(domain)
                });
            proptest::prop_assert_eq!(is_address(&s), address);
        }

        /// Writing pieces in place folds them as placing each finished
        /// text word by word does, glue and all.
        #[test]
        fn pieces_in_place_fold_as_placed(
            pieces in proptest::collection::vec(("[;]?", "[a-zé ]{0,90}", proptest::bool::ANY), 0..12),
            split_long: bool,
        ) {
            let mut in_place = Folder::field("Name:", split_long);
            let mut placed = Folder::field("Name:", split_long);
            for (glue, text, tell) in &pieces {
                // The writer tells that its text is ASCII, or leaves it to
                // the folder to find out.
                in_place.piece(glue, |out| {
                    out.push_str(text);
                    *tell && text.is_ascii()
                });
                placed.out.push_str(glue);
                placed.column += glue.len();
                place_by_words(&mut placed, text);
            }
            proptest::prop_assert_eq!(in_place.finish(), placed.finish());
        }

        /// Unfolded, the pieces are joined by their glue and a space.
        #[test]
        fn unfolded_pieces_on_one_line(
            pieces in proptest::collection::vec(("[;]?", "[a-zé ]{0,90}"), 0..12),
        ) {
            let mut folder = Folder::unfolded();
            let mut joined = String::new();
            for (i, (glue, text)) in pieces.iter().enumerate() {
                folder.piece(glue, |out| {
                    out.push_str(text);
                    false
                });
                joined.push_str(glue);
                if i > 0 {
                    joined.push(' ');
                }
                joined.push_str(text);
            }
            proptest::prop_assert_eq!(folder.finish(), joined);
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(value("pass", false), "pass");
        assert_eq!(value("a@b.c", false), "\"a@b.c\"");
        assert_eq!(value("a@b.c", true), "a@b.c");
        assert_eq!(value("@b.c", true), "@b.c");
        assert_eq!(value("a b", true), "\"a b\"");
        assert_eq!(value("\"a\\\"", true), "\"\\\"a\\\\\\\"\"");
        assert_eq!(value("a\r\nb", true), "a??b");
        assert_eq!(value("a\r\nb c", true), "\"a??b c\"");
        assert_eq!(comment("a (b) \\ c\n"), "(a \\(b\\) \\\\ c?)");
        assert_eq!(keyword("sp f;\r"), "spf");
    }
}
