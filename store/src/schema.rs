//! The schema, as numbered migrations shared by both backends (the SQL is
//! the subset SQLite and PostgreSQL agree on).
//!
//! The database records its version in `mailauth_store_schema`; opening a
//! store applies the migrations it has not seen, in one transaction, and
//! refuses a database whose version is newer than the program's.

/// The migrations: version `i + 1` is `MIGRATIONS[i]`. Append only; never
/// edit a migration that was released.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: periods and their counted rows.
    "CREATE TABLE report_period (
        period_start BIGINT NOT NULL,
        period_end BIGINT NOT NULL,
        policy_domain TEXT NOT NULL,
        policy TEXT NOT NULL,
        claimed_until BIGINT NOT NULL DEFAULT 0,
        attempts BIGINT NOT NULL DEFAULT 0,
        reported_at BIGINT,
        PRIMARY KEY (period_start, policy_domain)
    );
    CREATE INDEX report_period_due ON report_period (reported_at, period_end);
    CREATE TABLE report_row (
        period_start BIGINT NOT NULL,
        policy_domain TEXT NOT NULL,
        row_key TEXT NOT NULL,
        record TEXT NOT NULL,
        count BIGINT NOT NULL,
        PRIMARY KEY (period_start, policy_domain, row_key)
    );",
];

/// The newest version this program knows.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Creates the version table (idempotent).
pub(crate) const VERSION_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS mailauth_store_schema (version BIGINT NOT NULL)";

pub(crate) const UPSERT_PERIOD: &str = "INSERT INTO report_period
        (period_start, period_end, policy_domain, policy)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT (period_start, policy_domain) DO UPDATE SET policy = excluded.policy";

pub(crate) const UPSERT_ROW: &str = "INSERT INTO report_row
        (period_start, policy_domain, row_key, record, count)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (period_start, policy_domain, row_key)
    DO UPDATE SET count = report_row.count + excluded.count";

pub(crate) const DUE: &str = "SELECT period_start, period_end, policy_domain FROM report_period
    WHERE reported_at IS NULL AND period_end <= $1 AND claimed_until <= $2
    ORDER BY period_start, policy_domain";

pub(crate) const LOAD_PERIOD: &str = "SELECT period_end, policy FROM report_period
    WHERE period_start = $1 AND policy_domain = $2";

pub(crate) const LOAD_ROWS: &str = "SELECT record, count FROM report_row
    WHERE period_start = $1 AND policy_domain = $2 ORDER BY row_key";

pub(crate) const CLAIM: &str = "UPDATE report_period
    SET claimed_until = $3, attempts = attempts + 1
    WHERE period_start = $1 AND policy_domain = $2
    AND reported_at IS NULL AND claimed_until <= $4";

pub(crate) const MARK_REPORTED: &str = "UPDATE report_period SET reported_at = $3
    WHERE period_start = $1 AND policy_domain = $2 AND reported_at IS NULL";

pub(crate) const RELEASE: &str = "UPDATE report_period SET claimed_until = 0
    WHERE period_start = $1 AND policy_domain = $2 AND reported_at IS NULL";

pub(crate) const PRUNE_ROWS: &str = "DELETE FROM report_row WHERE EXISTS (
    SELECT 1 FROM report_period p WHERE p.period_start = report_row.period_start
    AND p.policy_domain = report_row.policy_domain AND p.period_end <= $1)";

pub(crate) const PRUNE_PERIODS: &str = "DELETE FROM report_period WHERE period_end <= $1";
