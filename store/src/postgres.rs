//! The PostgreSQL store: one database for a fleet of MTAs.

use postgres::{Client, NoTls, Statement};

use crate::period::Period;
use crate::schema;
use crate::store::{Due, Entry, ReportStore, StoreError, Stored, int, uint};

/// The advisory lock that serialises schema migrations between processes
/// opening the same database at once (any fixed number; "mailauth").
const MIGRATION_LOCK: i64 = 0x6d61_696c_6175_7468;

/// A [`ReportStore`] in a PostgreSQL database, shared by any number of
/// writers (each count is added with an atomic upsert, so concurrent
/// writers lose nothing) and report senders (a period is claimed before
/// it is sent).
pub struct PostgresStore {
    client: Client,
    upsert_period: Statement,
    upsert_row: Statement,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects with a libpq connection string (`host=/run/postgresql
    /// dbname=mailauth user=mailauth`, or a `postgresql://` URL) without
    /// TLS (a unix socket or a trusted network), and creates or migrates
    /// the schema.
    ///
    /// # Errors
    /// [`StoreError`]: the server cannot be reached, refuses, or holds a
    /// newer schema.
    pub fn connect(connection: &str) -> Result<PostgresStore, StoreError> {
        let mut client = Client::connect(connection, NoTls)?;
        migrate(&mut client)?;
        let upsert_period = client.prepare(schema::UPSERT_PERIOD)?;
        let upsert_row = client.prepare(schema::UPSERT_ROW)?;
        Ok(PostgresStore {
            client,
            upsert_period,
            upsert_row,
        })
    }
}

fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(schema::VERSION_TABLE)?;
    let version: i64 = tx
        .query_opt("SELECT version FROM mailauth_store_schema", &[])?
        .map_or(0, |row| row.get(0));
    let latest = schema::latest();
    if version > latest {
        return Err(StoreError::NewerSchema {
            found: version,
            known: latest,
        });
    }
    for migration in schema::MIGRATIONS.iter().skip(version as usize) {
        tx.batch_execute(migration)?;
    }
    if version == 0 {
        tx.execute(
            "INSERT INTO mailauth_store_schema (version) VALUES ($1)",
            &[&latest],
        )?;
    } else if version < latest {
        tx.execute("UPDATE mailauth_store_schema SET version = $1", &[&latest])?;
    }
    tx.commit()?;
    Ok(())
}

impl ReportStore for PostgresStore {
    fn record(&mut self, entries: &[Entry]) -> Result<(), StoreError> {
        // Rows locked in one order by every writer: no deadlock between
        // two writers' transactions.
        let mut order: Vec<&Entry> = entries.iter().collect();
        order.sort_by(|a, b| {
            (a.period.start, &a.policy_domain, &a.key).cmp(&(
                b.period.start,
                &b.policy_domain,
                &b.key,
            ))
        });
        let mut tx = self.client.transaction()?;
        let mut last_period: Option<(u64, &str)> = None;
        for entry in &order {
            let start = int(entry.period.start)?;
            if last_period != Some((entry.period.start, entry.policy_domain.as_str())) {
                tx.execute(
                    &self.upsert_period,
                    &[
                        &start,
                        &int(entry.period.end)?,
                        &entry.policy_domain,
                        &entry.policy,
                    ],
                )?;
                last_period = Some((entry.period.start, entry.policy_domain.as_str()));
            }
            tx.execute(
                &self.upsert_row,
                &[
                    &start,
                    &entry.policy_domain,
                    &entry.key,
                    &entry.record,
                    &int(entry.count)?,
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn due(&mut self, ready_at: u64, now: u64) -> Result<Vec<Due>, StoreError> {
        let rows = self
            .client
            .query(schema::DUE, &[&int(ready_at)?, &int(now)?])?;
        rows.iter()
            .map(|row| {
                Ok(Due {
                    period: Period {
                        start: uint(row.get(0))?,
                        end: uint(row.get(1))?,
                    },
                    policy_domain: row.get(2),
                })
            })
            .collect()
    }

    fn load(
        &mut self,
        period_start: u64,
        policy_domain: &str,
    ) -> Result<Option<Stored>, StoreError> {
        let start = int(period_start)?;
        // One snapshot for the period and its rows.
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let Some(period) = tx.query_opt(schema::LOAD_PERIOD, &[&start, &policy_domain])? else {
            return Ok(None);
        };
        let rows = tx.query(schema::LOAD_ROWS, &[&start, &policy_domain])?;
        tx.commit()?;
        let rows = rows
            .iter()
            .map(|row| Ok((row.get::<_, String>(0), uint(row.get(1))?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(Stored {
            period: Period {
                start: period_start,
                end: uint(period.get(0))?,
            },
            policy_domain: policy_domain.to_owned(),
            policy: period.get(1),
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
        let changed = self.client.execute(
            schema::CLAIM,
            &[
                &int(period_start)?,
                &policy_domain,
                &int(now.saturating_add(lease))?,
                &int(now)?,
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
        let changed = self.client.execute(
            schema::MARK_REPORTED,
            &[&int(period_start)?, &policy_domain, &int(now)?],
        )?;
        Ok(changed == 1)
    }

    fn release(&mut self, period_start: u64, policy_domain: &str) -> Result<(), StoreError> {
        self.client
            .execute(schema::RELEASE, &[&int(period_start)?, &policy_domain])?;
        Ok(())
    }

    fn prune(&mut self, before: u64) -> Result<u64, StoreError> {
        let before = int(before)?;
        let mut tx = self.client.transaction()?;
        tx.execute(schema::PRUNE_ROWS, &[&before])?;
        let periods = tx.execute(schema::PRUNE_PERIODS, &[&before])?;
        tx.commit()?;
        Ok(periods)
    }

    fn schema_version(&mut self) -> Result<i64, StoreError> {
        Ok(self
            .client
            .query_one("SELECT version FROM mailauth_store_schema", &[])?
            .get(0))
    }
}
