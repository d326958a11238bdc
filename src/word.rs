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

/// `n` in decimal, written at the end of `digits` (20 octets hold any
/// `u64`); no allocation.
pub(crate) fn decimal(n: u64, digits: &mut [u8; 20]) -> &str {
    let mut start = digits.len();
    let mut rest = n;
    loop {
        start -= 1;
        if let Some(digit) = digits.get_mut(start) {
            // `rest % 10` is below 10.
            *digit = b'0' + (rest % 10) as u8;
        }
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    std::str::from_utf8(digits.get(start..).unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn numbers_in_decimal() {
        for n in [0, 7, 10, 30, 99, 100, 255, 1_795_000_000, u64::MAX] {
            assert_eq!(decimal(n, &mut [0; 20]), n.to_string());
        }
    }
}
