//! The [`ReportStore`] trait, what it stores ([`Entry`]) and gives back
//! ([`Stored`]), and its errors.

use crate::period::Period;

/// One aggregated row to add to the store: `count` verdicts of one period
/// and policy domain that share one aggregation key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The reporting period.
    pub period: Period,
    /// The domain whose DMARC policy was applied (lowercase): whom the
    /// report goes to.
    pub policy_domain: String,
    /// The aggregation key, as a fixed-length digest (the row's identity).
    pub key: String,
    /// The report record without its count, as JSON.
    pub record: String,
    /// The policy published by the domain, as JSON (the last one seen in
    /// the period is reported).
    pub policy: String,
    /// How many verdicts.
    pub count: u64,
}

/// A period and policy domain ready to be reported.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Due {
    /// The period.
    pub period: Period,
    /// The policy domain.
    pub policy_domain: String,
}

/// What the store holds for one period and policy domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The period.
    pub period: Period,
    /// The policy domain.
    pub policy_domain: String,
    /// The published policy, as JSON.
    pub policy: String,
    /// Each record (JSON, without its count) and its count, in key order.
    pub rows: Vec<(String, u64)>,
}

/// A store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed (or could not be reached).
    #[error("postgresql: {0}")]
    Postgres(#[from] postgres::Error),
    /// The database was written by a newer version of this crate.
    #[error("the store's schema version {found} is newer than this program's {known}")]
    NewerSchema {
        /// The database's version.
        found: i64,
        /// The newest this crate knows.
        known: i64,
    },
    /// A stored value could not be read back.
    #[error("stored data unreadable: {0}")]
    Data(String),
    /// A value too large for the database's integers.
    #[error("value out of range: {0}")]
    Range(u64),
    /// The store is not configured correctly.
    #[error("store configuration: {0}")]
    Config(String),
}

/// Where DMARC verdicts are counted until they are reported.
///
/// Verdicts are counted per reporting [`Period`] and policy domain, one
/// row per aggregation key. A period is *due* once it has ended; the
/// sender [`claim`](Self::claim)s it (so that two senders of a fleet never
/// both send it), builds the report from [`load`](Self::load), and
/// [`mark_reported`](Self::mark_reported) only after a successful send,
/// or [`release`](Self::release)s it after a failure so that the next run
/// tries again.
///
/// Implementations: [`crate::SqliteStore`] (one file, the embedded
/// default) and [`crate::PostgresStore`] (one database for many MTAs).
pub trait ReportStore: Send {
    /// Adds the entries' counts, in one transaction: all or nothing.
    ///
    /// # Errors
    /// [`StoreError`]; nothing was added.
    fn record(&mut self, entries: &[Entry]) -> Result<(), StoreError>;

    /// The periods and policy domains not yet reported whose period ended
    /// at or before `ready_at` and that no sender holds, oldest first.
    ///
    /// # Errors
    /// [`StoreError`].
    fn due(&mut self, ready_at: u64, now: u64) -> Result<Vec<Due>, StoreError>;

    /// What was counted for one period and policy domain; `None` when
    /// nothing was.
    ///
    /// # Errors
    /// [`StoreError`].
    fn load(
        &mut self,
        period_start: u64,
        policy_domain: &str,
    ) -> Result<Option<Stored>, StoreError>;

    /// What was counted for one period and policy domain as the core's
    /// report model ([`crate::PeriodReport`]); `None` when nothing was.
    ///
    /// # Errors
    /// [`StoreError`], [`StoreError::Data`] for rows this crate did not
    /// write.
    fn load_report(
        &mut self,
        period_start: u64,
        policy_domain: &str,
    ) -> Result<Option<crate::PeriodReport>, StoreError> {
        self.load(period_start, policy_domain)?
            .map(|stored| crate::PeriodReport::from_stored(&stored))
            .transpose()
    }

    /// Takes the right to report a period until `now + lease` seconds;
    /// `false` when it is reported already or another sender holds it.
    ///
    /// # Errors
    /// [`StoreError`].
    fn claim(
        &mut self,
        period_start: u64,
        policy_domain: &str,
        now: u64,
        lease: u64,
    ) -> Result<bool, StoreError>;

    /// Marks a period reported (at `now`): it is never due again. `false`
    /// when it was reported already.
    ///
    /// # Errors
    /// [`StoreError`].
    fn mark_reported(
        &mut self,
        period_start: u64,
        policy_domain: &str,
        now: u64,
    ) -> Result<bool, StoreError>;

    /// Gives back a claim after a failed send: the period is due again.
    ///
    /// # Errors
    /// [`StoreError`].
    fn release(&mut self, period_start: u64, policy_domain: &str) -> Result<(), StoreError>;

    /// Deletes every period (reported or not) that ended at or before `before`;
    /// returns how many periods were deleted.
    ///
    /// # Errors
    /// [`StoreError`].
    fn prune(&mut self, before: u64) -> Result<u64, StoreError>;

    /// The schema version of the database.
    ///
    /// # Errors
    /// [`StoreError`].
    fn schema_version(&mut self) -> Result<i64, StoreError>;
}

/// A time or count as a database integer.
pub(crate) fn int(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Range(value))
}

/// A database integer as a time or count (a negative one is corrupt data).
pub(crate) fn uint(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Data(format!("negative value {value}")))
}
