//! Quoting, escaping and folding shared by the header fields the crate
//! writes (Authentication-Results, Received-SPF).

/// Longest line a fold aims for (RFC 5322 §2.1.1).
const FOLD_COLUMN: usize = 78;

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

/// Control characters (C0, DEL, C1) become `?`; nothing else changes.
fn sanitize(c: char) -> char {
    if c.is_control() { '?' } else { c }
}

/// A keyword (method, result, property names): an RFC 8601 `Keyword`
/// (`ldh-str`) in lowercase, as the parser returns it. Only letters, digits
/// and inner `-` are kept.
pub(crate) fn keyword(s: &str) -> String {
    let kept: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let kept = kept.trim_end_matches('-');
    if kept.is_empty() {
        "unknown".to_owned()
    } else {
        kept.to_owned()
    }
}

/// RFC 2045 token: printable ASCII without space and tspecials.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
}

/// RFC 5322 dot-atom.
pub(crate) fn is_dot_atom(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b))
        })
}

/// A value: bare when it is a token (or, when `address` is set, a
/// dot-atom or `dot-atom@dot-atom`), else a quoted-string with `"` and `\`
/// escaped and control characters replaced.
pub(crate) fn value(s: &str, address: bool) -> String {
    // Decide on the text as it will be written, so that what a parser reads
    // back renders the same way again.
    let sanitized: std::borrow::Cow<'_, str> = if s.chars().any(char::is_control) {
        s.chars().map(sanitize).collect::<String>().into()
    } else {
        s.into()
    };
    let s = sanitized.as_ref();
    let bare = is_token(s)
        || (address
            && (is_dot_atom(s)
                || s.rsplit_once('@').is_some_and(|(local, domain)| {
                    (local.is_empty() || is_dot_atom(local)) && is_dot_atom(domain)
                })));
    if bare { s.to_owned() } else { quoted_string(s) }
}

/// A quoted-string with `"` and `\` escaped and control characters
/// replaced.
pub(crate) fn quoted_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars().map(sanitize) {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
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

/// The pieces on one line.
pub(crate) fn join_unfolded(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        out.push_str(piece.glue);
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&piece.text);
    }
    out
}

/// `name` then the pieces, folded (CRLF TAB) before a piece that would
/// pass column 78. A piece longer than a line stays whole.
pub(crate) fn fold(name: &str, pieces: &[Piece]) -> String {
    fold_pieces(name, pieces, false)
}

/// As [`fold`], and a piece longer than a line is folded at its own spaces,
/// CRLF going before the space: the spaces of an Authentication-Results
/// piece are inside quoted-strings, where folding white space is allowed
/// and unfolding gives the text back unchanged. A line never holds only
/// white space.
pub(crate) fn fold_long_values(name: &str, pieces: &[Piece]) -> String {
    fold_pieces(name, pieces, true)
}

fn fold_pieces(name: &str, pieces: &[Piece], split_long: bool) -> String {
    let mut out = String::from(name);
    let mut column = name.len();
    // Whether the current line holds text after the name or the fold.
    let mut line_has_text = false;
    for piece in pieces {
        out.push_str(piece.glue);
        column += piece.glue.len();
        let width = piece.text.chars().count();
        if column + 1 + width > FOLD_COLUMN && line_has_text {
            out.push_str("\r\n\t");
            column = 1;
        } else {
            out.push(' ');
            column += 1;
        }
        if !split_long || column + width <= FOLD_COLUMN {
            out.push_str(&piece.text);
            column += width;
            line_has_text = true;
            continue;
        }
        for (i, word) in piece.text.split(' ').enumerate() {
            let word_width = word.chars().count();
            if i > 0 {
                if column + 1 + word_width > FOLD_COLUMN && line_has_text {
                    // The space stays, after the line break.
                    out.push_str("\r\n");
                    column = 0;
                    line_has_text = false;
                }
                out.push(' ');
                column += 1;
            }
            out.push_str(word);
            column += word_width;
            line_has_text |= !word.is_empty();
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
