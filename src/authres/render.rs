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

/// [`keyword`], appended to `out`.
pub(crate) fn keyword_into(s: &str, out: &mut String) {
    let plain = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-';
    if s.bytes().all(|b| plain(&b)) && s.bytes().last().is_some_and(|b| b != b'-') {
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
static TOKEN: [bool; 256] = octet_table(b"()<>@,;:\\\"/[]?=", true);
/// The octets of an RFC 5322 atom (`atext`).
static ATEXT: [bool; 256] = octet_table(b"!#$%&'*+-/=?^_`{|}~", false);

/// RFC 2045 token: printable ASCII without space and tspecials.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| TOKEN[usize::from(b)])
}

/// RFC 5322 dot-atom.
pub(crate) fn is_dot_atom(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|atom| !atom.is_empty() && atom.bytes().all(|b| ATEXT[usize::from(b)]))
}

/// A dot-atom or `dot-atom@dot-atom` (the local part may be empty): an
/// address or domain written bare.
fn is_address(s: &str) -> bool {
    is_dot_atom(s)
        || s.rsplit_once('@').is_some_and(|(local, domain)| {
            (local.is_empty() || is_dot_atom(local)) && is_dot_atom(domain)
        })
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

/// [`value`], appended to `out`.
pub(crate) fn value_into(s: &str, address: bool, out: &mut String) {
    // Decide on the text as it will be written, so that what a parser reads
    // back renders the same way again. One pass tells the common cases: a
    // token, or printable ASCII (nothing to replace).
    let mut token = !s.is_empty();
    let mut printable = true;
    for b in s.bytes() {
        token &= TOKEN[usize::from(b)];
        printable &= (b' '..=b'~').contains(&b);
    }
    if token {
        // Printable ASCII, no control character: written as it is.
        out.push_str(s);
        return;
    }
    if printable {
        if address && is_address(s) {
            out.push_str(s);
        } else {
            quoted_string_into(s, out);
        }
        return;
    }
    let has_control = if s.is_ascii() {
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
    /// space (which may become a fold), then what `write` writes.
    ///
    /// The piece is written in place after a space, measured, and the space
    /// turned into a fold when the piece does not fit on the line; only a
    /// piece to be folded at its own spaces is taken out and written again.
    pub(crate) fn piece(&mut self, glue: &str, write: impl FnOnce(&mut String)) {
        if !self.fold {
            let first = self.pieces == 0;
            self.pieces += 1;
            self.out.push_str(glue);
            if !first {
                self.out.push(' ');
            }
            write(&mut self.out);
            return;
        }
        self.pieces += 1;
        self.out.push_str(glue);
        self.column += glue.len();
        let space_at = self.out.len();
        self.out.push(' ');
        let text_start = self.out.len();
        write(&mut self.out);
        let width = text_width(self.out.get(text_start..).unwrap_or_default());
        let fold_before = self.column + 1 + width > FOLD_COLUMN && self.line_has_text;
        let column_after = if fold_before { 1 } else { self.column + 1 };
        if !self.split_long || column_after + width <= FOLD_COLUMN {
            if fold_before {
                self.out.replace_range(space_at..text_start, "\r\n\t");
            }
            self.column = column_after + width;
            self.line_has_text = true;
            return;
        }
        let text = self.out.split_off(text_start);
        self.out.truncate(space_at);
        self.place(&text);
    }

    fn push(&mut self, glue: &str, text: &str) {
        let first = self.pieces == 0;
        self.pieces += 1;
        self.out.push_str(glue);
        if !self.fold {
            if !first {
                self.out.push(' ');
            }
            self.out.push_str(text);
            return;
        }
        self.column += glue.len();
        self.place(text);
    }

    /// Writes a space or a fold, then `text` (folded at its own spaces
    /// when it must be and may be).
    fn place(&mut self, text: &str) {
        let out = &mut self.out;
        let width = text_width(text);
        if self.column + 1 + width > FOLD_COLUMN && self.line_has_text {
            out.push_str("\r\n\t");
            self.column = 1;
        } else {
            out.push(' ');
            self.column += 1;
        }
        if !self.split_long || self.column + width <= FOLD_COLUMN {
            out.push_str(text);
            self.column += width;
            self.line_has_text = true;
            return;
        }
        for (i, word) in text.split(' ').enumerate() {
            let word_width = text_width(word);
            if i > 0 {
                if self.column + 1 + word_width > FOLD_COLUMN && self.line_has_text {
                    // The space stays, after the line break.
                    out.push_str("\r\n");
                    self.column = 0;
                    self.line_has_text = false;
                }
                out.push(' ');
                self.column += 1;
            }
            out.push_str(word);
            self.column += word_width;
            self.line_has_text |= !word.is_empty();
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

    proptest::proptest! {
        /// Writing a piece in place folds exactly as placing the finished
        /// text does.
        #[test]
        fn pieces_in_place_fold_as_placed(
            pieces in proptest::collection::vec(("[;]?", "[a-zé ]{0,90}"), 0..12),
            split_long: bool,
            fold: bool,
        ) {
            let mut in_place = if fold { Folder::field("Name:", split_long) } else { Folder::unfolded() };
            let mut placed = if fold { Folder::field("Name:", split_long) } else { Folder::unfolded() };
            for (glue, text) in &pieces {
                in_place.piece(glue, |out| out.push_str(text));
                placed.push(glue, text);
            }
            proptest::prop_assert_eq!(in_place.finish(), placed.finish());
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
