//! The DMARC report store of mailauth: every verdict counted per
//! reporting period, policy domain and aggregation key, until the
//! aggregate report is sent.
//!
//! - [`ReportStore`]: record, list what is due, load, claim, mark
//!   reported, prune. Two backends: [`SqliteStore`] (one file, compiled
//!   in: the default for one relay) and [`PostgresStore`] (one database
//!   that a fleet of MTAs writes into). Each creates and migrates its own
//!   versioned schema.
//! - [`Recorder`]: what front ends record with. Recording never blocks or
//!   fails the mail: verdicts go into a bounded queue that a writer thread
//!   drains in batches; when the store is down the queue fills, further
//!   verdicts are dropped and counted, and the writer reconnects with
//!   backoff.
//!
//! This crate does I/O (files, sockets, a thread), so it lives beside the
//! sans-IO core, which it depends on for the report model.

mod handle;
mod model;
mod period;
mod postgres;
pub mod recorder;
mod schema;
pub mod settings;
mod sqlite;
mod store;

pub use handle::Store;
pub use model::{
    PeriodReport, policy_from_json, policy_json, record_from_json, record_json, row_key,
};
pub use period::{BadPeriod, DAY, MIN_PERIOD, Period, Periods};
pub use postgres::PostgresStore;
pub use recorder::{Connect, Recordable, Recorder, RecorderConfig};
pub use sqlite::SqliteStore;
pub use store::{Due, Entry, ReportStore, StoreError, Stored};
