//! Reporting periods: fixed-length intervals aligned to UTC midnight.

use std::fmt;

/// Seconds in a UTC day (Unix time has no leap seconds).
pub const DAY: u64 = 86_400;

/// How verdicts are cut into reporting periods.
///
/// A period of at most one day divides each UTC day from midnight (the
/// last period of a day is shorter when the length does not divide
/// 86 400); a longer period must be a whole number of days and starts at
/// a multiple of its length since the Unix epoch (midnight UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Periods {
    length: u64,
}

/// The shortest period accepted, seconds.
pub const MIN_PERIOD: u64 = 60;

/// A period length that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a report period of {0} s is not allowed: from 60 s to one day, or whole days")]
pub struct BadPeriod(pub u64);

impl Periods {
    /// Periods of `length` seconds (RFC 9990's default is one day,
    /// 86 400).
    ///
    /// # Errors
    /// [`BadPeriod`] under a minute, or over a day and not whole days.
    pub fn new(length: u64) -> Result<Periods, BadPeriod> {
        if length < MIN_PERIOD || (length > DAY && !length.is_multiple_of(DAY)) {
            return Err(BadPeriod(length));
        }
        Ok(Periods { length })
    }

    /// The length, seconds.
    pub fn length(&self) -> u64 {
        self.length
    }

    /// The period that holds `time` (seconds since the Unix epoch).
    pub fn of(&self, time: u64) -> Period {
        if self.length > DAY {
            let start = time - time % self.length;
            return Period {
                start,
                end: start + self.length,
            };
        }
        let midnight = time - time % DAY;
        let start = midnight + (time - midnight) / self.length * self.length;
        Period {
            start,
            end: (start + self.length).min(midnight + DAY),
        }
    }
}

impl Default for Periods {
    fn default() -> Periods {
        Periods { length: DAY }
    }
}

/// One reporting period: `[start, end)`, seconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    /// The first second.
    pub start: u64,
    /// The second after the last.
    pub end: u64,
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_starts_at_midnight() {
        let periods = Periods::default();
        // 2023-11-14T22:13:20Z
        let period = periods.of(1_700_000_000);
        assert_eq!(period.start, 1_699_920_000);
        assert_eq!(period.end, 1_700_006_400);
        assert_eq!(periods.of(period.start), period);
        assert_eq!(periods.of(period.end - 1), period);
        assert_ne!(periods.of(period.end), period);
    }

    #[test]
    fn shorter_periods_divide_the_day_from_midnight() {
        let periods = Periods::new(7 * 3600).unwrap();
        let midnight = 1_699_920_000;
        assert_eq!(periods.of(midnight + 1).start, midnight);
        assert_eq!(periods.of(midnight + 7 * 3600).start, midnight + 7 * 3600);
        // 21 h to 24 h: the last period of the day is cut at midnight.
        let last = periods.of(midnight + 22 * 3600);
        assert_eq!(last.start, midnight + 21 * 3600);
        assert_eq!(last.end, midnight + DAY);
    }

    #[test]
    fn longer_periods_are_whole_days() {
        assert_eq!(Periods::new(DAY + 1), Err(BadPeriod(DAY + 1)));
        assert_eq!(Periods::new(59), Err(BadPeriod(59)));
        let week = Periods::new(7 * DAY).unwrap();
        let period = week.of(1_700_000_000);
        assert_eq!(period.start % (7 * DAY), 0);
        assert_eq!(period.end - period.start, 7 * DAY);
    }
}
