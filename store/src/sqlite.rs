//! The SQLite store: one file, no server (the embedded default).

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::period::Period;
use crate::schema;
use crate::store::{Due, Entry, ReportStore, StoreError, Stored, int, uint};

/// A [`ReportStore`] in one SQLite file (write-ahead log, so that the
/// report sender reads while the MTA writes). Several processes may write
/// the same file: each transaction waits up to the busy timeout for the
/// others.
#[derive(Debug)]
pub struct SqliteStore {
    connection: Connection,
}

/// SQLite's numbered parameters are `?N` (`$N` would be a name, numbered
/// by first appearance).
fn sql(text: &str) -> String {
    text.replace('$', "?")
}

impl SqliteStore {
    /// Opens (creating it when missing) the store file at `path`, and
    /// creates or migrates its schema. `busy_timeout` is how long a write
    /// waits for another process's.
    ///
    /// # Errors
    /// [`StoreError`]: the file cannot be opened, or its schema is newer
    /// than this program's.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<SqliteStore, StoreError> {
        let connection = Connection::open(path)?;
        SqliteStore::with_connection(connection, busy_timeout)
    }

    /// A store in memory (for tests and trials).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::with_connection(Connection::open_in_memory()?, Duration::from_secs(5))
    }

    fn with_connection(
        mut connection: Connection,
        busy_timeout: Duration,
    ) -> Result<SqliteStore, StoreError> {
        connection.busy_timeout(busy_timeout)?;
        // WAL lets readers and one writer work at once; NORMAL sync is
        // durable across a process crash (a power loss may lose the last
        // transactions: counts for a report, not mail).
        let _mode: String =
            connection.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        migrate(&mut connection)?;
        Ok(SqliteStore { connection })
    }
}

fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    // IMMEDIATE: two processes opening a new file do not both migrate.
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(schema::VERSION_TABLE, [])?;
    let version: Option<i64> = tx
        .query_row("SELECT version FROM mailauth_store_schema", [], |row| {
            row.get(0)
        })
        .optional()?;
    let version = version.unwrap_or(0);
    let latest = schema::latest();
    if version > latest {
        return Err(StoreError::NewerSchema {
            found: version,
            known: latest,
        });
    }
    for migration in schema::MIGRATIONS.iter().skip(version as usize) {
        tx.execute_batch(migration)?;
    }
    if version == 0 {
        tx.execute(
            "INSERT INTO mailauth_store_schema (version) VALUES (?1)",
            [latest],
        )?;
    } else if version < latest {
        tx.execute("UPDATE mailauth_store_schema SET version = ?1", [latest])?;
    }
    tx.commit()?;
    Ok(())
}

impl ReportStore for SqliteStore {
    fn record(&mut self, entries: &[Entry]) -> Result<(), StoreError> {
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut period = tx.prepare_cached(&sql(schema::UPSERT_PERIOD))?;
            let mut row = tx.prepare_cached(&sql(schema::UPSERT_ROW))?;
            for entry in entries {
                let start = int(entry.period.start)?;
                period.execute(params![
                    start,
                    int(entry.period.end)?,
                    entry.policy_domain,
                    entry.policy
                ])?;
                row.execute(params![
                    start,
                    entry.policy_domain,
                    entry.key,
                    entry.record,
                    int(entry.count)?
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn due(&mut self, ready_at: u64, now: u64) -> Result<Vec<Due>, StoreError> {
        let mut statement = self.connection.prepare_cached(&sql(schema::DUE))?;
        let rows = statement.query_map(params![int(ready_at)?, int(now)?], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let mut due = Vec::new();
        for row in rows {
            let (start, end, policy_domain) = row?;
            due.push(Due {
                period: Period {
                    start: uint(start)?,
                    end: uint(end)?,
                },
                policy_domain,
            });
        }
        Ok(due)
    }

    fn load(
        &mut self,
        period_start: u64,
        policy_domain: &str,
    ) -> Result<Option<Stored>, StoreError> {
        let start = int(period_start)?;
        let tx = self.connection.transaction()?;
        let period: Option<(i64, String)> = tx
            .query_row(
                &sql(schema::LOAD_PERIOD),
                params![start, policy_domain],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((end, policy)) = period else {
            return Ok(None);
        };
        let mut rows = Vec::new();
        {
            let mut statement = tx.prepare_cached(&sql(schema::LOAD_ROWS))?;
            let found = statement.query_map(params![start, policy_domain], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })?;
            for row in found {
                let (record, count) = row?;
                rows.push((record, uint(count)?));
            }
        }
        tx.commit()?;
        Ok(Some(Stored {
            period: Period {
                start: period_start,
                end: uint(end)?,
            },
            policy_domain: policy_domain.to_owned(),
            policy,
            rows,
        }))
    }

    fn claim(
        &mut self,
        period_start: u64,
        policy_domain: &str,
        now: u64,
        lease: u64,
    ) -> Result<bool, StoreError> {
        let changed = self.connection.execute(
            &sql(schema::CLAIM),
            params![
                int(period_start)?,
                policy_domain,
                int(now.saturating_add(lease))?,
                int(now)?
            ],
        )?;
        Ok(changed == 1)
    }

    fn mark_reported(
        &mut self,
        period_start: u64,
        policy_domain: &str,
        now: u64,
    ) -> Result<bool, StoreError> {
        let changed = self.connection.execute(
            &sql(schema::MARK_REPORTED),
            params![int(period_start)?, policy_domain, int(now)?],
        )?;
        Ok(changed == 1)
    }

    fn release(&mut self, period_start: u64, policy_domain: &str) -> Result<(), StoreError> {
        self.connection.execute(
            &sql(schema::RELEASE),
            params![int(period_start)?, policy_domain],
        )?;
        Ok(())
    }

    fn prune(&mut self, before: u64) -> Result<u64, StoreError> {
        let before = int(before)?;
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(&sql(schema::PRUNE_ROWS), [before])?;
        let periods = tx.execute(&sql(schema::PRUNE_PERIODS), [before])?;
        tx.commit()?;
        Ok(periods as u64)
    }

    fn schema_version(&mut self) -> Result<i64, StoreError> {
        Ok(self
            .connection
            .query_row("SELECT version FROM mailauth_store_schema", [], |row| {
                row.get(0)
            })?)
    }
}
