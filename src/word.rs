//! Enums named by fixed words (`"txt"`, `"pass"`, `"rfc9989"`).

/// A value with a fixed name: every value of the type is in
/// [`Word::ALL`], and [`Word::word`] names it.
pub(crate) trait Word: Copy + 'static {
    /// Every value.
    const ALL: &'static [Self];

    /// The value's name.
    fn word(self) -> &'static str;

    /// The value named `text`, ASCII case ignored.
    fn from_word(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|value| value.word().eq_ignore_ascii_case(text))
    }
}
